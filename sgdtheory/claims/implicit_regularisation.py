r"""Claim C2 (implicit gradient regularisation of GD, Barrett & Dherin 2021), and the instance, config format and
slope checks it shares with C1 (Smith et al. 2021 implicit regulariser of SGD with random shuffling).  C1 itself is
one claim per file on the public API of a researcher's own derivation: ``claims/c1_modified_loss.py`` (its
measurements are described below and there).

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

from ..config import FINITE_SUM, schema
from ..errors import ConfigError, SgdTheoryError, check_float, check_int
from ..problems import LinearRegression, PolynomialFiniteSum1D, QuadraticFiniteSum
from ..stats import Estimate, exact
from ..theory import modified_loss as ml
from .base import CLAIM, NEGATIVE_CONTROL, Check, Claim, ClaimResult, Settings, register

SLOPE_RES = 0.05  # deterministic slopes
MAX_ETA_CURVATURE = 0.5  # every eta * max_k |H_k| must stay below this (small-step regime)
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


register(Claim("C2", "Implicit gradient regularisation: GD follows the flow of L + (eta/4)|grad L|^2 one order "
                     "closer than the plain flow",
               "Barrett & Dherin, ICLR 2021 (cited via C1, seed 002)",
               "one GD step: O(eta^3) from the flow of L + (eta/4)|grad L|^2, O(eta^2) from the plain flow; at fixed "
               "time O(eta^2) vs O(eta)", "rate", run_c2, _derive, _figure("C2"), default_instance,
               instance_from_config))
