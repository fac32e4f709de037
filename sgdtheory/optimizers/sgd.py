"""Plain stochastic gradient descent."""

from __future__ import annotations

from dataclasses import dataclass

from .._kernels import codes
from .base import Optimizer


@dataclass(frozen=True)
class SGD(Optimizer):
    """Stochastic gradient descent: w_{t+1} = w_t - eta_t * g_t, with g_t the minibatch gradient at w_t.

    Source: seed 003 (McAllester), slide "SGD": Phi_{t+1} = Phi_t - eta * g_hat_t; seed 000
    (Huszar), section "SGD".  No state.

    Example:
        >>> import numpy as np
        >>> SGD().reference_step(np.array([1.0]), np.zeros(0), np.array([2.0]), lr=0.1)[0]
        array([0.8])
    """

    code = codes.OPT_SGD

    def _reference_update(self, w, state, g, lr):
        return w - lr * g, state
