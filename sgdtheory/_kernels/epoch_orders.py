"""One epoch of SGD over m fixed minibatches in a uniformly random order, and in the reversed order
(claim C1, Smith et al. 2021: the mean iterate over orders).

Per-batch quadratic losses expanded at the start point w0: grad L_k(w0 + delta) = G_k + H_k delta.  For
each independent replica p a uniform permutation pi_p of the m batches is drawn (Fisher-Yates on the
path's own xoshiro256++ stream, ``rng.path_states``, so results do not depend on the thread count), and
for every learning rate of ``etas`` the epoch is run from delta = 0 in the order pi_p and in the
reversed order; ``out[p, k, :d]`` and ``out[p, k, d:]`` are the two end displacements delta_m.  The pair
(pi, reverse pi) is an antithetic pair: both orders are uniform, and the eta^2 term of
delta_m(pi) + delta_m(reverse pi), sum_(a != b) H_b G_a, does not depend on pi, so the pair mean has
fluctuations of order eta^3 instead of eta^2 (no theory enters the estimator).  No allocation per step.
"""

import numpy as np
from numba import njit, prange

from .steps import shuffle


@njit(parallel=True, cache=True)
def epoch_order_pairs(G, H, etas, rng, out):
    """out[p, k, :d] = delta_m(pi_p), out[p, k, d:] = delta_m(reverse pi_p) at etas[k]."""
    n_paths = rng.shape[0]
    m, d = G.shape
    K = etas.shape[0]
    for p in prange(n_paths):
        perm = np.arange(m)
        shuffle(rng[p], perm)
        x = np.empty(d)
        y = np.empty(d)
        for k in range(K):
            eta = etas[k]
            for rev in range(2):
                for a in range(d):
                    x[a] = 0.0
                for j in range(m):
                    b = perm[j] if rev == 0 else perm[m - 1 - j]
                    for a in range(d):
                        s = G[b, a]
                        for c in range(d):
                            s += H[b, a, c] * x[c]
                        y[a] = s
                    for a in range(d):
                        x[a] -= eta * y[a]
                for a in range(d):
                    out[p, k, rev * d + a] = x[a]
