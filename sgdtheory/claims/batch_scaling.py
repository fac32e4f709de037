"""Claims C3 (linear scaling), C4 (momentum and second-moment horizons), C5 (decay eta = grow B).

Sources: seed 003 (D. McAllester, TTIC 31230 SGD slides), slides "Scaling eta", "Scaling N_mu", "Scaling N_s";
seed 001 (KAIST EE807, batch size); Goyal et al. 2017; Smith, Kindermans, Ying & Le 2018 ("Don't Decay the
Learning Rate, Increase the Batch Size", noise scale g = eta n / B).  Theory: ``theory.batch_scaling``.

C3 -- (a) one step at batch B with eta_B = B eta_1 against B steps at batch 1 on the same examples (exact,
deterministic, a quadratic finite sum): SymPy composition with non-commuting matrix symbols gives the
difference eta_1^2 sum_{j<k} H_{i_k} grad L_{i_j}(x_0) + O(eta^3) (the eta^0 and eta^1 coefficients vanish);
float64 differences over an eta grid have log-log slope 2 (control: eta_B = eta_1, slope 1).  (b) The exact
stationary excess loss E L - L* (fixed point of the exact second-moment recursion) at (eta, B) = (B r, B) for
several B: its first-order coefficient (E L - L*)/r -> tr Sigma/4 for every B (Richardson extrapolation of the
exact values); the differences E(Br, B) - E(r, 1) are O(r^2) (exact slope 2) while at equal eta (not eta/B)
E(eta, B) - E(eta, 1) is O(eta) (control, slope 1); Monte Carlo (engine, time averages over independent paths)
against the exact values (claims), against the batch-1 value at the same eta/B and against the first-order
(continuous-time) value (eta/B) tr Sigma/4 (approximations, or a control where the plan resolves it), and the
controls "batches without replacement" (noise factor (n - B)/(B(n - 1)), the near control) and "depends on eta
alone" (the batch-1 value at the same eta).

C4 -- what is matched (see the theory module): with (eta'_B, N_B) = (B eta'_1, N_1/B) the pair (Phi, mu) has one
diffusion limit per example seen.  Checks: (a) the EMA of minibatch gradients at a fixed point: Var mu =
sigma^2/(2N_1 - B) (times the transient factor 1 - beta^(2t), exact) measured with the running-average kernel
(claim D8's) at N_B = N_1/B after t = N_B batches, against batch 1's value (matched to O(B/N_1): an approximation),
the unscaled horizon's sigma^2/(B(2N_1 - 1)) (control) and the stationary value with the transient forgotten (the
near control, ~13% off at t = N);
(b) heavy ball on a Gaussian-noise quadratic: the exact (discrete Lyapunov) stationary covariance of
mu = v/N = -(w_{t+1} - w_t)/eta' at B equals batch 1's to O(eps) (relative difference, exact slope 1 in eps
with 1/N_1 = a eps, eta'_1 = c eps; eps = 1/320 by default so that the O(eps) gap, 0.25%, is below a quarter of
the Monte Carlo half-width); control: the unscaled horizon N_B = N_1 (relative difference -> -(1 - 1/B),
slope 0); Monte Carlo of tr Cov(mu) from displacements of independent paths, for both rules; the iterate's own
covariance (excess loss) is matched to O(eps^2) by BOTH rules -- it depends on eta'/B only -- which the Monte
Carlo confirms as approximations with planned expectations (a finding: only the momentum's statistics need the
horizon scaling);  (c) N_s: the second-moment
average over per-example squares with N_s counting examples has E s = mean_i g_i^2 and Var s =
Var_i(g_i^2)/(2N_s - 1) at every B (exact; Monte Carlo by a Numba kernel at B = 1 and B); controls: the
engine's RMSProp semantics (square of the batch mean) with N_s fixed, and with N_s/B (the N_mu rule): E s =
gbar^2 + Sigma/B, rejected.

C5 -- Smith et al. 2018 on a quadratic finite sum: stages of E epochs; 'decay' (eta_0/f^k at B_0) against
'grow' (eta_0 at B_0 f^k): the same noise scale eta n/B in every stage; exact excess loss per epoch (piecewise
exact moments) and Monte Carlo (``_kernels.batch_scaling.staged_paths``: per-path states across stages) with
intervals over independent paths at every epoch.  The schedules share one stream of example indices (common random
numbers: the growing batch of B_0 f^k examples is the next B_0 f^k examples the decaying run takes in f^k steps),
so the paired difference MC 'grow' - MC 'decay' has ~100x the resolution of two independent ensembles.  Claims:
each schedule's Monte Carlo curve equals its exact curve; the paired difference equals the exact (small, O(eta0^2)
relative) difference at every stage end -- the headline, made in every mode; against it, "the same loss per epoch"
taken as exact (difference 0: an approximation, planned detectably wrong) and the plausible wrong answer "the noise
cancels when eta n/B is matched, leaving noiseless gradient descent's discretisation gap" (a control where the plan
puts it >= 3 planned half-widths away, else an approximation); exactly, at fixed epochs the matched schedules'
relative gap is O(eta0^2) (elapsed time O(eta0) times the O(eta) discretisation difference: slope 2) while the
control's is O(eta0) (slope 1); the update count.  Negative control: growing B while also decaying eta
('grow_and_decay', noise scale falling as f^-2k) against the decaying-eta curve.

Roles are fixed before measuring (issue 13): a first-order ('matched') prediction is an APPROXIMATION whose
expected verdict comes from its exact gap and a planned half-width (``planned_expectation``), and a plausible wrong
answer is a control only where the plan resolves it (``planned_alternative``); no check is ever dropped.  Plans: C3 and C4
from the exact second moments (``planned_time_average_half_width``, Gaussian fourth moments), C5 from a pilot run on
its own seed stream (seed_key (0xC5, 16)).

Deterministic slopes (``_deterministic_slope``): the asymptotic exponent of exact values, the local two-point
slopes extrapolated linearly to 0; the interval is +- the extrapolation step (at least SLOPE_FLOOR) and must be
below SLOPE_RES.  Monte Carlo checks use independent paths (replica intervals) at ``settings.level``; every
resolution is stated in the check's note.  Seeds: settings.seed with seed_key (0xC3, k), (0xC4, k), (0xC5, k).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import special

from .._kernels.compose import kernel
from .._kernels.rng import ZIG_FI, ZIG_KI, ZIG_WI, path_states
from .._kernels.square_ema import square_ema_paths
from ..config import schema
from ..errors import ConfigError, SgdTheoryError, check_float, check_int
from ..optimizers import SGD, HeavyBall
from ..problems import GaussianNoiseQuadratic, QuadraticFiniteSum
from ..sampling import Sampler
from ..simulate import _seed_sequence, simulate
from ..stats import Estimate, difference, exact, replica_interval
from ..theory import batch_scaling as bs
from ..theory.quadratic_basin import QuadraticBasin
from .base import (APPROXIMATION, CLAIM, NEGATIVE_CONTROL, Check, Claim, ClaimResult, Settings, planned_expectation,
                   register)

SLOPE_RES = 0.05  # deterministic slopes: the extrapolation step (interval half-width) must stay below this
SLOPE_FLOOR = 1e-3  # smallest half-width given to an extrapolated deterministic slope

_G = [[0.32, 0.59], [0.3, -1.53], [0.88, 0.22], [-0.56, 0.35], [0.34, 0.07], [0.0, 0.32], [-0.76, -0.39],
      [-0.51, 0.37]]
_A = [1.02, 0.85, 0.61, 0.87, 1.0, 0.86, 1.65, 1.5]
_B = [0.5, 0.7, 0.4, 0.6, 0.45, 0.55, 0.65, 0.35]


def default_problem() -> QuadraticFiniteSum:
    """n = 8, d = 2: per-example Hessians [[a_i, 0.2], [0.2, b_i]] (spread curvatures), gradients g_i at 0."""
    H = np.array([[[a, 0.2], [0.2, b]] for a, b in zip(_A, _B)])
    return QuadraticFiniteSum(np.array(_G), H, name="n = 8, d = 2 quadratic finite sum")


_SCHEMA = {
    "problem": {"g": "num[][]", "H": "num[][][]", "c": "num[]", "anchor": "num[]", "name": "str",
                "heavy_ball": {"H": "num[][]", "C": "num[][]", "name": "str"}},
    "experiment": {
        "C3": {"x0": "num[]", "order": "int[]", "ratio": "num", "batch_sizes": "int[]!", "etas": "num[]!"},
        "C4": {"eps": "num", "a": "num", "c": "num", "batch_size": "int", "values": "num[]", "N_s": "int"},
        "C5": {"w0": "num[]", "eta0": "num", "B0": "int", "factor": "int", "n_stages": "int", "epochs": "int"},
    },
}


def _problem_from_config(cfg: dict) -> tuple[QuadraticFiniteSum | None, str]:
    prob = cfg.get("problem")
    if prob is None:
        return None, "default"
    if not isinstance(prob, dict):
        raise ConfigError("problem: expected a section [problem] with g and H")
    name = prob.get("name", "user")
    unknown = set(prob) - {"g", "H", "c", "anchor", "name", "heavy_ball"}
    if unknown:
        raise ConfigError(f"problem.{sorted(unknown)[0]}: unknown field; valid: g, H, c, anchor, name, heavy_ball")
    if "g" not in prob and "H" not in prob:
        return None, name
    try:
        return QuadraticFiniteSum(prob["g"], prob["H"], prob.get("c"), prob.get("anchor"), name=name), name
    except KeyError as exc:
        raise ConfigError(f"problem.{exc.args[0]}: required") from None
    except SgdTheoryError as exc:
        raise ConfigError(f"problem.{exc}") from None


def _experiment(cfg: dict, section: str, valid: set) -> dict:
    """The claim's own table [experiment.C3], [experiment.C4] or [experiment.C5] (one config file serves all three
    claims); unknown fields rejected, naming the field."""
    exp = cfg.get("experiment", {})
    unknown = set(exp) - {"C3", "C4", "C5"}
    if unknown:
        raise ConfigError(f"experiment.{sorted(unknown)[0]}: unknown field; valid: the tables experiment.C3, "
                          "experiment.C4, experiment.C5")
    own = exp.get(section, {})
    if not isinstance(own, dict):
        raise ConfigError(f"experiment.{section}: expected a table [experiment.{section}]")
    unknown = set(own) - valid
    if unknown:
        raise ConfigError(f"experiment.{section}.{sorted(unknown)[0]}: unknown field; valid: {', '.join(sorted(valid))}")
    return own


def _deterministic_slope(x, y, label: str) -> Estimate:
    """The asymptotic (x -> 0) log-log slope of exact values y(x) = C x^p (1 + O(x)).

    The local two-point slopes l_k at the geometric midpoints m_k are p + O(m_k); their linear extrapolation from the
    two smallest points to m = 0 is the estimate, and the interval is +- the size of that extrapolation step
    |l_0 - estimate| (the O(x) correction it removed), at least SLOPE_FLOOR (higher-order and rounding terms); it
    shrinks with the grid and is not a sampling interval."""
    x = np.asarray(x, dtype=np.float64)
    y = np.abs(np.asarray(y, dtype=np.float64))
    if np.any(y <= 0) or x.size < 3:
        raise SgdTheoryError(f"{label}: need >= 3 points and nonzero differences for a slope")
    o = np.argsort(x)
    x, y = x[o], y[o]
    u, v = np.log(x), np.log(y)
    local = np.diff(v) / np.diff(u)
    mid = np.sqrt(x[1:] * x[:-1])
    ext = float(local[0] - mid[0] * (local[1] - local[0]) / (mid[1] - mid[0]))
    hw = max(abs(float(local[0]) - ext), SLOPE_FLOOR)
    return Estimate(ext, ext - hw, ext + hw, 1.0,
                    "deterministic asymptotic log-log slope (local slopes extrapolated to 0; interval = the "
                    "extrapolation step)", int(x.size))


def replica_quantile(level: float, n: int) -> float:
    """Two-sided Student-t quantile on n - 1 degrees of freedom (the replica interval's)."""
    return float(special.stdtrit(n - 1, 0.5 + 0.5 * level))


def planned_time_average_half_width(A, S, Q, n_steps: int, n_paths: int, level: float) -> float:
    """Planned half-width of the mean over n_paths independent paths of the time average over n_steps of x.Q x, for
    a stationary linear process x' = A x + noise with covariance S, treated as Gaussian (a power calculation made
    before measuring, from the exact second moments; not the measured interval).

    For a Gaussian process Cov(x_0.Q x_0, x_k.Q x_k) = 2 tr(Q S (A^k)^T Q A^k S) (Isserlis), and
    sum_{k>=0} (A^k)^T Q A^k = Z solves Z = A^T Z A + Q, so the long-run variance of the time average is
    (4 tr(Z S Q S) - 2 tr(Q S Q S)) / n_steps."""
    from scipy import linalg

    A, S, Q = (np.asarray(x, dtype=np.float64) for x in (A, S, Q))
    Z = linalg.solve_discrete_lyapunov(A.T, Q)
    var = max(4.0 * float(np.trace(Z @ S @ Q @ S)) - 2.0 * float(np.trace(Q @ S @ Q @ S)), 0.0) / n_steps
    return replica_quantile(level, n_paths) * np.sqrt(var / n_paths)


def planned_approximation(name, approx, exact_value, est, planned_hw, resolution, what, against=None,
                   adequate_below: float = 0.25) -> Check:
    """A first-order ('matched') prediction against a measurement: role APPROXIMATION, its expected verdict fixed
    before measuring from the exact gap (approx - exact, known) and the planned half-width (``planned_expectation``:
    adequate below ``adequate_below`` planned half-widths, detectably wrong above two; in between reported, not
    counted).  A conservative plan (an upper bound on the half-width) should pass a smaller ``adequate_below``."""
    gap = approx - exact_value
    expect = planned_expectation(gap, planned_hw, adequate_below=adequate_below)
    return Check(name, APPROXIMATION, approx, est, resolution,
                 f"exact gap {what} = {gap:+.4g} = {abs(gap) / planned_hw:.3g} planned half-widths "
                 f"({planned_hw:.3g})", against=against, expect=expect)


def planned_alternative(name, pred, truth, est, planned_hw, resolution, note, against=None) -> Check:
    """A plausible wrong answer, its role fixed by the plan: a negative control when the exact gap to the truth is at
    least 3 planned half-widths (so the claim check can still resolve it under the resolution rule), otherwise an
    approximation with its planned expectation (reported; never dropped)."""
    gap = pred - truth
    ratio = abs(gap) / planned_hw
    note = f"{note}; exact gap {gap:+.4g} = {ratio:.3g} planned half-widths ({planned_hw:.3g})"
    if ratio >= 3.0:
        return Check("control: " + name, NEGATIVE_CONTROL, pred, est, resolution, note, against=against)
    return Check("approximation: " + name, APPROXIMATION, pred, est, resolution, note, against=against,
                 expect=planned_expectation(gap, planned_hw))


# ============================================================================================== C3


@dataclass(frozen=True, eq=False)
class LinearScalingInstance:
    """A quadratic finite sum; x0 and the ordered examples of the one-vs-many comparison; eta/B and batch sizes."""

    problem: QuadraticFiniteSum
    x0: np.ndarray
    order: tuple = (3, 0, 5, 6)
    ratio: float = 0.01  # r = eta / B of the stationary comparison
    batch_sizes: tuple = (1, 2, 4)
    etas: tuple = (0.0005, 0.001, 0.002, 0.004, 0.008)  # grid of eta_1 for the one-vs-many slopes
    name: str = "default"

    def __post_init__(self):
        p = self.problem
        if not isinstance(p, QuadraticFiniteSum):
            raise SgdTheoryError(f"problem: expected a QuadraticFiniteSum, got {type(p).__name__}")
        x0 = np.asarray(self.x0, dtype=np.float64)
        if x0.shape != (p.d,):
            raise SgdTheoryError(f"x0: expected shape ({p.d},), got {x0.shape}")
        object.__setattr__(self, "x0", x0)
        order = tuple(int(i) for i in self.order)
        if not 2 <= len(order) <= 5 or any(not 0 <= i < p.n for i in order):
            raise SgdTheoryError(f"order: 2..5 example indices in 0..{p.n - 1}; got {list(self.order)}")
        object.__setattr__(self, "order", order)
        bsz = tuple(check_int(b, "batch_sizes", 1, 64) for b in self.batch_sizes)
        if len(bsz) < 2 or bsz[0] != 1 or list(bsz) != sorted(set(bsz)):
            raise SgdTheoryError(f"batch_sizes: increasing, distinct, starting at 1 (at least two); got {list(bsz)}")
        object.__setattr__(self, "batch_sizes", bsz)
        lam = float(np.max(np.linalg.eigvalsh(p.mean_hessian)))
        check_float(self.ratio, "ratio", 0.0, 0.05 / (lam * bsz[-1]))  # eta lambda_max <= 0.05 at the largest B
        etas = tuple(sorted(check_float(e, "etas", 0.0, 0.1 / lam) for e in self.etas))
        if len(etas) < 3:
            raise SgdTheoryError("etas: need at least 3 learning rates for a slope")
        object.__setattr__(self, "etas", etas)

    def basin(self, B: int) -> QuadraticBasin:
        km = self.problem.kernel_data()
        return QuadraticBasin(km.A, km.Hs, B, "with_replacement")

    def describe(self) -> dict:
        return {"name": self.name, "n": self.problem.n, "d": self.problem.d, "x0": self.x0.tolist(),
                "order": list(self.order), "ratio": self.ratio, "batch_sizes": list(self.batch_sizes),
                "etas": list(self.etas)}


def default_c3() -> LinearScalingInstance:
    return LinearScalingInstance(default_problem(), np.array([1.0, -1.0]))


@schema("C3/C4/C5", _SCHEMA)
def c3_from_config(cfg: dict) -> LinearScalingInstance:
    """[problem] g, H (a quadratic finite sum); [experiment.C3] x0, order, ratio, batch_sizes, etas."""
    problem, name = _problem_from_config(cfg)
    problem = default_problem() if problem is None else problem
    exp = _experiment(cfg, "C3", {"x0", "order", "ratio", "batch_sizes", "etas"})
    d = default_c3()
    try:
        return LinearScalingInstance(problem, exp.get("x0", np.ones(problem.d)), tuple(exp.get("order", d.order)),
                                     exp.get("ratio", d.ratio), tuple(exp.get("batch_sizes", d.batch_sizes)),
                                     tuple(exp.get("etas", d.etas)), name=name)
    except SgdTheoryError as exc:
        raise ConfigError(f"experiment.C3.{exc}") from None


def run_c3(inst: LinearScalingInstance, settings: Settings) -> ClaimResult:
    lv = settings.level
    p = inst.problem
    checks: list[Check] = []
    data: dict = {}
    # (a) one step vs B steps: SymPy and float64
    B = len(inst.order)
    sym = bs.symbolic_one_vs_many(min(B, 4))
    zero_terms = int(sym["coeffs"][0] != 0) + int(sym["coeffs"][1] != 0)
    checks.append(Check(f"SymPy: B steps at eta minus one step at B eta has no eta^0, eta^1 terms (B = {sym['B']}); "
                        "count of nonzero terms", CLAIM, 0.0, exact(float(zero_terms), "SymPy, non-commuting symbols"),
                        1e-9, f"eta^2 term: {sym['eta2_closed']}"))
    checks.append(Check("SymPy: eta^2 term = sum_{j<k} H_k grad L_j(x0); residual (1 = nonzero)", CLAIM, 0.0,
                        exact(float(sym["eta2_residual"] != 0), "SymPy expand"), 1e-9, "closed form"))
    poly = bs.polynomial_difference(p, inst.order, inst.x0)
    c2 = bs.eta2_coefficient(p.gradients(inst.x0)[list(inst.order)], p.H[list(inst.order)])
    scale = float(np.max(np.abs(c2)))
    checks.append(Check(f"instance: eta^2 coefficient of the composed maps = the SymPy formula (order {list(inst.order)}); "
                        "max abs difference / max |coefficient|", CLAIM, 0.0,
                        exact(float(np.max(np.abs(poly[2] - c2))) / scale, "numpy polynomial composition",
                              abs_tol=1e-12), 1e-9,
                        f"eta^1 coefficient max {np.max(np.abs(poly[1])):.2e} (0 up to rounding)"))
    etas = np.array(inst.etas)
    diff_s = np.array([np.linalg.norm(bs.one_vs_many_difference(p, inst.order, inst.x0, e, True)) for e in etas])
    diff_u = np.array([np.linalg.norm(bs.one_vs_many_difference(p, inst.order, inst.x0, e, False)) for e in etas])
    slope_s = _deterministic_slope(etas, diff_s, "scaled difference")
    slope_u = _deterministic_slope(etas, diff_u, "unscaled difference")
    checks += [
        Check(f"one step at B eta vs B = {B} steps at eta: |difference| ~ eta^2 (log-log slope 2)", CLAIM, 2.0, slope_s,
              SLOPE_RES, f"eta in [{etas[0]:g}, {etas[-1]:g}], float64 runs; resolution {SLOPE_RES}"),
        Check("control: without scaling (eta_B = eta_1) the difference is also O(eta^2) (slope 2)", NEGATIVE_CONTROL,
              2.0, slope_u, SLOPE_RES, "it is O(eta): (B - 1) eta mean grad"),
    ]
    data["one_vs_many"] = {"etas": etas.tolist(), "scaled": diff_s.tolist(), "unscaled": diff_u.tolist(),
                           "eta2_norm": float(np.linalg.norm(c2)), "slope_scaled": slope_s.to_dict(),
                           "slope_unscaled": slope_u.to_dict()}
    # (b) stationary excess loss
    r = inst.ratio
    Bs = inst.batch_sizes
    coef = bs.first_order_excess_coefficient(inst.basin(1))
    exact_E = {b: bs.stationary_excess(inst.basin(b), b * r) for b in Bs}
    for b in Bs:
        basin = inst.basin(b)
        r1, r2 = 1e-4 * r, 0.5e-4 * r  # Richardson: 2 f(r/2) - f(r) removes the O(r) term
        rich = 2 * bs.stationary_excess(basin, b * r2) / r2 - bs.stationary_excess(basin, b * r1) / r1
        checks.append(Check(f"first order: lim (E L - L*)/(eta/B) = tr Sigma/4 along eta = B r, B = {b}", CLAIM, coef,
                            exact(rich, "exact stationary moments, Richardson at r = 1e-4, 5e-5 x ratio",
                                  abs_tol=1e-6 * coef), 2e-6 * coef,
                            "the same for every B: depends on eta/B only; Richardson remainder O(r^2) below 1e-6"))
    rs = r * np.array([1 / 64, 1 / 32, 1 / 16, 1 / 8])
    Bm = Bs[-1]
    d_same_ratio = [bs.stationary_excess(inst.basin(Bm), Bm * x) - bs.stationary_excess(inst.basin(1), x) for x in rs]
    d_same_eta = [bs.stationary_excess(inst.basin(Bm), Bm * x) - bs.stationary_excess(inst.basin(1), Bm * x) for x in rs]
    sl_ratio = _deterministic_slope(rs, d_same_ratio, "same-ratio difference")
    sl_eta = _deterministic_slope(rs, d_same_eta, "same-eta difference")
    checks += [
        Check(f"exact: E(B r, B) - E(r, 1) = O(r^2) at B = {Bm} (slope 2): equal to first order", CLAIM, 2.0, sl_ratio,
              SLOPE_RES, f"r in [{rs[0]:g}, {rs[-1]:g}]"),
        Check(f"control ('depends on eta alone'): E(eta, {Bm}) - E(eta, 1) = O(eta^2) (slope 2)", NEGATIVE_CONTROL, 2.0,
              sl_eta, SLOPE_RES, "it is first order: (1/B - 1) eta tr Sigma/4"),
    ]
    # Monte Carlo, with the plan made first: the planned half-width of each time average from the exact stationary
    # second moments (``planned_time_average_half_width``), which fixes the roles of the first-order checks
    n_paths = 256 if settings.quick else 1024
    mc = {}
    plans = {}
    lam_min = float(np.min(np.linalg.eigvalsh(p.mean_hessian)))
    hbar = p.mean_hessian
    first_order = coef * r
    for k, b in enumerate(Bs):
        eta = b * r
        relax = int(np.ceil(1.0 / (eta * lam_min)))
        n_steps = (200 if settings.quick else 800) * relax
        burn = 20 * relax
        _, S_b = bs.stationary_second_moments(inst.basin(b), eta)
        plan = planned_time_average_half_width(np.eye(p.d) - eta * hbar, S_b, 0.5 * hbar, n_steps - burn, n_paths, lv)
        plans[b] = plan
        settings.step(f"C3 Monte Carlo at B = {b}, eta = {eta:g}: {n_paths} paths x {n_steps} steps")
        res = simulate(p, eta, sampler=Sampler(b, "with_replacement"), n_steps=n_steps, n_paths=n_paths,
                       seed=settings.seed, seed_key=(0xC3, k), time_average=("excess_loss",),
                       burn_in=burn, n_batches=10)
        est = replica_interval(res.path_averages("excess_loss"), lv)
        mc[b] = est
        res_e = 0.05 * exact_E[b]
        name = f"MC stationary excess loss = exact at eta = {eta:g}, B = {b}"
        checks.append(Check(name, CLAIM, exact_E[b], est, res_e,
                            f"time averages after burn-in, one per independent path; resolution 5%; planned "
                            f"half-width {plan:.3g}", main=(b == Bs[-1])))
        checks.append(planned_alternative(f"first order as exact: MC at (eta, B) = ({eta:g}, {b}) = (eta/B) tr Sigma/4",
                                   first_order, exact_E[b], est, plan, res_e,
                                   "the continuous-time (Lyapunov HS + SH = eta Sigma/B) value", against=name))
        if b != 1:
            checks.append(planned_approximation(f"linear scaling to first order: MC excess loss at (eta, B) = ({eta:g}, {b}) = "
                                         "batch-1 exact value at the same eta/B", exact_E[1], exact_E[b], est, plan,
                                         res_e, "E(r, 1) - E(Br, B)", against=name))
        if 1 < b <= p.n:
            km = p.kernel_data()
            wo = bs.stationary_excess(QuadraticBasin(km.A, km.Hs, b, "without_replacement"), eta)
            checks.append(planned_alternative(f"batches without replacement: MC at (eta, B) = ({eta:g}, {b}) = the exact "
                                       "value for sampling without replacement", wo, exact_E[b], est, plan, res_e,
                                       "noise factor (n - B)/(B(n - 1)) instead of 1/B", against=name))
        if b != 1:
            checks.append(Check(f"control ('depends on eta alone'): MC at (eta, B) = ({eta:g}, {b}) = batch-1 exact "
                                f"value at eta = {eta:g}", NEGATIVE_CONTROL, bs.stationary_excess(inst.basin(1), eta),
                                est, res_e, "B times too large", against=name))
    data["stationary"] = {"ratio": r, "batch_sizes": list(Bs), "exact": [exact_E[b] for b in Bs],
                          "first_order": coef * r, "mc": [mc[b].to_dict() for b in Bs], "rs": rs.tolist(),
                          "diff_same_ratio": d_same_ratio, "diff_same_eta": d_same_eta,
                          "batch1_same_eta": [bs.stationary_excess(inst.basin(1), b * r) for b in Bs],
                          "planned_half_widths": [plans[b] for b in Bs]}
    return ClaimResult("C3", checks, inst.describe(), data)


# ============================================================================================== C4


@dataclass(frozen=True, eq=False)
class HorizonInstance:
    """Heavy ball on L = x.Hx/2 + Gaussian gradient noise C/B in McAllester's (eta', N); N_s on per-example values."""

    H: np.ndarray
    C: np.ndarray
    eps: float = 0.003125
    a: float = 0.5  # 1/N_1 = a eps
    c: float = 1.0  # eta'_1 = c eps
    batch_size: int = 4
    values: np.ndarray = field(default_factory=lambda: np.array(_G)[:, 0] + 0.4)  # per-example gradient coordinates
    N_s: int = 100
    name: str = "default"

    def __post_init__(self):
        prob = GaussianNoiseQuadratic(self.H, self.C)  # validates H, C
        object.__setattr__(self, "H", prob.H)
        object.__setattr__(self, "C", prob.C)
        B = check_int(self.batch_size, "batch_size", 2, 16)
        check_float(self.a, "a", 0.0, 10.0)
        check_float(self.c, "c", 0.0, 10.0)
        eps = check_float(self.eps, "eps", 0.0, 0.05)
        if 1.0 / (self.a * eps) < 4 * B:
            raise SgdTheoryError(f"eps: N_1 = 1/(a eps) = {1 / (self.a * eps):.3g} must be >= 4 B = {4 * B} "
                                 "(so that N_B = N_1/B >= 4)")
        lam = float(np.max(np.linalg.eigvalsh(prob.H)))
        if B * self.c * eps * lam > 0.2:
            raise SgdTheoryError(f"eps: eta'_B lambda_max = {B * self.c * eps * lam:.3g} must be <= 0.2")
        v = np.asarray(self.values, dtype=np.float64)
        if v.ndim != 1 or v.size < 2 or np.var(v) <= 0:
            raise SgdTheoryError("values: a 1-D array of at least two per-example gradient values, not all equal")
        object.__setattr__(self, "values", v)
        check_int(self.N_s, "N_s", 10, 10_000)

    @property
    def problem(self) -> GaussianNoiseQuadratic:
        return GaussianNoiseQuadratic(self.H, self.C, name="heavy-ball quadratic")

    def params(self, eps: float | None = None) -> tuple[float, float]:
        """(eta'_1, N_1) at eps."""
        e = self.eps if eps is None else eps
        return self.c * e, 1.0 / (self.a * e)

    def describe(self) -> dict:
        ep, N1 = self.params()
        return {"name": self.name, "H": self.H.tolist(), "C": self.C.tolist(), "eps": self.eps, "a": self.a,
                "c": self.c, "eta_prime_1": ep, "N_1": N1, "batch_size": self.batch_size,
                "values": self.values.tolist(), "N_s": self.N_s}


def default_c4() -> HorizonInstance:
    return HorizonInstance(np.array([[1.0, 0.3], [0.3, 0.5]]), np.array([[1.0, 0.2], [0.2, 0.5]]))


@schema("C3/C4/C5", _SCHEMA)
def c4_from_config(cfg: dict) -> HorizonInstance:
    """[problem.heavy_ball] H, C, name (the Gaussian-noise quadratic); [experiment.C4] eps, a, c, batch_size, values,
    N_s."""
    d = default_c4()
    prob = cfg.get("problem", {}).get("heavy_ball", {})
    if not isinstance(prob, dict):
        raise ConfigError("problem.heavy_ball: expected a table [problem.heavy_ball] with H and C")
    unknown = set(prob) - {"H", "C", "name"}
    if unknown:
        raise ConfigError(f"problem.heavy_ball.{sorted(unknown)[0]}: unknown field; valid: H, C, name")
    exp = _experiment(cfg, "C4", {"eps", "a", "c", "batch_size", "values", "N_s"})
    try:
        return HorizonInstance(prob.get("H", d.H), prob.get("C", d.C), exp.get("eps", d.eps), exp.get("a", d.a),
                               exp.get("c", d.c), exp.get("batch_size", d.batch_size),
                               np.asarray(exp.get("values", d.values), dtype=np.float64), exp.get("N_s", d.N_s),
                               name=prob.get("name", "user"))
    except SgdTheoryError as exc:
        raise ConfigError(f"experiment.C4: {exc}") from None


def momentum_covariance(inst: HorizonInstance, eps: float, B: int, rule: str) -> np.ndarray:
    """Exact stationary covariance of (x, mu = v/N) at batch B under ``rule`` (B = 1: the reference)."""
    ep1, N1 = inst.params(eps)
    ep, N = bs.scaled_momentum(ep1, N1, B, rule) if B > 1 else (ep1, N1)
    lr, beta = bs.heavy_ball_params(ep, N)
    S = bs.heavy_ball_covariance(inst.H, inst.C, lr, beta, B)
    d = inst.H.shape[0]
    T = np.diag(np.concatenate([np.ones(d), np.full(d, 1.0 / N)]))
    return T @ S @ T


def _mu_trace(S, d):
    return float(np.trace(S[d:, d:]))


def _x_excess(S, H):
    d = H.shape[0]
    return 0.5 * float(np.trace(H @ S[:d, :d]))


def ema_horizon_checks(inst: HorizonInstance, settings: Settings) -> tuple[list, dict]:
    """(a) The EMA of minibatch gradients at a fixed point: Var mu = sigma^2/(B(2N_B - 1)) measured with claim D8's
    running-average kernel at batch 1 (N_1), at B with N_1/B, and at B with N_1 (the control)."""
    lv = settings.level
    B = inst.batch_size
    _, N1 = inst.params()
    checks: list[Check] = []
    from .running_averages import RunningAverageInstance, simulate_running_averages

    vals = inst.values
    n = vals.size
    # a 1-D finite sum whose per-example gradients at w = 0 are the values: L_i = v_i w + w^2/2
    qfs = QuadraticFiniteSum(vals[:, None], np.ones((n, 1, 1)), name="per-example values")
    sig2 = float(np.var(vals))
    N_fix = int(round(N1))
    ema = {}
    for k, (label, b, Nb) in enumerate((("batch 1", 1, N_fix), (f"scaled, B = {B}", B, N_fix // B),
                                         (f"unscaled, B = {B}", B, N_fix))):
        ri = RunningAverageInstance(qfs, np.zeros(1), 0, Nb, Sampler(b, "with_replacement"), name="C4 EMA")
        t = Nb  # one horizon: the transient factor 1 - beta^(2t) ~ 1 - e^-2 is still visible (the near control)
        # power calculation: the transient control sits ~0.156 x pred from the truth and the planned half-width is
        # q sqrt(2) pred / sqrt(P): P = 65536 puts it ~7 planned half-widths away in quick mode (and resolves the
        # main check to ~3%), P = 98304 ~9 in full mode (within the 3-10 of a near control)
        n_ema = 65536 if settings.quick else 98304
        settings.step(f"C4 EMA ({label}): N = {Nb}, {t} batches, {n_ema} paths")
        out = simulate_running_averages(ri, [t], n_ema, settings.seed, (0xC4, 10 + k))
        m = out[:, 0, 0]
        mean_t = (1 - (1 - 1 / Nb) ** t) * float(vals.mean())
        est = replica_interval((m - mean_t) ** 2, lv)
        pred = bs.ema_stationary_variance(sig2 / b, Nb, t)
        # plan: m is a sum of many independent terms, nearly Gaussian, so Var (m - E m)^2 = 2 Var(m)^2
        plan = replica_quantile(lv, n_ema) * np.sqrt(2.0) * pred / np.sqrt(n_ema)
        ema[label] = {"est": est.to_dict(), "pred": pred, "N": Nb, "B": b, "t": t, "planned_half_width": plan}
        name = f"EMA of minibatch gradients ({label}, N = {Nb}): Var mu = sigma^2/(B(2N - 1)) (1 - beta^(2t)) (exact, t = {t})"
        checks.append(Check(name, CLAIM, pred, est, 0.06 * pred, "independent paths; resolution 6%",
                            main=(k == 1)))
        checks.append(planned_alternative(f"transient forgotten ({label}): Var mu at t = {t} = the stationary "
                                   "sigma^2/(B(2N - 1))", bs.ema_stationary_variance(sig2 / b, Nb), pred, est, plan,
                                   0.06 * pred, "the factor 1 - beta^(2t) dropped", against=name))
        if k == 1:
            checks.append(planned_approximation(f"N_mu,B = N_mu,1/B to first order: Var mu at B = {B} = batch 1's value",
                                         ema["batch 1"]["pred"], pred, est, plan, 0.06 * pred, "batch 1 - batch B",
                                         against=name))
        if k == 2:
            checks.append(Check(f"control: unscaled N at B = {B}: Var mu = batch 1's value",
                                NEGATIVE_CONTROL, ema["batch 1"]["pred"], est, 0.06 * pred, "B times too large",
                                against=name))
    return checks, ema


def run_c4(inst: HorizonInstance, settings: Settings) -> ClaimResult:
    lv = settings.level
    B = inst.batch_size
    H = inst.H
    d = H.shape[0]
    checks: list[Check] = []
    data: dict = {}
    # (b) exact: relative differences against eps
    epss = inst.eps * np.array([1.0, 1 / 2, 1 / 4, 1 / 8])
    rel = {}
    for rule in ("scaled", "unscaled"):
        mu_rel, x_rel = [], []
        for e in epss:
            S1 = momentum_covariance(inst, e, 1, "scaled")
            SB = momentum_covariance(inst, e, B, rule)
            mu_rel.append(_mu_trace(SB, d) / _mu_trace(S1, d) - 1)
            x_rel.append(_x_excess(SB, H) / _x_excess(S1, H) - 1)
        rel[rule] = {"mu": mu_rel, "x": x_rel}
    sl_mu = _deterministic_slope(epss, rel["scaled"]["mu"], "mu relative difference")
    sl_mu_u = _deterministic_slope(epss, rel["unscaled"]["mu"], "unscaled mu relative difference")
    sl_x = _deterministic_slope(epss, rel["scaled"]["x"], "x relative difference")
    sl_x_u = _deterministic_slope(epss, rel["unscaled"]["x"], "unscaled x relative difference")
    checks += [
        Check(f"exact Lyapunov: tr Cov(mu) at (B eta'_1, N_1/B), B = {B}, over batch 1's: relative difference O(eps) "
              "(slope 1)", CLAIM, 1.0, sl_mu, SLOPE_RES,
              f"1/N_1 = {inst.a:g} eps, eta'_1 = {inst.c:g} eps, eps in [{epss[-1]:g}, {epss[0]:g}]"),
        Check("control: unscaled horizon (B eta'_1, N_1): the relative difference of tr Cov(mu) also vanishes (slope 1)",
              NEGATIVE_CONTROL, 1.0, sl_mu_u, SLOPE_RES,
              f"it tends to -(1 - 1/B) = {-(1 - 1 / B):.3g} (values {rel['unscaled']['mu'][-1]:.4f} at the smallest eps)"),
        Check("exact Lyapunov: the iterate's excess loss at (B eta'_1, N_1/B): relative difference O(eps^2) (slope 2)",
              CLAIM, 2.0, sl_x, SLOPE_RES, "the iterate's covariance depends on eta'/B only, to first order"),
        Check("finding: the iterate's excess loss is matched by the unscaled horizon too (slope 2)", CLAIM, 2.0, sl_x_u,
              SLOPE_RES, "stationary Cov(x) ~ (eta'/B) Lyapunov(H, C): N drops out at first order"),
    ]
    data["exact"] = {"eps": epss.tolist(), "rel": rel}
    # Monte Carlo of heavy ball at eps
    n_paths = 4096 if settings.quick else 16384
    ep1, N1 = inst.params()
    lam_min = float(np.min(np.linalg.eigvalsh(H)))
    mc = {}
    plans: dict = {}
    S_ref = momentum_covariance(inst, inst.eps, 1, "scaled")
    for k, rule in enumerate(("scaled", "unscaled")):
        ep, N = bs.scaled_momentum(ep1, N1, B, rule)
        lr, beta = bs.heavy_ball_params(ep, N)
        relax = int(np.ceil(max(N, 1.0 / (ep * lam_min))))
        gap_steps = 3 * relax
        pairs = 4 if settings.quick else 8
        burn = 10 * relax
        rec = []
        for j in range(pairs):
            t = burn + j * gap_steps
            rec += [t, t + 1]
        settings.step(f"C4 heavy ball ({rule}): {n_paths} paths x {rec[-1]} steps")
        res = simulate(inst.problem, lr, optimizer=HeavyBall(momentum=beta), sampler=Sampler(B, "with_replacement"),
                       n_steps=rec[-1], n_paths=n_paths, seed=settings.seed, seed_key=(0xC4, k), record_steps=rec,
                       record=("moments",), time_average=("excess_loss",), burn_in=burn, n_batches=10)
        names = res.record_names
        cols = [names.index(f"mean[{i}]") for i in range(d)]
        X = res.record_values[:, :, cols]  # (paths, records, d)
        disp = (X[:, 1::2, :] - X[:, 0::2, :]) / ep  # -mu_{t+1}
        mu2 = np.sum(disp**2, axis=2).mean(axis=1)  # per-path mean over the pairs
        est_mu = replica_interval(mu2, lv)
        est_x = replica_interval(res.path_averages("excess_loss"), lv)
        S_B = momentum_covariance(inst, inst.eps, B, rule)
        mc[rule] = {"mu": est_mu, "x": est_x, "exact_mu": _mu_trace(S_B, d), "exact_x": _x_excess(S_B, H)}
        pm, px = _mu_trace(S_B, d), _x_excess(S_B, H)
        # the plan (exact second moments, Gaussian: the process is linear with Gaussian noise): |mu|^2 has variance
        # 2 tr(S_mu^2) per pair, the pairs are well separated (nearly independent); the time-averaged excess loss
        # from the augmented system (x, v) (``planned_time_average_half_width``)
        S_mu = S_B[d:, d:]
        plan_mu = replica_quantile(lv, n_paths) * np.sqrt(2.0 * float(np.trace(S_mu @ S_mu)) / pairs / n_paths)
        I = np.eye(d)
        A_aug = np.block([[I - lr * H, -lr * beta * I], [H, beta * I]])
        Q_aug = np.block([[0.5 * H, 0 * I], [0 * I, 0 * I]])
        plan_x = planned_time_average_half_width(A_aug, bs.heavy_ball_covariance(H, inst.C, lr, beta, B), Q_aug,
                                                 rec[-1] - burn, n_paths, lv)
        plans[rule] = {"mu": plan_mu, "x": plan_x}
        name_mu = f"MC ({rule} horizon) tr Cov(mu) = exact Lyapunov at B = {B}"
        name_x = f"MC ({rule} horizon) excess loss = exact Lyapunov at B = {B}"
        checks.append(Check(name_mu, CLAIM, pm, est_mu, 0.05 * pm,
                            f"mu = -(w_(t+1) - w_t)/eta'; {pairs} well-separated pairs per path, paths independent; "
                            f"planned half-width {plan_mu:.3g}"))
        checks.append(Check(name_x, CLAIM, px, est_x, 0.05 * px,
                            f"time averages after burn-in, one per path; planned half-width {plan_x:.3g}"))
        if rule == "scaled":
            checks.append(planned_approximation(f"N_mu,B = N_mu,1/B to first order: MC tr Cov(mu) at B = {B} = batch-1 exact "
                                         "value", _mu_trace(S_ref, d), pm, est_mu, plan_mu, 0.05 * pm,
                                         "batch 1 - batch B", against=name_mu))
        else:
            checks.append(Check(f"control: unscaled horizon N_B = N_1: MC tr Cov(mu) at B = {B} = batch-1 exact value",
                                NEGATIVE_CONTROL, _mu_trace(S_ref, d), est_mu, 0.05 * pm, "factor ~ 1/B",
                                against=name_mu))
        checks.append(planned_approximation(f"{rule} horizon to first order: MC excess loss at B = {B} = batch-1 exact value",
                                     _x_excess(S_ref, H), px, est_x, plan_x, 0.05 * px, "batch 1 - batch B",
                                     against=name_x))
    data["heavy_ball"] = {"eps": inst.eps, "B": B, "N_1": N1, "eta_prime_1": ep1,
                          "batch1": {"mu": _mu_trace(S_ref, d), "x": _x_excess(S_ref, H)},
                          "mc": {k: {"mu": v["mu"].to_dict(), "x": v["x"].to_dict(), "exact_mu": v["exact_mu"],
                                     "exact_x": v["exact_x"]} for k, v in mc.items()}, "planned_half_widths": plans}
    ema_checks, ema = ema_horizon_checks(inst, settings)
    checks += ema_checks
    data["ema"] = ema
    # (c) N_s
    vals = inst.values
    Ns = inst.N_s
    P = 16384 if settings.quick else 65536
    sq = vals**2
    ns = {}
    for k, (label, b, Nn, per_ex) in enumerate((("per-example, B = 1", 1, Ns, True), (f"per-example, B = {B}", B, Ns, True),
                                                (f"batch mean, B = {B}, N_s", B, Ns, False),
                                                (f"batch mean, B = {B}, N_s/B", B, Ns / B, False))):
        # per-example runs see 4.5 N_s examples: the transient (1 - 1/N_s)^(4.5 N_s) ~ 1.1% of the mean stays visible,
        # ~4 planned half-widths in quick mode and ~8 in full mode (the near control "transient forgotten")
        n_b = int(4.5 * Ns / b) if per_ex else int(6 * Nn)
        rng = path_states(_seed_sequence(settings.seed, (0xC4, 20 + k)), 0, P)
        out = np.zeros(P)
        settings.step(f"C4 second moment ({label}): {P} paths x {n_b} batches")
        square_ema_paths(vals, b, float(Nn), n_b, per_ex, rng, out)
        est = replica_interval(out, lv)
        if per_ex:
            m_pred, v_pred = bs.per_example_square_ema(sq, Ns, n_b * b)
        else:
            m_pred, v_pred = bs.batch_mean_square_ema(vals, Nn, b, n_b)
        ns[label] = {"est": est.to_dict(), "pred": m_pred, "var_pred": v_pred}
        target = float(sq.mean()) * (1 - (1 - 1 / Ns) ** (n_b * b)) if per_ex else \
            float(sq.mean()) * (1 - (1 - 1 / Nn) ** n_b)
        res_m = 0.01 * float(sq.mean())
        if per_ex:
            name = f"N_s counts examples ({label}): E s = mean_i g_i^2 (1 - (1 - 1/N_s)^t), independent of B"
            checks.append(Check(name, CLAIM, target, est, res_m, f"exact after t = {n_b * b} examples: the per-example "
                                "stream is i.i.d. whatever B; resolution 1%"))
            plan = replica_quantile(lv, P) * np.sqrt(v_pred / P)  # Var s is known exactly
            checks.append(planned_alternative(f"transient forgotten ({label}): E s = mean_i g_i^2 (stationary)",
                                              float(sq.mean()), target, est, plan, res_m,
                                              "the factor 1 - (1 - 1/N_s)^t dropped", against=name))
            vest = replica_interval((out - m_pred) ** 2, lv)
            checks.append(Check(f"N_s counts examples ({label}): Var s = Var_i(g_i^2)/(2 N_s - 1)", CLAIM, v_pred, vest,
                                0.06 * v_pred, "independent paths; resolution 6%"))
        else:
            checks.append(Check(f"batch-mean semantics ({label}): E s = gbar^2 + Sigma/B (exact)", CLAIM, m_pred, est,
                                res_m, "the engine's RMSProp/Adam second moment"))
            checks.append(Check(f"control ({label}): E s = mean_i g_i^2 (independent of B)", NEGATIVE_CONTROL, target,
                                est, res_m, "the square of the batch mean loses the (1 - 1/B) Sigma"))
    data["second_moment"] = {"N_s": Ns, "mean_sq": float(sq.mean()), "runs": ns}
    return ClaimResult("C4", checks, inst.describe(), data)


# ============================================================================================== C5


@dataclass(frozen=True, eq=False)
class ScheduleInstance:
    """Smith et al. (2018) schedules on a quadratic finite sum: eta_0, B_0, factor f, stages, epochs per stage."""

    problem: QuadraticFiniteSum
    w0: np.ndarray
    eta0: float = 0.1
    B0: int = 1
    factor: int = 2
    n_stages: int = 4
    epochs: int = 3
    name: str = "default"

    def __post_init__(self):
        p = self.problem
        if not isinstance(p, QuadraticFiniteSum):
            raise SgdTheoryError(f"problem: expected a QuadraticFiniteSum, got {type(p).__name__}")
        w0 = np.asarray(self.w0, dtype=np.float64)
        if w0.shape != (p.d,):
            raise SgdTheoryError(f"w0: expected shape ({p.d},), got {w0.shape}")
        object.__setattr__(self, "w0", w0)
        lam = float(np.max(np.linalg.eigvalsh(p.mean_hessian)))
        check_float(self.eta0, "eta0", 0.0, 0.5 / lam)
        check_int(self.B0, "B0", 1, p.n)
        check_int(self.factor, "factor", 2, 8)
        check_int(self.n_stages, "n_stages", 2, 8)
        check_int(self.epochs, "epochs", 1, 50)
        bmax = self.B0 * self.factor ** (self.n_stages - 1)
        if bmax > p.n or p.n % bmax:
            raise SgdTheoryError(f"n_stages: the largest batch B0 f^(stages-1) = {bmax} must divide n = {p.n}")
        for kind in ("decay", "grow", "grow_and_decay"):
            bs.check_stages(self.stages(kind), p.n)

    def stages(self, kind: str) -> list:
        return bs.schedule(kind, self.eta0, self.B0, self.factor, self.n_stages, self.epochs)

    def describe(self) -> dict:
        return {"name": self.name, "n": self.problem.n, "d": self.problem.d, "w0": self.w0.tolist(), "eta0": self.eta0,
                "B0": self.B0, "factor": self.factor, "n_stages": self.n_stages, "epochs": self.epochs}


def default_c5() -> ScheduleInstance:
    return ScheduleInstance(default_problem(), np.array([3.0, -3.0]))


@schema("C3/C4/C5", _SCHEMA)
def c5_from_config(cfg: dict) -> ScheduleInstance:
    """[problem] g, H; [experiment.C5] w0, eta0, B0, factor, n_stages, epochs."""
    problem, name = _problem_from_config(cfg)
    problem = default_problem() if problem is None else problem
    exp = _experiment(cfg, "C5", {"w0", "eta0", "B0", "factor", "n_stages", "epochs"})
    d = default_c5()
    try:
        return ScheduleInstance(problem, exp.get("w0", np.full(problem.d, 3.0)), exp.get("eta0", d.eta0),
                                exp.get("B0", d.B0), exp.get("factor", d.factor), exp.get("n_stages", d.n_stages),
                                exp.get("epochs", d.epochs), name=name)
    except SgdTheoryError as exc:
        raise ConfigError(f"experiment.C5.{exc}") from None


def run_schedule(inst: ScheduleInstance, kind: str, n_paths: int, seed, seed_key) -> np.ndarray:
    """(paths, 1 + epochs) excess loss at the start and after every epoch (kernel ``staged_paths``)."""
    st = inst.stages(kind)
    kp = inst.problem.kernel_data()
    rng = path_states(_seed_sequence(seed, seed_key), 0, check_int(n_paths, "n_paths", 2))
    out = np.zeros((n_paths, 1 + sum(s.epochs for s in st)))
    staged_paths = kernel("batch_scaling", "staged_paths", inst.problem, SGD())
    staged_paths(kp.A, kp.Hs, kp.v, kp.w_star, kp.Hbar, np.array([s.eta for s in st]),
                 np.array([s.batch for s in st], dtype=np.int64), np.array([s.epochs for s in st], dtype=np.int64),
                 inst.w0, rng, ZIG_KI, ZIG_WI, ZIG_FI, out)
    if not np.all(np.isfinite(out)):
        raise SgdTheoryError("a path diverged: lower eta0")
    return out


def run_c5(inst: ScheduleInstance, settings: Settings) -> ClaimResult:
    lv = settings.level
    p = inst.problem
    km = p.kernel_data()
    delta0 = inst.w0 - km.w_star
    n_paths = 16384 if settings.quick else 65536
    n_pilot = 2048 if settings.quick else 4096
    kinds = ("decay", "grow", "grow_and_decay")
    ex = {k: bs.staged_moments(km.A, km.Hs, inst.stages(k), delta0) for k in kinds}
    # the plausible wrong answer for the difference: noiseless gradient descent's (the noise cancels when eta n/B is
    # matched, leaving only the discretisation gap of the mean dynamics): per-example gradients all equal the mean
    hbar = np.broadcast_to(km.Hs.mean(axis=0), km.Hs.shape).copy()
    ex_gd = {k: bs.staged_moments(np.zeros_like(km.A), hbar, inst.stages(k), delta0) for k in ("decay", "grow")}
    checks: list[Check] = []
    E = ex["decay"].size - 1
    ep_stage = inst.epochs
    # check at the end of every stage after the first (stage 1 is identical for all three)
    check_epochs = [ep_stage * (s + 1) for s in range(1, inst.n_stages)]
    dif_exact = {e: float(ex["grow"][e] - ex["decay"][e]) for e in check_epochs}
    dif_gd = {e: float(ex_gd["grow"][e] - ex_gd["decay"][e]) for e in check_epochs}
    # the plan (before the measurement): per-path standard deviations from a pilot on its own seed stream, scaled to
    # n_paths; 'decay' and 'grow' share one stream of example indices (common random numbers: the growing batch of
    # B0 f^k examples is the next B0 f^k examples the decaying run takes one batch of B0 at a time), so the paired
    # difference grow - decay has a far smaller variance than either curve
    settings.step(f"C5 pilot (plan): {n_pilot} paths per schedule")
    pilot = {k: run_schedule(inst, k, n_pilot, settings.seed, (0xC5, 16)) for k in ("decay", "grow")}
    q = float(special.stdtrit(n_paths - 1, 0.5 + 0.5 * lv))
    plan_dif = {e: q * float(np.std(pilot["grow"][:, e] - pilot["decay"][:, e], ddof=1)) / np.sqrt(n_paths)
                for e in check_epochs}
    # the headline: the stage end where the noiseless control is farthest from the exact difference (exact values)
    e_main = max(check_epochs, key=lambda e: abs(dif_exact[e] - dif_gd[e]))
    mc = {}
    for j, k in enumerate(kinds):
        settings.step(f"C5 schedule '{k}': {n_paths} paths")
        mc[k] = run_schedule(inst, k, n_paths, settings.seed, (0xC5, 0))  # one index stream for all (paired)
    est_all = {k: [replica_interval(mc[k][:, e], lv) for e in range(E + 1)] for k in kinds}
    plan_log = []
    for e in check_epochs:
        res_e = 0.1 * ex["decay"][e]
        for k in kinds:
            checks.append(Check(f"MC '{k}' excess loss after epoch {e} = its exact value", CLAIM, ex[k][e],
                                est_all[k][e], 0.1 * ex[k][e], "piecewise exact moments; independent paths; "
                                "resolution 10%"))
        checks.append(Check(f"control: growing B while decaying eta: MC excess loss after epoch {e} = the decaying-eta "
                            "schedule's exact value", NEGATIVE_CONTROL, ex["decay"][e], est_all["grow_and_decay"][e],
                            res_e, "noise scale falls as f^-2k and so does the distance covered per epoch"))
        dif = replica_interval(mc["grow"][:, e] - mc["decay"][:, e], lv,
                               "paired differences over independent paths (common random numbers)")
        name = f"MC 'grow' - MC 'decay' after epoch {e} = the exact difference (common random numbers)"
        res_d = 0.1 * abs(dif_exact[e])
        checks.append(Check(name, CLAIM, dif_exact[e], dif, res_d,
                            f"exact staged moments; planned half-width {plan_dif[e]:.3g}; resolution 10% of the "
                            "difference", main=(e == e_main)))
        first = planned_expectation(0.0 - dif_exact[e], plan_dif[e])
        checks.append(Check(f"first order as exact: MC 'grow' - MC 'decay' after epoch {e} = 0 (same loss per epoch)",
                            APPROXIMATION, 0.0, dif, res_d, f"the first-order equality; exact gap {-dif_exact[e]:+.3g} "
                            f"= {abs(dif_exact[e]) / plan_dif[e]:.3g} planned half-widths", expect=first, against=name))
        # the plausible wrong answer: a control where the plan resolves it (>= 3 planned half-widths), otherwise an
        # approximation with its planned expectation (never dropped)
        gap = dif_gd[e] - dif_exact[e]
        ratio = abs(gap) / plan_dif[e]
        gd_name = (f"noise cancels (eta n/B matched): MC 'grow' - MC 'decay' after epoch {e} = noiseless gradient "
                   "descent's difference")
        note = f"exact gap {gap:+.3g} = {ratio:.3g} planned half-widths"
        if ratio >= 3.0:
            checks.append(Check("control: " + gd_name, NEGATIVE_CONTROL, dif_gd[e], dif, res_d, note, against=name))
        else:
            checks.append(Check("approximation: " + gd_name, APPROXIMATION, dif_gd[e], dif, res_d, note,
                                expect=planned_expectation(gap, plan_dif[e]), against=name))
        plan_log.append({"epoch": e, "exact_difference": dif_exact[e], "noiseless_difference": dif_gd[e],
                         "planned_half_width": plan_dif[e], "noiseless_gap_half_widths": ratio,
                         "difference": dif.to_dict()})
    # exact: the matched gap is second order in eta0 at fixed epochs, the control's first order
    fr = np.array([1 / 512, 1 / 256, 1 / 128, 1 / 64])
    gaps = {"grow": [], "grow_and_decay": []}
    for x in fr:
        sub = ScheduleInstance(p, inst.w0, inst.eta0 * x, inst.B0, inst.factor, inst.n_stages, inst.epochs)
        dec = bs.staged_moments(km.A, km.Hs, sub.stages("decay"), delta0)[-1]
        for k in gaps:
            gaps[k].append(bs.staged_moments(km.A, km.Hs, sub.stages(k), delta0)[-1] / dec - 1)
    sl_m = _deterministic_slope(inst.eta0 * fr, gaps["grow"], "matched gap")
    sl_c = _deterministic_slope(inst.eta0 * fr, gaps["grow_and_decay"], "control gap")
    checks += [
        Check(f"exact: matched noise scale, relative loss gap after epoch {E} = O(eta0^2) at fixed epochs (slope 2)",
              CLAIM, 2.0, sl_m, SLOPE_RES, "elapsed time O(eta0) x discretisation difference O(eta0); "
              f"eta0 in [{inst.eta0 * fr[0]:g}, {inst.eta0 * fr[-1]:g}]"),
        Check("control: growing B while decaying eta, relative loss gap also O(eta0^2) (slope 2)", NEGATIVE_CONTROL, 2.0,
              sl_c, SLOPE_RES, "its time per epoch differs by f^-k: first order"),
    ]
    upd = {k: bs.updates(inst.stages(k), p.n) for k in kinds}
    f, S = inst.factor, inst.n_stages
    pred_ratio = sum(f ** -k for k in range(S)) / S
    checks.append(Check(f"updates: growing batch / decaying eta = (1/S) sum_k f^-k = {pred_ratio:.4g}", CLAIM, pred_ratio,
                        exact(upd["grow"] / upd["decay"], "counted"), 1e-9,
                        f"{upd['grow']} vs {upd['decay']} updates for the same {E} epochs"))
    data = {"epochs": list(range(E + 1)), "exact": {k: v.tolist() for k, v in ex.items()},
            "mc": {k: [x.to_dict() for x in est_all[k]] for k in kinds}, "updates": upd,
            "noise_scale": {k: [bs.noise_scale(s, p.n) for s in inst.stages(k)] for k in kinds},
            "epochs_per_stage": ep_stage, "plan": {"n_pilot": n_pilot, "n_paths": n_paths, "main_epoch": e_main,
                                                   "stages": plan_log},
            "gap_scan": {"eta0": (inst.eta0 * fr).tolist(), **{k: v for k, v in gaps.items()}}}
    return ClaimResult("C5", checks, inst.describe(), data)


# ============================================================================================== registry


def _derive_c3(inst, latex=False):
    sym = bs.symbolic_one_vs_many(3)
    lines = ["C3 (seed 003 'Scaling eta'): grad L_k(x) = a_k + H_k x (non-commuting symbols), B = 3:",
             f"  x_3 - (x0 - 3 eta mean_k grad L_k(x0)) = eta^2 [{sym['eta2_closed']}] + O(eta^3)",
             "  = eta^2 sum_{j<k} H_k grad L_j(x0) + O(eta^3);  unscaled (eta_B = eta): "
             f"eta [{sym['control_eta1']}] + O(eta^2)",
             "Stationary: H S + S H - eta E[H_B S H_B] = eta c_B Sigma  =>  E L - L* = (eta/B) tr Sigma/4 + O(eta^2/B)",
             f"  instance: tr Sigma/4 = {bs.first_order_excess_coefficient(inst.basin(1)):.6g}"]
    text = "\n".join(lines)
    return "\\begin{verbatim}\n" + text + "\n\\end{verbatim}" if latex else text


def _derive_c4(inst, latex=False):
    lines = ["C4 (seed 003 'Scaling N_mu', 'Scaling N_s'): mu_t = (1 - 1/N) mu_(t-1) + g_t/N, Phi -= eta' mu_t",
             "  = heavy ball v = beta v + g, Phi -= lr v with beta = 1 - 1/N, lr = eta'/N.",
             "  per example seen (tau = B t), with N_B = N_1/B, eta'_B = B eta'_1: d mu = (g - mu)/N_1 dtau + (sigma/N_1) dW,",
             "  d Phi = -eta'_1 mu dtau: independent of B.  Exact: Var(EMA) = sigma^2/(B(2N_B - 1)) = sigma^2/(2N_1 - B).",
             "  Stationary Cov(Phi) ~ (eta'/B) Lyap(H, C) does not involve N at first order; Cov(mu) does.",
             "  N_s over per-example squares: E s = mean_i g_i^2, Var s = Var_i(g_i^2)/(2N_s - 1) for every B;",
             "  the square of the batch mean: E = gbar^2 + Sigma/B (depends on B for any N)."]
    text = "\n".join(lines)
    return "\\begin{verbatim}\n" + text + "\n\\end{verbatim}" if latex else text


def _derive_c5(inst, latex=False):
    n = inst.problem.n
    lines = ["C5 (Smith et al. 2018; seed 001): noise scale g = eta n / B; stage k: (eta_k, B_k) for E epochs.",
             "  per epoch: time eta_k n / B_k and temperature eta_k / B_k -- equal for decay (eta0/f^k, B0) and grow",
             "  (eta0, B0 f^k): the same loss per epoch to first order, with n/B_k updates per epoch."]
    for k in ("decay", "grow", "grow_and_decay"):
        lines.append(f"  {k:15s} noise scales " + ", ".join(f"{bs.noise_scale(s, n):.4g}" for s in inst.stages(k))
                     + f"; updates {bs.updates(inst.stages(k), n)}")
    text = "\n".join(lines)
    return "\\begin{verbatim}\n" + text + "\n\\end{verbatim}" if latex else text


def _figure(claim_id):
    def make(result, outdir):
        from ..figures import batch_scaling as fb

        return fb.FIGURES[claim_id](result, outdir)
    return make


register(Claim("C3", "Linear scaling: one step at B eta = B steps at eta to O(eta^2); stationary loss depends on eta/B",
               "003 'Scaling eta'; 001", "eta_B = B eta_1 matches B steps at batch 1 up to O(eta^2); the stationary "
               "excess loss depends on eta/B to first order", "equality", run_c3, _derive_c3, _figure("C3"), default_c3,
               c3_from_config))
register(Claim("C4", "Momentum horizon N_mu,B = N_mu,1/B; second-moment horizon N_s independent of B",
               "003 'Scaling N_mu', 'Scaling N_s'", "with eta'_B = B eta'_1 and N_mu,B = N_mu,1/B the momentum's "
               "statistics match batch 1 to first order; N_s counted in examples makes s independent of B", "equality",
               run_c4, _derive_c4, _figure("C4"), default_c4, c4_from_config))
register(Claim("C5", "Decaying the learning rate = increasing the batch size (same eta n/B, fewer updates)",
               "001; Smith et al. 2018", "schedules with the same noise scale eta n/B give the same loss per epoch, with "
               "fewer updates for the growing batch", "equality", run_c5, _derive_c5, _figure("C5"), default_c5,
               c5_from_config))
