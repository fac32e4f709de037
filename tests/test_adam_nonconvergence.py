"""Claim D10 (Reddi, Kale & Kumar 2018): the SymPy cycle analysis against a plain iteration of v, the drift signs
over a range of C, the projected online run against a plain loop, the quick claim, the config, bad inputs and a
wrong theory the claim must catch."""

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sgdtheory.claims.adam_nonconvergence as cl
from sgdtheory.claims import REGISTRY, Settings
from sgdtheory.claims.base import AS_EXPECTED
from sgdtheory.cli import main
from sgdtheory.errors import ConfigError
from sgdtheory.optimizers import AMSGrad, Adam
from sgdtheory.theory import adam_nonconvergence as th

QUICK = Settings(quick=True)
CONFIG = Path(__file__).resolve().parent.parent / "experiments" / "configs" / "adam_nonconvergence.toml"
DER = th.derive()


@settings(max_examples=30, deadline=None)
@given(st.floats(2.05, 50.0))
def test_v_cycle_is_the_limit_of_the_recursion_and_drifts_have_their_signs(C):
    b2 = 1 / (1 + C * C)
    v = 0.0
    for t in range(1, 3 * 2000 + 1):
        v = b2 * v + (1 - b2) * th.gradient(C, t) ** 2
        if t % 3 == 1:
            va = v
        elif t % 3 == 2:
            vb = v
    vc = v
    s = next(iter(DER.v_cycle[0].free_symbols))
    np.testing.assert_allclose([va, vb, vc], [float(x.subs(s, C)) for x in DER.v_cycle], rtol=1e-12)
    at = DER.at(C)
    assert at["adam_drift"] > 0 > at["amsgrad_drift"]
    assert at["adam_drift"] == pytest.approx(-C / np.sqrt(va) + 1 / np.sqrt(vb) + 1 / np.sqrt(vc), rel=1e-12)
    assert at["per_step_regret"] == pytest.approx(2 * (C - 2) / 3)


def _plain(C, alpha, T, x1, ams):
    b2 = 1 / (1 + C * C)
    x, v, vh, reg = x1, 0.0, 0.0, 0.0
    out = [x1]
    for t in range(1, T + 1):
        g = C if t % 3 == 1 else -1.0
        reg += g * (x + 1)
        v = b2 * v + (1 - b2) * g * g
        vh = max(vh, v)
        x = min(1.0, max(-1.0, x - alpha / np.sqrt(t) * g / (np.sqrt(vh if ams else v) + 1e-12)))
        out.append(x)
    return np.array(out), reg / T


@pytest.mark.parametrize("ams", [False, True])
def test_online_run_matches_a_plain_loop(ams):
    inst = cl.OnlineInstance(4.0, 0.3, (0.2,))
    opt = AMSGrad(beta1=0.0, beta2=inst.beta2, eps=1e-12) if ams else Adam(beta1=0.0, beta2=inst.beta2, eps=1e-12,
                                                                            bias_correction=False)
    xs, reg = cl.run_online(inst, opt, 600, 0.2)
    ref, reg_ref = _plain(4.0, 0.3, 600, 0.2, ams)
    np.testing.assert_allclose(xs, ref, rtol=0, atol=1e-13)
    assert reg == pytest.approx(reg_ref, abs=1e-12)


@pytest.fixture(scope="module")
def quick_result(quick_claims):
    return quick_claims["D10"]


def test_quick_claim_as_expected_and_figure(quick_result, tmp_path):
    bad = [(c.name, c.verdict) for c in quick_result.checks if not c.as_expected]
    assert not bad, bad
    paths = REGISTRY["D10"].figure(quick_result, tmp_path)
    assert [Path(p).suffix for p in paths] == [".png", ".pdf"]
    assert "Theorem 1" in REGISTRY["D10"].derive(cl.default_instance())


def test_user_config_via_cli(tmp_path):
    out = tmp_path / "out"
    code = main(["verify", "D10", "--quick", "--config", str(CONFIG), "--out", str(out), "--no-progress", "--no-figures"])
    rec = json.loads((out / "D10.json").read_text())
    assert code == 0, [(c["name"], c["verdict"]) for c in rec["checks"] if c["verdict"] != c["expected"]]
    assert rec["parameters"]["C"] == 5.0


def test_a_wrong_regret_limit_is_caught(monkeypatch, reuse_monte_carlo):
    """The regret limit without the 1/3 per step (2(C - 2) per cycle mistaken for per step) is caught."""
    true = th.CycleDerivation.at
    monkeypatch.setattr(th.CycleDerivation, "at",
                        lambda self, C: {**true(self, C), "per_step_regret": 3 * true(self, C)["per_step_regret"]})
    assert REGISTRY["D10"].run(cl.default_instance(), QUICK).status != AS_EXPECTED


@pytest.mark.parametrize("exp, message", [
    ({"C": 2.0}, "C = 2 is out of range"),
    ({"alpha": 0.0}, "alpha"),
    ({"starts": [1.5]}, "starts = 1.5 is out of range"),
    ({"starts": []}, "starts: need at least one"),
    ({"beta2": 0.5}, "experiment.beta2: unknown field"),
])
def test_bad_configs_name_the_parameter(exp, message):
    with pytest.raises(ConfigError, match=message):
        cl.instance_from_config({"experiment": exp})


@settings(max_examples=15, deadline=None)
@given(st.floats(2.05, 20.0), st.floats(0.05, 2.0))
def test_sympy_cycle_displacement_matches_the_unprojected_optimizers(C, alpha):
    """The SymPy 3-cycle of v predicts each optimizer's displacement over whole cycles without the projection (to
    rounding), and the other method's normalisation does not: the D10 check can fail."""
    import sympy as sp

    inst = cl.OnlineInstance(C=C, alpha=alpha)
    s = sp.Symbol("C", positive=True)
    va, vb, vc = (float(v.subs(s, C)) for v in DER.v_cycle)
    adam = Adam(beta1=0.0, beta2=inst.beta2, eps=1e-12, bias_correction=False)
    ams = AMSGrad(beta1=0.0, beta2=inst.beta2, eps=1e-12)
    t1, t2 = 301, 301 + 3 * 200
    for opt, right, wrong in ((adam, (va, vb, vc), (va, va, va)), (ams, (va, va, va), (va, vb, vc))):
        meas = cl.unprojected_displacement(inst, opt, t1, t2)
        assert meas == pytest.approx(cl.predicted_displacement(inst, right, opt.eps, t1, t2), rel=1e-9)
        assert abs(meas - cl.predicted_displacement(inst, wrong, opt.eps, t1, t2)) > 0.1 * abs(meas)
    assert cl.unprojected_displacement(inst, adam, t1, t2) > 0 > cl.unprojected_displacement(inst, ams, t1, t2)
