"""The fields shared by the momentum methods (``heavy_ball``, ``nesterov``), in the undampened (PyTorch) convention."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import check_float
from .base import Optimizer


@dataclass(frozen=True)
class Momentum(Optimizer):
    """Shared fields of the momentum methods: mu in [0, 1) and a d-vector buffer v."""

    momentum: float = 0.9

    def __post_init__(self):
        object.__setattr__(self, "momentum", check_float(self.momentum, "momentum", 0.0, 1.0, low_open=False))

    def hyperparameters(self) -> np.ndarray:
        return np.array([self.momentum])

    def state_size(self, d: int) -> int:
        return d
