"""The engine's linear-regression minibatch gradient, which takes the samples eight, then four, then one at a time
(``problems.linear_regression._mean_gradient``), against the numpy reference for batch sizes that take every
branch, and inside the engine against its plain-Python twin (the registry test uses batch 2 only)."""

import numpy as np
import pytest

from reference_paths import compare_with_engine
from sgdtheory.optimizers import SGD
from sgdtheory.problems import LinearRegression
from sgdtheory.problems.linear_regression import _mean_gradient
from sgdtheory.schedules import Constant


@pytest.mark.parametrize("d", [1, 3, 16, 17])
def test_grouped_gradient_is_the_reference(d):
    rng = np.random.default_rng(d)
    problem = LinearRegression(rng.standard_normal((40, d)), rng.standard_normal(40))
    for batch in range(1, 22):
        idx = rng.integers(0, 40, batch)
        w = rng.standard_normal(d)
        g = np.full(d, np.nan)
        loss = _mean_gradient(problem.X, problem.y, idx, batch, w, g)
        g_ref, loss_ref = problem.reference_gradient(w, idx)
        np.testing.assert_allclose(g, g_ref, rtol=1e-11, atol=1e-13, err_msg=f"batch {batch}")
        np.testing.assert_allclose(loss, loss_ref, rtol=1e-12, err_msg=f"batch {batch}")


@pytest.mark.parametrize("batch", [8, 13])
def test_grouped_gradient_in_the_engine(batch):
    rng = np.random.default_rng(batch)
    problem = LinearRegression(rng.standard_normal((30, 4)), rng.standard_normal(30))
    w0 = problem.minimizer + np.linspace(-0.3, 0.4, 4)
    compare_with_engine(problem, Constant(0.02), SGD(), "with_replacement", batch, w0, n_steps=30, n_paths=2,
                        rec=(0, 9, 30))
