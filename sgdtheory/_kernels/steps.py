"""Single-step building blocks the kernels share: the minibatch draw and the learning-rate schedules.

Each function works in place on preallocated arrays (no allocation) and is the Numba twin of a plain-numpy
reference in ``sgdtheory.sampling`` or ``sgdtheory.schedules``; the tests compare them on generated inputs.
The problems' gradients and the optimizers' steps live with their records, one per module
(``sgdtheory.problems.*``, ``sgdtheory.optimizers.*``), and are bound into the loops by ``compose``.
"""

import numpy as np
from numba import njit

from .codes import (
    SAMPLING_CYCLIC,
    SAMPLING_RESHUFFLE,
    SAMPLING_WITH_REPLACEMENT,
    SAMPLING_WITHOUT_REPLACEMENT,
    SCHEDULE_CONSTANT,
    SCHEDULE_COSINE_RESTARTS,
    SCHEDULE_EXPONENTIAL,
    SCHEDULE_POWER,
    SCHEDULE_STEP,
    SCHEDULE_TIME_BASED,
    SCHEDULE_TRIANGULAR,
)
from .rng import fill_below, next_below

# reassociation only: no assumptions about NaN/inf, so divergence detection stays exact
FAST = {"reassoc", "nsz"}


@njit(cache=True, fastmath=False, forceinline=True, _nrt=False, error_model="numpy")
def shuffle(s, perm):
    """Fisher-Yates shuffle of ``perm`` in place (uniform permutation)."""
    n = perm.shape[0]
    for j in range(n - 1, 0, -1):
        k = next_below(s, j + 1)
        tmp = perm[j]
        perm[j] = perm[k]
        perm[k] = tmp


@njit(cache=True, fastmath=False, forceinline=True, _nrt=False, error_model="numpy")
def draw_batch(scheme, S, row, n, batch, idx, perm, pos):
    """Fill ``idx[:batch]`` with the indices of the next minibatch; return the new epoch position.

    with replacement: ``batch`` iid uniform indices.  without replacement: a uniform subset of
    size ``batch`` (partial Fisher-Yates on ``perm``).  reshuffle: consecutive slices of a
    permutation redrawn whenever fewer than ``batch`` indices remain in the epoch (the tail of
    ``n mod batch`` examples is dropped, as with ``drop_last``).  cyclic: the same slices of the
    identity order.  full: all ``n`` indices.  ``pos`` is the position in the current epoch.
    The random numbers come from the generator S[row].
    """
    if scheme == SAMPLING_WITH_REPLACEMENT:
        fill_below(S, row, n, idx, batch)
        return pos
    s = S[row]
    if scheme == SAMPLING_WITHOUT_REPLACEMENT:
        for j in range(batch):
            k = j + next_below(s, n - j)
            tmp = perm[j]
            perm[j] = perm[k]
            perm[k] = tmp
            idx[j] = perm[j]
        return pos
    if scheme == SAMPLING_RESHUFFLE or scheme == SAMPLING_CYCLIC:
        if pos + batch > n:
            if scheme == SAMPLING_RESHUFFLE:
                shuffle(s, perm)
            pos = 0
        for j in range(batch):
            idx[j] = perm[pos + j]
        return pos + batch
    # SAMPLING_FULL
    for j in range(batch):
        idx[j] = j
    return pos


@njit(cache=True, fastmath=False)
def scheduled_rate(code, sp, t):
    """The schedules of seed 001 (slides "Learning rate scheduling"), compiled separately (not inlined,
    so that the engine's loop for the constant and power schedules is unchanged); the math and
    sources are in ``sgdtheory.schedules``, whose numpy ``__call__`` uses the same operations.

    time-based: sp[0] / (1 + sp[1] t).  exponential: sp[0] exp(-sp[1] t).
    step: sp[0] exp(-sp[1] floor(t / sp[2])).
    triangular (Smith 2017, Sec. 3.1; lo = sp[0], hi = sp[1], half-period s = sp[2]):
      cycle = floor(1 + t / (2 s)); x = |t / s - 2 cycle + 1|; lo + (hi - lo) max(0, 1 - x).
    cosine with warm restarts (Loshchilov & Hutter 2017, eq. 5; lo, hi, T0, T_mult = sp[0..3]):
      T_i = T0 T_mult^i, T_cur = t - (T0 + ... + T_(i-1)); lo + (hi - lo)(1 + cos(pi T_cur / T_i)) / 2.
    """
    tf = float(t)
    if code == SCHEDULE_TIME_BASED:
        return sp[0] / (1.0 + sp[1] * tf)
    if code == SCHEDULE_EXPONENTIAL:
        return sp[0] * np.exp(-sp[1] * tf)
    if code == SCHEDULE_STEP:
        return sp[0] * np.exp(-sp[1] * np.floor(tf / sp[2]))
    if code == SCHEDULE_TRIANGULAR:
        s = sp[2]
        cycle = np.floor(1.0 + tf / (2.0 * s))
        x = abs(tf / s - 2.0 * cycle + 1.0)
        return sp[0] + (sp[1] - sp[0]) * max(0.0, 1.0 - x)
    if code == SCHEDULE_COSINE_RESTARTS:
        T = sp[2]
        tc = tf
        if sp[3] == 1.0:
            tc = tf - T * np.floor(tf / T)
        else:
            while tc >= T:
                tc -= T
                T *= sp[3]
        return sp[0] + 0.5 * (sp[1] - sp[0]) * (1.0 + np.cos(np.pi * tc / T))
    return np.nan


@njit(cache=True, fastmath=False, forceinline=True, _nrt=False, error_model="numpy")
def basic_rate(code, sp, t):
    """Constant sp[0] or power sp[0] / (sp[1] + t)^sp[2]; NaN for any other code (the lane kernel's rate)."""
    if code == SCHEDULE_CONSTANT:
        return sp[0]
    if code == SCHEDULE_POWER:
        return sp[0] / (sp[1] + t) ** sp[2]
    return np.nan


@njit(cache=True, fastmath=False, forceinline=True, _nrt=False, error_model="numpy")
def learning_rate(code, sp, t):
    """Learning rate at step t (t = 0, 1, ...): constant sp[0], or power sp[0] / (sp[1] + t)^sp[2];
    the other schedule codes go to ``scheduled_rate``."""
    if code == SCHEDULE_CONSTANT:
        return sp[0]
    if code == SCHEDULE_POWER:
        return sp[0] / (sp[1] + t) ** sp[2]
    return scheduled_rate(code, sp, t)
