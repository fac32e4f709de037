"""Plain stochastic gradient descent."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .base import Optimizer, largest_curvature


@njit(cache=True, fastmath=False, forceinline=True, _nrt=False, error_model="numpy")
def step(hp, lr, w, state, g):
    """w <- w - lr g (no state)."""
    for k in range(w.shape[0]):
        w[k] -= lr * g[k]


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

    def _reference_update(self, w, state, g, lr):
        return w - lr * g, state

    def stability_limit(self, problem, sampler) -> tuple[float, str]:
        """With i.i.d. minibatches on a quadratic finite sum (d <= 24): the mean-square limit of the exact
        second-moment operator (``theory.quadratic_basin``); otherwise 2 / lambda_max (gradient descent on the
        mean Hessian, or on the sharpest strict local minimum of a 1-D polynomial; a necessary condition)."""
        from ..problems import LinearRegression, QuadraticFiniteSum

        if sampler.scheme in ("with_replacement", "without_replacement") \
                and isinstance(problem, (QuadraticFiniteSum, LinearRegression)) and problem.d <= 24:
            from ..theory.quadratic_basin import QuadraticBasin

            quad = problem.as_quadratic() if isinstance(problem, LinearRegression) else problem.at_minimum()
            basin = QuadraticBasin(quad.g, quad.H, batch_size=sampler.validate_for(problem.n), sampling=sampler.scheme)
            return float(basin.stability_limit()), "mean-square stability of the exact second-moment recursion"
        lam = largest_curvature(problem)
        if lam is None:
            return np.inf, "none: L has no strict local minimum, so linear stability gives no limit"
        return 2.0 / lam, "gradient-descent stability on the mean Hessian (2 / lambda_max)"
