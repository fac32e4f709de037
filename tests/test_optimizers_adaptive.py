"""AdaGrad, RMSProp, Adam, AMSGrad: kernel step vs numpy reference (bit for bit), the published update
rules on hand-computed sequences, bounded steps, validation, from_name, the whole simulator vs a
plain loop, and bitwise reproducibility across thread counts."""

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from reference_paths import compare_with_engine
from sgdtheory.errors import SgdTheoryError
from sgdtheory.optimizers import NAMES, SGD, AdaGrad, Adam, AdaptiveOptimizer, AMSGrad, RMSProp, from_name
from sgdtheory.problems import GaussianNoiseQuadratic, LinearRegression, PolynomialFiniteSum1D, QuadraticFiniteSum
from sgdtheory.sampling import Sampler
from sgdtheory.schedules import Power
from sgdtheory.simulate import simulate, stability_limit

finite = st.floats(-3, 3, allow_nan=False, allow_subnormal=False)
beta = st.floats(0.0, 0.999)
eps = st.floats(1e-12, 1.0)


@st.composite
def adaptive_optimizers(draw):
    kind = draw(st.sampled_from(["adagrad", "rmsprop", "adam", "adam_nobc", "amsgrad"]))
    if kind == "adagrad":
        return AdaGrad(draw(eps))
    if kind == "rmsprop":
        return RMSProp(draw(beta), draw(eps))
    if kind == "amsgrad":
        return AMSGrad(draw(beta), draw(beta), draw(eps))
    return Adam(draw(beta), draw(beta), draw(eps), bias_correction=kind == "adam")


@given(adaptive_optimizers(), st.data())
def test_kernel_step_matches_reference_bitwise(opt, data):
    """Several consecutive steps from a zero state (Adam's counter t = 1, 2, ...), then one step from a
    random valid state: kernel and numpy reference agree bit for bit in w and in the state."""
    d = data.draw(st.integers(1, 5))
    w = data.draw(arrays(np.float64, (d,), elements=finite))
    state = opt.init_state(d)
    w_k, state_k = w.copy(), state.copy()
    for _ in range(data.draw(st.integers(1, 6))):
        g = data.draw(arrays(np.float64, (d,), elements=finite))
        lr = data.draw(st.floats(1e-4, 1.0))
        w, state = opt.reference_step(w, state, g, lr)
        opt.kernel_step()(opt.hyperparameters(), lr, w_k, state_k, g)
        assert np.array_equal(w_k, w) and np.array_equal(state_k, state)
    # a random state: accumulators >= 0, Adam's t a positive integer, AMSGrad's vhat >= 0
    st_rand = np.abs(data.draw(arrays(np.float64, (opt.state_size(d),), elements=finite)))
    if isinstance(opt, Adam):
        st_rand[:d] *= data.draw(st.sampled_from([-1.0, 1.0]))
        st_rand[-1] = data.draw(st.integers(0, 10_000))
    elif isinstance(opt, AMSGrad):
        st_rand[:d] = -st_rand[:d]
    g = data.draw(arrays(np.float64, (d,), elements=finite))
    w_ref, s_ref = opt.reference_step(w, st_rand, g, 0.1)
    w_k, s_k = w.copy(), st_rand.copy()
    opt.kernel_step()(opt.hyperparameters(), 0.1, w_k, s_k, g)
    assert np.array_equal(w_k, w_ref) and np.array_equal(s_k, s_ref)


def _run(opt, grads, lr=0.1, w0=0.0):
    w, s = np.array([w0]), opt.init_state(1)
    out = []
    for g in grads:
        w, s = opt.reference_step(w, s, np.array([g]), lr)
        out.append(w[0])
    return np.array(out), s


def test_published_rules_on_hand_computed_sequences():
    """The update rules written out by hand (independently of the implementation) for g = 2, -1, 3."""
    g = [2.0, -1.0, 3.0]
    lr, e = 0.1, 1e-8
    # AdaGrad: G = 4, 5, 14
    w, _ = _run(AdaGrad(e), g, lr)
    G = np.cumsum(np.square(g))
    np.testing.assert_allclose(w, -np.cumsum(lr * np.array(g) / (np.sqrt(G) + e)), rtol=1e-14)
    # RMSProp beta = 0.5: v = 2, 1.5, 5.25
    w, s = _run(RMSProp(0.5, e), g, lr)
    v = np.array([2.0, 1.5, 5.25])
    np.testing.assert_allclose(s, [5.25], rtol=1e-15)
    np.testing.assert_allclose(w, -np.cumsum(lr * np.array(g) / (np.sqrt(v) + e)), rtol=1e-14)
    # Adam b1 = 0.5, b2 = 0.75: m = 1, 0, 1.5; v = 1, 1, 3; mhat = m/(1 - 0.5^t) = 2, 0, 12/7;
    # vhat = v/(1 - 0.75^t) = 4, 16/7, 192/37
    w, s = _run(Adam(0.5, 0.75, e), g, lr)
    mhat, vhat = np.array([2.0, 0.0, 12 / 7]), np.array([4.0, 16 / 7, 192 / 37])
    np.testing.assert_allclose(w, -np.cumsum(lr * mhat / (np.sqrt(vhat) + e)), rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(s, [1.5, 3.0, 3.0], rtol=1e-15)  # m, v, t
    w, _ = _run(Adam(0.5, 0.75, e, bias_correction=False), g, lr)
    np.testing.assert_allclose(w, -np.cumsum(lr * np.array([1.0, 0.0, 1.5]) / (np.sqrt([1.0, 1.0, 3.0]) + e)),
                               rtol=1e-14, atol=1e-16)
    # AMSGrad b1 = 0.5, b2 = 0.75, g = 2, 0, 0: v = 1, 0.75, 0.5625 but vhat stays 1; m = 1, 0.5, 0.25
    w, s = _run(AMSGrad(0.5, 0.75, e), [2.0, 0.0, 0.0], lr)
    np.testing.assert_allclose(w, -np.cumsum(lr * np.array([1.0, 0.5, 0.25]) / (1.0 + e)), rtol=1e-14)
    np.testing.assert_allclose(s, [0.25, 0.5625, 1.0], rtol=1e-15)  # m, v, vhat
    # Adam's first step is lr g / (|g| + eps) (Kingma and Ba 2015, Section 2.1)
    w, _ = _run(Adam(), [-5.0], 0.3)
    assert w[0] == pytest.approx(0.3 * 5 / (5 + 1e-8), rel=1e-14)


@given(adaptive_optimizers(), st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=60),
       st.sampled_from([1.0, 1e-3, 1e3]))
def test_steps_are_bounded(opt, grads, amp):
    """|w_{t+1} - w_t| <= step_bound() * lr for arbitrary gradient sequences (incl. a large gradient
    followed by small ones, the worst case for momentum over a second moment)."""
    c = opt.step_bound()
    grads = [amp * g for g in grads] + [1e-6] * 30
    w, s = np.zeros(1), opt.init_state(1)
    for g in grads:
        w_new, s = opt.reference_step(w, s, np.array([g]), 0.5)
        assert abs(w_new[0] - w[0]) <= c * 0.5 * (1 + 1e-12)
        w = w_new


def test_step_bound_values():
    assert AdaGrad().step_bound() == 1.0
    assert RMSProp(0.75).step_bound() == 2.0
    assert np.isinf(AMSGrad(0.5, 0.25).step_bound())  # beta1 = sqrt(beta2): no bound
    assert AMSGrad(0.0, 0.75).step_bound() == pytest.approx(2.0)
    assert AMSGrad(0.5, 0.64).step_bound() == pytest.approx(0.5 / (0.6 * (1 - 0.5 / 0.8)))
    assert Adam(0.5, 0.64).step_bound() == pytest.approx(1 / (0.6 * (1 - 0.5 / 0.8)))
    assert np.isinf(Adam(0.9, 0.5).step_bound())
    for opt in (AdaGrad(), RMSProp(), Adam(), AMSGrad(), Adam(0.9, 0.5)):
        limit, how = stability_limit(PolynomialFiniteSum1D([[0.0, 0.0, 1.0]]), opt, Sampler())
        assert limit == np.inf and "bounded" in how


@pytest.mark.parametrize("make,match", [
    (lambda: AdaGrad(0.0), r"eps = 0 is out of range: valid range is \(0, inf\)"),
    (lambda: AdaGrad(np.nan), "eps: must be finite"),
    (lambda: RMSProp(1.0), r"beta = 1 is out of range: valid range is \[0, 1\)"),
    (lambda: RMSProp(0.9, -1e-8), r"eps = -1e-08 is out of range"),
    (lambda: Adam(-0.1), r"beta1 = -0.1 is out of range: valid range is \[0, 1\)"),
    (lambda: Adam(0.9, 1.0), r"beta2 = 1 is out of range: valid range is \[0, 1\)"),
    (lambda: Adam(bias_correction="yes"), "bias_correction: expected True or False"),
    (lambda: AMSGrad(0.9, 0.999, 0.0), r"eps = 0 is out of range"),
    (lambda: AMSGrad("x"), "beta1: expected a number"),
    (lambda: from_name("lion"), "optimizer: unknown name 'lion'"),
    (lambda: from_name("adam", lr=0.1), "optimizer adam: unknown hyperparameter.s. lr; valid: beta1, beta2, eps"),
])
def test_bad_hyperparameters(make, match):
    with pytest.raises(SgdTheoryError, match=match):
        make()


def test_from_name():
    assert from_name("adam", beta1=0.0) == Adam(0.0)
    assert from_name("amsgrad") == AMSGrad() and from_name("rmsprop", beta=0.5) == RMSProp(0.5)
    assert from_name("adagrad", eps=1e-6) == AdaGrad(1e-6) and from_name("sgd") == SGD()
    assert all(isinstance(from_name(k), AdaptiveOptimizer) for k in ("adagrad", "rmsprop", "adam", "amsgrad"))
    assert {"adagrad", "rmsprop", "adam", "amsgrad"} <= set(NAMES)


def _problems():
    rng = np.random.default_rng(11)
    A = rng.standard_normal((5, 3, 3))
    quad = QuadraticFiniteSum(rng.standard_normal((5, 3)), A @ A.transpose(0, 2, 1) / 3 + 0.2 * np.eye(3),
                              rng.standard_normal(5), rng.standard_normal(3))
    lin = LinearRegression(rng.standard_normal((7, 3)), rng.standard_normal(7))
    B = rng.standard_normal((3, 3))
    gau = GaussianNoiseQuadratic(B @ B.T / 3 + np.eye(3), np.cov(rng.standard_normal((3, 10))), rng.standard_normal(3))
    poly = PolynomialFiniteSum1D([[1.0, 0.5, -2.0, 0.0, 1.0], [1.0, -0.5, -2.0, 0.2, 1.0]], noise_sd=0.3)
    return {"quad": quad, "lin": lin, "gau": gau, "poly": poly}


ENGINE_CASES = [
    ("quad", AdaGrad(1e-6), "with_replacement", 2),
    ("quad", Adam(), "without_replacement", 3),
    ("lin", RMSProp(0.9, 1e-6), "reshuffle", 2),
    ("lin", AMSGrad(0.8, 0.99), "cyclic", 3),
    ("gau", Adam(0.9, 0.99, 1e-8, bias_correction=False), "with_replacement", 2),
    ("gau", AMSGrad(), "with_replacement", 1),
    ("poly", Adam(0.5, 0.9), "with_replacement", 1),
    ("poly", RMSProp(0.5), "full", 2),
]


@pytest.mark.parametrize("kind,opt,scheme,batch", ENGINE_CASES)
def test_engine_matches_plain_loop(kind, opt, scheme, batch):
    problem = _problems()[kind]
    compare_with_engine(problem, Power(0.05, 2.0, 0.6), opt, scheme, batch, np.linspace(-1, 1, problem.d) + 0.2,
                        n_steps=60, burn_in=10, rec=(0, 7, 60))


def test_large_learning_rate_does_not_diverge():
    """Bounded steps: Adam at lr = 50 on a quadratic moves at most step_bound * lr per step, no blow-up."""
    p = _problems()["quad"]
    opt = Adam(0.5, 0.9)
    res = simulate(p, 50.0, optimizer=opt, n_steps=200, n_paths=4, seed=2, record_steps=[200], record=("dist_sq",))
    assert res.n_diverged == 0
    assert np.all(res.record_values[:, 0, 0] <= 3 * (200 * 50.0 * opt.step_bound()) ** 2)


SCRIPT = r"""
import hashlib, numpy as np, numba
from sgdtheory.optimizers import AdaGrad, Adam, AMSGrad, RMSProp
from sgdtheory.problems import PolynomialFiniteSum1D
from sgdtheory.bench import w1_problem
from sgdtheory.sampling import Sampler
from sgdtheory.simulate import simulate
h = hashlib.sha256()
poly = PolynomialFiniteSum1D([[1.0, 0.5, -2.0, 0.0, 1.0], [1.0, -0.5, -2.0, 0.2, 1.0]], noise_sd=0.5, reference=1.0)
for opt in (AdaGrad(), RMSProp(), Adam(), AMSGrad()):
    r = simulate(poly, 0.02, optimizer=opt, sampler=Sampler(1), n_steps=300, n_paths=37, seed=9, w0=[0.1],
                 record_steps=[150, 300], record=("excess_loss", "moments"),
                 time_average=("excess_loss", "batch_loss", "grad_sq"), burn_in=100, n_batches=10)
    s = simulate(w1_problem(), 0.01, optimizer=opt, sampler=Sampler(8), n_steps=100, n_paths=37, seed=9,
                 w0=np.zeros(16), time_average=("batch_loss", "moments"), burn_in=50, n_batches=5)
    for a in (r.record_values, r.batch_sums, r.final_params, s.batch_sums, s.final_params):
        h.update(a.tobytes())
print(numba.get_num_threads(), h.hexdigest())
"""


def _threads(threads: int) -> tuple[str, str]:
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads))
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True)
    n, digest = out.stdout.split()
    return n, digest


def test_bitwise_identical_for_1_and_2_threads():
    n1, d1 = _threads(1)
    n2, d2 = _threads(2)
    assert (n1, n2) == ("1", "2")
    assert d1 == d2
