"""Claims C3, C4, C5 (batch-size scaling): the theory against plain numpy / SymPy / enumeration references, the
quick claim runs, perturbed theories that the claims must catch, bad inputs, and the user config via the CLI."""

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

import sgdtheory.claims.batch_scaling as cb
from sgdtheory.claims import REGISTRY, Settings
from sgdtheory.claims.base import APPROXIMATION, AS_EXPECTED, CLAIM, DETECTABLY_WRONG, NEGATIVE_CONTROL
from sgdtheory.cli import main
from sgdtheory.config import load
from sgdtheory.errors import ConfigError, SgdTheoryError
from sgdtheory.problems import QuadraticFiniteSum
from sgdtheory.schedules import Constant
from sgdtheory.theory import batch_scaling as bs
from sgdtheory.theory.quadratic_basin import QuadraticBasin
from sgdtheory.theory.sgd_moments import SGDMoments, reference_moment_step

QUICK = Settings(quick=True)
CONFIG = Path(__file__).resolve().parent.parent / "experiments" / "configs" / "batch_scaling.toml"


def _problem(seed: int, n: int = 5, d: int = 2) -> QuadraticFiniteSum:
    rng = np.random.default_rng(seed)
    g = rng.standard_normal((n, d))
    H = []
    for _ in range(n):
        M = rng.standard_normal((d, d))
        H.append(M @ M.T / d + 0.5 * np.eye(d))
    return QuadraticFiniteSum(g, np.array(H))


# -- C3 theory ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("B", [2, 3, 4])
def test_symbolic_one_vs_many(B):
    r = bs.symbolic_one_vs_many(B)
    assert r["coeffs"][0] == 0 and r["coeffs"][1] == 0
    assert r["eta2_residual"] == 0 and r["control_eta1_residual"] == 0
    assert sympy.Symbol("H2", commutative=False) in r["eta2_closed"].free_symbols


@given(st.integers(0, 10**6), st.integers(2, 5), st.floats(1e-3, 0.2))
def test_polynomial_difference_is_the_composed_steps(seed, B, eta):
    p = _problem(seed)
    rng = np.random.default_rng(seed + 1)
    order = rng.integers(0, p.n, B)
    x0 = rng.standard_normal(p.d)
    for scaled in (True, False):
        poly = bs.polynomial_difference(p, order, x0, scaled)
        val = sum(poly[k] * eta**k for k in range(poly.shape[0]))
        ref = bs.one_vs_many_difference(p, order, x0, eta, scaled)
        assert np.allclose(val, ref, atol=1e-12 * (1 + np.abs(ref).max()))
    poly = bs.polynomial_difference(p, order, x0, True)
    G, H = p.gradients(x0)[order], p.H[order]
    assert np.allclose(poly[1], 0.0, atol=1e-12 * (1 + np.abs(G).max()))
    assert np.allclose(poly[2], bs.eta2_coefficient(G, H))
    # plain reference for the eta^2 coefficient: the double sum written out
    ref2 = sum(H[k] @ G[j] for k in range(B) for j in range(k))
    assert np.allclose(poly[2], ref2)
    unscaled = bs.polynomial_difference(p, order, x0, False)
    assert np.allclose(unscaled[1], -(B - 1) * G.mean(axis=0))


@given(st.integers(0, 10**6), st.integers(1, 4), st.floats(0.01, 0.2))
def test_stationary_moments_are_the_fixed_point_of_the_recursion(seed, B, frac):
    p = _problem(seed).at_minimum()
    basin = QuadraticBasin(p.g, p.H, B, "with_replacement")
    lam = np.linalg.eigvalsh(basin.mean_hessian)[-1]
    eta = frac / lam
    m, S = bs.stationary_second_moments(basin, eta)
    m2, S2 = reference_moment_step(basin, eta, m, S)
    assert np.allclose(m2, m, atol=1e-14) and np.allclose(S2, S, atol=1e-12 * np.abs(S).max())
    # first order: E L - L* = (eta/B) tr Sigma/4 + O(eta^2)
    E = bs.stationary_excess(basin, eta)
    first = eta / B * bs.first_order_excess_coefficient(basin)
    assert abs(E / first - 1) < 5 * eta * lam


def test_staged_moments_match_sgd_moments():
    p = cb.default_problem()
    km = p.kernel_data()
    delta0 = np.array([1.0, -2.0]) - km.w_star
    st1 = [bs.Stage(0.05, 2, 3)]
    ex = bs.staged_moments(km.A, km.Hs, st1, delta0)
    ref = SGDMoments(QuadraticBasin(km.A, km.Hs, 2, "with_replacement")).run(Constant(0.05), delta0, [0, 4, 8, 12])
    assert np.allclose(ex, ref.excess_loss, rtol=1e-12)
    # two stages against the term-by-term recursion
    stages = [bs.Stage(0.1, 1, 1), bs.Stage(0.1, 2, 1)]
    ex2 = bs.staged_moments(km.A, km.Hs, stages, delta0)
    m, S = delta0.copy(), np.outer(delta0, delta0)
    for s in stages:
        basin = QuadraticBasin(km.A, km.Hs, s.batch, "with_replacement")
        for _ in range(p.n // s.batch):
            m, S = reference_moment_step(basin, s.eta, m, S)
    assert ex2[-1] == pytest.approx(0.5 * np.trace(p.mean_hessian @ S), rel=1e-10)


def test_schedules_match_the_noise_scale():
    n = 16
    dec, grow, both = (bs.schedule(k, 0.1, 1, 2, 4, 3) for k in ("decay", "grow", "grow_and_decay"))
    assert [bs.noise_scale(s, n) for s in dec] == pytest.approx([bs.noise_scale(s, n) for s in grow])
    assert bs.noise_scale(both[2], n) == pytest.approx(bs.noise_scale(dec[2], n) / 4)
    assert bs.updates(grow, n) == 3 * (16 + 8 + 4 + 2) and bs.updates(dec, n) == 3 * 4 * 16


# -- C4 theory ---------------------------------------------------------------------------------------------------


@given(st.integers(0, 10**6), st.floats(0.01, 0.3), st.floats(0.3, 0.95), st.integers(1, 4))
def test_heavy_ball_covariance_against_the_series(seed, lr_frac, beta, B):
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((2, 2))
    H = M @ M.T + 0.3 * np.eye(2)
    C = np.cov(rng.standard_normal((2, 5)))
    lr = lr_frac * (1 - beta) / np.linalg.eigvalsh(H)[-1]
    S = bs.heavy_ball_covariance(H, C, lr, beta, B)
    A = np.block([[np.eye(2) - lr * H, -lr * beta * np.eye(2)], [H, beta * np.eye(2)]])
    K = np.vstack([-lr * np.eye(2), np.eye(2)])
    Q = K @ C @ K.T / B
    assert np.allclose(S, A @ S @ A.T + Q, atol=1e-10 * np.abs(S).max())
    ref, term = np.zeros((4, 4)), Q
    for _ in range(200000):
        ref += term
        term = A @ term @ A.T
        if np.abs(term).max() < 1e-16 * np.abs(ref).max():
            break
    assert np.allclose(S, ref, atol=1e-8 * np.abs(S).max())


def test_heavy_ball_parameterisation_is_mcallesters():
    """mu_t = (1 - 1/N) mu + g/N, Phi -= eta' mu  ==  v = beta v + g, Phi -= lr v (one deterministic path)."""
    rng = np.random.default_rng(3)
    g = rng.standard_normal(50)
    ep, N = 0.3, 7.0
    lr, beta = bs.heavy_ball_params(ep, N)
    mu = v = phi1 = phi2 = 0.0
    for x in g:
        mu = (1 - 1 / N) * mu + x / N
        phi1 -= ep * mu
        v = beta * v + x
        phi2 -= lr * v
    assert phi1 == pytest.approx(phi2, rel=1e-12) and mu == pytest.approx(v / N)


@given(st.floats(0.1, 5.0), st.integers(5, 500), st.integers(1, 8))
def test_ema_variances(sigma2, N, B):
    assert bs.ema_noise_variance(sigma2, N, B) == pytest.approx(bs.ema_stationary_variance(sigma2 / B, N))
    assert bs.ema_noise_variance(sigma2, N, B) == pytest.approx(sigma2 / (B * (2 * N - 1)))
    assert bs.ema_noise_variance(sigma2, N / B, B) == pytest.approx(sigma2 / (2 * N - B))


@given(st.integers(0, 10**6), st.integers(1, 3))
def test_batch_mean_square_moments_by_enumeration(seed, B):
    rng = np.random.default_rng(seed)
    g = rng.standard_normal(4) + 0.5
    sq = np.array([np.mean(t) ** 2 for t in itertools.product(g, repeat=B)])
    mean, var = bs.batch_mean_square_ema(g, 1.0, B)  # N = 1: s = g_B^2 itself
    assert mean == pytest.approx(sq.mean()) and var == pytest.approx(sq.var(), rel=1e-9, abs=1e-12)
    m1, v1 = bs.per_example_square_ema(g**2, 1.0)
    assert m1 == pytest.approx(np.mean(g**2)) and v1 == pytest.approx(np.var(g**2))


# -- the claims ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quick_results(quick_claims):
    return {cid: quick_claims[cid] for cid in ("C3", "C4", "C5")}


@pytest.mark.parametrize("cid", ["C3", "C4", "C5"])
def test_default_instance_quick_as_expected(quick_results, cid):
    r = quick_results[cid]
    bad = [(c.name, c.verdict, c.expected) for c in r.checks if not c.as_expected]
    assert r.status == AS_EXPECTED, bad
    assert any(c.role == NEGATIVE_CONTROL for c in r.checks) and any(c.role == CLAIM for c in r.checks)


def test_key_checks(quick_results):
    c3 = {c.name: c for c in quick_results["C3"].checks}
    # first-order statements are approximations with planned expectations, never claim checks
    assert any("linear scaling to first order: MC excess loss" in n and c.role == APPROXIMATION for n, c in c3.items())
    assert not any("first order" in n and c.role == CLAIM and c.estimate.level < 1 for n, c in c3.items())
    c4 = quick_results["C4"].checks
    assert any(c.name.startswith("N_mu,B = N_mu,1/B to first order: MC tr Cov(mu)") and c.role == APPROXIMATION
               for c in c4)
    ctrl = [c for c in c4 if c.name.startswith("control: unscaled horizon N_B = N_1: MC tr Cov(mu)")]
    assert ctrl and ctrl[0].verdict == "rejected"
    c5 = quick_results["C5"]
    assert c5.data["updates"]["grow"] < c5.data["updates"]["decay"]


def test_c5_headline_is_made_in_quick_mode_and_resolves_the_wrong_answers(quick_results):
    """Issue 13 items 1-2: grow - decay (common random numbers) is a claim check in quick mode, the main check; its
    interval excludes 0 (the first-order equality taken as exact, an approximation expected detectably wrong) and the
    noiseless gradient-descent difference (the near control, >= 3 planned half-widths away)."""
    r = quick_results["C5"]
    main_check = r.main_check
    assert main_check.role == CLAIM and "MC 'grow' - MC 'decay'" in main_check.name
    assert main_check.verdict == "verified" and main_check.estimate.half_width < 0.05 * abs(main_check.prediction)
    assert not main_check.estimate.contains(0.0)
    zero = [c for c in r.checks if c.name.startswith("first order as exact") and c.against == main_check.name]
    assert zero and zero[0].role == APPROXIMATION and zero[0].expected == DETECTABLY_WRONG
    near = [c for c in r.checks if c.role == NEGATIVE_CONTROL and c.against == main_check.name]
    assert near and near[0].verdict == "rejected" and 2.0 <= near[0].distance_half_widths <= 10.0


def test_c5_roles_do_not_depend_on_the_seed(quick_results):
    """The plan (pilot on its own seed stream, exact gaps) fixes the same (check, role, expected) list for a fresh seed."""
    other = REGISTRY["C5"].run(cb.default_c5(), Settings(quick=True, seed=12345))
    assert [(c.name, c.role, c.expected) for c in other.checks] == \
        [(c.name, c.role, c.expected) for c in quick_results["C5"].checks]


@given(st.floats(0.05, 0.95), st.floats(0.1, 3.0), st.floats(0.2, 5.0))
def test_planned_time_average_half_width_against_the_lag_sum(a, s2, qv):
    """1-D Gaussian AR(1) x' = a x + noise, Var x = s2: Cov(x_0^2, x_k^2) = 2 s2^2 a^(2k), so the long-run variance of
    the time average of q x^2 over T steps is q^2 2 s2^2 (1 + a^2)/(1 - a^2) / T."""
    T, P = 1000, 100
    hw = cb.planned_time_average_half_width([[a]], [[s2]], [[qv]], T, P, 0.9999)
    var = qv**2 * 2 * s2**2 * (1 + a**2) / (1 - a**2) / T
    assert hw == pytest.approx(cb.replica_quantile(0.9999, P) * np.sqrt(var / P), rel=1e-9)


def test_derivations_and_figures(quick_results, tmp_path):
    assert "H2*a1" in REGISTRY["C3"].derive(cb.default_c3())
    assert "N_1/B" in REGISTRY["C4"].derive(cb.default_c4())
    assert REGISTRY["C5"].derive(cb.default_c5(), latex=True).startswith("\\begin{verbatim}")
    for cid, r in quick_results.items():
        paths = REGISTRY[cid].figure(r, tmp_path)
        assert [Path(p).suffix for p in paths] == [".png", ".pdf"] and Path(paths[0]).stat().st_size > 20_000


def test_a_wrong_stationary_excess_is_caught(monkeypatch, reuse_monte_carlo):
    true = bs.stationary_excess
    monkeypatch.setattr(bs, "stationary_excess", lambda basin, eta: 1.1 * true(basin, eta))
    assert REGISTRY["C3"].run(cb.default_c3(), QUICK).status != AS_EXPECTED


def test_a_wrong_staged_moment_is_caught(monkeypatch, reuse_monte_carlo):
    true = bs.staged_moments
    monkeypatch.setattr(bs, "staged_moments", lambda g, H, stages, d0: 1.1 * true(g, H, stages, d0))
    assert REGISTRY["C5"].run(cb.default_c5(), QUICK).status != AS_EXPECTED


def test_a_wrong_ema_variance_is_caught(monkeypatch, reuse_monte_carlo):
    """Var(EMA) = sigma^2/(B N) (the "average of N values" heuristic) instead of sigma^2/(B(2N - 1))."""
    monkeypatch.setattr(bs, "ema_stationary_variance", lambda var_x, N, steps=None: var_x / N)
    checks, _ = cb.ema_horizon_checks(cb.default_c4(), QUICK)
    assert any(not c.as_expected for c in checks)


# -- bad inputs and the user config ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, message", [
    ({"order": (0, 99)}, "order"),
    ({"ratio": 1.0}, "ratio"),
    ({"batch_sizes": (2, 4)}, "batch_sizes"),
    ({"etas": (0.001, 0.002)}, "etas"),
    ({"x0": [1.0]}, "x0"),
])
def test_c3_bad_inputs_name_the_parameter(kwargs, message):
    args = {"problem": cb.default_problem(), "x0": np.ones(2)} | kwargs
    with pytest.raises(SgdTheoryError, match=message):
        cb.LinearScalingInstance(**args)


@pytest.mark.parametrize("kwargs, message", [
    ({"eps": 0.2}, "eps"), ({"batch_size": 1}, "batch_size"), ({"values": [1.0, 1.0]}, "values"),
    ({"C": [[1.0]]}, "C"), ({"N_s": 3}, "N_s"),
])
def test_c4_bad_inputs_name_the_parameter(kwargs, message):
    d = cb.default_c4()
    args = {"H": d.H, "C": d.C} | kwargs
    with pytest.raises(SgdTheoryError, match=message):
        cb.HorizonInstance(**args)


@pytest.mark.parametrize("kwargs, message", [
    ({"n_stages": 5}, "n_stages"), ({"eta0": 5.0}, "eta0"), ({"factor": 1}, "factor"), ({"w0": [0.0]}, "w0"),
])
def test_c5_bad_inputs_name_the_parameter(kwargs, message):
    args = {"problem": cb.default_problem(), "w0": np.ones(2)} | kwargs
    with pytest.raises(SgdTheoryError, match=message):
        cb.ScheduleInstance(**args)


@pytest.mark.parametrize("fn, cfg, message", [
    (cb.c3_from_config, {"experiment": {"C3": {"rate": 0.1}}}, "experiment.C3.rate"),
    (cb.c3_from_config, {"experiment": {"eta": 0.1}}, "experiment.eta"),
    (cb.c4_from_config, {"problem": {"heavy_ball": {"G": [[1.0]]}}}, "problem.heavy_ball.G"),
    (cb.c5_from_config, {"problem": {"g": [[1.0, 0.0]], "X": 1}}, "problem.X"),
    (cb.c5_from_config, {"experiment": {"C5": {"epochs": 0}}}, "epochs"),
])
def test_bad_configs_name_the_field(fn, cfg, message):
    with pytest.raises(ConfigError, match=message):
        fn(cfg)


def test_user_config_via_cli(tmp_path):
    out = tmp_path / "out"
    code = main(["verify", "C3", "C5", "--quick", "--config", str(CONFIG), "--out", str(out), "--no-progress",
                 "--no-figures"])
    for cid in ("C3", "C5"):
        rec = json.loads((out / f"{cid}.json").read_text())
        assert rec["parameters"]["name"].startswith("n = 8, d = 2, anisotropic")
    assert code == 0
    inst = cb.c4_from_config(load(CONFIG))
    assert inst.name == "heavy ball, correlated noise" and inst.batch_size == 2


def test_stability_limit_of_an_unknown_optimizer_is_an_error():
    """Issue 13 item 11: an optimizer without a known limit is an error naming it, not gradient descent's limit."""
    from sgdtheory.optimizers import SGD, Optimizer
    from sgdtheory.sampling import Sampler
    from sgdtheory.simulate import stability_limit

    class MyOptimizer(Optimizer):
        pass

    with pytest.raises(SgdTheoryError, match="MyOptimizer"):
        stability_limit(cb.default_problem(), MyOptimizer(), Sampler(1))
    assert stability_limit(cb.default_problem(), SGD(), Sampler(1))[0] > 0
