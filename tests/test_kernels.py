"""Numba single-step kernels against their plain-numpy references (hypothesis, deterministic)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numba import njit

from sgdtheory._kernels import codes
from sgdtheory._kernels.rng import ZIG_FI, ZIG_KI, ZIG_WI, path_states
from sgdtheory._kernels.steps import draw_batch, learning_rate
from sgdtheory.optimizers import SGD, HeavyBall, Nesterov
from sgdtheory.problems import GaussianNoiseQuadratic, LinearRegression, QuadraticFiniteSum, reference_batch_gradient
from sgdtheory.sampling import reference_epoch_batches
from sgdtheory.schedules import Constant, Power

from reference_rng import Xoshiro

finite = st.floats(-3, 3, allow_nan=False, allow_subnormal=False)


@st.composite
def quadratic_problems(draw):
    n = draw(st.integers(1, 6))
    d = draw(st.integers(1, 4))
    g = draw(arrays(np.float64, (n, d), elements=finite))
    A = draw(arrays(np.float64, (n, d, d), elements=finite))
    H = A @ np.swapaxes(A, 1, 2) + np.eye(d)  # SPD per example, so the mean is SPD
    c = draw(arrays(np.float64, (n,), elements=finite))
    anchor = draw(arrays(np.float64, (d,), elements=finite))
    return QuadraticFiniteSum(g, H, c, anchor)


@st.composite
def linreg_problems(draw):
    d = draw(st.integers(1, 4))
    n = draw(st.integers(d, 8))
    X = draw(arrays(np.float64, (n, d), elements=finite)) + np.vstack([np.eye(d) * 3, np.zeros((n - d, d))])
    y = draw(arrays(np.float64, (n,), elements=finite))
    return LinearRegression(X, y)


def _kernel_gradient(problem, w, idx, state):
    kp = problem.kernel_data()
    d = kp.d
    g = np.empty(d)
    z = np.empty(d)
    S = state.copy().reshape(1, 4)
    loss = problem.kernel_functions().gradient(kp.A, kp.Hs, kp.v, 1.0 / np.sqrt(len(idx)), np.asarray(idx, dtype=np.int64),
                          len(idx), w - kp.w_star, w, g, z, S, 0, ZIG_KI, ZIG_WI, ZIG_FI)
    return g, loss


@given(st.one_of(quadratic_problems(), linreg_problems()), st.data())
def test_batch_gradient_matches_reference(problem, data):
    w = data.draw(arrays(np.float64, (problem.d,), elements=finite))
    idx = data.draw(st.lists(st.integers(0, problem.n - 1), min_size=1, max_size=5))
    g, loss = _kernel_gradient(problem, w, idx, np.array([1, 2, 3, 4], dtype=np.uint64))
    g_ref, loss_ref = reference_batch_gradient(problem, w, idx)
    scale = 1 + np.abs(g_ref).max()
    np.testing.assert_allclose(g, g_ref, rtol=1e-11, atol=1e-11 * scale)
    np.testing.assert_allclose(loss, loss_ref, rtol=1e-10, atol=1e-10 * (1 + abs(loss_ref)))


@given(st.integers(1, 4), st.integers(1, 3), st.lists(st.integers(0, 2**64 - 1), min_size=4, max_size=4).filter(any), st.data())
def test_gaussian_noise_gradient_matches_reference(d, batch, state, data):
    A = data.draw(arrays(np.float64, (d, d), elements=finite))
    H = A @ A.T + np.eye(d)
    L = data.draw(arrays(np.float64, (d, d), elements=finite))
    problem = GaussianNoiseQuadratic(H, L @ L.T)
    w = data.draw(arrays(np.float64, (d,), elements=finite))
    ref = Xoshiro(state)
    xi = np.array([ref.normal() for _ in range(d)])
    g, loss = _kernel_gradient(problem, w, list(range(batch)), np.array(state, dtype=np.uint64))
    g_ref, loss_ref = reference_batch_gradient(problem, w, list(range(batch)), xi)
    np.testing.assert_allclose(g, g_ref, rtol=1e-10, atol=1e-10 * (1 + np.abs(g_ref).max()))
    np.testing.assert_allclose(loss, loss_ref, rtol=1e-12)


OPTIMIZERS = [SGD(), HeavyBall(0.9), HeavyBall(0.0), Nesterov(0.9), Nesterov(0.5)]


@pytest.mark.parametrize("opt", OPTIMIZERS, ids=lambda o: repr(o))
@given(data=st.data())
def test_optimizer_step_bitwise(opt, data):
    d = data.draw(st.integers(1, 6))
    w = data.draw(arrays(np.float64, (d,), elements=finite))
    g = data.draw(arrays(np.float64, (d,), elements=finite))
    state = data.draw(arrays(np.float64, (opt.state_size(d),), elements=finite))
    lr = data.draw(st.floats(1e-4, 1.0))
    w_ref, state_ref = opt.reference_step(w, state, g, lr)
    w_k, state_k = w.copy(), state.copy() if state.size else np.zeros(1)
    opt.kernel_step()(opt.hyperparameters(), lr, w_k, state_k, g)
    assert np.array_equal(w_k, w_ref)
    if state.size:
        assert np.array_equal(state_k, state_ref)


@given(data=st.data())
def test_preconditioned_step_bitwise(data):
    from sgdtheory.optimizers import PreconditionedSGD

    d = data.draw(st.integers(1, 5))
    opt = PreconditionedSGD(data.draw(arrays(np.float64, (d, d), elements=finite)))
    w = data.draw(arrays(np.float64, (d,), elements=finite))
    g = data.draw(arrays(np.float64, (d,), elements=finite))
    lr = data.draw(st.floats(1e-4, 1.0))
    w_ref, _ = opt.reference_step(w, np.zeros(0), g, lr)
    w_k = w.copy()
    opt.kernel_step()(opt.hyperparameters(), lr, w_k, np.zeros(1), g)
    assert np.array_equal(w_k, w_ref)


def test_reference_step_does_not_modify_inputs():
    w, v, g = np.ones(3), np.ones(3), np.ones(3)
    HeavyBall(0.5).reference_step(w, v, g, 0.1)
    assert np.array_equal(w, np.ones(3)) and np.array_equal(v, np.ones(3))


@njit
def _draw_many(scheme, s, n, batch, steps):
    S = s.reshape((1, 4))
    idx = np.empty(batch, dtype=np.int64)
    perm = np.arange(n)
    out = np.empty((steps, batch), dtype=np.int64)
    pos = n + 1
    for t in range(steps):
        pos = draw_batch(scheme, S, 0, n, batch, idx, perm, pos)
        out[t] = idx
    return out


@given(st.integers(1, 40), st.integers(1, 8), st.integers(0, 2**32))
def test_sampling_schemes(n, batch, seed):
    batch = min(batch, n)
    s = path_states(np.random.SeedSequence(seed), 0, 1)[0]
    # with replacement: exactly the stream of bounded integers
    ref = Xoshiro(s)
    out = _draw_many(codes.SAMPLING_WITH_REPLACEMENT, s.copy(), n, batch, 5)
    assert out.ravel().tolist() == [ref.below(n) for _ in range(5 * batch)]
    # without replacement: distinct indices within every batch
    out = _draw_many(codes.SAMPLING_WITHOUT_REPLACEMENT, s.copy(), n, batch, 5)
    assert all(len(set(row)) == batch for row in out.tolist())
    # reshuffling: each epoch's batches are disjoint slices of one permutation (drop_last)
    m = n // batch
    out = _draw_many(codes.SAMPLING_RESHUFFLE, s.copy(), n, batch, 3 * m)
    for e in range(3):
        epoch = out[e * m:(e + 1) * m].ravel()
        assert len(set(epoch.tolist())) == m * batch
    # cyclic: the fixed order 0..n-1 in slices, every epoch the same
    out = _draw_many(codes.SAMPLING_CYCLIC, s.copy(), n, batch, 2 * m)
    expected = np.concatenate(reference_epoch_batches(np.arange(n), batch))
    assert np.array_equal(out[:m].ravel(), expected) and np.array_equal(out[m:].ravel(), expected)
    out = _draw_many(codes.SAMPLING_FULL, s.copy(), n, n, 2)
    assert np.array_equal(out[1], np.arange(n))


@given(st.floats(0.01, 2.0), st.floats(0.5, 100.0), st.floats(0.0, 1.5), st.integers(0, 10**6))
def test_learning_rate_schedules(c, t0, p, t):
    for sched in (Constant(c), Power(c, t0, p)):
        assert learning_rate(sched.code, sched.parameters(), t) == pytest.approx(float(sched(t)), rel=1e-14)
