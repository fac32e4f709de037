"""Per-path random streams for the Numba kernels.

Every simulated path owns a xoshiro256++ generator (Blackman & Vigna, "Scrambled linear
pseudorandom number generators", ACM TOMS 2021) whose 256-bit state is drawn from
``numpy.random.SeedSequence(seed, spawn_key=(..., path))``.  A path's stream therefore depends
only on the seed and the path's global index: results are bitwise identical for any number of
threads and any split of the paths into chunks.

Normal variates use the 256-layer ziggurat of Marsaglia & Tsang (J. Stat. Softw. 5(8), 2000) in
the float64 form used by NumPy's ``Generator.standard_normal`` (52-bit mantissa from one 64-bit
draw, 8 bits for the layer, 1 bit for the sign).  Bounded integers use Lemire's
multiply-and-reject method (ACM TOMACS 29(1), 2019), exactly uniform.

The state of one generator is a row ``s`` of four ``uint64``; all functions update it in place.
"""

import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import trailing_zeros

@njit(inline="always", cache=True)
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@njit(inline="always", cache=True)
def _step(s0, s1, s2, s3):
    """xoshiro256++ on a state held in registers: (output, new s0, s1, s2, s3)."""
    result = _rotl(s0 + s3, 23) + s0
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    return result, s0, s1, s2, _rotl(s3, 45)


@njit(inline="always", cache=True)
def next_u64(s):
    """One xoshiro256++ output; advances the state row ``s`` (4 x uint64) in place."""
    result, s[0], s[1], s[2], s[3] = _step(s[0], s[1], s[2], s[3])
    return result


@njit(inline="always", cache=True)
def next_double(s):
    """Uniform on [0, 1) with 53 random bits."""
    return np.float64(next_u64(s) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(inline="always", cache=True)
def next_below(s, n):
    """Uniform integer in [0, n) for 1 <= n < 2**32, exactly uniform (Lemire's method)."""
    nn = np.uint64(n)
    x = next_u64(s) >> np.uint64(32)
    m = x * nn
    low = m & np.uint64(0xFFFFFFFF)
    if low < nn:
        threshold = (np.uint64(0x100000000) - nn) % nn
        while low < threshold:
            x = next_u64(s) >> np.uint64(32)
            m = x * nn
            low = m & np.uint64(0xFFFFFFFF)
    return np.int64(m >> np.uint64(32))


def _ziggurat_tables():
    """Tables of the 256-layer float64 ziggurat (Marsaglia & Tsang 2000, r = 3.6541528853610088)."""
    dn = 3.6541528853610088
    tn = dn
    vn = 0.00492867323399
    m1 = 2.0**52
    ki = np.zeros(256, dtype=np.uint64)
    wi = np.zeros(256)
    fi = np.zeros(256)
    q = vn / np.exp(-0.5 * dn * dn)
    ki[0] = np.uint64((dn / q) * m1)
    ki[1] = 0
    wi[0] = q / m1
    wi[255] = dn / m1
    fi[0] = 1.0
    fi[255] = np.exp(-0.5 * dn * dn)
    for i in range(254, 0, -1):
        dn = np.sqrt(-2.0 * np.log(vn / dn + np.exp(-0.5 * dn * dn)))
        ki[i + 1] = np.uint64((dn / tn) * m1)
        tn = dn
        fi[i] = np.exp(-0.5 * dn * dn)
        wi[i] = dn / m1
    return ki, wi, fi


ZIG_KI, ZIG_WI, ZIG_FI = _ziggurat_tables()
ZIG_R = 3.6541528853610088
ZIG_INV_R = 1.0 / ZIG_R


@njit(cache=True)
def _normal_slow(s, idx, rabs, x, fi):
    """Rejection branch of the ziggurat (taken for about 1.2% of draws)."""
    if idx == 0:
        while True:
            xx = -ZIG_INV_R * np.log1p(-next_double(s))
            yy = -np.log1p(-next_double(s))
            if yy + yy > xx * xx:
                if (rabs >> np.uint64(8)) & np.uint64(1):
                    return -(ZIG_R + xx)
                return ZIG_R + xx
    if (fi[idx - 1] - fi[idx]) * next_double(s) + fi[idx] < np.exp(-0.5 * x * x):
        return x
    return np.nan  # signals "draw again"


@njit(inline="always", cache=True)
def next_normal(s, ki, wi, fi):
    """One standard normal variate (ziggurat); ``ki, wi, fi`` are ``ZIG_KI, ZIG_WI, ZIG_FI``."""
    while True:
        r = next_u64(s)
        idx = np.int64(r & np.uint64(0xFF))
        r >>= np.uint64(8)
        rabs = (r >> np.uint64(1)) & np.uint64(0x000FFFFFFFFFFFFF)
        x = np.float64(rabs) * wi[idx]
        if r & np.uint64(1):
            x = -x
        if rabs < ki[idx]:
            return x
        y = _normal_slow(s, idx, rabs, x, fi)
        if not np.isnan(y):
            return y


@njit(cache=True, fastmath=False, forceinline=True, _nrt=False, error_model="numpy")
def fill_normals(S, row, buf, count, scale, ki, wi, fi):
    """buf[:count] = scale * (standard normals) from the generator S[row] (S: paths x 4 uint64).

    The same variates as ``count`` calls of next_normal on S[row].  The state is held in
    registers for the whole fill (the fast path of the ziggurat touches memory only for the
    tables), which is what makes bulk draws cheap; taking (S, row) rather than a row view avoids
    creating an array view, and its reference counting, per call.
    """
    s0, s1, s2, s3 = S[row, 0], S[row, 1], S[row, 2], S[row, 3]
    j = 0
    while j < count:
        r, s0, s1, s2, s3 = _step(s0, s1, s2, s3)
        idx = np.int64(r & np.uint64(0xFF))
        r >>= np.uint64(8)
        rabs = (r >> np.uint64(1)) & np.uint64(0x000FFFFFFFFFFFFF)
        x = np.float64(rabs) * wi[idx]
        if r & np.uint64(1):
            x = -x
        if rabs < ki[idx]:
            buf[j] = scale * x
            j += 1
        else:
            S[row, 0], S[row, 1], S[row, 2], S[row, 3] = s0, s1, s2, s3
            y = _normal_slow(S[row], idx, rabs, x, fi)
            s0, s1, s2, s3 = S[row, 0], S[row, 1], S[row, 2], S[row, 3]
            if not np.isnan(y):
                buf[j] = scale * y
                j += 1
    S[row, 0], S[row, 1], S[row, 2], S[row, 3] = s0, s1, s2, s3


@njit(cache=True)
def _normal_rejected(s0, s1, s2, s3, idx, rabs, x, ki, wi, fi):
    """``next_normal`` from a rejected fast-path draw (layer idx, rabs, x) on, with the state in registers.

    Returns (the variate next_normal returns, the new state): ``_normal_slow``'s branch, and while that rejects,
    further ziggurat draws exactly as ``next_normal`` makes them (same operations in the same order)."""
    while True:
        if idx == 0:
            while True:
                a, s0, s1, s2, s3 = _step(s0, s1, s2, s3)
                xx = -ZIG_INV_R * np.log1p(-(np.float64(a >> np.uint64(11)) * (1.0 / 9007199254740992.0)))
                b, s0, s1, s2, s3 = _step(s0, s1, s2, s3)
                yy = -np.log1p(-(np.float64(b >> np.uint64(11)) * (1.0 / 9007199254740992.0)))
                if yy + yy > xx * xx:
                    if (rabs >> np.uint64(8)) & np.uint64(1):
                        return -(ZIG_R + xx), s0, s1, s2, s3
                    return ZIG_R + xx, s0, s1, s2, s3
        a, s0, s1, s2, s3 = _step(s0, s1, s2, s3)
        if (fi[idx - 1] - fi[idx]) * (np.float64(a >> np.uint64(11)) * (1.0 / 9007199254740992.0)) + fi[idx] < \
                np.exp(-0.5 * x * x):
            return x, s0, s1, s2, s3
        r, s0, s1, s2, s3 = _step(s0, s1, s2, s3)
        idx = np.int64(r & np.uint64(0xFF))
        r >>= np.uint64(8)
        rabs = (r >> np.uint64(1)) & np.uint64(0x000FFFFFFFFFFFFF)
        x = np.float64(rabs) * wi[idx]
        if r & np.uint64(1):
            x = -x
        if rabs < ki[idx]:
            return x, s0, s1, s2, s3


@njit(cache=True, fastmath=False, forceinline=True, _nrt=False)
def fill_normals_lanes(st, z, count, scale, ki, wi, fi, rbuf, kv, wv, st0, rej):
    """z[k, l] = scale * (standard normal) for k < count and every lane l, from lane l's generator st[:, l].

    ``st`` (4 x lanes uint64, at most 63 lanes) holds the lanes' xoshiro256++ states in structure-of-arrays
    layout, ``z`` is (>= count) x lanes, count <= 63.  Scratch: ``rbuf``, ``kv`` ((>= count) x lanes uint64),
    ``wv`` ((>= count) x lanes float64), ``st0`` (4 x lanes uint64), ``rej`` (>= lanes int64).
    Lane l gets exactly the variates (and ends in exactly the state) of ``fill_normals`` on its own generator.

    Speculatively, as if no draw were rejected: ``count`` 64-bit outputs per lane (loops over the lanes of adds,
    shifts, xors and ors, which LLVM vectorises; four outputs per pass, so that the states are loaded and stored
    once per four outputs), the ziggurat tables looked up per lane and coordinate (a scalar loop: LLVM does not
    gather on this target), then the ziggurat's fast path for all coordinates and lanes (vectorised; the same bit
    manipulations, exact conversion, multiplication and negation as ``next_normal``), which also sets bit k of
    ``rej[l]`` when lane l's draw k falls outside the fast path.  The table entries are all stored before the fast
    path reads them as vectors: reading four scalar stores still in the store buffer as one vector load stalls
    (store forwarding fails), which cost 15% of the lane kernel's time when the fast path followed each
    coordinate's look-ups directly.
    A lane whose draw k0 was rejected (k0 the lowest bit of rej[l]; about 9% of the lanes for count = 8) is then
    redone from its saved state ``st0``: k0 + 1 steps, the slow branch and if need be further draws on its own
    state (``_normal_rejected``), then coordinates k0 + 1 .. count - 1 one by one as ``next_normal`` draws them.
    The redone lanes are visited by their bits (count trailing zeros), not by testing every lane: a branch per
    lane whose outcome is random is mispredicted about once per fill.
    Every lane thus consumes its own stream in the scalar generator's order and computes every value by the
    same exact operations: the result does not depend on the vectorisation or on the other lanes.
    """
    n = st.shape[1]
    for lane in range(n):
        for i in range(4):
            st0[i, lane] = st[i, lane]
    k = 0
    while k + 4 <= count:
        for lane in range(n):  # xoshiro256++, all lanes, four outputs per pass
            s0, s1, s2, s3 = st[0, lane], st[1, lane], st[2, lane], st[3, lane]
            r, s0, s1, s2, s3 = _step(s0, s1, s2, s3)
            rbuf[k, lane] = r
            r, s0, s1, s2, s3 = _step(s0, s1, s2, s3)
            rbuf[k + 1, lane] = r
            r, s0, s1, s2, s3 = _step(s0, s1, s2, s3)
            rbuf[k + 2, lane] = r
            r, s0, s1, s2, s3 = _step(s0, s1, s2, s3)
            rbuf[k + 3, lane] = r
            st[0, lane] = s0
            st[1, lane] = s1
            st[2, lane] = s2
            st[3, lane] = s3
        k += 4
    while k < count:
        for lane in range(n):
            r, s0, s1, s2, s3 = _step(st[0, lane], st[1, lane], st[2, lane], st[3, lane])
            st[0, lane] = s0
            st[1, lane] = s1
            st[2, lane] = s2
            st[3, lane] = s3
            rbuf[k, lane] = r
        k += 1
    for k in range(count):
        for lane in range(n):  # the layers' table entries
            idx = np.int64(rbuf[k, lane] & np.uint64(0xFF))
            wv[k, lane] = wi[idx]
            kv[k, lane] = ki[idx]
    for lane in range(n):
        rej[lane] = 0
    for k in range(count):
        for lane in range(n):  # the fast path, all lanes
            r = rbuf[k, lane] >> np.uint64(8)
            rabs = (r >> np.uint64(1)) & np.uint64(0x000FFFFFFFFFFFFF)
            x = np.float64(rabs) * wv[k, lane]
            if r & np.uint64(1):
                x = -x
            z[k, lane] = scale * x
            rej[lane] |= np.int64(rabs >= kv[k, lane]) << k
    anyrej = 0
    for lane in range(n):
        anyrej |= np.int64(rej[lane] != 0) << lane
    while anyrej:  # the lanes with a rejected draw, each redone on its own stream
        lane = trailing_zeros(anyrej)
        anyrej &= anyrej - 1
        k0 = trailing_zeros(rej[lane])
        s0, s1, s2, s3 = st0[0, lane], st0[1, lane], st0[2, lane], st0[3, lane]
        for k in range(k0 + 1):  # the accepted draws 0 .. k0 - 1 and the rejected draw k0
            r, s0, s1, s2, s3 = _step(s0, s1, s2, s3)
        k = k0
        while k < count:
            if k > k0:
                r, s0, s1, s2, s3 = _step(s0, s1, s2, s3)
            idx = np.int64(r & np.uint64(0xFF))
            rr = r >> np.uint64(8)
            rabs = (rr >> np.uint64(1)) & np.uint64(0x000FFFFFFFFFFFFF)
            x = np.float64(rabs) * wi[idx]
            if rr & np.uint64(1):
                x = -x
            if rabs >= ki[idx]:
                x, s0, s1, s2, s3 = _normal_rejected(s0, s1, s2, s3, idx, rabs, x, ki, wi, fi)
            z[k, lane] = scale * x
            k += 1
        st[0, lane] = s0
        st[1, lane] = s1
        st[2, lane] = s2
        st[3, lane] = s3


@njit(cache=True, fastmath=False, forceinline=True, _nrt=False, error_model="numpy")
def fill_below(S, row, n, buf, count):
    """buf[:count] = uniform integers in [0, n) from S[row]: the values of ``count`` next_below calls."""
    nn = np.uint64(n)
    threshold = (np.uint64(0x100000000) - nn) % nn
    s0, s1, s2, s3 = S[row, 0], S[row, 1], S[row, 2], S[row, 3]
    if threshold == 0:  # n a power of two: Lemire's method never rejects; a plain loop (unrolled): W1 +8%
        for j in range(count):
            r, s0, s1, s2, s3 = _step(s0, s1, s2, s3)
            buf[j] = np.int64(((r >> np.uint64(32)) * nn) >> np.uint64(32))
    else:
        j = 0
        while j < count:
            r, s0, s1, s2, s3 = _step(s0, s1, s2, s3)
            m = (r >> np.uint64(32)) * nn
            if (m & np.uint64(0xFFFFFFFF)) >= threshold:
                buf[j] = np.int64(m >> np.uint64(32))
                j += 1
    S[row, 0], S[row, 1], S[row, 2], S[row, 3] = s0, s1, s2, s3


# SeedSequence's hash constants (O'Neill's seed_seq as implemented in numpy.random.bit_generator)
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715


def _words(value: int) -> list[int]:
    """An int as little-endian 32-bit words (0 -> [0]), as SeedSequence coerces entropy."""
    if value < 0:
        raise ValueError("SeedSequence entropy must be non-negative")
    out = []
    while True:
        out.append(value & 0xFFFFFFFF)
        value >>= 32
        if value == 0:
            return out


def path_states(seed_sequence: np.random.SeedSequence, first_path: int, n_paths: int) -> np.ndarray:
    """xoshiro256++ states (n_paths x 4 uint64) of paths first_path .. first_path + n_paths - 1.

    Path ``p`` gets ``SeedSequence(entropy, spawn_key=parent_key + (p,)).generate_state(4, uint64)``,
    i.e. exactly the state of the ``p``-th child that ``seed_sequence.spawn`` would produce, so a
    path's stream does not depend on how the paths are chunked.  The SeedSequence algorithm is
    evaluated here vectorised over paths (numpy uint32 arithmetic), which the tests compare with
    numpy's own ``SeedSequence`` word for word; it is about 1000x faster than building one
    SeedSequence object per path.
    """
    from ..budget import stop_planning

    stop_planning("Monte Carlo outside simulate")  # a planning pass (sgdtheory.budget) records no further work
    entropy = seed_sequence.entropy
    run = [w for e in (entropy if isinstance(entropy, (list, tuple, np.ndarray)) else [entropy]) for w in _words(int(e))]
    pool_size = seed_sequence.pool_size
    if len(run) < pool_size:
        run = run + [0] * (pool_size - len(run))
    prefix = [w for k in seed_sequence.spawn_key for w in _words(int(k))]
    last = np.arange(first_path, first_path + n_paths, dtype=np.uint64)
    if n_paths and int(last[-1]) >= 2**32:
        raise ValueError("path indices must be below 2**32")
    u32 = np.uint32
    with np.errstate(over="ignore"):
        ones = np.ones(n_paths, dtype=u32)
        entropy_words = [ones * u32(w) for w in run + prefix] + [last.astype(u32)]
        hash_const = [u32(_INIT_A)]

        def hashmix(value):
            value = value ^ hash_const[0]
            hash_const[0] = u32(hash_const[0] * u32(_MULT_A))
            value = value * hash_const[0]
            return value ^ (value >> u32(16))

        def mix(x, y):
            r = u32(_MIX_L) * x - u32(_MIX_R) * y
            return r ^ (r >> u32(16))

        mixer = [hashmix(entropy_words[i] if i < len(entropy_words) else ones * u32(0)) for i in range(pool_size)]
        for i_src in range(pool_size):
            for i_dst in range(pool_size):
                if i_src != i_dst:
                    mixer[i_dst] = mix(mixer[i_dst], hashmix(mixer[i_src]))
        for i_src in range(pool_size, len(entropy_words)):
            for i_dst in range(pool_size):
                mixer[i_dst] = mix(mixer[i_dst], hashmix(entropy_words[i_src]))
        hb = u32(_INIT_B)
        data = np.empty((n_paths, 8), dtype=u32)
        for i in range(8):
            v = mixer[i % pool_size] ^ hb
            hb = u32(hb * u32(_MULT_B))
            v = v * hb
            data[:, i] = v ^ (v >> u32(16))
    states = data.astype("<u4").view("<u8").astype(np.uint64).reshape(n_paths, 4)
    zero = ~states.any(axis=1)  # the all-zero state is the one invalid xoshiro state
    states[zero, 0] = 1
    return np.ascontiguousarray(states)
