"""The fused Monte Carlo loop: many independent SGD paths, statistics streamed, nothing stored per step.

``run_paths`` advances every path of a range through all its steps in one pass (ranges of paths in parallel on
threads, ``pool.over_paths``; each path on one thread from start to end, with its own xoshiro256++ stream, so
the result does not depend on the thread count).  Per path it keeps only

* the observables at the recorded steps (``rec_out[p, r, :]``, memory O(records), not O(steps)),
* sums of the observables over consecutive post-burn-in batches of steps
  (``tavg_out[p, b, :]``), from which the simulate layer forms time averages with batch-means or
  replica intervals,
* the final iterate and, if the path blew up, the step at which it did (``diverged_at[p]``).

Scratch arrays are allocated once per path, never per step.

This module is a template (``compose``): ``run_paths`` is compiled once per (problem, optimizer) with the
problem's gradient and the optimizer's step bound to the ``slots`` names; use it through
``compose.kernel("engine", "run_paths", problem, optimizer)`` (``simulate`` does).
"""

import numpy as np
from numba import njit

from sgdtheory.optimizers.sam import perturb

from .codes import SCHEDULE_CONSTANT, SCHEDULE_POWER
from .slots import SECOND_GRADIENT, optimizer_step, problem_excess, problem_gradient, problem_regradient
from .steps import FAST, basic_rate, draw_batch, scheduled_rate


@njit(cache=True, fastmath=FAST, forceinline=True, _nrt=False, error_model="numpy")
def _sq_norm(x):
    """|x|^2."""
    q = 0.0
    for k in range(x.shape[0]):
        q += x[k] * x[k]
    return q


@njit(cache=True, fastmath=FAST, forceinline=True, _nrt=False, error_model="numpy")
def _observe(want_excess, want_bloss, want_gsq, want_dist, want_moments, delta, Hbar, excess_poly, bloss, g, out):
    """Add the observables to ``out`` (streaming sums; a record slot starts at 0, so it is written).

    Order: excess loss (the problem's ``excess_loss``), minibatch loss, |g|^2, |delta|^2 (delta = w - w*), then
    the moments delta_k and delta_k delta_l (k <= l).
    Returns the number of entries.
    """
    d = delta.shape[0]
    j = 0
    if want_excess:
        out[j] += problem_excess(delta, Hbar, excess_poly)
        j += 1
    if want_bloss:
        out[j] += bloss
        j += 1
    if want_gsq:
        out[j] += _sq_norm(g)
        j += 1
    if want_dist:
        out[j] += _sq_norm(delta)
        j += 1
    if want_moments:
        for k in range(d):
            out[j + k] += delta[k]
        j += d
        for k in range(d):
            dk = delta[k]
            row = j + k * d - (k * (k - 1)) // 2 - k  # offset of (k, k) in the packed upper triangle
            for l in range(k, d):
                out[row + l] += dk * delta[l]
        j += (d * (d + 1)) // 2
    return j


@njit(cache=True, nogil=True)
def run_paths(
    first, last, A, Hs, v, noise_scale, w_star, Hbar, excess_poly,
    scheme, batch, opt_hp, state_size, sched_code, sched_hp,
    n_steps, w0, rng, ki, wi, fi,
    rec_steps, rec_flags, rec_out,
    burn_in, batch_len, tavg_flags, tavg_out,
    div_threshold, w_final, diverged_at,
):
    """Simulate paths ``first .. last - 1`` (rows of ``rng`` and of the outputs); see the module docstring.

    ``rec_flags`` = (excess, dist, moments) and ``tavg_flags`` = (excess, batch loss, grad sq,
    dist, moments) select the observables, in that order.  Time averages cover steps
    ``burn_in .. burn_in + n_batches * batch_len - 1`` and use the iterate *before* the update of
    that step, with the minibatch of that step.  A path whose squared distance to ``w_star``
    exceeds ``div_threshold`` (or becomes NaN) stops; its outputs after that step are NaN.
    ``excess_poly`` selects the excess-loss formula (see ``_observe``; empty for quadratic problems).
    SAM (``SECOND_GRADIENT``) evaluates a second gradient per step at the perturbed point w + rho g / |g|
    (``optimizers.sam.perturb``), with the same minibatch and the same Gaussian noise (no extra random numbers),
    and applies the base optimizer's step to it; the observables (batch loss, |g|^2) use the first gradient.
    Schedules beyond constant/power go through ``steps.scheduled_rate`` (one out-of-line call).

    Compiled with reassociation (``FAST``), which the problems' gradients and the observables' sums, inlined here,
    take: their dot products vectorise.  The optimizer's ``step`` (and SAM's ``perturb``) are separate functions
    compiled without fastmath and deliberately not Numba-inlined: an inlined helper takes the caller's flags (and
    Numba then reuses that overload for direct calls), which broke the optimizers' bit-for-bit agreement with
    their numpy references and PyTorch (McAllester-Adam with N_g = 1 computes m - (m - g): reassociated, 0
    instead of g).  LLVM keeps per-instruction flags when it inlines them, so their arithmetic is exact either
    way.

    Serial and ``nogil``: ``pool.over_paths`` runs ranges of paths on threads.  The scratch arrays are allocated
    once per range; each path runs in ``_path``, compiled without Numba's reference counting (``_nrt=False``, as
    are the helpers inlined into it): with it, every array argument of every inlined helper cost an atomic
    increment and decrement per step, 45% of the time of linear-regression SGD.  They use NumPy's error model (no
    ZeroDivisionError checks in the loop; every divisor is validated before: batch >= 1, eps > 0, ...): +15% on
    W1.  (A ``prange`` loop with fastmath
    gave other bits after Numba loaded it from its cache than when freshly compiled; a serial function's cached
    code is its fresh code.)
    Results are bitwise identical for any thread count and chunking.
    SGD on ``GaussianNoiseQuadratic`` with a constant or power rate does not come here: ``lanes.run_gaussian_lanes``.
    """
    d = w0.shape[0]
    w = np.empty(d)
    delta = np.empty(d)
    g = np.empty(d)
    z = np.empty(d)
    w2 = np.empty(d)  # SAM scratch: the perturbed point, its delta and its gradient
    delta2 = np.empty(d)
    g2 = np.empty(d)
    state = np.empty(max(state_size, 1))
    idx = np.empty(max(batch, 1), dtype=np.int64)
    perm = np.empty(max(A.shape[0], 1), dtype=np.int64)
    acc = np.empty(max(tavg_out.shape[2], 1))
    # second moments of the time averages: a full d x d sum (contiguous rows, vectorisable),
    # packed into the upper triangle of ``acc`` when a batch is flushed
    mom = np.empty((d, d))
    for p in range(first, last):
        _path(p, A, Hs, v, noise_scale, w_star, Hbar, excess_poly, scheme, batch, opt_hp, state_size, sched_code, sched_hp, n_steps, w0, rng, ki, wi, fi, rec_steps, rec_flags, rec_out, burn_in, batch_len, tavg_flags, tavg_out, div_threshold, w_final, diverged_at,
              w, delta, g, z, w2, delta2, g2, state, idx, perm, acc, mom)


@njit(cache=True, nogil=True, fastmath=FAST, _nrt=False, error_model="numpy")
def _path(
    p, A, Hs, v, noise_scale, w_star, Hbar, excess_poly,
    scheme, batch, opt_hp, state_size, sched_code, sched_hp,
    n_steps, w0, rng, ki, wi, fi,
    rec_steps, rec_flags, rec_out,
    burn_in, batch_len, tavg_flags, tavg_out,
    div_threshold, w_final, diverged_at,
    w, delta, g, z, w2, delta2, g2, state, idx, perm, acc, mom,
):
    """Path ``p`` of ``run_paths`` (all its steps) in the given scratch arrays, which start each path as
    w = w0, state = 0, perm = identity, acc = mom = 0 (no allocation, no reference counting)."""
    d = w0.shape[0]
    n = A.shape[0]
    n_rec = rec_steps.shape[0]
    n_tb = tavg_out.shape[1]
    n_tobs = tavg_out.shape[2]
    tavg_end = burn_in + n_tb * batch_len
    for k in range(d):
        w[k] = w0[k]
        for l in range(d):
            mom[k, l] = 0.0
    for k in range(state.shape[0]):
        state[k] = 0.0
    for k in range(perm.shape[0]):
        perm[k] = k
    for k in range(acc.shape[0]):
        acc[k] = 0.0
    n_head = n_tobs - ((d * (d + 1)) // 2 if tavg_flags[4] else 0)
    pos = n + 1
    left = batch_len  # steps until the current time-average batch is flushed
    r = 0
    diverged_at[p] = -1
    basic = sched_code <= SCHEDULE_POWER
    constant = sched_code == SCHEDULE_CONSTANT
    lr = sched_hp[0]
    # the flags and a constant rate as locals, read once per path (no measurable change on W1: LLVM kept them)
    rec_excess, rec_dist, rec_moments = rec_flags[0], rec_flags[1], rec_flags[2]
    t_excess, t_bloss, t_gsq, t_dist, t_moments = tavg_flags[0], tavg_flags[1], tavg_flags[2], tavg_flags[3], \
        tavg_flags[4]
    for k in range(d):
        delta[k] = w[k] - w_star[k]
    for t in range(n_steps):
        while r < n_rec and rec_steps[r] == t:
            _observe(rec_excess, False, False, rec_dist, rec_moments, delta, Hbar, excess_poly, 0.0, g, rec_out[p, r])
            r += 1
        pos = draw_batch(scheme, rng, p, n, batch, idx, perm, pos)
        bloss = problem_gradient(A, Hs, v, noise_scale, idx, batch, delta, w, g, z, rng, p, ki, wi, fi)
        if t >= burn_in and t < tavg_end:
            _observe(t_excess, t_bloss, t_gsq, t_dist, False, delta, Hbar, excess_poly, bloss, g, acc)
            if t_moments:
                for k in range(d):
                    acc[n_head - d + k] += delta[k]
                    dk = delta[k]
                    for l in range(d):
                        mom[k, l] += dk * delta[l]
            left -= 1
            if left == 0:
                left = batch_len
                b = (t - burn_in) // batch_len
                if t_moments:
                    jj = n_head
                    for k in range(d):
                        for l in range(k, d):
                            acc[jj] = mom[k, l]
                            mom[k, l] = 0.0
                            jj += 1
                for k in range(n_tobs):
                    tavg_out[p, b, k] = acc[k]
                    acc[k] = 0.0
        if constant:
            pass  # lr = sched_hp[0], read once
        elif basic:
            lr = basic_rate(sched_code, sched_hp, t)
        else:
            lr = scheduled_rate(sched_code, sched_hp, t)
        if SECOND_GRADIENT:  # SAM: the base step with the gradient at w + rho g / |g| (same minibatch, noise)
            perturb(opt_hp[0], w, g, w2)
            for k in range(d):
                delta2[k] = w2[k] - w_star[k]
            problem_regradient(A, Hs, v, idx, batch, delta2, w2, g2, z)
            optimizer_step(opt_hp[1:], lr, w, state, g2)
        else:
            optimizer_step(opt_hp, lr, w, state, g)
        q = 0.0
        for k in range(d):
            delta[k] = w[k] - w_star[k]
            q += delta[k] * delta[k]
        if not q <= div_threshold:
            diverged_at[p] = t + 1
            break
    if diverged_at[p] >= 0:
        for rr in range(r, n_rec):
            rec_out[p, rr, :] = np.nan
        tavg_out[p, :, :] = np.nan
        w_final[p, :] = np.nan
        return
    while r < n_rec and rec_steps[r] == n_steps:
        _observe(rec_excess, False, False, rec_dist, rec_moments, delta, Hbar, excess_poly, 0.0, g, rec_out[p, r])
        r += 1
    for k in range(d):
        w_final[p, k] = w[k]
