"""Claims C1, C2 (modified losses of SGD with random shuffling and of GD): the exact order average against plain
enumeration, closed-form series against SymPy, flows against an ODE solver, the Monte Carlo kernel against plain
numpy, the quick claim runs, perturbed theories that the same code must reject, bad inputs, and the config."""

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

import sgdtheory.claims.c1_modified_loss as c1m
import sgdtheory.claims.implicit_regularisation as ci
from sgdtheory.claims import Settings
from sgdtheory.claims.base import AS_EXPECTED, CLAIM, NEGATIVE_CONTROL
from sgdtheory.cli import main
from sgdtheory.config import load
from sgdtheory.errors import ConfigError, SgdTheoryError
from sgdtheory.stats import REJECTED, VERIFIED
from sgdtheory.theory import modified_loss as ml

QUICK = Settings(quick=True)
CONFIG = Path(__file__).resolve().parent.parent / "experiments" / "configs" / "implicit_regularisation.toml"


def _batches(seed: int, m: int, d: int):
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((m, d))
    M = rng.standard_normal((m, d, d))
    H = np.einsum("kij,klj->kil", M, M) / d + 0.2 * np.eye(d)
    return ml.QuadraticBatches(G, H)


@pytest.fixture(scope="module")
def quick_c1(quick_claims):
    return quick_claims["C1"]


@pytest.fixture(scope="module")
def quick_c2(quick_claims):
    return quick_claims["C2"]


# -- theory against references -------------------------------------------------------------------------------


@given(st.integers(0, 10**6), st.integers(1, 5), st.integers(1, 3), st.floats(1e-4, 0.2))
def test_order_average_equals_plain_enumeration(seed, m, d, eta):
    qb = _batches(seed, m, d)
    ref = np.mean([qb.epoch_order(eta, p) for p in itertools.permutations(range(m))], axis=0)
    assert np.allclose(qb.epoch_mean(eta), ref, rtol=1e-11, atol=1e-14)
    assert np.allclose(qb.enumerate_mean(eta), ref, rtol=1e-12, atol=1e-15)


@given(st.integers(0, 10**6), st.integers(1, 3), st.floats(0.01, 2.0), st.sampled_from(list(ml.FLOWS)))
def test_flow_displacement_matches_an_ode_solver(seed, d, t, kind):
    qb = _batches(seed, 3, d)
    eta = 0.05
    a, b, _ = ml.FLOWS[kind]
    A, r = ml._affine_field(qb.G, qb.H, eta, a, b)
    sol = solve_ivp(lambda _, x: -(A @ x + r), (0.0, t), np.zeros(d), method="DOP853", rtol=1e-12, atol=1e-14)
    assert np.allclose(qb.flow(eta, kind, t=t), sol.y[:, -1], rtol=1e-9, atol=1e-12)


@given(st.integers(0, 10**6), st.integers(2, 5), st.integers(1, 2))
@settings(max_examples=25)
def test_series_coefficients_are_the_small_eta_limit(seed, m, d):
    """E delta_m - delta~ = C2 eta^2 + C3 eta^3 + O(eta^4): the remainder falls ~16x when eta halves; C2 = 0 for L~_SGD."""
    qb = _batches(seed, m, d)
    for kind in ml.FLOWS:
        C2, C3 = qb.series_coefficients(kind)
        rem = [np.linalg.norm(qb.epoch_mean(e) - qb.flow(e, kind) - C2 * e**2 - C3 * e**3) for e in (0.004, 0.002)]
        lead = np.linalg.norm(C2) * 0.002**2 + np.linalg.norm(C3) * 0.002**3
        assert rem[1] <= 1e-6 * lead or rem[0] / rem[1] > 12.0, (kind, rem)
    assert np.linalg.norm(qb.series_coefficients("sgd")[0]) < 1e-12 * (1 + np.abs(qb.G).max() * np.abs(qb.H).max())


def test_series_coefficients_match_sympy():
    qb = _batches(7, 3, 2)
    q = ml.derive_quadratic(np.round(qb.G, 3), np.round(qb.H, 3))
    qr = ml.QuadraticBatches(np.round(qb.G, 3), np.round(qb.H, 3))
    for kind in ml.FLOWS:
        C2, C3 = qr.series_coefficients(kind)
        sym = q.coefficients[kind]
        assert np.allclose([float(v) for v in sym[0]], 0.0, atol=1e-14)
        assert np.allclose([float(v) for v in sym[1]], C2, atol=1e-12)
        assert np.allclose([float(v) for v in sym[2]], C3, atol=1e-12)
    assert q.A1 == q.A1_claimed and q.r1 == q.r1_claimed


def test_general_derivation_recovers_the_modified_loss():
    for m in (1, 2):
        der = ml.derive_general(m)
        assert list(der.difference) == [0, 0]
        assert der.curl == 0 and der.identity == 0
    assert any(v != 0 for v in ml.derive_general(2).gd_only_difference)  # the GD-only loss misses a term


def test_partitions_and_composition_average():
    parts = list(ml._partitions(list(range(6)), 2))
    assert len(parts) == math.factorial(6) // (2**3 * math.factorial(3))
    assert all(sorted(i for b in p for i in b) == list(range(6)) for p in parts)
    assert len({tuple(sorted(p)) for p in parts}) == len(parts)
    # B = 1: every partition is the same set of singletons, so the composition average is the order average
    rng = np.random.default_rng(3)
    g, H = rng.standard_normal((4, 2)), np.tile(np.eye(2), (4, 1, 1)) * rng.uniform(0.5, 2, (4, 1, 1))
    qb = ml.QuadraticBatches(g, H, examples=(g, H))
    assert np.allclose(ml.composition_epoch_mean(qb, 0.05, 1), qb.epoch_mean(0.05), rtol=1e-12)


def test_settled_slope_on_a_known_curve():
    etas = np.geomspace(1e-5, 1e-1, 21)
    err = 2.0 * etas**3 * (1 + 3 * etas)
    fit = ml.settled_slope(etas, err, np.full(etas.size, 1e-30))
    assert abs(fit.slope - 3.0) <= fit.spread and fit.spread < 0.05
    with pytest.raises(SgdTheoryError, match="etas"):
        ml.settled_slope(etas[:3], err[:3], np.full(3, 1e-30))


def test_kernel_pairs_are_an_order_and_its_reverse():
    qb = _batches(11, 4, 2)
    etas = np.array([0.05, 0.01])
    out = c1m.simulate_order_pairs(qb, etas, 64, 123, (0xC1, 99))
    d = qb.d
    table = {p: np.array([qb.epoch_order(e, p) for e in etas]) for p in itertools.permutations(range(4))}
    for row in out:
        fwd = [p for p, v in table.items() if np.allclose(v, row[:, :d], rtol=1e-12, atol=1e-15)]
        assert fwd, "forward order not found"
        assert np.allclose(table[tuple(reversed(fwd[0]))], row[:, d:], rtol=1e-12, atol=1e-15)
    again = c1m.simulate_order_pairs(qb, etas, 64, 123, (0xC1, 99))
    assert np.array_equal(out, again)


# -- the claims -----------------------------------------------------------------------------------------------


def test_quick_c1_is_as_expected(quick_c1):
    assert quick_c1.status == AS_EXPECTED, [(c.name, c.verdict) for c in quick_c1.checks if not c.as_expected]
    roles = {c.role for c in quick_c1.checks}
    assert CLAIM in roles and NEGATIVE_CONTROL in roles
    sgd = [c for c in quick_c1.checks if c.role == CLAIM and "L~_SGD" in c.name and "eta^3" in c.name]
    assert len(sgd) >= 2 and all(c.verdict == VERIFIED for c in sgd)  # exact over orders: quadratic, quartic
    # Monte Carlo over orders (public API, order=1): the eta^3 coefficient, extrapolated to eta -> 0
    mc = [c for c in quick_c1.checks if c.role == CLAIM and c.name.startswith("eta -> 0 limit of measured / predicted")]
    assert len(mc) == 1 and mc[0].verdict == VERIFIED and mc[0].estimate.level < 1.0


def test_quick_c2_is_as_expected(quick_c2):
    assert quick_c2.status == AS_EXPECTED, [(c.name, c.verdict) for c in quick_c2.checks if not c.as_expected]


def test_a_perturbed_modified_loss_is_rejected(monkeypatch):
    """Perturb L~_SGD's variance coefficient (1/4 -> 0.3): the same enumeration code must reject slope 3."""
    monkeypatch.setitem(ml.FLOWS, "sgd", (0.25, 0.3, "perturbed"))
    inst = ci.default_instance()
    checks = c1m._enumeration_c1(inst, {})
    sgd = [c for c in checks if c.role == CLAIM and "perturbed" in c.name]
    assert sgd and sgd[0].verdict == REJECTED


def test_a_perturbed_gd_coefficient_is_rejected(monkeypatch):
    monkeypatch.setitem(ml.FLOWS, "gd", (0.3, 0.0, "perturbed"))
    res = ci.run_c2(ci.default_instance(), QUICK)
    bad = [c for c in res.checks if c.role == CLAIM and "Barrett" in c.name and "one step (quadratic)" in c.name]
    assert bad and bad[0].verdict == REJECTED


# -- bad inputs and config --------------------------------------------------------------------------------------


def _replace(**kw):
    inst = ci.default_instance()
    fields = dict(problem=inst.problem, w0=inst.w0, batches=inst.batches, etas=inst.etas, mc_batches=inst.mc_batches,
                  mc_etas=inst.mc_etas, poly=inst.poly, poly_w0=inst.poly_w0, poly_batches=inst.poly_batches,
                  poly_etas=inst.poly_etas)
    fields.update(kw)
    return ci.ImplicitRegInstance(**fields)


@pytest.mark.parametrize("kw, match", [
    ({"batches": ((0, 1), (2, 3), (4, 5), (6,), (7,))}, "batches"),
    ({"batches": ((0, 1), (2, 3), (4, 5), (6, 6))}, "batches"),
    ({"etas": (1e-3, 2e-3)}, "etas"),
    ({"etas": tuple(np.geomspace(1e-4, 1.0, 8))}, "etas"),
    ({"w0": [1.0]}, "w0"),
    ({"mc_batches": ((0, 1, 2, 3, 4, 5, 6, 7),)}, "mc_batches"),
    ({"poly_batches": ((0, 1, 2), (3, 4, 5, 6, 7))}, "poly_batches"),
])
def test_bad_inputs_name_the_parameter(kw, match):
    with pytest.raises(SgdTheoryError, match=match):
        _replace(**kw)


def test_config_errors_name_the_field(tmp_path):
    cfg = load(CONFIG)
    bad = {"problem": dict(cfg["problem"]), "experiment": dict(cfg["experiment"], learning_rate=0.1)}
    with pytest.raises(ConfigError, match="experiment.learning_rate"):
        ci.instance_from_config(bad)
    bad = {"problem": dict(cfg["problem"]), "experiment": dict(cfg["experiment"], batches=[[0, 1], [2, 3]])}
    with pytest.raises(ConfigError, match="batches"):
        ci.instance_from_config(bad)
    inst = ci.instance_from_config(cfg)
    assert len(inst.batches) == 3 and inst.poly is not None


def test_config_runs_via_the_cli(tmp_path, capsys):
    assert main(["verify", "C2", "--config", str(CONFIG), "--quick", "--out", str(tmp_path)]) == 0
    assert main(["derive", "C1", "--config", str(CONFIG)]) == 0
    out = capsys.readouterr().out
    assert "L~_SGD = L + (eta/(4m)) sum_k |grad L_k|^2" in out
    assert (tmp_path / "figures" / "fig_c2_gd_modified_loss.png").is_file()
