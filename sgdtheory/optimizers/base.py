"""The optimizer record protocol shared by all optimizers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Optimizer:
    """Base record.  Subclasses set ``code`` and implement ``_reference_update``."""

    code = -1

    def hyperparameters(self) -> np.ndarray:
        """The float64 parameter vector the kernel reads (``hp`` in ``optimizer_step``)."""
        return np.zeros(1)

    def state_size(self, d: int) -> int:
        return 0

    def validate_for(self, d: int) -> None:
        """Raise a ValueError naming the hyperparameter if it does not fit dimension d."""

    def init_state(self, d: int) -> np.ndarray:
        return np.zeros(self.state_size(d))

    def reference_step(self, params, state, grad, lr: float) -> tuple[np.ndarray, np.ndarray]:
        """One update in plain numpy: (params, state, grad) -> (new params, new state)."""
        w = np.array(params, dtype=np.float64, copy=True)
        st = np.array(state, dtype=np.float64, copy=True)
        g = np.asarray(grad, dtype=np.float64)
        return self._reference_update(w, st, g, float(lr))

    def _reference_update(self, w, state, g, lr):
        raise NotImplementedError
