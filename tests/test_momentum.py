"""Claims D1-D5 (momentum, Nesterov): theory against plain-numpy / SymPy references, the quick claim runs, perturbed
theories that the claims must catch, bad inputs, and the user config via the CLI."""

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sgdtheory.claims.momentum as cm
from sgdtheory.claims import REGISTRY, Settings
from sgdtheory.claims.base import AS_EXPECTED, CLAIM, NEGATIVE_CONTROL
from sgdtheory.cli import main
from sgdtheory.config import load
from sgdtheory.errors import ConfigError, SgdTheoryError
from sgdtheory.optimizers import HeavyBall, Nesterov
from sgdtheory.theory import lyapunov as lyap
from sgdtheory.theory import momentum as th

QUICK = Settings(quick=True)
CONFIG = Path(__file__).resolve().parent.parent / "experiments" / "configs" / "momentum.toml"
IDS = ("D1", "D2", "D3", "D4", "D5")


def _spd(seed: int, d: int, kappa: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    lam = np.geomspace(1.0, kappa, d)
    return Q @ np.diag(lam) @ Q.T


# -- theory against references ---------------------------------------------------------------------------------


@given(st.integers(0, 10**6), st.floats(0.0, 0.99), st.floats(0.01, 2.0), st.integers(1, 40))
def test_weighted_sum_equals_the_momentum_recursion(seed, mu, gamma, T):
    """D1 on arbitrary gradient sequences: the direct weighted sums equal the recursion m = mu m + gamma g."""
    g = np.random.default_rng(seed).standard_normal((2, T, 3))
    m = np.zeros((2, 3))
    rec = np.empty_like(g)
    for t in range(T):
        m = mu * m + gamma * g[:, t]
        rec[:, t] = m
    assert np.allclose(cm.weighted_sum_steps(g, mu, gamma), rec, atol=1e-12 * (1 + np.abs(rec).max()))
    if mu > 0.05 and T > 1:
        assert not np.allclose(cm.weighted_sum_steps(g, mu, gamma, power_shift=1), rec, atol=1e-6)


@given(st.integers(0, 10**6), st.floats(0.05, 0.95), st.floats(0.01, 1.0))
def test_ema_and_heavy_ball_reference_steps_agree(seed, beta, eta):
    """D2: the EMA form at lr eta and HeavyBall.reference_step at lr eta (1 - beta) give the same iterates."""
    rng = np.random.default_rng(seed)
    w_e = w_h = rng.standard_normal(3)
    m = np.zeros(3)
    v = HeavyBall(beta).init_state(3)
    for _ in range(30):
        g = rng.standard_normal(3)
        m = beta * m + (1 - beta) * g
        w_e = w_e - eta * m
        w_h, v = HeavyBall(beta).reference_step(w_h, v, g, eta * (1 - beta))
    assert np.allclose(w_e, w_h, atol=1e-12 * (1 + np.abs(w_e).max()))


@given(st.integers(0, 10**6), st.floats(0.05, 0.95), st.floats(0.001, 0.1))
def test_nesterov_reference_step_is_the_lookahead_form(seed, mu, gamma):
    """D5: Nesterov.reference_step (PyTorch form) on a quadratic visits the slide's look-ahead points."""
    rng = np.random.default_rng(seed)
    H = _spd(seed, 3, 10.0)
    theta = w = rng.standard_normal(3)
    m = np.zeros(3)
    v = Nesterov(mu).init_state(3)
    for _ in range(30):
        noise = rng.standard_normal(3)
        phi = theta - mu * m
        assert np.allclose(phi, w, atol=1e-10 * (1 + np.abs(w).max()))
        m = mu * m + gamma * (H @ phi + noise)
        theta = theta - m
        w, v = Nesterov(mu).reference_step(w, v, H @ w + noise, gamma)


@settings(max_examples=30)
@given(st.integers(0, 10**6), st.integers(2, 4), st.floats(4.0, 1e4))
def test_polyak_spectral_radius_and_jordan_block(seed, d, kappa):
    H = _spd(seed, d, kappa)
    mu, L = np.linalg.eigvalsh(H)[[0, -1]]
    a, b = th.polyak_tuning(mu, L)
    assert th.spectral_radius(th.iteration_matrix(H, a, b)) == pytest.approx(th.hb_rate(L / mu), abs=1e-6)
    assert th.spectral_radius(np.eye(d) - th.gd_tuning(mu, L) * H) == pytest.approx(th.gd_rate(L / mu), rel=1e-12)
    assert th.jordan_defect(H, a, b) == 1
    assert th.jordan_defect(H, 0.5 * a, b) == 0  # detuned: no repeated root of maximal modulus


@settings(max_examples=25)
@given(st.integers(0, 10**6), st.integers(1, 3), st.floats(0.0, 0.9), st.floats(0.05, 0.9))
def test_stationary_covariance_against_the_series_and_sgd(seed, d, mu, frac):
    """The augmented Lyapunov solution equals the plain series sum_k A^k Q A^k^T; at momentum 0 it is B2's SGD one."""
    H = _spd(seed, d, 5.0)
    C = _spd(seed + 1, d, 3.0)
    lr = frac * 2 * (1 + mu) / np.linalg.eigvalsh(H)[-1]
    A = np.block([[np.eye(d) - lr * H, -lr * mu * np.eye(d)], [H, mu * np.eye(d)]])
    if th.spectral_radius(A) > 0.995:
        return
    G = np.vstack([-lr * np.eye(d), np.eye(d)])
    ref, term = np.zeros((2 * d, 2 * d)), G @ C @ G.T
    for _ in range(20000):
        ref += term
        term = A @ term @ A.T
        if np.abs(term).max() < 1e-17 * np.abs(ref).max():
            break
    S = th.stationary_covariance(H, C, lr, mu)
    assert np.allclose(S, ref[:d, :d], rtol=1e-8, atol=1e-10 * np.abs(ref).max())
    if lr < 2 / np.linalg.eigvalsh(H)[-1]:
        assert np.allclose(th.stationary_covariance(H, C, lr, 0.0), lyap.discrete_covariance(H, C, lr), rtol=1e-9)


def test_lessard_cycle_is_exact_and_reached():
    """The attracting 3-cycle of Lessard et al.'s example, by plain float iteration from their x0 = 3.3."""
    cycles = th.lessard_cycles(1, 25, 4)
    stable = [c for c in cycles if c.stable]
    assert len(stable) == 1 and stable[0].period == 3
    assert [str(p) for p in stable[0].points] == ["-2208/1225", "2592/1225", "792/1225"]
    assert max(stable[0].multipliers) == pytest.approx((2 / 3) ** 3, rel=1e-12)  # (sqrt beta)^3: all on the L piece
    a, b = th.polyak_tuning(1, 25)
    assert (a, b) == pytest.approx((1 / 9, 4 / 9), rel=1e-15)
    x = th.heavy_ball_1d(3.3, 3000, a, b, th.lessard_grad)[-3:, 0]
    assert np.allclose(np.sort(x), np.sort(stable[0].floats), atol=1e-12)
    assert th.lessard_cycles(1, 25, 4, "nag") == ()
    # f is C^1 and its gradient is its derivative
    xs = np.linspace(-4, 4, 801)
    h = 1e-6
    num = (th.lessard_f(xs + h) - th.lessard_f(xs - h)) / (2 * h)
    assert np.allclose(num, th.lessard_grad(xs), atol=1e-4)


def test_convex_runs_against_the_closed_form():
    lam, x0 = th.convex_spectrum(200, 1e-12, 1.0)
    fg, fn = th.convex_runs(lam, x0, 1.0, 300)
    ks = [1, 10, 100, 300]
    assert np.allclose(fg[ks], th.gd_excess_exact(lam, x0, 1.0, ks), rtol=1e-10)
    # Beck-Teboulle bound for NAG
    k = np.arange(1, 301)
    assert np.all(fn[1:] <= 2 * np.sum(x0**2) / (k + 1.0) ** 2 * 1.0 + 1e-15)


def test_derivation_identities():
    der = th.derive()
    assert der.d1_difference == 0 and der.d1_wrong_difference != 0
    assert der.d2_ema_step == 0 and der.d2_ema_state == 0 and der.d2_wrong_lr != 0
    assert der.d2_mcallester == 0 and der.d2_mcallester_wrong != 0
    assert der.d3_discriminant_mu == 0 and der.d3_discriminant_L == 0 and der.d3_rate == 0 and der.d3_modulus_sq == 0
    assert all(v == 0 for v in der.d5_differences.values()) and der.d5_wrong_quiz != 0
    text = REGISTRY["D4"].derive(cm.default_instance())
    assert "-2208/1225, 2592/1225, 792/1225" in text and "attracting" in text


# -- bad inputs -------------------------------------------------------------------------------------------------


def _cfg(problem=None, experiment=None):
    base = load(CONFIG)
    p, e = dict(base["problem"]), dict(base["experiment"])
    p.update(problem or {})
    e.update(experiment or {})
    return {"problem": p, "experiment": e}


@pytest.mark.parametrize("cfg, message", [
    ({"experiment": {}}, "problem: missing section"),
    (_cfg(problem={"Hess": 1}), "problem.Hess: unknown field"),
    (_cfg(experiment={"eta": 0.1}), "experiment.eta: unknown field"),
    (_cfg(experiment={"momentum": 1.0}), "experiment.momentum = 1 is out of range"),
    (_cfg(experiment={"lr": 0.5}), "experiment.lr = 0.5 is out of range"),
    (_cfg(experiment={"N": 1}), "experiment.N = 1 is out of range"),
    (_cfg(experiment={"lessard_L": 0.5}), "experiment.lessard_L = 0.5 is out of range"),
    (_cfg(experiment={"max_period": 9}), "experiment.max_period = 9 is out of range"),
    (_cfg(experiment={"convex_lambda_min": 0.1}), "experiment.convex_lambda_min = 0.1 is out of range"),
    (_cfg(experiment={"w0": [0.5, -0.25]}), "experiment.w0: must differ from w_star"),
    (_cfg(problem={"C": [[0.0, 0.0], [0.0, 0.0]]}), "problem.C: must be non-zero"),
    (_cfg(problem={"H": [[2.0, 0.0], [0.0, 1.0]]}), "problem.H: condition number 2 is out of range"),
])
def test_bad_configs_name_the_parameter(cfg, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(".", r"\.")):
        cm.instance_from_config(cfg)


def test_theory_errors_name_the_parameter():
    with pytest.raises(SgdTheoryError, match="lr = 1 is out of range"):
        th.stationary_covariance(np.eye(2) * 4, np.eye(2), 1.0, 0.5)
    with pytest.raises(SgdTheoryError, match="L = 0.5 is out of range"):
        th.polyak_tuning(1.0, 0.5)
    with pytest.raises(SgdTheoryError, match="method"):
        th.lessard_cycles(1, 25, 3, "adam")


# -- the claims -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quick_results(quick_claims):
    return {cid: quick_claims[cid] for cid in IDS}


@pytest.mark.parametrize("cid", IDS)
def test_default_instance_quick_as_expected(quick_results, cid):
    res = quick_results[cid]
    bad = [(c.name, c.verdict, str(c.estimate)) for c in res.checks if not c.as_expected]
    assert not bad, bad
    roles = [c.role for c in res.checks]
    assert roles.count(NEGATIVE_CONTROL) >= 2 and roles.count(CLAIM) >= 2


def test_d3_measured_rates_and_noise_floor(quick_results):
    d = quick_results["D3"].data
    assert d["jordan"] == 1
    assert abs(d["rho_hb"] - d["hb_rate"]) < 2e-3 and abs(d["rho_gd"] - d["gd_rate"]) < 2e-3
    st_ = d["stationary"]
    assert st_["hb"]["pred"] > 3 * st_["gd"]["pred"]  # Polyak's tuning amplifies the noise


@pytest.mark.parametrize("cid", IDS)
def test_figures(quick_results, cid, tmp_path):
    paths = REGISTRY[cid].figure(quick_results[cid], tmp_path)
    assert [Path(p).suffix for p in paths] == [".png", ".pdf"] and Path(paths[0]).stat().st_size > 20_000


def test_user_config_via_cli(tmp_path):
    out = tmp_path / "out"
    code = main(["verify", *IDS, "--quick", "--config", str(CONFIG), "--out", str(out), "--no-progress",
                 "--no-figures"])
    recs = {cid: json.loads((out / f"{cid}.json").read_text()) for cid in IDS}
    bad = [(cid, c["name"], c["verdict"], c["expected"]) for cid, rec in recs.items() for c in rec["checks"]
           if c["verdict"] != c["expected"]]
    assert code == 0, bad
    assert recs["D3"]["parameters"]["kappa"] == pytest.approx(400.0)
    assert cm.instance_from_config(load(CONFIG)).name.startswith("two-dimensional")


# -- perturbed theories are caught ------------------------------------------------------------------------------


def test_a_wrong_rate_formula_is_caught(monkeypatch, reuse_monte_carlo):
    """hb_rate replaced by the GD rate turns D3 UNEXPECTED."""
    monkeypatch.setattr(th, "hb_rate", th.gd_rate)
    assert REGISTRY["D3"].run(cm.default_instance(), QUICK).status != AS_EXPECTED


def test_a_wrong_stationary_error_is_caught(monkeypatch, reuse_monte_carlo):
    """The Langevin 'effective lr' value used as the exact heavy-ball noise floor turns D3 UNEXPECTED."""
    true = th.stationary_excess
    monkeypatch.setattr(th, "stationary_excess",
                        lambda H, C, lr, m: th.langevin_excess(C, lr, m) if m > 0 else true(H, C, lr, m))
    assert REGISTRY["D3"].run(cm.default_instance(), QUICK).status != AS_EXPECTED


def test_wrong_momentum_weights_are_caught(monkeypatch, reuse_monte_carlo):
    """D1 with weights mu^(k+1) as the 'right' ones turns UNEXPECTED."""
    true = cm.weighted_sum_steps
    monkeypatch.setattr(cm, "weighted_sum_steps", lambda g, mu, gamma, power_shift=0: true(g, mu, gamma, 1 - power_shift))
    assert REGISTRY["D1"].run(cm.default_instance(), QUICK).status != AS_EXPECTED


def test_a_missing_cycle_is_caught(monkeypatch, reuse_monte_carlo):
    """If the cycle search found nothing, D4 would report UNEXPECTED (the runs end on an unexplained limit set)."""
    monkeypatch.setattr(th, "lessard_cycles", lambda *a, **k: ())
    assert REGISTRY["D4"].run(cm.default_instance(), QUICK).status != AS_EXPECTED


def test_a_wrong_nag_momentum_is_caught(monkeypatch, reuse_monte_carlo):
    """GD's iteration passed off as NAG (no momentum) gives slope -1: D5 UNEXPECTED."""
    monkeypatch.setattr(th, "convex_runs", lambda lam, x0, L, n: (lambda f: (f, f))(
        np.array([0.5 * np.sum(lam * x0**2 * (1 - lam / L) ** (2 * k)) for k in range(n + 1)])))
    assert REGISTRY["D5"].run(cm.default_instance(), QUICK).status != AS_EXPECTED
