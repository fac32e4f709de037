"""D11 (Wilson et al. 2017): the construction and its exact predictions against plain numpy, the training loops'
invariants, the quick claim, the user config via the CLI, bad inputs, and a perturbed theory that must be caught."""

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import sgdtheory.claims.generalisation as cg
from sgdtheory.claims import REGISTRY, Settings
from sgdtheory.claims.base import AS_EXPECTED, CLAIM, NEGATIVE_CONTROL
from sgdtheory.cli import main
from sgdtheory.errors import ConfigError
from sgdtheory.theory import adaptive as th

QUICK = Settings(quick=True)
CONFIG = Path(__file__).resolve().parent.parent / "experiments" / "configs" / "generalisation.toml"


def labels(draw_seed, n, p):
    return th.wilson_sample(n, p, np.random.default_rng(draw_seed))


@given(st.integers(0, 10**6), st.integers(3, 40), st.floats(0.55, 0.95))
def test_construction_and_lemma_setting(seed, n, p):
    data = labels(seed, n, p)
    X, y = data.X, data.y
    assert X.shape == (n, 3 + 5 * n) and 2 * data.n_pos > n
    assert np.array_equal(X[:, 0], y) and np.all(X[:, 1:3] == 1)
    assert np.array_equal(X[:, 3:].sum(axis=1), np.where(y > 0, 1, 5))
    assert np.all((X[:, 3:] > 0).sum(axis=0) <= 1)  # the blocks are unique to their example
    u = np.sign(X.T @ y)
    used = X.any(axis=0)
    assert np.all(u[used] != 0)
    assert np.array_equal(X @ th.adaptive_solution(X, y), y)  # X u = 4y: u/4 interpolates
    w_mn = th.min_norm_solution(X, y)
    assert np.allclose(w_mn, np.linalg.pinv(X) @ y, atol=1e-10)
    assert np.allclose(X @ w_mn, y, atol=1e-10)


@given(st.integers(0, 10**6), st.floats(0.55, 0.95), st.lists(st.floats(-1, 1), min_size=3, max_size=3))
def test_exact_test_error_is_the_limit_of_counted_errors(seed, p, w3):
    w = np.array(w3 + [0.5, -0.5])
    y = np.where(np.random.default_rng(seed).random(20000) < p, 1.0, -1.0)
    err = th.predict_errors(w, y) / y.size
    frac_neg = np.mean(y < 0)
    expected = (1 - frac_neg) * (w[0] + w[1] + w[2] <= 0) + frac_neg * (-w[0] + w[1] + w[2] >= 0)
    assert err == pytest.approx(expected, abs=1e-12)
    assert th.test_error(w, p) == pytest.approx(p * (w[0] + w[1] + w[2] <= 0) + (1 - p) * (-w[0] + w[1] + w[2] >= 0))


@pytest.mark.parametrize("method", ["AdaGrad", "RMSProp", "Adam"])
def test_adaptive_iterates_stay_proportional_to_sign_xty(method):
    """Lemma 3.1: every iterate (not only the limit) is lambda_t sign(X^T y) up to eps effects."""
    data = labels(4, 12, 0.7)
    X, y = data.X, data.y
    u = np.sign(X.T @ y)
    inst = cg.default_instance()
    for T in (1, 5, 40):
        w, _ = cg.train(X, y, method, inst, T)
        lam = w @ u / (u @ u)
        assert lam > 0 and np.linalg.norm(w - lam * u) <= 1e-6 * np.linalg.norm(lam * u)


def test_gd_stays_in_the_row_space():
    data = labels(5, 10, 0.7)
    w, _ = cg.train(data.X, data.y, "GD", cg.default_instance(), 3)
    P = np.linalg.pinv(data.X) @ data.X  # projector onto the row space
    assert np.allclose(P @ w, w, atol=1e-12)


@pytest.fixture(scope="module")
def quick_result(quick_claims):
    return quick_claims["D11"]


def test_quick_claim_as_expected(quick_result, tmp_path):
    bad = [(c.name, c.verdict, str(c.estimate)) for c in quick_result.checks if not c.as_expected]
    assert not bad, bad
    roles = [c.role for c in quick_result.checks]
    assert roles.count(NEGATIVE_CONTROL) >= 3 and roles.count(CLAIM) >= 10
    d = quick_result.data
    assert d["pred_error"]["adaptive"] == pytest.approx(1 - d["p"]) and d["pred_error"]["min_norm"] == 0.0
    paths = REGISTRY["D11"].figure(quick_result, tmp_path)
    assert [Path(p).suffix for p in paths] == [".png", ".pdf"]
    assert "4 y_i" in REGISTRY["D11"].derive(cg.default_instance())


def test_user_config_via_cli(tmp_path):
    code = main(["verify", "D11", "--quick", "--config", str(CONFIG), "--out", str(tmp_path), "--no-progress",
                 "--no-figures"])
    rec = json.loads((tmp_path / "D11.json").read_text())
    assert code == 0, [(c["name"], c["verdict"]) for c in rec["checks"] if c["verdict"] != c["expected"]]
    assert rec["parameters"]["n"] == 60 and rec["parameters"]["p"] == 0.65


@pytest.mark.parametrize("cfg, message", [
    ({"problem": {"n": 2}}, "problem.n = 2 is out of range"),
    ({"problem": {"p": 0.4}}, "problem.p = 0.4 is out of range"),
    ({"problem": {"d": 10}}, "problem.d: unknown field"),
    ({"experiment": {"sgd_lr": 0.3}}, "experiment.sgd_lr = 0.3 is out of range"),
    ({"experiment": {"momentum": 0.9}}, "experiment.momentum: unknown field"),
    ({"experiment": {"n_test": 10}}, "experiment.n_test = 10 is out of range"),
])
def test_bad_configs_name_the_parameter(cfg, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        cg.instance_from_config(cfg)


def test_a_wrong_test_error_prediction_is_caught(monkeypatch, reuse_monte_carlo):
    """Predicting GD's error as 1 - p (the adaptive one) turns D11 UNEXPECTED."""
    monkeypatch.setattr(th, "test_error", lambda w, p: 1 - p)
    assert REGISTRY["D11"].run(cg.default_instance(), QUICK).status != AS_EXPECTED


def test_a_wrong_limit_is_caught(monkeypatch, reuse_monte_carlo):
    """Claiming the adaptive methods reach the minimum-norm solution turns D11 UNEXPECTED."""
    monkeypatch.setattr(th, "adaptive_solution", th.min_norm_solution)
    assert REGISTRY["D11"].run(cg.default_instance(), QUICK).status != AS_EXPECTED
