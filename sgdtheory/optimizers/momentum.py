"""Heavy-ball momentum and Nesterov's accelerated gradient, in the undampened (PyTorch) convention."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._kernels import codes
from ..errors import check_float
from .base import Optimizer


@dataclass(frozen=True)
class _Momentum(Optimizer):
    """Shared fields of the momentum methods: mu in [0, 1) and a d-vector buffer v."""

    momentum: float = 0.9

    def __post_init__(self):
        object.__setattr__(self, "momentum", check_float(self.momentum, "momentum", 0.0, 1.0, low_open=False))

    def hyperparameters(self) -> np.ndarray:
        return np.array([self.momentum])

    def state_size(self, d: int) -> int:
        return d


@dataclass(frozen=True)
class HeavyBall(_Momentum):
    """Polyak's heavy ball: v_{t+1} = mu v_t + g_t;  w_{t+1} = w_t - eta_t v_{t+1};  v_0 = 0.

    Equivalently w_{t+1} = w_t - eta g_t + mu (w_t - w_{t-1}) for constant eta (Polyak 1964).
    Source: seed 001 (KAIST EE807), slide "Momentum": m_t = mu m_{t-1} + gamma grad L, w -= m_t,
    which is this rule with m = eta v.  Convention: PyTorch ``SGD(momentum=mu, dampening=0)``;
    the EMA form v <- beta v + (1 - beta) g of seed 000 is this rule with lr eta (1 - beta).

    Args:
        momentum: mu in [0, 1).
    """

    code = codes.OPT_HEAVY_BALL

    def _reference_update(self, w, state, g, lr):
        v = self.momentum * state + g
        return w - lr * v, v


@dataclass(frozen=True)
class Nesterov(_Momentum):
    """Nesterov momentum: v_{t+1} = mu v_t + g_t;  w_{t+1} = w_t - eta_t (g_t + mu v_{t+1});  v_0 = 0.

    This is the look-ahead rule of seed 001 (slide "Nesterov accelerated gradient":
    m_t = mu m_{t-1} + gamma grad L(w_t - mu m_{t-1}); w_t = w_{t-1} - m_t) rewritten in the
    variable w - mu m so that the gradient is taken at the current iterate (Sutskever et al.
    2013, eq. 3-4; PyTorch ``SGD(nesterov=True)``).

    Args:
        momentum: mu in [0, 1).
    """

    code = codes.OPT_NESTEROV

    def _reference_update(self, w, state, g, lr):
        v = self.momentum * state + g
        return w - lr * (g + self.momentum * v), v
