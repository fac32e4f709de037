"""The engine's quadratic-finite-sum minibatch gradient, which sums each component over the minibatch in a local
(d = 2: a branch with everything in locals; ``problems.quadratic_finite_sum._mean_gradient``), against the numpy
reference for batch sizes 1..21 and d = 1, 2, 3, 5, and inside the engine against its plain-Python twin."""

import numpy as np
import pytest

from reference_paths import compare_with_engine
from sgdtheory.optimizers import SGD
from sgdtheory.problems import QuadraticFiniteSum
from sgdtheory.problems.quadratic_finite_sum import _mean_gradient
from sgdtheory.schedules import Constant


def _problem(d, n, seed):
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((n, d, d))
    H = M @ M.transpose(0, 2, 1) / d - 0.2 * np.eye(d) * rng.standard_normal((n, 1, 1)) + 0.3 * np.eye(d)
    return QuadraticFiniteSum(rng.standard_normal((n, d)), H, rng.standard_normal(n), rng.standard_normal(d))


@pytest.mark.parametrize("d", [1, 2, 3, 5])
def test_gradient_is_the_reference(d):
    problem = _problem(d, 30, d)
    kp = problem.kernel_data()
    rng = np.random.default_rng(100 + d)
    for batch in range(1, 22):
        idx = rng.integers(0, 30, batch)
        w = kp.w_star + rng.standard_normal(d)
        g = np.full(d, np.nan)
        loss = _mean_gradient(kp.A, kp.Hs, kp.v, idx, batch, w - kp.w_star, g)
        g_ref, loss_ref = problem.reference_gradient(w, idx)
        np.testing.assert_allclose(g, g_ref, rtol=1e-11, atol=1e-13, err_msg=f"batch {batch}")
        np.testing.assert_allclose(loss, loss_ref, rtol=1e-11, atol=1e-13, err_msg=f"batch {batch}")


@pytest.mark.parametrize("d, batch", [(2, 3), (3, 4)])
def test_gradient_in_the_engine(d, batch):
    problem = _problem(d, 12, 10 + d)
    w0 = problem.minimizer + np.linspace(-0.3, 0.4, d)
    compare_with_engine(problem, Constant(0.02), SGD(), "with_replacement", batch, w0, n_steps=30, n_paths=2,
                        rec=(0, 9, 30))
