"""AMSGrad (Reddi, Kale and Kumar 2018; or PyTorch's Adam(amsgrad=True))."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from ..errors import SgdTheoryError
from .adaptive import AdaptiveOptimizer, _beta, _eps, _momentum_bound


@njit(cache=True, fastmath=False, forceinline=True, _nrt=False, error_model="numpy")
def step(hp, lr, w, state, g):
    """m, v as Adam; vhat <- max(vhat, v); w <- w - lr (m / c1) / (sqrt(vhat / c2) + eps), c1 = c2 = 1 (Reddi et al.'s
    Algorithm 2, hp[3] = 0: x / 1.0 is exact) or c = 1 - b^t with t <- t + 1 (PyTorch's amsgrad, hp[3] = 1)
    (hp = (b1, b2, eps, bias_correction); state = m (d), v (d), vhat (d) [, t])."""
    d = w.shape[0]
    b1 = hp[0]
    b2 = hp[1]
    eps = hp[2]
    c1 = 1.0
    c2 = 1.0
    if hp[3] != 0.0:
        t = state[3 * d] + 1.0
        state[3 * d] = t
        c1 = 1.0 - b1**t
        c2 = 1.0 - b2**t
    for k in range(d):
        m = b1 * state[k] + (1.0 - b1) * g[k]
        v = b2 * state[d + k] + (1.0 - b2) * g[k] * g[k]
        vh = max(state[2 * d + k], v)
        state[k] = m
        state[d + k] = v
        state[2 * d + k] = vh
        w[k] -= lr * (m / c1) / (np.sqrt(vh / c2) + eps)


@dataclass(frozen=True)
class AMSGrad(AdaptiveOptimizer):
    """AMSGrad, in Reddi, Kale and Kumar's form (default) or in PyTorch's (``bias_correction=True``).

    ``bias_correction=False`` (default): Reddi, Kale and Kumar, ICLR 2018, Algorithm 2, state
    (m, v, vhat), all 0 at start:

        m_t = beta1 m_{t-1} + (1 - beta1) g_t;  v_t = beta2 v_{t-1} + (1 - beta2) g_t^2;
        vhat_t = max(vhat_{t-1}, v_t);  w_{t+1} = w_t - eta_t m_t / (sqrt(vhat_t) + eps).

    Exact variant: Algorithm 2 with a constant beta_1t = beta1 (as in the paper's experiments), no
    bias correction, no projection (the problems here are unconstrained), and eps > 0 added to
    sqrt(vhat) so that the first steps are defined when g = 0; the paper's step size
    alpha_t = alpha / sqrt(t) is the schedule ``Power(alpha, 1, 0.5)``.  The max is over the raw v
    (v keeps its own recursion).  vhat_t >= v_t, so the steps obey Adam's bound without bias correction.

    ``bias_correction=True``: PyTorch's ``Adam(amsgrad=True)`` (torch/optim/adam.py), state
    (m, v, vmax, t), all 0 at start:

        t <- t + 1;  m_t, v_t as above;  vmax_t = max(vmax_{t-1}, v_t)  (the max over the RAW v);
        w_t = w_{t-1} - eta_t (m_t / (1 - beta1^t)) / (sqrt(vmax_t / (1 - beta2^t)) + eps),

    i.e. both bias corrections applied after the max and eps outside the root (PyTorch forms the same
    quantity as lr/(1 - beta1^t) m / (sqrt(vmax)/sqrt(1 - beta2^t) + eps): a different rounding order).
    The first step is then eta g / (|g| + eps), not Algorithm 2's (1 - beta1)/sqrt(1 - beta2) times
    that (3.16 eta at the defaults).  Steps obey ``Adam(bias_correction=True)``'s bound.

    Args:
        beta1, beta2: in [0, 1) (defaults 0.9, 0.999).  eps: > 0 (default 1e-8).
        bias_correction: False (default; Reddi et al.'s Algorithm 2) or True (PyTorch's convention).
    """

    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    bias_correction: bool = False

    def __post_init__(self):
        object.__setattr__(self, "beta1", _beta(self.beta1, "beta1"))
        object.__setattr__(self, "beta2", _beta(self.beta2, "beta2"))
        object.__setattr__(self, "eps", _eps(self.eps))
        if not isinstance(self.bias_correction, (bool, np.bool_)):
            raise SgdTheoryError(f"bias_correction: expected True or False, got {self.bias_correction!r}")
        object.__setattr__(self, "bias_correction", bool(self.bias_correction))

    def hyperparameters(self) -> np.ndarray:
        return np.array([self.beta1, self.beta2, self.eps, 1.0 if self.bias_correction else 0.0])

    def state_size(self, d: int) -> int:
        """3d (m, v, vhat), plus the step counter t with bias correction."""
        return 3 * d + (1 if self.bias_correction else 0)

    def step_bound(self) -> float:
        c = _momentum_bound(self.beta1, self.beta2)
        # vmax >= v; bias correction: 1/(1 - beta1^t) <= 1/(1 - beta1) and sqrt(1 - beta2^t) <= 1
        return c / (1.0 - self.beta1) if self.bias_correction else c

    def _reference_update(self, w, state, g, lr):
        d = w.shape[0]
        b1, b2 = self.beta1, self.beta2
        m = b1 * state[:d] + (1.0 - b1) * g
        v = b2 * state[d:2 * d] + (1.0 - b2) * g * g
        vh = np.maximum(state[2 * d:3 * d], v)
        if not self.bias_correction:
            return w - lr * m / (np.sqrt(vh) + self.eps), np.concatenate([m, v, vh])
        t = float(state[3 * d]) + 1.0
        c1 = 1.0 - b1**t
        c2 = 1.0 - b2**t
        w_new = w - lr * (m / c1) / (np.sqrt(vh / c2) + self.eps)
        return w_new, np.concatenate([m, v, vh, [t]])
