"""Claim B2 (not Boltzmann in d > 1): the Lyapunov / current theory against plain numpy and SymPy references,
the exact variances behind the power calculation against brute-force stacked covariances, bad inputs, the
user config via the CLI, and perturbed theories that the claim must catch."""

import json
from pathlib import Path

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st
from scipy import special

import sgdtheory.claims.lyapunov as cl
from sgdtheory.claims import REGISTRY, Settings
from sgdtheory.claims.base import ADEQUATE, APPROXIMATION, AS_EXPECTED, CLAIM, NEGATIVE_CONTROL
from sgdtheory.cli import main
from sgdtheory.config import load
from sgdtheory.errors import ConfigError, SgdTheoryError
from sgdtheory.theory import lyapunov as th

QUICK = Settings(quick=True)
CONFIG = Path(__file__).resolve().parent.parent / "experiments" / "configs" / "lyapunov.toml"


def _spd(seed: int, d: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((d, d))
    return M @ M.T + 0.3 * np.eye(d)


def _psd(seed: int, d: int) -> np.ndarray:
    rng = np.random.default_rng(seed + 1000)
    M = rng.standard_normal((d, d - 1 if d > 2 else d))
    return M @ M.T


# -- theory against references ---------------------------------------------------------------------------------


@given(st.integers(0, 10**6), st.integers(2, 4), st.floats(0.01, 0.95), st.integers(1, 8))
def test_discrete_covariance_solves_the_lyapunov_equation(seed, d, frac, B):
    H, C = _spd(seed, d), _psd(seed, d)
    eta = frac * 2 / np.linalg.eigvalsh(H)[-1]
    S = th.discrete_covariance(H, C, eta, B)
    A = np.eye(d) - eta * H
    scale = np.abs(S).max()
    assert np.allclose(S, A @ S @ A.T + eta**2 * C / B, atol=1e-9 * scale)
    # the same equation rearranged: H S + S H - eta H S H = eta C / B
    assert np.allclose(H @ S + S @ H - eta * H @ S @ H, eta * C / B, atol=1e-8 * np.abs(C).max() * eta / B)
    # plain series sum_k A^k Q A^k as an independent reference
    ref, term = np.zeros((d, d)), eta**2 * C / B
    for _ in range(20000):
        ref += term
        term = A @ term @ A.T
        if np.abs(term).max() < 1e-18 * scale:
            break
    assert np.allclose(S, ref, atol=1e-9 * scale)
    Sc = th.continuous_covariance(H, C, eta, B)
    assert np.allclose(H @ Sc + Sc @ H, eta * C / B, atol=1e-9 * np.abs(C).max() * eta / B)


@given(st.integers(0, 10**6), st.integers(2, 4), st.floats(0.01, 0.9))
def test_current_is_minus_eta_commutator_and_vanishes_iff_C_commutes(seed, d, frac):
    H, C = _spd(seed, d), _psd(seed, d)
    eta = frac * 2 / np.linalg.eigvalsh(H)[-1]
    S = th.discrete_covariance(H, C, eta)
    ell = th.angular_momentum(S, H, eta)
    assert np.allclose(ell, -eta * th.commutator(S, H), atol=1e-12 * np.abs(S).max())
    assert np.allclose(ell, -ell.T)
    # the lag-one moment against the chain's own definition E[d_t d_(t+1)^T] = E[d_t (A d_t)^T]
    assert np.allclose(th.lag_one_moment(S, H, eta), S @ (np.eye(d) - eta * H).T)
    for C2 in (np.trace(C) / np.trace(H) * H, np.trace(C) / d * np.eye(d), H @ H):  # all commute with H
        S2 = th.discrete_covariance(H, C2, eta)
        assert np.abs(th.angular_momentum(S2, H, eta)).max() < 1e-10 * np.abs(S2).max()
    assert np.abs(ell).max() > 1e-6 * np.abs(S).max()  # a generic C does not commute with H


@given(st.integers(0, 10**6), st.integers(2, 4), st.floats(0.01, 0.9), st.floats(0.1, 5.0))
def test_closed_forms_for_commuting_noise(seed, d, frac, c):
    H = _spd(seed, d)
    eta = frac * 2 / np.linalg.eigvalsh(H)[-1]
    I = np.eye(d)
    S_iso = th.discrete_covariance(H, c * I, eta, 2)
    assert np.allclose(S_iso, eta * c / 2 * np.linalg.inv(H) @ np.linalg.inv(2 * I - eta * H), rtol=1e-8)
    S_h = th.discrete_covariance(H, c * H, eta, 2)
    assert np.allclose(S_h, eta * c / 2 * np.linalg.inv(2 * I - eta * H), rtol=1e-8)
    # Langevin: isotropic noise gives exactly T H^-1 (distance 0); C ∝ H gives T I (far from T H^-1)
    assert th.boltzmann_distance(th.continuous_covariance(H, c * I, eta), H) < 1e-10
    T, R = th.boltzmann_fit(S_h, H)
    assert abs(np.sum(R * np.linalg.inv(H))) < 1e-10 * np.linalg.norm(R) * np.linalg.norm(np.linalg.inv(H))


def test_boltzmann_fit_is_least_squares():
    H, S = _spd(3, 3), _psd(4, 3) + 0.1 * np.eye(3)
    T, R = th.boltzmann_fit(S, H)
    Hi = np.linalg.inv(H)
    for t in (T * 0.99, T * 1.01, 0.5 * T):
        assert np.linalg.norm(S - t * Hi) > np.linalg.norm(R)
    assert th.boltzmann_distance(2.5 * Hi, H) < 1e-12


def test_symbolic_covariance_matches_scipy_and_the_series():
    H = np.array([[2.0, 1.0], [1.0, 3.0]])
    C = np.diag([1.0, 0.25])
    sc = th.symbolic_covariance(H, C, 2)
    for eta in (0.05, 0.3):
        S_sym = np.array(sc.S.subs(sc.eta, sympy.Rational(eta).limit_denominator(1000)).evalf(), dtype=float)
        assert np.allclose(S_sym, th.discrete_covariance(H, C, eta, 2), rtol=1e-12)
    assert np.allclose(np.array(sc.S1.evalf(), dtype=float), th.continuous_covariance(H, C, 1.0, 2), rtol=1e-12)
    S1 = np.array(sc.S1.evalf(), dtype=float)
    S2 = np.array(sc.S2.evalf(), dtype=float)
    assert np.allclose(H @ S2 + S2 @ H, H @ S1 @ H)  # the next order of the series
    ident = th.symbolic_current_identities()
    assert ident["antisym_minus_commutator"] == sympy.zeros(2, 2)
    assert sympy.expand(ident["commutator_01"] - ident["commutator_01_expected"]) == 0
    eta, S, Hs = ident["symbols"]
    assert sympy.expand(ident["angular_momentum"] + eta * (S * Hs - Hs * S)[0, 1]) == 0


# -- the exact variances of the power calculation ----------------------------------------------------------------


def _stacked(S, A, n):
    d = S.shape[0]
    Sig = np.zeros((n * d, n * d))
    for s in range(n):
        for t in range(n):
            G = np.linalg.matrix_power(A, t - s) @ S if t >= s else (np.linalg.matrix_power(A, s - t) @ S).T
            Sig[t * d:(t + 1) * d, s * d:(s + 1) * d] = G
    return Sig


@given(st.integers(0, 10**6), st.integers(2, 3), st.floats(0.05, 1.9), st.integers(1, 12))
def test_exact_variances_against_the_stacked_gaussian(seed, d, eta_lam, n):
    H, C = _spd(seed, d), _psd(seed, d)
    eta = eta_lam / np.linalg.eigvalsh(H)[-1]
    S = th.discrete_covariance(H, C, eta)
    A = np.eye(d) - eta * H
    rng = np.random.default_rng(seed)
    Q = rng.standard_normal((d, d))
    Q = Q + Q.T
    J = rng.standard_normal((d, d))
    Sig = _stacked(S, A, n + 1)
    M = np.zeros_like(Sig)
    for t in range(n):
        M[t * d:(t + 1) * d, t * d:(t + 1) * d] = Q / n
    ref_q = 2 * np.trace(M @ Sig @ M @ Sig)
    M = np.zeros_like(Sig)
    for t in range(n):
        M[t * d:(t + 1) * d, (t + 1) * d:(t + 2) * d] += J / (2 * n)
        M[(t + 1) * d:(t + 2) * d, t * d:(t + 1) * d] += J.T / (2 * n)
    ref_j = 2 * np.trace(M @ Sig @ M @ Sig)
    tiny = 1e-14 * np.abs(S).max() ** 2
    assert th.time_average_variance(Q, S, H, eta, n) == pytest.approx(ref_q, rel=1e-9, abs=tiny)
    assert th.window_current_variance(J, S, H, eta, n) == pytest.approx(ref_j, rel=1e-9, abs=tiny)


def test_rejection_probability_and_detection_eta():
    z = 3.89
    assert th.rejection_probability(0.0, 1.0, z) == pytest.approx(2 * special.ndtr(-z), rel=1e-12)  # false alarm
    p = [th.rejection_probability(r, 1.0, z) for r in np.linspace(0, 12, 25)]
    assert all(a < b for a, b in zip(p, p[1:])) and p[-1] > 0.9999
    plan = [{"eta": e, "gap": g, "se": 1.0} for e, g in ((0.01, 1.0), (0.02, 2.0), (0.04, 8.0))]
    e = cl.predicted_detection_eta(plan, 4.0)
    assert 0.02 < e < 0.04 and e == pytest.approx(0.02 * 2 ** 0.5, rel=1e-12)  # log-log interpolation
    assert np.isnan(cl.predicted_detection_eta(plan, 20.0))


# -- bad inputs ---------------------------------------------------------------------------------------------------


GOOD = {"problem": {"H": [[2.0, 1.0], [1.0, 3.0]], "C": [[1.0, 0.0], [0.0, 0.25]]},
        "experiment": {"eta": 0.15, "etas": [0.001 * 2**k for k in range(9)]}}


def _cfg(problem=None, experiment=None, drop=()):
    cfg = {"problem": {**GOOD["problem"], **(problem or {})},
           "experiment": {**GOOD["experiment"], **(experiment or {})}}
    for sec, key in drop:
        cfg[sec].pop(key)
    return cfg


@pytest.mark.parametrize("cfg, message", [
    (_cfg(drop=[("problem", "C")]), "problem.C: required"),
    (_cfg(drop=[("experiment", "etas")]), "experiment.etas: required"),
    (_cfg(problem={"sigma": 1.0}), "problem.sigma: unknown field"),
    (_cfg(problem={"H": [[1.0]], "C": [[1.0]]}), "problem.H: d = 1 is out of range"),
    (_cfg(problem={"H": [[2.0, 0.0], [0.0, 2.0]]}), "problem.H: eigenvalues must be distinct"),
    (_cfg(problem={"H": [[2.0, 1.0], [1.0, -3.0]]}), "problem.H:"),
    (_cfg(problem={"C": [[1.0, 0.0], [0.0, -0.25]]}), "problem.C: must be positive semidefinite"),
    (_cfg(problem={"C": [[2.0, 1.0], [1.0, 3.0]]}), "problem.C: must not commute with H"),
    (_cfg(problem={"C": [[1.0, 0.0], [0.0, 0.98]]}), "problem.C: the normalised commutator"),
    (_cfg(experiment={"eta": 0.6}), "experiment.eta = 0.6 is out of range"),
    (_cfg(experiment={"batch_size": 0}), "experiment.batch_size = 0 is out of range"),
    (_cfg(experiment={"etas": [0.01, 0.02]}), "experiment.etas: need at least 3"),
    (_cfg(experiment={"etas": [0.01, 0.02, 0.7]}), "experiment.etas: need at least 3"),
    (_cfg(experiment={"etas": [0.001, 0.0015, 0.002]}), "experiment.etas: no learning rate is large enough"),
    (_cfg(experiment={"etas": [1e-5, 0.1, 0.2]}), "experiment.etas: the sweep would need"),
])
def test_bad_configs_name_the_parameter(cfg, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(".", r"\.")):
        cl.instance_from_config(cfg)


def test_theory_errors_name_the_parameter():
    H = np.array([[2.0, 1.0], [1.0, 3.0]])
    with pytest.raises(SgdTheoryError, match="eta = 0.6 is out of range"):
        th.discrete_covariance(H, np.eye(2), 0.6)
    with pytest.raises(SgdTheoryError, match="batch_size = 0 is out of range"):
        th.discrete_covariance(H, np.eye(2), 0.1, 0)
    with pytest.raises(SgdTheoryError, match="H, C: expected two square matrices"):
        th.continuous_covariance(H, np.eye(3), 0.1)


# -- the claim --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quick_result(quick_claims):
    return quick_claims["B2"]


def test_default_instance_quick_as_expected(quick_result):
    bad = [(c.name, c.verdict, str(c.estimate)) for c in quick_result.checks if not c.as_expected]
    assert not bad, bad
    roles = [c.role for c in quick_result.checks]
    assert roles.count(NEGATIVE_CONTROL) >= 8 and roles.count(CLAIM) >= 20
    sweep = quick_result.data["sweep"]
    # the plan gave the Langevin check both roles (approximation at small eta, negative control where the exact
    # claim resolves it), and the observed first rejection lies after the last eta planned adequate
    rows = sweep["rows"]
    last_adequate = max(r["eta"] for r in rows if r["role"] == APPROXIMATION and r.get("expect") == ADEQUATE)
    first_control = min(r["eta"] for r in rows if r["role"] == NEGATIVE_CONTROL)
    assert last_adequate < sweep["first_grid_eta_observed"] <= first_control
    assert last_adequate < sweep["eta_detect_predicted"] < first_control
    for r in rows:
        if r["role"] == NEGATIVE_CONTROL:
            assert abs(r["gap"]) >= cl.CONTROL_GAP * r["half_width_exact"]
    for r in rows:  # the replica half-width is the exact one (t quantile, sample sd) to within sampling error
        hw = 0.5 * (r["estimate"]["high"] - r["estimate"]["low"])
        assert hw == pytest.approx(r["half_width_exact"], rel=0.25)


def test_current_and_commutator_checks(quick_result):
    by = {c.name: c for c in quick_result.checks}
    gen = by["mean angular momentum (probability current) [0,1] = -eta [S, H] (C (user), eta = 0.15)"]
    assert gen.prediction < -0.1 and gen.verdict == "verified"
    for key in ("C ∝ H", "C ∝ I"):
        c = by[f"mean angular momentum (probability current) [0,1] = -eta [S, H] ({key}, eta = 0.15)"]
        assert abs(c.prediction) < 1e-12 and c.verdict == "verified" and c.estimate.half_width <= 0.01
    ctrl = by["control (CLAIMS.md B2 wording, 'T H^-1 when C ∝ H'): b = 0 (C ∝ H, eta = 0.15)"]
    assert ctrl.verdict == "rejected"


def test_derivation_and_figure(quick_result, tmp_path):
    text = REGISTRY["B2"].derive(cl.default_instance())
    assert "S_1 = [[1/8, 0], [0, 1/8]]" in text  # C ∝ H: isotropic, not T H^-1
    assert "antisym(S A^T) + eta [S, H]/2 = [[0, 0], [0, 0]]" in text
    assert REGISTRY["B2"].derive(cl.default_instance(), latex=True).startswith("\\begin{verbatim}")
    paths = REGISTRY["B2"].figure(quick_result, tmp_path)
    assert [Path(p).suffix for p in paths] == [".png", ".pdf"] * 2 and Path(paths[0]).stat().st_size > 20_000
    assert Path(paths[3]).stem == Path(paths[1]).stem + "_more"  # secondary panels: the paper's appendix


def test_user_config_via_cli(tmp_path):
    out = tmp_path / "out"
    code = main(["verify", "B2", "--quick", "--config", str(CONFIG), "--out", str(out), "--no-progress",
                 "--no-figures"])
    rec = json.loads((out / "B2.json").read_text())
    assert code == 0, [(c["name"], c["verdict"], c["expected"]) for c in rec["checks"] if c["verdict"] != c["expected"]]
    assert rec["parameters"]["d"] == 3 and rec["parameters"]["batch_size"] == 2
    inst = cl.instance_from_config(load(CONFIG))
    assert inst.name.startswith("three-dimensional")


def test_a_wrong_current_sign_is_caught(monkeypatch, reuse_monte_carlo):
    """l = +eta [S, H] (the sign of the rotation wrong) turns B2 UNEXPECTED."""
    inst = cl.default_instance()
    true = th.angular_momentum
    monkeypatch.setattr(th, "angular_momentum", lambda S, H, eta: -true(S, H, eta))
    assert REGISTRY["B2"].run(inst, QUICK).status != AS_EXPECTED


@pytest.mark.parametrize("wrong", ["langevin", "no_eta2"])
def test_a_wrong_covariance_is_caught(monkeypatch, wrong, reuse_monte_carlo):
    """The Langevin solution (or eta C/B instead of eta^2 C/B) used as 'exact' fails the main-eta checks."""
    inst = cl.default_instance()
    true = th.discrete_covariance
    if wrong == "langevin":
        monkeypatch.setattr(th, "discrete_covariance", lambda H, C, eta, B=1: th.continuous_covariance(H, C, eta, B))
    else:
        monkeypatch.setattr(th, "discrete_covariance", lambda H, C, eta, B=1: true(H, C, eta, B) / eta)
    checks = cl._case_checks(inst, inst.case("user"), 1, QUICK, {"cases": {}})
    assert any(not c.as_expected for c in checks)
