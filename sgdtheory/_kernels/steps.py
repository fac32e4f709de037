"""Single-step building blocks of the simulator: minibatch draw, batch gradient, optimizer step.

Each function works in place on preallocated arrays (no allocation) and is the Numba twin of a
plain-numpy reference in ``sgdtheory.sampling``, ``sgdtheory.problems`` or
``sgdtheory.optimizers``; the tests compare them on generated inputs.
"""

import numpy as np
from numba import njit

from .codes import (
    OPT_ADAGRAD,
    OPT_ADAM,
    OPT_ADAM_MIN,
    OPT_ADAMW,
    OPT_AMSGRAD,
    OPT_HEAVY_BALL,
    OPT_NESTEROV,
    OPT_PRECONDITIONED,
    OPT_RMSPROP,
    OPT_SAM,
    OPT_SGD,
    PROBLEM_GAUSSIAN_NOISE,
    PROBLEM_LINREG,
    PROBLEM_POLY1D,
    PROBLEM_QUADRATIC,
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
from .rng import fill_below, fill_normals, next_below

# reassociation only: no assumptions about NaN/inf, so divergence detection stays exact
FAST = {"reassoc", "nsz"}


@njit(inline="always", cache=True)
def shuffle(s, perm):
    """Fisher-Yates shuffle of ``perm`` in place (uniform permutation)."""
    n = perm.shape[0]
    for j in range(n - 1, 0, -1):
        k = next_below(s, j + 1)
        tmp = perm[j]
        perm[j] = perm[k]
        perm[k] = tmp


@njit(inline="always", cache=True)
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


@njit(inline="always", cache=True, fastmath=FAST)
def poly1d_gradient(A, v, noise_scale, idx, batch, w, g, z, S, row, ki, wi, fi):
    """``batch_gradient`` for the 1-D polynomial problem (inlined; dispatched first, before the other
    problems' code, which in timings left the other problems' inner loop as fast as before).

    g = mean_j L_i'(w) + v[0] * noise_scale * xi with L_i'(w) = sum_{k>=1} k a_ik w^(k-1) and
    L_i(w) = sum_k a_ik w^k by Horner's rule (``A`` = a_ik, n x (K+1), lowest degree first); the
    standard normal xi comes from S[row] and is drawn only when v[0] (the noise standard deviation)
    is > 0.  Returns the minibatch loss mean_j L_i(w) (without noise).
    """
    inv_b = 1.0 / batch
    x = w[0]
    deg = A.shape[1] - 1
    gs = 0.0
    loss = 0.0
    for j in range(batch):
        i = idx[j]
        p = deg * A[i, deg]  # Horner for L_i'
        q = A[i, deg]  # Horner for L_i
        for k in range(deg - 1, 0, -1):
            p = p * x + k * A[i, k]
            q = q * x + A[i, k]
        gs += p
        loss += q * x + A[i, 0]
    gs *= inv_b
    if v[0] > 0.0:
        fill_normals(S, row, z, 1, v[0] * noise_scale, ki, wi, fi)
        gs += z[0]
    g[0] = gs
    return loss * inv_b


@njit(inline="always", cache=True, fastmath=FAST)
def batch_gradient(code, A, Hs, v, noise_scale, idx, batch, delta, w, g, z, S, row, ki, wi, fi):
    """Write the minibatch gradient at ``w`` into ``g``; return the minibatch loss.

    quadratic: g = mean_j (g_j + H_j delta), loss = mean_j (c_j + g_j.delta + delta.H_j delta/2),
      with ``A`` = rows g_i, ``Hs`` = H_i, ``v`` = c_i and delta = w - w*.
    linreg: r_j = x_j.w - y_j, g = mean_j r_j x_j, loss = mean_j r_j^2/2, ``A`` = X, ``v`` = y.
    gaussian noise: g = H delta + noise_scale * L xi, xi ~ N(0, I), ``Hs[0]`` = H, ``A`` = L; the
      returned "minibatch loss" is the full loss delta.H delta/2 + ``v[0]``; ``z`` (d) is scratch
      and the normals come from the generator S[row].
    1-D polynomial (d = 1): ``poly1d_gradient``; ``A`` = coefficients, ``v[0]`` = noise_sd.

    Compiled with reassociation allowed (``FAST``), so sums may be vectorised: results agree
    with the numpy reference to rounding, and are still deterministic.
    """
    if code == PROBLEM_POLY1D:
        return poly1d_gradient(A, v, noise_scale, idx, batch, w, g, z, S, row, ki, wi, fi)
    d = g.shape[0]
    inv_b = 1.0 / batch
    if code == PROBLEM_QUADRATIC:
        for k in range(d):
            g[k] = 0.0
        loss = 0.0
        for j in range(batch):
            i = idx[j]
            lin = 0.0
            quad = 0.0
            for k in range(d):
                hk = 0.0
                for l in range(d):
                    hk += Hs[i, k, l] * delta[l]
                g[k] += A[i, k] + hk
                lin += A[i, k] * delta[k]
                quad += delta[k] * hk
            loss += v[i] + lin + 0.5 * quad
        for k in range(d):
            g[k] *= inv_b
        return loss * inv_b
    if code == PROBLEM_LINREG:
        for k in range(d):
            g[k] = 0.0
        loss = 0.0
        for j in range(batch):
            i = idx[j]
            r = -v[i]
            for k in range(d):
                r += A[i, k] * w[k]
            for k in range(d):
                g[k] += r * A[i, k]
            loss += 0.5 * r * r
        for k in range(d):
            g[k] *= inv_b
        return loss * inv_b
    # PROBLEM_GAUSSIAN_NOISE: g = H delta + L z, z = noise_scale * xi
    fill_normals(S, row, z, d, noise_scale, ki, wi, fi)
    quad = 0.0
    for k in range(d):
        hk = 0.0
        nk = 0.0
        for l in range(d):
            hk += Hs[0, k, l] * delta[l]
            nk += A[k, l] * z[l]
        g[k] = hk + nk
        quad += delta[k] * hk
    return v[0] + 0.5 * quad


@njit(cache=True)
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


@njit(inline="always", cache=True)
def basic_rate(code, sp, t):
    """Constant sp[0] or power sp[0] / (sp[1] + t)^sp[2]; NaN for any other code.  The engine's hot loop
    uses this (exactly the pre-schedules ``learning_rate``) and sends the other schedules through
    ``cold_step``: a call to ``scheduled_rate`` inlined into the loop, together with the SAM branch, slowed
    the loop for every optimizer by ~3-5% (W2, one thread)."""
    if code == SCHEDULE_CONSTANT:
        return sp[0]
    if code == SCHEDULE_POWER:
        return sp[0] / (sp[1] + t) ** sp[2]
    return np.nan


@njit(inline="always", cache=True)
def learning_rate(code, sp, t):
    """Learning rate at step t (t = 0, 1, ...): constant sp[0], or power sp[0] / (sp[1] + t)^sp[2];
    the other schedule codes go to ``scheduled_rate``."""
    if code == SCHEDULE_CONSTANT:
        return sp[0]
    if code == SCHEDULE_POWER:
        return sp[0] / (sp[1] + t) ** sp[2]
    return scheduled_rate(code, sp, t)


@njit(cache=True)
def adaptive_step(code, hp, lr, w, state, g):
    """The adaptive optimizers' updates (see ``optimizer_step``), compiled as a separate function, not
    inlined: inlining them slowed the engine's loop for the other optimizers by ~5% (W2, one thread)
    and gained them little (their cost is dominated by sqrt and, for Adam, two pow calls a step)."""
    d = w.shape[0]
    if code == OPT_ADAGRAD:
        eps = hp[0]
        for k in range(d):
            state[k] = state[k] + g[k] * g[k]
            w[k] -= lr * g[k] / (np.sqrt(state[k]) + eps)
    elif code == OPT_RMSPROP:
        beta = hp[0]
        eps = hp[1]
        for k in range(d):
            state[k] = beta * state[k] + (1.0 - beta) * g[k] * g[k]
            w[k] -= lr * g[k] / (np.sqrt(state[k]) + eps)
    elif code == OPT_ADAM:
        b1 = hp[0]
        b2 = hp[1]
        eps = hp[2]
        t = state[2 * d] + 1.0
        state[2 * d] = t
        c1 = 1.0
        c2 = 1.0
        if hp[3] != 0.0:
            c1 = 1.0 - b1**t
            c2 = 1.0 - b2**t
        for k in range(d):
            m = b1 * state[k] + (1.0 - b1) * g[k]
            v = b2 * state[d + k] + (1.0 - b2) * g[k] * g[k]
            state[k] = m
            state[d + k] = v
            w[k] -= lr * (m / c1) / (np.sqrt(v / c2) + eps)
    elif code == OPT_AMSGRAD:
        b1 = hp[0]
        b2 = hp[1]
        eps = hp[2]
        # Reddi et al.'s Algorithm 2 (hp[3] = 0: c1 = c2 = 1, and x / 1.0 is exact, so its results are unchanged) or
        # PyTorch's Adam(amsgrad=True) (hp[3] = 1): the max over the raw v, then both bias corrections
        c1 = 1.0
        c2 = 1.0
        if hp[3] != 0.0:
            t = state[3 * d] + 1.0
            state[3 * d] = t
            c1 = 1.0 - b1**t
            c2 = 1.0 - b2**t
        for k in range(d):
            m = b1 * state[k] + (1.0 - b1) * g[k]
            v = b2 * state[d + k] + (1.0 - b2) * g[k] * g[k]
            vh = max(state[2 * d + k], v)
            state[k] = m
            state[d + k] = v
            state[2 * d + k] = vh
            w[k] -= lr * (m / c1) / (np.sqrt(vh / c2) + eps)
    elif code == OPT_ADAM_MIN:
        ng = hp[0]
        ns = hp[1]
        eps = hp[2]
        t = state[2 * d] + 1.0
        state[2 * d] = t
        ag = 1.0 / min(t, ng)
        a_s = 1.0 / min(t, ns)
        for k in range(d):
            mu = (1.0 - ag) * state[k] + ag * g[k]
            s = (1.0 - a_s) * state[d + k] + a_s * g[k] * g[k]
            state[k] = mu
            state[d + k] = s
            w[k] -= lr * mu / (np.sqrt(s) + eps)
    elif code == OPT_ADAMW:
        b1 = hp[0]
        b2 = hp[1]
        eps = hp[2]
        decay = 1.0 - lr * hp[3]
        t = state[2 * d] + 1.0
        state[2 * d] = t
        c1 = 1.0
        c2 = 1.0
        if hp[4] != 0.0:
            c1 = 1.0 - b1**t
            c2 = 1.0 - b2**t
        for k in range(d):
            m = b1 * state[k] + (1.0 - b1) * g[k]
            v = b2 * state[d + k] + (1.0 - b2) * g[k] * g[k]
            state[k] = m
            state[d + k] = v
            w[k] = w[k] * decay - lr * (m / c1) / (np.sqrt(v / c2) + eps)


@njit(inline="always", cache=True)
def optimizer_step(code, hp, lr, w, state, g):
    """One optimizer update in place; the math of each code is in ``sgdtheory.optimizers``.

    SGD: w <- w - lr g.  heavy ball (hp[0] = mu): v <- mu v + g; w <- w - lr v.
    Nesterov (hp[0] = mu): v <- mu v + g; w <- w - lr (g + mu v).
    preconditioned (hp = F row-major, d x d): w_k <- w_k - lr (sum_l F_kl g_l), summed in order l = 0..d-1.
    AdaGrad (hp = eps; state = G): G <- G + g^2; w <- w - lr g / (sqrt(G) + eps).
    RMSProp (hp = beta, eps; state = v): v <- beta v + (1 - beta) g^2; w <- w - lr g / (sqrt(v) + eps).
    Adam (hp = beta1, beta2, eps, bias_correction; state = m (d), v (d), t): t <- t + 1;
      m <- beta1 m + (1 - beta1) g; v <- beta2 v + (1 - beta2) g^2; mhat = m / (1 - beta1^t),
      vhat = v / (1 - beta2^t) (divisors 1 without bias correction); w <- w - lr mhat / (sqrt(vhat) + eps).
    AMSGrad (hp = beta1, beta2, eps, bias_correction; state = m (d), v (d), vhat (d) [, t]): m, v as Adam;
      vhat <- max(vhat, v); w <- w - lr m / (sqrt(vhat) + eps); with bias correction (PyTorch) t <- t + 1 and
      w <- w - lr (m / (1 - beta1^t)) / (sqrt(vhat / (1 - beta2^t)) + eps).
    Adam, min(t, N) form (hp = N_g, N_s, eps; state = mu (d), s (d), t): t <- t + 1; a = 1/min(t, N_g),
      b = 1/min(t, N_s); mu <- (1 - a) mu + a g; s <- (1 - b) s + b g^2; w <- w - lr mu / (sqrt(s) + eps).
    AdamW (hp = beta1, beta2, eps, lambda, bias_correction; state as Adam):
      w <- w (1 - lr lambda) - lr mhat / (sqrt(vhat) + eps).
    SAM is not dispatched here: it needs a second gradient (``sam_step``, called by the engine).
    All operations in the order written, as in the numpy references (which they match bit for bit).
    """
    d = w.shape[0]
    if code == OPT_SGD:
        for k in range(d):
            w[k] -= lr * g[k]
    elif code == OPT_HEAVY_BALL:
        mu = hp[0]
        for k in range(d):
            state[k] = mu * state[k] + g[k]
            w[k] -= lr * state[k]
    elif code == OPT_NESTEROV:
        mu = hp[0]
        for k in range(d):
            state[k] = mu * state[k] + g[k]
            w[k] -= lr * (g[k] + mu * state[k])
    elif code == OPT_PRECONDITIONED:
        for k in range(d):
            s = 0.0
            for l in range(d):
                s += hp[k * d + l] * g[l]
            w[k] -= lr * s
    else:
        adaptive_step(code, hp, lr, w, state, g)


@njit(inline="always", cache=True)
def sam_perturbation(rho, w, g, w2):
    """w2 = w + rho g / |g| (Foret et al. 2021, eq. 2 with p = 2), and w2 = w when g = 0.

    |g|^2 is summed in the order k = 0..d-1 and the scale rho / sqrt(|g|^2) is formed once, as in the
    numpy reference ``SAM.perturbation`` (bit for bit).
    """
    d = w.shape[0]
    q = 0.0
    for k in range(d):
        q += g[k] * g[k]
    if q > 0.0:
        scale = rho / np.sqrt(q)
        for k in range(d):
            w2[k] = w[k] + scale * g[k]
    else:
        for k in range(d):
            w2[k] = w[k]


@njit(cache=True, fastmath=FAST)
def perturbed_gradient(code, A, Hs, v, idx, batch, delta, w, g, z, S, row, ki, wi, fi):
    """The minibatch gradient at ``w`` (``delta`` = w - w*) on the SAME minibatch ``idx`` and with the
    SAME Gaussian noise as the step's first gradient (``z`` still holds it: noise_scale L xi for
    ``GaussianNoiseQuadratic``, noise_sd xi / sqrt(B) for the 1-D polynomial); nothing is drawn.

    quadratic, linreg: ``batch_gradient`` (deterministic given idx).  gaussian noise: H delta + L z.
    1-D polynomial: mean_j L_i'(w) + z[0] (z[0] only when noise_sd = v[0] > 0).
    """
    if code == PROBLEM_POLY1D:
        inv_b = 1.0 / batch
        x = w[0]
        deg = A.shape[1] - 1
        gs = 0.0
        for j in range(batch):
            i = idx[j]
            p = deg * A[i, deg]
            for k in range(deg - 1, 0, -1):
                p = p * x + k * A[i, k]
            gs += p
        gs *= inv_b
        if v[0] > 0.0:
            gs += z[0]
        g[0] = gs
        return
    if code == PROBLEM_GAUSSIAN_NOISE:
        d = g.shape[0]
        for k in range(d):
            hk = 0.0
            nk = 0.0
            for l in range(d):
                hk += Hs[0, k, l] * delta[l]
                nk += A[k, l] * z[l]
            g[k] = hk + nk
        return
    batch_gradient(code, A, Hs, v, 1.0, idx, batch, delta, w, g, z, S, row, ki, wi, fi)


@njit(cache=True)
def sam_step(code, A, Hs, v, idx, batch, w_star, hp, lr, w, state, g, z, w2, delta2, g2, S, row, ki, wi, fi):
    """One SAM step (Foret et al. 2021, Algorithm 1) around the base optimizer ``hp[1]`` (its
    hyperparameters ``hp[2:]``): w2 = w + rho g / |g| (``sam_perturbation``; rho = hp[0], g the step's
    minibatch gradient at w), g2 = the gradient at w2 on the same minibatch and noise
    (``perturbed_gradient``), then the base update of w with g2.  Not inlined into the engine, so
    the other optimizers' loop is unchanged.
    """
    sam_perturbation(hp[0], w, g, w2)
    d = w.shape[0]
    for k in range(d):
        delta2[k] = w2[k] - w_star[k]
    perturbed_gradient(code, A, Hs, v, idx, batch, delta2, w2, g2, z, S, row, ki, wi, fi)
    optimizer_step(int(hp[1]), hp[2:], lr, w, state, g2)


@njit(cache=True)
def cold_step(code, A, Hs, v, idx, batch, w_star, opt_code, hp, sched_code, sp, t, w, state, g, z, w2, delta2, g2,
              S, row, ki, wi, fi):
    """The engine's step for the schedules other than constant/power and for SAM (one call site, not inlined,
    so that the hot loop of the common case is the one it was before these were added): eta_t from
    ``learning_rate``, then ``sam_step`` or ``optimizer_step``."""
    lr = learning_rate(sched_code, sp, t)
    if opt_code == OPT_SAM:
        sam_step(code, A, Hs, v, idx, batch, w_star, hp, lr, w, state, g, z, w2, delta2, g2, S, row, ki, wi, fi)
    else:
        optimizer_step(opt_code, hp, lr, w, state, g)
