"""Learning-rate schedules eta_t, t = 0, 1, 2, ... (the engine evaluates them per step).

* ``Constant(lr)``: eta_t = lr.
* ``Power(c, t0, p)``: eta_t = c / (t0 + t)^p, the Robbins-Monro family (seed 003, "Convergence
  theorem": sum eta_t = inf and sum eta_t^2 < inf for 1/2 < p <= 1).

Time-based, exponential, step, cyclic and cosine schedules (seed 001) add codes to
``_kernels.steps.learning_rate``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._kernels import codes
from .errors import check_float


@dataclass(frozen=True)
class Constant:
    """eta_t = lr."""

    lr: float
    code = codes.SCHEDULE_CONSTANT

    def __post_init__(self):
        object.__setattr__(self, "lr", check_float(self.lr, "lr", 0.0, None))

    def parameters(self) -> np.ndarray:
        return np.array([self.lr, 0.0, 0.0])

    def __call__(self, t):
        return np.full(np.shape(t), self.lr) if np.ndim(t) else self.lr

    @property
    def max_lr(self) -> float:
        return self.lr


@dataclass(frozen=True)
class Power:
    """eta_t = c / (t0 + t)^p (Robbins & Monro 1951)."""

    c: float
    t0: float = 1.0
    p: float = 1.0
    code = codes.SCHEDULE_POWER

    def __post_init__(self):
        object.__setattr__(self, "c", check_float(self.c, "c", 0.0, None))
        object.__setattr__(self, "t0", check_float(self.t0, "t0", 0.0, None))
        object.__setattr__(self, "p", check_float(self.p, "p", 0.0, None, low_open=False))

    def parameters(self) -> np.ndarray:
        return np.array([self.c, self.t0, self.p])

    def __call__(self, t):
        return self.c / (self.t0 + np.asarray(t, dtype=np.float64)) ** self.p

    @property
    def max_lr(self) -> float:
        return self.c / self.t0**self.p
