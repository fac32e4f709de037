"""RMSProp (Tieleman and Hinton 2012)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .adaptive import AdaptiveOptimizer, _beta, _eps


@njit(cache=True, fastmath=False, forceinline=True, _nrt=False, error_model="numpy")
def step(hp, lr, w, state, g):
    """v <- beta v + (1 - beta) g^2; w <- w - lr g / (sqrt(v) + eps) (hp = (beta, eps), state = v)."""
    beta = hp[0]
    eps = hp[1]
    for k in range(w.shape[0]):
        state[k] = beta * state[k] + (1.0 - beta) * g[k] * g[k]
        w[k] -= lr * g[k] / (np.sqrt(state[k]) + eps)


@dataclass(frozen=True)
class RMSProp(AdaptiveOptimizer):
    """RMSProp: v_t = beta v_{t-1} + (1 - beta) g_t^2;  w_{t+1} = w_t - eta_t g_t / (sqrt(v_t) + eps);  v_0 = 0.

    Source: Tieleman and Hinton, Coursera "Neural Networks for Machine Learning", lecture 6e
    (2012): divide the gradient by a running average of its recent magnitude; eps outside the
    square root and no momentum or centering, as PyTorch ``RMSprop(alpha=beta)``.  Since
    v_t >= (1 - beta) g_t^2, every step is at most eta_t / sqrt(1 - beta) per coordinate.

    Args:
        beta: the decay rate, in [0, 1) (default 0.99).  eps: > 0 (default 1e-8).
    """

    beta: float = 0.99
    eps: float = 1e-8

    def __post_init__(self):
        object.__setattr__(self, "beta", _beta(self.beta, "beta"))
        object.__setattr__(self, "eps", _eps(self.eps))

    def hyperparameters(self) -> np.ndarray:
        return np.array([self.beta, self.eps])

    def state_size(self, d: int) -> int:
        return d

    def step_bound(self) -> float:
        return float(1.0 / np.sqrt(1.0 - self.beta))

    def _reference_update(self, w, state, g, lr):
        v = self.beta * state + (1.0 - self.beta) * g * g
        return w - lr * g / (np.sqrt(v) + self.eps), v
