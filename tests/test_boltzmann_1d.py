"""Claim B1 (one-dimensional Boltzmann law): the stationary-law theory against plain numpy / scipy / SymPy
references, bad inputs, the user config via the CLI, and perturbed theories that the claim must catch."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

import sgdtheory.claims.boltzmann_1d as cl
from sgdtheory.claims import REGISTRY, Settings
from sgdtheory.claims.base import ADEQUATE, APPROXIMATION, CLAIM, NEGATIVE_CONTROL
from sgdtheory.cli import main
from sgdtheory.config import load
from sgdtheory.errors import ConfigError, SgdTheoryError
from sgdtheory.problems import PolynomialFiniteSum1D
from sgdtheory.theory import stationary_1d as th

QUICK = Settings(quick=True)
CONFIG = Path(__file__).resolve().parent.parent / "experiments" / "configs" / "boltzmann_1d.toml"


# -- theory against references ---------------------------------------------------------------------------------


def test_symbolic_fokker_planck_and_quadratic_variance():
    sym = th.symbolic_fokker_planck()
    assert all(f == 0 for f in sym["flux"].values())
    phi, eta, sigma, B, Lf, _ = sym["symbols"]
    assert sympy.simplify(sym["constant_noise_exponent"] + 2 * B * Lf(phi) / (eta * sigma**2)) == 0
    q = th.symbolic_quadratic_variance()
    e, h, s, Bq = q["symbols"]
    assert sympy.simplify(q["discrete"] - e * s**2 / (Bq * h * (2 - e * h))) == 0
    assert sympy.simplify(q["ratio"] - (1 - e * h / 2)) == 0


@settings(max_examples=12)
@given(st.floats(0.2, 5.0), st.floats(0.05, 1.95), st.floats(0.1, 3.0))
def test_nystrom_reproduces_the_exact_discrete_variance(h, eta_h, sigma):
    eta = eta_h / h
    prob = PolynomialFiniteSum1D([[0.0, 0.0, 0.5 * h]], sigma, reference=0.0)
    law = th.discrete_stationary_law(prob, eta)
    v = th.discrete_variance(h, sigma, eta)
    assert law.moment(2) == pytest.approx(v, rel=1e-8)
    assert abs(law.moment(1)) < 1e-8 * math.sqrt(v)
    # the whole law is the Gaussian N(0, v)
    x = np.linspace(-4, 4, 41) * math.sqrt(v)
    assert np.max(np.abs(law.cdf_at(x) - stats.norm.cdf(x, scale=math.sqrt(v)))) < 1e-8


@given(st.floats(0.3, 3.0), st.floats(-0.3, 0.3), st.floats(0.005, 0.05))
def test_boltzmann_density_against_quad(T, tilt, eta):
    """Constant noise: the tabulated density equals exp(-2L/(eta sigma^2)) normalised by scipy.integrate.quad."""
    sigma = math.sqrt(2 * T / eta)
    prob = PolynomialFiniteSum1D([[1.0, tilt, -2.0, 0.0, 1.0]], sigma)
    dens = th.fokker_planck_density(prob, eta)
    f = lambda w: math.exp(-(prob.loss(w) - prob.loss(prob.reference)) / T)  # noqa: E731
    Z = integrate.quad(f, -6, 6, points=[-1, 0, 1], limit=200)[0]
    for w in (-1.2, -0.3, 0.0, 0.8):
        assert dens.pdf_at(w) == pytest.approx(f(w) / Z, rel=1e-5)
        ref = integrate.quad(f, -6, w, points=[p for p in (-1, 0) if p < w] or None, limit=200)[0] / Z
        assert dens.cdf_at(w) == pytest.approx(ref, abs=1e-6)


@given(st.floats(1.0, 6.0), st.floats(2.5, 4.0), st.floats(1.0, 8.0))
def test_fokker_planck_state_dependent_against_quad(c, b, s0):
    """p ∝ (1/D) exp(-∫ L'/D) with D = eta (Sigma + s0^2)/2: against scipy quad of the same formula."""
    eta = 0.005
    prob = PolynomialFiniteSum1D([[1.0, c * b, -2 + c / 2, 0, 1], [1.0, -c * b, -2 - c / 2, 0, 1]], s0)
    D = lambda w: eta * (c**2 * (w + b) ** 2 + s0**2) / 2  # noqa: E731  Sigma(w) = c^2 (w + b)^2
    assert th.diffusion(prob, eta, 0.3) == pytest.approx(D(0.3), rel=1e-12)
    U = lambda w: integrate.quad(lambda s: (4 * s**3 - 4 * s) / D(s), 0.0, w)[0] + math.log(D(w))  # noqa: E731
    dens = th.fokker_planck_density(prob, eta)
    pts = [-1.0, -0.5, 0.2, 1.0]
    ratio = [dens.pdf_at(w) / math.exp(-U(w)) for w in pts]
    assert np.allclose(ratio, ratio[0], rtol=1e-5)
    # the Stratonovich and isothermal variants differ by D^(1/2) and D
    for conv, a in (("stratonovich", 0.5), ("isothermal", 0.0)):
        d2 = th.fokker_planck_density(prob, eta, convention=conv)
        r = [d2.pdf_at(w) / math.exp(-U(w) + (1 - a) * math.log(D(w))) for w in pts]
        assert np.allclose(r, r[0], rtol=1e-5)


def test_mean_first_passage_time_against_kramers():
    """Double well at low temperature: MFPT -> 2 pi / sqrt(L''(min) |L''(top)|) exp(dL / T) (Kramers)."""
    T, eta = 0.08, 0.01
    prob = PolynomialFiniteSum1D([[1.0, 0.0, -2.0, 0.0, 1.0]], math.sqrt(2 * T / eta))
    tau = th.mean_first_passage_time(prob, eta, -1.0, 1.0)
    kramers = 2 * math.pi / math.sqrt(8 * 4) * math.exp(1 / T)
    assert tau == pytest.approx(kramers, rel=0.15)  # first correction O(T) ~ 10%
    assert th.mean_first_passage_time(prob, eta, 1.0, -1.0) == pytest.approx(tau, rel=1e-6)  # symmetry


def test_batch_components_are_the_multinomial():
    counts, probs = th.batch_components(3, 2)
    assert counts.shape == (6, 3) and probs.sum() == pytest.approx(1.0)
    assert np.all(counts.sum(axis=1) == 2)
    rng = np.random.default_rng(1)
    draws = np.sort(rng.integers(0, 3, size=(200000, 2)), axis=1)
    for c, p in zip(counts, probs):
        combo = np.repeat(np.arange(3), c.astype(int))
        freq = np.mean(np.all(draws == combo, axis=1))
        assert freq == pytest.approx(p, abs=0.005)


def test_nystrom_minibatch_mixture_matches_a_long_simulation_moment():
    """n = 2, B = 1 mixture kernel on a quadratic finite sum: the exact discrete variance is known in closed form:
    w' = (1 - eta h) w - eta (g_i + s0 xi), g_i = +-c: v = eta^2 (c^2 + s0^2) / (1 - (1 - eta h)^2)."""
    h, c, s0, eta = 1.0, 2.0, 0.5, 0.7
    prob = PolynomialFiniteSum1D([[0.0, c, 0.5 * h], [0.0, -c, 0.5 * h]], s0)
    law = th.discrete_stationary_law(prob, eta)
    assert law.moment(2) == pytest.approx(eta**2 * (c**2 + s0**2) / (1 - (1 - eta * h) ** 2), rel=1e-7)


def test_dkw_and_distance_helpers():
    assert th.dkw_half_width(1000, 0.9999) == pytest.approx(math.sqrt(math.log(2e4) / 2000))
    assert cl._gauss_distance(3.0, 0.75) == pytest.approx(
        np.max(np.abs(stats.norm.cdf(np.linspace(-8, 8, 200001), scale=math.sqrt(3)) -
                      stats.norm.cdf(np.linspace(-8, 8, 200001), scale=math.sqrt(0.75)))), abs=1e-8)
    x = np.random.default_rng(0).standard_normal(4000)
    est = cl.gof_estimate(x, stats.norm.cdf, 0.9999)
    assert est.value == pytest.approx(stats.kstest(x, "norm").statistic)
    assert est.low == est.value - th.dkw_half_width(4000, 0.9999)
    assert cl.detection_eta(1.0, 65536) == pytest.approx(2 * 3.8906 * math.sqrt(2 / 65536), rel=1e-3)


def test_transient_chain_is_refused():
    prob = PolynomialFiniteSum1D([[1.0, 0.0, -2.0, 0.0, 1.0]], math.sqrt(10.0))
    with pytest.raises(SgdTheoryError, match="the chain is transient"):
        th.discrete_stationary_law(prob, 0.1)


# -- bad inputs ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cfg, message", [
    ({"problem": {"sigma": 1.0}}, "problem.sigma: unknown field"),
    ({"experiment": {"etas": [0.1]}}, "experiment.etas: unknown field"),
    ({"problem": {"quadratic_h": -1.0}}, "problem.quadratic_h = -1 is out of range"),
    ({"experiment": {"quadratic_eta": 2.5}}, "experiment.quadratic_eta = 2.5 is out of range"),
    ({"experiment": {"quadratic_eta": 0.1}}, "experiment.quadratic_eta = 0.1: the Langevin variance differs"),
    ({"experiment": {"quadratic_etas": [0.1, 0.2]}}, "experiment.quadratic_etas: need at least 3"),
    ({"experiment": {"quadratic_etas": [0.001, 0.002, 0.004]}}, "experiment.quadratic_etas: no learning rate is large"),
    ({"problem": {"double_well_coeffs": [[1.0, 0.0, -2.0, 0.0, 1.0], [1.0, 0.0, -2.0, 0.0, 1.0]]}},
     "problem.double_well_coeffs: must have one row"),
    ({"problem": {"double_well_coeffs": [[1.0, 0.0, -2.0, 1.0]]}}, "problem.double_well_coeffs: the mean loss"),
    ({"experiment": {"double_well_eta_large": 0.3}}, "experiment.double_well_eta_large = 0.3 is out of range"),
    ({"experiment": {"double_well_eta_large": 0.1}},
     "experiment.double_well_eta_large: eta = 0.1: the chain is transient"),
    ({"experiment": {"double_well_eta_large": 0.01}}, "experiment.double_well_eta_large: the Boltzmann"),
    ({"problem": {"double_well_noise_sd": 7.0710678}, "experiment": {"double_well_eta_small": 0.02}},
     "experiment.double_well_eta_small: the Boltzmann"),
    ({"experiment": {"double_well_eta_small": 0.03}}, "experiment.double_well_eta_small: eta = 0.03: the chain is"),
    ({"problem": {"double_well_noise_sd": 6.0}}, "experiment.double_well_eta_small: the run would need"),
    ({"problem": {"coeffs": [[1.0, 0.0, -2.0, 0.0, 1.0]]}}, "problem.coeffs: need n >= 2"),
    ({"problem": {"noise_sd": 0.0}}, "problem.noise_sd = 0 is out of range"),
    ({"problem": {"coeffs": [[1.0, 0.3, -2.0, 0.0, 1.0], [1.0, -0.3, -2.0, 0.0, 1.0]]}},
     "problem.coeffs: the Boltzmann with Sigma frozen"),
    ({"experiment": {"batch_size": 0}}, "experiment.batch_size = 0 is out of range"),
])
def test_bad_configs_name_the_parameter(cfg, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(".", r"\.").replace("*", r"\*")):
        cl.instance_from_config(cfg)


def test_theory_errors_name_the_parameter():
    with pytest.raises(SgdTheoryError, match="eta = 2.5 is out of range"):
        th.discrete_variance(1.0, 1.0, 2.5)
    with pytest.raises(SgdTheoryError, match="problem: expected a PolynomialFiniteSum1D"):
        th.fokker_planck_density(object(), 0.1)
    with pytest.raises(SgdTheoryError, match="convention: unknown"):
        th.fokker_planck_density(PolynomialFiniteSum1D([[0.0, 0.0, 1.0]], 1.0), 0.1, convention="klimontovich")


# -- the claim --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def default(quick_claims):
    return quick_claims.instance("B1")


@pytest.fixture(scope="module")
def quick_result(quick_claims):
    return quick_claims["B1"]


def test_default_instance_quick_as_expected(quick_result):
    bad = [(c.name, c.verdict, str(c.estimate)) for c in quick_result.checks if not c.as_expected]
    assert not bad, bad
    roles = [c.role for c in quick_result.checks]
    assert roles.count(NEGATIVE_CONTROL) >= 15 and roles.count(CLAIM) >= 16 and roles.count(APPROXIMATION) >= 8
    sweep = quick_result.data["sweep"]
    rows = sweep["rows"]
    last_adequate = max(r["eta"] for r in rows if r["role"] == APPROXIMATION and r["expect"] == ADEQUATE)
    first_control = min(r["eta"] for r in rows if r["role"] == NEGATIVE_CONTROL)
    assert last_adequate < sweep["eta_detect_predicted"] < first_control
    assert last_adequate < sweep["first_grid_eta_observed"] <= first_control
    assert all(r["gap"] >= cl.CONTROL_GAP * r["half_width"] for r in rows if r["role"] == NEGATIVE_CONTROL)
    for r in rows:  # the replica half-width is the predicted z sqrt(2/P) to within sampling error
        hw = 0.5 * (r["estimate"]["high"] - r["estimate"]["low"])
        assert hw == pytest.approx(r["half_width"], rel=0.1)
    assert "detectably wrong" in quick_result.data["closing_note"]


def test_gof_checks_and_mixing(quick_result):
    by = {c.name: c for c in quick_result.checks}
    ito = next(c for n, c in by.items() if "Ito Fokker-Planck" in n and c.role == APPROXIMATION)
    assert ito.expect == ADEQUATE and ito.verdict == ADEQUATE and ito.estimate.high <= cl.RES_GOF
    # the SymPy flux identities hold by construction: shown in the derivation, not counted as checks
    assert not any(n.startswith("SymPy:") for n in by)
    strat = next(c for n, c in by.items() if "Stratonovich" in n)
    assert strat.role == NEGATIVE_CONTROL and strat.verdict == "rejected"
    mass = [c for n, c in by.items() if "P(w > barrier" in n and c.role == CLAIM]
    assert len(mass) == 4 and all(c.verdict == "verified" for c in mass)


def test_derivation_and_figure(quick_result, default, tmp_path):
    text = REGISTRY["B1"].derive(default)
    assert "v_L/v = -eta*h/2 + 1" in text and "Ito" in text
    assert REGISTRY["B1"].derive(default, latex=True).startswith("\\begin{verbatim}")
    paths = REGISTRY["B1"].figure(quick_result, tmp_path)
    assert [Path(p).suffix for p in paths] == [".png", ".pdf"] * 2 and Path(paths[0]).stat().st_size > 20_000
    assert Path(paths[3]).stem == Path(paths[1]).stem + "_more"  # secondary panels: the paper's appendix


def test_user_config_via_cli(tmp_path):
    out = tmp_path / "out"
    code = main(["verify", "B1", "--quick", "--config", str(CONFIG), "--out", str(out), "--no-progress",
                 "--no-figures"])
    rec = json.loads((out / "B1.json").read_text())
    assert code == 0, [(c["name"], c["verdict"], c["expected"]) for c in rec["checks"] if c["verdict"] != c["expected"]]
    assert rec["parameters"]["state_dependent"]["batch_size"] == 2
    inst = cl.instance_from_config(load(CONFIG))
    assert inst.name.startswith("tilted double well")


def test_a_wrong_discrete_variance_is_caught(monkeypatch, default):
    """The Langevin variance used as the 'exact' one turns the quadratic checks UNEXPECTED."""
    inst = default
    monkeypatch.setattr(th, "discrete_variance", lambda h, s, eta, B=1: th.langevin_variance(h, s, eta, B))
    sym = th.symbolic_quadratic_variance()
    e, h, s, B = sym["symbols"]
    monkeypatch.setitem(sym, "discrete", sym["langevin"])
    data = {}
    checks = cl._quadratic_checks(inst, QUICK, data)
    assert any(not c.as_expected for c in checks)


def test_a_wrong_temperature_is_caught(monkeypatch):
    """Boltzmann at twice the temperature (exp(-L/(eta sigma^2))) as the prediction fails the double-well fit."""
    true = th.boltzmann_density
    monkeypatch.setattr(th, "boltzmann_density", lambda p, eta, v, grid=None, B=1: true(p, eta, 2 * v, grid, B))
    with pytest.raises(SgdTheoryError, match=r"double_well\.eta_small: the Boltzmann .* fails with probability 1 "):
        cl.default_instance()
