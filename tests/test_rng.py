"""The per-path generators against plain-Python twins, and the law of the normal variates."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from numba import njit
from scipy import stats

from reference_rng import Xoshiro
from sgdtheory._kernels.rng import (ZIG_FI, ZIG_KI, ZIG_WI, fill_below, fill_normals, next_below, next_double,
                                    next_normal, next_u64, path_states)

states = st.lists(st.integers(0, 2**64 - 1), min_size=4, max_size=4).filter(any)


@njit
def _u64s(s, k):
    out = np.empty(k, dtype=np.uint64)
    for i in range(k):
        out[i] = next_u64(s)
    return out


@njit
def _belows(s, n, k):
    out = np.empty(k, dtype=np.int64)
    for i in range(k):
        out[i] = next_below(s, n)
    return out


@njit
def _fill_below(s, n, k):
    out = np.empty(k, dtype=np.int64)
    S = s.reshape((1, 4))
    fill_below(S, 0, n, out, k)
    return out


@njit
def _normals(s, k, ki, wi, fi):
    out = np.empty(k)
    for i in range(k):
        out[i] = next_normal(s, ki, wi, fi)
    return out


@njit
def _fill_normals(s, k, scale, ki, wi, fi):
    out = np.empty(k)
    S = s.reshape((1, 4))
    fill_normals(S, 0, out, k, scale, ki, wi, fi)
    return out


@njit
def _doubles(s, k):
    out = np.empty(k)
    for i in range(k):
        out[i] = next_double(s)
    return out


@given(states)
def test_xoshiro_matches_reference(state):
    ref = Xoshiro(state)
    s = np.array(state, dtype=np.uint64)
    assert [int(v) for v in _u64s(s, 50)] == [ref.next() for _ in range(50)]
    assert np.array_equal(s, ref.state())


@given(states)
def test_doubles_in_unit_interval_and_match_reference(state):
    ref = Xoshiro(state)
    out = _doubles(np.array(state, dtype=np.uint64), 20)
    assert np.all((out >= 0) & (out < 1))
    assert out.tolist() == [ref.double() for _ in range(20)]


@given(states, st.integers(1, 2**32 - 1))
def test_bounded_integers_match_reference_and_bulk_fill(state, n):
    ref = Xoshiro(state)
    s1 = np.array(state, dtype=np.uint64)
    s2 = s1.copy()
    a = _belows(s1, n, 30)
    assert a.tolist() == [ref.below(n) for _ in range(30)]
    assert np.array_equal(_fill_below(s2, n, 30), a)
    assert np.array_equal(s1, s2)
    assert np.all((a >= 0) & (a < n))


@given(states, st.floats(0.1, 10.0))
def test_normals_match_reference_and_bulk_fill(state, scale):
    ref = Xoshiro(state)
    s1 = np.array(state, dtype=np.uint64)
    s2 = s1.copy()
    a = _normals(s1, 200, ZIG_KI, ZIG_WI, ZIG_FI)
    assert a.tolist() == [ref.normal() for _ in range(200)]
    b = _fill_normals(s2, 200, scale, ZIG_KI, ZIG_WI, ZIG_FI)
    assert np.array_equal(b, scale * a)
    assert np.array_equal(s1, s2)


def test_normal_law_fixed_seed():
    """Seeded (not hypothesis) test of the ziggurat's law: KS and the tail beyond r = 3.654.

    False-failure probability: 1e-6 for the KS test, and the tail count's 1e-6 two-sided
    binomial interval; the seed is fixed so CI is deterministic.
    """
    s = path_states(np.random.SeedSequence(7), 0, 1)[0]
    x = _normals(s, 2_000_000, ZIG_KI, ZIG_WI, ZIG_FI)
    assert stats.kstest(x, "norm").pvalue > 1e-6
    p_tail = 2 * stats.norm.sf(3.6541528853610088)
    k = int(np.sum(np.abs(x) > 3.6541528853610088))
    lo, hi = stats.binom.ppf([5e-7, 1 - 5e-7], x.size, p_tail)
    assert lo <= k <= hi
    # the negative control: a 1% error in the scale must fail the same test
    assert stats.kstest(1.01 * x, "norm").pvalue < 1e-6


def test_integer_law_fixed_seed():
    """Chi-square test of uniformity for n = 7 (not a power of two: the rejection step matters)."""
    s = path_states(np.random.SeedSequence(8), 0, 1)[0]
    x = _fill_below(s, 7, 700_000)
    counts = np.bincount(x, minlength=7)
    assert stats.chisquare(counts).pvalue > 1e-6


@given(st.integers(0, 2**80), st.lists(st.integers(0, 2**40), max_size=3), st.integers(0, 2**32 - 20),
       st.integers(1, 12))
def test_path_states_are_numpys_seedsequence_children(seed, key, first, n):
    """The vectorised SeedSequence equals numpy's, word for word, for any seed, key and index."""
    ss = np.random.SeedSequence(seed, spawn_key=tuple(key))
    fast = path_states(ss, first, n)
    for k in range(n):
        child = np.random.SeedSequence(seed, spawn_key=tuple(key) + (first + k,))
        assert np.array_equal(fast[k], child.generate_state(4, dtype=np.uint64))


def test_path_states_depend_only_on_seed_and_index():
    ss = np.random.SeedSequence(123)
    full = path_states(ss, 0, 10)
    assert np.array_equal(full[4:], path_states(ss, 4, 6))
    children = ss.spawn(10)
    assert np.array_equal(full[3], children[3].generate_state(4, dtype=np.uint64))
    assert len({tuple(r) for r in full}) == 10
