"""Running averages of minibatch gradients at a fixed point (seed 003, "Digression on Running Averages").

Each path draws x_t = g_B,t[coord], t = 1, 2, ..., the coordinate ``coord`` of a fresh minibatch
gradient at the fixed point ``w`` (the sequence an optimizer's moment estimate averages when the
iterate is frozen), and streams three estimates of mu = E x_t, all started at 0:

* plain exponential moving average  m_t = (1 - 1/N) m_{t-1} + x_t / N;
* McAllester's min(N, t) form       a_t = (1 - 1/min(N, t)) a_{t-1} + x_t / min(N, t);
* Adam's bias correction            m_t / (1 - beta^t),  beta = 1 - 1/N (Kingma & Ba 2015, Alg. 1),
  with beta^t kept as a running product.

Only the values at the recorded steps are stored (``out[p, r, :]``); nothing per step.  Used by
claim D8 and errata E1, E2.
"""

import numpy as np
from numba import njit, prange

from .slots import problem_gradient
from .steps import draw_batch


@njit(parallel=True, cache=True)
def running_averages(A, Hs, v, noise_scale, w_star, scheme, batch, w, coord, N,
                     rng, ki, wi, fi, rec_steps, out):
    """out[p, r] = (plain EMA, min(N, t) average, Adam-corrected EMA) after step rec_steps[r] (>= 1)."""
    n_paths = rng.shape[0]
    d = w.shape[0]
    n = A.shape[0]
    n_rec = rec_steps.shape[0]
    n_steps = rec_steps[n_rec - 1]
    beta = 1.0 - 1.0 / N
    for p in prange(n_paths):
        g = np.empty(d)
        z = np.empty(d)
        delta = np.empty(d)
        idx = np.empty(max(batch, 1), dtype=np.int64)
        perm = np.arange(max(n, 1))
        pos = n + 1
        for k in range(d):
            delta[k] = w[k] - w_star[k]
        ema = 0.0
        avg = 0.0
        beta_t = 1.0
        r = 0
        for t in range(1, n_steps + 1):
            pos = draw_batch(scheme, rng, p, n, batch, idx, perm, pos)
            problem_gradient(A, Hs, v, noise_scale, idx, batch, delta, w, g, z, rng, p, ki, wi, fi)
            x = g[coord]
            ema = beta * ema + x / N
            a = 1.0 / min(N, t)
            avg = (1.0 - a) * avg + a * x
            beta_t *= beta
            while r < n_rec and rec_steps[r] == t:
                out[p, r, 0] = ema
                out[p, r, 1] = avg
                out[p, r, 2] = ema / (1.0 - beta_t)
                r += 1
