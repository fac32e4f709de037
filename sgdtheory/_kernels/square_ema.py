"""Running averages of squared gradient coordinates at a fixed point, in two semantics (claim C5).

``square_ema_paths`` streams, at a fixed point, the running average of squared gradient coordinates
(x_i = the per-example values ``values[i]``, batches drawn with replacement) in one of two semantics:
per-example (seed 003: N_s counts examples; s <- (1 - 1/N) s + x_i^2/N once per example of the batch) or
batch-mean (the engine's RMSProp/Adam: s <- (1 - 1/N) s + (mean_batch x)^2/N once per batch); out[p] is s
after ``n_batches`` batches from s = 0.  Paths run in parallel with ``prange``, each on its own xoshiro256++
stream (``rng.path_states``), so the results do not depend on the thread count.
"""

import numpy as np
from numba import njit, prange

from .rng import fill_below


@njit(parallel=True, cache=True)
def square_ema_paths(values, batch, N, n_batches, per_example, rng, out):
    """out[p] = s after n_batches batches (see the module docstring for the two semantics)."""
    n_paths = rng.shape[0]
    n = values.shape[0]
    beta = 1.0 - 1.0 / N
    for p in prange(n_paths):
        idx = np.empty(batch, dtype=np.int64)
        s = 0.0
        for t in range(n_batches):
            fill_below(rng, p, n, idx, batch)
            if per_example:
                for j in range(batch):
                    x = values[idx[j]]
                    s = beta * s + x * x / N
            else:
                m = 0.0
                for j in range(batch):
                    m += values[idx[j]]
                m /= batch
                s = beta * s + m * m / N
        out[p] = s
