"""Learning-rate schedules (issue 6, item 2) and claim D12: kernel vs numpy (<= 1 ulp) on generated inputs,
the slide's formulas by hand, periods and bounds, the exact moment recursion under any schedule against a
plain-numpy step, simulate with every schedule, bad inputs, the quick claim, the user config via the CLI,
and perturbed theories the claim must catch."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import sgdtheory.claims.schedules as cl
from sgdtheory._kernels.steps import learning_rate
from sgdtheory.claims import REGISTRY, Settings
from sgdtheory.claims.base import AS_EXPECTED, AS_PRINTED, NEGATIVE_CONTROL
from sgdtheory.cli import main
from sgdtheory.config import load
from sgdtheory.errors import ConfigError, SgdTheoryError
from sgdtheory.schedules import (SCHEDULES, Constant, CosineRestarts, Exponential, Power, StepDecay, TimeBased,
                                 Triangular, from_config)
from sgdtheory.simulate import simulate
from sgdtheory.theory import schedules as th
from sgdtheory.theory.sgd_moments import SGDMoments, reference_moment_step

QUICK = Settings(quick=True)
CONFIG = Path(__file__).resolve().parent.parent / "experiments" / "configs" / "schedules.toml"

pos = st.floats(1e-4, 10.0)


@st.composite
def schedules(draw):
    kind = draw(st.sampled_from(sorted(SCHEDULES)))
    if kind == "constant":
        return Constant(draw(pos))
    if kind == "power":
        return Power(draw(pos), draw(st.floats(0.5, 100.0)), draw(st.floats(0.0, 2.0)))
    if kind == "time_based":
        return TimeBased(draw(pos), draw(st.floats(0.0, 1.0)))
    if kind == "exponential":
        return Exponential(draw(pos), draw(st.floats(0.0, 0.1)))
    if kind == "step":
        return StepDecay(draw(pos), draw(st.floats(0.0, 2.0)), draw(st.integers(1, 50)))
    lo = draw(st.floats(0.0, 1.0))
    hi = lo + draw(pos)
    if kind == "triangular":
        return Triangular(lo, hi, draw(st.integers(1, 50)))
    return CosineRestarts(lo, hi, draw(st.integers(1, 50)), draw(st.integers(1, 3)))


@given(schedules(), st.lists(st.integers(0, 100_000), min_size=1, max_size=20))
def test_kernel_matches_numpy_to_one_ulp(sch, ts):
    """The engine's eta_t and the record's numpy __call__ agree to 1 ulp (exp, cos and pow may come from different
    libraries: on AVX-512 machines NumPy's power is its own SIMD one, e.g. (1.5 + 5)^0.6968723240079219 ends in
    ...762 there and in ...7615 in libm); Constant, time-based, triangular and SGDR's position are bit for bit."""
    ref = np.atleast_1d(sch(np.array(ts)))
    for t, r in zip(ts, ref):
        k = learning_rate(sch.code, sch.parameters(), t)
        assert abs(k - r) <= np.spacing(max(abs(r), abs(k))) * (1 if isinstance(sch, (Power, Exponential, StepDecay, CosineRestarts)) else 0)
        assert sch(t) == pytest.approx(r, rel=1e-15, abs=0)


def test_slide_formulas_by_hand():
    """seed 001's table and Smith's / Loshchilov-Hutter's formulas written out for a few t."""
    assert TimeBased(0.1, 0.5)(4) == pytest.approx(0.1 / 3, rel=1e-15)
    assert Exponential(0.1, 0.5)(2) == pytest.approx(0.1 * math.exp(-1), rel=1e-15)
    sd = StepDecay(0.01, math.log(2), 10)  # "gamma0 = 0.01, drops by half every 10 epochs"
    assert [sd(t) for t in (0, 9, 10, 19, 20)] == pytest.approx([0.01, 0.01, 0.005, 0.005, 0.0025], rel=1e-14)
    tri = Triangular(0.1, 0.5, 4)  # up 0.1 per step to 0.5 at t = 4, down to 0.1 at t = 8
    assert [tri(t) for t in range(10)] == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5, 0.4, 0.3, 0.2, 0.1, 0.2], rel=1e-14)
    cos_ = CosineRestarts(0.0, 1.0, 4)
    assert [cos_(t) for t in range(6)] == pytest.approx([1.0, (1 + math.sqrt(0.5)) / 2, 0.5,
                                                         (1 - math.sqrt(0.5)) / 2, 1.0, (1 + math.sqrt(0.5)) / 2])
    sg = CosineRestarts(0.0, 1.0, 2, 2)  # cycles of 2, 4, 8: restarts at 2, 6, 14
    assert [sg(t) for t in (0, 1, 2, 3, 4, 5, 6, 13, 14)] == pytest.approx(
        [1.0, 0.5, 1.0, (1 + math.sqrt(0.5)) / 2, 0.5, (1 - math.sqrt(0.5)) / 2, 1.0,
         (1 + math.cos(math.pi * 7 / 8)) / 2, 1.0], abs=1e-15)
    assert sg.restarts(3).tolist() == [2, 6, 14]
    # the printed cosine jumps between hi and lo at integer t
    assert th.printed_cosine(0.0, 1.0, 4, np.arange(6)).tolist() == pytest.approx([1, 0, 1, 0, 1, 0], abs=1e-15)


@given(st.integers(1, 30), st.floats(0.0, 1.0), st.floats(1e-3, 2.0))
def test_periods_and_bounds(s, lo, span):
    hi = lo + span
    tri = Triangular(lo, hi, s)
    v = th.kernel_rates(tri, np.arange(0, 6 * s + 1))
    assert th.minimal_period(v, 4 * s) == 2 * s
    assert v.max() == pytest.approx(hi, rel=1e-14) and v.min() == pytest.approx(lo, rel=1e-14, abs=1e-300)
    assert np.all(v >= lo - 1e-15 * hi) and np.all(v <= hi * (1 + 1e-15))
    c = CosineRestarts(lo, hi, s)
    v = th.kernel_rates(c, np.arange(0, 6 * s + 1))
    assert th.minimal_period(v, 4 * s) == s
    assert np.all(v <= hi * (1 + 1e-15)) and (s == 1 or np.all(v > lo))


def test_sympy_derivation():
    d = th.derive()
    assert d.triangular_shift_2s == 0 and d.cosine_shift_T == 0 and d.triangular_shift_s != 0
    assert str(d.half_life_time_based) == "1/k" and str(d.half_life_exponential) == "log(2)/k"
    assert str(d.printed_integer_form) == "(-1)**(Mod(n, T))"


@given(st.integers(0, 10**6), st.sampled_from(["time_based", "triangular", "cosine", "step"]))
def test_exact_moments_match_the_plain_recursion(seed, kind):
    """exact_moments under a non-constant schedule = the term-by-term numpy recursion with eta_t from the schedule."""
    inst = cl.default_instance()
    basin = inst.basin
    sch = {"time_based": TimeBased(0.3, 0.1), "triangular": Triangular(0.05, 0.4, 3),
           "cosine": CosineRestarts(0.01, 0.4, 5, 2), "step": StepDecay(0.4, 0.7, 4)}[kind]
    rng = np.random.default_rng(seed)
    d0 = rng.standard_normal(basin.d)
    path = th.exact_moments(basin, sch, d0, [0, 7, 20])
    m, S = d0.copy(), np.outer(d0, d0)
    for t in range(20):
        m, S = reference_moment_step(basin, sch(t), m, S)
        if t + 1 == 7:
            np.testing.assert_allclose(path.second[1], S, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(path.mean[2], m, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(path.second[2], S, rtol=1e-12, atol=1e-14)
    # Constant: the same as SGDMoments.run
    ref = SGDMoments(basin).run(Constant(0.3), d0, [20])
    np.testing.assert_allclose(th.exact_moments(basin, Constant(0.3), d0, [20]).second, ref.second, rtol=1e-13)


def test_simulate_accepts_every_schedule_and_follows_it():
    """A noiseless 1-D quadratic: w_T = prod_t (1 - eta_t h) w_0 exactly, for each schedule."""
    from sgdtheory.problems import PolynomialFiniteSum1D

    p = PolynomialFiniteSum1D([[0.0, 0.0, 0.5]])  # h = 1
    for sch in (TimeBased(0.5, 0.1), Exponential(0.5, 0.05), StepDecay(0.5, 0.7, 3), Triangular(0.1, 0.9, 3),
                CosineRestarts(0.01, 0.9, 4, 2), Power(0.5, 1.0, 0.7)):
        r = simulate(p, sch, n_steps=25, n_paths=1, w0=[1.0])
        expect = np.prod([1 - sch(t) for t in range(25)])
        assert r.final_params[0, 0] == pytest.approx(expect, rel=1e-12), type(sch).__name__
        assert r.parameters["schedule"] == type(sch).__name__


@pytest.mark.parametrize("make,match", [
    (lambda: TimeBased(0.0, 1.0), r"lr0 = 0 is out of range"),
    (lambda: TimeBased(0.1, -1.0), r"k = -1 is out of range"),
    (lambda: Exponential(np.nan, 1.0), "lr0: must be finite"),
    (lambda: StepDecay(0.1, 0.5, 0), r"T = 0 is out of range"),
    (lambda: Triangular(0.5, 0.1, 4), r"lr_max = 0.1 is out of range: valid range is \[lr_min, inf\)"),
    (lambda: Triangular(0.1, 0.5, 2.5), "s: expected an integer"),
    (lambda: CosineRestarts(0.0, 1.0, 10, 0), r"T_mult = 0 is out of range"),
    (lambda: from_config({"kind": "linear"}), "schedule.kind: unknown 'linear'"),
    (lambda: from_config({"kind": "step", "lr0": 0.1, "k": 1.0, "T": 5, "gamma": 2}), "schedule.gamma: unknown field"),
])
def test_bad_inputs_name_the_parameter(make, match):
    with pytest.raises(SgdTheoryError, match=match):
        make()


def test_from_config():
    assert from_config({"kind": "triangular", "lr_min": 0.1, "lr_max": 0.5, "s": 4}) == Triangular(0.1, 0.5, 4)


def _cfg(**exp):
    return {"problem": {"g": [[1.0, -0.5], [-1.0, 0.5]], "H": [[[1.0, 0.0], [0.0, 1.0]]] * 2},
            "experiment": exp}


@pytest.mark.parametrize("cfg,message", [
    (_cfg(horizon=100), "experiment.horizon = 100 is out of range: must be a multiple of 16"),
    (_cfg(horizon=32), "experiment.horizon = 32 is out of range"),
    (_cfg(eta_fraction=1.5), "experiment.eta_fraction = 1.5 is out of range"),
    (_cfg(sampling="cyclic"), "sampling"),
    (_cfg(delta0=[1.0]), "experiment.delta0: expected a finite vector of shape (2,)"),
    (_cfg(period=3), "experiment.period: unknown field"),
])
def test_bad_configs_name_the_parameter(cfg, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        cl.instance_from_config(cfg)


# -- the claim --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quick_result(quick_claims):
    return quick_claims["D12"]


def test_default_instance_quick_as_expected(quick_result):
    bad = [(c.name, c.verdict, str(c.estimate)) for c in quick_result.checks if not c.as_expected]
    assert not bad, bad
    roles = [c.role for c in quick_result.checks]
    assert roles.count(NEGATIVE_CONTROL) >= 4 and roles.count(AS_PRINTED) == 1
    assert quick_result.status == AS_EXPECTED


def test_derivation_and_figure(quick_result, tmp_path):
    text = REGISTRY["D12"].derive(cl.default_instance())
    assert "f(t + 2s) - f(t) = 0" in text and "(-1)**(Mod(n, T))" in text
    paths = REGISTRY["D12"].figure(quick_result, tmp_path)
    assert [Path(p).suffix for p in paths] == [".png", ".pdf"] * 2 and Path(paths[0]).stat().st_size > 20_000
    assert Path(paths[3]).stem == Path(paths[1]).stem + "_more"  # secondary panels: the paper's appendix


def test_user_config_via_cli(tmp_path):
    out = tmp_path / "out"
    code = main(["verify", "D12", "--quick", "--config", str(CONFIG), "--out", str(out), "--no-progress",
                 "--no-figures"])
    rec = json.loads((out / "D12.json").read_text())
    assert code == 0, [(c["name"], c["verdict"], c["expected"]) for c in rec["checks"] if c["verdict"] != c["expected"]]
    assert rec["parameters"]["horizon"] == 320 and rec["parameters"]["batch_size"] == 2
    assert cl.instance_from_config(load(CONFIG)).name.startswith("three examples")


def test_a_wrong_moment_recursion_is_caught(monkeypatch, reuse_monte_carlo):
    """A theory driven by the schedule shifted by a quarter period (eta_(t + T/32)) fails the MC checks."""
    true = th.kernel_rates
    shift = cl.default_instance().horizon // 32

    def shifted(schedule, steps):
        return true(schedule, np.asarray(steps) + shift)

    monkeypatch.setattr(th, "kernel_rates", shifted)
    r = REGISTRY["D12"].run(cl.default_instance(), QUICK)
    assert r.status != AS_EXPECTED
    assert any(not c.as_expected for c in r.checks if "mid-cycle" in c.name)
