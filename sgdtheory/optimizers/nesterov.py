"""Nesterov's accelerated gradient, in the undampened (PyTorch) convention."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .base import largest_curvature
from .momentum import Momentum


@njit(cache=True, fastmath=False, forceinline=True, _nrt=False, error_model="numpy")
def step(hp, lr, w, state, g):
    """v <- mu v + g; w <- w - lr (g + mu v) (hp = (mu,), state = v)."""
    mu = hp[0]
    for k in range(w.shape[0]):
        state[k] = mu * state[k] + g[k]
        w[k] -= lr * (g[k] + mu * state[k])


@dataclass(frozen=True)
class Nesterov(Momentum):
    """Nesterov momentum: v_{t+1} = mu v_t + g_t;  w_{t+1} = w_t - eta_t (g_t + mu v_{t+1});  v_0 = 0.

    This is the look-ahead rule of seed 001 (slide "Nesterov accelerated gradient":
    m_t = mu m_{t-1} + gamma grad L(w_t - mu m_{t-1}); w_t = w_{t-1} - m_t) rewritten in the
    variable w - mu m so that the gradient is taken at the current iterate (Sutskever et al.
    2013, eq. 3-4; PyTorch ``SGD(nesterov=True)``).

    Args:
        momentum: mu in [0, 1).
    """

    def _reference_update(self, w, state, g, lr):
        v = self.momentum * state + g
        return w - lr * (g + self.momentum * v), v

    def stability_limit(self, problem, sampler) -> tuple[float, str]:
        """2 (1 + mu) / ((1 + 2 mu) lambda_max): Nesterov's iteration on the mean Hessian (necessary)."""
        lam = largest_curvature(problem)
        if lam is None:
            return np.inf, "none: L has no strict local minimum, so linear stability gives no limit"
        mu = self.momentum
        return 2.0 * (1.0 + mu) / ((1.0 + 2.0 * mu) * lam), "Nesterov stability on the mean Hessian"
