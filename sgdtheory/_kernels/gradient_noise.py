"""Minibatch gradients at a fixed point, drawn many times: streaming first and second moments.

For each path (an independent replica with its own xoshiro256++ stream), ``n_draws`` minibatches
are drawn with the sampler's law at the fixed point ``w`` and the sums of (g_B - center) and of
(g_B - center)(g_B - center)^T are accumulated, so the memory does not grow with ``n_draws``.
Used by claim A1 (seed 000, section "SGD": E g_B = grad L, Cov g_B = c_B Sigma).
"""

import numpy as np
from numba import njit, prange

from .slots import problem_gradient
from .steps import draw_batch


@njit(parallel=True, cache=True)
def sample_batch_gradients(A, Hs, v, noise_scale, w_star, scheme, batch, w, center,
                           n_draws, rng, ki, wi, fi, first_out, second_out, zero_out):
    """first_out[p] = sum (g - center); second_out[p] = sum (g - center)(g - center)^T;
    zero_out[p] = number of draws with g exactly equal to ``center``."""
    n_paths = rng.shape[0]
    d = w.shape[0]
    n = A.shape[0]
    for p in prange(n_paths):
        g = np.empty(d)
        z = np.empty(d)
        delta = np.empty(d)
        idx = np.empty(max(batch, 1), dtype=np.int64)
        perm = np.arange(max(n, 1))
        pos = n + 1
        for k in range(d):
            delta[k] = w[k] - w_star[k]
            first_out[p, k] = 0.0
            for l in range(d):
                second_out[p, k, l] = 0.0
        zeros = 0
        for t in range(n_draws):
            pos = draw_batch(scheme, rng, p, n, batch, idx, perm, pos)
            problem_gradient(A, Hs, v, noise_scale, idx, batch, delta, w, g, z, rng, p, ki, wi, fi)
            same = True
            for k in range(d):
                g[k] -= center[k]
                if g[k] != 0.0:
                    same = False
                first_out[p, k] += g[k]
            for k in range(d):
                for l in range(d):
                    second_out[p, k, l] += g[k] * g[l]
            if same:
                zeros += 1
        zero_out[p] = zeros
