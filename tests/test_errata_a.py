"""Errata E6 (the loss of SGD is non-increasing on average *outside* the boundary r*(u); inside it the printed
non-decreasing holds) and E9, and A4's exact covariance behind its power calculation."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sgdtheory.claims import REGISTRY, Settings
from sgdtheory.claims.base import AS_EXPECTED, AS_PRINTED, CLAIM, NEGATIVE_CONTROL
from sgdtheory.claims.basin_sweep import default_instance as default_basin
from sgdtheory.claims.errata_a import expected_one_step_change, frozen_noise_radius
from sgdtheory.theory.supermartingale import boundary_radius

QUICK = Settings(quick=True)


@settings(max_examples=25, deadline=None)
@given(st.floats(0.0, 2 * np.pi), st.floats(0.02, 0.5))
def test_the_sign_of_the_change_flips_exactly_at_the_boundary(angle, frac):
    """Deterministic: E[dL | w* + r u] > 0 just inside r*(u) and < 0 just outside, for any ray and eta < eta_c."""
    inst = default_basin()
    p = inst.problem
    eta = frac * inst.basin.stability_limit()
    u = np.array([np.cos(angle), np.sin(angle)])
    r = boundary_radius(p, inst.sampler.noise_factor(p.n), u, eta)
    assert np.isfinite(r)
    assert expected_one_step_change(inst, p.minimizer + 0.999 * r * u, eta) > 0
    assert expected_one_step_change(inst, p.minimizer + 1.001 * r * u, eta) < 0
    rf = frozen_noise_radius(inst, u, eta)
    assert np.isfinite(rf) and rf > 0


@pytest.fixture(scope="module")
def e6(quick_claims):
    return quick_claims["E6"]


def test_e6_is_scoped_on_both_sides(e6):
    assert e6.status == AS_EXPECTED
    inside = [c for c in e6.checks if "inside r*" in c.name]
    assert inside and all(c.role == CLAIM and c.verdict == "verified" for c in inside)
    everywhere = [c for c in e6.checks if "'non-increasing on average' everywhere" in c.name]
    assert everywhere and all(c.role == NEGATIVE_CONTROL and c.verdict == "rejected" for c in everywhere)
    printed = [c for c in e6.checks if c.role == AS_PRINTED]
    assert printed and all(c.verdict == "rejected" and "2 r*" in c.name for c in printed)
    roots = [c for c in e6.checks if c.name.startswith("boundary: Monte Carlo root")]
    assert len(roots) == 2 and all(c.verdict == "verified" for c in roots)
    near = [c for c in e6.checks if c.name.startswith("boundary of the constant-noise model")]
    assert near and 2.0 <= min(c.distance_half_widths for c in near) <= 10.0


def test_e6_a_wrong_boundary_is_caught(monkeypatch, reuse_monte_carlo):
    """Predicting the boundary of the constant-noise model (the control) as the claim fails E6."""
    from sgdtheory.claims import errata_a as ea

    monkeypatch.setattr(ea, "boundary_radius", lambda p, cB, u, eta: ea.frozen_noise_radius(default_basin(), u, eta))
    assert REGISTRY["E6"].run(default_basin(), QUICK).status != AS_EXPECTED


def test_a4_covariance_equals_enumeration_of_index_sequences():
    """covariance_at (batch 1, with replacement) against listing every sequence of examples for t = 3 steps."""
    from sgdtheory.claims.preconditioned import covariance_at, default_a4

    inst = default_a4()
    p0 = inst.problem.at_minimum()
    F = inst.F_pd
    ends = []
    for seq in itertools.product(range(p0.n), repeat=3):
        d = np.array(inst.delta0, dtype=float)
        for k, i in enumerate(seq):
            d = d - inst.schedule(k) * F @ (p0.g[i] + p0.H[i] @ d)
        ends.append(d)
    ends = np.array(ends)
    cov = np.cov(ends.T, bias=True)
    np.testing.assert_allclose(covariance_at(F, inst.problem, inst.schedule, inst.delta0, 3), cov, atol=1e-13)


def test_e9_corrected_iterate_matches_its_closed_form():
    res = REGISTRY["E9"].run(default_basin(), QUICK)
    assert res.status == AS_EXPECTED
    assert res.main_check.name.startswith("corrected: |Phi_T - Phi*|") and res.main_check.verdict == "verified"
