"""Claim A6 (gradient-flow limits): the exact theory against brute force and plain-numpy / scipy
references, bad inputs, the user config through the CLI, and perturbed theories that the claim must
catch."""

import itertools
import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import sgdtheory.claims.gradient_flow as a6
from sgdtheory.claims import Settings
from sgdtheory.claims.base import AS_EXPECTED, CLAIM, NEGATIVE_CONTROL
from sgdtheory.cli import main
from sgdtheory.errors import ConfigError, SgdTheoryError
from sgdtheory.problems import QuadraticFiniteSum
from sgdtheory.theory import gradient_flow as gf
from sgdtheory.theory.quadratic_basin import QuadraticBasin

QUICK = Settings(quick=True)
CONFIG = "experiments/configs/gradient_flow.toml"


def _spd(seed, d):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(d, d))
    return A @ A.T / d + 0.3 * np.eye(d)


def _basin(seed, n=3, d=2, B=1, scheme="with_replacement"):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, d, d)) * 0.6
    p = QuadraticFiniteSum(rng.normal(size=(n, d)), np.einsum("iab,icb->iac", A, A) + 0.2 * np.eye(d)).at_minimum()
    return QuadraticBasin(p.g, p.H, B, scheme)


# ------------------------------------------------------------------ theory: Euler on a quadratic


def test_sympy_series_coefficients():
    import sympy

    x, c1, c2 = gf.euler_series_coefficients()
    assert sympy.simplify(c1 + x**2 / 2) == 0
    assert sympy.simplify(c2 - (x**4 / 8 - x**3 / 3)) == 0


@given(st.floats(0.05, 6.0), st.integers(200, 5000))
def test_series_matches_the_scalar_euler_factor(x, N):
    """(1 - x/N)^N e^x = 1 + c1/N + c2/N^2 + O(N^-3), in 50-digit arithmetic."""
    import mpmath

    with mpmath.workdps(50):
        exact = mpmath.power(1 - mpmath.mpf(x) / N, N) * mpmath.exp(x)
        approx = 1 - mpmath.mpf(x) ** 2 / (2 * N) + (mpmath.mpf(x) ** 4 / 8 - mpmath.mpf(x) ** 3 / 3) / N**2
        assert abs(float(exact - approx)) < 2 * (1 + x) ** 6 / N**3


@given(st.integers(0, 10_000), st.integers(1, 3), st.floats(0.1, 4.0), st.integers(1, 600))
def test_exact_euler_error_matches_plain_numpy(seed, d, t, N):
    H = _spd(seed, d)
    d0 = np.random.default_rng(seed + 1).normal(size=d)
    ref = np.linalg.norm(np.linalg.matrix_power(np.eye(d) - t / N * H, N) @ d0 - gf.flow_deviation(H, d0, t))
    got = gf.euler_error(H, d0, t, N)
    assert got == pytest.approx(ref, rel=1e-8, abs=1e-14)


@given(st.integers(0, 10_000), st.integers(1, 3), st.floats(0.2, 3.0))
def test_euler_expansion_to_second_order(seed, d, t):
    """N e(N) = C1 (1 + kappa/N) + O(N^-2) at N = 2^12, 2^13: the second-order theory is right."""
    H = _spd(seed, d)
    d0 = np.random.default_rng(seed + 1).normal(size=d)
    ex = gf.euler_expansion(H, d0, t)
    assert ex.C1 == pytest.approx(t**2 / 2 * np.linalg.norm(H @ H @ gf.flow_deviation(H, d0, t)), rel=1e-12)
    for N in (2**12, 2**13):
        q = N * gf.euler_error(H, d0, t, N)
        assert abs(q - ex.C1 * (1 + ex.kappa / N)) < 50 * ex.C1 * (1 + abs(ex.kappa)) ** 2 / N**2 + 1e-13


def test_richardson_bounds_its_error():
    q = lambda N: 3.0 + 2.0 / N + 5.0 / N**2  # noqa: E731
    value, bound = gf.richardson(q(1000), q(2000), q(500))
    assert abs(value - 3.0) <= bound and bound < 2e-3
    value2, bound2 = gf.richardson(q(1000), q(2000))
    assert abs(value2 - 3.0) <= bound2 and bound2 <= bound


# ------------------------------------------------------------------ theory: SGD with steps t/N


@given(st.integers(0, 10_000), st.floats(0.2, 2.0), st.integers(1, 4))
def test_sgd_mse_equals_exact_enumeration(seed, t, N):
    """E|w_N - Phi(t)|^2 by enumerating all n^N sequences of single examples (batch 1, with replacement)."""
    basin = _basin(seed, n=3)
    d0 = np.random.default_rng(seed + 2).normal(size=basin.d)
    phi = gf.flow_deviation(basin.mean_hessian, d0, t)
    eta = t / N
    total = 0.0
    for seq in itertools.product(range(basin.n), repeat=N):
        delta = d0.copy()
        for i in seq:
            delta = delta - eta * (basin.G[i] + basin.H[i] @ delta)
        total += np.sum((delta - phi) ** 2)
    ref = total / basin.n**N
    assert gf.sgd_mse_to_flow(basin, d0, t, N) == pytest.approx(ref, rel=1e-10, abs=1e-13)


@given(st.integers(0, 10_000), st.integers(1, 3), st.sampled_from(["with_replacement", "without_replacement"]),
       st.floats(0.2, 2.0), st.integers(1, 300))
def test_covariance_form_equals_the_moment_recursion(seed, B, scheme, t, N):
    """``sgd_covariance`` (C_N directly, matrix power) against ``SGDMoments`` (S_N - m_N m_N^T)."""
    from sgdtheory.schedules import Constant
    from sgdtheory.theory.sgd_moments import SGDMoments

    basin = _basin(seed, n=4, d=2, B=B, scheme=scheme)
    d0 = np.random.default_rng(seed + 3).normal(size=basin.d)
    path = SGDMoments(basin).run(Constant(t / N), d0, [N])
    ref = path.second[0] - np.outer(path.mean[0], path.mean[0])
    np.testing.assert_allclose(gf.sgd_covariance(basin, d0, t, N), ref, rtol=1e-8, atol=1e-13)
    assert gf.sgd_mse_to_flow_cov(basin, d0, t, N) == pytest.approx(gf.sgd_mse_to_flow(basin, d0, t, N), rel=1e-8)


def _reference_linear_noise(basin, d0, t, frozen=False):
    """V(t) by solve_ivp on V' = -(H V + V H) + c_B Cov_i(g_i + H_i Delta(s)), written term by term."""
    from scipy.integrate import solve_ivp
    from scipy.linalg import expm

    H, G, Hs, c, d = basin.mean_hessian, basin.G, basin.H, basin.batch_factor, basin.d

    def rhs(s, v):
        V = v.reshape(d, d)
        delta = expm(-s * H) @ d0
        X = G + (Hs @ delta if not frozen else 0.0)
        grads = X - (H @ delta if not frozen else 0.0)  # g_i + H_i Delta - Hbar Delta (mean zero)
        cov = grads.T @ grads / basin.n
        return (-(H @ V + V @ H) + c * cov).ravel()

    sol = solve_ivp(rhs, (0.0, t), np.zeros(d * d), method="DOP853", rtol=1e-11, atol=1e-13)
    return sol.y[:, -1].reshape(d, d)


@pytest.mark.parametrize("B, scheme", [(1, "with_replacement"), (2, "without_replacement")])
@pytest.mark.parametrize("frozen", [False, True])
def test_linear_noise_covariance_matches_an_ode_reference(B, scheme, frozen):
    basin = _basin(7, n=4, d=2, B=B, scheme=scheme)
    d0 = np.array([1.0, -0.7])
    got = gf.linear_noise_covariance(basin, d0, 1.3, frozen=frozen)
    np.testing.assert_allclose(got, _reference_linear_noise(basin, d0, 1.3, frozen), rtol=1e-8, atol=1e-11)


def test_sgd_mse_scales_like_the_linear_noise_limit():
    basin = _basin(3, n=4, d=2)
    d0 = np.array([1.2, 0.4])
    lim = gf.sgd_mse_limit(basin, d0, 1.5)
    q = [N * gf.sgd_mse_to_flow(basin, d0, 1.5, N) for N in (2048, 4096)]
    assert abs(2 * q[1] - q[0] - lim) < 1e-4 * lim
    assert abs(q[1] - lim) < 0.05 * lim
    qc = [N * gf.sgd_mse_to_flow_cov(basin, d0, 1.5, N) for N in (2**14, 2**15)]
    assert abs(2 * qc[1] - qc[0] - lim) < 1e-6 * lim


# ------------------------------------------------------------------ theory: progress, l = exp(-Phi)


def test_progress_identity_and_integrals():
    import sympy

    x, y, loss, grad, dl_dt, residual = gf.progress_identity()
    assert residual == 0
    rng = np.random.default_rng(0)
    f = sympy.lambdify((x, y), dl_dt + grad[0] ** 2 + grad[1] ** 2)
    assert max(abs(f(*rng.normal(size=2) * 2)) for _ in range(20)) < 1e-9
    r = gf.progress_integrals()
    assert abs(r["change"] - r["dl_dt_integral"]) < 1e-9
    assert r["dl_dt_integral"] == pytest.approx(r["minus_sq_integral"], rel=1e-12)
    assert np.all(np.diff(r["loss"]) <= 1e-12)  # l is non-increasing along the flow


def test_exponential_flow_sympy():
    import sympy

    ef = gf.exponential_flow()
    t, phi0 = ef["t"], ef["phi0"]
    assert sympy.simplify(ef["phi"] - sympy.log(t + sympy.exp(phi0))) == 0
    assert ef["checkodesol"][0]
    assert ef["lim_loss"] == 0 and ef["lim_phi"] == sympy.oo and ef["lim_phi_minus_log"] == 0
    assert sympy.simplify(ef["lim_doubling"] - sympy.log(2)) == 0
    E = ef["euler_error"]
    u0 = ef["u0"]
    resid = sympy.diff(E, t) - (-E / (t + u0) + 1 / (2 * (t + u0) ** 2))
    assert sympy.simplify(resid) == 0 and E.subs(t, 0) == 0


@given(st.floats(0.5, 50.0), st.floats(-1.0, 2.0))
def test_exponential_euler_converges_at_the_predicted_rate(t, phi0):
    import sympy

    ef = gf.exponential_flow()
    lim = float((ef["t"] * ef["euler_error"]).subs({ef["t"]: t, ef["u0"]: sympy.exp(sympy.Float(phi0))}))
    N = 4096
    q = N * (gf.exponential_euler(t, N, phi0) - float(gf.exponential_closed_form(t, phi0)))
    assert abs(q - lim) < 0.01 * abs(lim) + 1e-6


# ------------------------------------------------------------------ instance and config errors


def test_bad_inputs_name_the_parameter():
    p = a6.default_a6().problem
    with pytest.raises(SgdTheoryError, match="t = -1"):
        a6.GradientFlowInstance(p, t=-1.0)
    with pytest.raises(SgdTheoryError, match="t = 1000"):
        a6.GradientFlowInstance(p, t=1000.0)
    with pytest.raises(SgdTheoryError, match="delta0"):
        a6.GradientFlowInstance(p, delta0=[0.0, 0.0])
    with pytest.raises(SgdTheoryError, match="delta0"):
        a6.GradientFlowInstance(p, delta0=[1.0, 2.0, 3.0])
    from sgdtheory.sampling import Sampler

    with pytest.raises(SgdTheoryError, match="sampling"):
        a6.GradientFlowInstance(p, Sampler(1, "cyclic"))
    with pytest.raises(SgdTheoryError, match="batch_size = 6"):
        a6.GradientFlowInstance(p, Sampler(6, "without_replacement"))
    with pytest.raises(SgdTheoryError, match="no gradient noise"):
        a6.GradientFlowInstance(QuadraticFiniteSum([[0.0, 0.0], [0.0, 0.0]], [[[1.0, 0.0], [0.0, 2.0]]] * 2))
    with pytest.raises(SgdTheoryError, match="N = 0"):
        gf.euler_error(np.eye(2), np.ones(2), 1.0, 0)
    with pytest.raises(SgdTheoryError, match="Hbar"):
        gf.flow_deviation(-np.eye(2), np.ones(2), 1.0)


@pytest.mark.parametrize("extra, field", [("t = -2.0", "experiment.t"), ("t = 'x'", "experiment.t"),
                                          ("delta0 = [1.0]", "experiment.delta0"), ("eta = [0.1]", "experiment.eta"),
                                          ("gamma = 1", "experiment.gamma"), ("t = 50.0", "experiment.t")])
def test_config_errors(extra, field):
    cfg = {"problem": {"X": [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], "y": [1.0, 0.0, 2.0]}}
    import tomllib

    cfg["experiment"] = tomllib.loads(extra)
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        a6.a6_from_config(cfg)


def test_cli_bad_config_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[problem]\ng = [[1.0, 0.0]]\nH = [[[1.0, 0.0], [0.0, 1.0]]]\n[experiment]\nt = 0.0\n")
    assert main(["verify", "A6", "--quick", "--config", str(bad), "--no-progress"]) == 2
    assert "experiment.t" in capsys.readouterr().err


# ------------------------------------------------------------------ the claim


@pytest.fixture(scope="module")
def default_result(quick_claims):
    return quick_claims["A6"]


def test_default_quick_run_is_as_expected(default_result, tmp_path):
    bad = [(c.name, c.verdict, str(c.estimate)) for c in default_result.checks if not c.as_expected]
    assert not bad, bad
    roles = [c.role for c in default_result.checks]
    assert roles.count(NEGATIVE_CONTROL) >= 6 and roles.count(CLAIM) >= 10
    paths = a6._figure(default_result, tmp_path)
    assert any(p.endswith(".png") for p in paths) and any(p.endswith(".pdf") for p in paths)


def test_user_config_through_the_cli(tmp_path):
    out = tmp_path / "out"
    code = main(["verify", "A6", "--quick", "--config", CONFIG, "--out", str(out), "--no-progress", "--no-figures"])
    rec = json.loads((out / "A6.json").read_text())
    assert rec["parameters"]["d"] == 3 and rec["parameters"]["batch_size"] == 2
    assert rec["parameters"]["sampling"] == "without_replacement" and rec["parameters"]["t"] == 3.0
    assert code == 0, [(c["name"], c["verdict"], c["expected"]) for c in rec["checks"]]


@pytest.mark.parametrize("target, factor", [
    ("sgd_mse_limit", 1.05),      # a 5% error in the linear-noise constant
    ("sgd_mse_curve", 1.25),      # the exact finite-N MSE off by 25%
    ("exponential_euler_limit", 1.02),
])
def test_a_perturbed_theory_is_caught(monkeypatch, target, factor):
    true = getattr(gf, target)
    monkeypatch.setattr(gf, target, lambda *a, **k: factor * true(*a, **k))
    assert a6.run_a6(a6.default_a6(), QUICK).status != AS_EXPECTED


def test_a_wrong_euler_constant_is_caught(monkeypatch):
    """C1 with t^2 instead of t^2/2 (a plausible slip in the series)."""
    true = gf.euler_expansion

    def wrong(H, d0, t):
        e = true(H, d0, t)
        return gf.EulerExpansion(2 * e.C1, 2 * e.v1, e.v2)

    monkeypatch.setattr(gf, "euler_expansion", wrong)
    result = a6.run_a6(a6.default_a6(), QUICK)
    assert result.verdict_of("Euler: N e(N) -> C1 = t^2/2 |Hbar^2 e^(-t Hbar) delta0| (SymPy series)") == "rejected"


def test_frozen_control_left_out_when_indistinguishable():
    """All H_i equal: the state-dependent part of the noise vanishes, so the frozen-noise control
    coincides with the true limit and is left out (with a note), not reported as a failure."""
    g = [[1.0, 0.5], [-0.8, 1.2], [-0.2, -1.7]]
    H = [[[1.0, 0.2], [0.2, 0.8]]] * 3
    inst = a6.GradientFlowInstance(QuadraticFiniteSum(g, H), t=1.5)
    assert math.isclose(gf.sgd_mse_limit(inst.basin, inst.delta0, inst.t),
                        gf.sgd_mse_limit(inst.basin, inst.delta0, inst.t, frozen=True), rel_tol=1e-12)
    result = a6.run_a6(inst, QUICK)
    assert result.status == AS_EXPECTED
    assert not any("frozen" in c.name for c in result.checks)
    assert any("left out" in c.note for c in result.checks)
