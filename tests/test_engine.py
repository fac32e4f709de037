"""The whole simulator against a plain-Python reference driven by the same random streams,
plus chunking, divergence reporting and the streamed statistics."""

import numpy as np
import pytest

from reference_rng import Xoshiro
from sgdtheory._kernels.rng import path_states
from sgdtheory.optimizers import SGD, HeavyBall, Nesterov
from sgdtheory.problems import GaussianNoiseQuadratic, LinearRegression, QuadraticFiniteSum, reference_batch_gradient
from sgdtheory.sampling import Sampler
from sgdtheory.schedules import Power
from sgdtheory.simulate import DivergedError, SimulationResult, simulate


def _problem(kind, rng):
    if kind == "quadratic":
        A = rng.standard_normal((5, 3, 3))
        return QuadraticFiniteSum(rng.standard_normal((5, 3)), A @ A.transpose(0, 2, 1) / 3 + 0.2 * np.eye(3),
                                  rng.standard_normal(5), rng.standard_normal(3))
    if kind == "linreg":
        return LinearRegression(rng.standard_normal((7, 3)), rng.standard_normal(7))
    A = rng.standard_normal((3, 3))
    return GaussianNoiseQuadratic(A @ A.T / 3 + np.eye(3), np.cov(rng.standard_normal((3, 10))), rng.standard_normal(3))


def _reference_path(problem, lr_fn, opt, scheme, batch, n_steps, w0, state, rec_steps, burn_in, batch_len):
    """One path, step by step, in plain Python/numpy: the definition the kernel implements."""
    rng = Xoshiro(state)
    kp = problem.kernel_data()
    n, d = kp.n, kp.d
    w = np.array(w0, dtype=np.float64)
    st = opt.init_state(d)
    perm = list(range(n))
    pos = n + 1
    iu = np.triu_indices(d)
    recs, sums, acc = {}, [], np.zeros(2 + d + len(iu[0]))
    for t in range(n_steps + 1):
        delta = w - kp.w_star
        if t in rec_steps:
            recs[t] = 0.5 * delta @ kp.Hbar @ delta
        if t == n_steps:
            break
        xi = None
        if isinstance(problem, GaussianNoiseQuadratic):
            idx = list(range(batch))
            xi = np.array([rng.normal() for _ in range(d)])
        elif scheme == "with_replacement":
            idx = [rng.below(n) for _ in range(batch)]
        elif scheme == "without_replacement":
            for j in range(batch):
                k = j + rng.below(n - j)
                perm[j], perm[k] = perm[k], perm[j]
            idx = perm[:batch]
        else:  # reshuffle
            if pos + batch > n:
                for j in range(n - 1, 0, -1):
                    k = rng.below(j + 1)
                    perm[j], perm[k] = perm[k], perm[j]
                pos = 0
            idx = perm[pos:pos + batch]
            pos += batch
        g, bloss = reference_batch_gradient(problem, w, idx, xi)
        if t >= burn_in:
            acc += np.concatenate([[0.5 * delta @ kp.Hbar @ delta, g @ g], delta, np.outer(delta, delta)[iu]])
            if (t - burn_in + 1) % batch_len == 0:
                sums.append(acc.copy())
                acc[:] = 0
        w, st = opt.reference_step(w, st, g, lr_fn(t))
    return w, recs, np.array(sums)


CASES = [
    ("quadratic", SGD(), "with_replacement", 2),
    ("quadratic", HeavyBall(0.7), "without_replacement", 3),
    ("linreg", Nesterov(0.5), "reshuffle", 2),
    ("linreg", SGD(), "without_replacement", 7),
    ("gaussian", SGD(), "with_replacement", 2),
]


@pytest.mark.parametrize("kind,opt,scheme,batch", CASES)
def test_engine_matches_reference(kind, opt, scheme, batch):
    problem = _problem(kind, np.random.default_rng(1))
    sched = Power(0.05, 2.0, 0.6)
    n_steps, n_paths, burn_in, n_batches = 40, 3, 10, 5
    w0 = np.linspace(-1, 1, problem.d)
    res = simulate(problem, sched, optimizer=opt, sampler=Sampler(batch, scheme), n_steps=n_steps, n_paths=n_paths,
                   seed=5, w0=w0, record_steps=[0, 7, 40], time_average=("excess_loss", "grad_sq", "moments"),
                   burn_in=burn_in, n_batches=n_batches)
    states = path_states(np.random.SeedSequence(5), 0, n_paths)
    for p in range(n_paths):
        w, recs, sums = _reference_path(problem, sched, opt, scheme, batch, n_steps, w0, states[p],
                                        {0, 7, 40}, burn_in, (n_steps - burn_in) // n_batches)
        np.testing.assert_allclose(res.final_params[p], w, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(res.record_values[p, :, 0], [recs[0], recs[7], recs[40]], rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(res.batch_sums[p], sums, rtol=1e-10, atol=1e-14)


def test_chunks_concatenate_bitwise():
    problem = _problem("quadratic", np.random.default_rng(2))
    kw = dict(sampler=Sampler(2), n_steps=200, seed=11, record_steps=[100, 200], time_average=("excess_loss",),
              burn_in=50, n_batches=10)
    whole = simulate(problem, 0.05, n_paths=10, **kw)
    parts = SimulationResult.concatenate([simulate(problem, 0.05, n_paths=4, first_path=0, **kw),
                                          simulate(problem, 0.05, n_paths=6, first_path=4, **kw)])
    for name in ("record_values", "batch_sums", "final_params", "diverged_at"):
        assert np.array_equal(getattr(whole, name), getattr(parts, name))


def test_memory_does_not_grow_with_steps():
    problem = _problem("linreg", np.random.default_rng(3))
    kw = dict(n_paths=4, record_steps=[10], time_average=("batch_loss", "moments"), burn_in=10, n_batches=5)
    short = simulate(problem, 0.01, n_steps=100, **kw)
    long = simulate(problem, 0.01, n_steps=100_000, **kw)
    for name in ("record_values", "batch_sums", "final_params"):
        assert getattr(short, name).shape == getattr(long, name).shape


def test_divergence_is_reported_not_averaged():
    problem = _problem("quadratic", np.random.default_rng(4))
    lam = np.linalg.eigvalsh(problem.mean_hessian)[-1]
    res = simulate(problem, 2.5 / lam, sampler=Sampler(5, "without_replacement"), n_steps=2000, n_paths=8,
                   time_average=("excess_loss",), burn_in=100, n_batches=10, record_steps=[2000],
                   w0=problem.minimizer + 1.0, check_stability=False)
    assert res.status == "diverged" and res.n_diverged == 8
    assert np.all(res.diverged_at > 0)
    with pytest.raises(DivergedError, match="diverged: 8 of 8 paths"):
        res.time_average("excess_loss")
    with pytest.raises(DivergedError):
        res.ensemble_mean("excess_loss")


def test_stable_run_is_ok_and_time_average_matches_ensemble():
    """OU process: the time average of the excess loss and the ensemble value at the end agree
    with the exact discrete-Lyapunov value within their intervals (a sanity check on the
    statistics plumbing; the sharp checks are the claims)."""
    from scipy.linalg import solve_discrete_lyapunov

    H = np.diag([1.0, 3.0])
    C = np.array([[1.0, 0.3], [0.3, 0.5]])
    problem = GaussianNoiseQuadratic(H, C)
    eta = 0.1
    S = solve_discrete_lyapunov(np.eye(2) - eta * H, eta**2 * C)
    exact = 0.5 * np.sum(H * S)
    res = simulate(problem, eta, n_steps=3000, n_paths=512, seed=3, record_steps=[3000],
                   time_average=("excess_loss",), burn_in=500, n_batches=20)
    assert res.status == "ok"
    assert res.time_average("excess_loss").contains(exact)
    assert res.ensemble_estimate("excess_loss").contains(exact)
    assert res.time_average_batch_means("excess_loss", path=0).half_width > res.time_average("excess_loss").half_width


def test_gaussian_lanes_chunk_invariant_and_match_reference():
    """SGD on a GaussianNoiseQuadratic runs 16 paths per SIMD block (_kernels.lanes): any split of the paths
    (blocks starting anywhere, partial blocks) gives the same bits, and every observable (incl. the batch loss,
    the records and a diverged path) matches the plain reference path."""
    from sgdtheory.problems import SaddleQuadratic

    problem = _problem("gaussian", np.random.default_rng(3))
    kw = dict(sampler=Sampler(2), n_steps=60, seed=13, record_steps=[0, 30, 60], record=("excess_loss", "dist_sq",
              "moments"), time_average=("excess_loss", "batch_loss", "grad_sq", "dist_sq", "moments"), burn_in=20,
              n_batches=4)
    whole = simulate(problem, 0.05, n_paths=37, **kw)
    parts = SimulationResult.concatenate([simulate(problem, 0.05, n_paths=n, first_path=a, **kw)
                                          for a, n in ((0, 5), (5, 19), (24, 13))])
    for name in ("record_values", "batch_sums", "final_params", "diverged_at"):
        assert np.array_equal(getattr(whole, name), getattr(parts, name))
    states = path_states(np.random.SeedSequence(13), 0, 37)
    for p in (0, 17, 36):
        w, recs, sums = _reference_path(problem, lambda t: 0.05, SGD(), "with_replacement", 2, 60,
                                        problem.w_star, states[p], {0, 30, 60}, 20, 10)
        np.testing.assert_allclose(whole.final_params[p], w, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(whole.record_values[p, :, 0], [recs[0], recs[30], recs[60]], rtol=1e-10,
                                   atol=1e-14)
        cols = [0, 2] + list(range(4, whole.batch_sums.shape[2]))  # excess, |g|^2, moments as the reference
        np.testing.assert_allclose(whole.batch_sums[p][:, cols], sums, rtol=1e-10, atol=1e-14)
    # a strict saddle exits: each path stops at its own step, later records and all sums are NaN
    saddle = SaddleQuadratic(np.diag([1.0, -0.5]), np.eye(2))
    res = simulate(saddle, 0.1, n_steps=400, n_paths=21, seed=3, record_steps=[0, 400], time_average=("dist_sq",),
                   burn_in=0, n_batches=2, check_stability=False, divergence_threshold=4.0)
    assert np.all(res.diverged_at > 0)
    assert np.all(np.isfinite(res.record_values[:, 0, 0])) and np.all(np.isnan(res.record_values[:, 1, 0]))
    single = [simulate(saddle, 0.1, n_steps=400, n_paths=1, first_path=p, seed=3, check_stability=False,
                       divergence_threshold=4.0).diverged_at[0] for p in (0, 20)]
    assert single == [res.diverged_at[0], res.diverged_at[20]]


def test_inlined_optimizer_step_keeps_exact_arithmetic_after_the_engine_compiles():
    """The engine must not compile the optimizers' arithmetic with reassociation: inline="always" helpers take the
    caller's fastmath flags, and Numba then reuses that overload for direct calls.  McAllester-Adam with N_g = 1
    computes m - (m - g); reassociated that is 0, exactly it is g (regression: the engine once had fastmath)."""
    from sgdtheory.optimizers import McAllesterAdam
    from sgdtheory.problems import GaussianNoiseQuadratic
    from sgdtheory.simulate import simulate

    opt = McAllesterAdam(N_g=1.0, N_s=1.0, eps=1.0)
    simulate(GaussianNoiseQuadratic([[1.0]], [[1.0]]), 0.1, optimizer=opt, n_steps=5, n_paths=2, seed=1,
             w0=np.zeros(1), record=(), check_stability=False)
    w, state, g = np.zeros(1), np.array([-1.0, 1.0, 0.0]), np.array([3.37283369e-89])
    w_ref, state_ref = opt.reference_step(w, state.copy(), g, 0.1)
    w_k, state_k = w.copy(), state.copy()
    opt.kernel_step()(opt.hyperparameters(), 0.1, w_k, state_k, g)
    assert w_ref[0] != 0.0
    assert np.array_equal(w_k, w_ref) and np.array_equal(state_k, state_ref)
