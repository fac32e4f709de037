"""Claim A5: the classical convergence theorem and Robbins-Monro step conditions, eta_t = c/(t0 + t)^p.

Sources: seed 003 (McAllester), slide "SGD convergence" (eta_t -> 0, sum eta_t = infinity,
sum eta_t^2 < infinity); seed 000 (Huszar), section "Convergence"; CLAIMS.md A5.

Setting: the quadratic basin (B4's instance by default: n = 6, d = 2, i.i.d. minibatches), start
w* + delta0 with delta0 along the eigenvector of lambda_min(Hbar) (the slowest mode).  Each case of
``CASES`` is a schedule; t0 is set so that eta_0 = 0.4 eta_c (inside the stability limit).

Prediction: SymPy decides sum eta_t and sum eta_t^2 (``theory.robbins_monro.step_sums``) and gives
the asymptotic log-log slope of E|w_t - w*|^2 (``asymptotic_slope``: -p for 0 < p < 1;
-min(1, 2 c lambda_min) for p = 1; 0 for p > 1 and constant eta).  The exact moment recursion
(``theory.sgd_moments``) gives E|w_t - w*|^2 at every recorded t; it is not fitted to anything.

Fit range (how the asymptotic range is chosen): the final stretch of the 48 log-spaced records on
which the *exact* recursion's local slope stays within ASYMPTOTIC_TOL = 0.02 of the predicted
asymptotic slope, at least one decade long; if the horizon is too short for that, the last decade is
used and the check's note says the asymptotic range was not reached.  The choice uses only the exact
recursion, never the simulation.

Checks per decaying case (p = 0.4, 0.75, 1 with 2 c lambda_min = 2 and 0.5):
* the asymptotic slope (SymPy piecewise formula) = the exact recursion's local slope at 10x the full
  horizon, within 0.02 (the asymptotic theory against the exact finite-t theory);
* the Monte Carlo log-log slope on the fit range (delta method over independent paths,
  ``stats.path_loglog_slope``) = the exact recursion's slope on the same range (resolution 0.06 quick,
  0.04 full; the exact finite-range slope differs from the asymptotic one by < 0.02);
* Monte Carlo E|w_T - w*|^2 = exact (resolution 20% quick, 10% full);
* negative controls on the Monte Carlo slope: -1 for p = 3/4 and for p = 1 with 2 c lambda_min = 1/2
  (the "1/t rate" whatever p and c), 0 for p = 2/5 ("without sum eta^2 < infinity SGD does not
  converge"; it does, at rate t^-p: the seeds' weaker condition eta_t -> 0, sum eta_t = infinity
  suffices for mean-square convergence on a strongly convex quadratic).
Asymptotic constants (``theory.robbins_monro.asymptotic_constant``; p < 1: lim E|w_t - w*|^2/eta_t = tr S0;
p = 1 with 2 c lambda_min > 1: lim (t0 + t) E|w_t - w*|^2 = c tr V; p > 1: the exact lim E|w_t - w*|^2): each
against the exact recursion far out (t = 3e5 and 3e6) extrapolated with its known remainder order t^(-r)
(resolution 1%; interval = the extrapolation step), with the near control "the constant is the value at the
horizon T" (0.9-5% away: rejected); the Monte Carlo scaled E|w_T - w*|^2 against the constant (resolution
20% quick, 10% full; the finite-T bias is below 1.5%), and for p = 1 the control "c tr S0" (the p < 1
noise floor at the wrong exponent).
p = 3/2: Monte Carlo E|w_T - w*|^2 = exact (a positive limit: the exact value at 10T is reported);
control "the error goes to 0" rejected.  Constant eta: the Monte Carlo plateau at 0.04 and 0.01 eta_c
against the exact stationary value; the exact plateau/eta at 1e-4 eta_c against its eta -> 0 limit
tr S0 (continuous Lyapunov equation); the Monte Carlo log-log slope of the plateau in eta against
the exact one (~1.02), and against 2 (control, "plateau proportional to eta^2").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from ..config import FINITE_SUM, schema
from ..errors import ConfigError, SgdTheoryError
from ..problems import QuadraticFiniteSum
from ..sampling import Sampler
from ..schedules import Constant, Power
from ..simulate import DivergedError, simulate
from ..stats import Estimate, path_loglog_slope, two_point_loglog_slope
from ..stats import exact as exact_value
from ..theory.quadratic_basin import QuadraticBasin
from ..theory.robbins_monro import asymptotic_constant, asymptotic_slope, derivation_text, step_sums
from ..theory.sgd_moments import SGDMoments
from .base import CLAIM, NEGATIVE_CONTROL, Check, Claim, ClaimResult, Settings, register
from .basin_sweep import default_instance as default_basin
from .basin_sweep import instance_from_config as basin_from_config

#: decaying cases: (key, p, 2 c lambda_min, negative-control slope or None)
CASES = (
    ("p=0.4", 0.4, 1.0, 0.0),
    ("p=0.75", 0.75, 4.0, -1.0),
    ("p=1, 2c.lam=2", 1.0, 2.0, None),
    ("p=1, 2c.lam=0.5", 1.0, 0.5, -1.0),
)
STALL_CASE = ("p=1.5", 1.5, 4.0)
CRITICAL_TWO_C_LAMBDA = 1.0  # p = 1 at 2 c lambda_min = 1: log(t)/t (exact recursion, figure only)
ASYMPTOTIC_TOL = 0.02  # the fit range: exact local slope within this of the limit
FAR_FACTOR = 10  # the asymptotic slope is checked on the exact recursion at 10 x the full horizon
ETA0_FRACTION = 0.4  # eta_0 = c/t0^p = 0.4 eta_c
CONSTANT_FRACTIONS = (0.04, 0.01)  # constant eta as fractions of eta_c


@dataclass(frozen=True, eq=False)
class RobbinsMonroInstance:
    """A quadratic basin at its minimum, i.i.d. minibatches, a start offset and a horizon (steps)."""

    problem: QuadraticFiniteSum
    sampler: Sampler
    delta0: np.ndarray
    horizon_full: int = 300_000
    horizon_quick: int = 30_000
    name: str = "default"

    def __post_init__(self):
        if self.sampler.scheme not in ("with_replacement", "without_replacement"):
            raise SgdTheoryError(f"sampling: A5 needs i.i.d. minibatches; got {self.sampler.scheme!r} "
                                 "(valid: with_replacement, without_replacement)")
        p = self.problem.at_minimum()
        object.__setattr__(self, "problem", p)
        d0 = np.asarray(self.delta0, dtype=np.float64)
        if d0.shape != (p.d,) or not np.all(np.isfinite(d0)) or not np.any(d0):
            raise SgdTheoryError(f"delta0: expected a non-zero finite vector of shape ({p.d},)")
        object.__setattr__(self, "delta0", d0)
        for key in ("horizon_full", "horizon_quick"):
            if not isinstance(getattr(self, key), int) or getattr(self, key) < 1000:
                raise SgdTheoryError(f"{key}: must be an integer >= 1000 (steps)")

    @property
    def basin(self) -> QuadraticBasin:
        p = self.problem
        return QuadraticBasin(p.g, p.H, self.sampler.validate_for(p.n), self.sampler.scheme)

    @property
    def lam_min(self) -> float:
        return float(np.linalg.eigvalsh(self.problem.mean_hessian)[0])

    def schedule(self, p: float, two_c_lambda: float, eta_c: float) -> Power:
        c = two_c_lambda / (2.0 * self.lam_min)
        return Power(c, (c / (ETA0_FRACTION * eta_c)) ** (1.0 / p), p)

    def describe(self) -> dict:
        return {"name": self.name, "n": self.problem.n, "d": self.problem.d,
                "batch_size": self.sampler.batch_size, "sampling": self.sampler.scheme,
                "delta0": self.delta0.tolist(), "lambda_min": self.lam_min,
                "horizon_quick": self.horizon_quick, "horizon_full": self.horizon_full}


def _slow_direction(problem) -> np.ndarray:
    return np.linalg.eigh(problem.at_minimum().mean_hessian)[1][:, 0]


def default_a5() -> RobbinsMonroInstance:
    basin = default_basin()
    return RobbinsMonroInstance(basin.problem, basin.sampler, 3.0 * _slow_direction(basin.problem))


A5_FIELDS = ("delta0", "horizon")


@schema('A5', {
    "problem": FINITE_SUM,
    "experiment": {"batch_size": "int", "sampling": "str", "delta0": "num[]", "horizon": "int"},
})
def a5_from_config(cfg: dict) -> RobbinsMonroInstance:
    """[problem] as for B4 (g, H, c or X, y); [experiment] batch_size, sampling, optional delta0 (d;
    default 3 x the slowest eigenvector of Hbar) and horizon (steps of the full run; quick uses 1/10)."""
    exp = dict(cfg.get("experiment", {}))
    extra = {k: exp.pop(k) for k in A5_FIELDS if k in exp}
    basin = basin_from_config({"problem": cfg.get("problem"), "experiment": exp})
    try:
        d0 = np.array(extra["delta0"], dtype=float) if "delta0" in extra else 3.0 * _slow_direction(basin.problem)
        horizon = extra.get("horizon", 300_000)
        if not isinstance(horizon, int) or not 10_000 <= horizon <= 10_000_000:
            raise SgdTheoryError(f"horizon = {horizon!r} is out of range: valid range is [10000, 10000000] (integer "
                                 "steps; the exact moments are evaluated up to 10 x the horizon)")
        return RobbinsMonroInstance(basin.problem, basin.sampler, d0, horizon, horizon // 10, name=basin.name)
    except (SgdTheoryError, ValueError) as exc:
        raise ConfigError(f"experiment.{exc}") from None


def _record_steps(T: int) -> np.ndarray:
    return np.unique(np.round(np.geomspace(1, T, 48)).astype(np.int64))


def _fit_range(local, target, tol) -> int:
    """Index of the first record of the final stretch where the exact local slope is within ``tol``."""
    ok = np.abs(local - target) <= tol  # local[k] is the slope between records k and k + 1
    k = len(ok)
    while k > 0 and ok[k - 1]:
        k -= 1
    return k


def _simulate(inst, schedule, T, steps, n_paths, settings, key, record=("dist_sq",), **kw):
    p = inst.problem
    res = simulate(p, schedule, sampler=inst.sampler, n_steps=T, n_paths=n_paths, seed=settings.seed,
                   seed_key=(0xA5, key), w0=p.minimizer + inst.delta0, record_steps=steps, record=record,
                   check_stability=False, **kw)
    if res.n_diverged:
        raise DivergedError(f"diverged: {res.n_diverged} of {n_paths} paths in A5 case {key}")
    return res


def run_a5(inst: RobbinsMonroInstance, settings: Settings) -> ClaimResult:
    lv = settings.level
    quick = settings.quick
    T = inst.horizon_quick if quick else inst.horizon_full
    n_paths = 1024 if quick else 2048
    slope_res = 0.06 if quick else 0.04
    value_res = 0.2 if quick else 0.1
    basin = inst.basin
    eta_c = basin.stability_limit()
    moments = SGDMoments(basin)
    steps = _record_steps(T)
    checks: list[Check] = []
    data = {"steps": steps.tolist(), "eta_c": eta_c, "cases": {}}

    for j, (key, p, tcl, control) in enumerate(CASES):
        settings.step(key)
        sched = inst.schedule(p, tcl, eta_c)
        target, regime = asymptotic_slope(p, sched.c, inst.lam_min)
        exact = moments.run(sched, inst.delta0, steps)
        far = moments.run(sched, inst.delta0, FAR_FACTOR * inst.horizon_full * np.array([0.1, 0.9, 1.0]))
        far_slope = float(far.local_loglog_slope()[-1])
        lo = _fit_range(exact.local_loglog_slope(), target, ASYMPTOTIC_TOL)
        range_note = ""
        if steps[-1] < 10 * steps[lo]:  # not asymptotic within the horizon: fit the last decade, and say so
            lo = int(np.searchsorted(steps, steps[-1] // 10))
            range_note = (f" NOT REACHED within {T} steps (the exact local slope is not within {ASYMPTOTIC_TOL} of "
                          f"{target:.3g} over the last decade; increase experiment.horizon)")
        range_slope = exact.loglog_slope(lo)
        res = _simulate(inst, sched, T, steps, n_paths, settings, j)
        Y = res.record_values[:, lo:, res.record_names.index("dist_sq")]
        slope = path_loglog_slope(steps[lo:], Y, lv)
        sums = step_sums(p, sched.c, sched.t0)
        sums_text = (f"SymPy: sum eta {'< oo' if sums['sum_eta_finite'] else '= oo'}, sum eta^2 "
                     f"{'< oo' if sums['sum_eta_sq_finite'] else '= oo'}")
        checks.append(Check(f"{key}: asymptotic slope {target:.3g} = exact local slope at t = {FAR_FACTOR}x{inst.horizon_full}",
                            CLAIM, target, exact_value(far_slope, "exact moment recursion", ASYMPTOTIC_TOL / 2),
                            ASYMPTOTIC_TOL, f"{regime}; {sums_text}"))
        checks.append(Check(f"{key}: Monte Carlo log-log slope on t in [{steps[lo]}, {T}] = exact ({range_slope:.4f})",
                            CLAIM, range_slope, slope, slope_res,
                            f"range: the final stretch where the exact local slope is within {ASYMPTOTIC_TOL} of "
                            f"{target:.3g}{range_note}", main=(key == "p=0.75")))  # the headline: MSE slope -p
        final = res.ensemble_estimate("dist_sq", record=-1, level=lv)
        checks.append(Check(f"{key}: E|w_T - w*|^2 = exact recursion at T = {T}", CLAIM, float(exact.mse[-1]), final,
                            value_res * float(exact.mse[-1]), "exact mean/second-moment recursion"))
        if control is not None:
            why = {0.0: "'without sum eta^2 < oo SGD does not converge' (slope 0)",
                   -1.0: "'the error decays like 1/t' regardless of p and c"}[control]
            checks.append(Check(f"{key}: slope = {control:g}, {why}", NEGATIVE_CONTROL, control, slope, slope_res))
        const = None
        if p < 1 or tcl > 1:
            const = _constant_checks(checks, key, inst, sched, far, exact, res, T, lv, value_res)
        data["cases"][key] = {
            "p": p, "c": sched.c, "t0": sched.t0, "two_c_lambda": tcl, "target": target, "fit_from": int(steps[lo]),
            "constant": const,
            "range_slope": range_slope, "far_slope": far_slope,
            "exact_mse": exact.mse.tolist(), "mc_mse": res.ensemble_mean("dist_sq").tolist(),
            "mc_halfwidth": [res.ensemble_estimate("dist_sq", record=i, level=lv).half_width
                             for i in range(len(steps))],
            "slope": slope.to_dict(), "sums": sums,
        }

    # p > 1: the steps are summable and the error stalls
    key, p, tcl = STALL_CASE
    settings.step(key)
    sched = inst.schedule(p, tcl, eta_c)
    exact = moments.run(sched, inst.delta0, np.concatenate([steps, [10 * T]]))
    res = _simulate(inst, sched, T, steps, n_paths, settings, len(CASES))
    final = res.ensemble_estimate("dist_sq", record=-1, level=lv)
    sums = step_sums(p, sched.c, sched.t0)
    lim = asymptotic_constant(basin, sched, inst.delta0)
    checks.append(Check(f"{key}: E|w_T - w*|^2 = exact recursion at T = {T} (stalls)", CLAIM, float(exact.mse[-2]),
                        final, value_res * float(exact.mse[-2]),
                        f"sum eta_t < oo (SymPy: {sums['sum_eta_finite']}); exact E|w - w*|^2 at 10T = "
                        f"{exact.mse[-1]:.4g}, at T = {exact.mse[-2]:.4g}; exact limit {lim.value:.10g}: positive"))
    far = moments.run(sched, inst.delta0, FAR_FACTOR * inst.horizon_full * np.array([0.1, 1.0]))
    const = _constant_checks(checks, key, inst, sched, far, exact, None, T, lv, value_res, lim)
    checks.append(Check(f"{key}: E|w_T - w*|^2 -> 0 ('every decaying schedule converges')", NEGATIVE_CONTROL, 0.0,
                        final, value_res * float(exact.mse[-2])))
    data["cases"][key] = {"p": p, "c": sched.c, "t0": sched.t0, "two_c_lambda": tcl, "target": 0.0, "constant": const,
                          "exact_mse": exact.mse[:-1].tolist(), "exact_mse_10T": float(exact.mse[-1]),
                          "mc_mse": res.ensemble_mean("dist_sq").tolist(),
                          "mc_halfwidth": [res.ensemble_estimate("dist_sq", record=i, level=lv).half_width
                                           for i in range(len(steps))], "sums": sums}

    # p = 1 at 2 c lambda_min = 1: the log correction (exact recursion only, for the figure)
    sched = inst.schedule(1.0, CRITICAL_TWO_C_LAMBDA, eta_c)
    exact = moments.run(sched, inst.delta0, steps)
    data["critical"] = {"c": sched.c, "t0": sched.t0, "exact_mse": exact.mse.tolist(),
                        "local_slope": exact.local_loglog_slope().tolist()}

    # constant eta: plateau proportional to eta
    plateaus = []
    for k, frac in enumerate(CONSTANT_FRACTIONS):
        eta = frac * eta_c
        settings.step(f"constant eta = {eta:.3g}")
        tau = 1.0 / (2.0 * eta * inst.lam_min)  # relaxation time of the second moment (steps)
        burn = int(math.ceil(math.log(1e5 * float(inst.delta0 @ inst.delta0)) * tau))
        n_steps = burn + int((100 if quick else 400) * tau)
        res = _simulate(inst, Constant(eta), n_steps, (), n_paths, settings, 100 + k, record=(),
                        time_average=("dist_sq",), burn_in=burn, n_batches=10)
        est = res.time_average("dist_sq", lv)
        stat = float(np.trace(basin.stationary_second_moment(eta)))
        checks.append(Check(f"constant eta = {frac:g} eta_c: plateau E|w - w*|^2 = exact stationary value", CLAIM,
                            stat, est, 0.05 * stat, "time average after burn-in; paths as replicas"))
        plateaus.append((eta, est, stat))
    (e1, p1, s1), (e2, p2, s2) = plateaus
    slope_c = two_point_loglog_slope(e1, p1, e2, p2)
    exact_slope = math.log(s1 / s2) / math.log(e1 / e2)
    limit = float(np.trace(scipy.linalg.solve_continuous_lyapunov(basin.mean_hessian, basin.batch_gradient_covariance)))
    tiny = 1e-4 * eta_c
    per_eta = float(np.trace(basin.stationary_second_moment(tiny))) / tiny
    checks.append(Check("constant eta: exact plateau/eta at eta = 1e-4 eta_c = its eta -> 0 limit tr S0", CLAIM, limit,
                        exact_value(per_eta, "exact stationary second moment", 0.005 * limit), 0.01 * limit,
                        "Hbar S0 + S0 Hbar = c_B Sigma (continuous Lyapunov equation): the plateau is proportional "
                        "to eta as eta -> 0"))
    checks.append(Check("constant eta: Monte Carlo log-log slope of the plateau in eta = exact", CLAIM, exact_slope,
                        slope_c, 0.1, f"exact stationary values at eta and eta/4; slope -> 1 as eta -> 0"))
    checks.append(Check("constant eta: plateau proportional to eta^2 (slope 2)", NEGATIVE_CONTROL, 2.0, slope_c, 0.1))
    data["constant"] = {"eta": [e1, e2], "plateau": [p1.to_dict(), p2.to_dict()], "exact": [s1, s2],
                        "slope": slope_c.to_dict(), "exact_slope": exact_slope, "limit_per_eta": limit}
    return ClaimResult("A5", checks, {**inst.describe(), "horizon": T, "n_paths": n_paths, "eta_c": eta_c}, data)


CONSTANT_RES = 0.01  # the extrapolated exact recursion must pin the asymptotic constant to 1%
_KIND_TEXT = {"per_eta": "lim E|w_t - w*|^2 / eta_t", "per_step": "lim (t0 + t) E|w_t - w*|^2",
              "limit": "lim E|w_t - w*|^2"}


def _constant_checks(checks, key, inst, sched, far, exact, res, T, lv, value_res, const=None) -> dict:
    """The exact asymptotic constant (``theory.robbins_monro.asymptotic_constant``) against the exact recursion
    far out, extrapolated with its known remainder order t^(-r); control: the finite-horizon value at the quick-mode
    horizon (the same in both modes, so it stays resolvable).  With a
    Monte Carlo run (``res``; p <= 1) also the scaled MC E|w_T - w*|^2 against the constant; for p = 1 the
    control "the p < 1 noise floor eta_t tr S0" (the constant at the wrong exponent)."""
    basin = inst.basin
    const = const or asymptotic_constant(basin, sched, inst.delta0)
    r = const.remainder_exponent
    t1, t2 = (int(x) for x in (far.steps[0], far.steps[-1]))
    y1, y2 = (float(m * const.scale(sched, t)) for m, t in ((far.mse[0], t1), (far.mse[-1], t2)))
    extrap = (y2 * t2**r - y1 * t1**r) / (t2**r - t1**r)  # removes the leading c t^(-r)
    est = exact_value(extrap, f"exact recursion at t = {t1}, {t2}, extrapolated in t^(-{r:.3g})", abs(y2 - extrap))
    what = _KIND_TEXT[const.kind]
    yT = float(exact.mse[-1 if res is not None else -2] * const.scale(sched, T))
    # the control's horizon is fixed (the quick-mode horizon, in both modes), so that the plausible wrong answer
    # "the limit is the value at a large t" sits at the same planned distance from the extrapolated recursion
    T_ctrl = inst.horizon_quick
    y_ctrl = yT if T_ctrl == T else float(SGDMoments(basin).run(sched, inst.delta0, np.array([T_ctrl])).mse[-1]
                                          * const.scale(sched, T_ctrl))
    checks.append(Check(f"{key}: {what} = {const.value:.10g} (exact) = the exact recursion far out", CLAIM, const.value,
                        est, CONSTANT_RES * const.value,
                        f"remainder O(t^-{r:.3g}); |limit - extrapolation| = {abs(const.value - extrap):.2g}; "
                        f"the value at t = {t2} is {y2:.10g}, at T = {T} {yT:.10g}"
                        + (f"; numerical error of the limit {const.error:.2g}" if const.error else "")))
    checks.append(Check(f"{key}: {what} = its finite-horizon value at t = {T_ctrl}", NEGATIVE_CONTROL, y_ctrl, est,
                        CONSTANT_RES * const.value, "the limit is not the value at a large finite t"))
    out = {"kind": const.kind, "value": const.value, "error": const.error, "remainder_exponent": r,
           "extrapolated": extrap, "far_steps": [t1, t2], "far_scaled": [y1, y2], "at_T": yT, "control_t": T_ctrl,
           "at_control_t": y_ctrl}
    if res is not None:
        mc = res.ensemble_estimate("dist_sq", record=-1, level=lv)
        k = float(const.scale(sched, T))
        mc = Estimate(mc.value * k, mc.low * k, mc.high * k, mc.level, mc.method + f" x {k:.6g}", mc.n)
        checks.append(Check(f"{key}: Monte Carlo {what.replace('lim ', '')} at T = {T} = the constant {const.value:.6g}",
                            CLAIM, const.value, mc, value_res * const.value,
                            f"the exact finite-T value differs from the constant by "
                            f"{abs(yT / const.value - 1):.2%}, far below the resolution"))
        if const.kind == "per_step":
            wrong = float(sched.c * np.trace(scipy.linalg.solve_continuous_lyapunov(basin.mean_hessian,
                                                                                   basin.batch_gradient_covariance)))
            checks.append(Check(f"{key}: the constant = c tr S0 (the p < 1 noise floor eta_t tr S0 at p = 1)",
                                NEGATIVE_CONTROL, wrong, mc, value_res * const.value, "the constant at the wrong exponent"))
        out["mc"] = mc.to_dict()
    return out


def _derive(inst, latex=False):
    text = derivation_text(inst.lam_min)
    return "\\begin{verbatim}\n" + text + "\n\\end{verbatim}" if latex else text


def _figure(result, outdir):
    from ..figures import robbins_monro as fr

    return fr.figure_a5(result, outdir)


register(Claim("A5", "Robbins-Monro steps c/(t0+t)^p: convergence conditions and rates", "003 'SGD convergence'; 000",
               "sum eta = oo, sum eta^2 < oo give convergence; MSE slope -p (1/2 < p < 1), -min(1, 2c lambda) "
               "(p = 1); p > 1 stalls; constant eta plateaus at an error proportional to eta", "rate",
               run_a5, _derive, _figure, default_a5, a5_from_config))
