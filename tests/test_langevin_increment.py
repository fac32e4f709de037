"""Claim B6 (Langevin increment) and erratum E5: the SymPy derivation, the Langevin covariance V(dt) against a
plain scipy quadrature of its integral and against the exact moment recursion as eta -> 0, the quick claims,
bad inputs, the user config via the CLI, and wrong theories the claims must catch."""

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, linalg

import sgdtheory.claims.langevin_increment as cl
from sgdtheory.claims import REGISTRY, Settings
from sgdtheory.claims.base import AS_EXPECTED, AS_PRINTED, CLAIM, NEGATIVE_CONTROL
from sgdtheory.cli import main
from sgdtheory.errors import ConfigError, SgdTheoryError
from sgdtheory.problems import LinearRegression
from sgdtheory.sampling import Sampler
from sgdtheory.schedules import Constant
from sgdtheory.theory import langevin_increment as th
from sgdtheory.theory.quadratic_basin import QuadraticBasin
from sgdtheory.theory.sgd_moments import SGDMoments

QUICK = Settings(quick=True)
CONFIG = Path(__file__).resolve().parent.parent / "experiments" / "configs" / "langevin_increment.toml"


def test_sympy_derivation():
    der = th.derive()
    assert der.corrected_matches
    assert str(der.printed_ratio) == "eta"
    assert der.corrected_exponent == 1 and der.printed_exponent == 2
    assert der.limit_corrected == 0 and der.limit_printed == 0
    assert "erratum E5" in der.text()


def _instance(seed: int, n: int, d: int):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + rng.standard_normal(n)
    p = LinearRegression(X, y)
    q = p.as_quadratic()
    return p, q, rng.standard_normal(d)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.integers(3, 7), st.integers(1, 3), st.floats(0.05, 1.0))
def test_langevin_covariance_against_quadrature(seed, n, d, dt):
    """V(dt) = int_0^dt e^{-H(dt-s)} c Sigma(phi(s)) e^{-H(dt-s)} ds by scipy quad_vec and expm."""
    _, q, delta0 = _instance(seed, n, d)
    Hbar = q.H.mean(axis=0)
    c = 0.5

    def integrand(s):
        delta = linalg.expm(-Hbar * s) @ delta0
        g = q.g + np.einsum("iab,b->ia", q.H, delta)
        gc = g - g.mean(axis=0)
        E = linalg.expm(-Hbar * (dt - s))
        return E @ (c * gc.T @ gc / n) @ E

    ref, _ = integrate.quad_vec(integrand, 0.0, dt, epsabs=1e-13, epsrel=1e-11)
    V = th.langevin_covariance(q.g, q.H, c, delta0, dt)
    np.testing.assert_allclose(V, ref, rtol=1e-7, atol=1e-12)


def test_exact_covariance_over_eta_tends_to_langevin():
    """tr Cov(w_k)/eta - tr V(dt) = O(eta): halving eta halves the gap (exact moment recursion)."""
    p, q, delta0 = _instance(7, 9, 2)
    dt = 0.5
    basin = QuadraticBasin(q.g, q.H, 1, "with_replacement")
    trV = np.trace(th.langevin_covariance(q.g, q.H, 1.0, delta0, dt))
    gaps = []
    for k in (64, 128, 256, 512):
        mp = SGDMoments(basin).run(Constant(dt / k), delta0, [k])
        gaps.append((np.trace(mp.second[0]) - mp.mean[0] @ mp.mean[0]) / (dt / k) - trV)
    ratios = np.array(gaps[:-1]) / np.array(gaps[1:])
    np.testing.assert_allclose(ratios, 2.0, rtol=0.05)


def test_runs_are_sgd_against_the_moment_recursion():
    """The per-path statistics are SGD's k-step displacement (plain numpy reference from the engine's finals)."""
    inst = cl.default_instance()
    runs = cl.run_increments(inst, 64, 1)
    assert len(runs.sgd_sq) == len(inst.ks) and runs.sgd_sq[0].shape == (64,)
    assert np.all(runs.exact_sgd > 0) and np.all(np.diff(runs.exact_sgd) < 0)  # tr Cov ~ eta at fixed dt
    assert runs.planned_se_sq(0) > 0


@pytest.fixture(scope="module")
def quick_b6(quick_claims):
    return quick_claims["B6"]


@pytest.fixture(scope="module")
def quick_e5(quick_claims):
    return quick_claims["E5"]


def test_quick_claims_as_expected(quick_b6, quick_e5):
    for res in (quick_b6, quick_e5):
        bad = [(c.name, c.verdict, str(c.estimate)) for c in res.checks if not c.as_expected]
        assert not bad, bad
    roles = [c.role for c in quick_b6.checks]
    assert roles.count(NEGATIVE_CONTROL) >= 6 and roles.count(CLAIM) >= 7
    assert [c.role for c in quick_e5.checks].count(AS_PRINTED) >= 4


def test_derivation_and_figures(quick_b6, quick_e5, tmp_path):
    text = REGISTRY["B6"].derive(cl.default_instance())
    assert "printed/true = eta" in text and "Langevin tr V(dt)" in text
    for cid, res in (("B6", quick_b6), ("E5", quick_e5)):
        paths = REGISTRY[cid].figure(res, tmp_path)
        assert [Path(p).suffix for p in paths] == [".png", ".pdf"] and Path(paths[0]).stat().st_size > 20_000


def test_user_config_via_cli(tmp_path):
    out = tmp_path / "out"
    code = main(["verify", "B6", "E5", "--quick", "--config", str(CONFIG), "--out", str(out), "--no-progress",
                 "--no-figures"])
    rec = json.loads((out / "B6.json").read_text())
    assert code == 0, [(c["name"], c["verdict"]) for c in rec["checks"] if c["verdict"] != c["expected"]]
    assert rec["parameters"]["batch_size"] == 2 and rec["parameters"]["ks"] == [6, 12, 24, 48, 96]


@pytest.mark.parametrize("factor", [1.3, 1 / 1.3])
def test_a_wrong_noise_covariance_is_caught(monkeypatch, factor, reuse_monte_carlo):
    """Predicting SGD's covariance 30% off (e.g. the per-example instead of the minibatch noise) fails B6."""
    inst = cl.default_instance()

    class Wrong(cl.SGDMoments):
        def run(self, *args, **kwargs):
            mp = super().run(*args, **kwargs)
            for t in range(len(mp.second)):
                m = mp.mean[t]
                mp.second[t] = np.outer(m, m) + factor * (mp.second[t] - np.outer(m, m))
            return mp

    monkeypatch.setattr(cl, "SGDMoments", Wrong)
    assert REGISTRY["B6"].run(inst, QUICK).status != AS_EXPECTED


def test_the_printed_increment_is_caught(monkeypatch, reuse_monte_carlo):
    """With the printed sqrt(dt) eta eps as the theory (exponent 2), the corrected-form checks of E5 fail."""
    der = th.derive()
    monkeypatch.setattr(th, "derive", lambda: th.IncrementDerivation(
        der.variance_k_steps, der.printed, der.printed, der.corrected_matches, der.printed_ratio,
        der.printed_exponent, der.printed_exponent, der.limit_corrected, der.limit_printed))
    assert REGISTRY["E5"].run(cl.default_instance(), QUICK).status != AS_EXPECTED


def _cfg(**exp):
    base = {"w": [1.5, -1.0], "dt": 0.4, "ks": [6, 12, 24]}
    base.update(exp)
    return {"problem": {"X": [[1.0, 0.3], [0.2, 1.1], [-0.7, 0.5], [1.4, -0.2]], "y": [1.0, 0.0, -1.0, 2.0]},
            "experiment": base}


@pytest.mark.parametrize("exp, message", [
    ({"ks": [8, 16]}, "ks: need at least three"),
    ({"ks": [1, 8, 16]}, "ks"),
    ({"dt": -1.0}, "dt"),
    ({"dt": 100.0}, "dt"),
    ({"sampling": "cyclic"}, "sampling"),
    ({"batch_size": 0}, "batch_size"),
    ({"w": [1.0]}, "w: expected"),
    ({"eta": 0.1}, "experiment.eta: unknown field"),
])
def test_bad_configs_name_the_parameter(exp, message):
    with pytest.raises(ConfigError, match=message):
        cl.instance_from_config(_cfg(**exp))


def test_learning_rate_beyond_the_stability_limit():
    """A heavy-leverage example: mean-square stability needs eta < 0.1297 with B = 1, so k = 2 at dt = 0.4 fails."""
    cfg = _cfg(ks=[2, 4, 8])
    cfg["problem"]["X"][0] = [4.0, 0.0]
    with pytest.raises(ConfigError, match=r"ks: the largest learning rate dt/k = 0.2 .* beyond the stability limit 0.14"):
        cl.instance_from_config(cfg)


def test_w_is_required_and_problem_checked():
    with pytest.raises(ConfigError, match="experiment.w: required"):
        cl.instance_from_config({"problem": _cfg()["problem"], "experiment": {}})
    with pytest.raises(SgdTheoryError, match="problem"):
        cl.IncrementInstance(object(), np.zeros(2))
    p = LinearRegression([[1.0], [2.0], [3.0]], [1.0, 2.0, 3.0])  # zero residuals: Sigma(w*) = 0 at w*
    with pytest.raises(SgdTheoryError, match="w: the minibatch gradient has zero covariance"):
        cl.IncrementInstance(p, p.minimizer, 0.1, (4, 8, 16), Sampler(1, "with_replacement"))
