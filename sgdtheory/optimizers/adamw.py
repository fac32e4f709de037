"""AdamW (Loshchilov and Hutter 2019, Algorithm 2; PyTorch convention)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from ..errors import SgdTheoryError, check_float
from .adaptive import AdaptiveOptimizer, _beta, _eps
from .adam import Adam


@njit(cache=True, fastmath=False, forceinline=True, _nrt=False, error_model="numpy")
def step(hp, lr, w, state, g):
    """Adam's moments; w <- w (1 - lr lambda) - lr (m / c1) / (sqrt(v / c2) + eps)
    (hp = (b1, b2, eps, lambda, bias_correction); state = m (d), v (d), t)."""
    d = w.shape[0]
    b1 = hp[0]
    b2 = hp[1]
    eps = hp[2]
    decay = 1.0 - lr * hp[3]
    t = state[2 * d] + 1.0
    state[2 * d] = t
    c1 = 1.0
    c2 = 1.0
    if hp[4] != 0.0:
        c1 = 1.0 - b1**t
        c2 = 1.0 - b2**t
    for k in range(d):
        m = b1 * state[k] + (1.0 - b1) * g[k]
        v = b2 * state[d + k] + (1.0 - b2) * g[k] * g[k]
        state[k] = m
        state[d + k] = v
        w[k] = w[k] * decay - lr * (m / c1) / (np.sqrt(v / c2) + eps)


@dataclass(frozen=True)
class AdamW(AdaptiveOptimizer):
    """AdamW, Adam with decoupled weight decay (Loshchilov and Hutter, ICLR 2019, Algorithm 2), state (m, v, t):

        t <- t + 1;  m_t, v_t, mhat_t, vhat_t as ``Adam``;
        w_t = w_{t-1} (1 - eta_t lambda) - eta_t mhat_t / (sqrt(vhat_t) + eps).

    Convention (PyTorch ``AdamW(lr, betas, eps, weight_decay=lambda)``): the decay is multiplied by
    the learning rate eta_t, i.e. w <- w - eta_t lambda w, applied to w_{t-1} (the paper's Algorithm 2
    line 12 multiplies lambda by the schedule multiplier only, not by alpha: its lambda is PyTorch's
    lr * lambda at a constant rate).  The decay pulls w toward 0 in the problem's coordinates (not
    toward w*).  eps is added to sqrt(vhat) as in Kingma and Ba's Algorithm 1; PyTorch forms the same
    quantity with a different rounding order.  lambda = 0 is ``Adam``; with bias_correction=False
    mhat = m, vhat = v.  The steps are not bounded by a multiple of eta_t independently of w (the
    decay term is eta_t lambda |w|); ``stability_limit`` still returns +inf (the decay contracts w
    for 0 < eta_t lambda < 2).

    Args:
        beta1, beta2: in [0, 1) (defaults 0.9, 0.999).  eps: > 0 (default 1e-8).
        weight_decay: lambda >= 0 (default 0.01, PyTorch's).  bias_correction: default True.
    """

    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.01
    bias_correction: bool = True

    def __post_init__(self):
        object.__setattr__(self, "beta1", _beta(self.beta1, "beta1"))
        object.__setattr__(self, "beta2", _beta(self.beta2, "beta2"))
        object.__setattr__(self, "eps", _eps(self.eps))
        object.__setattr__(self, "weight_decay", check_float(self.weight_decay, "weight_decay", 0.0, None,
                                                             low_open=False))
        if not isinstance(self.bias_correction, (bool, np.bool_)):
            raise SgdTheoryError(f"bias_correction: expected True or False, got {self.bias_correction!r}")
        object.__setattr__(self, "bias_correction", bool(self.bias_correction))

    def hyperparameters(self) -> np.ndarray:
        return np.array([self.beta1, self.beta2, self.eps, self.weight_decay, 1.0 if self.bias_correction else 0.0])

    def state_size(self, d: int) -> int:
        return 2 * d + 1

    def step_bound(self) -> float:
        if self.weight_decay > 0:
            return np.inf
        return Adam(self.beta1, self.beta2, self.eps, self.bias_correction).step_bound()

    def step_bound_text(self) -> str:
        if self.weight_decay > 0:
            c = Adam(self.beta1, self.beta2, self.eps, self.bias_correction).step_bound()
            return (f"its steps are bounded by {c:.6g} lr + lr weight_decay |w| per coordinate (the decay "
                    "contracts w for lr weight_decay < 2)")
        return super().step_bound_text()

    def _reference_update(self, w, state, g, lr):
        d = w.shape[0]
        b1, b2 = self.beta1, self.beta2
        decay = 1.0 - lr * self.weight_decay
        t = float(state[2 * d]) + 1.0
        c1 = 1.0 - b1**t if self.bias_correction else 1.0
        c2 = 1.0 - b2**t if self.bias_correction else 1.0
        m = b1 * state[:d] + (1.0 - b1) * g
        v = b2 * state[d:2 * d] + (1.0 - b2) * g * g
        w_new = w * decay - lr * (m / c1) / (np.sqrt(v / c2) + self.eps)
        return w_new, np.concatenate([m, v, [t]])
