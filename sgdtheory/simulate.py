"""Monte Carlo simulation of SGD and its variants: validation, seeding, chunking, statistics out.

``simulate`` validates its arguments (clear errors naming the parameter and the valid range),
seeds one xoshiro256++ stream per path from ``numpy.random.SeedSequence``, runs the fused Numba
kernel ``_kernels.engine.run_paths`` (compiled for the problem and optimizer by ``_kernels.compose``) in parallel over paths (SGD on a ``GaussianNoiseQuadratic`` with a constant
or power rate: ``_kernels.lanes.run_gaussian_lanes``, 32 paths per SIMD block), and returns a ``SimulationResult``
holding only streamed statistics: observables at the recorded steps, post-burn-in batch sums for
time averages, the final iterates and divergence information.  Memory is
O(paths x (records + batches) x observables), independent of the number of steps.

Reproducibility: a path's random stream depends only on (seed, seed_key, global path index), so
results are bitwise identical for any ``NUMBA_NUM_THREADS`` and any split of the paths into
chunks (``first_path``), and chunks can be concatenated with ``SimulationResult.concatenate``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numba
import numpy as np

from ._kernels import codes
from ._kernels.compose import kernel
from ._kernels.pool import over_paths
from ._kernels.rng import ZIG_FI, ZIG_KI, ZIG_WI, path_states
from . import budget as _budget
from . import interrupts
from .errors import SgdTheoryError, as_float_array, check_float, check_int
from .optimizers import SGD, Optimizer
from .problems import GaussianNoiseQuadratic, LinearRegression, PolynomialFiniteSum1D, Problem, QuadraticFiniteSum
from .sampling import Sampler
from .schedules import Constant, Schedule
from .stats import DEFAULT_LEVEL, Estimate, batch_means_interval, replica_interval

STATE_OBSERVABLES = ("excess_loss", "dist_sq", "moments")
STEP_OBSERVABLES = ("excess_loss", "batch_loss", "grad_sq", "dist_sq", "moments")


class DivergedError(SgdTheoryError):
    """Statistics were requested from a simulation in which some paths diverged."""


def _seed_sequence(seed, seed_key) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):
        return np.random.SeedSequence(seed.entropy, spawn_key=tuple(seed.spawn_key) + tuple(seed_key))
    seed = check_int(seed, "seed", 0)
    return np.random.SeedSequence(seed, spawn_key=tuple(int(k) for k in seed_key))


def _observable_names(selected, d: int) -> list[str]:
    names = []
    for kind in selected:
        if kind == "moments":
            names += [f"mean[{k}]" for k in range(d)]
            names += [f"second[{k},{l}]" for k in range(d) for l in range(k, d)]
        else:
            names.append(kind)
    return names


def _flags(selected, allowed, name: str) -> np.ndarray:
    if isinstance(selected, (str, bytes)) or not isinstance(selected, (tuple, list)):
        raise SgdTheoryError(f"{name} = {selected!r}: expected a tuple of observable names, e.g. ('{allowed[0]}',); "
                             f"valid names: {', '.join(allowed)}")
    selected = tuple(selected)
    for s in selected:
        if s not in allowed:
            raise SgdTheoryError(f"{name}: unknown observable {s!r}; valid: {', '.join(allowed)}")
    return np.array([kind in selected for kind in allowed], dtype=np.bool_)


def stability_limit(problem: Problem, optimizer: Optimizer, sampler: Sampler) -> tuple[float, str]:
    """Largest stable constant learning rate and a description of the criterion used.

    SGD with i.i.d. minibatches on a quadratic finite sum: the mean-square limit from the exact
    second-moment operator (``theory.quadratic_basin``).  Otherwise the deterministic limit on
    the mean Hessian's largest eigenvalue lambda: eta < 2/lambda (GD), 2(1+mu)/lambda (heavy ball),
    2(1+mu)/((1+2mu) lambda) (Nesterov) -- necessary conditions.

    ``PolynomialFiniteSum1D``: the same formulas with lambda = max L'' over the strict local minima,
    i.e. the largest rate at which every local minimum is linearly stable for the noiseless
    iteration (a necessary condition for the run to be able to stay near each of them; at a larger
    rate the sharpest minima repel, which claims about escaping sharp minima do on purpose with
    ``check_stability=False``).  Without a strict local minimum (e.g. L = w^4) the linear criterion
    is vacuous and the limit is +inf.

    Adaptive optimizers (AdaGrad, RMSProp, Adam, AMSGrad): +inf.  Their steps are bounded by a
    multiple of the learning rate when beta1 < sqrt(beta2) (``AdaptiveOptimizer.step_bound``), so no
    rate makes the iterates blow up, and the quadratic-basin limit of SGD does not apply (near a
    minimum they keep moving by O(lr) per step instead of diverging); claims state their own
    conditions and pass ``check_stability=False`` where they want to document that.

    SAM: the limit of its base optimizer (necessary: on a quadratic SAM's step is the base step plus
    a bounded term, eta H eps_hat with |eps_hat| = rho, so it stays bounded exactly when the base
    iteration does; near a minimum it does not converge but settles in a cycle of size O(eta h rho)).

    Any other optimizer: ``SgdTheoryError`` naming it (never another optimizer's limit).  Each optimizer declares
    its own limit (``Optimizer.stability_limit`` in its module); this function is the public entry point.
    """
    return optimizer.stability_limit(problem, sampler)


@dataclass
class SimulationResult:
    """Streamed statistics of an ensemble of independent SGD paths (see ``simulate``)."""

    record_steps: np.ndarray
    record_names: list[str]
    record_values: np.ndarray  # (paths, records, observables)
    average_names: list[str]
    batch_sums: np.ndarray  # (paths, batches, observables): sums over batch_len steps
    batch_len: int
    burn_in: int
    n_steps: int
    final_params: np.ndarray  # (paths, d)
    diverged_at: np.ndarray  # (paths,), -1 if the path did not diverge
    parameters: dict = field(default_factory=dict)
    #: why the run diverges in mean square although no path has crossed the threshold yet (or None)
    diverging: str | None = None

    @property
    def n_paths(self) -> int:
        return int(self.diverged_at.shape[0])

    @property
    def n_diverged(self) -> int:
        """Paths that blew up; all paths when the second moment provably grows geometrically (``diverging``)."""
        if self.diverging:
            return self.n_paths
        return int(np.count_nonzero(self.diverged_at >= 0))

    @property
    def status(self) -> str:
        return "diverged" if self.n_diverged else "ok"

    def _require_ok(self):
        blown = int(np.count_nonzero(self.diverged_at >= 0))
        if blown:
            first = int(self.diverged_at[self.diverged_at >= 0].min())
            raise DivergedError(
                f"diverged: {blown} of {self.n_paths} paths blew up (first at step {first}); "
                "no statistics are reported for a diverged run"
            )
        if self.diverging:
            raise DivergedError(f"diverging: {self.diverging}; no statistics are reported for a diverging run")

    def _column(self, names, name, what):
        if name not in names:
            raise SgdTheoryError(f"{what}: {name!r} was not recorded; available: {', '.join(names)}")
        return names.index(name)

    def ensemble_mean(self, name: str) -> np.ndarray:
        """Mean over paths of observable ``name`` at each recorded step."""
        self._require_ok()
        return self.record_values[:, :, self._column(self.record_names, name, "ensemble_mean")].mean(axis=0)

    def ensemble_var(self, name: str) -> np.ndarray:
        """Unbiased variance over paths of observable ``name`` at each recorded step."""
        self._require_ok()
        return self.record_values[:, :, self._column(self.record_names, name, "ensemble_var")].var(axis=0, ddof=1)

    def ensemble_estimate(self, name: str, record: int = -1, level: float = DEFAULT_LEVEL) -> Estimate:
        """Replica interval for the mean of ``name`` at recorded step index ``record``."""
        self._require_ok()
        col = self._column(self.record_names, name, "ensemble_estimate")
        return replica_interval(self.record_values[:, record, col], level)

    def path_averages(self, name: str) -> np.ndarray:
        """Post-burn-in time average of ``name`` on each path, shape (paths,)."""
        self._require_ok()
        col = self._column(self.average_names, name, "path_averages")
        return self.batch_sums[:, :, col].sum(axis=1) / (self.batch_sums.shape[1] * self.batch_len)

    def batch_means(self, name: str, path: int = 0) -> np.ndarray:
        """The batch means of ``name`` along one path."""
        self._require_ok()
        col = self._column(self.average_names, name, "batch_means")
        return self.batch_sums[path, :, col] / self.batch_len

    def time_average(self, name: str, level: float = DEFAULT_LEVEL) -> Estimate:
        """Time average over all paths; interval from the paths as independent replicas."""
        return replica_interval(self.path_averages(name), level)

    def time_average_batch_means(self, name: str, path: int = 0, level: float = DEFAULT_LEVEL) -> Estimate:
        """Time average along one path with a batch-means interval."""
        return batch_means_interval(self.batch_means(name, path), level)

    @staticmethod
    def concatenate(parts: list[SimulationResult]) -> SimulationResult:
        """Join results of consecutive path chunks (same settings) into one."""
        first = parts[0]
        return SimulationResult(
            first.record_steps, first.record_names, np.concatenate([p.record_values for p in parts]),
            first.average_names, np.concatenate([p.batch_sums for p in parts]), first.batch_len,
            first.burn_in, first.n_steps, np.concatenate([p.final_params for p in parts]),
            np.concatenate([p.diverged_at for p in parts]), dict(first.parameters),
            next((p.diverging for p in parts if p.diverging), None),
        )


def simulate(
    problem: Problem,
    lr,
    *,
    optimizer: Optimizer | None = None,
    sampler: Sampler | None = None,
    n_steps: int,
    n_paths: int,
    seed=0,
    seed_key: tuple = (),
    w0=None,
    record_steps=(),
    record=("excess_loss",),
    time_average=(),
    burn_in: int = 0,
    n_batches: int = 20,
    first_path: int = 0,
    check_stability: bool = True,
    divergence_threshold: float | None = None,
) -> SimulationResult:
    """Run ``n_paths`` independent paths of ``n_steps`` optimizer steps on ``problem``.

    Args:
        problem: a ``QuadraticFiniteSum``, ``LinearRegression``, ``GaussianNoiseQuadratic`` (or
            ``SaddleQuadratic``) or ``PolynomialFiniteSum1D`` (w* = its ``reference``).
        lr: a float (constant learning rate) or any ``schedules.Schedule`` (Constant, Power,
            TimeBased, Exponential, StepDecay, Triangular, CosineRestarts).
        optimizer: default ``SGD()``; any of ``sgdtheory.optimizers`` (SGD, HeavyBall, Nesterov,
            PreconditionedSGD, AdaGrad, RMSProp, Adam, AMSGrad, McAllesterAdam, AdamW, or SAM around
            any of these), state starting at zero.
        sampler: default ``Sampler(1, "with_replacement")``.
        seed, seed_key: the paths use ``SeedSequence(seed, spawn_key=seed_key + (path,))``.
        w0: start (default the minimiser w*; for ``PolynomialFiniteSum1D`` its reference point).
        record_steps: steps k in [0, n_steps] at which the ``record`` observables (any of
            "excess_loss", "dist_sq", "moments") of w_k are kept for every path.
        time_average: observables ("excess_loss", "batch_loss", "grad_sq", "dist_sq", "moments")
            averaged over the post-burn-in steps; the remaining steps are split into
            ``n_batches`` equal batches (the n_steps - burn_in mod n_batches leftover steps are
            added to the burn-in).
        first_path: global index of the first path (for chunked runs).
        check_stability: refuse a learning rate beyond ``stability_limit`` (set False to watch a
            run diverge; diverged paths are then counted and reported, never averaged).
    """
    optimizer = SGD() if optimizer is None else optimizer
    sampler = Sampler() if sampler is None else sampler
    if not isinstance(problem, (QuadraticFiniteSum, LinearRegression, GaussianNoiseQuadratic,
                                PolynomialFiniteSum1D)):
        raise SgdTheoryError(f"problem: expected a sgdtheory problem, got {type(problem).__name__}")
    if not isinstance(optimizer, Optimizer):
        raise SgdTheoryError(f"optimizer: expected an sgdtheory optimizer, got {type(optimizer).__name__}")
    schedule = lr if isinstance(lr, Schedule) else Constant(lr)
    n_steps = check_int(n_steps, "n_steps", 1)
    n_paths = check_int(n_paths, "n_paths", 1)
    first_path = check_int(first_path, "first_path", 0)
    batch = sampler.validate_for(problem.n)
    optimizer.validate_for(problem.d)
    if isinstance(problem, GaussianNoiseQuadratic) and sampler.scheme not in ("with_replacement", "full"):
        raise SgdTheoryError("sampling: a GaussianNoiseQuadratic draws fresh noise each step; use with_replacement")
    with _serial_blas():
        if check_stability and not _provably_stable(problem, optimizer, schedule):
            limit, how = stability_limit(problem, optimizer, sampler)
            if schedule.max_lr >= limit:
                raise SgdTheoryError(
                    f"lr = {schedule.max_lr:.6g} is beyond the stability limit: valid range is (0, {limit:.6g}) "
                    f"for {type(optimizer).__name__} with batch_size = {batch} ({sampler.scheme}) on this problem "
                    f"[{how}]; pass check_stability=False to simulate a diverging run"
                )
        kp = problem.kernel_data()
        diverging = None if check_stability else _diverging(problem, optimizer, sampler, schedule)
    d = kp.d
    w_start = kp.w_star.copy() if w0 is None else as_float_array(w0, "w0", 1)
    if w_start.shape != (d,):
        raise SgdTheoryError(f"w0: expected shape ({d},), got {w_start.shape}")
    if isinstance(record_steps, (str, bytes)) or not hasattr(record_steps, "__iter__"):
        raise SgdTheoryError(f"record_steps = {record_steps!r}: expected a sequence of integer steps in [0, {n_steps}]")
    rec_steps = np.array(sorted(check_int(s, f"record_steps[{k}]", 0, n_steps) for k, s in enumerate(record_steps)),
                         dtype=np.int64)
    if rec_steps.size and (rec_steps[0] < 0 or rec_steps[-1] > n_steps):
        raise SgdTheoryError(f"record_steps: every step must lie in [0, {n_steps}]")
    rec_flags = _flags(record, STATE_OBSERVABLES, "record")
    tavg_flags = _flags(time_average, STEP_OBSERVABLES, "time_average")
    rec_names = _observable_names([k for k in STATE_OBSERVABLES if k in record], d)
    avg_names = _observable_names([k for k in STEP_OBSERVABLES if k in time_average], d)
    burn_in = check_int(burn_in, "burn_in", 0, n_steps - 1)
    if avg_names:
        n_batches = check_int(n_batches, "n_batches", 2, n_steps - burn_in)
        batch_len = (n_steps - burn_in) // n_batches
        burn_in = n_steps - n_batches * batch_len
    else:
        n_batches, batch_len = 0, 1
    if divergence_threshold is None:
        divergence_threshold = 1e12 * (1.0 + float(np.sum((w_start - kp.w_star) ** 2)))
    divergence_threshold = check_float(divergence_threshold, "divergence_threshold", 0.0, None)
    n_rec = rec_steps.size * len(rec_names) + n_batches * len(avg_names) + d + 6
    if _budget.charge(schedule.max_lr, n_paths, n_steps, 8.0 * n_paths * n_rec):
        return _planned(rec_steps, rec_names, avg_names, n_paths, n_batches, batch_len, burn_in, n_steps, w_start,
                        diverging)

    seq = _seed_sequence(seed, seed_key)
    rec_out = np.zeros((n_paths, rec_steps.size, len(rec_names)))
    tavg_out = np.zeros((n_paths, n_batches, len(avg_names)))
    w_final = np.zeros((n_paths, d))
    diverged_at = np.zeros(n_paths, dtype=np.int64)
    noise_scale = 1.0 / np.sqrt(batch)
    # chunks of paths, so that Ctrl-C is answered between chunks; a path's stream depends only on its global
    # index, so the result is bitwise the same for any chunking (see the module docstring)
    chunk = max(1, min(n_paths, int(CHUNK_PATH_STEPS // n_steps)))
    gaussian = isinstance(problem, GaussianNoiseQuadratic)
    lanes = gaussian and type(optimizer) is SGD and schedule.code in (codes.SCHEDULE_CONSTANT, codes.SCHEDULE_POWER)
    run_paths = None if lanes else kernel("engine", "run_paths", problem, optimizer)
    run_gaussian_lanes = kernel("lanes", "run_gaussian_lanes") if lanes else None  # cached by content (compose)
    A_rows, Hs_rows = (None, None) if lanes else (_aligned(kp.A), _aligned(kp.Hs))
    for a in range(0, n_paths, chunk):
        b = min(n_paths, a + chunk)
        if lanes:  # the same recursion, observables and streams, 32 paths per SIMD block (_kernels.lanes)
            run_gaussian_lanes(
                kp.Hs[0], kp.A, float(kp.v[0]), noise_scale, kp.w_star, kp.Hbar, schedule.code, schedule.parameters(),
                n_steps, w_start, path_states(seq, first_path + a, b - a), ZIG_KI, ZIG_WI, ZIG_FI,
                rec_steps, rec_flags, rec_out[a:b],
                burn_in, batch_len, tavg_flags, tavg_out[a:b],
                float(divergence_threshold), w_final[a:b], diverged_at[a:b],
            )
            interrupts.check()
            continue
        over_paths(
            run_paths, b - a, A_rows, Hs_rows, kp.v, noise_scale, kp.w_star, kp.Hbar, kp.excess_poly,
            codes.SAMPLING_FULL if gaussian else sampler.code,
            batch, optimizer.hyperparameters(), optimizer.state_size(d),
            schedule.code, schedule.parameters(),
            n_steps, w_start, path_states(seq, first_path + a, b - a), ZIG_KI, ZIG_WI, ZIG_FI,
            rec_steps, rec_flags, rec_out[a:b],
            burn_in, batch_len, tavg_flags, tavg_out[a:b],
            float(divergence_threshold), w_final[a:b], diverged_at[a:b],
        )
        interrupts.check()  # a Ctrl-C that arrived while Numba compiled the kernel (see sgdtheory.interrupts)
    params = {
        "problem": getattr(problem, "name", type(problem).__name__), "n": problem.n, "d": d,
        "optimizer": type(optimizer).__name__, "optimizer_hyperparameters": optimizer.hyperparameters().tolist(),
        "schedule": type(schedule).__name__, "schedule_parameters": schedule.parameters().tolist(),
        "batch_size": batch, "sampling": sampler.scheme, "n_steps": n_steps, "n_paths": n_paths,
        "burn_in": burn_in, "n_batches": n_batches, "seed": int(_seed_sequence(seed, ()).entropy),
        "seed_key": list(seed_key), "first_path": first_path, "threads": numba.get_num_threads(),
    }
    return SimulationResult(rec_steps, rec_names, rec_out, avg_names, tavg_out, batch_len, burn_in,
                            n_steps, w_final, diverged_at, params, diverging)


def _serial_blas():
    """BLAS on one thread for the set-up's small linear algebra (least squares, eigenvalues).

    Right after a parallel Numba kernel its OpenMP workers still spin on both cores, and a multi-threaded
    OpenBLAS call then waits for them: a 1024 x 16 least-squares solve took 80-120 ms instead of 0.2 ms,
    a fifth of a benchmark call.  threadpoolctl is a dependency; without it the limit is skipped."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        from contextlib import nullcontext

        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


#: path-steps per engine call: larger runs are split into chunks of paths (Ctrl-C is answered between chunks)
CHUNK_PATH_STEPS = 5e7


def _aligned(a: np.ndarray, alignment: int = 64) -> np.ndarray:
    """``a`` as a C-contiguous array whose data start on a multiple of ``alignment`` bytes (a copy unless it
    already does; same values, so the same results).  The engine reads the problem's rows with 32-byte vector
    loads: with X 16 bytes off a 32-byte boundary (as NumPy's allocator often leaves it) half of them straddle
    two cache lines, and W1 ran 9% slower (21.0 instead of 23.0 million path-steps/s at one thread)."""
    if a.flags.c_contiguous and a.ctypes.data % alignment == 0:
        return a
    buf = np.empty(a.nbytes + alignment, dtype=np.uint8)
    start = (-buf.ctypes.data) % alignment
    out = buf[start:start + a.nbytes].view(a.dtype).reshape(a.shape)
    out[...] = a
    return out


def _provably_stable(problem, optimizer, schedule) -> bool:
    """True when plain SGD's largest rate is provably below ``stability_limit`` by a cheap sufficient condition.

    If every per-example Hessian H_i is positive semidefinite with largest eigenvalue <= c (linear regression:
    c = max_i |x_i|^2), any minibatch mean M_B of them satisfies 0 <= M_B <= c I, hence M_B^2 <= c M_B and
    E|(I - eta M_B) v|^2 <= |v|^2 - eta (2 - eta c) v.Hbar v < |v|^2 for every v != 0 when eta c < 2 (Hbar = E M_B
    is positive definite): the second-moment recursion contracts, so eta < 2/c is below the exact mean-square
    limit and below the gradient-descent limit 2/lambda_max(Hbar) (lambda_max(Hbar) <= c), whatever the sampling.
    This skips the exact limit's d^2 x d^2 generalised eigenproblem (0.1-0.5 s at d = 16) for the common case; a
    rate beyond 2/c still gets the exact criterion.
    """
    if type(optimizer) is not SGD:
        return False
    c = _psd_curvature_bound(problem)
    return c is not None and schedule.max_lr * c < 2.0


def _psd_curvature_bound(problem) -> float | None:
    """max_i lambda_max(H_i) when every per-example Hessian H_i is PSD, else None (see ``_provably_stable``)."""
    if isinstance(problem, LinearRegression):
        return float(np.max(np.einsum("ij,ij->i", problem.X, problem.X)))
    if isinstance(problem, QuadraticFiniteSum) and problem.n * problem.d ** 3 <= 10**7:
        eig = np.linalg.eigvalsh(problem.H)
        if eig.min() >= 0.0:
            return float(eig.max())
    return None


def _diverging(problem, optimizer, sampler, schedule) -> str | None:
    """Why a run with ``check_stability=False`` diverges in mean square, or None.

    Exact only where ``stability_limit`` is the exact mean-square criterion (SGD, i.i.d. minibatches, quadratic
    finite sum, constant rate): beyond it the second-moment operator has spectral radius > 1, so E|w - w*|^2 grows
    geometrically (the noise excites every direction), however few steps the run has taken.  Elsewhere the limit
    is only a necessary condition and nothing is claimed."""
    if not (isinstance(schedule, Constant) and isinstance(optimizer, SGD) and type(optimizer) is SGD
            and sampler.scheme in ("with_replacement", "without_replacement")
            and isinstance(problem, (QuadraticFiniteSum, LinearRegression)) and problem.d <= 24):
        return None
    if _provably_stable(problem, optimizer, schedule):
        return None
    limit, how = stability_limit(problem, optimizer, sampler)
    if schedule.max_lr > limit:
        return (f"lr = {schedule.max_lr:.6g} is beyond the mean-square stability limit {limit:.6g} [{how}], so the "
                "second moment E|w - w*|^2 grows geometrically")
    return None


def _planned(rec_steps, rec_names, avg_names, n_paths, n_batches, batch_len, burn_in, n_steps, w_start, diverging):
    """The empty result of a planning pass (``budget.planning``): right shapes, zeros, nothing simulated."""
    return SimulationResult(rec_steps, rec_names, np.zeros((n_paths, rec_steps.size, len(rec_names))), avg_names,
                            np.zeros((n_paths, n_batches, len(avg_names))), batch_len, burn_in, n_steps,
                            np.tile(w_start, (n_paths, 1)), np.full(n_paths, -1, dtype=np.int64),
                            {"planned": True}, diverging)


__all__ = ["simulate", "SimulationResult", "DivergedError", "stability_limit", "codes"]
