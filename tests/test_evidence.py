"""The standard of evidence is enforced by the framework (claims/base.py, stats.py), not claim by claim:
the resolution rule, approximation verdicts, resolving power on the record, chance failures in the
family-wise bound, honest fits, and calibration over fresh seeds."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sgdtheory.calibrate import binomial_tail, calibrate, fresh_seeds, summarise
from sgdtheory.claims.base import (ADEQUATE, APPROXIMATION, AS_EXPECTED, CLAIM, DETECTABLY_WRONG, NEGATIVE_CONTROL,
                                   UNDECIDED, UNEXPECTED, Check, ClaimResult, planned_expectation)
from sgdtheory.stats import (INCONCLUSIVE, REJECTED, VERIFIED, Estimate, familywise_bound, replica_interval,
                             weighted_least_squares, weighted_linear_fit)


def _est(value, hw, level=0.9999, n=1000):
    return Estimate(value, value - hw, value + hw, level, "test", n)


def test_resolution_rule_needs_half_the_distance_to_the_nearest_control():
    est = _est(1.0, 0.1)
    near = ClaimResult("X", [Check("c", CLAIM, 1.0, est, 1.0), Check("n", NEGATIVE_CONTROL, 1.15, est, 1.0)], {})
    # control 0.15 away: the interval (half-width 0.1) cannot tell them apart -> inconclusive, not verified
    assert near.checks[0].verdict == INCONCLUSIVE
    assert near.checks[0].effective_resolution == pytest.approx(0.075)
    assert near.status == UNEXPECTED
    far = ClaimResult("X", [Check("c", CLAIM, 1.0, est, 1.0), Check("n", NEGATIVE_CONTROL, 1.3, est, 1.0)], {})
    assert far.checks[0].verdict == VERIFIED and far.status == AS_EXPECTED
    assert far.checks[1].to_dict()["distance_half_widths"] == pytest.approx(3.0)


def test_controls_link_by_name_when_the_estimate_differs():
    a, b = _est(1.0, 0.1), _est(2.0, 0.1)
    res = ClaimResult("X", [Check("c", CLAIM, 1.0, a, 1.0), Check("n", NEGATIVE_CONTROL, 1.12, b, 1.0, against="c")], {})
    assert res.checks[0].control_gap == pytest.approx(0.12)
    assert res.checks[0].verdict == INCONCLUSIVE
    with pytest.raises(ValueError, match="names no claim check"):
        ClaimResult("X", [Check("n", NEGATIVE_CONTROL, 1.1, b, 1.0, against="missing")], {})


def test_approximation_is_never_verified():
    est = _est(1.0, 0.1)
    ok = Check("lang", APPROXIMATION, 1.02, est, 0.2, expect=ADEQUATE)
    bad = Check("lang", APPROXIMATION, 1.5, est, 0.2, expect=DETECTABLY_WRONG)
    assert ok.verdict == ADEQUATE and ok.as_expected
    assert bad.verdict == DETECTABLY_WRONG and bad.as_expected
    undecided = Check("lang", APPROXIMATION, 1.5, est, 0.2, expect=None)
    assert undecided.expected == UNDECIDED and undecided.as_expected and undecided.chance_failure == 0.0
    with pytest.raises(ValueError):
        Check("x", "approximately", 1.0, est, 1.0)


def test_planned_expectation_uses_the_plan_not_the_measurement():
    assert planned_expectation(0.01, 0.1) == ADEQUATE
    assert planned_expectation(0.5, 0.1) == DETECTABLY_WRONG
    assert planned_expectation(0.1, 0.1) is None


@given(st.floats(-10, 10), st.floats(1e-3, 5), st.floats(-5, 5))
def test_perturbing_a_prediction_by_its_detectable_error_flips_the_verdict(value, hw, offset):
    pred = value + offset * hw * 0.99 / 5
    c = Check("c", CLAIM, pred, _est(value, hw), math.inf)
    assert c.verdict == VERIFIED
    for sign in (-1, 1):
        moved = Check("c", CLAIM, pred + sign * c.detectable_abs * (1 + 1e-9) + sign * 1e-12, _est(value, hw), math.inf)
        assert moved.verdict == REJECTED


def test_chance_failure_of_a_control_follows_its_distance():
    est = _est(0.0, 3.719, n=10**6)  # normal quantile of 0.9999 is 3.719: se = 1
    claim = Check("c", CLAIM, 0.0, est, math.inf)
    for d, expected in [(0.0, 0.9999), (3.719, 0.5), (10.0, 0.0)]:
        ctrl = Check("n", NEGATIVE_CONTROL, d, est, math.inf)
        res = ClaimResult("X", [claim, ctrl], {})
        assert ctrl.chance_failure == pytest.approx(expected, abs=2e-3)
        assert res.chance_failures[0] == pytest.approx(1e-4)
    assert familywise_bound([1 - 1e-4, 1 - 2e-4]) == pytest.approx(3e-4)


def test_standard_error_of_a_fit_is_its_parameter_standard_error():
    x = np.array([1.0, 2.0, 3.0])
    y = 2.0 + 0.5 * x
    se = np.full(3, 0.1)
    fit = weighted_linear_fit(x, y, se)
    cov = np.linalg.inv(np.column_stack([np.ones(3), x]).T @ np.column_stack([np.ones(3), x]) / 0.01)
    assert fit.slope.standard_error == pytest.approx(math.sqrt(cov[1, 1]), rel=1e-12)
    r = replica_interval(np.arange(10.0))
    assert r.standard_error == pytest.approx(np.arange(10.0).std(ddof=1) / math.sqrt(10), rel=1e-12)


def test_lack_of_fit_inflates_the_interval():
    x = np.linspace(0.1, 1.0, 8)
    y = x**2  # a straight line is the wrong model
    se = np.full(8, 1e-3)
    ests, chi2, dof = weighted_least_squares(np.column_stack([np.ones(8), x]), y, se)
    assert chi2 / dof > 100
    assert "lack of fit" in ests[1].method
    naive = 3.719 * math.sqrt(np.linalg.inv(np.column_stack([np.ones(8), x]).T @ np.column_stack([np.ones(8), x])
                                            / 1e-6)[1, 1])
    assert ests[1].half_width > 10 * naive
    good = weighted_least_squares(np.column_stack([np.ones(8), x]), 1 + x, se)[0][1]
    assert "lack of fit" not in good.method


def test_fresh_seeds_and_binomial_tail():
    s = fresh_seeds(50)
    assert len(set(s)) == 50 and 20261123 not in s
    assert fresh_seeds(5) == s[:5]
    assert binomial_tail(0, 10, 0.1) == 1.0
    assert binomial_tail(1, 10, 0.1) == pytest.approx(1 - 0.9**10)
    assert binomial_tail(3, 20, 1e-4) == pytest.approx(math.comb(20, 3) * 1e-12, rel=1e-2)


def test_calibration_flags_roles_that_change_with_the_data():
    runs = [{"seed": 1, "status": AS_EXPECTED, "as_expected": True, "bound": 1e-3, "roles": [["a", CLAIM]], "missed": []},
            {"seed": 2, "status": AS_EXPECTED, "as_expected": True, "bound": 1e-3,
             "roles": [["a", NEGATIVE_CONTROL]], "missed": []}]
    c = summarise("X", runs)
    assert not c.roles_stable and c.refuted
    bad = [{"seed": i, "status": UNEXPECTED, "as_expected": i % 2 == 0, "bound": 1e-3, "roles": [], "missed": ["x"]}
           for i in range(10)]
    assert summarise("X", bad).refuted


# Cheap claims (a second or less each in quick mode) calibrated over fresh seeds in CI: the printed bound must
# survive the binomial test, and the checks and roles must not depend on the seed.
CALIBRATED_IN_CI = ("A2", "A4", "A8", "B6")


def test_calibration_of_cheap_claims_over_fresh_seeds():
    out = calibrate(CALIBRATED_IN_CI, 24, quick=True)
    for c in out:
        assert c.runs == 24
        assert c.roles_stable, c.claim
        assert not c.refuted, (c.claim, c.failures, c.bound, c.missed[:3])
