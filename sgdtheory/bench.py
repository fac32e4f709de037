"""``sgdtheory bench``: throughput of the engine as ratios measured in one run.

Two workloads (foundation issue, item 11):

* W1 linreg-SGD: n = 1024, d = 16, X ~ N(0, 1), y = X w_true + 0.5 noise; 4096 paths from w = 0;
  B = 8 with replacement; eta = 0.02; 2000 steps; ensemble mean and variance of the full loss at
  the end, and the time-averaged minibatch loss over the last 1000 steps.
* W2 OU-Langevin: d = 8, H SPD with condition number 10, noise covariance C = L L^T not commuting
  with H; w <- w - eta (H w + L xi); eta = 0.05; 8192 paths; 4000 steps, burn-in 1000; the
  stationary covariance against the exact discrete Lyapunov solution S = A S A^T + eta^2 C.

Each is timed for the engine (1 and 2 threads), the single-purpose hand-written Numba kernels of the shared
benchmark ``peers.py`` (vendored in ``_kernels.hand``; same threads), a plain-numpy ensemble implementation
(all paths as one array, one vectorised update per step) and the RNG floor (the same random numbers drawn
in bulk by the same generators, nothing else).  JAX is not timed here (``peers.py`` does, when installed).  The machine's vCPUs are shared and absolute
speed drifts, so the ratios within one run are what count.  Wall-clock times are reported,
never asserted in tests.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from dataclasses import dataclass

import numba
import numpy as np

from ._kernels import hand
from ._kernels.floor import draw_indices, draw_normals
from ._kernels.rng import ZIG_FI, ZIG_KI, ZIG_WI, path_states
from .problems import GaussianNoiseQuadratic, LinearRegression
from .sampling import Sampler
from .simulate import simulate


@dataclass(frozen=True)
class Workload:
    name: str
    n_paths: int
    n_steps: int

    @property
    def path_steps(self) -> int:
        return self.n_paths * self.n_steps


def w1_problem(seed: int = 20240601) -> LinearRegression:
    """W1's data: X ~ N(0,1) (1024 x 16), y = X w_true + 0.5 noise."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    X = rng.standard_normal((1024, 16))
    y = X @ rng.standard_normal(16) + 0.5 * rng.standard_normal(1024)
    return LinearRegression(X, y, name="W1 linear regression")


def w2_problem(seed: int = 20240602) -> GaussianNoiseQuadratic:
    """W2's OU process: H = Q diag(1..10) Q^T (condition number 10), C = L L^T with a random L."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    Q, _ = np.linalg.qr(rng.standard_normal((8, 8)))
    H = Q @ np.diag(np.linspace(1.0, 10.0, 8)) @ Q.T
    L = rng.standard_normal((8, 8)) / np.sqrt(8)
    return GaussianNoiseQuadratic(H, L @ L.T, name="W2 Ornstein-Uhlenbeck")


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _w1_engine(problem, wl, seed):
    res = simulate(problem, 0.02, sampler=Sampler(8), n_steps=wl.n_steps, n_paths=wl.n_paths, seed=seed,
                   w0=np.zeros(problem.d), record_steps=[wl.n_steps], record=("excess_loss",),
                   time_average=("batch_loss",), burn_in=wl.n_steps // 2, n_batches=20)
    return res


def _w1_numpy(problem, wl, seed):
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    X, y = problem.X, problem.y
    W = np.zeros((wl.n_paths, problem.d))
    acc = np.zeros(wl.n_paths)
    for t in range(wl.n_steps):
        idx = rng.integers(0, problem.n, size=(wl.n_paths, 8))
        Xb = X[idx]
        r = np.einsum("pbk,pk->pb", Xb, W) - y[idx]
        W -= 0.02 * np.einsum("pb,pbk->pk", r, Xb) / 8
        if t >= wl.n_steps // 2:
            acc += 0.5 * np.mean(r * r, axis=1)
    full = 0.5 * np.mean((W @ X.T - y) ** 2, axis=1)
    return full.mean(), full.var(ddof=1), acc.mean() / (wl.n_steps - wl.n_steps // 2)


def _w2_engine(problem, wl, seed):
    return simulate(problem, 0.05, n_steps=wl.n_steps, n_paths=wl.n_paths, seed=seed,
                    time_average=("moments",), burn_in=1000, n_batches=20)


def _w2_numpy(problem, wl, seed):
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    H, L = problem.H, problem.noise_factor
    W = np.zeros((wl.n_paths, problem.d))
    S = np.zeros((problem.d, problem.d))
    for t in range(wl.n_steps):
        W -= 0.05 * (W @ H.T + rng.standard_normal(W.shape) @ L.T)
        if t >= 1000:
            S += W.T @ W
    return S / (wl.n_paths * (wl.n_steps - 1000))


def _w2_covariance(res, d):
    """Stationary covariance from the engine's time-averaged second moments (mean is 0 at w*)."""
    S = np.zeros((d, d))
    for k in range(d):
        for l in range(k, d):
            S[k, l] = S[l, k] = res.path_averages(f"second[{k},{l}]").mean()
    return S


def _digest(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


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


def run(scale: float = 1.0, log=print) -> dict:
    """Run both workloads (paths scaled by ``scale``) and return the throughputs and ratios."""
    seed = 12345
    max_threads = numba.config.NUMBA_NUM_THREADS
    threads = sorted({1, min(2, max_threads)})
    report = {"threads_available": max_threads, "workloads": {}}
    log(f"sgdtheory bench: numba {numba.__version__}, numpy {np.__version__}, threads {threads}")
    p1, p2 = w1_problem(), w2_problem()
    wls = {"W1": Workload("W1 linreg-SGD", max(64, int(4096 * scale)), 2000),
           "W2": Workload("W2 OU-Langevin", max(64, int(8192 * scale)), 4000)}
    # warm up (compile or load every kernel) on tiny sizes
    numba.set_num_threads(threads[-1])
    _w1_engine(p1, Workload("", 4, 40), seed)
    _w2_engine(p2, Workload("", 4, 1020), seed)
    draw_normals(path_states(np.random.SeedSequence(0), 0, 2), 2, 8, ZIG_KI, ZIG_WI, ZIG_FI, np.zeros(2))
    draw_indices(path_states(np.random.SeedSequence(0), 0, 2), 2, 1024, 8, np.zeros(2, dtype=np.int64))
    hand.w1_numba(p1.X, p1.y, 0.02, 2, 2, 8, 1)
    hand.w2_numba(p2.H, p2.noise_factor, 0.05, 2, 2, 1, 2)
    for key, wl in wls.items():
        prob = p1 if key == "W1" else p2
        engine_fn = _w1_engine if key == "W1" else _w2_engine
        numpy_fn = _w1_numpy if key == "W1" else _w2_numpy
        rows, digests = {}, {}
        for th in threads:
            numba.set_num_threads(th)
            dt, res = _timed(lambda: engine_fn(prob, wl, seed))
            rows[f"engine, {th} thread(s)"] = wl.path_steps / dt
            digests[th] = _digest(res.record_values, res.batch_sums, res.final_params)
            states = path_states(np.random.SeedSequence(seed), 0, wl.n_paths)
            if key == "W1":
                dtf, _ = _timed(lambda: draw_indices(states, wl.n_steps, prob.n, 8, np.zeros(wl.n_paths, dtype=np.int64)))
            else:
                dtf, _ = _timed(lambda: draw_normals(states, wl.n_steps, prob.d, ZIG_KI, ZIG_WI, ZIG_FI, np.zeros(wl.n_paths)))
            rows[f"RNG floor, {th} thread(s)"] = wl.path_steps / dtf
            if key == "W1":
                dth, _ = _timed(lambda: hand.w1_numba(prob.X, prob.y, 0.02, wl.n_paths, wl.n_steps, 8, seed))
            else:
                dth, _ = _timed(lambda: hand.w2_numba(prob.H, prob.noise_factor, 0.05, wl.n_paths, wl.n_steps, 1000, seed))
            rows[f"hand Numba kernel, {th} thread(s)"] = wl.path_steps / dth
            if th == threads[-1]:
                engine_res = res
        numpy_wl = Workload(wl.name, max(64, wl.n_paths // 4), wl.n_steps)
        dtn, numpy_out = _timed(lambda: numpy_fn(prob, numpy_wl, seed))
        rows["plain numpy ensemble"] = numpy_wl.path_steps / dtn
        top = threads[-1]
        ratios = {
            **{f"engine / hand kernel, {th} thread(s)": rows[f"engine, {th} thread(s)"]
               / rows[f"hand Numba kernel, {th} thread(s)"] for th in threads},
            "engine / numpy": rows[f"engine, {top} thread(s)"] / rows["plain numpy ensemble"],
            "engine / RNG floor (same threads)": rows[f"engine, {top} thread(s)"] / rows[f"RNG floor, {top} thread(s)"],
            f"speed-up 1 -> {top} threads": rows[f"engine, {top} thread(s)"] / rows["engine, 1 thread(s)"],
        }
        entry = {"workload": wl.name, "path_steps_per_second": rows, "ratios": ratios,
                 "identical_across_threads": len(set(digests.values())) == 1, "digests": digests}
        if key == "W1":
            ex = engine_res.ensemble_mean("excess_loss")[0]
            entry["check"] = {"final excess loss (engine mean)": float(ex),
                              "time-averaged batch loss (engine)": engine_res.time_average("batch_loss").value,
                              "time-averaged batch loss (numpy)": float(numpy_out[2])}
        else:
            from scipy.linalg import solve_discrete_lyapunov

            S = _w2_covariance(engine_res, prob.d)
            A = np.eye(prob.d) - 0.05 * prob.H
            S_exact = solve_discrete_lyapunov(A, 0.05**2 * prob.C)
            entry["check"] = {"max |S_engine - S_exact| / max |S_exact|": float(np.abs(S - S_exact).max() / np.abs(S_exact).max()),
                              "max |S_numpy - S_exact| / max |S_exact|": float(np.abs(numpy_out - S_exact).max() / np.abs(S_exact).max())}
        report["workloads"][key] = entry
        log(f"\n{wl.name}: {wl.n_paths} paths x {wl.n_steps} steps (numpy: {numpy_wl.n_paths} paths)")
        for name, v in rows.items():
            log(f"  {name:32s} {v / 1e6:8.2f} M path-steps/s")
        for name, v in ratios.items():
            log(f"  {name:32s} {v:8.2f} x")
        log(f"  identical results for threads {threads}: {entry['identical_across_threads']}")
        for name, v in entry["check"].items():
            log(f"  {name}: {v:.4g}")
    numba.set_num_threads(max_threads)
    report["cache_load_seconds"] = cache_load_seconds()
    log(f"\nnew process, kernels from the disk cache: {report['cache_load_seconds']:.2f} s (import + first W2 call)")
    return report
