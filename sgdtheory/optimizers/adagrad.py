"""Diagonal AdaGrad (Duchi, Hazan and Singer 2011)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .adaptive import AdaptiveOptimizer, _eps


@njit(cache=True, fastmath=False, forceinline=True, _nrt=False, error_model="numpy")
def step(hp, lr, w, state, g):
    """G <- G + g^2; w <- w - lr g / (sqrt(G) + eps) (hp = (eps,), state = G)."""
    eps = hp[0]
    for k in range(w.shape[0]):
        state[k] = state[k] + g[k] * g[k]
        w[k] -= lr * g[k] / (np.sqrt(state[k]) + eps)


@dataclass(frozen=True)
class AdaGrad(AdaptiveOptimizer):
    """Diagonal AdaGrad: G_t = G_{t-1} + g_t^2;  w_{t+1} = w_t - eta_t g_t / (sqrt(G_t) + eps);  G_0 = 0.

    Source: Duchi, Hazan and Singer, JMLR 12 (2011), Figure 1 (AdaGrad with diagonal matrices),
    unconstrained: H_t = delta I + diag(s_t), s_(t,i) = ||g_(1:t,i)||_2 = sqrt(G_t,i), so the step
    is eta g_t / (delta + sqrt(G_t)) with delta = eps outside the square root; as PyTorch
    ``Adagrad(lr_decay=0, initial_accumulator_value=0)``.  Tieleman and Hinton's RMSProp below
    replaces the sum G by an exponential average.  Since G_t >= g_t^2, every step
    is at most eta_t per coordinate.

    Args:
        eps: > 0 (default 1e-10).
    """

    eps: float = 1e-10

    def __post_init__(self):
        object.__setattr__(self, "eps", _eps(self.eps))

    def hyperparameters(self) -> np.ndarray:
        return np.array([self.eps])

    def state_size(self, d: int) -> int:
        return d

    def step_bound(self) -> float:
        return 1.0

    def _reference_update(self, w, state, g, lr):
        G = state + g * g
        return w - lr * g / (np.sqrt(G) + self.eps), G
