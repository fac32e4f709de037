"""Template (``compose``; problem and optimizer SGD bound in) for the batch-size claims C4 and C5 (seed 003, "Scaling eta / N_mu / N_s"; Smith et al. 2018).

``staged_paths`` runs SGD through a piecewise schedule of (learning rate, batch size, epochs) stages on
independent paths, keeping each path's own iterate from one stage to the next (the engine's ``simulate``
starts every path at one common w0, so a stage-by-stage run through it would restart the paths), and writes
the excess loss (w - w*).Hbar (w - w*)/2 at the start and at the end of every epoch: out[p, e].

Paths run in parallel with ``prange``, each on its own xoshiro256++ stream (``rng.path_states``), so the
results do not depend on the thread count; nothing is allocated per step.
"""

import numpy as np
from numba import njit, prange

from .codes import SAMPLING_WITH_REPLACEMENT
from .slots import optimizer_step, problem_gradient
from .steps import draw_batch


@njit(parallel=True, cache=True)
def staged_paths(A, Hs, v, w_star, Hbar, stage_lr, stage_batch, stage_epochs, w0, rng, ki, wi, fi,
                 out):
    """out[p, 0] = excess loss at w0; out[p, 1 + e] = excess loss after epoch e (n / B_k updates per epoch)."""
    n_paths = rng.shape[0]
    d = w0.shape[0]
    n = A.shape[0]
    n_stages = stage_lr.shape[0]
    bmax = 1
    for k in range(n_stages):
        bmax = max(bmax, stage_batch[k])
    sgd_hp = np.zeros(1)  # the optimizer bound in (SGD: no hyperparameters, no state)
    for p in prange(n_paths):
        w = w0.copy()
        delta = np.empty(d)
        g = np.empty(d)
        z = np.empty(d)
        idx = np.empty(bmax, dtype=np.int64)
        perm = np.arange(max(n, 1))
        pos = n + 1
        for j in range(d):
            delta[j] = w[j] - w_star[j]
        e = 0
        q = 0.0
        for a in range(d):
            for b in range(d):
                q += delta[a] * Hbar[a, b] * delta[b]
        out[p, 0] = 0.5 * q
        for k in range(n_stages):
            batch = stage_batch[k]
            lr = stage_lr[k]
            scale = 1.0 / np.sqrt(batch)
            per_epoch = n // batch
            for ep in range(stage_epochs[k]):
                for t in range(per_epoch):
                    pos = draw_batch(SAMPLING_WITH_REPLACEMENT, rng, p, n, batch, idx, perm, pos)
                    problem_gradient(A, Hs, v, scale, idx, batch, delta, w, g, z, rng, p, ki, wi, fi)
                    optimizer_step(sgd_hp, lr, w, sgd_hp, g)
                    for j in range(d):
                        delta[j] = w[j] - w_star[j]
                e += 1
                q = 0.0
                for a in range(d):
                    for b in range(d):
                        q += delta[a] * Hbar[a, b] * delta[b]
                out[p, e] = 0.5 * q
