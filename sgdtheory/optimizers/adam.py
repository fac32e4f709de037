"""Adam (Kingma and Ba 2015, Algorithm 1)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from ..errors import SgdTheoryError
from .adaptive import AdaptiveOptimizer, _beta, _eps, _momentum_bound


@njit(cache=True, fastmath=False, forceinline=True, _nrt=False, error_model="numpy")
def step(hp, lr, w, state, g):
    """t <- t + 1; m <- b1 m + (1 - b1) g; v <- b2 v + (1 - b2) g^2; w <- w - lr (m / c1) / (sqrt(v / c2) + eps),
    c = 1 - b^t with bias correction, else 1 (hp = (b1, b2, eps, bias_correction); state = m (d), v (d), t)."""
    d = w.shape[0]
    b1 = hp[0]
    b2 = hp[1]
    eps = hp[2]
    t = state[2 * d] + 1.0
    state[2 * d] = t
    c1 = 1.0
    c2 = 1.0
    if hp[3] != 0.0:
        c1 = 1.0 - b1**t
        c2 = 1.0 - b2**t
    for k in range(d):
        m = b1 * state[k] + (1.0 - b1) * g[k]
        v = b2 * state[d + k] + (1.0 - b2) * g[k] * g[k]
        state[k] = m
        state[d + k] = v
        w[k] -= lr * (m / c1) / (np.sqrt(v / c2) + eps)


@dataclass(frozen=True)
class Adam(AdaptiveOptimizer):
    """Adam (Kingma and Ba, ICLR 2015, Algorithm 1), state (m, v, t) with m_0 = v_0 = 0, t_0 = 0:

        t <- t + 1;  m_t = beta1 m_{t-1} + (1 - beta1) g_t;  v_t = beta2 v_{t-1} + (1 - beta2) g_t^2;
        mhat_t = m_t / (1 - beta1^t);  vhat_t = v_t / (1 - beta2^t);
        w_t = w_{t-1} - eta_t mhat_t / (sqrt(vhat_t) + eps).

    With ``bias_correction=False``, mhat = m and vhat = v.  This is Algorithm 1 as printed (eps added
    to sqrt(vhat)), not the "efficient" reordering of Section 2 (eps added to sqrt(v)); PyTorch's
    ``Adam`` computes the same quantity with a different rounding order.  The step counter t is
    the last entry of the state vector.  Steps are bounded by ``step_bound() * eta_t`` when
    beta1 < sqrt(beta2) (Section 2.1 argues |step| <~ eta_t max(1, (1 - beta1)/sqrt(1 - beta2)) in
    typical cases; ``_momentum_bound`` gives a proven, looser bound, with bias correction dividing
    m by 1 - beta1^t >= 1 - beta1 and v by 1 - beta2^t <= 1).

    Args:
        beta1, beta2: in [0, 1) (defaults 0.9, 0.999).  eps: > 0 (default 1e-8).
        bias_correction: divide by 1 - beta^t (default True).
    """

    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    bias_correction: bool = True

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
        return 2 * d + 1

    def step_bound(self) -> float:
        c = _momentum_bound(self.beta1, self.beta2)
        # bias correction: 1/(1 - beta1^t) <= 1/(1 - beta1) and sqrt(1 - beta2^t) <= 1
        return c / (1.0 - self.beta1) if self.bias_correction else c

    def _reference_update(self, w, state, g, lr):
        d = w.shape[0]
        b1, b2 = self.beta1, self.beta2
        t = float(state[2 * d]) + 1.0
        c1 = 1.0 - b1**t if self.bias_correction else 1.0
        c2 = 1.0 - b2**t if self.bias_correction else 1.0
        m = b1 * state[:d] + (1.0 - b1) * g
        v = b2 * state[d:2 * d] + (1.0 - b2) * g * g
        w_new = w - lr * (m / c1) / (np.sqrt(v / c2) + self.eps)
        return w_new, np.concatenate([m, v, [t]])
