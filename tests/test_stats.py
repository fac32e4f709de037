"""Estimates, fits and verdicts against closed forms (deterministic)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats as sps

from sgdtheory.stats import (INCONCLUSIVE, REJECTED, VERIFIED, Estimate, decide, difference, familywise_bound,
                             loglog_slope, replica_interval, weighted_least_squares, weighted_linear_fit)

samples = arrays(np.float64, st.integers(2, 50), elements=st.floats(-100, 100, allow_subnormal=False))


@given(samples, st.sampled_from([0.9, 0.99, 0.999]))
def test_replica_interval_is_the_t_interval(x, level):
    e = replica_interval(x, level)
    lo, hi = sps.t.interval(level, x.size - 1, loc=x.mean(), scale=x.std(ddof=1) / np.sqrt(x.size)) \
        if x.std() > 0 else (x.mean(), x.mean())
    assert e.value == pytest.approx(x.mean())
    assert e.low == pytest.approx(lo, abs=1e-9) and e.high == pytest.approx(hi, abs=1e-9)


@given(st.floats(-5, 5), st.floats(-5, 5), arrays(np.float64, st.integers(3, 10), elements=st.floats(0.1, 10)))
def test_weighted_fit_recovers_an_exact_line(a, b, x):
    x = np.cumsum(x)
    fit = weighted_linear_fit(x, a + b * x, np.ones_like(x))
    assert fit.intercept.value == pytest.approx(a, abs=1e-8 * (1 + abs(b) * x.max()))
    assert fit.slope.value == pytest.approx(b, abs=1e-8 * (1 + abs(b)))
    assert fit.chi2 == pytest.approx(0, abs=1e-12 * (1 + abs(a) + abs(b) * x.max()) ** 2 * x.size)


def test_weighted_fit_matches_closed_form_errors():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    se = np.array([0.1, 0.2, 0.1, 0.3])
    y = 1 + 2 * x + np.array([0.05, -0.1, 0.02, 0.3])
    ests, chi2, dof = weighted_least_squares(np.column_stack([np.ones(4), x]), y, se, level=0.95)
    W = np.diag(1 / se**2)
    X = np.column_stack([np.ones(4), x])
    cov = np.linalg.inv(X.T @ W @ X)
    assert ests[1].half_width == pytest.approx(1.959963984540054 * np.sqrt(cov[1, 1]))
    assert dof == 2


def test_loglog_slope_of_a_power_law():
    x = np.array([1.0, 2.0, 4.0, 8.0])
    fit = loglog_slope(x, 3 * x**1.5, 0.01 * 3 * x**1.5)
    assert fit.slope.value == pytest.approx(1.5)


def test_verdicts():
    e = Estimate(1.0, 0.9, 1.1, 0.999, "test", 10)
    assert decide(1.05, e, 0.2) == VERIFIED
    assert decide(1.05, e, 0.05) == INCONCLUSIVE  # the interval is too wide to have seen an error
    assert decide(1.2, e, 0.2) == REJECTED


def test_difference_and_familywise_bound():
    a = replica_interval(np.arange(10.0), 0.99)
    b = replica_interval(np.arange(10.0) + 1, 0.99)
    d = difference(a, b)
    assert d.value == pytest.approx(-1.0) and d.half_width > a.half_width
    assert familywise_bound([0.999] * 12) == pytest.approx(0.012)
