"""Minibatch-gradient moments: the c_B formulas against enumeration, and the sampling kernel
against a plain-Python reference on the same random streams."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from reference_rng import Xoshiro
from sgdtheory._kernels.rng import path_states
from sgdtheory.gradient_noise import sample_gradients
from sgdtheory.problems import LinearRegression
from sgdtheory.sampling import Sampler
from sgdtheory.theory.minibatch import batch_factor, derive_batch_factor, enumerate_batch_moments


@given(st.integers(2, 7), st.integers(1, 3), st.data())
def test_enumeration_equals_c_B_sigma(n, d, data):
    G = data.draw(arrays(np.float64, (n, d), elements=st.floats(-3, 3, allow_subnormal=False)))
    Sigma = np.cov(G.T, bias=True).reshape(d, d)
    for scheme in ("with_replacement", "without_replacement"):
        B = data.draw(st.integers(1, n if scheme == "without_replacement" else 4))
        mean, cov, _ = enumerate_batch_moments(G, B, scheme)
        np.testing.assert_allclose(mean, G.mean(axis=0), atol=1e-12)
        np.testing.assert_allclose(cov, batch_factor(n, B, scheme) * Sigma, atol=1e-12)
    # the with-replacement formula is wrong without replacement whenever 1 < B and Sigma != 0
    if n > 2 and np.trace(Sigma) > 1e-6:
        _, cov, _ = enumerate_batch_moments(G, n - 1, "without_replacement")
        assert not np.allclose(np.trace(cov), np.trace(Sigma) / (n - 1))


def test_symbolic_batch_factor():
    assert derive_batch_factor()["c_B - (n - B)/(B (n - 1))"] == 0


def test_sampling_kernel_matches_reference():
    rng = np.random.default_rng(3)
    p = LinearRegression(rng.standard_normal((5, 2)), rng.standard_normal(5))
    w = np.array([0.2, -0.1])
    res = sample_gradients(p, w, Sampler(3), n_draws=7, n_paths=2, seed=4)
    G = p.gradients(w)
    states = path_states(np.random.SeedSequence(4), 0, 2)
    for k in range(2):
        ref = Xoshiro(states[k])
        dev = np.array([G[[ref.below(5) for _ in range(3)]].mean(axis=0) - G.mean(axis=0) for _ in range(7)])
        np.testing.assert_allclose(res.first[k], dev.sum(axis=0), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(res.second[k], dev.T @ dev, rtol=1e-10, atol=1e-12)


def test_bad_inputs():
    p = LinearRegression(np.eye(3), np.ones(3))
    with pytest.raises(ValueError, match=r"batch_size = 4 is larger than the data set"):
        sample_gradients(p, np.zeros(3), Sampler(4, "without_replacement"), n_draws=2, n_paths=2)
    with pytest.raises(ValueError, match=r"w: expected shape \(3,\)"):
        sample_gradients(p, np.zeros(2), Sampler(1), n_draws=2, n_paths=2)
    with pytest.raises(ValueError, match="exceed the enumeration limit"):
        enumerate_batch_moments(np.ones((40, 1)), 5, "with_replacement")


def test_zero_gradient_count_is_not_vacuous():
    """A2 relies on counting draws with g_B == center exactly; it must count them when they occur.

    With a single example every minibatch gradient equals the full gradient, so every draw is a zero
    of g_B - grad L; with two distinct examples and B = 1 none is.
    """
    one = LinearRegression(np.array([[1.0]]), np.array([2.0]))
    assert sample_gradients(one, np.zeros(1), Sampler(1), n_draws=50, n_paths=2).zero_fraction() == 1.0
    two = LinearRegression(np.array([[1.0], [1.0]]), np.array([2.0, -1.0]))
    assert sample_gradients(two, np.zeros(1), Sampler(1), n_draws=50, n_paths=2).zero_fraction() == 0.0


@given(st.integers(2, 6), st.integers(1, 2), st.data())
def test_draw_variance_equals_enumeration(n, d, data):
    """The per-draw variance of |g_B - gbar|^2 behind A1/A2's power calculation: the with-replacement closed form
    equals listing every ordered B-tuple; without replacement it is listed directly (deterministic property)."""
    import itertools

    from sgdtheory.claims.minibatch import draw_variance

    G = data.draw(arrays(np.float64, (n, d), elements=st.floats(-3, 3, allow_subnormal=False)))
    B = data.draw(st.integers(1, 3))
    x = G - G.mean(axis=0)
    vals = np.array([np.sum(x[list(b)].mean(axis=0) ** 2) for b in itertools.product(range(n), repeat=B)])
    np.testing.assert_allclose(draw_variance(G, B, "with_replacement"), vals.var(), rtol=1e-9, atol=1e-12)
    Bw = data.draw(st.integers(1, n))
    vals = np.array([np.sum(x[list(b)].mean(axis=0) ** 2) for b in itertools.combinations(range(n), Bw)])
    np.testing.assert_allclose(draw_variance(G, Bw, "without_replacement"), vals.var(), rtol=1e-9, atol=1e-12)


def test_a1_a2_near_controls_are_planned_not_tuned(quick_claims):
    """The neighbouring constants ((n-B)/n for (n-B)/(n-1), the n/(n-1) sample covariance) are rejected at a planned
    distance: ~4.5 half-widths in quick mode (9 in full), within [2, 10], and the claim is verified."""
    from sgdtheory.claims.base import NEGATIVE_CONTROL

    for cid, tag in (("A1", "(n-B)/(Bn)"), ("A2", "Var_s(y)/B")):
        res = quick_claims[cid]
        near = [c for c in res.checks if c.role == NEGATIVE_CONTROL and tag in c.name]
        assert near and all(c.verdict == "rejected" and 2.0 <= c.distance_half_widths <= 10.0 for c in near), \
            [(c.name, c.distance_half_widths) for c in near]
        assert res.main_check.verdict == "verified" and res.main_check.detectable_error < 0.05


def test_planned_draws_follow_the_level():
    """A higher level widens the interval, so the plan asks for more draws (settings.level reaches the plan)."""
    from sgdtheory.claims import Settings
    from sgdtheory.claims.minibatch import planned_draws

    lo = planned_draws(1.0, 0.01, Settings(quick=False, level=0.99), 256, 10)
    hi = planned_draws(1.0, 0.01, Settings(quick=False, level=0.9999), 256, 10)
    assert hi > lo > 0
    assert planned_draws(1.0, 0.01, Settings(quick=True, level=0.9999), 256, 10) < hi
    assert planned_draws(1.0, 0.0, Settings(), 256, 10) == 10
