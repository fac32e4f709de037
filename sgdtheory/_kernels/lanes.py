"""The engine's loop for SGD on ``GaussianNoiseQuadratic`` (and ``SaddleQuadratic``), blocks of paths in lanes.

``run_gaussian_lanes`` computes exactly what ``engine.run_paths`` computes for this problem with plain SGD and a
constant or power-law rate (same outputs, same per-path random streams, same observables), but advances
``LANES`` paths together in structure-of-arrays layout: ``w[k, l]`` is coordinate k of lane l, and every
linear-algebra loop runs over the lanes innermost.  Each lane's arithmetic is the scalar recursion in a fixed
order (no reassociation, no contraction: the kernel has no fastmath flags), so LLVM vectorises across lanes
without changing any lane's result: a path's numbers depend only on (seed, path index), never on its lane, the
block's size, the chunking or the thread count.  The row form g = H delta + L z of one path is 2 d^2 scalar
multiply-adds with short horizontal sums; across the lanes the same work runs in full SIMD registers (the layout
of the hand-written W2 kernel of ``../shared/bench/peers.py``, which uses blocks of 16).

Per step and lane, in the order of ``run_paths``: the recorded observables of w_t (if t is a record step),
z = noise_scale xi (``d`` normals from the path's stream, as ``steps.batch_gradient`` draws them; drawn for
all lanes at once by ``rng.fill_normals_lanes``, the same values as the scalar ``fill_normals``), the
gradient g_k = sum_m (H_km delta_m + L_km z_m) (the same value as ``steps.batch_gradient`` up to rounding: one
sum instead of two) and, when it is averaged, the minibatch loss c + delta.H delta/2, the time-average
observables, then
w <- w - eta_t g and the divergence test on |w - w*|^2.  A lane that diverges keeps being iterated (its
values are discarded: its outputs from the divergence on are NaN, as in ``run_paths``); a block stops when
all its lanes have diverged.
"""

import numpy as np
from numba import njit, prange, types
from numba.core.extending import intrinsic

from .rng import fill_normals_lanes
from .steps import basic_rate

LANES = 32  # paths per block: four 512-bit (eight 256-bit) registers per lane row.  W2 (d = 8) ran 12-17% faster
#             than with 16 lanes (loop set-up and run-time overlap checks shared by twice the work); at most 63
#             (fill_normals_lanes keeps a bit per lane).  Results do not depend on it.


@intrinsic
def _prefer_512_bit_vectors(typingctx):
    """Marks the LLVM function being compiled with ``"prefer-vector-width"="512"`` (no code, returns nothing).

    LLVM's tuning for the AVX-512 CPUs of this machine's class ("prefer-256-bit") vectorises loops with 256-bit
    registers; the function attribute lifts that for the function that calls this, i.e. the block loop of
    ``run_gaussian_lanes`` (the body of the ``prange``, which Numba compiles as a function of its own), and
    nothing else: other kernels, in this package or the user's, keep LLVM's default.  A row of a lane array (32
    lanes) is then four 512-bit registers instead of eight 256-bit ones.  Only the choice of vector width
    changes (the lanes' operations are the same IEEE operations in the same order), so results are unchanged;
    on a CPU without AVX-512 the attribute has no effect."""

    def codegen(context, builder, signature, args):
        try:  # a string attribute, which llvmlite's list of known attributes lacks (hence set.add)
            set.add(builder.function.attributes, '"prefer-vector-width"="512"')
        except (AttributeError, TypeError):
            pass  # another llvmlite: compile with LLVM's default width (same results, slower on AVX-512 CPUs)
        return context.get_dummy_value()

    return types.none(), codegen


@njit(cache=True, inline="always")
def _lane_matvec(A, B, x, y, nl, out):
    """out[k, l] = sum_m (A_km x[m, l] + B_km y[m, l]) for l < nl, summed from 0.0 in the order m = 0, 1, ...; with
    ``B`` None, sum_m A_km x[m, l].

    The loop over the lanes is innermost and takes four terms m..m+3 per pass (each lane still adds its terms
    one by one, in order): LLVM checks at run time that the arrays do not overlap before every vectorised lane
    loop, and four terms per check cost a quarter of one term per check (W2, d = 8: the gradient took 16 ns
    per path-step with one term per pass, 4 ns with four)."""
    d = x.shape[0]
    for k in range(d):
        for lane in range(nl):
            out[k, lane] = 0.0
        m = 0
        while m + 4 <= d:
            a0, a1, a2, a3 = A[k, m], A[k, m + 1], A[k, m + 2], A[k, m + 3]
            if B is None:
                for lane in range(nl):
                    s = out[k, lane]
                    s += a0 * x[m, lane]
                    s += a1 * x[m + 1, lane]
                    s += a2 * x[m + 2, lane]
                    s += a3 * x[m + 3, lane]
                    out[k, lane] = s
            else:
                b0, b1, b2, b3 = B[k, m], B[k, m + 1], B[k, m + 2], B[k, m + 3]
                for lane in range(nl):
                    s = out[k, lane]
                    s += a0 * x[m, lane] + b0 * y[m, lane]
                    s += a1 * x[m + 1, lane] + b1 * y[m + 1, lane]
                    s += a2 * x[m + 2, lane] + b2 * y[m + 2, lane]
                    s += a3 * x[m + 3, lane] + b3 * y[m + 3, lane]
                    out[k, lane] = s
            m += 4
        while m < d:
            a = A[k, m]
            if B is None:
                for lane in range(nl):
                    out[k, lane] += a * x[m, lane]
            else:
                b = B[k, m]
                for lane in range(nl):
                    out[k, lane] += a * x[m, lane] + b * y[m, lane]
            m += 1


@njit(cache=True, inline="always")
def _lane_sumsq(x, nl, q):
    """q[l] = sum_k x[k, l]^2 for l < nl, from 0.0 in the order k = 0, 1, ... (four terms per lane pass)."""
    d = x.shape[0]
    for lane in range(nl):
        q[lane] = 0.0
    k = 0
    while k + 4 <= d:
        for lane in range(nl):
            s = q[lane]
            s += x[k, lane] * x[k, lane]
            s += x[k + 1, lane] * x[k + 1, lane]
            s += x[k + 2, lane] * x[k + 2, lane]
            s += x[k + 3, lane] * x[k + 3, lane]
            q[lane] = s
        k += 4
    while k < d:
        for lane in range(nl):
            q[lane] += x[k, lane] * x[k, lane]
        k += 1


@njit(cache=True, inline="always")
def _lane_observe(want_excess, want_bloss, want_gsq, want_dist, want_moments, delta, Hbar, bloss, g, nl, out, hd, q):
    """``engine._observe`` for all lanes at once: adds the observables to ``out[:, l]`` (same order, same
    formulas: excess delta.Hbar delta/2 with (Hbar delta)_k summed over m in order, then the batch loss, |g|^2,
    |delta|^2 and the moments delta_k, delta_k delta_m for k <= m).  ``hd`` (d x lanes) and ``q`` (lanes) are
    scratch.  Every loop over the lanes is innermost (vectorised); each lane's sums run in the scalar order."""
    d = delta.shape[0]
    j = 0
    if want_excess:
        _lane_matvec(Hbar, None, delta, delta, nl, hd)
        for lane in range(nl):
            q[lane] = 0.0
        for k in range(d):
            for lane in range(nl):
                q[lane] += delta[k, lane] * hd[k, lane]
        for lane in range(nl):
            out[j, lane] += 0.5 * q[lane]
        j += 1
    if want_bloss:
        for lane in range(nl):
            out[j, lane] += bloss[lane]
        j += 1
    if want_gsq:
        _lane_sumsq(g, nl, q)
        for lane in range(nl):
            out[j, lane] += q[lane]
        j += 1
    if want_dist:
        _lane_sumsq(delta, nl, q)
        for lane in range(nl):
            out[j, lane] += q[lane]
        j += 1
    if want_moments:  # two output rows per lane pass: more would exceed LLVM's limit of run-time overlap checks
        k = 0
        while k + 2 <= d:
            for lane in range(nl):
                out[j + k, lane] += delta[k, lane]
                out[j + k + 1, lane] += delta[k + 1, lane]
            k += 2
        while k < d:
            for lane in range(nl):
                out[j + k, lane] += delta[k, lane]
            k += 1
        j += d
        for k in range(d):
            m = k
            while m + 2 <= d:
                for lane in range(nl):
                    dk = delta[k, lane]
                    out[j, lane] += dk * delta[m, lane]
                    out[j + 1, lane] += dk * delta[m + 1, lane]
                m += 2
                j += 2
            while m < d:
                for lane in range(nl):
                    out[j, lane] += delta[k, lane] * delta[m, lane]
                m += 1
                j += 1
    return j


@njit(parallel=True, cache=True)
def run_gaussian_lanes(
    H, L, c0, noise_scale, w_star, Hbar, sched_code, sched_hp,
    n_steps, w0, rng, ki, wi, fi,
    rec_steps, rec_flags, rec_out,
    burn_in, batch_len, tavg_flags, tavg_out,
    div_threshold, w_final, diverged_at,
):
    """SGD on the Gaussian-noise quadratic for ``rng.shape[0]`` paths; arguments and outputs as ``run_paths``
    (``H`` the Hessian, ``L`` the noise factor, ``c0`` the minimum value, schedule constant or power)."""
    n_paths = rng.shape[0]
    d = w0.shape[0]
    n_rec = rec_steps.shape[0]
    n_tb = tavg_out.shape[1]
    n_tobs = tavg_out.shape[2]
    n_rob = rec_out.shape[2]
    tavg_end = burn_in + n_tb * batch_len
    n_blocks = (n_paths + LANES - 1) // LANES
    for blk in prange(n_blocks):
        _prefer_512_bit_vectors()
        p0 = blk * LANES
        nl = min(LANES, n_paths - p0)
        w = np.empty((d, LANES))
        delta = np.empty((d, LANES))
        g = np.zeros((d, LANES))
        z = np.zeros((d, LANES))
        st = np.empty((4, LANES), dtype=np.uint64)  # the lanes' generator states (padding lanes: lane 0's)
        rbuf = np.empty((d, LANES), dtype=np.uint64)  # scratch of fill_normals_lanes
        kv = np.empty((d, LANES), dtype=np.uint64)
        wv = np.empty((d, LANES))
        st0 = np.empty((4, LANES), dtype=np.uint64)
        rej = np.empty(LANES, dtype=np.int64)
        for lane in range(LANES):
            for i in range(4):
                st[i, lane] = rng[p0 + min(lane, nl - 1), i]
        bloss = np.zeros(LANES)
        q = np.zeros(LANES)
        hd = np.zeros((d, LANES))
        qo = np.zeros(LANES)
        acc = np.zeros((max(n_tobs, 1), LANES))
        robs = np.zeros((max(n_rob, 1), LANES))
        r_div = np.full(LANES, -1, dtype=np.int64)  # the record index at which a lane diverged
        alive = nl
        for lane in range(nl):
            diverged_at[p0 + lane] = -1
            for k in range(d):
                w[k, lane] = w0[k]
                delta[k, lane] = w0[k] - w_star[k]
        r = 0
        left = batch_len
        for t in range(n_steps):
            while r < n_rec and rec_steps[r] == t:
                robs[:, :] = 0.0
                _lane_observe(rec_flags[0], False, False, rec_flags[1], rec_flags[2], delta, Hbar, bloss, g, nl,
                              robs, hd, qo)
                for lane in range(nl):
                    for k in range(n_rob):
                        rec_out[p0 + lane, r, k] = robs[k, lane]
                r += 1
            fill_normals_lanes(st, z, d, noise_scale, ki, wi, fi, rbuf, kv, wv, st0, rej)  # d normals per lane, own stream
            in_avg = t >= burn_in and t < tavg_end
            if in_avg and tavg_flags[1]:  # the minibatch loss c + delta.H delta/2 (only when it is averaged)
                _lane_matvec(H, None, delta, delta, nl, g)
                for lane in range(nl):
                    q[lane] = 0.0
                for k in range(d):
                    for lane in range(nl):
                        q[lane] += delta[k, lane] * g[k, lane]
                for lane in range(nl):
                    bloss[lane] = c0 + 0.5 * q[lane]
            _lane_matvec(H, L, delta, z, nl, g)  # g_k = sum_m (H_km delta_m + L_km z_m), m in order
            if in_avg:
                _lane_observe(tavg_flags[0], tavg_flags[1], tavg_flags[2], tavg_flags[3], tavg_flags[4], delta,
                              Hbar, bloss, g, nl, acc, hd, qo)
                left -= 1
                if left == 0:
                    left = batch_len
                    bb = (t - burn_in) // batch_len
                    for lane in range(nl):
                        for k in range(n_tobs):
                            tavg_out[p0 + lane, bb, k] = acc[k, lane]
                    acc[:, :] = 0.0
            lr = basic_rate(sched_code, sched_hp, t)
            for k in range(d):
                wk = w_star[k]
                for lane in range(nl):
                    w[k, lane] -= lr * g[k, lane]
                    delta[k, lane] = w[k, lane] - wk
            _lane_sumsq(delta, nl, q)
            over = 0
            for lane in range(nl):
                over |= np.int64(not q[lane] <= div_threshold)
            if over:
                for lane in range(nl):
                    if r_div[lane] < 0 and not q[lane] <= div_threshold:
                        diverged_at[p0 + lane] = t + 1
                        r_div[lane] = r
                        alive -= 1
            if alive == 0:
                break
        if alive > 0:
            while r < n_rec and rec_steps[r] == n_steps:
                robs[:, :] = 0.0
                _lane_observe(rec_flags[0], False, False, rec_flags[1], rec_flags[2], delta, Hbar, bloss, g, nl,
                              robs, hd, qo)
                for lane in range(nl):
                    for k in range(n_rob):
                        rec_out[p0 + lane, r, k] = robs[k, lane]
                r += 1
        for lane in range(nl):
            p = p0 + lane
            for i in range(4):
                rng[p, i] = st[i, lane]
            if r_div[lane] >= 0:
                for rr in range(r_div[lane], n_rec):
                    for k in range(n_rob):
                        rec_out[p, rr, k] = np.nan
                tavg_out[p, :, :] = np.nan
                for k in range(d):
                    w_final[p, k] = np.nan
            else:
                for k in range(d):
                    w_final[p, k] = w[k, lane]
