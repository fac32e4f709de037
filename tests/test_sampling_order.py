"""Claim A7 (sampling order): the exact epoch-moment theory against brute-force enumeration and plain
numpy, its leading orders against SymPy, bad inputs, the user config, and a perturbed theory caught."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import sgdtheory.claims.sampling_order as a7
import sgdtheory.theory.sampling_order as so
from sgdtheory.claims.base import AS_EXPECTED, Settings
from sgdtheory.errors import ConfigError, SgdTheoryError
from sgdtheory.problems import QuadraticFiniteSum
from sgdtheory.sampling import Sampler
from sgdtheory.schedules import Constant
from sgdtheory.simulate import simulate
from sgdtheory.theory.quadratic_basin import QuadraticBasin
from sgdtheory.theory.sgd_moments import SGDMoments

CONFIG = "experiments/configs/sampling_order.toml"


def _problem(rng, n, d, equal_hessians=False):
    g = rng.standard_normal((n, d))
    B = rng.standard_normal((n, d, d)) * 0.4
    H = np.einsum("iab,icb->iac", B, B) + 0.5 * np.eye(d)
    if equal_hessians:
        H = np.repeat(H[:1], n, axis=0)
    return QuadraticFiniteSum(g, H)


def _z(x):
    return np.concatenate([[1.0], x, np.outer(x, x).reshape(-1)])


@given(st.integers(1, 3), st.data())
def test_lift_is_a_homomorphism(d, data):
    """lift(A2, b2) lift(A1, b1) = lift of the composition, and lift(A, b) z(x) = z(A x + b)."""
    f = st.floats(-2, 2, allow_subnormal=False)
    A1, A2 = (data.draw(arrays(np.float64, (d, d), elements=f)) for _ in range(2))
    b1, b2, x = (data.draw(arrays(np.float64, (d,), elements=f)) for _ in range(3))
    np.testing.assert_allclose(so.lift(A2, b2) @ so.lift(A1, b1), so.lift(A2 @ A1, A2 @ b1 + b2), atol=1e-12)
    np.testing.assert_allclose(so.lift(A1, b1) @ _z(x), _z(A1 @ x + b1), atol=1e-12)


@given(st.integers(1, 6), st.integers(1, 4), st.data())
def test_reshuffle_average_equals_enumeration(n, D, data):
    M = data.draw(arrays(np.float64, (n, D, D), elements=st.floats(-1.5, 1.5, allow_subnormal=False)))
    np.testing.assert_allclose(so.reshuffle_average(M), so.reference_reshuffle_average(M), atol=1e-11, rtol=1e-11)


@pytest.mark.parametrize("scheme", so.SCHEMES)
def test_moments_equal_brute_force_enumeration(scheme):
    """n = 3, d = 2: average Delta and Delta Delta^T over every index sequence of two epochs (plain numpy)."""
    rng = np.random.default_rng(7)
    p = _problem(rng, 3, 2).at_minimum()
    T = so.SamplingOrderTheory(p)
    eta, delta0 = 0.3, np.array([0.4, -0.7])
    if scheme == "cyclic":
        seqs = [(0, 1, 2, 0, 1, 2)]
    elif scheme == "reshuffle":
        perms = list(itertools.permutations(range(3)))
        seqs = [a + b for a in perms for b in perms]
    else:
        seqs = list(itertools.product(range(3), repeat=6))
    m, S = np.zeros(2), np.zeros((2, 2))
    for seq in seqs:
        x = delta0.copy()
        for i in seq:
            x = x - eta * (p.g[i] + p.H[i] @ x)
        m += x / len(seqs)
        S += np.outer(x, x) / len(seqs)
    got = T.moments(eta, scheme, 2, delta0)
    np.testing.assert_allclose(got.mean, m, atol=1e-12)
    np.testing.assert_allclose(got.second, S, atol=1e-12)


def test_with_replacement_equals_sgd_moments():
    """The lifted i.i.d. map to the n-th power is theory.sgd_moments' recursion over n steps (B = 1)."""
    rng = np.random.default_rng(3)
    p = _problem(rng, 4, 3).at_minimum()
    T = so.SamplingOrderTheory(p)
    delta0 = np.array([0.3, -0.2, 0.5])
    ref = SGDMoments(QuadraticBasin(p.g, p.H, 1, "with_replacement")).run(Constant(0.1), delta0, [3 * p.n])
    got = T.moments(0.1, "with_replacement", 3, delta0)
    np.testing.assert_allclose(got.mean, ref.mean[0], atol=1e-13)
    np.testing.assert_allclose(got.second, ref.second[0], atol=1e-13)


def test_cyclic_simulation_is_the_exact_product():
    """The engine's cyclic sampler visits the listed order every epoch: its iterate is the exact product."""
    inst = a7.default_a7()
    eta, K = 0.05, 7
    res = simulate(inst.problem, eta, sampler=Sampler(1, "cyclic"), n_steps=K * inst.problem.n, n_paths=3, seed=1,
                   w0=inst.problem.anchor + np.array([0.2, -0.1]))
    exact = inst.theory.moments(eta, "cyclic", K, np.array([0.2, -0.1])).mean
    np.testing.assert_allclose(res.final_params - inst.problem.anchor, np.tile(exact, (3, 1)), atol=1e-13)


@settings(max_examples=15)
@given(st.integers(2, 5), st.integers(1, 3), st.integers(0, 2**31 - 1))
def test_leading_bias_closed_forms(n, d, seed):
    """b1 closed forms = the exact stationary mean's eta -> 0 limit; reshuffling b1 = mean of the cyclic b1 over
    all n! orders; with replacement the stationary mean is exactly 0."""
    p = _problem(np.random.default_rng(seed), n, d)
    T = so.SamplingOrderTheory(p)
    eta = 1e-4 / float(np.max(np.linalg.norm(T.H, ord=2, axis=(1, 2))))
    for s in ("cyclic", "reshuffle"):
        m1, m2 = T.stationary(eta, s).mean / eta, T.stationary(eta / 2, s).mean / (eta / 2)
        np.testing.assert_allclose(2 * m2 - m1, T.bias_coefficient(s), rtol=1e-5, atol=1e-7)
    orders = np.mean([T.bias_coefficient("cyclic", o) for o in itertools.permutations(range(n))], axis=0)
    np.testing.assert_allclose(orders, T.bias_coefficient("reshuffle"), atol=1e-12)
    assert np.allclose(T.stationary(0.05, "with_replacement").mean, 0.0, atol=1e-14)


def test_symbolic_series_equals_closed_forms():
    inst = a7.default_a7()
    for s in ("cyclic", "reshuffle"):
        b1, b2 = so.symbolic_bias_series(inst.problem, s)
        np.testing.assert_allclose([float(v) for v in b1], inst.theory.bias_coefficient(s), rtol=1e-12)
        # b2 against a Richardson estimate from the exact stationary mean
        eta = 1e-3
        f = [inst.theory.stationary(e, s).mean for e in (eta, eta / 2)]
        r = [(f[k] - np.array([float(v) for v in b1]) * e) / e**2 for k, e in enumerate((eta, eta / 2))]
        np.testing.assert_allclose(2 * r[1] - r[0], [float(v) for v in b2], rtol=1e-4)


def test_equal_hessians_make_reshuffling_unbiased():
    """All H_i equal: E c_pi = 0 exactly, so reshuffling is unbiased at every eta; cyclic order is not."""
    p = _problem(np.random.default_rng(5), 4, 2, equal_hessians=True)
    T = so.SamplingOrderTheory(p)
    assert np.allclose(T.stationary(0.1, "reshuffle").mean, 0.0, atol=1e-14)
    assert np.linalg.norm(T.stationary(0.1, "cyclic").mean) > 1e-3
    with pytest.raises(SgdTheoryError, match=r"problem: sum_i H_i g_i = 0"):
        a7.OrderInstance(p)


def test_default_instance_sorted_order_is_the_worst():
    oc = a7.default_a7().theory.cyclic_order_coefficients()
    assert oc[0] == pytest.approx(oc.max()) and len(oc) == math.factorial(5)


def test_bad_inputs():
    p = a7.default_a7().problem
    with pytest.raises(SgdTheoryError, match=r"eta\[0\] = 1\.5 is beyond the stability limit"):
        a7.OrderInstance(p, (1.5, 0.01))
    with pytest.raises(SgdTheoryError, match=r"eta: the two learning rates must differ by a factor"):
        a7.OrderInstance(p, (0.05, 0.04))
    with pytest.raises(SgdTheoryError, match=r"eta: expected two positive"):
        a7.OrderInstance(p, (0.05, -0.01))
    big = _problem(np.random.default_rng(1), so.MAX_RESHUFFLE_N + 1, 1)
    with pytest.raises(SgdTheoryError, match=r"problem\.n = 13 examples is out of range"):
        so.SamplingOrderTheory(big)
    with pytest.raises(SgdTheoryError, match=r"n = 13 is out of range for the exact reshuffling average"):
        so.reshuffle_average(np.zeros((13, 2, 2)))
    with pytest.raises(SgdTheoryError, match="scheme: unknown"):
        a7.default_a7().theory.epoch_map(0.1, "sorted")
    cfg = {"problem": {"g": p.g.tolist(), "H": p.H.tolist()}}
    with pytest.raises(ConfigError, match=r"experiment\.batch_size: unknown field for A7"):
        a7.a7_from_config({**cfg, "experiment": {"batch_size": 2}})
    with pytest.raises(ConfigError, match=r"experiment\.eta: expected a list of two"):
        a7.a7_from_config({**cfg, "experiment": {"eta": [0.1, 0.05, 0.01]}})
    with pytest.raises(ConfigError, match=r"experiment\.eta\[0\] = 3 is beyond the stability limit"):
        a7.a7_from_config({**cfg, "experiment": {"eta": [3.0, 0.01]}})
    with pytest.raises(ConfigError, match=r"problem\.g: required"):
        a7.a7_from_config({"problem": {"H": p.H.tolist()}})


def test_user_config_via_cli(tmp_path):
    from sgdtheory.cli import main

    assert main(["verify", "A7", "--quick", "--config", CONFIG, "--out", str(tmp_path), "--no-progress",
                 "--no-figures"]) == 0


def test_perturbed_theory_is_caught(monkeypatch, reuse_monte_carlo):
    """Plausible errors in the theory must change the status: 'order does not matter' (the reshuffling
    epoch map replaced by the i.i.d. one) and 'the O(eta) bias averages out' (SymPy's b1 = 0)."""
    monkeypatch.setattr(so, "reshuffle_average", lambda M: np.linalg.matrix_power(M.mean(axis=0), M.shape[0]))
    r = a7.run_a7(a7.default_a7(), Settings(quick=True))
    assert r.status != AS_EXPECTED
    bad = [c.name for c in r.checks if not c.as_expected]
    assert any(name.startswith("reshuffle: E[w_T - w*]") for name in bad)
    monkeypatch.undo()
    inst = a7.default_a7()
    monkeypatch.setattr(a7, "leading_bias", lambda inst, s: (0.0 * inst.theory.bias_coefficient(s), "perturbed"))
    assert a7.run_a7(inst, Settings(quick=True)).status != AS_EXPECTED
