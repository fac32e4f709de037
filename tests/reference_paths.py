"""A plain-Python twin of the fused engine (one path, step by step) for every problem class.

It draws from the same xoshiro256++ stream as the kernel (``reference_rng.Xoshiro``), in the
kernel's order per step: the minibatch indices of the sampling scheme, then the Gaussian noise
(d normals for ``GaussianNoiseQuadratic``; one normal for ``PolynomialFiniteSum1D`` with
noise_sd > 0, none otherwise).  SAM's second gradient (at the perturbed point) uses the same indices
and the same normals (nothing more is drawn), as the engine's ``sam_step``.  Observables are computed from their definitions: the excess loss
is delta.Hbar delta/2 for the quadratic problems and L(w) - L(reference) for the polynomial.
"""

import numpy as np

from reference_rng import Xoshiro
from sgdtheory.optimizers import SAM
from sgdtheory.problems import GaussianNoiseQuadratic, PolynomialFiniteSum1D, reference_batch_gradient


def excess_loss(problem, kp, w):
    delta = w - kp.w_star
    if isinstance(problem, PolynomialFiniteSum1D):
        return problem.loss(w) - problem.loss(problem.reference)
    return 0.5 * delta @ kp.Hbar @ delta


def reference_path(problem, lr_fn, opt, scheme, batch, n_steps, w0, state, rec_steps, burn_in, batch_len):
    """Final w, {step: (excess, dist_sq, mean..., second...)} and the batch sums of
    (excess, batch_loss, grad_sq, dist_sq, mean..., second...) after ``burn_in``."""
    rng = Xoshiro(state)
    kp = problem.kernel_data()
    n, d = kp.n, kp.d
    if scheme == "full":
        batch = n
    w = np.array(w0, dtype=np.float64)
    st = opt.init_state(d)
    perm = list(range(n))
    pos = n + 1
    iu = np.triu_indices(d)
    recs, sums = {}, []
    acc = np.zeros(4 + d + len(iu[0]))
    for t in range(n_steps + 1):
        delta = w - kp.w_star
        if t in rec_steps:
            recs[t] = np.concatenate([[excess_loss(problem, kp, w), delta @ delta], delta, np.outer(delta, delta)[iu]])
        if t == n_steps:
            break
        xi = None
        if isinstance(problem, GaussianNoiseQuadratic):
            idx = list(range(batch))
        elif scheme == "with_replacement":
            idx = [rng.below(n) for _ in range(batch)]
        elif scheme == "without_replacement":
            for j in range(batch):
                k = j + rng.below(n - j)
                perm[j], perm[k] = perm[k], perm[j]
            idx = perm[:batch]
        elif scheme in ("reshuffle", "cyclic"):
            if pos + batch > n:
                if scheme == "reshuffle":
                    for j in range(n - 1, 0, -1):
                        k = rng.below(j + 1)
                        perm[j], perm[k] = perm[k], perm[j]
                pos = 0
            idx = perm[pos:pos + batch]
            pos += batch
        else:  # full
            idx = list(range(n))
        if isinstance(problem, GaussianNoiseQuadratic):
            xi = np.array([rng.normal() for _ in range(d)])
        elif isinstance(problem, PolynomialFiniteSum1D) and problem.noise_sd > 0:
            xi = rng.normal()
        g, bloss = reference_batch_gradient(problem, w, idx, xi)
        if t >= burn_in:
            acc += np.concatenate([[excess_loss(problem, kp, w), bloss, g @ g, delta @ delta], delta,
                                   np.outer(delta, delta)[iu]])
            if (t - burn_in + 1) % batch_len == 0:
                sums.append(acc.copy())
                acc[:] = 0
        if isinstance(opt, SAM):
            w, st = opt.reference_step(w, st, g, lr_fn(t),
                                       gradient_at=lambda w2, idx=idx, xi=xi: reference_batch_gradient(problem, w2, idx, xi)[0])
        else:
            w, st = opt.reference_step(w, st, g, lr_fn(t))
    return w, recs, np.array(sums)


ALL_RECORD = ("excess_loss", "dist_sq", "moments")
ALL_AVERAGE = ("excess_loss", "batch_loss", "grad_sq", "dist_sq", "moments")


def compare_with_engine(problem, sched, opt, scheme, batch, w0, *, n_steps=40, n_paths=3, seed=5, burn_in=10,
                        n_batches=5, rec=(0, 7, 40), rtol=1e-10, atol=1e-12):
    """simulate() against ``reference_path`` on every path, all observables; returns the result."""
    from sgdtheory._kernels.rng import path_states
    from sgdtheory.sampling import Sampler
    from sgdtheory.simulate import simulate

    res = simulate(problem, sched, optimizer=opt, sampler=Sampler(batch, scheme), n_steps=n_steps, n_paths=n_paths,
                   seed=seed, w0=w0, record_steps=list(rec), record=ALL_RECORD, time_average=ALL_AVERAGE,
                   burn_in=burn_in, n_batches=n_batches, check_stability=False)
    assert res.n_diverged == 0
    states = path_states(np.random.SeedSequence(seed), 0, n_paths)
    for p in range(n_paths):
        w, recs, sums = reference_path(problem, sched, opt, scheme, batch, n_steps, w0, states[p], set(rec),
                                       burn_in, (n_steps - burn_in) // n_batches)
        np.testing.assert_allclose(res.final_params[p], w, rtol=rtol, atol=atol)
        np.testing.assert_allclose(res.record_values[p], np.array([recs[s] for s in sorted(rec)]), rtol=rtol, atol=atol)
        np.testing.assert_allclose(res.batch_sums[p], sums, rtol=rtol, atol=atol)
    return res
