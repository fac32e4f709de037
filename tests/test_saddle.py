"""Claim A8 (strict saddle escape): the exit-time theory against direct numerical references, the
engine's exit step against a plain-Python path on the same random stream, bad inputs, the user config
via the CLI, and perturbed theories that the claim must catch."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, special

from reference_rng import Xoshiro
from sgdtheory._kernels.rng import path_states
from sgdtheory.claims import REGISTRY, Settings
from sgdtheory.claims import saddle as cs
from sgdtheory.claims.base import AS_EXPECTED, CLAIM, NEGATIVE_CONTROL
from sgdtheory.cli import main
from sgdtheory.errors import ConfigError, SgdTheoryError
from sgdtheory.problems import SaddleQuadratic, reference_batch_gradient
from sgdtheory.simulate import simulate
from sgdtheory.theory import saddle as th

QUICK = Settings(quick=True)
CONFIG = Path(__file__).resolve().parent.parent / "experiments" / "configs" / "saddle.toml"


# -- theory against plain references -------------------------------------------------------------------


@given(st.floats(0.01, 1.0), st.floats(0.1, 10.0), st.floats(1e-6, 1.0), st.integers(1, 60))
def test_unstable_sd_is_the_geometric_sum(eta, lam, sigma, k):
    a = 1 + eta * lam
    ref = eta * sigma * math.sqrt(sum(a ** (2 * j) for j in range(k)))
    assert th.unstable_sd(eta, lam, sigma, k) == pytest.approx(ref, rel=1e-12)


def _floor_law_moments(eta, lam, sigma_u, R):
    """E and Var of floor(x) + 1, x = (log R - log|Z|)/log a, Z ~ N(0, s^2): direct quadrature over |Z|."""
    s = th.limit_scale(eta, lam, sigma_u)
    la = math.log1p(eta * lam)
    # floor(x) + 1 = k + 1 on R a^{-k-1} < |Z| <= R a^{-k}
    m1 = m2 = 0.0
    for k in range(0, int((math.log(R / s) + 60.0) / la)):
        a = 1 + eta * lam
        p = float(special.erf(R * a ** -k / (s * math.sqrt(2))) - special.erf(R * a ** (-k - 1) / (s * math.sqrt(2))))
        m1 += (k + 1) * p
        m2 += (k + 1) ** 2 * p
    p_neg = float(special.erfc(R / (s * math.sqrt(2))))  # |Z| > R: x < 0, floor(x) + 1 <= 0 (negligible here)
    assert p_neg < 1e-12 and la > 0
    return m1, m2 - m1 * m1


@given(st.floats(0.05, 1.2), st.floats(1e-9, 1e-4))
def test_asymptotic_law_against_direct_quadrature(eta_lam, sigma):
    eta, lam, R = 0.1, eta_lam / 0.1, 1.0
    mean, var = _floor_law_moments(eta, lam, sigma, R)
    tol = th.periodic_bound(eta, lam) + 1e-9
    assert th.asymptotic_mean(eta, lam, sigma, R) == pytest.approx(mean, abs=tol, rel=1e-10)
    # Var: frac(x) uniform and independent of x up to the same Fourier terms (times E tau)
    assert th.asymptotic_variance(eta, lam) == pytest.approx(var, abs=1e-6 + 2 * mean * tol)


def test_symbolic_laws_against_quadrature():
    laws = th.symbolic_laws()
    f = lambda x, p: 2 * np.log(x) ** p * np.exp(-x * x / 2) / np.sqrt(2 * np.pi)  # noqa: E731
    m1 = integrate.quad(f, 0, 1, args=(1,))[0] + integrate.quad(f, 1, np.inf, args=(1,))[0]
    m2 = integrate.quad(f, 0, 1, args=(2,))[0] + integrate.quad(f, 1, np.inf, args=(2,))[0]
    assert float(laws["E_log_abs_normal"]) == pytest.approx(m1, rel=1e-9)
    assert float(laws["Var_log_abs_normal"]) == pytest.approx(m2 - m1 * m1, rel=1e-9)
    assert th.E_LOG_ABS_NORMAL == pytest.approx(float(laws["E_log_abs_normal"]), rel=1e-15)
    eta, lam = 0.1, 5.0
    sub = {"eta": eta, "lambda": lam}
    slope = float(laws["slope"].subs({s: sub[s.name] for s in laws["slope"].free_symbols}))
    assert slope == pytest.approx(th.asymptotic_slope(eta, lam), rel=1e-12)
    assert laws["slope_small_eta"] == 1 / [s for s in laws["slope"].free_symbols if s.name == "lambda"][0]


@given(st.floats(0.05, 1.0), st.floats(0.5, 6.0), st.floats(0.5, 9.0), st.floats(1e-8, 1e-2), st.floats(0.1, 0.9))
def test_gd_exit_step_and_distance_against_a_float_loop(eta, lam, mu, eps, x0):
    if eta * mu >= 2:
        return
    h, delta0, R = np.array([-lam, mu]), np.array([eps, x0]), 1.0
    k, margin = th.gd_exit_step(eta, h, delta0, R)
    d, j = delta0.copy(), 0
    while True:
        d = d - eta * h * d
        j += 1
        if d @ d > R * R:
            break
    if margin > 1e-10:
        assert j == k
    T = 37
    assert th.gd_distance(eta, h[1:], delta0[1:], T) == pytest.approx(abs((1 - eta * mu) ** T * x0), rel=1e-12)


@pytest.mark.parametrize("sigma", [1e-2, 1e-5])
def test_exit_moment_brackets_are_ordered_and_tight(sigma):
    fr = th.eigen_frame(np.diag([-5.0, 8.0]), np.eye(2))
    m = th.exit_time_moments(fr, 0.1, sigma, 1.0)
    assert m.mean_low <= m.mean_high and m.var_low <= m.var_high and m.second_low <= m.second_high
    assert m.mean_gap < 1e-4 and m.var_gap < 2e-3
    # the asymptotic law lies within the bracket up to the periodic term and O(sigma^2)
    tol = th.periodic_bound(0.1, 5.0) + 2e-5
    assert m.mean_low - tol <= th.asymptotic_mean(0.1, 5.0, sigma, 1.0) <= m.mean_high + tol
    assert m.var_low - 40 * tol <= th.asymptotic_variance(0.1, 5.0) <= m.var_high + 40 * tol
    # truncating at a horizon keeps E min(tau, n+1) <= E tau and equals it once n is large
    n = th.horizon_for(fr, 0.1, sigma, 1.0, 10**6)
    assert th.exit_time_moments(fr, 0.1, sigma, 1.0, horizon=n).mean == pytest.approx(m.mean, abs=1e-9)
    assert th.exit_time_moments(fr, 0.1, sigma, 1.0, horizon=int(m.mean)).mean_high < m.mean_low


def test_engine_exit_step_matches_a_plain_python_path():
    """diverged_at = first k >= 1 with |w_k - w_s|^2 > R^2, on the same random stream (the off-by-one)."""
    H = np.array([[-1.0, 0.4], [0.4, 2.0]])
    p = SaddleQuadratic(H, 0.09 * np.array([[1.0, 0.3], [0.3, 0.5]]), np.array([0.5, -1.0]))
    eta, R, n_paths, seed, key = 0.3, 0.8, 6, 11, (0xA8, 999)
    res = simulate(p, eta, n_steps=200, n_paths=n_paths, seed=seed, seed_key=key, w0=p.w_star,
                   check_stability=False, divergence_threshold=R * R)
    states = path_states(np.random.SeedSequence(seed, spawn_key=key), 0, n_paths)
    for k in range(n_paths):
        rng, w, tau = Xoshiro(states[k]), p.w_star.copy(), -1
        for t in range(200):
            g, _ = reference_batch_gradient(p, w, [0], np.array([rng.normal() for _ in range(2)]))
            w = w - eta * g
            if (w - p.w_star) @ (w - p.w_star) > R * R:
                tau = t + 1
                break
        assert res.diverged_at[k] == tau > 0


# -- the claim ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quick_result(quick_claims):
    return quick_claims["A8"]


def test_default_instance_quick_as_expected(quick_result):
    bad = [(c.name, c.verdict, str(c.estimate)) for c in quick_result.checks if not c.as_expected]
    assert not bad, bad
    roles = {c.role for c in quick_result.checks}
    assert CLAIM in roles and NEGATIVE_CONTROL in roles
    assert sum(c.role == NEGATIVE_CONTROL for c in quick_result.checks) >= 5


def test_derivation_text():
    text = REGISTRY["A8"].derive(cs.default_a8())
    assert "EulerGamma" in text and "pi**2/8" in text


def test_user_config_via_cli(tmp_path):
    out = tmp_path / "out"
    code = main(["verify", "A8", "--quick", "--config", str(CONFIG), "--out", str(out), "--no-progress", "--no-figures"])
    rec = json.loads((out / "A8.json").read_text())
    assert code == 0, [(c["name"], c["verdict"], c["expected"]) for c in rec["checks"]]
    assert rec["parameters"]["d"] == 3


def _cfg(**over):
    cfg = {"problem": {"H": [[-1.0, 0.0], [0.0, 2.0]]},
           "experiment": {"eta": 0.2, "radius": 1.0, "sigmas": [1e-3, 1e-5, 1e-7]}}
    for key, val in over.items():
        sec, field = key.split("__")
        if val is None:
            cfg[sec].pop(field, None)
        else:
            cfg[sec][field] = val
    return cfg


@pytest.mark.parametrize("over,match", [
    ({"problem__H": None}, r"problem\.H: required"),
    ({"problem__H": [[1.0, 0.0], [0.0, 2.0]]}, r"problem\.H: .*negative eigenvalue"),
    ({"problem__H": [[-1.0, 0.0], [0.0, -2.0]]}, r"problem\.H: .*exactly one negative eigenvalue"),
    ({"problem__H": [[-1.0, 0.0], [0.0, 0.0]]}, r"problem\.H: .*non-degenerate"),
    ({"problem__H": [[-1.0]]}, r"problem\.H: a saddle needs d >= 2"),
    ({"problem__C": [[0.0, 0.0], [0.0, 1.0]]}, r"problem\.C: the noise has no component along the unstable"),
    ({"problem__C": [[1.0, 0.0], [0.0, -1.0]]}, r"problem\.C: must be positive semidefinite"),
    ({"problem__foo": 1}, r"problem\.foo: unknown field"),
    ({"experiment__eta": 1.0}, r"experiment\.eta = 1 is out of range: .*eta < 2/mu_max = 1"),
    ({"experiment__eta": -0.1}, r"experiment\.eta = -0.1 is out of range"),
    ({"experiment__eta": None}, r"experiment\.eta: required"),
    ({"experiment__radius": 0.0}, r"experiment\.radius = 0 is out of range"),
    ({"experiment__sigmas": [1e-3, 1e-5]}, r"experiment\.sigmas: need at least 3"),
    ({"experiment__sigmas": [1e-3, -1e-5, 1e-7]}, r"experiment\.sigmas: need at least 3 distinct positive"),
    ({"experiment__sigmas": [0.3, 1e-5, 1e-7]}, r"experiment\.sigmas: sigma = 0.3 is too large"),
    ({"experiment__sigmas": [1e-3, 1e-5, 1e-200]}, r"experiment\.sigmas: every noise level must be >= 1e-100"),
    ({"experiment__gd_start": 1.5}, r"experiment\.gd_start = 1.5 is out of range: valid range is \(0, 1\)"),
    ({"experiment__gd_offset": 0.0}, r"experiment\.gd_offset = 0 is out of range"),
    ({"experiment__gd_steps": 0}, r"experiment\.gd_steps = 0 is out of range"),
])
def test_bad_config_names_the_field(over, match):
    with pytest.raises(ConfigError, match=match):
        cs.a8_from_config(_cfg(**over))


def test_good_minimal_config_and_offset_on_the_sphere():
    inst = cs.a8_from_config(_cfg())
    assert inst.gd_start == 0.5 and inst.gd_offset == 1e-6 and inst.sigmas == (1e-3, 1e-5, 1e-7)
    # an offset whose GD exit lands exactly on the sphere cannot be resolved in float64
    a = 1 + 0.2 * 1.0
    with pytest.raises(SgdTheoryError, match="gd_offset"):
        cs.SaddleInstance(np.diag([-1.0, 2.0]), np.eye(2), np.zeros(2), eta=0.2, radius=1.0,
                          sigmas=(1e-3, 1e-5, 1e-7), gd_start=1e-300, gd_offset=a ** -10)


# -- perturbed theories are caught ---------------------------------------------------------------------


@pytest.mark.parametrize("target,fake", [
    ("asymptotic_slope", lambda eta, lam: 1.0 / (eta * lam)),                 # gradient-flow slope
    ("asymptotic_slope", lambda eta, lam: 1.05 / math.log1p(eta * lam)),      # 5% off
    ("asymptotic_intercept", lambda eta, lam, nu, R: th.asymptotic_mean(eta, lam, math.sqrt(nu), R) - 0.5),
    ("gd_exit_step", lambda eta, h, d0, R: (th.gd_exit_step_continuous(eta, -h[0], d0[0], R), 1.0)),
])
def test_a_wrong_theory_is_caught(monkeypatch, target, fake, reuse_monte_carlo):
    inst = cs.default_a8()
    monkeypatch.setattr(th, target, fake)
    assert REGISTRY["A8"].run(inst, QUICK).status != AS_EXPECTED


def test_wrong_exit_law_is_caught(monkeypatch, reuse_monte_carlo):
    """Dropping E log(1/|N|) from the finite-sigma prediction (the 'noise scale reaches R' guess)."""
    inst = cs.default_a8()
    true = th.exit_time_moments

    def fake(frame, eta, sigma, R, horizon=None):
        m = true(frame, eta, sigma, R, horizon)
        shift = -th.E_LOG_ABS_NORMAL / math.log1p(eta * frame.lam)
        return th.ExitMoments(m.mean_low - shift, m.mean_high - shift, m.second_low, m.second_high, m.var_low,
                              m.var_high, m.n_terms, m.rho)

    monkeypatch.setattr(th, "exit_time_moments", fake)
    assert REGISTRY["A8"].run(inst, QUICK).status != AS_EXPECTED
