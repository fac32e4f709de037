"""Basin statistics of one-dimensional runs: occupancy time fractions and first-passage times (claim B7).

``basin_paths`` advances independent paths of any optimizer on a d = 1 problem (paths in parallel with
``prange``, each path on one thread with its own xoshiro256++ stream, so results do not depend on the
thread count) and streams, per path,

* ``occupancy[p]``: the fraction of the steps t in [burn_in, burn_in + n_steps) at which w_t < split
  (the iterate before the update of step t, as in the engine's time averages);
* ``passage[p]``: the first step t >= 1 at which w_t <= target_lo or w_t >= target_hi (-1 if none
  within burn_in + n_steps steps).  With ``stop_at_passage`` the path ends there (first-passage runs).

A path whose iterate leaves |w - w_star|^2 <= div_threshold (or turns NaN) stops with passage = -2 and
occupancy NaN: it is reported as diverged, never averaged.  Nothing is stored per step.
"""

import numpy as np
from numba import njit, prange

from .slots import optimizer_step, problem_gradient
from .steps import draw_batch


@njit(parallel=True, cache=True)
def basin_paths(A, Hs, v, noise_scale, w_star, scheme, batch, opt_hp, state_size, lr,
                w0, split, burn_in, n_steps, target_lo, target_hi, stop_at_passage, div_threshold,
                rng, ki, wi, fi, occupancy, passage):
    n_paths = rng.shape[0]
    n = A.shape[0]
    total = burn_in + n_steps
    for p in prange(n_paths):
        w = w0.copy()
        delta = np.empty(1)
        g = np.empty(1)
        z = np.empty(1)
        state = np.zeros(max(state_size, 1))
        idx = np.empty(max(batch, 1), dtype=np.int64)
        perm = np.arange(max(n, 1))
        pos = n + 1
        left = 0
        passage[p] = -1
        delta[0] = w[0] - w_star[0]
        for t in range(total):
            if t >= burn_in and w[0] < split:
                left += 1
            pos = draw_batch(scheme, rng, p, n, batch, idx, perm, pos)
            problem_gradient(A, Hs, v, noise_scale, idx, batch, delta, w, g, z, rng, p, ki, wi, fi)
            optimizer_step(opt_hp, lr, w, state, g)
            delta[0] = w[0] - w_star[0]
            if not delta[0] * delta[0] <= div_threshold:
                passage[p] = -2
                break
            if passage[p] == -1 and (w[0] <= target_lo or w[0] >= target_hi):
                passage[p] = t + 1
                if stop_at_passage:
                    break
        if passage[p] == -2:
            occupancy[p] = np.nan
        else:
            occupancy[p] = left / max(n_steps, 1)
