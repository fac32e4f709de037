"""Claim C6 (large batches and sharp minima): the problem construction, the transient chain occupancy and the
two-state formula against plain references, the quick claim run, a perturbed theory, bad inputs, the user config."""

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.polynomial import polynomial as npoly
from scipy import integrate, linalg

import sgdtheory.claims.sharp_minima as cs
from sgdtheory.claims import REGISTRY, Settings
from sgdtheory.claims.base import APPROXIMATION, AS_EXPECTED, CLAIM, NEGATIVE_CONTROL
from sgdtheory.cli import main
from sgdtheory.errors import ConfigError, SgdTheoryError
from sgdtheory.theory import basins_1d as bt
from sgdtheory.theory import batch_scaling as bs
from sgdtheory.theory import stationary_1d as sd

QUICK = Settings(quick=True)
CONFIG = Path(__file__).resolve().parent.parent / "experiments" / "configs" / "sharp_minima.toml"


@given(st.floats(0.1, 0.8), st.floats(0.0, 300.0), st.floats(1.0, 200.0), st.floats(-2.0, 2.0))
def test_problem_mean_loss_and_noise(kappa, spread, floor, w):
    quad = kappa**2 / 4 + 0.1
    p = bs.sharp_flat_problem(kappa, quad, spread, floor)
    L = npoly.polymul(npoly.polymul([-1, 0, 1], [-1, 0, 1]), [1, kappa, quad])
    assert p.loss(w) == pytest.approx(float(npoly.polyval(w, L)), abs=1e-9 * (1 + abs(npoly.polyval(w, L))))
    S = sd.noise_variance(p, np.array([w]), 1)[0]
    assert S == pytest.approx(spread * (w + 1) ** 4 / 16 + floor, rel=1e-9)


def test_default_problem_shape():
    p = bs.sharp_flat_problem()
    m = p.local_minima()
    assert np.allclose(m, [-1.0, 1.0]) and [p.curvature(x) for x in m] == pytest.approx([6.0, 14.0])
    assert sd.noise_variance(p, m, 1) == pytest.approx([60.0, 160.0])


@given(st.integers(1, 60), st.floats(-1.2, 1.2))
def test_transient_occupancy_against_dense_powers(K, w0):
    p = bs.sharp_flat_problem()
    ch = bt.DiscreteChain.build(p, 0.004, 1, -2.0, 2.0, n_nodes=201)
    split = 0.13
    P = ch.P.toarray()
    g = ch.grid
    h = g[1] - g[0]
    u = (w0 - g[0]) / h
    k = int(np.floor(u))
    pi = np.zeros(g.size)
    pi[k], pi[k + 1] = 1 - (u - k), u - k
    acc = 0.0
    for _ in range(K):
        acc += pi[g < split].sum()
        pi = pi @ P
    assert bs.transient_occupancy(ch, w0, split, K) == pytest.approx(acc / K, rel=1e-12, abs=1e-15)


@given(st.floats(0.001, 1.0), st.floats(0.001, 1.0), st.floats(0.1, 50.0))
def test_two_state_occupancy_against_the_master_equation(a, b, T):
    Q = np.array([[-a, a], [b, -b]])  # state 0: the sharp basin, state 1: the flat one
    ref = integrate.quad(lambda t: linalg.expm(Q * t)[0, 1], 0.0, T, epsabs=1e-13, epsrel=1e-10)[0] / T
    assert bs.two_state_occupancy(a, b, T) == pytest.approx(ref, rel=1e-5, abs=1e-9)


@pytest.fixture(scope="module")
def quick_result(quick_claims):
    return quick_claims["C6"]


def test_default_instance_quick_as_expected(quick_result):
    bad = [(c.name, c.verdict, c.expected) for c in quick_result.checks if not c.as_expected]
    assert quick_result.status == AS_EXPECTED, bad
    occ = [r["exact"] for r in quick_result.data["rows"] if r["B"] == 1]
    assert all(np.diff(occ) > 0)  # the exact prediction itself grows with eta/B
    stat = quick_result.data["stationary"]
    assert stat[0]["exact"] > stat[1]["exact"]  # the stationary preference falls


def test_roles_are_planned_and_a_near_control_is_posed(quick_result):
    """Issue 13: the Fokker-Planck/Kramers and first-order (B = 2) checks are approximations with expectations planned
    from the exact gap and a planned half-width (never claim checks, never dropped: one per run); the plausible wrong
    answer "no trend" sits within 10 half-widths of its estimate and is rejected."""
    checks = quick_result.checks
    fp = [c for c in checks if c.name.startswith("Fokker-Planck/Kramers two-state occupancy")]
    assert len(fp) == len(cs.default_instance().runs) and all(c.role == APPROXIMATION for c in fp)
    assert all(c.role == APPROXIMATION for c in checks if "to first order" in c.name)
    near = [c for c in checks if c.role == NEGATIVE_CONTROL and c.name.startswith("control: no trend")]
    assert near and min(c.distance_half_widths for c in near) <= 10.0 and all(c.verdict == "rejected" for c in near)
    main_check = quick_result.main_check
    assert main_check.role == CLAIM and main_check.estimate.half_width < 0.05 * main_check.prediction


def test_derivation_and_figure(quick_result, tmp_path):
    text = REGISTRY["C6"].derive(cs.default_instance())
    assert "Sigma(w) = spread L''(w)^2" not in text and "spread" in text
    paths = REGISTRY["C6"].figure(quick_result, tmp_path)
    assert [Path(p).suffix for p in paths] == [".png", ".pdf"] and Path(paths[0]).stat().st_size > 20_000


def test_a_wrong_occupancy_is_caught(monkeypatch):
    """An occupancy prediction off by +0.05 (e.g. a wrong start point) is rejected by the Monte Carlo."""
    true = bs.transient_occupancy
    monkeypatch.setattr(bs, "transient_occupancy", lambda ch, w0, s, K: true(ch, w0, s, K) + 0.05)
    inst = cs.SharpFlatInstance(bs.sharp_flat_problem(), (0.005, 0.0055, 0.006), 30.0, 0.003, (0.003, 0.006))
    assert REGISTRY["C6"].run(inst, QUICK).status != AS_EXPECTED


@pytest.mark.parametrize("kwargs, message", [
    ({"problem": bs.sharp_flat_problem(kappa=0.05, quad=0.01)}, "sharper"),
    ({"ratios": (0.003, 0.004)}, "ratios"),
    ({"ratios": (0.003, 0.004, 0.02)}, "eta"),
    ({"horizon": -1.0}, "horizon"),
    ({"stationary_ratios": (0.003,)}, "stationary_ratios"),
])
def test_bad_inputs_name_the_parameter(kwargs, message):
    args = {"problem": bs.sharp_flat_problem()} | kwargs
    with pytest.raises(SgdTheoryError, match=message):
        cs.SharpFlatInstance(**args)


def test_theory_errors_name_the_parameter():
    with pytest.raises(SgdTheoryError, match="kappa"):
        bs.sharp_flat_problem(kappa=0.8, quad=0.1)
    with pytest.raises(SgdTheoryError, match="floor"):
        bs.sharp_flat_problem(floor=0.0)


@pytest.mark.parametrize("cfg, message", [
    ({"problem": {"kapa": 0.5}}, "problem.kapa"),
    ({"experiment": {"ratio": [0.1]}}, "experiment.ratio"),
    ({"problem": {"spread": -1.0}}, "spread"),
])
def test_bad_configs_name_the_field(cfg, message):
    with pytest.raises(ConfigError, match=message):
        cs.instance_from_config(cfg)


def test_user_config_via_cli(tmp_path):
    out = tmp_path / "out"
    code = main(["verify", "C6", "--quick", "--config", str(CONFIG), "--out", str(out), "--no-progress",
                 "--no-figures"])
    rec = json.loads((out / "C6.json").read_text())
    assert code == 0, [(c["name"], c["verdict"], c["expected"]) for c in rec["checks"] if c["verdict"] != c["expected"]]
    assert rec["parameters"]["name"] == "sharper minimum, noisier examples"
