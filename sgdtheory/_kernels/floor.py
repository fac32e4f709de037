"""RNG-floor kernels for ``sgdtheory bench``: draw exactly the random numbers a workload needs, in bulk.

They run the same per-path xoshiro256++ streams and bulk fills as the engine, and do nothing else,
so their throughput is an upper bound for any simulator that uses these random numbers.
"""

import numpy as np
from numba import njit, prange

from .rng import fill_below, fill_normals


@njit(parallel=True, cache=True)
def draw_normals(rng, n_steps, d, ki, wi, fi, out):
    """Per path: n_steps * d normals drawn d at a time; out[p] = their sum (keeps the work alive)."""
    for p in prange(rng.shape[0]):
        buf = np.empty(d)
        acc = 0.0
        for t in range(n_steps):
            fill_normals(rng, p, buf, d, 1.0, ki, wi, fi)
            for k in range(d):
                acc += buf[k]
        out[p] = acc


@njit(parallel=True, cache=True)
def draw_indices(rng, n_steps, n, batch, out):
    """Per path: n_steps * batch uniform indices in [0, n) drawn batch at a time; out[p] = their sum."""
    for p in prange(rng.shape[0]):
        buf = np.empty(batch, dtype=np.int64)
        acc = 0
        for t in range(n_steps):
            fill_below(rng, p, n, buf, batch)
            for k in range(batch):
                acc += buf[k]
        out[p] = acc
