r"""Claims C1 (Smith et al. 2021 implicit regulariser of SGD with random shuffling) and C2 (implicit gradient
regularisation of GD, Barrett & Dherin 2021).

C1 -- seed 002 (Huszár, DeepNN lecture 4, slides "Implicit regularization in SGD"), seed 000 ("Further
reading"), Smith, Dherin, Barrett & De, ICLR 2021, eq. 1 (and its rewriting eq. 2): n examples split into
m minibatches of fixed composition; one epoch of m SGD steps in a uniformly random order; over the order,

    E[w_m] = w(m eta) + O(m^3 eta^3),  w' = -grad L~_SGD,
    L~_SGD = L + (eta/4m) sum_k |grad L_k|^2 = L + (eta/4)|grad L|^2 + (eta/4m) sum_k |grad L_k - grad L|^2,

while the plain flow of L is off by O(m^2 eta^2).
C2 -- Barrett & Dherin, ICLR 2021, Theorem 3.1: GD follows the flow of L + (eta/4)|grad L|^2 with a local
error O(eta^3) per step (O(eta^2) over a fixed time), one order closer than the plain flow (O(eta^2)
per step, O(eta) at fixed time); the case m = 1 of C1.

Predictions (``theory.modified_loss``): SymPy backward error analysis (general undefined L_k(x, y), m = 1,
2, 3, all orders enumerated; and exact rationals for the instance's quadratic batches, with symbolic start
point) recovers the modified loss; for quadratic batches the eta^2 coefficient of E[delta_m] - delta~(m eta)
vanishes exactly for L~_SGD and not for the controls, so the error exponents are exactly 3 and 2.

Measurements:
* exact enumeration (deterministic): quadratic batches -- E[delta_m] over the m! orders by the subset
  recursion (exact linear algebra), the flows by one matrix exponential; 1-D polynomial batches -- every
  order and the flow (mpmath Taylor ODE solver) in 30-digit arithmetic.  The log-log slope of the error
  |E[delta_m] - delta~(m eta)| is fitted over the range where it has settled (``settled_slope``: points 1e3
  above a rounding floor; from the smallest such eta upward while each local two-point slope stays within
  0.02 of the first one -- a criterion that does not use the predicted exponent).  These errors carry no
  sampling error; the interval is the fitted slope +- the largest deviation of a local slope in the range
  (the curvature of the log-log curve), and the resolution is 0.05;
* Monte Carlo over orders (Numba kernel ``_kernels.epoch_orders``, independent replicas, each an antithetic
  pair (pi, reverse pi)): for larger m, Y[p, k] = u.(delta_m^(p)(eta_k) - delta~(m eta_k)) projected on the
  direction u of the exact leading error coefficient (C3 for L~_SGD, C2 for the controls); the slope by
  ``stats.path_loglog_slope`` (delta method over replicas, honest about the common random orders across
  eta), resolution 0.1; and the Monte Carlo mean at the largest eta against the exact order average
  (resolution 3% of the L~_SGD error there); the near control: at eta_p = 8 x the largest eta (an own run,
  pairs planned from a pilot on its own seed stream: 9 planned half-widths in full mode, 4.5 quick) the
  mean against the exact order average and against its leading term C3 eta^3 (one order lower; the eta^4
  term is ~6% of the residual there on the default instance);
* the composition variant (random partition into batches of B each epoch, the engine's "reshuffle"
  sampler): exact average over all partitions and orders against the flow of
  L + (eta/4)|grad L|^2 + (eta/4)((n-B)/(B(n-1)))(1/n) sum_i |grad l_i - grad L|^2 (slope 3); control:
  the same without the finite-population factor (1/B), slope 2.

Negative controls (same code, expected *rejected*): the plain flow, the GD-only flow L + (eta/4)|grad L|^2
and the wrong coefficient L + (eta/2m) sum |grad L_k|^2 "track E[w_m] to O(eta^3)" (slope 3); SymPy: the
GD-only correction equals the recovered one; the eta^2 coefficients of the controls vanish; the Monte Carlo
mean equals the plain flow's prediction.  C2: "GD follows the plain flow to second order" (f1 = 0, slope
3 per step / 2 at fixed time), the wrong coefficient (eta/2).

Family-wise error: only the Monte Carlo slope / mean checks of role "claim" carry sampling error (level
``settings.level`` each, Bonferroni over them); all other checks are deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from .._kernels.epoch_orders import epoch_order_pairs
from .._kernels.rng import path_states
from ..config import FINITE_SUM, schema
from ..errors import ConfigError, SgdTheoryError, check_float, check_int
from ..problems import LinearRegression, PolynomialFiniteSum1D, QuadraticFiniteSum
from ..simulate import _seed_sequence
from ..stats import Estimate, exact, path_loglog_slope, replica_interval
from ..theory import modified_loss as ml
from .base import CLAIM, NEGATIVE_CONTROL, Check, Claim, ClaimResult, Settings, register

SEED = 0xC1
SLOPE_RES = 0.05  # deterministic slopes
MC_SLOPE_RES = 0.1
MC_MEAN_RES = 0.03  # relative to the L~_SGD error at the largest Monte Carlo eta
MAX_ETA_CURVATURE = 0.5  # every eta * max_k |H_k| must stay below this (small-step regime)
MODES = {True: {"pairs": 1 << 14}, False: {"pairs": 1 << 17}}
PLAN_HALF_WIDTHS = 9.0  # planned distance of the near control (full mode; half in quick mode)
MEAN_ETA_FACTOR = 8.0  # the planned Monte Carlo mean is taken at this multiple of the largest mc eta
MEAN_PILOT = 1024
MAX_MEAN_PAIRS = 1 << 18
POLY_FLOOR = 1e-26  # mpmath (30 digits): rounding and ODE tolerance far below this
MP_DPS = 30

_PROBLEM_FIELDS = {"g", "H", "c", "anchor", "X", "y", "name", "coeffs"}
_EXPERIMENT_FIELDS = {"w0", "batches", "etas", "mc_batches", "mc_etas", "poly_w0", "poly_batches", "poly_etas",
                      "T", "gd_steps"}


def _grid(values, name: str, min_points: int = 5) -> tuple:
    try:
        g = np.array(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise SgdTheoryError(f"{name}: expected a list of learning rates, got {values!r}") from None
    if g.size < min_points or not np.all(np.isfinite(g)) or np.any(g <= 0) or np.unique(g).size != g.size:
        raise SgdTheoryError(f"{name}: need at least {min_points} distinct positive learning rates, got {g.tolist()}")
    return tuple(float(v) for v in np.sort(g))


@dataclass(frozen=True, eq=False)
class ImplicitRegInstance:
    """A quadratic finite sum (or linear regression), the start point w0, a batch partition, and the grids;
    optionally a 1-D polynomial finite sum for the non-quadratic check.

    ``batches``: partition of the n examples into m <= 7 equal batches (exact enumeration; also the
    composition variant's batch size); ``mc_batches``: partition for Monte Carlo over orders (m <= 64);
    ``etas`` / ``mc_etas`` / ``poly_etas``: learning-rate grids; ``T``: C2's fixed time, ``gd_steps``: the
    numbers of GD steps N (eta = T/N) at that time."""

    problem: QuadraticFiniteSum | LinearRegression
    w0: np.ndarray
    batches: tuple
    etas: tuple
    mc_batches: tuple
    mc_etas: tuple
    poly: PolynomialFiniteSum1D | None = None
    poly_w0: float = 0.5
    poly_batches: tuple = ()
    poly_etas: tuple = ()
    T: float = 1.0
    gd_steps: tuple = (4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096)
    name: str = "default"

    def __post_init__(self):
        if not isinstance(self.problem, (QuadraticFiniteSum, LinearRegression)):
            raise SgdTheoryError(f"problem: expected a QuadraticFiniteSum or LinearRegression, got "
                                 f"{type(self.problem).__name__}")
        n, d = self.problem.n, self.problem.d
        w0 = np.asarray(self.w0, dtype=np.float64)
        if w0.shape != (d,) or not np.all(np.isfinite(w0)):
            raise SgdTheoryError(f"w0: expected a finite vector of shape ({d},), got {np.shape(self.w0)}")
        object.__setattr__(self, "w0", w0)
        parts = ml.partition_from(self.batches, n)
        if not 2 <= len(parts) <= 7:
            raise SgdTheoryError(f"batches: m = {len(parts)} batches is out of range: valid range is [2, 7] "
                                 "(exact enumeration over the m! orders)")
        object.__setattr__(self, "batches", tuple(tuple(b) for b in parts))
        mc = ml.partition_from(self.mc_batches, n, "mc_batches")
        if not 2 <= len(mc) <= 64:
            raise SgdTheoryError(f"mc_batches: m = {len(mc)} is out of range: valid range is [2, 64]")
        object.__setattr__(self, "mc_batches", tuple(tuple(b) for b in mc))
        for key, mset in (("etas", parts), ("mc_etas", mc)):
            grid = _grid(getattr(self, key), key, 5 if key == "etas" else 3)
            qb = ml.QuadraticBatches.from_problem(self.problem, mset, w0)
            if grid[-1] * qb.max_curvature >= MAX_ETA_CURVATURE:
                raise SgdTheoryError(f"{key}: the largest eta = {grid[-1]:g} times the largest batch curvature "
                                     f"{qb.max_curvature:.4g} must be below {MAX_ETA_CURVATURE} (small-step regime)")
            object.__setattr__(self, key, grid)
        if np.linalg.norm(self.quadratic().G.mean(axis=0)) == 0:
            raise SgdTheoryError("w0: the full gradient vanishes there (w0 = w*); the flows do not move -- choose "
                                 "another start point")
        object.__setattr__(self, "T", check_float(self.T, "T", 0.0, None))
        steps = tuple(sorted(check_int(s, "gd_steps", 1, 1 << 16) for s in self.gd_steps))
        if len(set(steps)) < 5:
            raise SgdTheoryError(f"gd_steps: need at least 5 distinct step counts, got {list(self.gd_steps)}")
        if self.T / steps[0] * self.quadratic().max_curvature >= MAX_ETA_CURVATURE * 4:
            raise SgdTheoryError(f"gd_steps: the smallest N = {steps[0]} makes eta = T/N too large for T = {self.T:g}")
        object.__setattr__(self, "gd_steps", steps)
        if self.poly is not None:
            if not isinstance(self.poly, PolynomialFiniteSum1D):
                raise SgdTheoryError("poly: expected a PolynomialFiniteSum1D")
            pp = ml.partition_from(self.poly_batches, self.poly.n, "poly_batches")
            if not 2 <= len(pp) <= 5:
                raise SgdTheoryError(f"poly_batches: m = {len(pp)} is out of range: valid range is [2, 5]")
            object.__setattr__(self, "poly_batches", tuple(tuple(b) for b in pp))
            object.__setattr__(self, "poly_w0", check_float(self.poly_w0, "poly_w0"))
            pg = _grid(self.poly_etas, "poly_etas")
            pb = self.polynomial()
            if pg[-1] * max(pb.max_curvature, 1e-12) >= MAX_ETA_CURVATURE:
                raise SgdTheoryError(f"poly_etas: the largest eta = {pg[-1]:g} times the largest batch curvature "
                                     f"{pb.max_curvature:.4g} at poly_w0 must be below {MAX_ETA_CURVATURE}")
            object.__setattr__(self, "poly_etas", pg)

    def quadratic(self, batches=None) -> ml.QuadraticBatches:
        return ml.QuadraticBatches.from_problem(self.problem, self.batches if batches is None else batches, self.w0)

    def full_batch(self) -> ml.QuadraticBatches:
        qb = self.quadratic()
        return ml.QuadraticBatches(qb.G.mean(axis=0)[None], qb.H.mean(axis=0)[None])

    def polynomial(self, full: bool = False) -> ml.PolyBatches:
        if full:
            return ml.PolyBatches(self.poly.coeffs.mean(axis=0)[None], self.poly_w0)
        return ml.PolyBatches.from_problem(self.poly, self.poly_batches, self.poly_w0)

    @property
    def batch_size(self) -> int:
        return len(self.batches[0])

    def describe(self) -> dict:
        out = {"name": self.name, "n": self.problem.n, "d": self.problem.d, "w0": self.w0.tolist(),
               "batches": [list(b) for b in self.batches], "m": len(self.batches), "etas": list(self.etas),
               "mc_batches": [list(b) for b in self.mc_batches], "mc_m": len(self.mc_batches),
               "mc_etas": list(self.mc_etas), "T": self.T, "gd_steps": list(self.gd_steps)}
        if self.poly is not None:
            out.update({"poly_coeffs": self.poly.coeffs.tolist(), "poly_w0": self.poly_w0,
                        "poly_batches": [list(b) for b in self.poly_batches], "poly_etas": list(self.poly_etas)})
        return out


# -- instances ------------------------------------------------------------------------------------------


def default_instance() -> ImplicitRegInstance:
    """n = 8 quadratic examples in d = 2 with different Hessians, start w0 = (1, -1); batches of 2 (m = 4) for
    enumeration and composition, singletons (m = 8) for Monte Carlo; a quartic 1-D finite sum (n = 8, m = 4)."""
    g = [[1.0, 0.5], [-0.8, 0.3], [0.6, -1.0], [-0.4, 0.9], [1.2, -0.2], [-1.1, -0.6], [0.3, 0.8], [-0.7, -0.4]]
    H = [[[2.0, 0.3], [0.3, 0.6]], [[0.5, -0.2], [-0.2, 1.5]], [[1.2, 0.6], [0.6, 1.0]], [[0.8, 0.0], [0.0, 2.4]],
         [[2.6, -0.5], [-0.5, 0.9]], [[0.4, 0.1], [0.1, 0.7]], [[1.5, 0.8], [0.8, 1.8]], [[0.9, -0.4], [-0.4, 0.5]]]
    coeffs = [[0.0, 0.8, 1.0, 0.3, 0.12], [0.0, -0.6, 0.6, -0.2, 0.10], [0.0, 0.4, 1.4, 0.5, 0.08],
              [0.0, -0.9, 0.7, -0.4, 0.15], [0.0, 1.1, 0.9, 0.1, 0.11], [0.0, -0.5, 1.2, 0.2, 0.09],
              [0.0, 0.2, 0.8, -0.3, 0.13], [0.0, -0.7, 1.1, 0.4, 0.10]]
    pairs = ((0, 1), (2, 3), (4, 5), (6, 7))
    return ImplicitRegInstance(
        QuadraticFiniteSum(g, H, name="quadratic finite sum (n = 8, d = 2)"), np.array([1.0, -1.0]), pairs,
        tuple(float(v) for v in np.geomspace(1e-5, 0.1, 21)), tuple((i,) for i in range(8)),
        tuple(float(v) for v in np.geomspace(6.25e-5, 1e-3, 5)),
        PolynomialFiniteSum1D(coeffs, name="quartic 1-D finite sum (n = 8)"), 0.5, pairs,
        tuple(float(v) for v in np.geomspace(1e-5, 2e-2, 12)))


def _problem_from(prob: dict):
    try:
        if "X" in prob:
            return LinearRegression(prob["X"], prob.get("y"), name=prob.get("name", "user linear regression"))
        return QuadraticFiniteSum(prob["g"], prob["H"], prob.get("c"), prob.get("anchor"),
                                  name=prob.get("name", "user quadratic"))
    except KeyError as exc:
        raise ConfigError(f"problem.{exc.args[0]}: required (g and H, or X and y)") from None
    except SgdTheoryError as exc:
        raise ConfigError(f"problem.{exc}") from None


@schema('C1/C2', {
    "problem": {**FINITE_SUM, "coeffs": "num[][]"},
    "experiment": {
        "w0": "num[]", "batches": "int[][]~", "etas": "num[]!", "mc_batches": "int[][]~", "mc_etas": "num[]!",
        "poly_w0": "num", "poly_batches": "int[][]~", "poly_etas": "num[]!", "T": "num", "gd_steps": "int[]!"
    },
})
def instance_from_config(cfg: dict) -> ImplicitRegInstance:
    """[problem] g, H (or X, y), optional coeffs (1-D polynomial finite sum); [experiment] w0, batches, etas,
    mc_batches, mc_etas, poly_w0, poly_batches, poly_etas, T, gd_steps."""
    prob = cfg.get("problem")
    if not isinstance(prob, dict):
        raise ConfigError("problem: missing section [problem] (g and H, or X and y)")
    unknown = set(prob) - _PROBLEM_FIELDS
    if unknown:
        raise ConfigError(f"problem.{sorted(unknown)[0]}: unknown field; valid: {', '.join(sorted(_PROBLEM_FIELDS))}")
    problem = _problem_from({k: v for k, v in prob.items() if k != "coeffs"})
    exp = cfg.get("experiment", {})
    unknown = set(exp) - _EXPERIMENT_FIELDS
    if unknown:
        raise ConfigError(f"experiment.{sorted(unknown)[0]}: unknown field; valid: "
                          f"{', '.join(sorted(_EXPERIMENT_FIELDS))}")
    poly = None
    if "coeffs" in prob:
        try:
            poly = PolynomialFiniteSum1D(prob["coeffs"], name=prob.get("name", "user") + " (1-D polynomial)")
        except SgdTheoryError as exc:
            raise ConfigError(f"problem.{exc}") from None
    d, n = problem.d, problem.n
    dflt = default_instance()
    try:
        kw = dict(
            problem=problem, w0=exp.get("w0", np.ones(d)),
            batches=exp.get("batches", [list(range(k, k + max(n // 4, 1))) for k in range(0, n, max(n // 4, 1))]),
            etas=exp.get("etas", dflt.etas), mc_batches=exp.get("mc_batches", [[i] for i in range(n)]),
            mc_etas=exp.get("mc_etas", dflt.mc_etas), poly=poly, poly_w0=exp.get("poly_w0", 0.5),
            poly_batches=exp.get("poly_batches", [[i] for i in range(poly.n)] if poly is not None else ()),
            poly_etas=exp.get("poly_etas", dflt.poly_etas), T=exp.get("T", 1.0),
            gd_steps=exp.get("gd_steps", dflt.gd_steps), name=prob.get("name", "user"))
        return ImplicitRegInstance(**kw)
    except SgdTheoryError as exc:
        msg = str(exc)
        raise ConfigError(msg if msg.startswith("experiment.") else f"experiment.{msg}") from None


# -- helpers --------------------------------------------------------------------------------------------


def _slope_estimate(fit: ml.SlopeFit) -> Estimate:
    return Estimate(fit.slope, fit.slope - fit.spread, fit.slope + fit.spread, 1.0,
                    "deterministic: least-squares log-log slope over the settled range; interval = max deviation "
                    "of the local two-point slopes in the range", fit.n_points)


def _fit_dict(fit: ml.SlopeFit, errors) -> dict:
    return {"slope": fit.slope, "spread": fit.spread, "lo": fit.lo, "hi": fit.hi, "n_points": fit.n_points,
            "local": [None if not np.isfinite(v) else float(v) for v in fit.local],
            "usable": fit.usable.tolist(), "errors": [float(v) for v in errors]}


def _slope_checks(label: str, kinds: dict, fits: dict, expect: dict, where: str) -> list[Check]:
    """One CLAIM per curve (its predicted exponent) and, for every control curve, a NEGATIVE_CONTROL that
    predicts the claimed exponent of the modified flow."""
    out = []
    top = max(expect.values())
    for kind, text in kinds.items():
        fit = fits[kind]
        est = _slope_estimate(fit)
        note = (f"{where}; settled range eta in [{fit.lo:.3g}, {fit.hi:.3g}] ({fit.n_points} points); fitted slope "
                f"{fit.slope:.4f} +- {fit.spread:.4f}; resolution {SLOPE_RES}")
        out.append(Check(f"{label}: error of {text} ~ eta^{expect[kind]:g}", CLAIM, expect[kind], est, SLOPE_RES, note))
        if expect[kind] < top:
            out.append(Check(f"control: {label}: {text} is accurate to O(eta^{top:g})", NEGATIVE_CONTROL, top, est,
                             SLOPE_RES, note))
    return out


def _count_nonzero(mat) -> float:
    import sympy as sp

    return float(sum(1 for v in mat if sp.simplify(v) != 0))


# -- C1 -------------------------------------------------------------------------------------------------


def _symbolic_checks_c1(inst: ImplicitRegInstance, data: dict) -> list[Check]:
    checks = []
    nz = sum(_count_nonzero(ml.derive_general(m).difference) for m in (2, 3))
    curl = sum(_count_nonzero([ml.derive_general(m).curl]) for m in (2, 3))
    checks.append(Check("SymPy (general L_k, d = 2, m = 2, 3, all orders): recovered O(eta) field f1 = "
                        "-grad[(1/4m) sum_k |grad L_k|^2] (number of non-zero components of the difference)", CLAIM,
                        0.0, exact(nz, "SymPy backward error analysis"), 0.0,
                        f"the recovered f1 is a gradient field: non-zero curls {curl:g}"))
    gd = _count_nonzero(ml.derive_general(2).gd_only_difference)
    checks.append(Check("control: SymPy (m = 2): f1 = -grad[(1/4)|grad L|^2] (GD-only modified loss)",
                        NEGATIVE_CONTROL, 0.0, exact(gd, "SymPy backward error analysis"), 0.0,
                        "the difference is -grad[(1/4m) sum |grad L_k - grad L|^2] (SymPy checks this too)"))
    ident = _count_nonzero([ml.derive_general(3).identity]) + sum(
        _count_nonzero(ml.derive_general(m).variance_difference) for m in (2, 3))
    checks.append(Check("SymPy: (1/4m) sum |g_k|^2 = (1/4)|g|^2 + (1/4m) sum |g_k - g|^2 and the GD-only gap is "
                        "exactly the variance term", CLAIM, 0.0, exact(ident, "SymPy simplify"), 0.0,
                        "the two printed forms of L~_SGD agree"))
    qb = inst.quadratic()
    if qb.m <= 6:
        q = ml.derive_quadratic(qb.G, qb.H)
        import sympy as sp

        mism = _count_nonzero(list(q.A1 - q.A1_claimed) + list(q.r1 - q.r1_claimed) + [sp.expand(q.L1 - q.L1_claimed)])
        checks.append(Check(f"SymPy (instance's quadratic batches, m = {qb.m}, exact rationals, symbolic start): "
                            "recovered L_1 = (1/4m) sum_k |G_k + H_k delta|^2 + const", CLAIM, 0.0,
                            exact(mism, "SymPy"), 0.0, f"L_1 - L_1(0) = {q.L1}"))
        c2 = {k: float(max(abs(float(v)) for v in q.coefficients[k][1])) for k in ml.FLOWS}
        c3 = float(max(abs(float(v)) for v in q.coefficients["sgd"][2]))
        checks.append(Check("SymPy: eta^2 coefficient of E[delta_m] - delta~_SGD(m eta) = 0 (error O(eta^3))", CLAIM,
                            0.0, exact(c2["sgd"], "SymPy series"), 0.0,
                            f"the eta^3 coefficient is non-zero (max component {c3:.6g}): the exponent is exactly 3"))
        for kind in ("plain", "gd", "wrong"):
            checks.append(Check(f"control: SymPy: eta^2 coefficient of E[delta_m] - delta~ = 0 for the "
                                f"{ml.FLOWS[kind][2]}", NEGATIVE_CONTROL, 0.0, exact(c2[kind], "SymPy series"), 0.0,
                                "max |component|"))
        data["sympy_coefficients"] = {k: [[float(v) for v in c] for c in q.coefficients[k]] for k in ml.FLOWS}
    return checks


def _enumeration_c1(inst: ImplicitRegInstance, data: dict) -> list[Check]:
    qb = inst.quadratic()
    etas = np.array(inst.etas)
    means = [qb.epoch_mean(e) for e in etas]
    floor = qb.rounding_floor(etas)
    fits, rows = {}, {}
    for kind in ml.FLOWS:
        err = qb.errors(etas, kind, means)
        fits[kind] = ml.settled_slope(etas, err, floor)
        rows[kind] = _fit_dict(fits[kind], err)
    lead = {k: [float(np.linalg.norm(c)) for c in qb.series_coefficients(k)] for k in ml.FLOWS}
    data["quadratic"] = {"etas": etas.tolist(), "floor": floor.tolist(), "fits": rows, "m": qb.m, "leading": lead}
    kinds = {k: ml.FLOWS[k][2] for k in ml.FLOWS}
    expect = {"sgd": 3.0, "plain": 2.0, "gd": 2.0, "wrong": 2.0}
    return _slope_checks(f"quadratic, exact over all {qb.m}! orders", kinds, fits, expect,
                         "exact order average (subset recursion) vs matrix-exponential flows")


def _polynomial_c1(inst: ImplicitRegInstance, data: dict, settings: Settings) -> list[Check]:
    if inst.poly is None:
        return []
    import mpmath

    pb = inst.polynomial()
    etas = np.array(inst.poly_etas)
    settings.step(f"1-D polynomial: {len(etas)} learning rates x {len(ml.FLOWS)} flows in mpmath")
    with mpmath.workdps(MP_DPS):
        old = ml.MP_DPS
        ml.MP_DPS = MP_DPS
        try:
            means = [pb.epoch_mean(e) for e in etas]
            fits, rows = {}, {}
            for kind in ml.FLOWS:
                err = pb.errors(etas, kind, means)
                fits[kind] = ml.settled_slope(etas, err, np.full(etas.size, POLY_FLOOR))
                rows[kind] = _fit_dict(fits[kind], err)
        finally:
            ml.MP_DPS = old
    data["polynomial"] = {"etas": etas.tolist(), "fits": rows, "m": pb.m}
    kinds = {k: ml.FLOWS[k][2] for k in ml.FLOWS}
    expect = {"sgd": 3.0, "plain": 2.0, "gd": 2.0, "wrong": 2.0}
    return _slope_checks(f"1-D quartic (non-quadratic), all {pb.m}! orders", kinds, fits, expect,
                         f"mpmath ({MP_DPS} digits) orders and Taylor-series ODE flows")


def _composition_c1(inst: ImplicitRegInstance, data: dict) -> list[Check]:
    qb = inst.quadratic()
    B = inst.batch_size
    etas = np.array(inst.etas)
    n = inst.problem.n
    means = [ml.composition_epoch_mean(qb, e, B) for e in etas]
    floor = qb.rounding_floor(etas)
    fits, rows = {}, {}
    wrong_factor = (n - 1) / (n - B) if n > B else 1.0
    for kind, factor in (("composition", 1.0), ("no_fpc", wrong_factor)):
        err = np.array([np.linalg.norm(means[k] - qb.composition_flow(e, B, factor=factor))
                        for k, e in enumerate(etas)])
        fits[kind] = ml.settled_slope(etas, err, floor)
        rows[kind] = _fit_dict(fits[kind], err)
    data["composition"] = {"etas": etas.tolist(), "fits": rows, "batch_size": B, "n": n}
    kinds = {"composition": "L + (eta/4)|grad L|^2 + (eta/4)((n-B)/(B(n-1))) Sigma (composition averaged)",
             "no_fpc": "the same with 1/B instead of (n-B)/(B(n-1)) (no finite-population factor)"}
    return _slope_checks(f"random composition (n = {n}, B = {B}), exact over all partitions and orders", kinds,
                         fits, {"composition": 3.0, "no_fpc": 2.0}, "exact average over partitions")


def _with_curvature(est: Estimate, etas, ybar) -> Estimate:
    """Widen a Monte Carlo log-log slope interval by the curvature of the mean curve over the range: the
    larger of the largest deviation of a local two-point slope of the means from the fitted slope and the
    distance to the exponent extrapolated to eta -> 0 from the first two local slopes (the fit over a finite
    range estimates the asymptotic exponent only up to this), as for the deterministic slopes."""
    x = np.log(np.asarray(etas))
    ybar = np.asarray(ybar)
    if np.any(ybar <= 0):
        return est
    local = np.diff(np.log(ybar)) / np.diff(x)
    allow = float(np.max(np.abs(local - est.value)))
    if local.size >= 2:
        allow = max(allow, abs(ml.extrapolated_exponent(np.exp(x[:3]), local[:2]) - est.value))
    return Estimate(est.value, est.low - allow, est.high + allow, est.level,
                    est.method + " + curvature allowance (max |local slope of the means - fit|)", est.n)


def simulate_order_pairs(qb: ml.QuadraticBatches, etas, n_pairs: int, seed, seed_key) -> np.ndarray:
    """(pairs, len(etas), 2d) end displacements for a uniform order and its reverse (Numba kernel)."""
    etas = np.asarray(etas, dtype=np.float64)
    rng = path_states(_seed_sequence(seed, seed_key), 0, check_int(n_pairs, "n_pairs", 2))
    out = np.zeros((n_pairs, etas.size, 2 * qb.d))
    epoch_order_pairs(np.ascontiguousarray(qb.G), np.ascontiguousarray(qb.H), etas, rng, out)
    return out


def _monte_carlo_c1(inst: ImplicitRegInstance, data: dict, settings: Settings) -> list[Check]:
    lv = settings.level
    qb = inst.quadratic(inst.mc_batches)
    etas = np.array(inst.mc_etas)
    P = MODES[settings.quick]["pairs"]
    settings.step(f"Monte Carlo over orders: m = {qb.m}, {P} antithetic pairs x {etas.size} learning rates")
    raw = simulate_order_pairs(qb, etas, P, settings.seed, (SEED, 1))
    d = qb.d
    pair = 0.5 * (raw[:, :, :d] + raw[:, :, d:])
    checks = []
    rows = {}
    exact_ok = qb.m <= ml.MAX_EXACT_M
    for kind, expo, role_claim in (("sgd", 3.0, True), ("plain", 2.0, True), ("gd", 2.0, True)):
        C2, C3 = qb.series_coefficients(kind)
        lead = C3 if kind == "sgd" else C2
        u = lead / np.linalg.norm(lead)
        flows = np.array([qb.flow(e, kind) for e in etas])
        Y = (pair - flows[None]) @ u
        est = _with_curvature(path_loglog_slope(etas, Y, lv), etas, Y.mean(axis=0))
        single = (raw[:, :, :d] - flows[None]) @ u
        mean_est = [replica_interval(Y[:, k], lv) for k in range(etas.size)]
        rows[kind] = {"mean": [e.value for e in mean_est], "low": [e.low for e in mean_est],
                      "high": [e.high for e in mean_est], "slope": est.to_dict(),
                      "exact": ([float(u @ (qb.epoch_mean(e) - qb.flow(e, kind))) for e in etas] if exact_ok else None),
                      "sd_pair": Y.std(axis=0, ddof=1).tolist(), "sd_single": single.std(axis=0, ddof=1).tolist()}
        note = (f"m = {qb.m}, eta in [{etas[0]:.3g}, {etas[-1]:.3g}]; Y = u.(delta_m - delta~), u along the exact "
                f"leading coefficient; {P} independent antithetic pairs; path_loglog_slope; resolution {MC_SLOPE_RES}")
        if kind == "sgd":
            checks.append(Check(f"Monte Carlo over orders (m = {qb.m}): error of L~_SGD ~ eta^3", CLAIM, expo, est,
                                MC_SLOPE_RES, note))
        else:
            checks.append(Check(f"Monte Carlo over orders (m = {qb.m}): error of the {ml.FLOWS[kind][2]} ~ eta^2",
                                CLAIM, expo, est, MC_SLOPE_RES, note))
            checks.append(Check(f"control: Monte Carlo (m = {qb.m}): the {ml.FLOWS[kind][2]} is accurate to O(eta^3)",
                                NEGATIVE_CONTROL, 3.0, est, MC_SLOPE_RES, note))
        if kind == "sgd" and exact_ok:
            k = etas.size - 1
            e_top = etas[k]
            pred = float(u @ (qb.epoch_mean(e_top) - qb.flow(e_top, "sgd")))
            res = MC_MEAN_RES * abs(pred)
            mnote = (f"u.(E[delta_m] - delta~_SGD) at eta = {e_top:.3g}: exact order average {pred:.6g}; "
                     f"resolution {MC_MEAN_RES:g} of it; {P} pairs")
            checks.append(Check(f"Monte Carlo mean over orders = exact order average (m = {qb.m}, eta = {e_top:.3g})",
                                CLAIM, pred, mean_est[k], res, mnote))
            wrong = float(u @ (qb.flow(e_top, "plain") - qb.flow(e_top, "sgd")))
            checks.append(Check(f"control: Monte Carlo mean over orders = plain gradient flow (m = {qb.m}, "
                                f"eta = {e_top:.3g})", NEGATIVE_CONTROL, wrong, mean_est[k], res, mnote))
    data["monte_carlo"] = {"etas": etas.tolist(), "m": qb.m, "pairs": P, "rows": rows}
    if exact_ok:
        checks += _planned_mean_c1(qb, etas, data, settings)
    return checks


def _planned_mean_c1(qb: ml.QuadraticBatches, etas, data: dict, settings: Settings) -> list[Check]:
    """The order average at eta_p = MEAN_ETA_FACTOR x the largest Monte Carlo eta (capped to a quarter of the
    small-step limit), against the exact average, with the near control "the residual is its leading term
    C3 eta^3" (one order lower; the eta^4 term is a few % of the residual there).  Pairs planned: a pilot
    (MEAN_PILOT pairs, its own seed stream) gives the per-pair sd, and P = (q sd PLAN / gap)^2 in full mode (a
    quarter in quick mode), q the normal quantile at the level, so that the control sits PLAN_HALF_WIDTHS
    planned half-widths away in full mode."""
    eta = float(min(MEAN_ETA_FACTOR * etas[-1], 0.25 * MAX_ETA_CURVATURE / qb.max_curvature))
    d = qb.d
    _, C3 = qb.series_coefficients("sgd")
    u = C3 / np.linalg.norm(C3)
    flow = qb.flow(eta, "sgd")
    pred = float(u @ (qb.epoch_mean(eta) - flow))
    lead = float(u @ C3) * eta**3
    gap = abs(lead - pred)
    if not gap > 0:
        return []

    def pair_means(n, key):
        raw = simulate_order_pairs(qb, [eta], n, settings.seed, key)
        return (0.5 * (raw[:, 0, :d] + raw[:, 0, d:]) - flow) @ u

    settings.step(f"Monte Carlo over orders at eta = {eta:.3g}: pilot")
    sd = float(np.std(pair_means(MEAN_PILOT, (SEED, 0xF1)), ddof=1))
    q = float(special.ndtri(0.5 + 0.5 * settings.level))
    planned = (q * sd * PLAN_HALF_WIDTHS / gap) ** 2 / (4.0 if settings.quick else 1.0)
    P = int(min(MAX_MEAN_PAIRS, max(MEAN_PILOT, np.ceil(planned))))
    settings.step(f"Monte Carlo over orders at eta = {eta:.3g}: {P} planned pairs")
    est = replica_interval(pair_means(P, (SEED, 2)), settings.level)
    note = (f"u.(E[delta_m] - delta~_SGD) at eta = {eta:.3g}: exact order average {pred:.6g}, leading term C3 eta^3 = "
            f"{lead:.6g}; {P} antithetic pairs, planned (pilot sd {sd:.3g}) so that the leading term sits "
            f"{PLAN_HALF_WIDTHS:g} half-widths away in full mode")
    data["planned_mean"] = {"eta": eta, "pairs": P, "exact": pred, "leading": lead, "estimate": est.to_dict()}
    return [Check(f"Monte Carlo mean over orders = exact order average (m = {qb.m}, eta = {eta:.3g}, planned pairs)",
                  CLAIM, pred, est, MC_MEAN_RES * abs(pred), note, main=True),
            Check(f"control: the residual is its leading term C3 eta^3 (one order lower; m = {qb.m}, eta = {eta:.3g})",
                  NEGATIVE_CONTROL, lead, est, MC_MEAN_RES * abs(pred), note),
            Check(f"control: Monte Carlo mean over orders = plain gradient flow (m = {qb.m}, eta = {eta:.3g})",
                  NEGATIVE_CONTROL, float(u @ (qb.flow(eta, "plain") - flow)), est, MC_MEAN_RES * abs(pred), note)]


def run_c1(inst: ImplicitRegInstance, settings: Settings) -> ClaimResult:
    data: dict = {}
    settings.step("SymPy backward error analysis")
    checks = _symbolic_checks_c1(inst, data)
    settings.step("exact enumeration over orders (quadratic)")
    checks += _enumeration_c1(inst, data)
    checks += _polynomial_c1(inst, data, settings)
    settings.step("composition variant (exact over partitions)")
    checks += _composition_c1(inst, data)
    checks += _monte_carlo_c1(inst, data, settings)
    params = inst.describe()
    params["modes"] = {"quick": settings.quick, **MODES[settings.quick]}
    data["closing_note"] = closing_note(checks)
    return ClaimResult("C1", checks, params, data)


def closing_note(checks) -> list[str]:
    """The fitted slopes of role 'claim' with their intervals and the eta ranges (from each check's note)."""
    out = []
    for c in checks:
        if c.role == CLAIM and "slope" in c.estimate.method:
            e = c.estimate
            rng = next((seg.strip() for seg in c.note.split(";") if "eta in" in seg), "")
            out.append(f"{c.name}: slope {e.value:.4f} [{e.low:.4f}, {e.high:.4f}] ({rng})")
    return out


# -- C2 -------------------------------------------------------------------------------------------------


def run_c2(inst: ImplicitRegInstance, settings: Settings) -> ClaimResult:
    data: dict = {}
    checks = []
    der = ml.derive_general(1)
    checks.append(Check("SymPy (m = 1, general L, d = 2): GD's recovered O(eta) field f1 = -grad[(1/4)|grad L|^2]",
                        CLAIM, 0.0, exact(_count_nonzero(der.difference), "SymPy backward error analysis"), 0.0,
                        "Barrett & Dherin, Theorem 3.1"))
    checks.append(Check("control: SymPy (m = 1): f1 = 0 (GD follows the plain flow to second order)",
                        NEGATIVE_CONTROL, 0.0, exact(_count_nonzero(der.f1), "SymPy backward error analysis"), 0.0,
                        "f1 = -(1/2) Hess L grad L"))
    # one step, quadratic
    fb = inst.full_batch()
    etas = np.array(inst.etas)
    floor = fb.rounding_floor(etas)
    fits, rows = {}, {}
    for kind in ("gd", "plain", "wrong"):
        err = fb.errors(etas, kind)
        fits[kind] = ml.settled_slope(etas, err, floor)
        rows[kind] = _fit_dict(fits[kind], err)
    data["one_step"] = {"etas": etas.tolist(), "floor": floor.tolist(), "fits": rows,
                        "leading": {k: [float(np.linalg.norm(c)) for c in fb.series_coefficients(k)]
                                    for k in ("gd", "plain", "wrong")}}
    labels = {"gd": "L + (eta/4)|grad L|^2 (Barrett & Dherin)", "plain": "the plain flow of L",
              "wrong": "L + (eta/2)|grad L|^2 (wrong coefficient)"}
    one_step = _slope_checks("GD, one step (quadratic)", labels, fits, {"gd": 3.0, "plain": 2.0, "wrong": 2.0},
                             "local error of one full-batch step; matrix-exponential flows")
    one_step[0].main = True  # the headline: GD's one-step error from the modified flow is O(eta^3)
    checks += one_step
    # fixed time T
    T = inst.T
    Ns = np.array(inst.gd_steps)
    h = T / Ns
    d = fb.d
    errs = {k: [] for k in ("gd", "plain")}
    for N, e in zip(Ns, h):
        Tm = fb.affine_maps(e)[0]
        x = np.linalg.matrix_power(Tm, int(N))[1:, 0]
        for kind in errs:
            errs[kind].append(np.linalg.norm(x - fb.flow(e, kind, t=T)))
    order = np.argsort(h)
    hs = h[order]
    fl = np.array([1e3 * np.finfo(float).eps * N * T * np.abs(fb.G).max() for N in Ns[order]])
    fits_t, rows_t = {}, {}
    for kind in errs:
        ev = np.array(errs[kind])[order]
        fits_t[kind] = ml.settled_slope(hs, ev, fl)
        rows_t[kind] = _fit_dict(fits_t[kind], ev)
    data["fixed_time"] = {"etas": hs.tolist(), "T": T, "fits": rows_t, "floor": fl.tolist()}
    checks += _slope_checks(f"GD, N = T/eta steps at fixed time T = {T:g} (quadratic)",
                            {"gd": labels["gd"], "plain": labels["plain"]}, fits_t, {"gd": 2.0, "plain": 1.0},
                            "global error at fixed time")
    _ = d
    # one step, polynomial
    if inst.poly is not None:
        import mpmath

        pb = inst.polynomial(full=True)
        pe = np.array(inst.poly_etas)
        old = ml.MP_DPS
        ml.MP_DPS = MP_DPS
        try:
            with mpmath.workdps(MP_DPS):
                means = [pb.epoch_mean(e) for e in pe]
                fits_p, rows_p = {}, {}
                for kind in ("gd", "plain"):
                    err = pb.errors(pe, kind, means)
                    fits_p[kind] = ml.settled_slope(pe, err, np.full(pe.size, POLY_FLOOR))
                    rows_p[kind] = _fit_dict(fits_p[kind], err)
        finally:
            ml.MP_DPS = old
        data["polynomial"] = {"etas": pe.tolist(), "fits": rows_p}
        checks += _slope_checks("GD, one step (1-D quartic, non-quadratic)",
                                {"gd": labels["gd"], "plain": labels["plain"]}, fits_p, {"gd": 3.0, "plain": 2.0},
                                f"mpmath ({MP_DPS} digits)")
    data["closing_note"] = closing_note(checks)
    return ClaimResult("C2", checks, inst.describe(), data)


# -- derivation, figures, registration ------------------------------------------------------------------


def _derive(inst, latex=False):
    text = ml.derivation_text(inst.quadratic() if inst is not None else None)
    return "\\begin{verbatim}\n" + text + "\n\\end{verbatim}" if latex else text


def _figure(claim_id):
    def make(result, outdir):
        from ..figures import implicit_regularisation as fi

        return fi.FIGURES[claim_id](result, outdir)
    return make


register(Claim("C1", "Smith et al. (2021): mean SGD iterate under random shuffling follows the flow of "
                     "L + (eta/4m) sum_k |grad L_k|^2 to O(m^3 eta^3)",
               "002 (Huszár, lecture 4, 'Implicit regularization in SGD'), 000; Smith, Dherin, Barrett & De, ICLR 2021",
               "E[w_m] = w(m eta) + O(m^3 eta^3), w' = -grad L~_SGD, L~_SGD = L + (eta/4)|grad L|^2 + "
               "(eta/4m) sum_k |grad L_k - grad L|^2; the plain flow is off by O(m^2 eta^2)",
               "rate", run_c1, _derive, _figure("C1"), default_instance, instance_from_config))
register(Claim("C2", "Implicit gradient regularisation: GD follows the flow of L + (eta/4)|grad L|^2 one order "
                     "closer than the plain flow",
               "Barrett & Dherin, ICLR 2021 (cited via C1, seed 002)",
               "one GD step: O(eta^3) from the flow of L + (eta/4)|grad L|^2, O(eta^2) from the plain flow; at fixed "
               "time O(eta^2) vs O(eta)", "rate", run_c2, _derive, _figure("C2"), default_instance,
               instance_from_config))
