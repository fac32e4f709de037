"""Claim B7 (two equal minima, unequal gradient noise): the basin kernel against a plain-Python loop on the same
random stream, the exact discrete chain against closed forms and its defining equations, Kramers against the
diffusion's exact MFPT, the quick claim, the user config, bad inputs, and wrong theories the claim must catch."""

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sgdtheory.claims.noisy_minima as cl
from reference_rng import Xoshiro
from sgdtheory._kernels.rng import path_states
from sgdtheory.claims import REGISTRY, Settings
from sgdtheory.claims.base import AS_EXPECTED, CLAIM, NEGATIVE_CONTROL
from sgdtheory.cli import main
from sgdtheory.errors import ConfigError, SgdTheoryError
from sgdtheory.optimizers import SGD, Adam, RMSProp
from sgdtheory.problems import PolynomialFiniteSum1D, reference_batch_gradient
from sgdtheory.simulate import _seed_sequence
from sgdtheory.theory import basins_1d as bt
from sgdtheory.theory import stationary_1d as sd

QUICK = Settings(quick=True)
CONFIG = Path(__file__).resolve().parent.parent / "experiments" / "configs" / "noisy_minima.toml"


def _reference_basin_path(problem, opt, lr, state, w0, split, burn_in, n_steps, lo, hi, stop):
    rng = Xoshiro(state)
    w = np.array([w0])
    s = opt.init_state(1)
    left, passage = 0, -1
    for t in range(burn_in + n_steps):
        if t >= burn_in and w[0] < split:
            left += 1
        idx = [rng.below(problem.n)]
        g, _ = reference_batch_gradient(problem, w, idx, None)
        w, s = opt.reference_step(w, s, g, lr)
        if passage == -1 and (w[0] <= lo or w[0] >= hi):
            passage = t + 1
            if stop:
                break
    return left / n_steps, passage


@pytest.mark.parametrize("opt,lr,stop", [(SGD(), 0.05, True), (SGD(), 0.05, False), (RMSProp(beta=0.9), 0.1, False),
                                         (Adam(), 0.1, True)])
def test_basin_kernel_matches_plain_loop(opt, lr, stop):
    inst = cl.TwoMinimaInstance(bt.cartoon_problem([1.0, -1.0, 0.5, -0.5], [0.5, 0.5, -0.5, -0.5]), 0.01, 1)
    occ, pas = cl.run_basins(inst, opt, lr, 3, 20, 300, -1.0, -1.5, 0.2, stop, 11, (3,))
    states = path_states(_seed_sequence(11, (3,)), 0, 3)
    for p in range(3):
        ref_occ, ref_pas = _reference_basin_path(inst.problem, opt, lr, states[p], -1.0, inst.barrier, 20, 300,
                                                 -1.5, 0.2, stop)
        assert pas[p] == ref_pas
        if not stop:
            assert occ[p] == pytest.approx(ref_occ, abs=1e-15)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 5), st.floats(0.02, 0.2))
def test_chain_rows_are_probabilities_and_preserve_the_mean_step(seed, n, eta):
    """Each row sums to 1 and its mean is the exact expected SGD image (linear splitting keeps means)."""
    rng = np.random.default_rng(seed)
    h = rng.uniform(0.5, 2.0)
    c = rng.standard_normal(n)
    p = PolynomialFiniteSum1D(np.column_stack([np.zeros(n), c - c.mean(), np.full(n, h / 2)]))
    ch = bt.DiscreteChain.build(p, eta, 1, -6.0, 6.0, 1201)
    np.testing.assert_allclose(np.asarray(ch.P.sum(axis=1)).ravel(), 1.0, rtol=1e-12)
    inner = np.abs(ch.grid) < 2.0  # images stay inside the grid: no clipping
    mean_image = ch.P @ ch.grid
    np.testing.assert_allclose(mean_image[inner], (1 - eta * h) * ch.grid[inner], atol=1e-10)


def test_chain_reproduces_the_exact_quadratic_variance():
    """L_i = h w^2/2 + c_i w: w' = (1 - eta h) w - eta c_i, stationary variance eta Var c / (h (2 - eta h))."""
    h, eta = 1.5, 0.1
    c = np.array([1.2, -0.4, 0.9, -1.7])
    c = c - c.mean()
    p = PolynomialFiniteSum1D(np.column_stack([np.zeros(4), c, np.full(4, h / 2)]))
    ch = bt.DiscreteChain.build(p, eta, 1, -2.5, 2.5, 4001)
    pi = ch.stationary()
    var = float(pi @ ch.grid**2 - (pi @ ch.grid) ** 2)
    exact = eta * c.var() / (h * (2 - eta * h))
    hgrid = ch.grid[1] - ch.grid[0]
    assert var == pytest.approx(exact, abs=hgrid**2)  # the splitting adds at most h^2/4 per step, damped


def test_stationary_and_passage_solve_their_equations():
    p = bt.default_problem()
    ch = bt.DiscreteChain.build(p, 0.01, 1, n_nodes=1501)
    pi = ch.stationary()
    np.testing.assert_allclose(pi @ ch.P, pi, atol=1e-13)
    live = np.flatnonzero(ch.grid < 1.0)
    Q = ch.P[live][:, live]
    from scipy.sparse import linalg as splinalg, identity
    tau = splinalg.spsolve(identity(live.size, format="csc") - Q.tocsc(), np.ones(live.size))
    np.testing.assert_allclose(tau - Q @ tau, 1.0, atol=1e-8)
    assert ch.mean_passage_steps(-1.0, 1.0) == pytest.approx(np.interp(-1.0, ch.grid[live], tau))


def test_scaled_noise_keeps_the_loss_and_scales_sigma():
    p = bt.default_problem()
    q = bt.scaled_noise(p, 3.0)
    x = np.linspace(-2, 2, 9)
    np.testing.assert_allclose(sd.mean_loss(q, x), sd.mean_loss(p, x), atol=1e-12)
    np.testing.assert_allclose(sd.noise_variance(q, x), 3.0 * sd.noise_variance(p, x), rtol=1e-12)


def test_kramers_becomes_exact_at_low_temperature():
    """Kramers / exact MFPT of the diffusion -> 1 as the temperature eta Sigma falls (Laplace's method)."""
    p = bt.default_problem()
    errs = []
    for eta in (0.01, 0.005, 0.0025):
        g = sd.default_grid(p, eta, 1, 40001)
        errs.append(abs(bt.kramers_time(p, eta, -1.0, 0.0, 1, g) / sd.mean_first_passage_time(p, eta, -1.0, 1.0, 1, g) - 1))
    assert errs[0] > errs[1] > errs[2] and errs[2] < 0.05


def test_cartoon_problem_has_equal_minima_and_the_stated_noise():
    p = bt.default_problem()
    np.testing.assert_allclose(p.local_minima(), [-1.0, 1.0], atol=1e-12)
    assert p.curvature(-1.0) == pytest.approx(8.0) and p.curvature(1.0) == pytest.approx(8.0)
    assert sd.mean_loss(p, np.array([-1.0, 1.0])) == pytest.approx([0.0, 0.0], abs=1e-12)
    np.testing.assert_allclose(sd.noise_variance(p, np.array([-1.0, 1.0])), [40.0, 80.0], rtol=1e-12)


@pytest.fixture(scope="module")
def quick_result(quick_claims):
    return quick_claims["B7"]


def test_quick_claim_as_expected(quick_result):
    bad = [(c.name, c.verdict, str(c.estimate)) for c in quick_result.checks if not c.as_expected]
    assert not bad, bad
    roles = [c.role for c in quick_result.checks]
    assert roles.count(NEGATIVE_CONTROL) >= 5 and roles.count(CLAIM) >= 8
    d = quick_result.data
    assert d["occ_exact"] > 0.8 and d["mfpt"]["exact"][0] > 4 * d["mfpt"]["exact"][1]
    gaps = [abs(x - d["occ_fp"]) for x in d["limit"]["occ"]]
    assert all(g1 > 1.8 * g2 for g1, g2 in zip(gaps, gaps[1:]))  # O(eta) approach of the Langevin limit


def test_figure_and_derivation(quick_result, tmp_path):
    paths = REGISTRY["B7"].figure(quick_result, tmp_path)
    assert [Path(p).suffix for p in paths] == [".png", ".pdf"] and Path(paths[0]).stat().st_size > 20_000
    assert "Kramers" in REGISTRY["B7"].derive(cl.default_instance())


def test_user_config_via_cli(tmp_path):
    out = tmp_path / "out"
    code = main(["verify", "B7", "--quick", "--config", str(CONFIG), "--out", str(out), "--no-progress", "--no-figures"])
    rec = json.loads((out / "B7.json").read_text())
    assert code == 0, [(c["name"], c["verdict"]) for c in rec["checks"] if c["verdict"] != c["expected"]]
    assert rec["parameters"]["n"] == 6


def test_a_wrong_occupancy_theory_is_caught(monkeypatch, reuse_monte_carlo):
    """A chain that ignores the noise's state dependence (Sigma at its mean over the two minima) predicts ~1/2."""
    true = bt.DiscreteChain.mass_below
    monkeypatch.setattr(bt.DiscreteChain, "mass_below", lambda self, s: 1.0 - true(self, s))
    assert REGISTRY["B7"].run(cl.default_instance(), QUICK).status != AS_EXPECTED


@pytest.mark.parametrize("cfg, message", [
    ({"problem": {"b": [1.0, -1.0]}}, "problem: give b and c"),
    ({"problem": {"b": [1.0, -1.0], "c": [1.0]}}, "b, c: expected two 1-D arrays"),
    ({"problem": {"coeffs": [[0.0, 0.0, 1.0]]}}, "exactly two local minima"),
    ({"problem": {"b": [1.0, -1.0], "c": [0.0, 0.0]}}, "agree exactly at a minimum"),
    ({"problem": {"b": [1.0, -1.0], "c": [1.0, -1.0]}, "experiment": {"eta": 0.5}}, "eta"),
    ({"problem": {"b": [1.0, -1.0], "c": [1.0, -1.0]}, "experiment": {"lr": 0.5}}, "experiment.lr: unknown field"),
    ({"problem": {"b": [1.0, -1.0], "c": [1.0, -1.0]}, "experiment": {"batch_size": 0}}, "batch_size"),
])
def test_bad_configs_name_the_parameter(cfg, message):
    with pytest.raises(ConfigError, match=message):
        cl.instance_from_config(cfg)


def test_too_rare_escapes_are_refused():
    """Tiny noise: the escape takes far longer than a run, so occupancy cannot be measured; said, not guessed."""
    inst = cl.TwoMinimaInstance(bt.cartoon_problem([1.0, -1.0], [1.0, -1.0]), 0.01, 1)
    with pytest.raises(SgdTheoryError, match="eta: the slower escape takes"):
        REGISTRY["B7"].run(inst, QUICK)


def test_planned_half_widths_of_the_exact_chain_match_two_state_references():
    """The plans behind B7's Langevin roles: the occupancy's asymptotic variance (Poisson equation) and the passage
    time's variance (second moment) against closed forms for a two-state chain."""
    from scipy import sparse

    from sgdtheory.claims import noisy_minima as nm
    from sgdtheory.theory import basins_1d as bt

    a, b = 0.03, 0.07
    P = sparse.csr_matrix(np.array([[1 - a, a], [b, 1 - b]]))
    chain = bt.DiscreteChain(np.array([-1.0, 1.0]), P, 0.01, 1)
    pi0 = b / (a + b)
    lam = 1 - a - b
    assert nm.occupancy_asymptotic_variance(chain, 0.0) == pytest.approx(pi0 * (1 - pi0) * (1 + lam) / (1 - lam),
                                                                           rel=1e-10)
    assert nm.passage_variance(chain, -1.0, 1.0) == pytest.approx((1 - a) / a**2, rel=1e-10)
    assert nm.passage_variance(chain, 1.0, -1.0) == pytest.approx((1 - b) / b**2, rel=1e-10)
