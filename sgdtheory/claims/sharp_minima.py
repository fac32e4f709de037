"""Claim C6: large batches and sharp minima (seeds 000 and 004; Keskar et al. 2017; CLAIMS.md C6).

Instance (``theory.batch_scaling.sharp_flat_problem``): a 1-D finite sum whose mean loss has two minima of equal
depth, a sharp one (+1, L'' = 14 by default) and a flat one (-1, L'' = 6), with per-example curvatures
L'' + b_i (w + 1)/2 spread more towards the sharp minimum, so that the gradient noise is larger there:
Sigma(w) = spread (w + 1)^4/16 + floor (Sigma = 160 at the sharp minimum, 60 at the flat one by default).

What is claimed, precisely.  SGD started in the sharp minimum and run for a fixed time, measured in the Langevin
clock t = eta k (seed 003; the same gradient-flow distance for every eta and B), spends a fraction of its
iterates in the flat basin (w below the barrier) that grows with the noise level eta/B: small batches (large
eta/B) leave the sharp minimum, large batches stay (Keskar et al.'s observation, as an escape-rate effect).
Predictions: the EXACT discrete chain (``basins_1d.DiscreteChain``, propagated step by step:
``theory.batch_scaling.transient_occupancy``), and the Fokker--Planck / Kramers two-state reduction with the
diffusion's exact mean first-passage times (``stationary_1d.mean_first_passage_time``): an APPROXIMATION whose
expected verdict is fixed before measuring from its exact gap to the chain and the planned half-width
q sqrt(p(1 - p)/P) (p the exact occupancy; an upper bound, since a time fraction's variance is at most p(1 - p)).
Measurement: per-path time fractions by the kernel ``_kernels.basins.basin_paths`` (through
``noisy_minima.run_basins``, exactly as claim B7), independent paths, replica intervals.  The trend: every
consecutive pair of eta/B values, occupancy difference with an interval (bound checks, and the exact chain
difference as a claim with the plausible wrong answer "no trend" as its near control); and one point at B = 2 with
the same eta/B as a B = 1 point (the same occupancy to first order: an approximation with a planned expectation).

Controls: "occupancy independent of eta/B" (the largest minus the smallest eta/B is 0); "prefers the sharp
minimum" (flat occupancy <= 1/2 at the largest eta/B); and a finding about the STATIONARY reading: with the noise
growing with curvature the stationary flat-basin occupancy (exact chain, diffusive range) *decreases* with eta/B --
low temperature favours the low-noise (flat) minimum exponentially (as in claim B7) -- so "the stationary
preference for the flat minimum grows with eta/B" is a negative control, rejected by the exact values.  The
preference that grows with eta/B is a finite-time (escape-rate) effect.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import schema
from ..errors import ConfigError, SgdTheoryError, check_float
from ..optimizers import SGD
from ..problems import PolynomialFiniteSum1D
from ..stats import difference, exact, replica_interval
from ..theory import basins_1d as bt
from ..theory import batch_scaling as bs
from ..theory import stationary_1d as st
from .base import ADEQUATE, APPROXIMATION, CLAIM, NEGATIVE_CONTROL, Check, Claim, ClaimResult, Settings, register
from .batch_scaling import planned_alternative, planned_approximation, replica_quantile
from .noisy_minima import TwoMinimaInstance, run_basins

RES_OCC = 0.02
# the plan's half-width is an upper bound (Bernoulli variance p(1 - p) of a time fraction; the measured one is ~0.75 of
# it), so an approximation is expected adequate only below 0.15 planned half-widths (its chance of a detectable miss
# then stays below ~5e-4 at the 99.99% level)
ADEQUATE_BELOW = 0.15


#: most steps per path of the fixed-time runs (k = horizon / eta): a bound checked before any work
MAX_PATH_STEPS = 10**7


@dataclass(frozen=True, eq=False)
class SharpFlatInstance:
    """Two minima of equal depth and unequal curvature; noise levels eta/B (B = 1) and one B = 2 point; horizon."""

    problem: PolynomialFiniteSum1D
    ratios: tuple = (0.003, 0.0035, 0.004, 0.005, 0.006)
    horizon: float = 60.0  # t = eta k
    batch2_ratio: float = 0.0035  # the B = 2 point at eta = 2 x this
    stationary_ratios: tuple = (0.003, 0.006)
    name: str = "default"

    def __post_init__(self):
        if not isinstance(self.problem, PolynomialFiniteSum1D):
            raise SgdTheoryError(f"problem: expected a PolynomialFiniteSum1D, got {type(self.problem).__name__}")
        mins = self.problem.local_minima()
        if mins.size != 2:
            raise SgdTheoryError(f"problem: the mean loss must have exactly two local minima; it has {mins.size}")
        depth = [self.problem.loss(x) for x in mins]
        curv = [self.problem.curvature(x) for x in mins]
        barrier = st.barrier_point(self.problem)
        height = self.problem.loss(barrier) - min(depth)
        if abs(depth[0] - depth[1]) > 1e-6 * height:
            raise SgdTheoryError(f"problem: the minima must have equal depth; L = {depth[0]:.6g}, {depth[1]:.6g}")
        if abs(curv[0] - curv[1]) < 0.2 * max(curv):
            raise SgdTheoryError(f"problem: one minimum must be sharper (curvatures {curv[0]:.4g}, {curv[1]:.4g} differ "
                                 "by less than 20%)")
        r = tuple(sorted(float(x) for x in self.ratios))
        if len(r) < 3 or len(set(r)) != len(r):
            raise SgdTheoryError("ratios: at least three distinct noise levels eta/B")
        object.__setattr__(self, "ratios", r)
        check_float(self.horizon, "horizon", 0.0, 1000.0)
        check_float(self.batch2_ratio, "batch2_ratio", 0.0)
        for k, x in enumerate(r):  # each path runs k = horizon / eta steps (B = 1); bounded before any work
            if self.horizon / x > MAX_PATH_STEPS:
                raise SgdTheoryError(f"ratios[{k}] = {x:g} is too small: valid range is >= {self.horizon / MAX_PATH_STEPS:.3g} "
                                     f"(horizon / eta = {self.horizon / x:.3g} steps per path, at most {MAX_PATH_STEPS:.0e})")
        if self.horizon / (2 * self.batch2_ratio) > MAX_PATH_STEPS:
            raise SgdTheoryError(f"batch2_ratio = {self.batch2_ratio:g} is too small: valid range is >= "
                                 f"{self.horizon / (2 * MAX_PATH_STEPS):.3g} (at most {MAX_PATH_STEPS:.0e} steps per path)")
        s2 = tuple(sorted(float(x) for x in self.stationary_ratios))
        if len(s2) != 2:
            raise SgdTheoryError("stationary_ratios: exactly two noise levels")
        object.__setattr__(self, "stationary_ratios", s2)
        for eta, B in self.runs + [(x, 1) for x in s2]:
            TwoMinimaInstance(self.problem, eta, B)  # eta |L''| <= 0.1 at the minima and the barrier; noise > 0

    @property
    def runs(self) -> list[tuple[float, int]]:
        """(eta, B) of every measured run: the ratios at B = 1, then the B = 2 point."""
        return [(x, 1) for x in self.ratios] + [(2 * self.batch2_ratio, 2)]

    @property
    def minima(self) -> np.ndarray:
        return self.problem.local_minima()

    @property
    def sharp(self) -> int:
        """Index (0 = left, 1 = right) of the sharp minimum."""
        return int(np.argmax([self.problem.curvature(x) for x in self.minima]))

    @property
    def barrier(self) -> float:
        return float(st.barrier_point(self.problem))

    def steps(self, eta: float) -> int:
        return int(round(self.horizon / eta))

    def describe(self) -> dict:
        m = self.minima
        return {"name": self.name, "coeffs": self.problem.coeffs.tolist(), "minima": m.tolist(),
                "curvatures": [self.problem.curvature(x) for x in m],
                "sigma_at_minima": st.noise_variance(self.problem, m, 1).tolist(), "barrier": self.barrier,
                "barrier_height": self.problem.loss(self.barrier) - self.problem.loss(m[0]),
                "ratios": list(self.ratios), "horizon": self.horizon, "batch2_ratio": self.batch2_ratio,
                "stationary_ratios": list(self.stationary_ratios)}


def default_instance() -> SharpFlatInstance:
    return SharpFlatInstance(bs.sharp_flat_problem())


@schema('C6', {
    "problem": {"kappa": "num", "quad": "num", "spread": "num", "floor": "num", "coeffs": "num[][]", "name": "str"},
    "experiment": {"ratios": "num[]!", "horizon": "num", "batch2_ratio": "num", "stationary_ratios": "num[]!"},
})
def instance_from_config(cfg: dict) -> SharpFlatInstance:
    """[problem] kappa, quad, spread, floor (the built-in family) or coeffs; [experiment] ratios, horizon,
    batch2_ratio, stationary_ratios."""
    prob = cfg.get("problem", {})
    if not isinstance(prob, dict):
        raise ConfigError("problem: expected a section [problem]")
    name = prob.get("name", "user")
    unknown = set(prob) - {"kappa", "quad", "spread", "floor", "coeffs", "name"}
    if unknown:
        raise ConfigError(f"problem.{sorted(unknown)[0]}: unknown field; valid: kappa, quad, spread, floor, coeffs, name")
    try:
        if "coeffs" in prob:
            problem = PolynomialFiniteSum1D(prob["coeffs"], 0.0, name=name)
        else:
            problem = bs.sharp_flat_problem(prob.get("kappa", 0.5), prob.get("quad", 0.25), prob.get("spread", 1.0),
                                            prob.get("floor", 100.0), name=name)
    except SgdTheoryError as exc:
        raise ConfigError(f"problem.{exc}") from None
    exp = cfg.get("experiment", {})
    valid = {"ratios", "horizon", "batch2_ratio", "stationary_ratios"}
    unknown = set(exp) - valid
    if unknown:
        raise ConfigError(f"experiment.{sorted(unknown)[0]}: unknown field; valid: {', '.join(sorted(valid))}")
    d = default_instance()
    try:
        return SharpFlatInstance(problem, tuple(exp.get("ratios", d.ratios)), exp.get("horizon", d.horizon),
                                 exp.get("batch2_ratio", d.batch2_ratio),
                                 tuple(exp.get("stationary_ratios", d.stationary_ratios)), name=name)
    except SgdTheoryError as exc:
        raise ConfigError(f"experiment.{exc}") from None


def _chain(inst: SharpFlatInstance, eta: float, B: int, nodes: int) -> bt.DiscreteChain:
    a, b = inst.minima
    return bt.DiscreteChain.build(inst.problem, eta, B, a - 1.2 * (b - a) / 2, b + 1.2 * (b - a) / 2, n_nodes=nodes)


def predictions(inst: SharpFlatInstance, eta: float, B: int, nodes: int) -> dict:
    """Exact chain occupancy of the flat basin over the horizon from the sharp minimum; FP/Kramers two-state value."""
    a, b = inst.minima
    s = inst.barrier
    sharp_min = (a, b)[inst.sharp]
    flat_min = (a, b)[1 - inst.sharp]
    K = inst.steps(eta)
    ch = _chain(inst, eta, B, nodes)
    occ_left = bs.transient_occupancy(ch, sharp_min, s, K)
    occ = occ_left if inst.sharp == 1 else 1.0 - occ_left
    grid = np.linspace(ch.grid[0], ch.grid[-1], 20001)
    t_out = st.mean_first_passage_time(inst.problem, eta, sharp_min, flat_min, B, grid)  # sharp -> flat, time eta k
    t_back = st.mean_first_passage_time(inst.problem, eta, flat_min, sharp_min, B, grid)
    fp = bs.two_state_occupancy(1.0 / t_out, 1.0 / t_back, inst.horizon)
    return {"eta": eta, "B": B, "steps": K, "exact": occ, "fp_two_state": fp, "mfpt_sharp_to_flat": t_out,
            "mfpt_flat_to_sharp": t_back,
            "chain_mfpt_sharp_to_flat": ch.mean_passage_steps(sharp_min, flat_min) * eta}


def run_c6(inst: SharpFlatInstance, settings: Settings) -> ClaimResult:
    lv = settings.level
    nodes = 3001 if settings.quick else 6001
    # the nearest plausible wrong answer ("no trend" between the two smallest eta/B, ~0.08 away) sits ~4.5 half-widths
    # away in quick mode and, with 4x the paths, ~9 in full mode (within the 3-10 of a near control)
    n_paths = 6144 if settings.quick else 24576
    s = inst.barrier
    sharp_min = inst.minima[inst.sharp]
    checks: list[Check] = []
    rows = []
    ests = []
    langevin = []
    plans = []
    names = []
    for k, (eta, B) in enumerate(inst.runs):
        settings.step(f"C6 eta = {eta:g}, B = {B}: exact chain ({nodes} nodes, {inst.steps(eta)} steps), "
                      f"{n_paths} paths")
        pr = predictions(inst, eta, B, nodes)
        tmi = TwoMinimaInstance(inst.problem, eta, B)
        occ_left, _ = run_basins(tmi, SGD(), eta, n_paths, 0, pr["steps"], sharp_min, -1e300, 1e300, False,
                                 settings.seed, (0xC6, k))
        occ = occ_left if inst.sharp == 1 else 1.0 - occ_left
        est = replica_interval(occ, lv)
        ests.append(est)
        pr["mc"] = est.to_dict()
        rows.append(pr)
        label = f"eta/B = {eta / B:g} (eta = {eta:g}, B = {B})"
        names.append(f"flat-basin occupancy over t = {inst.horizon:g} from the sharp minimum = exact discrete chain, "
                     f"{label}")
        checks.append(Check(names[-1], CLAIM, pr["exact"], est, RES_OCC,
                            "per-path time fractions, independent paths; chain propagated step by step",
                            main=(k == len(inst.ratios) - 1)))  # the largest eta/B: the best relative resolution
        # the plan (fixed before measuring): a time fraction in [0, 1] with mean p has variance at most p (1 - p), so
        # q sqrt(p (1 - p)/P) with p the exact occupancy bounds the half-width from above (conservative)
        plan = replica_quantile(lv, n_paths) * np.sqrt(pr["exact"] * (1.0 - pr["exact"]) / n_paths)
        plans.append(plan)
        pr["planned_half_width"] = plan
        gap = pr["fp_two_state"] - pr["exact"]
        langevin.append({"name": f"Fokker-Planck/Kramers two-state occupancy, {label}", "fp": pr["fp_two_state"],
                         "exact": pr["exact"], "gap": gap, "planned_half_width": plan})
        checks.append(planned_approximation(f"Fokker-Planck/Kramers two-state occupancy, {label}", pr["fp_two_state"],
                                     pr["exact"], est, plan, RES_OCC, "FP - chain", against=names[-1],
                                     adequate_below=ADEQUATE_BELOW))
    nB1 = len(inst.ratios)
    # the trend: consecutive differences
    for j in range(nB1 - 1):
        dif = difference(ests[j], ests[j + 1])
        ex_d = rows[j]["exact"] - rows[j + 1]["exact"]
        checks.append(Check(f"trend: occupancy(eta/B = {inst.ratios[j]:g}) - occupancy(eta/B = {inst.ratios[j + 1]:g}) "
                            "<= 0", CLAIM, 0.0, dif, 0.0, f"exact: {ex_d:+.4f}", bound=True))
        name = (f"trend: occupancy(eta/B = {inst.ratios[j]:g}) - occupancy(eta/B = {inst.ratios[j + 1]:g}) = the exact "
                "chain difference")
        res_d = RES_OCC * np.sqrt(2.0)  # a difference of two independent occupancies, each at RES_OCC
        checks.append(Check(name, CLAIM, ex_d, dif, res_d, "two independent path ensembles (Welch); resolution "
                            f"sqrt(2) x {RES_OCC}"))
        checks.append(planned_alternative(f"no trend: occupancy(eta/B = {inst.ratios[j]:g}) = occupancy(eta/B = "
                                   f"{inst.ratios[j + 1]:g})", 0.0, ex_d, dif, float(np.hypot(plans[j], plans[j + 1])),
                                   res_d, "occupancy independent of eta/B", against=name))
    span = difference(ests[nB1 - 1], ests[0])
    checks.append(Check("control: occupancy independent of eta/B (largest minus smallest eta/B = 0)", NEGATIVE_CONTROL,
                        0.0, span, RES_OCC, f"exact: {rows[nB1 - 1]['exact'] - rows[0]['exact']:+.4f}"))
    checks.append(Check(f"control: prefers the sharp minimum (flat occupancy <= 1/2 at eta/B = {inst.ratios[-1]:g})",
                        NEGATIVE_CONTROL, 0.5, ests[nB1 - 1], 0.0, "written as an upper bound on the flat occupancy",
                        bound=True))
    # the B = 2 point: eta/B, not eta
    j1 = int(np.argmin(np.abs(np.array(inst.ratios) - inst.batch2_ratio)))
    if abs(inst.ratios[j1] - inst.batch2_ratio) < 1e-12:
        checks.append(planned_approximation(f"eta/B, not eta, to first order: B = 2 at eta = {2 * inst.batch2_ratio:g} = the "
                                     "exact B = 1 value at the same eta/B", rows[j1]["exact"], rows[-1]["exact"],
                                     ests[-1], plans[-1], RES_OCC, "B=1 - B=2", against=names[-1],
                                     adequate_below=ADEQUATE_BELOW))
        langevin.append({"name": "eta/B, not eta", "gap": rows[j1]["exact"] - rows[-1]["exact"],
                         "planned_half_width": plans[-1]})
        eta_same = 2 * inst.batch2_ratio
        j2 = [j for j, x in enumerate(inst.ratios) if abs(x - eta_same) < 1e-12]
        pred_eta = rows[j2[0]]["exact"] if j2 else predictions(inst, eta_same, 1, nodes)["exact"]
        checks.append(Check(f"control ('depends on eta alone'): B = 2 at eta = {eta_same:g} = the exact B = 1 value at "
                            f"eta = {eta_same:g}", NEGATIVE_CONTROL, pred_eta, ests[-1], RES_OCC,
                            "the noise level is eta/B", against=names[-1]))
    # the stationary reading
    settings.step("C6 stationary occupancies (exact chain, Fokker-Planck)")
    stat = []
    for x in inst.stationary_ratios:
        ch = _chain(inst, x, 1, nodes)
        occ_left = ch.mass_below(s)
        fp = st.fokker_planck_density(inst.problem, x, 1, np.linspace(ch.grid[0], ch.grid[-1], 40001))
        fl = float(fp.cdf_at(s))
        stat.append({"ratio": x, "exact": occ_left if inst.sharp == 1 else 1 - occ_left,
                     "fp": fl if inst.sharp == 1 else 1 - fl})
    checks.append(Check(f"control (stationary reading): the stationary flat occupancy grows with eta/B: "
                        f"occ({stat[0]['ratio']:g}) - occ({stat[1]['ratio']:g}) <= 0", NEGATIVE_CONTROL, 0.0,
                        exact(stat[0]["exact"] - stat[1]["exact"], "exact discrete-chain stationary vectors"), 0.0,
                        f"Fokker-Planck: {stat[0]['fp']:.4f} -> {stat[1]['fp']:.4f}; low noise favours the flat (quiet) "
                        "minimum", bound=True))
    checks.append(Check("stationary: Fokker-Planck occupancy = exact chain (diffusive range), |difference| <= 0.02 at "
                        f"eta/B = {stat[0]['ratio']:g}", APPROXIMATION, 0.02,
                        exact(abs(stat[0]["fp"] - stat[0]["exact"]), "grid solves"), 0.0,
                        "the diffusion limit, expected adequate at the smallest eta/B", bound=True, expect=ADEQUATE))
    data = {"rows": rows, "langevin_checks": langevin, "stationary": stat, "horizon": inst.horizon,
            "sharp": int(inst.sharp), "barrier": s, "minima": inst.minima.tolist(), "n_paths": n_paths,
            "nodes": nodes, "ratios": list(inst.ratios)}
    return ClaimResult("C6", checks, inst.describe(), data)


def _derive(inst, latex=False):
    p = inst.problem
    m = inst.minima
    S = st.noise_variance(p, m, 1)
    lines = [
        "Sharp and flat minima of equal depth, gradient noise growing with curvature (seeds 000, 004; Keskar et al. 2017):",
        f"  minima {m[0]:.4g}, {m[1]:.4g} (L = {p.loss(m[0]):.3g}, {p.loss(m[1]):.3g}); L'' = {p.curvature(m[0]):.4g}, "
        f"{p.curvature(m[1]):.4g}; Sigma = {S[0]:.4g}, {S[1]:.4g}; barrier {inst.barrier:.4g}",
        "  Sigma(w) = spread (w + 1)^4 / 16 + floor  (L_i = L + b_i (w + 1)^3 / 12 + c_i w, b = +-sqrt(spread), "
        "c = +-sqrt(floor))",
        "  Fokker-Planck (Ito): p ∝ (1/D) exp(-∫ L'/D), D = eta Sigma/(2B); Kramers rate ∝ exp(-(Psi(s) - Psi(a)))",
        "  low eta/B: Psi(sharp) - Psi(flat) ≈ ∫ L'/D > 0 grows like B/eta: the STATIONARY law favours the flat",
        "  (quiet) minimum more as eta/B falls, but escape from the sharp minimum takes exp(O(B/eta)) steps;",
        "  over a fixed time t = eta k, the flat occupancy from a sharp start grows with eta/B (exact chain).",
    ]
    text = "\n".join(lines)
    return "\\begin{verbatim}\n" + text + "\n\\end{verbatim}" if latex else text


def _figure(result, outdir):
    from ..figures import sharp_minima as fs

    return fs.figure_c6(result, outdir)


register(Claim("C6", "Large batches and sharp minima: the flat minimum's occupancy grows with eta/B",
               "000, 004 (Keskar et al. 2017)",
               "sharp and flat minima of equal depth, noise growing with curvature: started in the sharp minimum, the "
               "fraction of a fixed time spent in the flat basin grows with eta/B (the stationary preference does not)",
               "equality", run_c6, _derive, _figure, default_instance, instance_from_config))
