"""D6, D7, D9, E7, E8: the vectorised steps of theory.adaptive against the package optimizers (bit for bit) and
plain recursions, the symbolic facts against numerical references, the quick claims, the user config via the CLI,
bad inputs, and perturbed theories that the checks must catch."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import sgdtheory.claims.adaptive as ca
from sgdtheory.claims import REGISTRY, Settings
from sgdtheory.claims.base import AS_EXPECTED, AS_PRINTED, CLAIM, NEGATIVE_CONTROL
from sgdtheory.cli import main
from sgdtheory.config import load
from sgdtheory.errors import ConfigError, SgdTheoryError
from sgdtheory.optimizers import AdaGrad, Adam, HeavyBall, RMSProp
from sgdtheory.theory import adaptive as th

QUICK = Settings(quick=True)
CONFIG = Path(__file__).resolve().parent.parent / "experiments" / "configs" / "adaptive.toml"
IDS = ("D6", "D7", "D9", "E7", "E8")

vec = st.lists(st.floats(-50, 50, allow_nan=False, allow_subnormal=False), min_size=1, max_size=4)


def _grads(seed, d, T):
    return np.random.default_rng(seed).standard_normal((T, d)) * np.exp(np.random.default_rng(seed + 1).uniform(-3, 3, d))


# -- steps against the package optimizers (bit for bit) --------------------------------------------------------


@given(st.integers(0, 10**6), st.integers(1, 4), st.floats(1e-4, 1.0), st.floats(0.5, 0.999))
def test_adagrad_and_rmsprop_steps_are_the_optimizers_bit_for_bit(seed, d, lr, beta):
    G = _grads(seed, d, 12)
    for opt, step in ((AdaGrad(eps=1e-10), lambda w, s, g: th.adagrad_step(w, s, g, lr, 1e-10)),
                      (RMSProp(beta=beta, eps=1e-8), lambda w, s, g: th.rmsprop_step(w, s, g, lr, beta, 1e-8))):
        w_ref, s_ref = np.ones(d), opt.init_state(d)
        w, s = np.ones(d), np.zeros(d)
        for g in G:
            w_ref, s_ref = opt.reference_step(w_ref, s_ref, g, lr)
            w, s = step(w, s, g)
            assert np.array_equal(w, w_ref) and np.array_equal(s, s_ref)


@given(st.integers(0, 10**6), st.integers(1, 4), st.floats(1e-4, 0.1), st.floats(0.0, 0.99), st.floats(0.9, 0.9999),
       st.booleans())
def test_published_and_uncorrected_forms_are_adam_bit_for_bit(seed, d, lr, b1, b2, corrected):
    p = th.AdamParams(lr, b1, b2, 1e-8)
    opt = Adam(beta1=b1, beta2=b2, eps=1e-8, bias_correction=corrected)
    form = "published" if corrected else "uncorrected"
    w_ref, s_ref = np.ones(d), opt.init_state(d)
    w, m, v = np.ones(d), np.zeros(d), np.zeros(d)
    for t, g in enumerate(_grads(seed, d, 15), start=1):
        w_ref, s_ref = opt.reference_step(w_ref, s_ref, g, lr)
        w, m, v = th.adam_form_step(form, w, m, v, t, g, p)
        assert np.array_equal(w, w_ref)


@given(st.integers(0, 10**6), st.sampled_from(th.ADAM_FORMS))
def test_vectorised_forms_equal_per_path_loops(seed, form):
    """One call on (paths, d) arrays = the same step applied path by path."""
    p = th.AdamParams(0.01, 0.9, 0.99, 1e-8)
    G = np.random.default_rng(seed).standard_normal((6, 3, 2))
    W, M, V = np.ones((3, 2)), np.zeros((3, 2)), np.zeros((3, 2))
    rows = [(np.ones(2), np.zeros(2), np.zeros(2)) for _ in range(3)]
    for t in range(1, 7):
        W, M, V = th.adam_form_step(form, W, M, V, t, G[t - 1], p, charitable=True)
        rows = [th.adam_form_step(form, *r, t, G[t - 1, i], p, charitable=True) for i, r in enumerate(rows)]
        assert np.array_equal(W, np.array([r[0] for r in rows]))


@given(vec, st.floats(1e-3, 0.5), st.floats(0.0, 0.99), st.floats(0.9, 0.9999))
def test_first_steps_have_their_closed_forms(g, alpha, b1, b2):
    g = np.array(g)
    p = th.AdamParams(alpha, b1, b2, 1e-8)
    for form in ("published", "uncorrected", "printed_000", "mcallester"):
        w1, _, _ = th.adam_form_step(form, np.zeros_like(g), np.zeros_like(g), np.zeros_like(g), 1, g, p)
        assert np.allclose(w1, th.first_step(form, g, p), rtol=1e-13, atol=1e-300)
    with np.errstate(invalid="ignore"):
        w1, _, _ = th.adam_form_step("printed_001", np.zeros_like(g), np.zeros_like(g), np.zeros_like(g), 1, g, p)
    assert np.all(np.isnan(w1))  # 0/0 as printed
    w1, _, _ = th.adam_form_step("printed_001", np.zeros_like(g), np.zeros_like(g), np.zeros_like(g), 1, g, p,
                                 charitable=True)
    assert np.all(w1 == 0.0)


def test_mcallester_form_is_the_min_t_n_running_average():
    p = th.AdamParams(0.01, 0.75, 0.9, 1e-8)  # N_g = 4, N_s = 10
    G = np.random.default_rng(3).standard_normal((25, 1))
    w, m, v = np.zeros(1), np.zeros(1), np.zeros(1)
    for t in range(1, 26):
        w, m, v = th.adam_form_step("mcallester", w, m, v, t, G[t - 1], p)
        if t <= 4:
            assert m[0] == pytest.approx(G[:t, 0].mean(), rel=1e-12)
        if t <= 10:
            assert v[0] == pytest.approx(np.mean(G[:t, 0] ** 2), rel=1e-12)


@given(st.integers(0, 10**6), st.floats(1e-3, 0.5), st.floats(0.0, 0.99))
def test_corrected_ema_momentum_is_heavy_ball(seed, lr, beta):
    G = _grads(seed, 2, 20)
    hb = HeavyBall(momentum=beta)
    w_hb, s = np.ones(2), hb.init_state(2)
    w, m = np.ones(2), np.zeros(2)
    for g in G:
        w_hb, s = hb.reference_step(w_hb, s, g, lr * (1 - beta))
        w, m = th.momentum_form_step("corrected", w, m, g, lr, beta)
        assert np.allclose(w, w_hb, rtol=1e-12, atol=1e-12)


@given(st.floats(0.0, 0.98))
def test_momentum_stability_limits_match_the_eigenvalues(beta):
    for form in th.MOMENTUM_FORMS:
        lim = th.momentum_stability_limit(form, beta)
        rad = [np.max(np.abs(np.linalg.eigvals(th.iteration_matrix(form, x, beta)))) for x in (0.99 * lim, 1.01 * lim)]
        assert rad[0] < 1 < rad[1]
    assert th.momentum_stability_limit("printed", beta) == pytest.approx(1.0)
    assert th.momentum_stability_limit("corrected", beta) == pytest.approx(2 * (1 + beta) / (1 - beta))


# -- exact moments ---------------------------------------------------------------------------------------------


@given(st.floats(-3, 3), st.floats(0.01, 4), st.floats(0.5, 0.999), st.integers(1, 400))
def test_rmsprop_mean_solves_its_recursion(g, s2, beta, t):
    e = 0.0
    for _ in range(t):
        e = beta * e + (1 - beta) * (g * g + s2)
    assert th.rmsprop_mean(g, s2, beta, t) == pytest.approx(e, rel=1e-10, abs=1e-14)


@given(st.floats(0.1, 10), st.floats(0.01, 4), st.floats(0.01, 1.9), st.integers(0, 300), st.floats(-2, 2))
def test_sgd_grad_sq_solves_its_recursion(h, s2, x, t, e0):
    lr = x / h
    e = e0 * e0
    for _ in range(t):
        e = (1 - lr * h) ** 2 * e + lr * lr * s2
    assert th.sgd_grad_sq(h, s2, lr, t, e0) == pytest.approx(h * h * e, rel=1e-9, abs=1e-14)


def test_symbolic_facts():
    import sympy as sp

    der = th.derive()
    assert der.eff_derivative_negative and der.eff_limit == 0 and der.adagrad_slope == sp.Rational(-1, 2)
    names = sorted(s.name for s in der.rmsprop_mean.free_symbols)
    assert names == ["beta", "g", "k", "sigma2"]
    vals = dict(zip(names, [0.9, 1.3, 17, 0.7]))
    expr = der.rmsprop_mean.subs({s: vals[s.name] for s in der.rmsprop_mean.free_symbols})
    assert float(expr) == pytest.approx(float(th.rmsprop_mean(1.3, 0.7, 0.9, 17)), rel=1e-12)
    assert "x < 1" in der.text() and der.wilson_Xu


def test_adagrad_first_order_mean_matches_a_long_run():
    """E eta_eff,t to first order in eta h/(sigma sqrt t) against plain-numpy Monte Carlo at one t."""
    rng = np.random.default_rng(5)
    P, T, lr, h, s = 4000, 4000, 0.3, 2.0, 1.0
    w, G = np.zeros(P), np.zeros(P)
    for _ in range(T):
        w, G = th.adagrad_step(w, G, h * w + s * rng.standard_normal(P), lr, 1e-10)
    mc = np.mean(lr / (np.sqrt(G) + 1e-10))
    assert mc == pytest.approx(th.adagrad_mean_step(T, lr, h, s), rel=2e-3)
    assert abs(mc - lr / (s * np.sqrt(T))) > 3 * abs(mc - th.adagrad_mean_step(T, lr, h, s))


# -- the claims ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quick_results(quick_claims):
    return {cid: quick_claims[cid] for cid in IDS}


@pytest.mark.parametrize("cid", IDS)
def test_quick_claims_as_expected(quick_results, cid):
    r = quick_results[cid]
    bad = [(c.name, c.verdict, str(c.estimate)) for c in r.checks if not c.as_expected]
    assert not bad, bad
    roles = [c.role for c in r.checks]
    assert roles.count(CLAIM) >= 2
    assert roles.count(NEGATIVE_CONTROL if cid.startswith("D") else AS_PRINTED) >= 2


def test_claim_details(quick_results):
    d9 = {c.name.split(":")[0]: c for c in quick_results["D9"].checks}
    assert quick_results["D9"].data["max_diff"]["mcallester"] > 0
    e8 = quick_results["E8"]
    assert e8.checks[0].estimate.value == 0.0  # the literal slide's first update is NaN
    assert e8.data["ratio"] == pytest.approx(0.1 / np.sqrt(0.001))
    assert all(x is None for x in e8.data["literal_first"])
    d6 = quick_results["D6"]
    assert d6.data["slope"] == pytest.approx(-0.5, abs=0.01)
    # the plan (known variance of G_t) predicts the measured half-width of the slope to within a factor 1.6
    main = d6.main_check
    t = np.array(d6.data["t"])
    tf = t[t >= d6.data["fit_from"]]
    planned = ca.planned_slope_half_width(tf, main.estimate.level, main.estimate.n)
    assert 1 / 1.6 < main.estimate.half_width / planned < 1.6
    near = [c for c in d6.checks if "asymptote -1/2" in c.name][0]
    assert near.role == NEGATIVE_CONTROL and 2.0 <= near.distance_half_widths <= 15.0
    assert d9


def test_derivation_and_figures(quick_results, tmp_path):
    text = REGISTRY["D6"].derive(ca.default_instance())
    assert "-1/2" in text and "stable iff x < 1" in text
    for cid in IDS:
        paths = REGISTRY[cid].figure(quick_results[cid], tmp_path)
        assert [Path(p).suffix for p in paths] == [".png", ".pdf"] and Path(paths[0]).stat().st_size > 10_000


@pytest.mark.parametrize("cid", IDS)
def test_user_config_via_cli(cid, tmp_path):
    code = main(["verify", cid, "--quick", "--config", str(CONFIG), "--out", str(tmp_path), "--no-progress",
                 "--no-figures"])
    rec = json.loads((tmp_path / f"{cid}.json").read_text())
    assert code == 0, [(c["name"], c["verdict"], c["expected"]) for c in rec["checks"] if c["verdict"] != c["expected"]]
    assert rec["parameters"]["h"] == [2.0, 100.0]


def test_config_is_read():
    inst = ca.instance_from_config(load(CONFIG))
    assert inst.adam.beta2 == 0.99 and inst.momentum_beta == 0.8 and inst.name.startswith("narrow valley")


# -- bad inputs ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cfg, message", [
    ({"problem": {"h": [1.0, -2.0]}}, "problem.h: every entry must be > 0"),
    ({"problem": {"h": [1.0, 2.0], "sigma": [1.0]}}, "problem.sigma: expected 2 entries"),
    ({"problem": {"kappa": 3}}, "problem.kappa: unknown field"),
    ({"experiment": {"lr": 0.1}}, "experiment.lr: unknown field"),
    ({"experiment": {"sgd_lr": 0.05}}, "experiment.sgd_lr = 0.05 is out of range"),
    ({"experiment": {"adam_beta1": 1.0}}, "experiment.adam_beta1 = 1 is out of range"),
    ({"experiment": {"coordinate": 2}}, "experiment.coordinate = 2 is out of range"),
    ({"experiment": {"w0": [0.0, 1.0]}}, "experiment.w0: every coordinate must differ"),
    ({"experiment": {"momentum_lr": 0.005}}, "experiment.momentum_lr = 0.005 is out of range"),
])
def test_bad_configs_name_the_parameter(cfg, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(".", r"\.")):
        ca.instance_from_config(cfg)


def test_bad_inputs_name_the_parameter():
    with pytest.raises(SgdTheoryError, match="form: unknown Adam form"):
        th.adam_form_step("adamw", 0.0, 0.0, 0.0, 1, 1.0, th.AdamParams())
    with pytest.raises(SgdTheoryError, match="n_steps"):
        th.adam_trajectory("published", [1.0], [0.0], [1.0], 0, th.AdamParams())
    with pytest.raises(SgdTheoryError, match="adagrad_lr"):
        REGISTRY["D6"].run(ca.AdaptiveInstance(adagrad_lr=9.0, h=(100.0, 100.0)), QUICK)


# -- perturbed theories are caught -----------------------------------------------------------------------------


def test_a_noise_free_second_moment_is_caught(monkeypatch, reuse_monte_carlo):
    """E s_t = (1 - beta^t) g^2 (sigma^2 dropped) used as the theory turns D7 UNEXPECTED."""
    true = th.rmsprop_mean
    monkeypatch.setattr(th, "rmsprop_mean", lambda g, s2, beta, t: true(g, 0.0, beta, t))
    assert REGISTRY["D7"].run(ca.default_instance(), QUICK).status != AS_EXPECTED


def test_a_wrong_first_step_is_caught(monkeypatch):
    """Forgetting the bias correction in the published form's first step turns D9 UNEXPECTED."""
    true = th.first_step
    monkeypatch.setattr(th, "first_step", lambda form, g, p: true("uncorrected" if form == "published" else form, g, p))
    monkeypatch.setattr(ca, "simulate", _no_mc(ca.simulate))
    assert REGISTRY["D9"].run(ca.default_instance(), QUICK).status != AS_EXPECTED


def _no_mc(real):
    """Keep the Numba engine for the deterministic run only (the perturbation is caught before MC matters)."""
    def sim(problem, lr, **kw):
        if kw.get("n_paths", 1) > 1:
            kw.update(n_steps=2000, n_paths=64, burn_in=1000)
        return real(problem, lr, **kw)
    return sim


def test_wrong_stability_limits_are_caught(monkeypatch, reuse_monte_carlo):
    """If the printed momentum had the corrected limit, E7's as-printed check would pass: E7 UNEXPECTED."""
    der = th.derive()
    fake = dataclasses.replace(der, momentum_limits={"corrected": der.momentum_limits["corrected"],
                                                     "printed": der.momentum_limits["corrected"]})
    monkeypatch.setattr(th, "derive", lambda: fake)
    assert REGISTRY["E7"].run(ca.default_instance(), QUICK).status != AS_EXPECTED


def test_a_wrong_adagrad_exponent_is_caught(monkeypatch):
    """A t^(-1) effective step (G_t ~ t^2) as the theory turns D6 UNEXPECTED."""
    monkeypatch.setattr(th, "adagrad_mean_step", lambda t, lr, h, s, eps=0.0: lr / (s * np.asarray(t, float)))
    monkeypatch.setattr(ca, "_d6_sizes", lambda quick: (256, 4000))
    assert REGISTRY["D6"].run(ca.default_instance(), QUICK).status != AS_EXPECTED


def test_mcallester_form_agrees_with_the_package_optimizer_if_present():
    """theory.adaptive's "mcallester" form against optimizers.McAllesterAdam (same math; 1/k multiplies vs divides)."""
    from sgdtheory.optimizers import McAllesterAdam

    p = th.AdamParams(0.01, 0.9, 0.99, 1e-8)
    opt = McAllesterAdam(N_g=p.N_g, N_s=p.N_s, eps=p.eps)
    G = _grads(11, 3, 150)
    w_ref, s_ref = np.ones(3), opt.init_state(3)
    w, m, v = np.ones(3), np.zeros(3), np.zeros(3)
    for t, g in enumerate(G, start=1):
        w_ref, s_ref = opt.reference_step(w_ref, s_ref, g, p.alpha)
        w, m, v = th.adam_form_step("mcallester", w, m, v, t, g, p)
        assert np.allclose(w, w_ref, rtol=1e-12, atol=1e-14)
