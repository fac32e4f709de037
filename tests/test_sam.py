"""Claim D13 (SAM): the 2-cycle against the plain map, the rho-ball max against a dense search, the landscape
prediction against a plain-numpy SAM/GD loop over a grid of starts, SymPy, bad inputs, the quick claim, the
user config via the CLI, and perturbed theories the claim must catch."""

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.polynomial import polynomial as P

import sgdtheory.claims.sam as cl
from sgdtheory.claims import REGISTRY, Settings
from sgdtheory.claims.base import AS_EXPECTED, NEGATIVE_CONTROL
from sgdtheory.cli import main
from sgdtheory.config import load
from sgdtheory.errors import ConfigError, SgdTheoryError
from sgdtheory.theory import sam as ts

QUICK = Settings(quick=True)
CONFIG = Path(__file__).resolve().parent.parent / "experiments" / "configs" / "sam.toml"


@given(st.floats(0.01, 1.99), st.floats(0.1, 10.0), st.floats(1e-3, 1.0), st.floats(-5.0, 5.0))
def test_two_cycle_is_a_cycle_and_attracts(eh, h, rho, w0):
    """A = eta h rho/(2 - eta h): the plain map sends A -> -A -> A, and attracts any w0 != 0."""
    eta = eh / h
    A = ts.two_cycle_amplitude(eta, h, rho)
    assert ts.sam_map_quadratic(A, eta, h, rho) == pytest.approx(-A, rel=1e-12)
    assert ts.sam_map_quadratic(-A, eta, h, rho) == pytest.approx(A, rel=1e-12)
    if abs(w0) < 1e-6:
        return
    w = w0
    n = int(min(20000, 60 / -np.log(abs(1 - eh)))) if eh != 1 else 10
    for _ in range(n):
        w = ts.sam_map_quadratic(w, eta, h, rho)
    assert abs(w) == pytest.approx(A, rel=1e-9)


def test_two_cycle_range_and_sympy():
    assert ts.two_cycle_amplitude(1.0, 2.2, 0.1) == np.inf and ts.two_cycle_amplitude(0.0, 1.0, 0.1) == np.inf
    d = ts.derive()
    assert str(d.stable_interval) == "Interval.open(0, 2)"
    assert str(d.linear_error) == "a*rho**2/2" and str(d.plugin_error) == "b**2*rho**3/(2*g)"
    eta, h, rho = 0.1, 3.0, 0.2
    sub = {sym: {"eta": eta, "h": h, "rho": rho}[sym.name] for sym in d.amplitude.free_symbols}
    assert float(d.amplitude.subs(sub)) == pytest.approx(ts.two_cycle_amplitude(eta, h, rho))


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10**6), st.floats(0.01, 0.3))
def test_ball_max_against_a_dense_search(seed, rho):
    """The SLSQP + polish max is feasible, >= L(w + eps_hat), and within 1e-12 of a dense angle search on |e| = rho
    (the max of this convex-ish bowl over the ball lies on the sphere for small rho)."""
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((2, 2))
    f = ts.QuarticBowl(M @ M.T + 0.2 * np.eye(2), float(rng.uniform(0, 1)), rng.standard_normal(2))
    w = rng.standard_normal(2)
    g = f.grad(w)
    if np.linalg.norm(g) < 0.1:
        return
    mx, e = ts.ball_max(f, w, rho)
    assert np.linalg.norm(e) <= rho * (1 + 1e-12)
    assert mx >= f.loss(w + rho * g / np.linalg.norm(g)) - 1e-15
    th = np.linspace(-np.pi, np.pi, 200001)
    vals = [f.loss(w + rho * np.array([np.cos(t), np.sin(t)])) for t in th[::50]]
    k = int(np.argmax(vals)) * 50
    fine = th[max(k - 60, 0):k + 60]
    dense = max(f.loss(w + rho * np.array([np.cos(t), np.sin(t)])) for t in fine)
    assert mx >= dense - 1e-12 and mx - dense <= 1e-9  # the grid's own error is ~1e-11


def _reference_dynamics(L: ts.SharpFlatLandscape, eta, rho, starts, n_steps):
    dL = L.dL
    wg = np.array(starts, dtype=float)
    ws = wg.copy()
    for _ in range(n_steps):
        wg = wg - eta * P.polyval(wg, dL)
        gs = P.polyval(ws, dL)
        ws = ws - eta * P.polyval(ws + rho * np.sign(gs), dL)
    return wg, ws


def test_landscape_prediction_against_plain_dynamics():
    """On a fine grid of starts, plain-numpy GD ends left of b exactly for starts < b, and SAM parks at m_s + rho
    exactly for starts < b + rho, else reaches the flat minimum (the grid avoids the two repelling points)."""
    inst = cl.default_instance()
    L = inst.landscape
    starts = np.linspace(inst.x_lo, inst.x_hi, 1201)
    starts = starts[(np.abs(starts - L.b) > 1e-3) & (np.abs(starts - L.b - inst.rho) > 1e-3)]
    wg, ws = _reference_dynamics(L, inst.eta, inst.rho, starts, inst.n_steps)
    cg, cs = L.classify(wg, inst.rho), L.classify(ws, inst.rho)
    assert np.array_equal(cg == 0, starts < L.b) and np.all(cg != 1)
    assert np.all(cs != 0)
    assert np.array_equal(cs == 1, starts < L.b + inst.rho)
    assert np.max(np.abs(ws[cs == 1] - (L.m_s + inst.rho))) < 1e-9
    ks, kf = L.curvatures()
    assert ks > 5 * kf
    assert L.predicted_fractions(inst.rho, inst.x_lo, inst.x_hi)["sam_flat"] == pytest.approx(
        (inst.x_hi - L.b - inst.rho) / (inst.x_hi - inst.x_lo))


def test_engine_sam_matches_the_plain_landscape_loop():
    from sgdtheory.optimizers import SAM
    from sgdtheory.sampling import Sampler
    from sgdtheory.simulate import simulate

    inst = cl.default_instance()
    L = inst.landscape
    for w0 in (-1.3, -0.8, 0.1, 1.4):
        r = simulate(L.problem(), inst.eta, optimizer=SAM(inst.rho), sampler=Sampler(1, "full"), n_steps=300,
                     n_paths=1, w0=[w0], check_stability=False)
        _, ws = _reference_dynamics(L, inst.eta, inst.rho, [w0], 300)
        assert r.final_params[0, 0] == pytest.approx(ws[0], rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("kw,match", [
    (dict(rho=0.2), r"rho = 0.2 must lie in \(b - m_s, m_f - b\)"),
    (dict(eta=0.05), "eta sup L'' = "),
    (dict(eta_h=(0.5, 2.5)), r"eta_h: every value must lie in \(0, 2\)"),
    (dict(bowl_w=np.array([1.0])), "bowl_w: expected a finite vector of length 2"),
    (dict(bowl_H=np.array([[1.0, 0.5], [0.0, 1.0]])), "bowl_H: expected a finite symmetric"),
    (dict(x_lo=1.0, x_hi=0.0), "x_lo = 1.0 must be < x_hi = 0.0"),
    (dict(n_steps=10), r"n_steps = 10 is out of range"),
])
def test_bad_instances_name_the_parameter(kw, match):
    with pytest.raises(SgdTheoryError, match=match):
        cl.SamInstance(**kw)


@pytest.mark.parametrize("cfg,message", [
    ({"problem": {"m_s": 0.0}}, "problem.landscape: need m_s < b < m_f"),
    ({"problem": {"depth": 1.0}}, "problem.depth: unknown field"),
    ({"experiment": {"rho": 0.1}}, "experiment.rho/eta/starts: the SAM landscape prediction needs rho = 0.1 must lie"),
    ({"experiment": {"eta_h": [3.0]}}, "experiment.eta_h: every value must lie in (0, 2)"),
])
def test_bad_configs_name_the_parameter(cfg, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        cl.instance_from_config(cfg)


# -- the claim --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quick_result(quick_claims):
    return quick_claims["D13"]


def test_default_instance_quick_as_expected(quick_result):
    bad = [(c.name, c.verdict, str(c.estimate)) for c in quick_result.checks if not c.as_expected]
    assert not bad, bad
    assert [c.role for c in quick_result.checks].count(NEGATIVE_CONTROL) >= 8
    assert quick_result.status == AS_EXPECTED


def test_derivation_and_figure(quick_result, tmp_path):
    text = REGISTRY["D13"].derive(cl.default_instance())
    assert "A = -eta*h*rho/(eta*h - 2)" in text and "Interval.open(0, 2)" in text
    paths = REGISTRY["D13"].figure(quick_result, tmp_path)
    assert [Path(p).suffix for p in paths] == [".png", ".pdf"] * 2 and Path(paths[0]).stat().st_size > 20_000
    assert Path(paths[3]).stem == Path(paths[1]).stem + "_more"  # secondary panels: the paper's appendix


def test_user_config_via_cli(tmp_path):
    out = tmp_path / "out"
    code = main(["verify", "D13", "--quick", "--config", str(CONFIG), "--out", str(out), "--no-progress",
                 "--no-figures"])
    rec = json.loads((out / "D13.json").read_text())
    assert code == 0, [(c["name"], c["verdict"], c["expected"]) for c in rec["checks"] if c["verdict"] != c["expected"]]
    assert rec["parameters"]["rho"] == 0.6 and rec["parameters"]["h"] == 4.0
    assert cl.instance_from_config(load(CONFIG)).name.startswith("narrower")


@pytest.mark.parametrize("wrong", ["amplitude", "fractions", "coefficients"])
def test_wrong_theories_are_caught(monkeypatch, wrong, reuse_monte_carlo):
    """A = eta h rho/(1 - eta h/2) (factor 2), GD's basin split used for SAM, and a coefficient off by 10%."""
    if wrong == "amplitude":
        monkeypatch.setattr(ts, "two_cycle_amplitude", lambda eta, h, rho: 2 * eta * h * rho / (2 - eta * h))
    elif wrong == "fractions":
        true = ts.SharpFlatLandscape.predicted_fractions

        def gd_split(self, rho, x_lo, x_hi):
            p = true(self, rho, x_lo, x_hi)
            p["sam_flat"] = p["gd_flat"]
            return p

        monkeypatch.setattr(ts.SharpFlatLandscape, "predicted_fractions", gd_split)
    else:
        true_c = ts.leading_coefficients
        monkeypatch.setattr(ts, "leading_coefficients", lambda f, w: tuple(1.1 * c for c in true_c(f, w)))
    assert REGISTRY["D13"].run(cl.default_instance(), QUICK).status != AS_EXPECTED
