"""Check your own derivation: a claim in one short file, to the catalogue's standard of evidence.

A researcher states a claim, gives its prediction as a SymPy expression (or a Python callable) of
the instance's parameters, and describes the measurement in the engine's vocabulary::

    import sympy as sp
    from sgdtheory import Derivation, Measure
    from sgdtheory.problems import GaussianNoiseQuadratic

    eta, h, s2 = sp.symbols("eta h sigma2", positive=True)
    CLAIM = Derivation(
        id="MY1", title="SGD's stationary excess loss on a noisy quadratic",
        prediction=eta * s2 / (2 * (2 - eta * h)),
        measure=Measure(problem=lambda p: GaussianNoiseQuadratic([[p["h"]]], [[p["sigma2"]]]),
                        observable="excess_loss", steps=3000, burn_in=500),
        grid={"eta": [0.05, 0.1, 0.2], "h": 1.0, "sigma2": 1.0})

``sgdtheory verify my_claim.py`` then does the rest, with the framework of ``claims.base``:

* **Plan (power calculation, before measuring).**  The prediction and the automatic controls are
  evaluated from theory alone.  A pilot run on its own seed stream (a fixed master seed, so the plan does not
  depend on the run's seed) gives the per-path standard deviation s of the measured statistic; the number of paths P is chosen so that the interval's
  half-width q s / sqrt(P) is a quarter (full mode; a third in quick mode) of the distance to the
  nearest control, within the run budget.  When the budget binds, the plan says so and the check
  may come out *inconclusive* (never dropped).
* **Automatic negative controls**, posed from the prediction before measuring: the leading
  coefficient off by the requested resolution (prediction x (1 + resolution)); the continuous-time
  limit (the leading term of the prediction's series in the small parameter) where the prediction is
  a discrete exact form; and, when the small parameter takes >= 3 values, the fitted exponent
  (d log Q / d log eta) against the predicted one with the exponent off by one.  A control nearer
  than ``resolution`` x |prediction| is not resolvable at the requested resolution and is listed in
  the notes, not posed.  The researcher's own ``controls`` are added next to them, and known
  ``approximations`` (a first-order or continuous-time form) with their role fixed by the plan: a negative
  control at >= 3 planned half-widths from the prediction, else an approximation with a planned verdict.
* **Approximations.**  With ``order=k`` the prediction is claimed only to leading order, relative
  error O(eta^k): each grid point becomes an *approximation* check (reported as adequate / detectably
  wrong, never verified) and the claim check is the extrapolation eta -> 0 of measured / predicted
  (weighted fit a + c eta^k, lack of fit inflating the interval): a = 1, with controls a = 1 +- resolution.
* The verdict table, the JSON record and a figure are the catalogue's (``runner.run_claim``).

The grid is a dict (its Cartesian product is measured) or a list of explicit points; ``extra_checks`` adds exact
or separately measured checks (and data for the figure).  The catalogue's ported claims
(``sgdtheory/claims/<id>_<name>.py``) are written with this API.

``Measure(..., statistic=callable)`` replaces the engine run by the researcher's own measurement
``statistic(params, n_paths, seed_sequence) -> per-path values`` for quantities the engine does not
stream (e.g. an exact enumeration); everything else stays the same.
"""

from __future__ import annotations

import itertools
import math
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .errors import SgdTheoryError
from .stats import _normal_quantile, replica_interval, weighted_least_squares

STATIONARY = "stationary"

# run budgets in path-steps (engine throughput on this 2-core machine is ~1e7 path-steps/s)
BUDGET_FULL = 2.0e9
BUDGET_QUICK = 1.5e8
MAX_PATHS_FULL = 1 << 21
MAX_PATHS_QUICK = 1 << 18
PILOT_PATHS = 256
#: a known approximation is a negative control where its gap from the prediction is at least this many planned
#: half-widths, otherwise an approximation check with a planned verdict (``claims.base.planned_expectation``)
APPROXIMATION_CONTROL_GAP = 3.0


def _resolve(value, params):
    return value(params) if callable(value) else value


@dataclass(frozen=True)
class Measure:
    """What to measure, in the engine's vocabulary (``sgdtheory.simulate``).

    Args:
        problem: ``params -> Problem`` (any of ``sgdtheory.problems``).
        optimizer: ``params -> Optimizer`` (default plain SGD).
        lr: ``params -> float or Schedule`` (default ``params["eta"]``).
        sampler: ``params -> Sampler`` or a ``Sampler`` (default with replacement, batch ``params["B"]``
            if given, else 1).
        observable: "excess_loss", "dist_sq", "grad_sq", "batch_loss", or a moment "mean[k]", "second[k,l]".
        at: ``"stationary"`` (time average after ``burn_in``) or a step t (ensemble mean of w_t's
            observable, one value per path); an int or ``params -> int``.
        steps, burn_in: ints or ``params -> int`` (for ``at="stationary"``).
        w0: ``params -> start`` (default the minimiser).
        statistic: optional ``(params, n_paths, seed_sequence) -> array (n_paths,)``, replacing the
            engine run by the researcher's own measurement.
    """

    problem: Callable | None = None
    optimizer: Callable | None = None
    lr: Callable | None = None
    sampler: Any = None
    observable: str = "excess_loss"
    at: Any = STATIONARY
    steps: Any = 2000
    burn_in: Any = 500
    w0: Callable | None = None
    statistic: Callable | None = None

    def __post_init__(self):
        if self.statistic is None and self.problem is None:
            raise SgdTheoryError("measure.problem: required (a function params -> Problem), or give measure.statistic")
        if self.at != STATIONARY and not callable(self.at) and (isinstance(self.at, bool)
                                                               or not isinstance(self.at, (int, np.integer))):
            raise SgdTheoryError(f"measure.at = {self.at!r}: valid: 'stationary', a step (int) or params -> int")

    def steps_for(self, params) -> int:
        if self.statistic is not None:
            return 1
        if self.at == STATIONARY:
            return int(_resolve(self.steps, params))
        return int(_resolve(self.at, params))

    def values(self, params, n_paths: int, seed_seq: np.random.SeedSequence) -> np.ndarray:
        """One value of the statistic per independent path, shape (n_paths,)."""
        if self.statistic is not None:
            x = np.asarray(self.statistic(params, n_paths, seed_seq), dtype=np.float64).ravel()
            if x.shape != (n_paths,):
                raise SgdTheoryError(f"measure.statistic: expected {n_paths} values (one per path), got {x.shape}")
            return x
        from .optimizers import SGD
        from .sampling import Sampler
        from .simulate import simulate

        problem = self.problem(params)
        optimizer = SGD() if self.optimizer is None else self.optimizer(params)
        lr = params.get("eta") if self.lr is None else self.lr(params)
        if lr is None:
            raise SgdTheoryError("measure.lr: no learning rate: put 'eta' in the grid or give measure.lr")
        if self.sampler is None:
            sampler = Sampler(int(params.get("B", 1)))
        else:
            sampler = self.sampler(params) if callable(self.sampler) else self.sampler
        w0 = None if self.w0 is None else self.w0(params)
        kind, _ = _observable_kind(self.observable)
        common = dict(optimizer=optimizer, sampler=sampler, n_paths=n_paths, seed=seed_seq, w0=w0)
        if self.at == STATIONARY:
            steps = int(_resolve(self.steps, params))
            burn = int(_resolve(self.burn_in, params))
            res = simulate(problem, lr, n_steps=steps, time_average=(kind,), burn_in=burn, **common)
            return res.path_averages(self.observable)
        t = int(_resolve(self.at, params))
        if kind not in ("excess_loss", "dist_sq", "moments"):
            raise SgdTheoryError(f"measure.observable = {self.observable!r}: at a step t only excess_loss, dist_sq, "
                                 "mean[k] and second[k,l] are recorded")
        res = simulate(problem, lr, n_steps=max(t, 1), record_steps=[t], record=(kind,), **common)
        col = res.record_names.index(self.observable)
        return res.record_values[:, 0, col]


def _observable_kind(name: str):
    if name.startswith("mean[") or name.startswith("second["):
        return "moments", name
    valid = ("excess_loss", "dist_sq", "grad_sq", "batch_loss")
    if name not in valid:
        raise SgdTheoryError(f"measure.observable = {name!r}: valid: {', '.join(valid)}, mean[k], second[k,l]")
    return name, name


def _as_function(expr, names):
    """A SymPy expression (or callable) as ``params -> float``; its free symbols must be grid names."""
    if callable(expr) and not hasattr(expr, "free_symbols"):
        return lambda p: float(expr(p))
    import sympy as sp

    expr = sp.sympify(expr)
    free = sorted(str(s) for s in expr.free_symbols)
    missing = [s for s in free if s not in names]
    if missing:
        raise SgdTheoryError(f"prediction: symbol(s) {', '.join(missing)} are not parameters of the grid "
                             f"({', '.join(sorted(names))})")
    syms = sorted(expr.free_symbols, key=str)
    f = sp.lambdify(syms, expr, modules="mpmath")
    return lambda p: float(f(*[p[str(s)] for s in syms]))


def _check_number(where: str, x):
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)) or not math.isfinite(x):
        raise SgdTheoryError(f"{where}: expected finite numbers, got {x!r}")


def grid_names(grid) -> set:
    """The parameter names of a grid (a dict, or a list of explicit points)."""
    if isinstance(grid, (list, tuple)):
        return {k for p in grid if isinstance(p, dict) for k in p}
    return set(grid)


def expand_grid(grid) -> list[dict]:
    """The points of a grid, in order: the Cartesian product of the list-valued entries of a dict (scalars are
    shared), or a list of explicit points (dicts with the same parameter names) when the points to measure are
    not a product (e.g. one optimiser at two tunings and another at a third)."""
    if isinstance(grid, (list, tuple)):
        if not grid or not all(isinstance(p, dict) and p for p in grid):
            raise SgdTheoryError("grid: a list of points must be non-empty, each a dict of parameter -> number")
        keys = list(grid[0])
        out = []
        for k, p in enumerate(grid):
            if set(p) != set(keys):
                raise SgdTheoryError(f"grid[{k}]: parameters {sorted(p)} differ from grid[0]'s {sorted(keys)}")
            for name in keys:
                _check_number(f"grid[{k}].{name}", p[name])
            out.append({name: p[name] for name in keys})
        if len({tuple(p.values()) for p in out}) != len(out):
            raise SgdTheoryError("grid: duplicate points")
        return out
    if not isinstance(grid, dict) or not grid:
        raise SgdTheoryError("grid: expected a non-empty dict of parameter -> value or list of values, "
                             "or a list of points")
    keys, axes = [], []
    for k, v in grid.items():
        vals = list(v) if isinstance(v, (list, tuple, np.ndarray)) else [v]
        if not vals:
            raise SgdTheoryError(f"grid.{k}: empty list")
        for x in vals:
            _check_number(f"grid.{k}", x)
        if len(set(vals)) != len(vals):
            raise SgdTheoryError(f"grid.{k}: duplicate values {vals}")
        keys.append(k)
        axes.append(vals)
    return [dict(zip(keys, combo)) for combo in itertools.product(*axes)]


@dataclass(frozen=True)
class Derivation:
    """A researcher's claim: statement, prediction, measurement and grid (see the module docstring).

    Args:
        id: a short ID (letters, digits, '-', '_'), shown in tables and used for the record's file name.
        title, source, statement: what is claimed and where it comes from.
        prediction: SymPy expression in the grid's parameter names, or ``params -> float``.
        measure: a ``Measure``.
        grid: parameter -> value or list of values (the Cartesian product is measured), or a list of
            explicit points (dicts with the same parameter names).
        small: the small parameter (default "eta") for the continuous-time limit, rates and ``order``.
        order: None (the prediction is exact for the discrete iteration) or k (right to leading order,
            relative error O(small^k)).
        resolution: the relative error the check must resolve (default 0.05): the automatic coefficient
            control sits there and the power calculation aims at it.
        controls: the researcher's own wrong predictions, name -> expression/callable (negative controls).
        approximations: known approximations of the prediction (a first-order or continuous-time form),
            name -> expression/callable, posed at every point with a role fixed by the plan before measuring:
            a negative control where its gap from the prediction is at least ``APPROXIMATION_CONTROL_GAP``
            planned half-widths, otherwise an *approximation* check whose expected verdict (adequate /
            detectably wrong / not decided) comes from the gap and the planned half-width.  Only with
            ``order=None`` (with ``order`` the prediction itself is the approximation).
        automatic_controls: False to pose only the researcher's controls.
        latex: the statement in LaTeX (optional, for the paper).
        as_printed: for an erratum, the document's formula(s) as printed, name -> expression/callable
            (role "as printed": expected rejected, posed like controls).
        instance: ``() -> object`` building the default instance (a problem, data, ...): every point's
            params then carry it as ``params["instance"]``, and ``grid`` may be ``instance -> dict``.
        from_config: ``cfg -> object``, the instance from a user's config file (``--config``).
        extra_checks: ``(instance, settings) -> list[Check]``, exact or symbolic checks added to the
            Monte Carlo ones (e.g. an enumeration), judged by the same framework; or ``(checks, data)``, a dict
            merged into the record's data (for the figure).
        figure: ``(result, outdir) -> list[str]`` replacing the default figure; figure_name: the default
            figure's file stem (default ``fig_<id>``).
        kind: the record's kind (default "equality", or "rate" with ``order``).
        derivation: ``(instance, latex) -> str``, your own derivation text, printed by ``sgdtheory derive``
            after the prediction and the controls (e.g. a SymPy derivation of a prediction given as a callable).
    """

    id: str
    title: str
    prediction: Any
    measure: Measure
    grid: dict
    source: str = "user derivation"
    statement: str = ""
    small: str = "eta"
    order: int | None = None
    resolution: float = 0.05
    controls: dict = field(default_factory=dict)
    approximations: dict = field(default_factory=dict)
    automatic_controls: bool = True
    latex: str = ""
    as_printed: dict = field(default_factory=dict)
    instance: Callable | None = None
    from_config: Callable | None = None
    extra_checks: Callable | None = None
    figure: Callable | None = None
    figure_name: str = ""
    kind: str = ""
    derivation: Callable | None = None

    def __post_init__(self):
        import re

        if not isinstance(self.id, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_\-]{0,31}", self.id):
            raise SgdTheoryError(f"id = {self.id!r}: expected a letter then up to 31 letters, digits, '-' or '_'")
        if not isinstance(self.measure, Measure):
            raise SgdTheoryError(f"measure: expected a sgdtheory.Measure, got {type(self.measure).__name__}")
        if isinstance(self.resolution, bool) or not (isinstance(self.resolution, (int, float))
                                                      and 0 < self.resolution < 1):
            raise SgdTheoryError(f"resolution = {self.resolution!r} is out of range: valid range is (0, 1)")
        if self.order is not None and (isinstance(self.order, bool) or not isinstance(self.order, int)
                                       or self.order < 1):
            raise SgdTheoryError(f"order = {self.order!r}: valid: None (exact) or an integer >= 1")
        if self.instance is not None and not callable(self.instance):
            raise SgdTheoryError("instance: expected a function () -> instance")
        grid = self.grid_for(self.instance() if self.instance is not None and callable(self.grid) else None)
        points = expand_grid(grid)
        names = grid_names(grid)
        _as_function(self.prediction, names)
        for k, v in {**self.controls, **self.as_printed, **self.approximations}.items():
            _as_function(v, names)
        if self.order is not None and self.approximations:
            raise SgdTheoryError(f"approximations: with order={self.order} the prediction itself is the approximation; "
                                 "give other forms as controls")
        if self.order is not None and len({p.get(self.small) for p in points}) < 3:
            raise SgdTheoryError(f"grid.{self.small}: order={self.order} extrapolates {self.small} -> 0 and needs "
                                 f">= 3 distinct values")

    # ------------------------------------------------------------------ theory (no data)
    def grid_for(self, obj) -> dict:
        """The grid of parameters (``grid`` itself, or ``grid(instance)``)."""
        if callable(self.grid):
            if obj is None:
                raise SgdTheoryError("grid: a function of the instance needs instance=...")
            return self.grid(obj)
        return self.grid

    def points(self, grid: dict | None = None, obj=None) -> list[dict]:
        pts = expand_grid(self.grid_for(obj) if grid is None else grid)
        if obj is not None:
            for p in pts:
                p["instance"] = obj
        return pts

    def continuous_limit(self):
        """The leading term of the prediction's series in the small parameter (None if not SymPy, not
        dependent on it, or equal to the prediction)."""
        if self.order is not None or callable(self.prediction) and not hasattr(self.prediction, "free_symbols"):
            return None
        import sympy as sp

        expr = sp.sympify(self.prediction)
        s = [x for x in expr.free_symbols if str(x) == self.small]
        if not s:
            return None
        lead = sp.simplify(expr.as_leading_term(s[0]))
        if sp.simplify(lead - expr) == 0:
            return None
        return lead

    def control_functions(self, names=None) -> dict:
        """Every negative control (and as-printed formula) as name -> (function, description, role), fixed from
        theory."""
        from .claims.base import AS_PRINTED, NEGATIVE_CONTROL

        names = grid_names(self.grid) if names is None else grid_names(names)
        out = {}
        if self.automatic_controls and self.order is None:
            f = _as_function(self.prediction, names)
            r = self.resolution
            out[f"coefficient off by {100 * r:g}%"] = (lambda p, f=f, r=r: (1 + r) * f(p),
                                                     f"the prediction x (1 + {r:g}): the resolution asked for",
                                                     NEGATIVE_CONTROL)
            lead = self.continuous_limit()
            if lead is not None:
                label = "continuous-time limit" if self.small == "eta" else "leading term"
                out[f"{label} ({self.small} -> 0 leading term)"] = (
                    _as_function(lead, names), f"the leading term {lead} of the series in {self.small}",
                    NEGATIVE_CONTROL)
        for k, v in self.controls.items():
            out[str(k)] = (_as_function(v, names), "the researcher's control", NEGATIVE_CONTROL)
        for k, v in self.as_printed.items():
            out[f"as printed: {k}"] = (_as_function(v, names), "the document's formula as printed", AS_PRINTED)
        return out

    # ------------------------------------------------------------------ the claim object
    def to_claim(self):
        from .claims.base import Claim

        statement = self.statement or self.title
        kind = self.kind or ("rate" if self.order else "equality")
        return Claim(id=self.id, title=self.title, source=self.source, statement=statement, kind=kind,
                     run=lambda inst, settings: run(self, inst, settings),
                     derive=lambda inst, latex=False: derive(self, inst, latex),
                     figure=self.figure if self.figure is not None else _figure(self),
                     default_instance=lambda: DerivationInstance(self, None if self.instance is None else self.instance()),
                     instance_from_config=_config_reader(self), latex_statement=self.latex)


class DerivationInstance:
    """What a derivation runs on: the instance object (or None) and the grid of parameters."""

    def __init__(self, d: Derivation, obj, grid: dict | None = None):
        self.obj = obj
        self.grid = d.grid_for(obj) if grid is None else grid
        expand_grid(self.grid)


def _config_reader(d: Derivation):
    def read(cfg: dict):
        from .errors import ConfigError

        if d.from_config is not None:
            return DerivationInstance(d, d.from_config(cfg))
        unknown = set(cfg) - {"experiment"}
        if unknown:
            raise ConfigError(f"config: claim {d.id} takes only an [experiment] table of grid values; "
                              f"got {', '.join(sorted(unknown))}")
        obj = None if d.instance is None else d.instance()
        grid = d.grid_for(obj)
        if not isinstance(grid, dict):
            raise ConfigError(f"config: claim {d.id}'s grid is a list of points; it takes no [experiment] values")
        grid = dict(grid)
        for k, v in (cfg.get("experiment") or {}).items():
            if k not in grid:
                raise ConfigError(f"experiment.{k}: not a parameter of {d.id}'s grid ({', '.join(grid)})")
            grid[k] = v
        return DerivationInstance(d, obj, grid)
    read.__qualname__ = f"config_reader_{d.id}"
    return read


def derive(d: Derivation, inst, latex: bool = False) -> str:
    """The prediction and the automatic controls, as SymPy prints them."""
    import sympy as sp

    lines = [f"{d.id}: {d.title}  [{d.source}]"]
    if callable(d.prediction) and not hasattr(d.prediction, "free_symbols"):
        lines.append("prediction: a Python callable (no symbolic form)")
    else:
        expr = sp.sympify(d.prediction)
        lines.append(f"prediction: {sp.latex(expr)}" if latex else "prediction:\n" + sp.pretty(expr, use_unicode=True))
        lead = d.continuous_limit()
        if lead is not None:
            lines.append(f"continuous-time limit ({d.small} -> 0): {sp.latex(lead) if latex else lead}")
    if d.order:
        lines.append(f"claimed to leading order: relative error O({d.small}^{d.order})")
    if inst is not None and not isinstance(inst, (DerivationInstance, dict, list, tuple)) and d.instance is not None:
        inst = DerivationInstance(d, inst)  # the instance object itself, on its own grid
    if isinstance(inst, DerivationInstance):
        names = grid_names(inst.grid)
    elif isinstance(inst, (dict, list, tuple)):
        names = grid_names(inst)
    else:
        names = grid_names(d.grid_for(None if d.instance is None or not callable(d.grid) else d.instance()))
    for name, (_, how, role) in d.control_functions(names).items():
        lines.append(f"{role}: {name}: {how}")
    for name in d.approximations:
        lines.append(f"approximation (role fixed by the plan): {name}")
    if d.derivation is not None:
        obj = inst.obj if isinstance(inst, DerivationInstance) else None
        lines.append(d.derivation(obj if obj is not None else (None if d.instance is None else d.instance()), latex))
    return "\n".join(lines)


#: master seed of every pilot run: the plan (paths, and the roles of known approximations) is the same whatever the
#: run's seed, so calibration over fresh seeds sees one fixed list of checks
PILOT_SEED = 0x9117


def _seed(d: Derivation, settings, k: int, pilot: bool) -> np.random.SeedSequence:
    key = zlib.crc32(d.id.encode())
    return np.random.SeedSequence(PILOT_SEED if pilot else settings.seed, spawn_key=(key, k, 1 if pilot else 0))


def chi2_lower(dof: int) -> float:
    """The 5% quantile of chi^2 on ``dof`` degrees of freedom (scipy.special.chdtri)."""
    from scipy.special import chdtri

    return float(chdtri(dof, 0.95))


def plan_paths(sd: float, target_hw: float, q: float, steps: int, quick: bool) -> tuple[int, str]:
    """Paths for a half-width ``target_hw`` given the per-path sd, within the budget; and a power statement."""
    cap = min(MAX_PATHS_QUICK if quick else MAX_PATHS_FULL,
              int((BUDGET_QUICK if quick else BUDGET_FULL) // max(steps, 1)))
    cap = max(cap, 16)
    need = 16 if sd == 0 else int(math.ceil((q * sd / target_hw) ** 2))
    n = int(min(max(need, 64), cap))
    note = (f"planned {n} paths for a half-width {target_hw:.3g}" if need <= cap else
            f"the budget allows {cap} paths of {steps} steps, {need} are needed for a half-width {target_hw:.3g}: "
            f"this check may be inconclusive")
    return n, note


def run(d: Derivation, inst, settings):
    """Plan, measure and judge the derivation on ``inst`` (a ``DerivationInstance``, or a grid dict)."""
    from .claims.base import APPROXIMATION, CLAIM, Check, ClaimResult

    if isinstance(inst, (dict, list, tuple)):  # a plain grid (Python API)
        inst = DerivationInstance(d, None if d.instance is None else d.instance(), inst)
    elif not isinstance(inst, DerivationInstance):  # the instance object itself, on its own grid
        if d.instance is None:
            raise SgdTheoryError(f"{d.id}: expected a grid (dict or list of points), got {type(inst).__name__}")
        inst = DerivationInstance(d, inst)
    grid = inst.grid
    points = d.points(grid, inst.obj)
    names = grid_names(grid)
    pred_f = _as_function(d.prediction, names)
    controls = d.control_functions(names)
    approx = {k: _as_function(v, names) for k, v in d.approximations.items()}
    q = _normal_quantile(settings.level)
    shrink = 3.0 if settings.quick else 4.0
    r = d.resolution
    checks, rows, notes = [], [], []

    # the plan, from theory only: target half-width per point
    targets, posed = [], []
    for p in points:
        pred = pred_f(p)
        ctrl = {name: f(p) for name, (f, _, _) in controls.items()}
        usable = {k: v for k, v in ctrl.items() if abs(v - pred) >= 0.999 * r * abs(pred) and abs(v - pred) > 0}
        for k in set(ctrl) - set(usable):
            where = {a: b for a, b in p.items() if a != "instance"}
            notes.append(f"{where}: control {k!r} is {abs(ctrl[k] - pred):.3g} from the prediction, nearer than the "
                         f"resolution {r:g} x |prediction|: not posed")
        gap = min([abs(v - pred) for v in usable.values()], default=r * abs(pred))
        targets.append((gap if d.order is None else r * abs(pred)) / shrink if pred != 0 else r / shrink)
        posed.append((pred, usable))

    ests = []
    for k, p in enumerate(points):
        settings.step(f"{d.id}: point {k + 1}/{len(points)}")
        steps = d.measure.steps_for(p)
        pilot = d.measure.values(p, PILOT_PATHS, _seed(d, settings, k, True))
        if not np.all(np.isfinite(pilot)):
            from .simulate import DivergedError
            raise DivergedError(f"{d.id}: the pilot run at {p} diverged")
        target = targets[k]
        if d.order is not None:
            target = target / _extrapolation_factor(d, points)
        # an upper 95% confidence bound on the per-path sd (chi-square), so the plan is not fooled by a low pilot
        sd_upper = float(np.std(pilot, ddof=1)) * math.sqrt((PILOT_PATHS - 1) / chi2_lower(PILOT_PATHS - 1))
        n, note = plan_paths(sd_upper, target, q, steps, settings.quick)
        x = d.measure.values(p, n, _seed(d, settings, k, False))
        est = replica_interval(x, settings.level)
        ests.append(est)
        pred, usable = posed[k]
        label = ", ".join(f"{a}={b:g}" for a, b in p.items() if a != "instance")
        if d.order is None:
            checks.append(Check(f"prediction at {label}", CLAIM, pred, est, r * abs(pred) / 2 if pred else r / 2,
                                note=note, main=(k == 0)))
            for cname, v in usable.items():
                checks.append(Check(f"control: {cname} at {label}", controls[cname][2], v, est, math.inf,
                                    note=controls[cname][1]))
            planned_hw = _t_quantile(settings.level, n) * sd_upper / math.sqrt(n)
            for aname, f in approx.items():
                checks.append(_approximation_check(aname, label, f(p), pred, est, planned_hw, r))
        else:
            checks.append(Check(f"leading-order prediction at {label}", APPROXIMATION, pred, est, r * abs(pred),
                                note=note, expect=None))
        rows.append({"params": {a: b for a, b in p.items() if a != "instance"}, "prediction": pred, "estimate": est.to_dict(), "paths": n, "plan": note,
                     "controls": {c: v for c, v in posed[k][1].items()},
                     "approximations": {a: f(p) for a, f in approx.items()}})

    smalls = [p.get(d.small) for p in points]
    if d.order is not None:
        checks += _extrapolation_checks(d, points, ests, pred_f, settings)
    elif len(set(smalls)) >= 3 and all(pp > 0 for pp, _ in posed) and all(s is not None and s > 0 for s in smalls):
        # posed from the predictions alone (never from the measured values); see _rate_checks for a measured value <= 0
        checks += _rate_checks(d, points, ests, [pp for pp, _ in posed], settings)
    extra_data = {}
    if d.extra_checks is not None:
        extra = d.extra_checks(inst.obj, settings)
        if isinstance(extra, tuple) and len(extra) == 2 and isinstance(extra[1], dict):
            extra, extra_data = extra
        reserved = sorted(set(extra_data) & {"rows", "notes", "small"})
        if reserved:
            raise SgdTheoryError(f"extra_checks: data key(s) {', '.join(reserved)} are reserved for the measurement")
        checks = list(extra) + checks
    described = inst.obj.describe() if hasattr(inst.obj, "describe") else {}
    return ClaimResult(d.id, checks, {**described, "grid": grid, "small": d.small, "order": d.order, "resolution": r,
                                      "level": settings.level, "quick": settings.quick},
                       data={**extra_data, "rows": rows, "notes": notes, "small": d.small})


def _t_quantile(level: float, n: int) -> float:
    from scipy import special

    return float(special.stdtrit(n - 1, 0.5 + 0.5 * level))


def _approximation_check(name: str, label: str, value: float, pred: float, est, planned_hw: float, r: float):
    """A known approximation at one point: its role fixed from its exact gap and the planned half-width."""
    from .claims.base import APPROXIMATION, NEGATIVE_CONTROL, Check, planned_expectation

    gap = value - pred
    ratio = abs(gap) / planned_hw if planned_hw > 0 else math.inf
    note = (f"known approximation; exact gap {gap:+.3g} = {ratio:.2f} planned half-widths; role and planned verdict "
            "fixed before the measurement")
    if ratio >= APPROXIMATION_CONTROL_GAP:
        return Check(f"control: {name} at {label}", NEGATIVE_CONTROL, value, est, math.inf, note=note)
    return Check(f"approximation: {name} at {label}", APPROXIMATION, value, est, r * abs(pred) / 2 if pred else r / 2,
                 note=note, expect=planned_expectation(gap, planned_hw))


def _extrapolation_factor(d: Derivation, points) -> float:
    """sqrt([(X^T X)^-1]_00) for the design [1, eta^k]: the intercept's se in units of one point's (equal
    relative se at every point)."""
    s = np.array([p[d.small] for p in points], dtype=np.float64)
    X = np.column_stack([np.ones_like(s), s ** d.order])
    return float(np.sqrt(np.linalg.inv(X.T @ X)[0, 0]))


def _extrapolation_checks(d: Derivation, points, ests, pred_f, settings):
    """measured / predicted = a + c eta^k (weighted, lack of fit inflating): claim a = 1, controls 1 +- resolution."""
    from .claims.base import CLAIM, NEGATIVE_CONTROL, Check

    s = np.array([p[d.small] for p in points], dtype=np.float64)
    pred = np.array([pred_f(p) for p in points])
    ratio = np.array([e.value for e in ests]) / pred
    se = np.array([e.standard_error for e in ests]) / np.abs(pred)
    X = np.column_stack([np.ones_like(s), s ** d.order])
    a = weighted_least_squares(X, ratio, se, settings.level, dof_each=min(e.n for e in ests) - 1)[0][0]
    r = d.resolution
    out = [Check(f"{d.small} -> 0 limit of measured / predicted = 1 (fit a + c {d.small}^{d.order})", CLAIM, 1.0, a,
                 r / 2, main=True, note=a.method)]
    if d.automatic_controls:
        out += [Check(f"control: leading coefficient off by {sign}{100 * r:g}%", NEGATIVE_CONTROL, 1.0 + sg * r, a,
                      math.inf) for sign, sg in (("+", 1.0), ("-", -1.0))]
    from .claims.base import AS_PRINTED

    names = {k for k in points[0] if k != "instance"}
    wrong = [(k, v, NEGATIVE_CONTROL) for k, v in d.controls.items()] + [(f"as printed: {k}", v, AS_PRINTED)
                                                                        for k, v in d.as_printed.items()]
    for cname, expr, role in wrong:
        # the researcher's control (or the printed form), judged the same way: eta -> 0 limit of measured / it = 1?
        cf = _as_function(expr, names)
        cvals = np.array([cf(p) for p in points])
        ca = weighted_least_squares(X, np.array([e.value for e in ests]) / cvals,
                                    np.array([e.standard_error for e in ests]) / np.abs(cvals), settings.level,
                                    dof_each=min(e.n for e in ests) - 1)[0][0]
        out.append(Check(f"control: {cname}: {d.small} -> 0 limit of measured / control = 1", role, 1.0,
                         ca, math.inf, note="extrapolated like the claim"))
    return out


def _rate_checks(d: Derivation, points, ests, preds, settings):
    """Does the measurement scale with the small parameter as the prediction does?  Fit
    log(measured / predicted) = a + b log eta (weighted, lack of fit inflating the interval): the claim is
    b = 0; the controls are the exponent off by one, b = +1 and b = -1.

    Only when the other parameters are the same at every point of the eta axis (one curve)."""
    from .claims.base import CLAIM, NEGATIVE_CONTROL, Check
    from .stats import Estimate, loglog_slope

    others = {tuple((k, v) for k, v in p.items() if k not in (d.small, "instance")) for p in points}
    if len(others) != 1:
        return []
    s = np.array([p[d.small] for p in points], dtype=np.float64)
    ratio = np.array([e.value for e in ests]) / np.array(preds)
    se = np.array([e.standard_error for e in ests]) / np.array(preds)
    if np.all(ratio > 0) and np.all(se > 0):
        slope = loglog_slope(s, ratio, se, settings.level, dof_each=min(e.n for e in ests) - 1).slope
    else:  # a measured value <= 0 has no logarithm: the rate cannot be decided (inconclusive, not dropped)
        slope = Estimate(0.0, -math.inf, math.inf, settings.level, "undecidable: a measured value <= 0",
                         min(e.n for e in ests))
    name = f"rate: measured / predicted has exponent 0 in {d.small} (fit over {len(s)} points)"
    return [Check(name, CLAIM, 0.0, slope, 0.25, note=slope.method),
            Check(f"control: exponent off by +1 ({d.small} x prediction)", NEGATIVE_CONTROL, 1.0, slope, math.inf),
            Check(f"control: exponent off by -1 (prediction / {d.small})", NEGATIVE_CONTROL, -1.0, slope, math.inf)]


def _figure(d: Derivation):
    def draw(result, outdir) -> list[str]:
        """Measured (with intervals) and predicted against the small parameter; right: relative to the prediction,
        with every posed control (the package's figure layout: ``figures.new_figure``)."""
        import textwrap

        from .figures import ci_label, legend_below, new_figure

        rows = result.data["rows"]
        small = result.data["small"]
        xs = np.array([r["params"].get(small, k) for k, r in enumerate(rows)], dtype=np.float64)
        pred = np.array([r["prediction"] for r in rows])
        ys = np.array([r["estimate"]["value"] for r in rows])
        err = np.array([r["estimate"]["value"] - r["estimate"]["low"] for r in rows])
        names = sorted({c for r in rows for c in r["controls"]})
        paths: list[str] = []
        with new_figure(outdir, d.figure_name or f"fig_{d.id.lower()}", ncols=2, figsize=(8.8, 3.3),
                        row_height=4.4) as (fig, ax, paths):
            a, b = ax
            a.errorbar(xs, ys, yerr=err, fmt="o", color="k", label=f"Monte Carlo ({ci_label(result)})")
            a.plot(xs, pred, "s", mfc="none", ms=8, color="C0", label="prediction")
            ok = np.all(pred != 0)
            b.errorbar(xs, ys / np.where(ok, pred, 1.0), yerr=err / np.abs(np.where(ok, pred, 1.0)), fmt="o",
                       color="k", label="measured / predicted")
            b.axhline(1.0, color="C0", lw=1, label="prediction")
            for j, c in enumerate(names):
                pts = [(x, r["controls"][c], r["prediction"]) for x, r in zip(xs, rows) if c in r["controls"]]
                a.plot([u for u, _, _ in pts], [v for _, v, _ in pts], "x", color=f"C{j + 1}")
                b.plot([u for u, _, _ in pts], [v / p if p else np.nan for _, v, p in pts], "x", color=f"C{j + 1}",
                       label=textwrap.shorten(f"control: {c}", 48))
            if np.all(xs > 0) and np.all(ys > 0) and np.all(pred > 0):
                from matplotlib.ticker import NullFormatter

                a.set_xscale("log")
                a.set_yscale("log")
                a.xaxis.set_minor_formatter(NullFormatter())
                a.set_xticks(xs, [f"{x:g}" for x in xs])
            for panel in (a, b):
                panel.set_xlabel(small if small in rows[0]["params"] else "grid point")
            a.set_ylabel("measured statistic")
            b.set_ylabel("relative to the prediction")
            fig.suptitle(textwrap.shorten(f"{d.id}: {d.title}", 90))
            legend_below(a)
            legend_below(b)
        return paths
    return draw


# ---------------------------------------------------------------------------------- discovery

ENTRY_POINT_GROUP = "sgdtheory.claims"


def claims_in(obj) -> list:
    """The claims an object holds: a ``Derivation`` or ``Claim`` itself, or a module's ``Derivation``/``Claim``
    attributes (in definition order)."""
    from .claims.base import Claim

    if isinstance(obj, Derivation):
        return [obj.to_claim()]
    if isinstance(obj, Claim):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [c for o in obj for c in claims_in(o)]
    found = [v for k, v in vars(obj).items() if not k.startswith("_") and isinstance(v, (Derivation, Claim))]
    return [c for v in found for c in claims_in(v)]


def load_file(path) -> list:
    """The claims defined in one Python file (run as a module named after the file)."""
    import importlib.util
    import sys

    path = Path(path)
    if not path.is_file() or path.suffix != ".py":
        raise SgdTheoryError(f"claim file: {path} is not a .py file")
    name = f"sgdtheory_user_{path.stem}_{zlib.crc32(str(path.resolve()).encode()):08x}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SgdTheoryError as exc:
        raise SgdTheoryError(f"{path}: {exc}") from None
    claims = claims_in(module)
    if not claims:
        raise SgdTheoryError(f"{path}: defines no Derivation (e.g. CLAIM = Derivation(...))")
    return claims


def load_path(path) -> list:
    """Claims from a .py file or from every .py file of a folder (sorted, files starting with '_' skipped)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.glob("*.py") if not p.name.startswith("_"))
        if not files:
            raise SgdTheoryError(f"claim folder: {path} has no .py files")
        return [c for f in files for c in load_file(f)]
    return load_file(path)


def entry_point_claims() -> list:
    """Claims that installed packages declare in the entry-point group ``sgdtheory.claims``."""
    from importlib.metadata import entry_points

    out = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plugin must not break the catalogue
            raise SgdTheoryError(f"entry point {ep.name} ({ep.value}) failed to load: {exc}") from None
        out += claims_in(obj)
    return out


__all__ = ["Derivation", "DerivationInstance", "Measure", "STATIONARY", "expand_grid", "grid_names", "load_path", "entry_point_claims", "claims_in"]
