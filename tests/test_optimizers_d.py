"""McAllester's min(t, N) Adam, AdamW and SAM (issue 6, item 1): kernel steps vs numpy references (bit for bit),
the published rules on hand-computed sequences, SAM's two gradient evaluations on the same minibatch and
noise, the whole simulator vs the plain loop, validation."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from reference_paths import compare_with_engine
from sgdtheory._kernels.rng import ZIG_FI, ZIG_KI, ZIG_WI, path_states
from sgdtheory.optimizers.sam import perturb as sam_perturbation
from sgdtheory.errors import SgdTheoryError
from sgdtheory.optimizers import (SAM, SGD, AdaGrad, Adam, AdamW, AMSGrad, HeavyBall, McAllesterAdam, Nesterov,
                                  RMSProp, from_name)
from sgdtheory.problems import (GaussianNoiseQuadratic, LinearRegression, PolynomialFiniteSum1D, QuadraticFiniteSum,
                                reference_batch_gradient)
from sgdtheory.sampling import Sampler
from sgdtheory.schedules import CosineRestarts, Power, Triangular
from sgdtheory.simulate import simulate, stability_limit

finite = st.floats(-3, 3, allow_nan=False, allow_subnormal=False)
beta = st.floats(0.0, 0.999)
eps = st.floats(1e-12, 1.0)
horizon = st.floats(1.0, 2000.0)


@st.composite
def new_optimizers(draw):
    kind = draw(st.sampled_from(["adam_min", "adamw", "adamw_nobc"]))
    if kind == "adam_min":
        return McAllesterAdam(draw(horizon), draw(horizon), draw(eps))
    return AdamW(draw(beta), draw(beta), draw(eps), draw(st.floats(0.0, 1.0)), bias_correction=kind == "adamw")


@given(new_optimizers(), st.data())
def test_kernel_step_matches_reference_bitwise(opt, data):
    """Consecutive steps from the zero state, then a step from a random valid state: bit for bit."""
    d = data.draw(st.integers(1, 5))
    w = data.draw(arrays(np.float64, (d,), elements=finite))
    state = opt.init_state(d)
    w_k, state_k = w.copy(), state.copy()
    for _ in range(data.draw(st.integers(1, 8))):
        g = data.draw(arrays(np.float64, (d,), elements=finite))
        lr = data.draw(st.floats(1e-4, 1.0))
        w, state = opt.reference_step(w, state, g, lr)
        opt.kernel_step()(opt.hyperparameters(), lr, w_k, state_k, g)
        assert np.array_equal(w_k, w) and np.array_equal(state_k, state)
    st_rand = np.abs(data.draw(arrays(np.float64, (opt.state_size(d),), elements=finite)))
    st_rand[:d] *= data.draw(st.sampled_from([-1.0, 1.0]))
    st_rand[-1] = data.draw(st.integers(0, 10_000))
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


def test_min_form_by_hand():
    """N_g = 2, N_s = 3, g = 2, -1, 3, 1: mu = 2, 1/2, 7/4, 11/8 (weights 1, 1/2, 1/2, 1/2);
    s = 4, 5/2, 14/3, 28/9 + 1/3 = 31/9 (weights 1, 1/2, 1/3, 1/3): the running means up to N, then EMAs."""
    g = [2.0, -1.0, 3.0, 1.0]
    w, s = _run(McAllesterAdam(2, 3, 1e-8), g, 0.1)
    mu = np.array([2.0, 0.5, 1.75, 1.375])
    sv = np.array([4.0, 2.5, 14 / 3, 31 / 9])
    np.testing.assert_allclose(w, -np.cumsum(0.1 * mu / (np.sqrt(sv) + 1e-8)), rtol=1e-14)
    np.testing.assert_allclose(s, [1.375, 31 / 9, 4.0], rtol=1e-15)
    # N = 1: mu = g, s = g^2: sign descent lr g / (|g| + eps)
    w, _ = _run(McAllesterAdam(1, 1, 1e-8), [-5.0, 2.0], 0.3)
    np.testing.assert_allclose(w, [0.3 * 5 / (5 + 1e-8), 0.3 * 5 / (5 + 1e-8) - 0.3 * 2 / (2 + 1e-8)], rtol=1e-14)


def test_adamw_by_hand():
    """AdamW = Adam step plus the decoupled decay -lr lambda w_(t-1) (PyTorch convention); lambda = 0 is Adam."""
    w0, lr, lam = 2.0, 0.1, 0.5
    g = [2.0, -1.0, 3.0]
    wa, _ = _run(Adam(0.5, 0.75, 1e-8), g, lr, w0)
    ww, _ = _run(AdamW(0.5, 0.75, 1e-8, 0.0), g, lr, w0)
    assert np.array_equal(wa, ww)
    ww, _ = _run(AdamW(0.5, 0.75, 1e-8, lam), g, lr, w0)
    mhat, vhat = np.array([2.0, 0.0, 12 / 7]), np.array([4.0, 16 / 7, 192 / 37])
    w, exp = w0, []
    for k in range(3):
        w = w - lr * lam * w - lr * mhat[k] / (np.sqrt(vhat[k]) + 1e-8)
        exp.append(w)
    np.testing.assert_allclose(ww, exp, rtol=1e-14)
    # with zero gradients the decay alone: w_t = w0 (1 - lr lambda)^t (Adam's part is 0/(0 + eps) = 0)
    ww, _ = _run(AdamW(0.9, 0.999, 1e-8, lam), [0.0] * 5, lr, w0)
    np.testing.assert_allclose(ww, w0 * (1 - lr * lam) ** np.arange(1, 6), rtol=1e-15)


@given(arrays(np.float64, st.integers(1, 6), elements=finite), st.floats(0.0, 2.0), st.data())
def test_sam_perturbation_bitwise(g, rho, data):
    """The kernel's w + rho g/|g| equals the numpy reference bit for bit; |eps_hat| = rho (to rounding); g = 0 (or |g|^2 underflowing to 0) -> w."""
    w = data.draw(arrays(np.float64, g.shape, elements=finite))
    if data.draw(st.booleans()):
        g = np.zeros_like(g)
    out = np.empty_like(w)
    sam_perturbation(rho, w, g, out)
    ref = SAM(rho).perturbation(w, g)
    assert np.array_equal(out, ref)
    q = np.sum(g * g)
    if q > 0:
        e = (rho / np.sqrt(q)) * g
        assert np.linalg.norm(e) == pytest.approx(rho, rel=1e-14, abs=1e-300)
    else:  # g = 0, or |g|^2 underflows to 0 (e.g. g = 1e-300): no direction, no perturbation
        assert np.array_equal(out, w)


def _problems():
    rng = np.random.default_rng(7)
    A = rng.standard_normal((5, 3, 3))
    quad = QuadraticFiniteSum(rng.standard_normal((5, 3)), A @ A.transpose(0, 2, 1) / 3 + 0.2 * np.eye(3),
                              rng.standard_normal(5), rng.standard_normal(3))
    lin = LinearRegression(rng.standard_normal((7, 3)), rng.standard_normal(7))
    B = rng.standard_normal((3, 3))
    gau = GaussianNoiseQuadratic(B @ B.T / 3 + np.eye(3), np.cov(rng.standard_normal((3, 10))), rng.standard_normal(3))
    poly = PolynomialFiniteSum1D([[1.0, 0.5, -2.0, 0.0, 1.0], [1.0, -0.5, -2.0, 0.2, 1.0]], noise_sd=0.3)
    return {"quad": quad, "lin": lin, "gau": gau, "poly": poly}


@pytest.mark.parametrize("kind", ["quad", "lin", "gau", "poly"])
@pytest.mark.parametrize("base", [SGD(), HeavyBall(0.8), Adam(0.5, 0.9)])
def test_sam_kernel_step_matches_reference(kind, base):
    """One SAM kernel step (two gradients, same indices, same noise) against SAM.reference_step with the numpy
    minibatch gradient; the gradients themselves are summed with reassociation, so agreement is to rounding."""
    problem = _problems()[kind]
    kp = problem.kernel_data()
    d = kp.d
    opt = SAM(0.3, base)
    rng = np.random.default_rng(3)
    w = kp.w_star + rng.standard_normal(d)
    idx = np.array([1, 0, 1], dtype=np.int64)
    xi = rng.standard_normal(d)
    noise_scale = 1.0 / np.sqrt(3)
    z = noise_scale * xi if kind == "gau" else np.array([problem.noise_sd * noise_scale * xi[0]]) if kind == "poly" \
        else np.zeros(d)
    g, _ = reference_batch_gradient(problem, w, idx, xi[:d] if kind == "gau" else xi[0])
    state = opt.init_state(d)
    w_ref, s_ref = opt.reference_step(w, state, g, 0.05,
                                      gradient_at=lambda u: reference_batch_gradient(problem, u, idx, xi[:d] if kind == "gau" else xi[0])[0])
    w_k, s_k = w.copy(), state.copy()
    # the engine's SAM step, from the same parts (engine.run_paths with SECOND_GRADIENT): perturb, the problem's
    # regradient on the same minibatch and noise, the base optimizer's step with hp[1:]
    w2 = np.empty(d)
    sam_perturbation(opt.rho, w_k, g.copy(), w2)
    g2 = np.empty(d)
    problem.kernel_functions().regradient(kp.A, kp.Hs, kp.v, idx, 3, w2 - kp.w_star, w2, g2, z)
    opt.kernel_step()(opt.hyperparameters()[1:], 0.05, w_k, s_k, g2)
    np.testing.assert_allclose(w_k, w_ref, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(s_k, s_ref, rtol=1e-13, atol=1e-14)
    # a SAM step differs from the base step (the second gradient is taken elsewhere; Adam's first step is
    # lr sign(g) up to eps, insensitive to the gradient's size, so compare the state it stores instead)
    w_base, s_base = base.reference_step(w, state, g, 0.05)
    assert np.max(np.abs(np.concatenate([w_base - w_ref, s_base - s_ref]))) > 1e-6


def test_sam_reference_needs_gradient_function():
    with pytest.raises(SgdTheoryError, match="gradient_at"):
        SAM(0.1).reference_step(np.zeros(1), np.zeros(0), np.ones(1), 0.1)


ENGINE_CASES = [
    ("quad", McAllesterAdam(5, 20), "with_replacement", 2, Power(0.05, 2.0, 0.6)),
    ("lin", AdamW(0.9, 0.99, 1e-8, 0.1), "reshuffle", 2, Triangular(0.01, 0.08, 7)),
    ("gau", AdamW(0.8, 0.9, 1e-8, 0.3, bias_correction=False), "with_replacement", 2, CosineRestarts(0.01, 0.1, 9, 2)),
    ("poly", McAllesterAdam(3, 10), "with_replacement", 1, Power(0.05, 2.0, 0.6)),
    ("quad", SAM(0.2), "with_replacement", 2, Power(0.05, 2.0, 0.6)),
    ("quad", SAM(0.1, Nesterov(0.5)), "without_replacement", 3, Triangular(0.01, 0.05, 5)),
    ("lin", SAM(0.3, Adam(0.5, 0.9)), "cyclic", 3, Power(0.05, 2.0, 0.6)),
    ("gau", SAM(0.2, HeavyBall(0.5)), "with_replacement", 2, Power(0.05, 2.0, 0.6)),
    ("poly", SAM(0.25), "with_replacement", 1, CosineRestarts(0.005, 0.05, 11)),
    ("poly", SAM(0.25, RMSProp(0.5)), "full", 2, Power(0.05, 2.0, 0.6)),
    ("lin", SAM(0.0, AMSGrad(0.8, 0.99)), "reshuffle", 2, Power(0.05, 2.0, 0.6)),
]


@pytest.mark.parametrize("kind,opt,scheme,batch,sched", ENGINE_CASES)
def test_engine_matches_plain_loop(kind, opt, scheme, batch, sched):
    problem = _problems()[kind]
    compare_with_engine(problem, sched, opt, scheme, batch, np.linspace(-1, 1, problem.d) + 0.2,
                        n_steps=60, burn_in=10, rec=(0, 7, 60))


def test_sam_rho_zero_is_its_base_bitwise():
    """rho = 0: the perturbed point is w itself and the second gradient equals the first (same batch, same
    noise), so SAM(0, base) reproduces base's paths bit for bit -- also on the noisy problems."""
    for kind in ("gau", "poly", "lin"):
        p = _problems()[kind]
        kw = dict(sampler=Sampler(2), n_steps=50, n_paths=5, seed=4, w0=np.full(p.d, 0.3),
                  record_steps=[50], record=("moments",), time_average=("batch_loss", "grad_sq"), burn_in=10,
                  n_batches=4)
        for base in (SGD(), Adam(0.5, 0.9)):
            a = simulate(p, 0.05, optimizer=base, **kw)
            b = simulate(p, 0.05, optimizer=SAM(0.0, base), **kw)
            if kind == "gau" and type(base) is SGD:  # SGD runs in the 16-path lanes (_kernels.lanes): another
                # summation order of H delta + L z than run_paths, so equal to rounding, not bit for bit
                np.testing.assert_allclose(a.final_params, b.final_params, rtol=1e-12, atol=1e-15)
                np.testing.assert_allclose(a.batch_sums, b.batch_sums, rtol=1e-12, atol=1e-15)
                continue
            assert np.array_equal(a.final_params, b.final_params) and np.array_equal(a.batch_sums, b.batch_sums)


def test_sam_two_cycle_on_quadratic():
    """GD-SAM on h w^2 / 2: w -> (1 - eta h) w - eta h rho sign(w) settles on +-eta h rho/(2 - eta h)."""
    h, eta, rho = 2.0, 0.3, 0.1
    res = simulate(PolynomialFiniteSum1D([[0.0, 0.0, h / 2]]), eta, optimizer=SAM(rho), n_steps=400, n_paths=1,
                   w0=[1.0], check_stability=False)
    assert abs(res.final_params[0, 0]) == pytest.approx(eta * h * rho / (2 - eta * h), rel=1e-12)


@pytest.mark.parametrize("make,match", [
    (lambda: McAllesterAdam(0.5), r"N_g = 0.5 is out of range: valid range is \[1, inf\)"),
    (lambda: McAllesterAdam(10, np.inf), "N_s: must be finite"),
    (lambda: McAllesterAdam(10, 100, 0.0), r"eps = 0 is out of range"),
    (lambda: AdamW(weight_decay=-0.1), r"weight_decay = -0.1 is out of range"),
    (lambda: AdamW(beta2=1.0), r"beta2 = 1 is out of range"),
    (lambda: AdamW(bias_correction=1), "bias_correction: expected True or False"),
    (lambda: SAM(-0.1), r"rho = -0.1 is out of range"),
    (lambda: SAM(0.1, "sgd"), "base: expected an sgdtheory optimizer"),
    (lambda: SAM(0.1, SAM(0.1)), "base: SAM cannot wrap SAM"),
    (lambda: from_name("sam", radius=1), "optimizer sam: unknown hyperparameter.s. radius; valid: rho, base"),
])
def test_bad_hyperparameters(make, match):
    with pytest.raises(SgdTheoryError, match=match):
        make()


def test_from_name_and_stability():
    assert from_name("adam_min", N_g=5) == McAllesterAdam(5)
    assert from_name("sam", rho=0.2, base=Adam()) == SAM(0.2, Adam())
    quad = _problems()["quad"]
    for base in (SGD(), HeavyBall(0.5)):
        assert stability_limit(quad, SAM(0.1, base), Sampler(2))[0] == stability_limit(quad, base, Sampler(2))[0]
    lim, how = stability_limit(quad, AdamW(), Sampler())
    assert lim == np.inf and "weight_decay |w|" in how


@given(st.sampled_from([McAllesterAdam(10, 1000), McAllesterAdam(1, 1), McAllesterAdam(3, 50), McAllesterAdam(5, 100)]),
       st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=60), st.sampled_from([1.0, 1e-3, 1e3]))
def test_min_form_steps_are_bounded(opt, grads, amp):
    """|w_(t+1) - w_t| <= step_bound() lr (integer horizons), incl. a large gradient followed by small ones."""
    c = opt.step_bound()
    grads = [amp * g for g in grads] + [1e-6] * 30
    w, s = np.zeros(1), opt.init_state(1)
    for g in grads:
        w_new, s = opt.reference_step(w, s, np.array([g]), 0.5)
        assert abs(w_new[0] - w[0]) <= c * 0.5 * (1 + 1e-12)
        w = w_new
