"""Claim D8 (running averages and bias correction) and erratum E2 (seed 003, McAllester); E1's instance.

D8 -- seed 003, slides "Digression on Running Averages" to "Bias Correction of Running Averages",
and the remark that Adam's correction (Kingma & Ba 2015, Alg. 1: m_t/(1 - beta^t)) "yields
essentially the same effect" as the min(N, t) form.  The sequence averaged is x_t = g_B,t[k], a
coordinate of fresh minibatch gradients at a fixed point w (what an optimizer's first-moment
estimate averages while the iterate stands still), drawn by the Numba kernel
``_kernels.running_average`` on independent paths.  Predictions (``theory.running_averages``):
E m_t = (1 - (1 - 1/N)^t) mu (SymPy rsolve), E m_1 = mu/N, ~ (t/N) mu only for t << N; the min(N, t)
form and Adam's correction are unbiased at every t; exact mean-square errors and the exact mean
square difference between the two corrections.  Negative controls: the plain average is unbiased;
E m_t = (t/N) mu at t = N; the two corrections coincide.

E1 -- the slide's unrolled weights (1/N)(1 - 1/N)^(-(t-s)) (as printed) vs (1/N)(1 - 1/N)^(+(t-s)): the claim
is ``e1_running_average_weights`` (written with the public API of sgdtheory.derivations), on this instance.
E2 -- the slide's sum_{n>=0} (1 - 1/N)^(-n) = N (as printed: divergent) vs sum (1 - 1/N)^n = N.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._kernels.compose import kernel
from .._kernels.rng import ZIG_FI, ZIG_KI, ZIG_WI, path_states
from ..config import finite_sum_problem
from ..config import FINITE_SUM, schema
from ..errors import ConfigError, SgdTheoryError, check_int, as_float_array
from ..problems import LinearRegression, QuadraticFiniteSum
from ..sampling import Sampler
from ..simulate import _seed_sequence
from ..stats import exact, replica_interval
from ..theory import running_averages as ra
from .base import (APPROXIMATION, AS_PRINTED, CLAIM, NEGATIVE_CONTROL, Check, Claim, ClaimResult, Settings,
                   planned_expectation, register)


@dataclass(frozen=True, eq=False)
class RunningAverageInstance:
    """x_t = g_B,t[coordinate] at the fixed point w of a finite-sum problem; horizon N."""

    problem: QuadraticFiniteSum | LinearRegression
    w: np.ndarray
    coordinate: int = 0
    N: int = 100
    sampler: Sampler = Sampler(1, "with_replacement")
    name: str = "default"

    def __post_init__(self):
        w = as_float_array(self.w, "w", 1)
        if w.shape != (self.problem.d,):
            raise SgdTheoryError(f"w: expected shape ({self.problem.d},), got {w.shape}")
        check_int(self.coordinate, "coordinate", 0, self.problem.d - 1)
        check_int(self.N, "N", 10, 100_000)
        if self.sampler.scheme not in ("with_replacement", "without_replacement"):
            raise SgdTheoryError("sampling: must be with_replacement or without_replacement (iid minibatches)")
        self.sampler.validate_for(self.problem.n)
        object.__setattr__(self, "w", w)
        if self.sigma2 <= 0:
            raise SgdTheoryError("w: the minibatch gradient coordinate has zero variance there; choose another w")
        if abs(self.mu) < 0.05 * np.sqrt(self.sigma2):
            raise SgdTheoryError(
                f"w: |E x| = {abs(self.mu):.3g} is below 0.05 sd(x) = {0.05 * np.sqrt(self.sigma2):.3g}; the bias "
                "of the running average is then invisible -- choose a point farther from the minimiser"
            )

    @property
    def mu(self) -> float:
        """E x_t = dL/dw_k at w."""
        return float(self.problem.gradients(self.w).mean(axis=0)[self.coordinate])

    @property
    def sigma2(self) -> float:
        """Var x_t = c_B Sigma_kk (Sigma: per-example gradient covariance at w)."""
        G = self.problem.gradients(self.w)[:, self.coordinate]
        return float(self.sampler.noise_factor(self.problem.n) * np.mean((G - G.mean()) ** 2))

    def describe(self) -> dict:
        return {"name": self.name, "n": self.problem.n, "d": self.problem.d, "w": self.w.tolist(),
                "coordinate": self.coordinate, "N": self.N, "batch_size": self.sampler.batch_size,
                "sampling": self.sampler.scheme, "mu": self.mu, "sigma2": self.sigma2}


def default_instance() -> RunningAverageInstance:
    """A1's linear regression (n = 12, d = 2) at a point where E x = 0.33 sd(x); N = 100, B = 1."""
    from .minibatch import default_a1

    a1 = default_a1()
    return RunningAverageInstance(a1.problem, a1.w, 0, 100, Sampler(1, "with_replacement"))


@schema('D8/E1/E2', {
    "problem": FINITE_SUM,
    "experiment": {"w": "num[]", "coordinate": "int", "N": "int", "batch_size": "int", "sampling": "str"},
})
def instance_from_config(cfg: dict) -> RunningAverageInstance:
    """[problem] X, y (or g, H, c) and [experiment] w, coordinate, N, batch_size, sampling."""
    problem = finite_sum_problem(cfg)
    prob = cfg["problem"]
    exp = cfg.get("experiment", {})
    unknown = set(exp) - {"w", "coordinate", "N", "batch_size", "sampling"}
    if unknown:
        raise ConfigError(f"experiment.{sorted(unknown)[0]}: unknown field; valid: w, coordinate, N, batch_size, sampling")
    try:
        sampler = Sampler(exp.get("batch_size", 1), exp.get("sampling", "with_replacement"))
        return RunningAverageInstance(problem, exp.get("w", np.zeros(problem.d)), exp.get("coordinate", 0),
                                      exp.get("N", 100), sampler, name=prob.get("name", "user"))
    except SgdTheoryError as exc:
        raise ConfigError(f"experiment.{exc}") from None


def simulate_running_averages(inst: RunningAverageInstance, steps, n_paths: int, seed, seed_key) -> np.ndarray:
    """(paths, len(steps), 3) values of (plain EMA, min(N, t) form, Adam-corrected EMA) at ``steps``."""
    steps = np.array(sorted(int(s) for s in steps), dtype=np.int64)
    if steps[0] < 1:
        raise SgdTheoryError("steps: every recorded step must be >= 1")
    kp = inst.problem.kernel_data()
    batch = inst.sampler.validate_for(inst.problem.n)
    rng = path_states(_seed_sequence(seed, seed_key), 0, check_int(n_paths, "n_paths", 2))
    out = np.zeros((n_paths, steps.size, 3))
    running_averages = kernel("running_average", "running_averages", inst.problem)
    running_averages(kp.A, kp.Hs, kp.v, 1.0, kp.w_star, inst.sampler.code, batch, inst.w,
                     inst.coordinate, inst.N, rng, ZIG_KI, ZIG_WI, ZIG_FI, steps, out)
    return out


def _n_paths(quick: bool) -> int:
    return 16384 if quick else 131072


#: the near controls sit this many planned half-widths from the claim in full mode (8/sqrt(8) = 2.8 in quick mode)
TARGET_HW = 8.0


def near_time(inst: RunningAverageInstance, gap_factor, level: float) -> int:
    """The smallest step t <= 5N at which |mu| gap_factor(t) -- the distance between the exact E m_t and a plausible
    wrong formula -- is TARGET_HW planned half-widths of the full-mode interval; planned from the known variance
    Var m_t = sigma^2 sum_s w_s^2 = sigma^2 (1 - beta^(2t))/(N^2 (1 - beta^2)), before any simulation."""
    from ..stats import _t_quantile

    N = inst.N
    beta = 1.0 - 1.0 / N
    t = np.arange(1, 5 * N + 1, dtype=np.float64)
    P = _n_paths(False)
    hw = _t_quantile(level, P - 1) * np.sqrt(inst.sigma2 * (1 - beta ** (2 * t)) / (N * N * (1 - beta**2)) / P)
    ratio = abs(inst.mu) * np.abs(gap_factor(t)) / hw
    ok = np.nonzero(ratio >= TARGET_HW)[0]
    return int(t[ok[0]] if ok.size else t[int(np.argmax(ratio))])


def _small_t_gap(N: int):
    """t/N - (1 - (1 - 1/N)^t): the slide's 'E m_t ~ (t/N) mu' read as exact, minus the truth."""
    return lambda t: t / N + np.expm1(t * np.log1p(-1.0 / N))


def _printed_gap(N: int):
    """sum of the printed weights - sum of the true ones: (beta^(-t) - 1)/(N (1/beta - 1)) - (1 - beta^t)."""
    b = 1.0 - 1.0 / N
    return lambda t: (b ** (-t) - 1.0) / (N * (1.0 / b - 1.0)) + np.expm1(t * np.log1p(-1.0 / N))


def planned_half_width(inst: RunningAverageInstance, t: int, level: float, quick: bool) -> float:
    from ..stats import _t_quantile

    N, P = inst.N, _n_paths(quick)
    beta = 1.0 - 1.0 / N
    return float(_t_quantile(level, P - 1) * np.sqrt(inst.sigma2 * (1 - beta ** (2 * t)) / (N * N * (1 - beta**2)) / P))


def _near_role(gap: float, planned_hw: float, control_role: str):
    """Role of a plausible wrong prediction, fixed from the plan: a control when it sits >= 2.5 planned half-widths
    from the truth (so the claim check can resolve it), else an approximation with the planned expectation."""
    if gap >= 2.5 * planned_hw:
        return control_role, None
    return APPROXIMATION, planned_expectation(gap, planned_hw)


def _simulate(inst: RunningAverageInstance, settings: Settings):
    extra = [near_time(inst, _small_t_gap(inst.N), settings.level), near_time(inst, _printed_gap(inst.N), settings.level)]
    steps = np.unique(np.concatenate([ra.horizons(inst.N, settings.quick), extra]))
    n_paths = _n_paths(settings.quick)
    settings.step(f"{n_paths} paths x {steps[-1]} minibatch draws")
    return steps, simulate_running_averages(inst, steps, n_paths, settings.seed, (0xD8, 0))


def run_d8(inst: RunningAverageInstance, settings: Settings) -> ClaimResult:
    lv = settings.level
    mu, s2, N = inst.mu, inst.sigma2, inst.N
    steps, vals = _simulate(inst, settings)
    der = ra.derive()
    ridx = {int(t): i for i, t in enumerate(steps)}
    sd = np.sqrt(s2)
    mean_res = 0.05 * abs(mu)
    checks = []
    # SymPy against the exact weights
    sym_val = _at_N(der.ema_mean, N)  # at t = N: both symbols take the value N
    checks.append(Check(f"SymPy rsolve: E m_N / mu = 1 - (1 - 1/N)^N = sum of the EMA weights (N = {N})", CLAIM,
                        ra.mean_factor("ema", N, N), exact(sym_val, "SymPy rsolve"), 1e-9,
                        "the recursion's solution against the unrolled weights"))
    t_small = max(1, N // 10)
    for t, role_note in ((1, "E m_1 = mu/N"), (t_small, "t << N"), (N, "t = N"), (2 * N, "t = 2N")):
        if t not in ridx:
            continue
        est = replica_interval(vals[:, ridx[t], 0], lv)
        checks.append(Check(f"plain EMA: E m_t = (1 - (1 - 1/N)^t) mu at t = {t} ({role_note})", CLAIM,
                            ra.mean_factor("ema", N, t) * mu, est, mean_res,
                            "exact; paths are independent replicas"))
        if t == t_small:
            checks.append(Check(f"control: the plain EMA is unbiased, E m_t = mu at t = {t}", NEGATIVE_CONTROL,
                                mu, est, mean_res, "the bias toward 0 that Adam corrects"))
        if t == N:
            checks.append(Check("control: E m_t = (t/N) mu at t = N (= mu)", NEGATIVE_CONTROL, mu, est, mean_res,
                                "the small-t approximation used beyond its range"))
    # the near control, planned: where the slide's small-t form (t/N) mu sits TARGET_HW full-mode half-widths away
    t_n = near_time(inst, _small_t_gap(N), lv)
    est_n = replica_interval(vals[:, ridx[t_n], 0], lv)
    checks.append(Check(f"plain EMA: E m_t = (1 - (1 - 1/N)^t) mu at t = {t_n} (planned: the small-t form is resolved)",
                        CLAIM, ra.mean_factor("ema", N, t_n) * mu, est_n, mean_res, "exact; independent paths", main=True))
    gap_n = abs(mu) * abs(_small_t_gap(N)(t_n))
    hw_n = planned_half_width(inst, t_n, lv, settings.quick)
    role, expect = _near_role(gap_n, hw_n, NEGATIVE_CONTROL)
    checks.append(Check(f"control: the slide's 'E m_t ~ (t/N) mu' taken as exact at t = {t_n}", role, t_n / N * mu, est_n,
                        mean_res, f"t planned from Var m_t so that it sits {gap_n / hw_n:.1f} planned half-widths away",
                        expect=expect))
    checks.append(Check("SymPy: E m_t / ((t/N) mu) -> 1 as N -> oo at fixed t (the slide's 'E m_t ~ (t/N) mu for t << N')",
                        CLAIM, 1.0, exact(float(der.small_t_limit), "SymPy limit"), 1e-9,
                        f"first-order correction: (E m_t/mu)/(t/N) = {der.small_t_ratio} + O(t^2/N^2)"))
    for form, label in (("min_form", "min(N, t) form"), ("adam", "Adam's m_t/(1 - beta^t)")):
        j = 1 if form == "min_form" else 2
        for t in (t_small, N, 5 * N):  # at t = 1 both are x_1 itself
            if t not in ridx:
                continue
            checks.append(Check(f"{label}: unbiased, E = mu at t = {t}", CLAIM, mu,
                                replica_interval(vals[:, ridx[t], j], lv), mean_res, "weights sum to 1 (exact)"))
        for t in (t_small, N):
            est = replica_interval((vals[:, ridx[t], j] - mu) ** 2, lv)
            pred = ra.mse(form, N, t, mu, s2)
            checks.append(Check(f"{label}: E(est - mu)^2 = sigma^2 sum w_s^2 at t = {t}", CLAIM, pred, est,
                                0.05 * pred, "exact weights; squared errors of independent paths"))
    # how close the two corrections are
    tm = max(1, N // 2)
    if tm in ridx:
        diff = (vals[:, ridx[tm], 1] - vals[:, ridx[tm], 2]) ** 2
        pred = ra.mean_square_difference(N, tm, s2)
        est = replica_interval(diff, lv)
        checks.append(Check(f"min(N, t) form vs Adam: E(a_t - m_t/(1 - beta^t))^2 exact at t = {tm}", CLAIM, pred, est,
                            0.05 * pred,
                            f"'essentially the same effect': the difference's rms is "
                            f"{np.sqrt(pred / ra.mse('min_form', N, tm, mu, s2)):.3f} of the min-form's rms error"))
        checks.append(Check(f"control: the two corrections coincide (difference 0) at t = {tm}", NEGATIVE_CONTROL, 0.0,
                            est, 0.05 * pred, "they weight the first N observations differently"))
    data = {"steps": steps.tolist(), "N": N, "mu": mu, "sigma2": s2,
            "mc_mean": vals.mean(axis=0).tolist(),
            "mc_mean_halfwidth": [[replica_interval(vals[:, r, j], lv).half_width for j in range(3)]
                                  for r in range(steps.size)],
            "mc_mse": ((vals - mu) ** 2).mean(axis=0).tolist(),
            "mc_mse_halfwidth": [[replica_interval((vals[:, r, j] - mu) ** 2, lv).half_width for j in range(3)]
                                 for r in range(steps.size)],
            "sd": sd}
    return ClaimResult("D8", checks, inst.describe(), data)


def _at_N(expr, N: int) -> float:
    """A SymPy expression in N evaluated at the instance's N."""
    return float(expr.subs({s: N for s in expr.free_symbols}))


def run_e2(inst: RunningAverageInstance, settings: Settings) -> ClaimResult:
    N = inst.N
    der = ra.derive()
    beta = 1 - 1 / N
    K = 10 * N
    partial_printed = float((beta ** (-K) - 1) / (beta ** (-1) - 1))
    partial_corrected = float((1 - beta**K) / (1 - beta))
    checks = [
        Check(f"as printed: sum_(n>=0) (1 - 1/N)^(-n) = N; partial sum to n = 10N (N = {N})", AS_PRINTED, float(N),
              exact(partial_printed, "closed-form geometric partial sum"), 1e-6 * N,
              f"SymPy is_convergent: {der.printed_series_convergent} (ratio N/(N-1) > 1)"),
        Check("as printed: SymPy decides the series converges (1 = yes)", AS_PRINTED, 1.0,
              exact(float(der.printed_series_convergent), "SymPy Sum.is_convergent"), 1e-9, "it diverges"),
        Check(f"corrected: sum_(n>=0) (1 - 1/N)^n = N (SymPy, N = {N})", CLAIM, float(N),
              exact(_at_N(der.corrected_series, N), "SymPy Sum.doit"), 1e-9 * N, f"SymPy: {der.corrected_series}"),
        Check(f"corrected: the series summed term by term to n = 100N equals N (N = {N})", CLAIM, float(N),
              exact(float(np.sum(beta ** np.arange(100 * N))), "float64 summation; tail N e^-100"), 1e-9 * N,
              "the neglected tail is N (1 - 1/N)^(100N) < N e^-100"),
    ]
    data = {"N": N, "partial_printed": partial_printed, "partial_corrected": partial_corrected}
    return ClaimResult("E2", checks, inst.describe(), data)


def _derive(inst, latex=False):
    text = ra.derive().text()
    return "\\begin{verbatim}\n" + text + "\n\\end{verbatim}" if latex else text


def _figure(claim_id):
    def make(result, outdir):
        from ..figures import running_averages as fr

        return fr.FIGURES[claim_id](result, outdir)
    return make


SOURCE = "003, slides 'Digression on Running Averages' to 'Bias Correction of Running Averages'"
register(Claim("D8", "Running averages: E mu_hat_t = (1 - (1 - 1/N)^t) mu; min(N, t) and Adam's corrections",
               SOURCE + "; Kingma & Ba 2015",
               "E mu_hat_t = (1 - (1-1/N)^t) mu ~ (t/N) mu for t << N; the min(N, t) form and m_t/(1 - beta^t) are "
               "unbiased and nearly equal", "equality", run_d8, _derive, _figure("D8"), default_instance,
               instance_from_config))
register(Claim("E2", "Erratum: sum_(n>=0) (1 - 1/N)^(-n) = N as printed diverges", SOURCE,
               "sum_(n>=0) (1 - 1/N)^n = N (printed with ^-n)", "erratum", run_e2, _derive, _figure("E2"),
               default_instance, instance_from_config))
