"""Claim D12 (learning-rate schedules; seed 001, slides "Learning rate scheduling": decay methods and cycling).

Part 1, formulas (exact): the engine's schedule kernel against the slide's formulas in SymPy (time-based
gamma0/(1 + kt), exponential gamma0 exp(-kt), step gamma0 exp(-k floor(t/T)), Smith's triangular cycle,
SGDR's cosine with restarts, Robbins-Monro power); SymPy proves the periods (f(t + 2s) = f(t) for the
triangle, f(t + T) = f(t) for the cosine) and the minimal period is found on the kernel's values; bounds
(attained lo and hi for the triangle, hi and lo + (hi - lo)(1 + cos(pi (T-1)/T))/2 for the cosine at
integer t); half-lives from SymPy solve (1/k, ln 2/k; step decay with k = ln 2 halves at t = T); SGDR's
restarts for T_mult > 1.  As printed: the slide's cos(mod(t, T) pi) has period 2 at integer t (not T).
Negative control: the triangle's half-period s as its period.

Part 2, effect on SGD (exact against Monte Carlo): on a quadratic basin (McAllester's, as B4/A5) with
i.i.d. minibatches, E L(w_t) - L* under each schedule from the exact moment recursion
(``theory.schedules.exact_moments``) against the engine's independent paths (replica intervals), at the
horizon and, for the cyclic schedules, mid-cycle.  Negative controls: the constant-rate plateau for the
exponential schedule's final error, the cyclic schedules' predictions with a doubled period, and the near one:
SGD as gradient descent plus additive noise frozen at the minimum (the constant-noise model, same recursion
without the state-dependent noise terms), posed per schedule as a control when a pilot run (own seed stream,
2000 paths) plans it >= 2.5 half-widths away, else as an approximation with the planned expectation (for the
decaying schedules it is adequate at this resolution).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._kernels.steps import learning_rate
from ..config import FINITE_SUM, schema
from ..errors import ConfigError, SgdTheoryError, check_float, check_int
from ..problems import QuadraticFiniteSum
from ..sampling import Sampler
from ..schedules import Constant, CosineRestarts, Exponential, Power, StepDecay, TimeBased, Triangular
from ..simulate import DivergedError, simulate, stability_limit
from ..stats import exact, replica_interval
from ..theory import schedules as th
from ..theory.quadratic_basin import QuadraticBasin
from ..theory.sgd_moments import SGDMoments
from .base import (APPROXIMATION, AS_PRINTED, CLAIM, NEGATIVE_CONTROL, Check, Claim, ClaimResult, Settings,
                   planned_expectation, register)

RECORD_EVERY = 5


@dataclass(frozen=True, eq=False)
class ScheduleInstance:
    """A quadratic basin at its minimum, i.i.d. minibatches, a start offset, the horizon T (steps) and the
    peak rate eta0 as a fraction of the SGD stability limit; the schedules are built from (eta0, T)."""

    problem: QuadraticFiniteSum
    sampler: Sampler
    delta0: np.ndarray
    horizon: int = 400
    eta_fraction: float = 0.25
    name: str = "default"

    def __post_init__(self):
        if self.sampler.scheme not in ("with_replacement", "without_replacement"):
            raise SgdTheoryError(f"sampling: D12 needs i.i.d. minibatches (the exact moment recursion); got "
                                 f"{self.sampler.scheme!r} (valid: with_replacement, without_replacement)")
        p = self.problem.at_minimum()
        object.__setattr__(self, "problem", p)
        self.sampler.validate_for(p.n)
        d0 = np.asarray(self.delta0, dtype=np.float64)
        if d0.shape != (p.d,) or not np.all(np.isfinite(d0)):
            raise SgdTheoryError(f"delta0: expected a finite vector of shape ({p.d},)")
        object.__setattr__(self, "delta0", d0)
        h = check_int(self.horizon, "horizon", 64, 100_000)
        if h % 16:
            raise SgdTheoryError(f"horizon = {h} is out of range: must be a multiple of 16 (the schedules' periods "
                                 "are horizon/8)")
        check_float(self.eta_fraction, "eta_fraction", 0.0, 0.9)
        if p.d > 12:
            raise SgdTheoryError(f"problem: d = {p.d} is out of range: valid range is [1, 12] (exact moments are d^2)")

    @property
    def basin(self) -> QuadraticBasin:
        p = self.problem
        return QuadraticBasin(p.g, p.H, self.sampler.validate_for(p.n), self.sampler.scheme)

    @property
    def eta0(self) -> float:
        from ..optimizers import SGD

        return self.eta_fraction * stability_limit(self.problem, SGD(), self.sampler)[0]

    def schedules(self) -> dict:
        """The schedule suite: each decays from (or cycles below) eta0 over the horizon T."""
        e, T = self.eta0, self.horizon
        return {
            "constant": Constant(e),
            "power": Power(e * 10.0, 10.0, 1.0),
            "time_based": TimeBased(e, 20.0 / T),
            "exponential": Exponential(e, float(np.log(100.0)) / T),
            "step": StepDecay(e, float(np.log(2.0)), T // 8),
            "triangular": Triangular(e / 10.0, e, T // 16),
            "cosine": CosineRestarts(e / 100.0, e, T // 8),
        }

    def describe(self) -> dict:
        return {"name": self.name, "n": self.problem.n, "d": self.problem.d, "batch_size": self.sampler.batch_size,
                "sampling": self.sampler.scheme, "delta0": self.delta0.tolist(), "horizon": self.horizon,
                "eta_fraction": self.eta_fraction, "eta0": self.eta0,
                "schedules": {k: [type(s).__name__] + s.parameters().tolist() for k, s in self.schedules().items()}}


def default_instance() -> ScheduleInstance:
    """McAllester's basin (n = 6, d = 2, B = 1 with replacement), start 2 x the slow eigenvector, T = 400."""
    from .basin_sweep import default_instance as default_basin

    b = default_basin()
    p = b.problem.at_minimum()
    return ScheduleInstance(p, b.sampler, 2.0 * np.linalg.eigh(p.mean_hessian)[1][:, 0])


FIELDS = ("delta0", "horizon", "eta_fraction")


@schema('D12', {
    "problem": FINITE_SUM,
    "experiment": {"batch_size": "int", "sampling": "str", "delta0": "num[]", "horizon": "int", "eta_fraction": "num"},
})
def instance_from_config(cfg: dict) -> ScheduleInstance:
    """[problem] as for B4 (g, H, c or X, y); [experiment] batch_size, sampling, and optional delta0 (d),
    horizon (steps, a multiple of 16; default 400), eta_fraction (peak rate / stability limit; default 0.25)."""
    from .basin_sweep import instance_from_config as basin_from_config

    exp = dict(cfg.get("experiment", {}))
    extra = {k: exp.pop(k) for k in FIELDS if k in exp}
    basin = basin_from_config({"problem": cfg.get("problem"), "experiment": exp})
    try:
        p = basin.problem.at_minimum()
        d0 = np.array(extra["delta0"], dtype=float) if "delta0" in extra else \
            2.0 * np.linalg.eigh(p.mean_hessian)[1][:, 0]
        return ScheduleInstance(p, basin.sampler, d0, extra.get("horizon", 400), extra.get("eta_fraction", 0.25),
                                name=basin.name)
    except (SgdTheoryError, ValueError) as exc:
        raise ConfigError(f"experiment.{exc}") from None


def _exact_checks(inst: ScheduleInstance) -> tuple[list[Check], dict]:
    scheds = inst.schedules()
    T = inst.horizon
    der = th.derive()
    checks: list[Check] = []
    steps = np.arange(0, T + 1)
    for key, sch in scheds.items():
        err = th.max_formula_error(sch, steps[:: max(1, T // 100)])
        checks.append(Check(f"{key}: kernel eta_t = the slide's formula (SymPy, 30 digits), max rel. error over t <= T",
                            CLAIM, 0.0, exact(err, "SymPy vs float64 kernel", abs_tol=1e-14), 1e-12,
                            "rounding only: 1e-14 allowance"))
    tri, cos_ = scheds["triangular"], scheds["cosine"]
    checks.append(Check("triangular: SymPy f(t + 2s) - f(t) = 0 (period 2s)", CLAIM, 0.0,
                        exact(0.0 if der.triangular_shift_2s == 0 else 1.0, "SymPy simplify"), 1e-9,
                        "symbolic in t, s, lo, hi"))
    checks.append(Check("cosine (SGDR, T_mult = 1): SymPy f(t + T) - f(t) = 0 (period T)", CLAIM, 0.0,
                        exact(0.0 if der.cosine_shift_T == 0 else 1.0, "SymPy simplify"), 1e-9, "symbolic"))
    for key, sch in (("triangular", tri), ("cosine", cos_)):
        vals = th.kernel_rates(sch, np.arange(0, 4 * sch.period + 1))
        per = th.minimal_period(vals, 2 * sch.period)
        checks.append(Check(f"{key}: minimal period of the kernel's eta_t = {sch.period} steps", CLAIM, float(sch.period),
                            exact(float(per or 0), "smallest p with eta_(t+p) = eta_t on 4 periods"), 0.5,
                            "integer-valued"))
        if key == "triangular":
            checks.append(Check("control: the triangle's period is its half-period s", NEGATIVE_CONTROL,
                                float(sch.s), exact(float(per or 0), "smallest p with eta_(t+p) = eta_t"), 0.5,
                                f"SymPy: f(t + s) - f(t) = {der.triangular_shift_s} != 0"))
            checks.append(Check("triangular: max_t eta_t = lr_max (attained at t = s)", CLAIM, sch.lr_max,
                                exact(float(vals.max()), "kernel over 4 periods"), 1e-9 * sch.lr_max, "bound"))
            checks.append(Check("triangular: min_t eta_t = lr_min (attained at t = 0)", CLAIM, sch.lr_min,
                                exact(float(vals.min()), "kernel over 4 periods"), 1e-9 * sch.lr_max, "bound"))
        else:
            lo, hi, P = sch.lr_min, sch.lr_max, sch.period
            pmin = lo + 0.5 * (hi - lo) * (1 + np.cos(np.pi * (P - 1) / P))
            checks.append(Check("cosine: max_t eta_t = lr_max (at each restart)", CLAIM, hi,
                                exact(float(vals.max()), "kernel over 4 periods"), 1e-9 * hi, "bound"))
            checks.append(Check("cosine: min over integer t = lo + (hi - lo)(1 + cos(pi (T-1)/T))/2 > lr_min", CLAIM,
                                pmin, exact(float(vals.min()), "kernel over 4 periods"), 1e-9 * hi,
                                f"SymPy: {der.cosine_integer_min}"))
            printed = th.printed_cosine(lo, hi, P, np.arange(0, 4 * P + 1))
            pp = th.minimal_period(printed, 2 * P)
            checks.append(Check(f"as printed: gamma_t = lo + (hi-lo)(1 + cos(mod(t,T) pi))/2 has period T = {P}",
                                AS_PRINTED, float(P), exact(float(pp or 0), "smallest period at integer t"), 0.5,
                                f"SymPy at integer n: cos(Mod(n,T) pi) = {der.printed_integer_form}; "
                                f"{len(np.unique(np.round(printed, 15)))} distinct values"))
    # SGDR restarts with T_mult = 2: eta = lr_max exactly at T0 (2^i - 1)
    sg = CosineRestarts(cos_.lr_min, cos_.lr_max, 8, 2)
    rs = sg.restarts(5).astype(int)
    vals = th.kernel_rates(sg, rs)
    checks.append(Check("SGDR T_mult = 2: eta = lr_max at the restarts T0 (2^i - 1), i = 1..5 (max deviation)", CLAIM,
                        0.0, exact(float(np.max(np.abs(vals - sg.lr_max))), "kernel", abs_tol=1e-15), 1e-12,
                        f"restarts at {rs.tolist()}"))
    # half-lives
    tb, ex, stp = scheds["time_based"], scheds["exponential"], scheds["step"]
    for key, sch, th_expr, k in (("time-based", tb, der.half_life_time_based, tb.k),
                                 ("exponential", ex, der.half_life_exponential, ex.k)):
        t_half = float(th_expr.subs({sym: k for sym in th_expr.free_symbols}))
        ratio = learning_rate(sch.code, sch.parameters(), t_half) / sch.lr0
        checks.append(Check(f"{key}: eta at the SymPy half-life t = {th_expr} = {t_half:.4g} is lr0/2", CLAIM, 0.5,
                            exact(ratio, "kernel at the SymPy solution", abs_tol=1e-15), 1e-9, "ratio eta_t/eta_0"))
    r_step = th.kernel_rates(stp, [stp.T - 1, stp.T])
    checks.append(Check("step decay, k = ln 2: eta_T / eta_(T-1) = 1/2 (halves every T steps)", CLAIM, 0.5,
                        exact(r_step[1] / r_step[0], "kernel", abs_tol=1e-15), 1e-9,
                        f"SymPy: exp(-ln2 floor(T/T)) = {der.step_half_at_T}"))
    return checks, {"derivation": der.text()}


def _mc(inst: ScheduleInstance, key: str, sch, steps, n_paths: int, settings: Settings, k: int, seed=None):
    p = inst.problem
    res = simulate(p, sch, sampler=inst.sampler, n_steps=inst.horizon, n_paths=n_paths,
                   seed=settings.seed if seed is None else seed,
                   seed_key=(0xD12, k), w0=p.minimizer + inst.delta0, record_steps=steps, record=("excess_loss",))
    if res.n_diverged:
        raise DivergedError(f"diverged: {res.n_diverged} of {n_paths} paths with schedule {key}")
    return res.record_values[:, :, 0]


def additive_noise_moments(basin: QuadraticBasin, mom: SGDMoments) -> SGDMoments:
    """The plausible wrong model next to the exact recursion: SGD as gradient descent plus *additive* noise whose
    covariance is frozen at the minimum (c Sigma(w*)), i.e. the state-dependent parts of the minibatch noise
    (c (mean_i H_i S H_i - Hbar S Hbar) and the cross terms in the mean) dropped -- the model behind the
    constant-noise SDE.  Same recursion, A2 replaced."""
    import copy

    d = basin.d
    add = copy.copy(mom)
    A2 = np.zeros_like(mom.A2)
    Hb = basin.mean_hessian
    A2[d:, d:] = np.kron(Hb, Hb)
    add.A2 = A2
    return add


#: paths of the pilot run (its own seed stream) that plans the half-widths before the measurement
PILOT_PATHS = 2000
#: the pilot's seed: fixed, so the plan (and every role) is the same for every measurement seed
PILOT_SEED = 0x9117D12


def _near_role(gap: float, planned_hw: float):
    """A plausible wrong prediction is a control when the plan puts it >= 2.5 half-widths from the truth (so the
    claim check can resolve it under the resolution rule), else an approximation with the planned expectation."""
    if gap >= 2.5 * planned_hw:
        return NEGATIVE_CONTROL, None
    return APPROXIMATION, planned_expectation(gap, planned_hw)


def run_d12(inst: ScheduleInstance, settings: Settings) -> ClaimResult:
    lv = settings.level
    checks, data = _exact_checks(inst)
    T = inst.horizon
    scheds = inst.schedules()
    basin = inst.basin
    mom = SGDMoments(basin)
    steps = np.arange(0, T + 1, RECORD_EVERY)
    n_paths = 20_000 if settings.quick else 200_000
    res_rel = 0.06 if settings.quick else 0.02
    settings.step(f"{len(scheds)} schedules x {n_paths} paths x {T} steps")
    tri, cos_ = scheds["triangular"], scheds["cosine"]
    mid = {"triangular": T - tri.s, "cosine": T - cos_.period // 2}
    wrong = {"triangular": Triangular(tri.lr_min, tri.lr_max, 2 * tri.s),
             "cosine": CosineRestarts(cos_.lr_min, cos_.lr_max, 2 * cos_.T0)}
    data.update({"steps": steps.tolist(), "eta0": inst.eta0, "horizon": T, "schedules": {}, "mid": mid})
    exact_paths = {}
    add = additive_noise_moments(basin, mom)
    from ..stats import _t_quantile

    q = _t_quantile(lv, n_paths - 1)
    for k, (key, sch) in enumerate(scheds.items()):
        ex = th.exact_moments(basin, sch, inst.delta0, steps, mom).excess_loss
        exact_paths[key] = ex
        idx_T = len(steps) - 1
        # plan (before the measurement, own seed stream): the half-width at T from a pilot's standard deviation
        pilot = _mc(inst, key, sch, steps[-1:], PILOT_PATHS, settings, k, seed=PILOT_SEED)[:, 0]
        hw_plan = q * float(np.std(pilot, ddof=1)) / np.sqrt(n_paths)
        vals = _mc(inst, key, sch, steps, n_paths, settings, k)
        est = replica_interval(vals[:, idx_T], lv)
        checks.append(Check(f"{key}: E L(w_T) - L* at T = {T} (exact moment recursion)", CLAIM, float(ex[idx_T]), est,
                            res_rel * float(ex[idx_T]), f"resolution {res_rel:g} x prediction; independent paths",
                            main=(key == "exponential")))
        ad = float(th.exact_moments(basin, sch, inst.delta0, steps[-1:], add).excess_loss[-1])
        gap = abs(ad - float(ex[idx_T]))
        role, expect = _near_role(gap, hw_plan)
        checks.append(Check(f"{key}: SGD as additive noise "
                            f"frozen at the minimum (constant-noise model), E L(w_T) - L* at T = {T}", role, ad, est,
                            res_rel * float(ex[idx_T]),
                            f"the state-dependent minibatch noise dropped; {gap / hw_plan:.1f} planned half-widths (pilot "
                            f"of {PILOT_PATHS} paths, own seeds) from the exact value", expect=expect))
        entry = {"lr": th.kernel_rates(sch, steps).tolist(), "exact": ex.tolist(),
                 "mc": vals.mean(axis=0).tolist(),
                 "mc_half_width": [replica_interval(vals[:, r], lv).half_width for r in range(len(steps))]}
        if key == "exponential":
            plateau = float(exact_paths["constant"][idx_T])
            checks.append(Check("control: exponential's final error = the constant-rate plateau at eta0", NEGATIVE_CONTROL,
                                plateau, est, res_rel * float(ex[idx_T]), "the decay is what lowers the error"))
        if key in mid:
            r = int(np.searchsorted(steps, mid[key]))
            est_m = replica_interval(vals[:, r], lv)
            checks.append(Check(f"{key}: E L(w_t) - L* mid-cycle, t = {mid[key]} (exact)", CLAIM, float(ex[r]), est_m,
                                res_rel * float(ex[r]), f"resolution {res_rel:g} x prediction"))
            exw = th.exact_moments(basin, wrong[key], inst.delta0, steps, mom).excess_loss
            checks.append(Check(f"control: {key} with the period doubled predicts E L(w_t) - L* at t = {mid[key]}",
                                NEGATIVE_CONTROL, float(exw[r]), est_m, res_rel * float(ex[r]), "a wrong period"))
            entry["wrong_period_exact"] = exw.tolist()
        data["schedules"][key] = entry
    return ClaimResult("D12", checks, inst.describe(), data)


def _derive(inst, latex=False):
    text = th.derive().text()
    return "\\begin{verbatim}\n" + text + "\n\\end{verbatim}" if latex else text


def _figure(result, outdir):
    from ..figures import schedules as fs

    return fs.fig_d12_schedules(result, outdir)


register(Claim("D12", "Learning-rate schedules: formulas, periods, bounds, and their effect on SGD's error",
               "001, slides 'Learning rate scheduling' (decay methods, cycling); Smith 2017; Loshchilov & Hutter 2017",
               "time-based, exponential, step, triangular and cosine-restart schedules have the stated formulas, "
               "periods and bounds; on a noisy quadratic each schedule's expected error follows the exact moment "
               "recursion (decay lowers the error below the constant-rate plateau)", "equality", run_d12, _derive,
               _figure, default_instance, instance_from_config))
