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

_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


@njit(inline="always", cache=True)
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@njit(inline="always", cache=True)
def next_u64(s):
    """One xoshiro256++ output; advances the state row ``s`` (4 x uint64) in place."""
    s0 = s[0]
    s1 = s[1]
    s2 = s[2]
    s3 = s[3]
    result = _rotl(s0 + s3, 23) + s0
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    s[0] = s0
    s[1] = s1
    s[2] = s2
    s[3] = s3
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


@njit(inline="always", cache=True)
def fill_normals(s, buf, count, scale, ki, wi, fi):
    """buf[:count] = scale * (standard normals), the same variates as ``count`` calls of next_normal.

    The generator state is held in registers for the whole fill (the fast path of the ziggurat
    touches memory only for the tables), which is what makes bulk draws cheap.
    """
    s0 = s[0]
    s1 = s[1]
    s2 = s[2]
    s3 = s[3]
    j = 0
    while j < count:
        r = _rotl(s0 + s3, 23) + s0
        t = s1 << np.uint64(17)
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = _rotl(s3, 45)
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
            s[0] = s0
            s[1] = s1
            s[2] = s2
            s[3] = s3
            y = _normal_slow(s, idx, rabs, x, fi)
            s0 = s[0]
            s1 = s[1]
            s2 = s[2]
            s3 = s[3]
            if not np.isnan(y):
                buf[j] = scale * y
                j += 1
    s[0] = s0
    s[1] = s1
    s[2] = s2
    s[3] = s3


@njit(inline="always", cache=True)
def fill_below(s, n, buf, count):
    """buf[:count] = uniform integers in [0, n), the same values as ``count`` calls of next_below."""
    nn = np.uint64(n)
    threshold = (np.uint64(0x100000000) - nn) % nn
    s0 = s[0]
    s1 = s[1]
    s2 = s[2]
    s3 = s[3]
    j = 0
    while j < count:
        r = _rotl(s0 + s3, 23) + s0
        t = s1 << np.uint64(17)
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = _rotl(s3, 45)
        m = (r >> np.uint64(32)) * nn
        if (m & np.uint64(0xFFFFFFFF)) >= threshold:
            buf[j] = np.int64(m >> np.uint64(32))
            j += 1
    s[0] = s0
    s[1] = s1
    s[2] = s2
    s[3] = s3


def path_states(seed_sequence: np.random.SeedSequence, first_path: int, n_paths: int) -> np.ndarray:
    """xoshiro256++ states (n_paths x 4 uint64) of paths first_path .. first_path + n_paths - 1.

    Path ``p`` is seeded by ``SeedSequence(entropy, spawn_key=parent_key + (p,))``, i.e. exactly
    the ``p``-th child that ``seed_sequence.spawn`` would produce, so a path's stream does not
    depend on how the paths are chunked.
    """
    states = np.empty((n_paths, 4), dtype=np.uint64)
    base_key = tuple(seed_sequence.spawn_key)
    for k in range(n_paths):
        child = np.random.SeedSequence(
            entropy=seed_sequence.entropy,
            spawn_key=base_key + (first_path + k,),
            pool_size=seed_sequence.pool_size,
        )
        st = child.generate_state(4, dtype=np.uint64)
        if not st.any():  # the all-zero state is the one invalid xoshiro state
            st[0] = 1
        states[k] = st
    return states
