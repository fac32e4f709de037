"""Learning-rate schedules (seed 001, slides "Learning rate scheduling"): SymPy formulas, periods, bounds,
half-lives, the slide's printed cosine formula, and the exact effect of a schedule on SGD's error.

Formulas (t = 0, 1, ... in steps; ``sgdtheory.schedules`` implements them for the engine):

  time-based     gamma_t = gamma0 / (1 + k t)                  half-life 1/k
  exponential    gamma_t = gamma0 exp(-k t)                    half-life ln 2 / k
  step           gamma_t = gamma0 exp(-k floor(t / T))         halves at t = T exactly when k = ln 2
  triangular     cycle = floor(1 + t/(2s)), x = |t/s - 2 cycle + 1|,
                 gamma_t = lo + (hi - lo) max(0, 1 - x)        period 2s, lo <= gamma_t <= hi (Smith 2017)
  cosine/SGDR    gamma_t = lo + (hi - lo)(1 + cos(pi mod(t, T)/T))/2     period T (T_mult = 1),
                 lo < gamma_t <= hi at integer t; restarts at T0 (T_mult^i - 1)/(T_mult - 1) (T_mult > 1)
  as printed     gamma_t = lo + (hi - lo)(1 + cos(mod(t, T) pi))/2: for integer t, cos(mod(t, T) pi) =
                 (-1)^mod(t, T), so the printed rate jumps between hi and lo (period 2 for even T)

Effect on SGD (``exact_moments``): on a quadratic basin with i.i.d. minibatches the first and second
moments obey the closed linear recursion of ``theory.sgd_moments`` for ANY schedule eta_t, so the
expected excess loss tr(Hbar S_t)/2 under each schedule is exact.  The rates eta_0..eta_(T-1) are taken
from the engine's own ``learning_rate`` kernel and passed as an array to ``_iterate_rates`` (so theory and
simulation use the same eta_t; an array rather than the inlined kernel keeps Numba's on-disk cache of
this file valid when the schedule kernel changes -- ``sgd_moments._iterate`` inlines it, and its cache,
keyed on sgd_moments.py alone, still holds the kernel from before the new schedule codes).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import sympy as sp

from .. import schedules as S
from ..errors import SgdTheoryError
from .quadratic_basin import QuadraticBasin
from numba import njit

from .sgd_moments import MomentPath, SGDMoments

t_sym = sp.Symbol("t", nonnegative=True)


def sympy_formula(schedule: S.Schedule, t=t_sym):
    """The schedule's formula as a SymPy expression in t, with its parameters as exact rationals/floats."""
    R = sp.nsimplify
    if isinstance(schedule, S.Constant):
        return R(schedule.lr) + 0 * t
    if isinstance(schedule, S.Power):
        return R(schedule.c) / (R(schedule.t0) + t) ** R(schedule.p)
    if isinstance(schedule, S.TimeBased):
        return R(schedule.lr0) / (1 + R(schedule.k) * t)
    if isinstance(schedule, S.Exponential):
        return R(schedule.lr0) * sp.exp(-sp.Float(schedule.k, 30) * t)
    if isinstance(schedule, S.StepDecay):
        return R(schedule.lr0) * sp.exp(-sp.Float(schedule.k, 30) * sp.floor(t / schedule.T))
    if isinstance(schedule, S.Triangular):
        return triangular_expr(t, R(schedule.lr_min), R(schedule.lr_max), sp.Integer(schedule.s))
    if isinstance(schedule, S.CosineRestarts):
        if schedule.T_mult != 1:
            raise SgdTheoryError("sympy_formula: CosineRestarts with T_mult > 1 has no closed form in t here")
        return cosine_expr(t, R(schedule.lr_min), R(schedule.lr_max), sp.Integer(schedule.T0))
    raise SgdTheoryError(f"schedule: no formula for {type(schedule).__name__}")


def triangular_expr(t, lo, hi, s):
    cycle = sp.floor(1 + t / (2 * s))
    x = sp.Abs(t / s - 2 * cycle + 1)
    return lo + (hi - lo) * sp.Max(0, 1 - x)


def cosine_expr(t, lo, hi, T):
    return lo + (hi - lo) * (1 + sp.cos(sp.pi * sp.Mod(t, T) / T)) / 2


def printed_cosine_expr(t, lo, hi, T):
    """Seed 001's formula exactly as printed: lo + (hi - lo)(1 + cos(mod(t, T) pi))/2."""
    return lo + (hi - lo) * (1 + sp.cos(sp.Mod(t, T) * sp.pi)) / 2


def printed_cosine(lo: float, hi: float, T: int, t) -> np.ndarray:
    """The printed formula in numpy."""
    t = np.asarray(t, dtype=np.float64)
    return lo + 0.5 * (hi - lo) * (1.0 + np.cos(np.mod(t, T) * np.pi))


def max_formula_error(schedule: S.Schedule, steps) -> float:
    """max over ``steps`` of |kernel eta_t - SymPy formula (30 digits)| / |formula|."""
    from .._kernels.steps import learning_rate

    sp_par = schedule.parameters()
    expr = sympy_formula(schedule)
    err = 0.0
    for t in steps:
        exact = float(sp.N(expr.subs(t_sym, int(t)), 30))
        val = learning_rate(schedule.code, sp_par, int(t))
        err = max(err, abs(val - exact) / abs(exact))
    return err


def kernel_rates(schedule: S.Schedule, steps) -> np.ndarray:
    """eta_t from the engine's kernel at each step."""
    from .._kernels.steps import learning_rate

    p = schedule.parameters()
    return np.array([learning_rate(schedule.code, p, int(t)) for t in steps])


def minimal_period(values: np.ndarray, max_period: int, rel: float = 1e-12) -> int | None:
    """Smallest p in 1..max_period with values[t + p] = values[t] (to rel) for every t; None if none."""
    scale = np.max(np.abs(values))
    for p in range(1, max_period + 1):
        if np.all(np.abs(values[p:] - values[:-p]) <= rel * scale):
            return p
    return None


@dataclass(frozen=True)
class ScheduleDerivation:
    triangular_shift_2s: sp.Expr  # f(t + 2s) - f(t), simplified (0)
    triangular_shift_s: sp.Expr  # f(t + s) - f(t) (not 0)
    cosine_shift_T: sp.Expr  # f(t + T) - f(t) (0)
    printed_integer_form: sp.Expr  # cos(mod(n, T) pi) at integer n
    half_life_time_based: sp.Expr
    half_life_exponential: sp.Expr
    step_half_at_T: sp.Expr  # gamma_T / gamma_0 for k = ln 2
    cosine_integer_min: sp.Expr  # min over integer t of the SGDR rate

    def text(self) -> str:
        return "\n".join([
            "Schedules (seed 001; Smith 2017; Loshchilov & Hutter 2017), t in steps:",
            "  triangular f(t) = lo + (hi - lo) max(0, 1 - |t/s - 2 floor(1 + t/(2s)) + 1|)",
            f"    SymPy: f(t + 2s) - f(t) = {self.triangular_shift_2s}   (period 2s)",
            f"    SymPy: f(t + s) - f(t) = {self.triangular_shift_s}   (not identically 0: s is not a period)",
            "  SGDR f(t) = lo + (hi - lo)(1 + cos(pi Mod(t, T)/T))/2",
            f"    SymPy: f(t + T) - f(t) = {self.cosine_shift_T}   (period T)",
            f"    min over integer t = f(T - 1) = {self.cosine_integer_min}  (> lo: lo is approached, never reached)",
            "  as printed on the slide: lo + (hi - lo)(1 + cos(Mod(t, T) pi))/2",
            f"    SymPy at integer n: cos(Mod(n, T) pi) = {self.printed_integer_form}: only hi and lo, "
            "period 2 for even T (not T)",
            f"  half-lives (SymPy solve gamma_t = gamma0/2): time-based t = {self.half_life_time_based}, "
            f"exponential t = {self.half_life_exponential}; step decay with k = ln 2: gamma_T/gamma_0 = {self.step_half_at_T}",
            "Effect on SGD: exact moment recursion z_(t+1) = (A0 + eta_t A1 + eta_t^2 A2) z_t + eta_t^2 b "
            "(theory.sgd_moments) with eta_t from the engine's schedule kernel; E L(w_t) - L* = tr(Hbar S_t)/2.",
        ])


@functools.lru_cache(maxsize=1)  # no arguments, a frozen record of SymPy expressions: derived once per process
def derive() -> ScheduleDerivation:
    t = t_sym
    s, T = sp.symbols("s T", positive=True, integer=True)
    lo, hi, k, g0 = sp.symbols("lo hi k gamma0", positive=True)
    n = sp.Symbol("n", integer=True, nonnegative=True)
    tri = lambda x: triangular_expr(x, lo, hi, s)  # noqa: E731
    cos_ = lambda x: cosine_expr(x, lo, hi, T)  # noqa: E731
    return ScheduleDerivation(
        triangular_shift_2s=sp.simplify(tri(t + 2 * s) - tri(t)),
        triangular_shift_s=sp.simplify(tri(t + s) - tri(t)),
        cosine_shift_T=sp.simplify(cos_(t + T) - cos_(t)),
        printed_integer_form=sp.simplify(sp.cos(sp.Mod(n, T) * sp.pi)),
        half_life_time_based=sp.solve(sp.Eq(g0 / (1 + k * t), g0 / 2), t)[0],
        half_life_exponential=sp.solve(sp.Eq(g0 * sp.exp(-k * t), g0 / 2), t)[0],
        step_half_at_T=sp.simplify(sp.exp(-sp.log(2) * sp.floor(T / T))),
        cosine_integer_min=sp.simplify(lo + (hi - lo) * (1 + sp.cos(sp.pi * (T - 1) / T)) / 2),
    )


@njit(cache=True)
def _iterate_rates(A0, A1, A2, b, etas, z0, rec_steps, out):
    """z_(t+1) = (A0 + eta_t A1 + eta_t^2 A2) z_t + eta_t^2 b for t < len(etas); out[r] = z at rec_steps[r]
    (the loop of ``sgd_moments._iterate``, with the rates given)."""
    k = z0.shape[0]
    z = z0.copy()
    znew = np.empty(k)
    r = 0
    n_rec = rec_steps.shape[0]
    n_steps = etas.shape[0]
    A0t = np.ascontiguousarray(A0.T)
    A1t = np.ascontiguousarray(A1.T)
    A2t = np.ascontiguousarray(A2.T)
    for t in range(n_steps + 1):
        while r < n_rec and rec_steps[r] == t:
            out[r, :] = z
            r += 1
        if t == n_steps:
            break
        eta = etas[t]
        e2 = eta * eta
        for i in range(k):
            znew[i] = e2 * b[i]
        for j in range(k):  # by columns, rows innermost: the same sums in the same order (see sgd_moments._iterate)
            zj = z[j]
            for i in range(k):
                znew[i] += (A0t[j, i] + eta * A1t[j, i] + e2 * A2t[j, i]) * zj
        for i in range(k):
            z[i] = znew[i]


def exact_moments(basin: QuadraticBasin, schedule: S.Schedule, delta0, steps, moments: SGDMoments | None = None) -> MomentPath:
    """Exact E[w_t - w*] and E[(w_t - w*)(w_t - w*)^T] under any schedule (``SGDMoments``' recursion,
    driven directly so that every ``Schedule`` works, not only Constant/Power)."""
    m = SGDMoments(basin) if moments is None else moments
    d = basin.d
    delta0 = np.asarray(delta0, dtype=np.float64)
    if delta0.shape != (d,):
        raise SgdTheoryError(f"delta0: expected shape ({d},), got {delta0.shape}")
    if not isinstance(schedule, S.Schedule):
        raise SgdTheoryError(f"schedule: expected a sgdtheory schedule, got {type(schedule).__name__}")
    steps = np.asarray(sorted(int(x) for x in steps), dtype=np.int64)
    z0 = np.concatenate([delta0, np.outer(delta0, delta0).reshape(-1)])
    out = np.zeros((steps.size, z0.size))
    etas = kernel_rates(schedule, np.arange(int(steps[-1])))
    _iterate_rates(m.A0, m.A1, m.A2, m.b, etas, z0, steps, out)
    return MomentPath(steps, out[:, :d], out[:, d:].reshape(-1, d, d), basin.mean_hessian)


__all__ = ["sympy_formula", "printed_cosine", "printed_cosine_expr", "max_formula_error", "kernel_rates",
           "minimal_period", "derive", "ScheduleDerivation", "exact_moments"]
