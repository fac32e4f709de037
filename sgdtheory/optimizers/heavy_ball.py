"""Polyak's heavy-ball momentum, in the undampened (PyTorch) convention."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .base import largest_curvature
from .momentum import Momentum


@njit(cache=True, fastmath=False, forceinline=True, _nrt=False, error_model="numpy")
def step(hp, lr, w, state, g):
    """v <- mu v + g; w <- w - lr v (hp = (mu,), state = v)."""
    mu = hp[0]
    for k in range(w.shape[0]):
        state[k] = mu * state[k] + g[k]
        w[k] -= lr * state[k]


@dataclass(frozen=True)
class HeavyBall(Momentum):
    """Polyak's heavy ball: v_{t+1} = mu v_t + g_t;  w_{t+1} = w_t - eta_t v_{t+1};  v_0 = 0.

    Equivalently w_{t+1} = w_t - eta g_t + mu (w_t - w_{t-1}) for constant eta (Polyak 1964).
    Source: seed 001 (KAIST EE807), slide "Momentum": m_t = mu m_{t-1} + gamma grad L, w -= m_t,
    which is this rule with m = eta v.  Convention: PyTorch ``SGD(momentum=mu, dampening=0)``;
    the EMA form v <- beta v + (1 - beta) g of seed 000 is this rule with lr eta (1 - beta).

    Args:
        momentum: mu in [0, 1).
    """

    def _reference_update(self, w, state, g, lr):
        v = self.momentum * state + g
        return w - lr * v, v

    def stability_limit(self, problem, sampler) -> tuple[float, str]:
        """2 (1 + mu) / lambda_max: the heavy-ball iteration on the mean Hessian (a necessary condition)."""
        lam = largest_curvature(problem)
        if lam is None:
            return np.inf, "none: L has no strict local minimum, so linear stability gives no limit"
        return 2.0 * (1.0 + self.momentum) / lam, "heavy-ball stability on the mean Hessian"
