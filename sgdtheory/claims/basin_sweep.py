"""The quadratic-basin instance and its learning-rate sweep, shared by claims B3, B4, B5, E3, E4.

A ``BasinInstance`` is a quadratic finite sum re-centred at its minimiser plus an i.i.d. minibatch
sampler; ``run_sweep`` simulates SGD at a grid of learning rates and keeps, for every path, the
post-burn-in time averages of L(w_t) - L(Phi*) and of |g_hat_t|^2 (independent replicas).

Burn-in and averaging lengths come from the exact second-moment operator: tau = 1/(1 - rho(T(eta)))
steps per e-fold of relaxation; the burn-in is ln(1e5) tau (the start's bias is below 1e-5 of the
signal) and the average runs over 100 tau (quick) or 400 tau (full).

The main sweep also runs a *pilot* on its own seed stream (fixed master seed ``PILOT_SEED``, so the plan does
not depend on the run's seed; an eighth of the paths, a quarter of the averaging length): its per-path spread, scaled by the averaging lengths and path counts, gives the
*planned* standard error of every main-run mean, so that fit designs and check roles (B4, E4) are fixed
before the main measurement is looked at.  The time average of a geometrically ergodic chain over N steps
has variance sigma_inf^2 / N + O(N^-2) (sigma_inf^2 the asymptotic variance), so the scaling is exact to
O(tau / N).  Sweeps are memoised per process, keyed by the instance's content (not its id).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..config import FINITE_SUM, schema
from ..errors import ConfigError, SgdTheoryError, check_float
from ..problems import LinearRegression, QuadraticFiniteSum
from ..sampling import Sampler
from ..simulate import DivergedError, simulate
from ..stats import Estimate, replica_interval
from ..theory.quadratic_basin import QuadraticBasin
from .base import Settings

#: learning rates of the main sweep (B4, B5, E3, E4), as fractions of the stability limit eta_c
ETA_FRACTIONS = (0.0125, 0.025, 0.05, 0.1, 0.2, 0.4)
#: learning rates of the rate sweep (B3): small enough that the exact local log-log slope of
#: L(eta) - L* is within 0.005 of its limit 1 on the default instance (checked at run time)
RATE_FRACTIONS = (0.002, 0.004, 0.008)


@dataclass(frozen=True, eq=False)
class BasinInstance:
    """A quadratic basin (per-example g_i, H_i, c_i at the minimiser) and a minibatch sampler.

    ``etas`` optionally fixes the learning-rate grid (absolute values, each in (0, eta_c));
    by default the grid is ``ETA_FRACTIONS`` times eta_c.
    """

    problem: QuadraticFiniteSum
    sampler: Sampler = Sampler(1, "with_replacement")
    etas: tuple[float, ...] | None = None
    name: str = "default"
    basin: QuadraticBasin = field(init=False, repr=False)

    def __post_init__(self):
        if self.sampler.scheme not in ("with_replacement", "without_replacement"):
            raise SgdTheoryError(
                f"sampling: the quadratic-basin theory needs i.i.d. minibatches; got {self.sampler.scheme!r} "
                "(valid: with_replacement, without_replacement)"
            )
        p = self.problem.at_minimum()
        object.__setattr__(self, "problem", p)
        object.__setattr__(self, "basin", QuadraticBasin(p.g, p.H, self.sampler.validate_for(p.n), self.sampler.scheme))
        eta_c = self.basin.stability_limit()
        if self.etas is not None:
            if isinstance(self.etas, (str, bytes)):
                raise SgdTheoryError(f"eta = {self.etas!r}: expected a list of learning rates")
            etas = tuple(check_float(e, f"eta[{k}]") for k, e in enumerate(self.etas))
            if len(etas) < 3:
                raise SgdTheoryError(f"eta: need at least 3 learning rates for the fits, got {len(etas)}")
            for k, e in enumerate(etas):
                if 0.0 < e < 1e-10 * eta_c:
                    raise SgdTheoryError(
                        f"eta[{k}] = {e:g} is too small: valid range is [{1e-10 * eta_c:.3g}, {eta_c:.6g}) (1e-10 x the "
                        "stability limit; below it the second moment does not relax in float64 and a run would need "
                        "more than 1e10 steps)")
                if not 0.0 < e < eta_c:
                    raise SgdTheoryError(
                        f"eta[{k}] = {e:g} is beyond the stability limit: valid range is (0, {eta_c:.6g}) "
                        f"for batch_size = {self.basin.batch_size} ({self.basin.sampling})"
                    )
            if len(set(etas)) != len(etas):
                raise SgdTheoryError(f"eta: duplicate learning rates in {list(etas)}; the grid's rates must be distinct")
            object.__setattr__(self, "etas", tuple(sorted(etas)))

    @property
    def grid(self) -> np.ndarray:
        """The main learning-rate grid: the user's ``etas`` or ``ETA_FRACTIONS`` x eta_c."""
        if self.etas is not None:
            return np.array(self.etas)
        return np.array(ETA_FRACTIONS) * self.basin.stability_limit()

    @property
    def rate_grid(self) -> np.ndarray:
        """The small-eta grid of the order fit (B3): ``RATE_FRACTIONS`` x eta_c."""
        return np.array(RATE_FRACTIONS) * self.basin.stability_limit()

    @property
    def min_loss(self) -> float:
        """L(Phi*) = mean_i c_i at the minimiser."""
        return float(self.problem.c.mean())

    def describe(self) -> dict:
        return {"name": self.name, "n": self.problem.n, "d": self.problem.d,
                "batch_size": self.basin.batch_size, "sampling": self.basin.sampling,
                "L_star": self.min_loss, "eta_c": self.basin.stability_limit(),
                "eta_grid": self.grid.tolist(), "mean_sq_grad": float(np.mean(np.sum(self.problem.g**2, axis=1)))}


def default_instance() -> BasinInstance:
    """n = 6 examples in d = 2; one per-example Hessian is indefinite; L(Phi*) = 1; E|g_i|^2 = 1.6."""
    g = [[1.0, 0.5], [-0.8, 1.2], [0.6, -1.5], [-1.2, -0.4], [0.9, 0.8], [-0.5, -0.6]]
    H = [[[2.0, 0.3], [0.3, 0.5]], [[0.5, -0.4], [-0.4, 1.5]], [[1.5, 0.6], [0.6, 1.0]],
         [[0.3, 0.0], [0.0, 2.0]], [[1.2, -0.5], [-0.5, 0.4]], [[-0.5, 0.2], [0.2, 0.6]]]
    c = [1.0, 0.5, 1.5, 1.0, 0.8, 1.2]
    return BasinInstance(QuadraticFiniteSum(g, H, c, name="McAllester basin, n=6, d=2"), name="default")


PROBLEM_FIELDS = ("g", "H", "c", "anchor", "X", "y", "name")
EXPERIMENT_FIELDS = ("batch_size", "sampling", "eta")


@schema('B3/B4/B5/E3/E4/E6/E9', {
    "problem": FINITE_SUM,
    "experiment": {"batch_size": "int", "sampling": "str", "eta": "num[]!"},
})
def instance_from_config(cfg: dict) -> BasinInstance:
    """Build an instance from a parsed TOML/JSON config (see ``sgdtheory.config``).

    [problem] either g (n x d), H (n x d x d) and optional c (n), anchor (d); or X (n x d), y (n).
    [experiment] optional batch_size, sampling, eta (list).
    """
    prob = cfg.get("problem")
    if not isinstance(prob, dict):
        raise ConfigError("problem: missing section [problem] (with g and H, or X and y)")
    for key in prob:
        if key not in PROBLEM_FIELDS:
            raise ConfigError(f"problem.{key}: unknown field; valid: {', '.join(PROBLEM_FIELDS)}")
    for key in cfg.get("experiment", {}) if isinstance(cfg.get("experiment", {}), dict) else ():
        if key not in EXPERIMENT_FIELDS:
            raise ConfigError(f"experiment.{key}: unknown field; valid: {', '.join(EXPERIMENT_FIELDS)}")
    try:
        if "X" in prob or "y" in prob:
            for key in ("X", "y"):
                if key not in prob:
                    raise ConfigError(f"problem.{key}: required for a linear-regression problem")
            problem = LinearRegression(prob["X"], prob["y"], name=prob.get("name", "user linear regression")).as_quadratic()
        else:
            for key in ("g", "H"):
                if key not in prob:
                    raise ConfigError(f"problem.{key}: required (per-example gradients g: n x d, Hessians H: n x d x d)")
            problem = QuadraticFiniteSum(prob["g"], prob["H"], prob.get("c"), prob.get("anchor"),
                                         name=prob.get("name", "user quadratic basin"))
    except ConfigError:
        raise
    except SgdTheoryError as exc:
        raise ConfigError(f"problem.{exc}") from None
    exp = cfg.get("experiment", {})
    if not isinstance(exp, dict):
        raise ConfigError("experiment: must be a table")
    try:
        sampler = Sampler(exp.get("batch_size", 1), exp.get("sampling", "with_replacement"))
        etas = exp.get("eta")
        if etas is not None and (not isinstance(etas, list) or not all(isinstance(e, (int, float)) for e in etas)):
            raise SgdTheoryError("eta: expected a list of numbers")
        return BasinInstance(problem, sampler, None if etas is None else tuple(etas), name=prob.get("name", "user"))
    except ConfigError:
        raise
    except SgdTheoryError as exc:
        raise ConfigError(f"experiment.{exc}") from None


@dataclass
class Sweep:
    """Per-path time averages at each learning rate of the grid (independent replicas)."""

    etas: np.ndarray
    excess: list[np.ndarray]  # per eta: (paths,) time averages of L(w_t) - L*
    grad_sq: list[np.ndarray]  # per eta: (paths,) time averages of |g_hat_t|^2
    runs: list[dict]
    planned_se: np.ndarray | None = None  # per eta: planned se of the mean excess loss (pilot, own seeds)

    def excess_estimate(self, k: int, level: float) -> Estimate:
        return replica_interval(self.excess[k], level)


_SWEEPS: dict = {}
#: the pilot's master seed: fixed, so the plan (designs, roles) depends on the instance and the mode only, never on
#: the run's seed (``sgdtheory calibrate`` sees the same checks on every seed); its stream is disjoint from the
#: main runs' (seed_key 0x9170)
PILOT_SEED = 0x9170B4


def _sweep_plan(inst: BasinInstance, settings: Settings, grid: str) -> list[dict]:
    """Paths and steps per learning rate; relaxation times from the exact moment operator."""
    plans = []
    etas = inst.grid if grid == "main" else inst.rate_grid
    for k, eta in enumerate(etas):
        rho = float(np.max(np.abs(np.linalg.eigvals(inst.basin.moment_operator(eta)))))
        tau = 1.0 / (1.0 - rho)  # steps per e-fold of the second moment's relaxation
        burn = int(math.ceil(tau * math.log(1e5)))
        if grid == "main":
            avg_steps = int(math.ceil((100 if settings.quick else 400) * tau))
            paths = 1024 if settings.quick else 4096
            if eta >= 0.09 * inst.basin.stability_limit():
                paths *= 16 if settings.quick else 8  # the extrapolation (B5) resolves small differences; cheap
        else:
            avg_steps = int(math.ceil((100 if settings.quick else 200) * tau))
            paths = 512 if settings.quick else 2048
        plans.append({"eta": float(eta), "tau": tau, "burn_in": burn, "n_steps": burn + avg_steps,
                      "n_paths": paths, "seed_key": (0xB4 if grid == "main" else 0xB3, k)})
    return plans


def _content_key(inst: BasinInstance, settings: Settings, grid: str) -> tuple:
    """What the sweep depends on: the problem's arrays, the sampler, the learning rates, mode, seed, grid."""
    p = inst.problem
    arrays = tuple((a.shape, np.ascontiguousarray(a, dtype=np.float64).tobytes()) for a in (p.g, p.H, p.c))
    etas = tuple(float(e) for e in (inst.grid if grid == "main" else inst.rate_grid))
    return (arrays, inst.basin.batch_size, inst.basin.sampling, etas, settings.quick, settings.seed, grid)


def _pilot_se(inst: BasinInstance, settings: Settings, plans: list[dict]) -> np.ndarray:
    """Planned standard error of each main-run mean excess loss, from a pilot on a separate seed stream."""
    out = []
    for k, plan in enumerate(plans):
        avg = plan["n_steps"] - plan["burn_in"]
        p_avg = max(1, avg // 4)
        p_paths = max(128, plan["n_paths"] // 8)
        settings.step(f"pilot eta = {plan['eta']:.4g}: {p_paths} paths x {plan['burn_in'] + p_avg} steps")
        res = simulate(inst.problem, plan["eta"], sampler=inst.sampler, n_steps=plan["burn_in"] + p_avg,
                       n_paths=p_paths, seed=PILOT_SEED, seed_key=(0xB4, 0x9170, k),
                       time_average=("excess_loss",), burn_in=plan["burn_in"], n_batches=20)
        if res.n_diverged:
            raise DivergedError(f"diverged: {res.n_diverged} pilot paths at eta = {plan['eta']:g}")
        sd = float(np.std(res.path_averages("excess_loss"), ddof=1))
        out.append(sd * math.sqrt(p_avg / avg) / math.sqrt(plan["n_paths"]))
    return np.array(out)


def run_sweep(inst: BasinInstance, settings: Settings, grid: str = "main") -> Sweep:
    """Simulate the ``grid`` ("main" or "rate"); memoised per instance content and settings in a process."""
    from ..budget import planning

    key = _content_key(inst, settings, grid) + (planning(),)  # a planning pass's empty results stay apart
    if key in _SWEEPS:
        return _SWEEPS[key]
    excess, gsq, runs = [], [], []
    plans = _sweep_plan(inst, settings, grid)
    planned = _pilot_se(inst, settings, plans) if grid == "main" else None
    for plan in plans:
        settings.step(f"sweep eta = {plan['eta']:.4g}: {plan['n_paths']} paths x {plan['n_steps']} steps")
        res = simulate(inst.problem, plan["eta"], sampler=inst.sampler, n_steps=plan["n_steps"],
                       n_paths=plan["n_paths"], seed=settings.seed, seed_key=plan["seed_key"],
                       time_average=("excess_loss", "grad_sq"), burn_in=plan["burn_in"], n_batches=20)
        if res.n_diverged:
            raise DivergedError(f"diverged: {res.n_diverged} paths at eta = {plan['eta']:g}")
        excess.append(res.path_averages("excess_loss"))
        gsq.append(res.path_averages("grad_sq"))
        runs.append({**plan, "seed_key": list(plan["seed_key"])})
    sweep = Sweep(np.array([p["eta"] for p in plans]), excess, gsq, runs, planned)
    _SWEEPS[key] = sweep
    return sweep
