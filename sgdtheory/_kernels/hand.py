"""The two single-purpose Numba kernels of the shared benchmark, vendored for ``sgdtheory bench``.

A faithful copy (code unchanged except ``cache=True``) of the "numba" implementations of
``../shared/bench/peers.py`` (the project's benchmark harness; README next to it): ``w1_numba`` (linear-regression
SGD, B indices drawn with replacement, streaming batch loss) and ``w2_numba`` (the Ornstein-Uhlenbeck recursion
w <- (I - eta H) w - eta L xi in blocks of 16 paths), and its RNG floors ``floor_w1_numba`` / ``floor_w2_numba`` (the
same streams, numbers only summed), each path with its own xoshiro256++ stream seeded by
SplitMix64 from (seed << 32) + path, normals by a 256-layer ziggurat.  They are the bar the general engine is
measured against ("a kernel a user could write for one workload in an afternoon"); they are not used by any
claim.  Their random streams differ from the engine's (SeedSequence-seeded), so only throughputs and the
correctness of the statistics are compared, never the bits.
"""

import math

import numpy as np
from numba import njit, prange

_NUMBA_CACHE = True
_FM = {"reassoc", "contract", "nsz"}             # enough to vectorise dot products

_u64 = np.uint64
_GOLDEN, _SM1, _SM2 = _u64(0x9E3779B97F4A7C15), _u64(0xBF58476D1CE4E5B9), _u64(0x94D049BB133111EB)
_M32 = _u64(0xFFFFFFFF)
_M52 = _u64(0x000FFFFFFFFFFFFF)
_MFF = _u64(0xFF)
_S1, _S8, _S11, _S17, _S19, _S23 = _u64(1), _u64(8), _u64(11), _u64(17), _u64(19), _u64(23)
_S27, _S30, _S31, _S32, _S41, _S45 = _u64(27), _u64(30), _u64(31), _u64(32), _u64(41), _u64(45)
_TWO_M53 = 1.0 / 9007199254740992.0


def _ziggurat_tables():
    """256-layer ziggurat tables for N(0,1) with 52-bit mantissas.

    Same construction as Marsaglia & Tsang (2000) / numpy's tables: tail start
    r = 3.6541528853610088, common layer area v = r f(r) + int_r^inf f.
    (Matches numpy's ki/wi/fi tables to ~1e-15.)
    """
    r = 3.6541528853610087963519472518
    v = r * math.exp(-0.5 * r * r) + math.sqrt(math.pi / 2) * math.erfc(r / math.sqrt(2))
    m = 2.0 ** 52
    k = np.zeros(256, np.int64)
    w = np.zeros(256)
    f = np.zeros(256)
    dn = tn = r
    q = v / math.exp(-0.5 * dn * dn)
    k[0] = int((dn / q) * m)
    k[1] = 0
    w[0], w[255] = q / m, dn / m
    f[0], f[255] = 1.0, math.exp(-0.5 * dn * dn)
    for i in range(254, 0, -1):
        dn = math.sqrt(-2.0 * math.log(v / dn + math.exp(-0.5 * dn * dn)))
        k[i + 1] = int((dn / tn) * m)
        tn = dn
        f[i] = math.exp(-0.5 * dn * dn)
        w[i] = dn / m
    return k, w, f, r


_ZK, _ZW, _ZF, _ZR = _ziggurat_tables()
_ZINV_R = 1.0 / _ZR


@njit(cache=_NUMBA_CACHE)
def _splitmix64(state):
    state = state + _GOLDEN
    z = state
    z = (z ^ (z >> _S30)) * _SM1
    z = (z ^ (z >> _S27)) * _SM2
    return state, z ^ (z >> _S31)


@njit(cache=_NUMBA_CACHE)
def _seed_path(seed, p):
    """xoshiro256++ state of path p: SplitMix64 run from (seed << 32) + p."""
    st = (_u64(seed) << _S32) + _u64(p)
    st, s0 = _splitmix64(st)
    st, s1 = _splitmix64(st)
    st, s2 = _splitmix64(st)
    st, s3 = _splitmix64(st)
    return s0, s1, s2, s3


@njit(cache=_NUMBA_CACHE)
def _xnext(s0, s1, s2, s3):
    """xoshiro256++ (Blackman & Vigna): returns (uint64 output, new state)."""
    a = s0 + s3
    res = ((a << _S23) | (a >> _S41)) + s0
    t = s1 << _S17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = (s3 << _S45) | (s3 >> _S19)
    return res, s0, s1, s2, s3


@njit(cache=_NUMBA_CACHE)
def _u01(x):
    """uint64 -> double in [0, 1) from the top 53 bits."""
    return np.float64(np.int64(x >> _S11)) * _TWO_M53


@njit(cache=_NUMBA_CACHE)
def _bounded(s0, s1, s2, s3, u, nn, thresh):
    """Lemire's unbiased multiply-shift: uniform integer in [0, n) from a
    32-bit value u; rejection (never taken when n is a power of two, where
    thresh = 2^32 mod n = 0) redraws from the high half of a fresh output."""
    prod = u * nn
    while (prod & _M32) < thresh:
        r, s0, s1, s2, s3 = _xnext(s0, s1, s2, s3)
        prod = (r >> _S32) * nn
    return np.intp(prod >> _S32), s0, s1, s2, s3


@njit(cache=_NUMBA_CACHE)
def _zig_slow(idx, u, x, s0, s1, s2, s3):
    """Rare ziggurat branch (~1% of draws): tail (layer 0) or wedge test."""
    if idx == 0:
        while True:
            a, s0, s1, s2, s3 = _xnext(s0, s1, s2, s3)
            b, s0, s1, s2, s3 = _xnext(s0, s1, s2, s3)
            xx = -_ZINV_R * math.log1p(-_u01(a))
            yy = -math.log1p(-_u01(b))
            if yy + yy > xx * xx:
                if u < 0:
                    return True, -(_ZR + xx), s0, s1, s2, s3
                return True, _ZR + xx, s0, s1, s2, s3
    a, s0, s1, s2, s3 = _xnext(s0, s1, s2, s3)
    if (_ZF[idx - 1] - _ZF[idx]) * _u01(a) + _ZF[idx] < math.exp(-0.5 * x * x):
        return True, x, s0, s1, s2, s3
    return False, 0.0, s0, s1, s2, s3


@njit(cache=_NUMBA_CACHE)
def _znormal(s0, s1, s2, s3):
    """Standard normal by the ziggurat method, one uint64 per draw ~99% of the
    time: low 8 bits = layer, top 53 bits = signed abscissa (branch-free sign)."""
    while True:
        r, s0, s1, s2, s3 = _xnext(s0, s1, s2, s3)
        idx = np.intp(r & _MFF)
        u = np.int64(r) >> np.int64(11)          # signed, |u| <= 2^52
        x = np.float64(u) * _ZW[idx]
        if abs(u) < _ZK[idx]:
            return x, s0, s1, s2, s3
        ok, x, s0, s1, s2, s3 = _zig_slow(idx, u, x, s0, s1, s2, s3)
        if ok:
            return x, s0, s1, s2, s3


# ---- W1 kernel: one path per prange iteration (array-of-structures) --------

@njit(fastmath=_FM, cache=_NUMBA_CACHE)
def _w1_step(X, y, w, g, step, nn, thresh, B, s0, s1, s2, s3):
    """One SGD step of one path; returns the batch residual sum of squares."""
    d = X.shape[1]
    for k in range(d):
        g[k] = 0.0
    rss = 0.0
    r64 = _u64(0)
    for b in range(B):
        if (b & 1) == 0:                          # two 32-bit draws per uint64
            r64, s0, s1, s2, s3 = _xnext(s0, s1, s2, s3)
            u = r64 >> _S32
        else:
            u = r64 & _M32
        i, s0, s1, s2, s3 = _bounded(s0, s1, s2, s3, u, nn, thresh)
        ri = -y[i]
        for k in range(d):                        # residual x_i . w - y_i
            ri += X[i, k] * w[k]
        rss += ri * ri
        for k in range(d):                        # gradient accumulation
            g[k] += ri * X[i, k]
    for k in range(d):
        w[k] -= step * g[k]
    return rss, s0, s1, s2, s3


@njit(parallel=True, cache=_NUMBA_CACHE)
def w1_numba(X, y, eta, P, T, B, seed):
    n, d = X.shape
    W = np.empty((P, d))
    bl_sum = np.empty(P)
    nn = _u64(n)
    thresh = (_u64(1) << _S32) % nn               # Lemire rejection threshold
    step = eta / B
    half = T // 2
    for p in prange(P):
        s0, s1, s2, s3 = _seed_path(seed, p)
        w = np.zeros(d)
        g = np.empty(d)
        for t in range(half):                     # first half: no statistics
            rss, s0, s1, s2, s3 = _w1_step(X, y, w, g, step, nn, thresh, B, s0, s1, s2, s3)
        acc = 0.0
        for t in range(half, T):                  # second half: streaming mean
            rss, s0, s1, s2, s3 = _w1_step(X, y, w, g, step, nn, thresh, B, s0, s1, s2, s3)
            acc += rss
        for k in range(d):
            W[p, k] = w[k]
        bl_sum[p] = (0.5 / B) * acc
    return W, bl_sum


# ---- W2 kernel: blocks of LANES paths, structure-of-arrays ------------------
# w[i, l] holds coordinate i of lane l; the linear algebra loops run over the
# lanes (contiguous), so LLVM vectorises them without any reassociation, while
# each lane still draws from its own per-path xoshiro stream.

W2_LANES = 16


@njit(cache=_NUMBA_CACHE)
def _w2_block_step(A, eL, st, w, wn, xi, nl):
    d = A.shape[0]
    for l in range(nl):                           # noise: per-path streams
        s0 = st[0, l]
        s1 = st[1, l]
        s2 = st[2, l]
        s3 = st[3, l]
        for k in range(d):
            x, s0, s1, s2, s3 = _znormal(s0, s1, s2, s3)
            xi[k, l] = x
        st[0, l] = s0
        st[1, l] = s1
        st[2, l] = s2
        st[3, l] = s3
    for i in range(d):                            # wn = A w - (eta L) xi
        for l in range(nl):
            wn[i, l] = 0.0
        for j in range(d):
            a = A[i, j]
            b = eL[i, j]
            for l in range(nl):
                wn[i, l] += a * w[j, l] - b * xi[j, l]
    for i in range(d):
        for l in range(nl):
            w[i, l] = wn[i, l]


@njit(cache=_NUMBA_CACHE)
def _w2_block_accum(w, S, m, nl):
    d = w.shape[0]
    for i in range(d):
        for l in range(nl):
            m[i, l] += w[i, l]
        for j in range(i, d):                     # upper triangle only
            for l in range(nl):
                S[i, j, l] += w[i, l] * w[j, l]


@njit(parallel=True, cache=_NUMBA_CACHE)
def _w2_numba_kernel(A, eL, P, T, burn, seed, LANES):
    d = A.shape[0]
    nblk = (P + LANES - 1) // LANES
    Sb = np.zeros((nblk, d, d))
    mb = np.zeros((nblk, d))
    for blk in prange(nblk):
        p0 = blk * LANES
        nl = min(LANES, P - p0)
        st = np.empty((4, LANES), np.uint64)
        for l in range(nl):
            a0, a1, a2, a3 = _seed_path(seed, p0 + l)
            st[0, l], st[1, l], st[2, l], st[3, l] = a0, a1, a2, a3
        w = np.zeros((d, LANES))
        wn = np.empty((d, LANES))
        xi = np.empty((d, LANES))
        S = np.zeros((d, d, LANES))
        m = np.zeros((d, LANES))
        for t in range(burn):
            _w2_block_step(A, eL, st, w, wn, xi, nl)
        for t in range(burn, T):
            _w2_block_step(A, eL, st, w, wn, xi, nl)
            _w2_block_accum(w, S, m, nl)
        for i in range(d):                        # fixed-order lane reduction
            for l in range(nl):
                mb[blk, i] += m[i, l]
            for j in range(i, d):
                s = 0.0
                for l in range(nl):
                    s += S[i, j, l]
                Sb[blk, i, j] = s
                Sb[blk, j, i] = s
    S_sum = np.zeros((d, d))
    m_sum = np.zeros(d)
    for blk in range(nblk):                       # fixed-order block reduction
        for i in range(d):
            m_sum[i] += mb[blk, i]
            for j in range(d):
                S_sum[i, j] += Sb[blk, i, j]
    return S_sum, m_sum


def w2_numba(H, L, eta, P, T, burn, seed):
    d = H.shape[0]
    A = np.ascontiguousarray(np.eye(d) - eta * H)
    eL = np.ascontiguousarray(eta * L)
    return _w2_numba_kernel(A, eL, P, T, burn, seed, W2_LANES)


# ---- the RNG floors of peers.py: the hand kernels' streams, numbers only summed ----

@njit(parallel=True, cache=_NUMBA_CACHE)
def floor_w1_numba(n, P, T, B, seed):
    """P*T*B uniform integers in [0, n) exactly as w1_numba draws them."""
    out = np.empty(P, np.int64)
    nn = _u64(n)
    thresh = (_u64(1) << _S32) % nn
    for p in prange(P):
        s0, s1, s2, s3 = _seed_path(seed, p)
        acc = 0
        r64 = _u64(0)
        for t in range(T):
            for b in range(B):
                if (b & 1) == 0:
                    r64, s0, s1, s2, s3 = _xnext(s0, s1, s2, s3)
                    u = r64 >> _S32
                else:
                    u = r64 & _M32
                i, s0, s1, s2, s3 = _bounded(s0, s1, s2, s3, u, nn, thresh)
                acc += i
        out[p] = acc
    return out


@njit(parallel=True, cache=_NUMBA_CACHE)
def floor_w2_numba(d, P, T, seed):
    """P*T*d standard normals exactly as w2_numba draws them (ziggurat)."""
    out = np.empty(P)
    for p in prange(P):
        s0, s1, s2, s3 = _seed_path(seed, p)
        acc = 0.0
        for k in range(T * d):
            x, s0, s1, s2, s3 = _znormal(s0, s1, s2, s3)
            acc += x
        out[p] = acc
    return out
