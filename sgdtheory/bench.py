"""``sgdtheory bench``: the ratios of ``../shared/bench/peers.py``, measured on this machine in one command.

The two workloads are exactly those of the shared benchmark (``peers.py`` and its README; all float64):

* W1 linreg-SGD: ``rng = numpy.random.default_rng(20240601)``; ``X = rng.standard_normal((1024, 16))``,
  ``w_true = rng.standard_normal(16)``, ``y = X w_true + 0.5 rng.standard_normal(1024)`` (in this order).
  P = 4096 paths from w = 0, T = 2000 steps, B = 8 indices drawn uniformly with replacement, eta = 0.02.
  Outputs: the final iterates and each path's sum of the batch loss (1/2B) sum_b r_b^2 over t = T/2 .. T-1.
  Check: |z| < 5 for E[L(w_T)] and for the time-averaged batch loss against the exact first- and second-moment
  recursion (``w1_exact``; sampling is independent of w_t, so E[w_t], E[w_t w_t^T] close).
* W2 OU-Langevin: d = 8, H = Q diag(lambda) Q^T with Q the orthonormal DCT-IV matrix
  Q_jk = sqrt(2/d) cos(pi (2j+1)(2k+1) / (4d)), lambda_k = 10^(k/(d-1)); L_ij = (1 + 0.1 i) 0.5^(i-j) for
  j <= i (0-based), C = L L^T.  P = 8192 paths from 0, eta = 0.05, T = 4000, burn-in 1000:
  w_t = w_{t-1} - eta (H w_{t-1} + L xi_t).  Outputs: sums of w w^T and w over paths and t > burn-in.
  Check: max_ij |cov_ij - S_ij| / sqrt(S_ii S_jj) < 6 sqrt(2 tau / N), S = A S A^T + eta^2 C the exact
  stationary covariance (``scipy.linalg.solve_discrete_lyapunov``), A = I - eta H, tau = (1 + rho^2) / (1 - rho^2)
  with rho the spectral radius of A, N = P (T - burn).

Implementations (each group in its own worker process, as in ``peers.py``): the engine through the public
``sgdtheory.simulate`` (as ``../shared/bench/adapters/sgdtheory_engine.py`` calls it) with 1 and 2 threads
(``numba.set_num_threads``, as the adapter does); the single-purpose hand-written Numba kernels of ``peers.py``
(vendored in ``_kernels.hand``; 1 and 2 threads); ``peers.py``'s plain-numpy implementation; its JAX
implementation (``jit(vmap(per-path lax.scan))``, x64, compile excluded) when ``import jax`` works; the RNG floor
of ``peers.py`` (the hand kernels' xoshiro256++ / ziggurat streams, numbers only summed; the target ratio), and
the engine's own streams' floor (``_kernels.floor``, for information).

Timing: every implementation first runs once at full size (JIT compile and warm-up, reported separately); then
``reps`` rounds run every implementation once each, alternating (engine, hand, numpy, JAX, floors, engine, ...),
so slow drift of the shared machine hits all of them alike.  Throughput = P T / wall seconds of one call; the
table gives the best rep and the spread (min - max); the ratios use the best reps.  Each rep also records the
CPU used meanwhile by other processes (``foreign_cores``, from /proc/stat).  Wall-clock times are reported,
never asserted in tests.  Targets (issue 16): engine >= 1.0x hand, >= 5x numpy, >= 4x JAX (1 and 2 threads),
W2 >= 0.6x the RNG floor, second-core speed-up >= 1.7x.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# ---- the workloads (peers.py's W1_FULL / W2_FULL) ------------------------------------------------------------

W1 = dict(name="linreg-sgd", label="W1 linreg-SGD", n=1024, d=16, P=4096, B=8, eta=0.02, T=2000,
          data_seed=20240601, noise_sd=0.5, sim_seed=1)
W2 = dict(name="ou-langevin", label="W2 OU-Langevin", d=8, P=8192, T=4000, burn=1000, eta=0.05, cond=10.0,
          sim_seed=2)

#: issue 16's targets: ratio name -> (minimum, workloads it applies to)
TARGETS = {
    "engine / hand": (1.0, ("W1", "W2")),
    "engine / numpy": (5.0, ("W1", "W2")),
    "engine / JAX": (4.0, ("W1", "W2")),
    "engine / RNG floor": (0.6, ("W2",)),
    "second core": (1.7, ("W1", "W2")),
}


def workload_cfgs(scale: float = 1.0, quick: bool = False) -> tuple[dict, dict]:
    """Full sizes; ``quick`` = peers.py's --quick (P/8, T/4, burn/4); ``scale`` multiplies P (>= 16)."""
    w1, w2 = dict(W1), dict(W2)
    if quick:
        w1.update(P=W1["P"] // 8, T=W1["T"] // 4)
        w2.update(P=W2["P"] // 8, T=W2["T"] // 4, burn=W2["burn"] // 4)
    w1["P"] = max(16, int(round(w1["P"] * scale)))
    w2["P"] = max(16, int(round(w2["P"] * scale)))
    return w1, w2


def w1_data(cfg: dict = W1) -> tuple[np.ndarray, np.ndarray]:
    """X ~ N(0,1) (n x d), w_true ~ N(0,1), y = X w_true + 0.5 N(0,1), from default_rng(data_seed) in this order."""
    rng = np.random.default_rng(cfg["data_seed"])
    X = rng.standard_normal((cfg["n"], cfg["d"]))
    w_true = rng.standard_normal(cfg["d"])
    y = X @ w_true + cfg["noise_sd"] * rng.standard_normal(cfg["n"])
    return np.ascontiguousarray(X), np.ascontiguousarray(y)


def w2_data(cfg: dict = W2) -> tuple[np.ndarray, np.ndarray]:
    """H = Q diag(cond^(k/(d-1))) Q^T with Q the orthonormal DCT-IV matrix; L_ij = (1 + 0.1 i) 0.5^(i-j), j <= i."""
    d = cfg["d"]
    j = np.arange(d)
    Q = np.sqrt(2.0 / d) * np.cos(np.pi * np.outer(2 * j + 1, 2 * j + 1) / (4.0 * d))
    lam = cfg["cond"] ** (j / (d - 1.0))
    H = (Q * lam) @ Q.T
    H = 0.5 * (H + H.T)
    L = np.tril((1.0 + 0.1 * j[:, None]) * 0.5 ** (j[:, None] - j[None, :]))
    return np.ascontiguousarray(H), np.ascontiguousarray(L)


def w1_problem():
    """W1's data as a ``LinearRegression``."""
    from .problems import LinearRegression

    X, y = w1_data()
    return LinearRegression(X, y, name="W1 linear regression")


def w2_problem():
    """W2's Ornstein-Uhlenbeck process as a ``GaussianNoiseQuadratic`` (C = L L^T)."""
    from .problems import GaussianNoiseQuadratic

    H, L = w2_data()
    return GaussianNoiseQuadratic(H, L @ L.T, name="W2 Ornstein-Uhlenbeck")


# ---- exact references and checks (peers.py's w1_exact, w2_exact, w1_check, w2_check) --------------------------

def w1_exact(X, y, eta, B, T) -> np.ndarray:
    """Exact E[L(w_t)], t = 0..T, for SGD with B samples drawn with replacement.

    m_t = E[w_t], S_t = E[w_t w_t^T] obey a closed linear recursion (the indices are independent of w_t):
    w' = Q w + r, Q = I - eta Mbar, r = eta vbar, Mbar = (1/B) sum_b a_b a_b^T, vbar = (1/B) sum_b a_b y_b,
    E[Mbar S Mbar] = (1/B) E_i[M_i S M_i] + (1 - 1/B) H S H, ...; E[L(w)] = tr(H S)/2 - c.m + |y|^2/(2n).
    """
    n, d = X.shape
    H = X.T @ X / n
    c = X.T @ y / n
    yy = y @ y / n
    Cyy = (X * (y * y)[:, None]).T @ X / n
    a = 1.0 / B
    Err = eta ** 2 * (a * Cyy + (1 - a) * np.outer(c, c))
    m = np.zeros(d)
    S = np.zeros((d, d))
    Lexp = np.empty(T + 1)

    def loss(m, S):
        return 0.5 * np.sum(H * S) - c @ m + 0.5 * yy

    Lexp[0] = loss(m, S)
    for t in range(T):
        q = np.einsum("ij,jk,ik->i", X, S, X)
        EMSM = (X * q[:, None]).T @ X / n
        EMmv = (X * ((X @ m) * y)[:, None]).T @ X / n
        HS = H @ S
        EQSQ = S - eta * (HS + HS.T) + eta ** 2 * (a * EMSM + (1 - a) * HS @ H)
        EQmr = eta * (np.outer(m, c) - eta * (a * EMmv + (1 - a) * np.outer(H @ m, c)))
        S = EQSQ + EQmr + EQmr.T + Err
        S = 0.5 * (S + S.T)
        m = m - eta * (H @ m - c)
        Lexp[t + 1] = loss(m, S)
    return Lexp


def w2_exact(H, L, eta):
    """Exact stationary covariance S = A S A^T + eta^2 L L^T, A = I - eta H; returns (S, A)."""
    from scipy.linalg import solve_discrete_lyapunov

    A = np.eye(H.shape[0]) - eta * H
    S = solve_discrete_lyapunov(A, eta ** 2 * (L @ L.T))
    return 0.5 * (S + S.T), A


def w1_check(W, bl_sum, X, y, cfg, Lexp) -> dict:
    """|z| < 5 for E[L(w_T)] and the time-averaged batch loss (z = error / standard error over paths)."""
    W = np.asarray(W, dtype=np.float64)
    bl_sum = np.asarray(bl_sum, dtype=np.float64)
    P, T = cfg["P"], cfg["T"]
    R = W @ X.T - y[None, :]
    LT = 0.5 / X.shape[0] * np.einsum("pn,pn->p", R, R)
    bl = bl_sum / (T - T // 2)
    ex_T, ex_bl = float(Lexp[T]), float(np.mean(Lexp[T // 2:T]))
    mT, sT = float(LT.mean()), float(LT.std(ddof=1))
    mb, sb = float(bl.mean()), float(bl.std(ddof=1))
    zT = (mT - ex_T) / (sT / math.sqrt(P))
    zb = (mb - ex_bl) / (sb / math.sqrt(P))
    return dict(loss_T_mean=mT, loss_T_var=float(LT.var(ddof=1)), loss_T_exact_mean=ex_T,
                loss_T_relerr=(mT - ex_T) / ex_T, loss_T_z=zT, batch_loss_avg=mb, batch_loss_exact=ex_bl,
                batch_loss_relerr=(mb - ex_bl) / ex_bl, batch_loss_z=zb,
                ok=bool(abs(zT) < 5 and abs(zb) < 5 and np.all(np.isfinite(W))),
                criterion="|z| < 5 for E[L(w_T)] and the time-averaged batch loss")


def w2_check(S_sum, m_sum, cfg, S_exact, A) -> dict:
    """max_ij |cov_ij - S_ij| / sqrt(S_ii S_jj) < 6 sqrt(2 tau / N), tau = (1 + rho^2) / (1 - rho^2)."""
    S_sum = np.asarray(S_sum, dtype=np.float64)
    m_sum = np.asarray(m_sum, dtype=np.float64)
    N = cfg["P"] * (cfg["T"] - cfg["burn"])
    mean = m_sum / N
    cov = S_sum / N - np.outer(mean, mean)
    cov = 0.5 * (cov + cov.T)
    D = cov - S_exact
    dS = np.sqrt(np.diag(S_exact))
    corr_err = np.abs(D) / np.outer(dS, dS)
    rho = float(np.max(np.abs(np.linalg.eigvals(A))))
    se = math.sqrt(2 * (1 + rho ** 2) / (1 - rho ** 2) / N)
    return dict(max_rel_err=float((np.abs(D) / np.abs(S_exact)).max()),
                max_err_corr_units=float(corr_err.max()),
                frob_rel_err=float(np.linalg.norm(D) / np.linalg.norm(S_exact)),
                stat_se_corr_units=se, ok=bool(corr_err.max() < 6 * se and np.all(np.isfinite(cov))),
                criterion="max_ij |cov_ij - S_ij| / sqrt(S_ii S_jj) < 6 sqrt(2 tau / N)")


# ---- the implementations ------------------------------------------------------------------------------------

def w1_numpy(X, y, eta, P, T, B, seed):
    """peers.py's numpy W1: all paths as arrays, a Python loop over steps, Generator(PCG64(seed))."""
    n, d = X.shape
    rng = np.random.Generator(np.random.PCG64(seed))
    W = np.zeros((P, d))
    bl_sum = np.zeros(P)
    Xb = np.empty((P, B, d))
    yb = np.empty((P, B))
    r = np.empty((P, B, 1))
    g = np.empty((P, 1, d))
    half = T // 2
    for t in range(T):
        idx = rng.integers(0, n, size=(P, B))
        np.take(X, idx, axis=0, out=Xb)
        np.take(y, idx, out=yb)
        np.matmul(Xb, W[:, :, None], out=r)
        r[:, :, 0] -= yb
        np.matmul(r.transpose(0, 2, 1), Xb, out=g)
        W -= (eta / B) * g[:, 0, :]
        if t >= half:
            bl_sum += (0.5 / B) * np.einsum("pb,pb->p", r[:, :, 0], r[:, :, 0])
    return W, bl_sum


def w2_numpy(H, L, eta, P, T, burn, seed):
    """peers.py's numpy W2: w_t = A w_{t-1} - eta L xi_t for all paths at once; sums for t > burn."""
    d = H.shape[0]
    rng = np.random.Generator(np.random.PCG64(seed))
    At = np.ascontiguousarray((np.eye(d) - eta * H).T)
    eLt = np.ascontiguousarray((eta * L).T)
    W = np.zeros((P, d))
    Wn = np.empty((P, d))
    xi = np.empty((P, d))
    tmp = np.empty((P, d))
    S_sum = np.zeros((d, d))
    m_sum = np.zeros(d)
    for t in range(1, T + 1):
        rng.standard_normal(out=xi)
        np.matmul(W, At, out=Wn)
        np.matmul(xi, eLt, out=tmp)
        Wn -= tmp
        W, Wn = Wn, W
        if t > burn:
            S_sum += W.T @ W
            m_sum += W.sum(axis=0)
    return S_sum, m_sum


def _n_batches(steps: int, want: int) -> int:
    """The largest batch count <= want dividing ``steps`` (so the engine averages over exactly those steps)."""
    return max(k for k in range(2, want + 1) if steps % k == 0) if steps >= 2 else 2


def w1_engine(X, y, eta, P, T, B, seed):
    """W1 through the public ``sgdtheory.simulate``, as the peers.py adapter calls it."""
    from .problems import LinearRegression
    from .sampling import Sampler
    from .simulate import simulate

    res = simulate(LinearRegression(X, y), eta, sampler=Sampler(B, "with_replacement"), n_steps=T, n_paths=P,
                   seed=seed, w0=np.zeros(X.shape[1]), record=(), time_average=("batch_loss",), burn_in=T // 2,
                   n_batches=_n_batches(T - T // 2, 10), check_stability=False)
    col = res.average_names.index("batch_loss")
    return res.final_params, res.batch_sums[:, :, col].sum(axis=1)


def w2_engine(H, L, eta, P, T, burn, seed):
    """W2 through the public ``sgdtheory.simulate``, as the peers.py adapter calls it."""
    from .problems import GaussianNoiseQuadratic
    from .simulate import simulate

    d = H.shape[0]
    res = simulate(GaussianNoiseQuadratic(H, L @ L.T), eta, n_steps=T, n_paths=P, seed=seed, w0=np.zeros(d),
                   record=(), time_average=("moments",), burn_in=burn, n_batches=_n_batches(T - burn, 20),
                   check_stability=False)
    tot = res.batch_sums.sum(axis=(0, 1))
    S = np.zeros((d, d))
    m = np.array([tot[res.average_names.index(f"mean[{k}]")] for k in range(d)])
    for k in range(d):
        for l in range(k, d):
            S[k, l] = S[l, k] = tot[res.average_names.index(f"second[{k},{l}]")]
    return S, m


def make_jax_impls(w1: dict, w2: dict):
    """peers.py's JAX simulators: jit(vmap over paths of a lax.scan over steps), fold_in(path key, t), x64."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    jax.config.update("jax_enable_x64", True)
    n, d1, P1, B, T1, eta1 = w1["n"], w1["d"], w1["P"], w1["B"], w1["T"], w1["eta"]
    half = T1 // 2

    def w1_path(key, X, y):
        def step(carry, t, accumulate):
            w, acc = carry
            idx = jax.random.randint(jax.random.fold_in(key, t), (B,), 0, n, dtype=jnp.int32)
            Xb = X[idx]
            r = Xb @ w - y[idx]
            w = w - (eta1 / B) * (Xb.T @ r)
            if accumulate:
                acc = acc + (0.5 / B) * jnp.dot(r, r)
            return (w, acc), None
        carry = (jnp.zeros(d1), jnp.zeros(()))
        carry, _ = lax.scan(lambda c, t: step(c, t, False), carry, jnp.arange(0, half))
        carry, _ = lax.scan(lambda c, t: step(c, t, True), carry, jnp.arange(half, T1))
        return carry

    def w1_run(key, X, y):
        return jax.vmap(w1_path, in_axes=(0, None, None))(jax.random.split(key, P1), X, y)

    d2, P2, T2, burn, eta2 = w2["d"], w2["P"], w2["T"], w2["burn"], w2["eta"]

    def w2_path(key, A, eL):
        def step(carry, t, accumulate):
            w, S, m = carry
            xi = jax.random.normal(jax.random.fold_in(key, t), (d2,), dtype=jnp.float64)
            w = A @ w - eL @ xi
            if accumulate:
                S = S + jnp.outer(w, w)
                m = m + w
            return (w, S, m), None
        carry = (jnp.zeros(d2), jnp.zeros((d2, d2)), jnp.zeros(d2))
        carry, _ = lax.scan(lambda c, t: step(c, t, False), carry, jnp.arange(1, burn + 1))
        carry, _ = lax.scan(lambda c, t: step(c, t, True), carry, jnp.arange(burn + 1, T2 + 1))
        return carry[1], carry[2]

    def w2_run(key, A, eL):
        S, m = jax.vmap(w2_path, in_axes=(0, None, None))(jax.random.split(key, P2), A, eL)
        return S.sum(axis=0), m.sum(axis=0)

    return jax, jnp, dict(w1=w1_run, w2=w2_run)


# ---- worker processes -----------------------------------------------------------------------------------------

GROUPS = ("numba", "numpy", "jax")


def _group_impls(group: str, w1: dict, w2: dict) -> tuple[dict, dict]:
    """{(impl, workload): (warm-up callable or None, call)} for one worker group, and extra info."""
    X, y = w1_data(w1)
    H, L = w2_data(w2)
    a1 = (X, y, w1["eta"], w1["P"], w1["T"], w1["B"], w1["sim_seed"])
    a2 = (H, L, w2["eta"], w2["P"], w2["T"], w2["burn"], w2["sim_seed"])
    calls, info = {}, {}
    if group == "numpy":
        calls[("numpy", "W1")] = lambda: w1_numpy(*a1)
        calls[("numpy", "W2")] = lambda: w2_numpy(*a2)
    elif group == "numba":
        import numba

        from ._kernels import hand
        from ._kernels.floor import draw_indices, draw_normals
        from ._kernels.rng import ZIG_FI, ZIG_KI, ZIG_WI, path_states

        threads = sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)})
        info["threads"] = threads
        info["numba"] = numba.__version__
        st1 = path_states(np.random.SeedSequence(w1["sim_seed"]), 0, w1["P"])
        st2 = path_states(np.random.SeedSequence(w2["sim_seed"]), 0, w2["P"])
        o1, o2 = np.zeros(w1["P"], dtype=np.int64), np.zeros(w2["P"])

        def on(th, f):
            def call():
                numba.set_num_threads(th)
                return f()
            return call

        for th in threads:
            calls[(f"engine {th}thr", "W1")] = on(th, lambda: w1_engine(*a1))
            calls[(f"engine {th}thr", "W2")] = on(th, lambda: w2_engine(*a2))
            calls[(f"hand {th}thr", "W1")] = on(th, lambda: hand.w1_numba(*a1))
            calls[(f"hand {th}thr", "W2")] = on(th, lambda: hand.w2_numba(*a2))
            calls[(f"floor {th}thr", "W1")] = on(th, lambda: hand.floor_w1_numba(
                w1["n"], w1["P"], w1["T"], w1["B"], w1["sim_seed"]))
            calls[(f"floor {th}thr", "W2")] = on(th, lambda: hand.floor_w2_numba(
                w2["d"], w2["P"], w2["T"], w2["sim_seed"]))
            calls[(f"engine floor {th}thr", "W1")] = on(th, lambda: draw_indices(
                st1, w1["T"], w1["n"], w1["B"], o1))
            calls[(f"engine floor {th}thr", "W2")] = on(th, lambda: draw_normals(
                st2, w2["T"], w2["d"], ZIG_KI, ZIG_WI, ZIG_FI, o2))
    elif group == "jax":
        jax, jnp, fns = make_jax_impls(w1, w2)
        info["jax"] = jax.__version__
        k1, k2 = jax.random.key(w1["sim_seed"]), jax.random.key(w2["sim_seed"])
        Xj, yj = jnp.asarray(X), jnp.asarray(y)
        A, eL = jnp.asarray(np.eye(w2["d"]) - w2["eta"] * H), jnp.asarray(w2["eta"] * L)
        compiled = {}

        def jcall(wl, f, *a):
            def compile_():
                compiled[wl] = jax.jit(f).lower(*a).compile()

            def call():
                return tuple(np.asarray(v) for v in jax.block_until_ready(compiled[wl](*a)))
            return compile_, call

        calls[("jax", "W1")] = jcall("W1", fns["w1"], k1, Xj, yj)
        calls[("jax", "W2")] = jcall("W2", fns["w2"], k2, A, eL)
    else:
        raise ValueError(f"group: {group!r} is not one of {GROUPS}")
    return calls, info


def _cpu_busy() -> float:
    """Busy CPU seconds of the whole machine (all CPUs) from /proc/stat; nan where unavailable."""
    try:
        with open("/proc/stat") as f:
            v = [int(a) for a in f.readline().split()[1:]]
        return (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        return float("nan")


def _worker(group: str, cfg_json: str) -> None:
    """Serve JSON requests on stdin: warm / run / save / quit (replies on the original stdout, one line each)."""
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # anything the libraries print goes to stderr
    cfg = json.loads(cfg_json)
    try:
        calls, info = _group_impls(group, cfg["W1"], cfg["W2"])
    except ImportError as e:
        out.write(json.dumps({"error": f"{type(e).__name__}: {e}"}) + "\n")
        out.flush()
        return
    out.write(json.dumps({"impls": [list(k) for k in calls], "info": info}) + "\n")
    out.flush()
    last = {}
    for line in sys.stdin:
        req = json.loads(line)
        key = (req.get("impl"), req.get("wl"))
        reply = {}
        if req["cmd"] == "quit":
            break
        if req["cmd"] == "warm":
            c = calls[key]
            if isinstance(c, tuple):  # JAX: ahead-of-time compile, timed on its own
                t0 = time.perf_counter()
                c[0]()
                reply["compile_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            last[key] = (c[1] if isinstance(c, tuple) else c)()
            reply["first_call_s"] = time.perf_counter() - t0
        elif req["cmd"] == "run":
            c = calls[key]
            c = c[1] if isinstance(c, tuple) else c
            c0, t0 = time.process_time(), time.perf_counter()
            last[key] = c()
            t1, c1 = time.perf_counter(), time.process_time()
            reply.update(seconds=t1 - t0, cpu_s=c1 - c0)
        elif req["cmd"] == "save":
            res = last[key]
            res = res if isinstance(res, tuple) else (res,)
            np.savez(req["path"], *[np.asarray(a, dtype=np.float64) for a in res])
        out.write(json.dumps(reply) + "\n")
        out.flush()


class _Worker:
    """One worker process (a group of implementations) driven over pipes."""

    def __init__(self, group: str, cfgs: dict, python: str | None = None):
        pkg_root = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([pkg_root, os.environ.get("PYTHONPATH", "")]).rstrip(
            os.pathsep))
        self.err = tempfile.TemporaryFile(mode="w+")  # a file, not a pipe: a chatty library cannot block the worker
        self.proc = subprocess.Popen([python or sys.executable, "-m", "sgdtheory.bench", "--worker", group,
                                      json.dumps(cfgs)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.err, text=True, env=env)
        self.hello = self._read()

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            rc = self.proc.wait()
            self.err.seek(0)
            err = self.err.read()
            raise RuntimeError(f"bench worker exited (rc {rc}): {err[-2000:]}")
        return json.loads(line)

    def ask(self, **req) -> dict:
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write('{"cmd": "quit"}\n')
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc.stdout.close()
        self.err.close()


# ---- the driver ------------------------------------------------------------------------------------------------

ORDER = ("engine 1thr", "engine 2thr", "hand 1thr", "hand 2thr", "numpy", "jax", "floor 1thr", "floor 2thr",
         "engine floor 1thr", "engine floor 2thr")
LABELS = {"engine": "sgdtheory.simulate (engine)", "hand": "hand Numba kernel (peers.py)",
          "numpy": "numpy (peers.py)", "jax": "JAX jit+vmap+scan (peers.py)",
          "floor": "RNG floor (peers.py, xoshiro256++)", "engine floor": "RNG floor, engine's streams"}
SIMULATORS = ("engine", "hand", "numpy", "jax")


def _label(impl: str) -> str:
    base, _, th = impl.rpartition(" ") if impl.endswith("thr") else (impl, "", "")
    return LABELS[base] + (f", {th[:-3]} thr" if th else "")


def _digest(arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def _ratios(best: dict, threads: list, key: str) -> dict:
    """name -> (value, target or None) for one workload."""
    out = {}
    for name, ref in (("engine / hand", "hand {}thr"), ("engine / numpy", "numpy"), ("engine / JAX", "jax"),
                      ("engine / RNG floor", "floor {}thr")):
        for th in threads:
            e, r = best.get(f"engine {th}thr"), ref.format(th)
            if e and best.get(r):
                tgt, wls = TARGETS[name]
                out[f"{name}, {th} thr"] = (e / best[r], tgt if key in wls else None)
    if len(threads) > 1 and best.get("engine 1thr"):
        out[f"second core (engine {threads[-1]} / 1 thr)"] = (best[f"engine {threads[-1]}thr"] / best["engine 1thr"],
                                                              TARGETS["second core"][0])
    return out


def run(scale: float = 1.0, log=print, quick: bool = False, reps: int = 3, jax: bool = True,
        cache_load: bool = True, pause: float = 0.2) -> dict:
    """Time every implementation on both workloads (``reps`` alternating rounds) and return the report.

    ``report["workloads"][key]`` has the best throughputs (``path_steps_per_second``, path-steps/s), the spread,
    every rep, the ``ratios`` (floats), ``targets`` (ratio -> minimum and pass), the correctness ``checks`` and
    whether the engine's results are bitwise identical for 1 and 2 threads.
    """
    t_start = time.perf_counter()
    w1, w2 = workload_cfgs(scale, quick)
    cfgs = {"W1": w1, "W2": w2}
    log(f"sgdtheory bench: W1 P={w1['P']} T={w1['T']} B={w1['B']}; W2 P={w2['P']} T={w2['T']} "
        f"burn-in {w2['burn']}; {reps} alternating reps each"
        + (" (quick sizes: not comparable with full runs)" if quick or scale != 1.0 else ""))
    workers = {}
    report = {"sizes": cfgs, "reps": reps, "quick": quick, "scale": scale, "workloads": {}}
    try:
        for group in GROUPS:
            if group == "jax" and not jax:
                continue
            try:
                w = _Worker(group, cfgs)
            except RuntimeError as e:
                if group == "jax":
                    report["jax"] = None
                    log("JAX: not installed (pip install jax)" if "ModuleNotFoundError" in str(e)
                        else f"JAX: unavailable ({str(e).strip().splitlines()[-1]})")
                    continue
                raise
            if "error" in w.hello:
                w.close()
                if group == "jax":
                    report["jax"] = None
                    log("JAX: not installed (pip install jax)" if "No module named" in w.hello["error"]
                        else f"JAX: unavailable ({w.hello['error']})")
                    continue
                raise RuntimeError(f"bench worker {group}: {w.hello['error']}")
            workers[group] = w
            report.update(w.hello["info"])
        if jax and report.get("jax") is not None:
            log(f"JAX {report['jax']}")
        threads = report["threads"]
        owner = {tuple(k): g for g, w in workers.items() for k in w.hello["impls"]}
        plan = [(impl, wl) for wl in ("W1", "W2") for impl in ORDER if (impl, wl) in owner]
        first = {}
        for impl, wl in plan:  # compile and warm up, excluded from the timings
            first[(impl, wl)] = workers[owner[(impl, wl)]].ask(cmd="warm", impl=impl, wl=wl)
        log(f"  warm-up (compile, first calls) done after {time.perf_counter() - t_start:.0f} s")
        seconds = {k: [] for k in plan}
        foreign = {k: [] for k in plan}
        for r in range(reps):
            for impl, wl in plan:
                time.sleep(pause)  # let the previous worker's idle threads (OpenMP, BLAS, XLA) stop spinning
                b0 = _cpu_busy()
                rep = workers[owner[(impl, wl)]].ask(cmd="run", impl=impl, wl=wl)
                b1 = _cpu_busy()
                seconds[(impl, wl)].append(rep["seconds"])
                foreign[(impl, wl)].append(max(0.0, (b1 - b0 - rep["cpu_s"]) / rep["seconds"]))
            log(f"  round {r + 1}/{reps} done after {time.perf_counter() - t_start:.0f} s")
        outputs = {}
        with tempfile.TemporaryDirectory(prefix="sgdtheory_bench_") as tmp:
            for impl, wl in plan:
                if impl.split(" ")[0] in SIMULATORS and "floor" not in impl:
                    path = os.path.join(tmp, f"{impl.replace(' ', '_')}_{wl}.npz")
                    workers[owner[(impl, wl)]].ask(cmd="save", impl=impl, wl=wl, path=path)
                    with np.load(path) as z:
                        outputs[(impl, wl)] = [z[f"arr_{i}"] for i in range(len(z.files))]
    finally:
        for w in workers.values():
            w.close()
    X, y = w1_data(w1)
    H, L = w2_data(w2)
    Lexp = w1_exact(X, y, w1["eta"], w1["B"], w1["T"])
    S_ex, A = w2_exact(H, L, w2["eta"])
    for key, cfg in cfgs.items():
        steps = cfg["P"] * cfg["T"]
        impls = [i for i, wl in plan if wl == key]
        thr = {i: [steps / s for s in seconds[(i, key)]] for i in impls}
        best = {i: max(v) for i, v in thr.items()}
        checks = {}
        for i in impls:
            if (i, key) in outputs:
                o = outputs[(i, key)]
                checks[i] = w1_check(o[0], o[1], X, y, cfg, Lexp) if key == "W1" else w2_check(o[0], o[1], cfg,
                                                                                               S_ex, A)
        digests = {th: _digest(outputs[(f"engine {th}thr", key)]) for th in threads}
        hand_digests = {th: _digest(outputs[(f"hand {th}thr", key)]) for th in threads}
        ratios = _ratios(best, threads, key)
        report["workloads"][key] = {
            "workload": cfg["label"], "path_steps_per_second": best,
            "spread": {i: [min(v), max(v)] for i, v in thr.items()},
            "median": {i: float(np.median(v)) for i, v in thr.items()},
            "reps_path_steps_per_second": thr, "foreign_cores": {i: foreign[(i, key)] for i in impls},
            "first_call_seconds": {i: first[(i, key)]["first_call_s"] for i in impls},
            "compile_seconds": {i: first[(i, key)]["compile_s"] for i in impls if "compile_s" in first[(i, key)]},
            "ratios": {k: v for k, (v, _) in ratios.items()},
            "targets": {k: {"minimum": t, "pass": bool(v >= t)} for k, (v, t) in ratios.items() if t is not None},
            "checks": checks, "identical_across_threads": len(set(digests.values())) == 1,
            "hand_identical_across_threads": len(set(hand_digests.values())) == 1, "digests": digests,
        }
    if cache_load:
        report["cache_load_seconds"] = cache_load_seconds()
    report["wall_seconds"] = time.perf_counter() - t_start
    log(format_table(report))
    return report


#: a rep during which other processes used more CPU cores than this is marked '!' (peers.py's threshold)
FOREIGN_MAX = 0.25


def _mark(ok) -> str:
    return "pass" if ok else "FAIL"


def format_table(report: dict) -> str:
    """The report as one plain-text table: throughputs, ratios against the targets, correctness."""
    wls = report["workloads"]
    keys = list(wls)
    col = 26
    lines = ["", f"{'million path-steps/s: best [min - max]':44s}" + "".join(f"{wls[k]['workload']:>{col}s}"
                                                                             for k in keys)]
    impls = [i for i in ORDER if any(i in wls[k]["path_steps_per_second"] for k in keys)]
    for i in impls:
        cells = []
        for k in keys:
            b = wls[k]["path_steps_per_second"].get(i)
            lo, hi = wls[k]["spread"].get(i, (None, None))
            busy = b and wls[k]["foreign_cores"][i][wls[k]["reps_path_steps_per_second"][i].index(b)] > FOREIGN_MAX
            cells.append(f"{b / 1e6:8.2f}{'!' if busy else ' '}[{lo / 1e6:6.2f} - {hi / 1e6:6.2f}]" if b else "-")
        lines.append(f"  {_label(i):42s}" + "".join(f"{c:>{col}s}" for c in cells))
    lines.append(f"  ('!': other processes used > {FOREIGN_MAX} cores during that best rep)")
    if report.get("jax", 0) is None:
        lines.append("  JAX: not installed (pip install jax)")
    lines += ["", f"{'ratio (best reps)':34s}{'target':>10s}" + "".join(f"{wls[k]['workload']:>{col}s}" for k in keys)]
    names = list(dict.fromkeys(n for k in keys for n in wls[k]["ratios"]))
    for n in names:
        tgt = next((wls[k]["targets"][n]["minimum"] for k in keys if n in wls[k]["targets"]), None)
        cells = []
        for k in keys:
            v = wls[k]["ratios"].get(n)
            t = wls[k]["targets"].get(n)
            cells.append("-" if v is None else f"{v:6.2f}x {_mark(t['pass']) if t else '(info)'}")
        lines.append(f"  {n:32s}{(f'>= {tgt:g}x' if tgt else ''):>10s}" + "".join(f"{c:>{col}s}" for c in cells))
    for k in keys:
        lines.append(f"  {wls[k]['workload']}: engine results bitwise identical for threads "
                     f"{sorted(wls[k]['digests'])}: {'yes' if wls[k]['identical_across_threads'] else 'NO'}")
    lines += ["", "correctness (peers.py's checks)"]
    for k in keys:
        for i, c in wls[k]["checks"].items():
            if k == "W1":
                s = (f"E[L(w_T)] {c['loss_T_mean']:.6f} vs exact {c['loss_T_exact_mean']:.6f} (z {c['loss_T_z']:+.2f});"
                     f" batch-loss avg {c['batch_loss_avg']:.6f} vs {c['batch_loss_exact']:.6f}"
                     f" (z {c['batch_loss_z']:+.2f}); |z| < 5")
            else:
                s = (f"max err/sqrt(SiiSjj) {c['max_err_corr_units']:.2e} < 6 x {c['stat_se_corr_units']:.2e};"
                     f" max rel err {c['max_rel_err']:.2e}, Frobenius {c['frob_rel_err']:.2e}")
            lines.append(f"  {k} {_label(i):40s} {_mark(c['ok'])}  {s}")
    if "cache_load_seconds" in report:
        lines.append(f"\nnew process, kernels from the disk cache: {report['cache_load_seconds']:.2f} s "
                     "(import + first W2 call)")
    if "wall_seconds" in report:
        lines.append(f"bench wall time {report['wall_seconds']:.0f} s")
    return "\n".join(lines)


def cache_load_seconds() -> float:
    """Time for a new process to import sgdtheory and run a tiny W2 simulation from the disk cache."""
    code = (
        "import time; t = time.perf_counter();"
        "from sgdtheory.bench import w2_problem; from sgdtheory.simulate import simulate;"
        "simulate(w2_problem(), 0.05, n_steps=10, n_paths=4, time_average=('moments',), burn_in=2, n_batches=2);"
        "print(time.perf_counter() - t)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)  # make sure the cache exists
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        _worker(sys.argv[2], sys.argv[3])
    else:
        sys.exit("usage: sgdtheory bench [--quick] [--scale S] [--reps N] [--json PATH]")
