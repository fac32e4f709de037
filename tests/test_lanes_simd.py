"""The lane kernel's vectorised normals (rng.fill_normals_lanes) and its exact arithmetic order.

``fill_normals_lanes`` draws the ziggurat's fast path for all lanes (16 or 32 here) at once and runs the rare slow branch per lane;
each lane must get exactly the variates and end in exactly the state of the scalar ``fill_normals`` on its own
stream.  ``run_gaussian_lanes`` must compute exactly (bit for bit) the scalar recursion its docstring states, in
that order of operations, whatever the lane a path sits in."""

import numpy as np
import pytest
from numba import njit

from reference_rng import Xoshiro
from sgdtheory._kernels.lanes import LANES, _prefer_512_bit_vectors
from sgdtheory._kernels.rng import ZIG_FI, ZIG_KI, ZIG_WI, fill_normals, fill_normals_lanes, path_states
from sgdtheory.problems import GaussianNoiseQuadratic
from sgdtheory.sampling import Sampler
from sgdtheory.simulate import simulate


@njit(cache=True)
def _scalar_draws(S, n_steps, d, scale, ki, wi, fi):
    out = np.empty((n_steps, d, S.shape[0]))
    buf = np.empty(d)
    for t in range(n_steps):
        for lane in range(S.shape[0]):
            fill_normals(S, lane, buf, d, scale, ki, wi, fi)
            for k in range(d):
                out[t, k, lane] = buf[k]
    return out


@njit(cache=True)
def _lane_draws(S, n_steps, d, scale, ki, wi, fi):
    n = S.shape[0]
    st = np.empty((4, n), dtype=np.uint64)
    for lane in range(n):
        for i in range(4):
            st[i, lane] = S[lane, i]
    out = np.empty((n_steps, d, n))
    z = np.empty((d, n))
    rbuf = np.empty((d, n), dtype=np.uint64)
    kv = np.empty((d, n), dtype=np.uint64)
    wv = np.empty((d, n))
    st0 = np.empty((4, n), dtype=np.uint64)
    rej = np.empty(n, dtype=np.int64)
    for t in range(n_steps):
        fill_normals_lanes(st, z, d, scale, ki, wi, fi, rbuf, kv, wv, st0, rej)
        out[t] = z
    for lane in range(n):
        for i in range(4):
            S[lane, i] = st[i, lane]
    return out


@pytest.mark.parametrize("n_lanes, d", [(32, 8), (16, 8), (16, 3), (5, 1)])
def test_fill_normals_lanes_equals_scalar_fill_per_lane(n_lanes, d):
    """64k normals (16 x 500 x 8): about 800 slow-branch draws, wedge rejections that draw again and tail draws."""
    states = path_states(np.random.SeedSequence(2024), 3, n_lanes)
    a, b = states.copy(), states.copy()
    n_steps = 4000 // d
    x = _scalar_draws(a, n_steps, d, 0.75, ZIG_KI, ZIG_WI, ZIG_FI)
    y = _lane_draws(b, n_steps, d, 0.75, ZIG_KI, ZIG_WI, ZIG_FI)
    assert x.tobytes() == y.tobytes()
    assert np.array_equal(a, b)
    if n_lanes >= 16 and d == 8:
        assert np.abs(x).max() > 0.75 * 3.6541528853610088  # the tail (layer 0 beyond r) was reached


def test_fill_normals_lanes_redoes_rejected_lanes_exactly():
    """With the fast-path bounds ki halved, about half the draws take the slow branch: most lanes of most fills are
    redone from their saved state, often with several rejected coordinates (and rejections at the last one).  The
    lanes must still get exactly the scalar fill's variates and end states (the same tables go to both)."""
    ki = ZIG_KI // np.uint64(2)
    states = path_states(np.random.SeedSequence(99), 0, 16)
    a, b = states.copy(), states.copy()
    x = _scalar_draws(a, 300, 8, 1.0, ki, ZIG_WI, ZIG_FI)
    y = _lane_draws(b, 300, 8, 1.0, ki, ZIG_WI, ZIG_FI)
    assert x.tobytes() == y.tobytes()
    assert np.array_equal(a, b)


def _exact_reference(problem, lr, batch, n_steps, w0, state, burn_in, batch_len):
    """One path in plain Python floats, in the lane kernel's order of operations: z_k = s xi_k;
    g_k = (((0 + (H_k0 d_0 + L_k0 z_0)) + (H_k1 d_1 + L_k1 z_1)) + ...); sums of |g|^2, |delta|^2, delta_k and
    delta_k delta_m (k <= m) over each batch of steps; w_k <- w_k - eta g_k, delta_k = w_k - w*_k."""
    kp = problem.kernel_data()
    H, L, ws = kp.Hs[0].tolist(), kp.A.tolist(), kp.w_star.tolist()
    d = len(ws)
    rng = Xoshiro(state)
    scale = float(1.0 / np.sqrt(batch))
    w = [float(v) for v in w0]
    delta = [w[k] - ws[k] for k in range(d)]
    sums, acc = [], None
    for t in range(n_steps):
        z = [scale * rng.normal() for _ in range(d)]
        g = []
        for k in range(d):
            s = 0.0
            for m in range(d):
                s += H[k][m] * delta[m] + L[k][m] * z[m]
            g.append(s)
        if t >= burn_in:
            if acc is None:
                acc = [0.0] * (2 + d + d * (d + 1) // 2)
            vals = [0.0, 0.0]
            for k in range(d):
                vals[0] += g[k] * g[k]
            for k in range(d):
                vals[1] += delta[k] * delta[k]
            vals += delta + [delta[k] * delta[m] for k in range(d) for m in range(k, d)]
            acc = [acc[j] + vals[j] for j in range(len(acc))]
            if (t - burn_in + 1) % batch_len == 0:
                sums.append(acc)
                acc = [0.0] * len(acc)
        for k in range(d):
            w[k] = w[k] - lr * g[k]
            delta[k] = w[k] - ws[k]
    return np.array(w), np.array(sums)


@pytest.mark.parametrize("d", [5, 8])
def test_lane_kernel_is_the_exact_scalar_recursion(d):
    """Bit for bit, for paths in a full block, in the partial last block, and alone (lane 0 of a 1-path block)."""
    rng = np.random.default_rng(d)
    A = rng.standard_normal((d, d))
    problem = GaussianNoiseQuadratic(A @ A.T / d + np.eye(d), np.atleast_2d(np.cov(rng.standard_normal((d, 3 * d)))),
                                     rng.standard_normal(d))
    w0 = rng.standard_normal(d)
    kw = dict(sampler=Sampler(2), n_steps=24, seed=7, w0=w0, record=(),
              time_average=("grad_sq", "dist_sq", "moments"), burn_in=4, n_batches=4)
    n_paths = LANES + 3  # one full block and a partial one
    res = simulate(problem, 0.05, n_paths=n_paths, **kw)
    states = path_states(np.random.SeedSequence(7), 0, n_paths)
    for p in (0, LANES - 5, LANES + 2):
        w, sums = _exact_reference(problem, 0.05, 2, 24, w0, states[p], 4, 5)
        assert res.final_params[p].tobytes() == w.tobytes()
        assert res.batch_sums[p].tobytes() == sums.tobytes()
    alone = simulate(problem, 0.05, n_paths=1, first_path=LANES - 5, **kw)
    assert alone.final_params[0].tobytes() == res.final_params[LANES - 5].tobytes()
    assert alone.batch_sums[0].tobytes() == res.batch_sums[LANES - 5].tobytes()


def test_prefer_512_bit_vectors_marks_the_calling_function():
    """The lane kernel's block loop asks LLVM for 512-bit vectors through a function attribute (only there)."""

    @njit(cache=False)
    def marked(x):
        _prefer_512_bit_vectors()
        return x + 1

    @njit(cache=False)
    def plain(x):
        return x + 1

    assert marked(1) == 2 and plain(1) == 2
    assert '"prefer-vector-width"="512"' in next(iter(marked.inspect_llvm().values()))
    assert "prefer-vector-width" not in next(iter(plain.inspect_llvm().values()))
