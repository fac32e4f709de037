"""Claim A1: the minibatch gradient is unbiased, with covariance c_B Sigma (and A2's instance).

A1 -- seed 000 (Huszar, section "SGD"), 001, 002: for uniform minibatches of size B, E g_B = grad L
and Cov g_B = Sigma/B with replacement, Sigma/B (n-B)/(n-1) without (Sigma: the per-example
gradient covariance at w).  Checked three ways: SymPy derives the finite-population factor,
exact enumeration of every batch (small n), and Monte Carlo with independent replicas at several
B for both schemes.  Negative control: the with-replacement formula applied to sampling without
replacement at B near n (a straw man, ~40 half-widths away) and, as the plausible wrong answers, the
neighbouring constants: without replacement c_B = (n-B)/(Bn) (n in place of n - 1), with replacement
Sigma_s/B with the unbiased sample covariance Sigma_s = n Sigma/(n-1).  Both differ from the claim by a
relative 1/n (1/(n-1)); the number of draws of every checked trace is planned from the *exact* per-draw
variance of |g_B - grad L|^2 (closed form with replacement, enumeration without; a pilot run on a separate
seed stream when the batches are too many) so that this control sits PLAN_HALF_WIDTHS = 9 planned
half-widths from the claim in full mode (4.5 in quick mode, a quarter of the draws).

A2's instance (McAllester's 1-D example) and its config reader live here; the claim itself is
``a2_gradient_at_optimum`` (written with the public API of sgdtheory.derivations).
"""

from __future__ import annotations

from dataclasses import dataclass

import math

import numpy as np
from scipy import special

from ..config import FINITE_SUM, finite_sum_problem, schema
from ..errors import ConfigError, SgdTheoryError, as_float_array, check_int
from ..gradient_noise import sample_gradients
from ..problems import LinearRegression, QuadraticFiniteSum
from ..sampling import Sampler
from ..stats import exact
from ..theory.minibatch import MAX_ENUMERATION, batch_factor, derive_batch_factor, enumerate_batch_moments
from .base import CLAIM, NEGATIVE_CONTROL, Check, Claim, ClaimResult, Settings, register

SCHEMES = ("with_replacement", "without_replacement")
#: the near control's planned distance from the claim, in planned half-widths, in full mode (quick mode
#: takes a quarter of the draws: half the distance)
PLAN_HALF_WIDTHS = 9.0
MIN_DRAWS = 16
PILOT = (64, 256)  # paths x draws of the pilot run (separate seed stream) when batches cannot be enumerated


def draw_variance(G: np.ndarray, batch: int, scheme: str, pilot=None) -> float:
    """Exact variance of X = |g_B - gbar|^2 for one uniform minibatch (the per-draw variance of the trace
    estimator).  With replacement, x_j = g_(i_j) - gbar i.i.d. with mean 0 and covariance Sigma:
    E X^2 = [B mu4 + B(B-1)((tr Sigma)^2 + 2 tr Sigma^2)]/B^4, mu4 = mean_i |x_i|^4, E X = tr Sigma/B.
    Without replacement by listing every B-subset; when there are more than MAX_ENUMERATION of them,
    ``pilot()`` (a small run on its own seed stream) returns per-path means over its draws and the
    variance is estimated from them."""
    G = np.asarray(G, dtype=np.float64)
    n = G.shape[0]
    x = G - G.mean(axis=0)
    S = x.T @ x / n
    tr = float(np.trace(S))
    if scheme == "with_replacement":
        mu4 = float(np.mean(np.sum(x**2, axis=1) ** 2))
        B = batch
        ex2 = (B * mu4 + B * (B - 1) * (tr**2 + 2.0 * float(np.trace(S @ S)))) / B**4
        return max(ex2 - (tr / B) ** 2, 0.0)
    if math.comb(n, batch) <= MAX_ENUMERATION:
        import itertools

        vals = np.array([float(np.sum(x[list(b)].mean(axis=0) ** 2)) for b in itertools.combinations(range(n), batch)])
        return float(vals.var())
    if pilot is None:
        raise SgdTheoryError(f"batch_size = {batch}: too many batches to enumerate and no pilot run given")
    per_path, draws = pilot()
    return float(np.var(per_path, ddof=1) * draws)


def planned_draws(sd_draw: float, gap: float, settings: Settings, paths: int, default: int) -> int:
    """Draws per path so that a control ``gap`` away from the claim sits PLAN_HALF_WIDTHS planned
    half-widths away in full mode (half that in quick mode, a quarter of the draws): half-width
    q sd/sqrt(paths draws), q the normal quantile at ``settings.level``.  ``default`` when gap = 0."""
    if not gap > 0 or not sd_draw > 0:
        return default
    q = float(special.ndtri(0.5 + 0.5 * settings.level))
    total = (q * sd_draw * PLAN_HALF_WIDTHS / gap) ** 2 / (4.0 if settings.quick else 1.0)
    return max(MIN_DRAWS, int(math.ceil(total / paths)))


@dataclass(frozen=True, eq=False)
class GradientInstance:
    """A finite-sum problem, the point w where minibatch gradients are drawn, and batch sizes."""

    problem: QuadraticFiniteSum | LinearRegression
    w: np.ndarray
    batch_sizes: tuple[int, ...]
    name: str = "default"

    def __post_init__(self):
        n = self.problem.n
        if isinstance(self.batch_sizes, (str, bytes)) or not hasattr(self.batch_sizes, "__len__"):
            raise SgdTheoryError(f"batch_sizes: expected a list of integers, got {self.batch_sizes!r}")
        sizes = tuple(check_int(b, f"batch_sizes[{k}]", 1, n) for k, b in enumerate(self.batch_sizes))
        if len(sizes) < 2:
            raise SgdTheoryError("batch_sizes: need at least two batch sizes")
        if len(set(sizes)) != len(sizes):
            raise SgdTheoryError(f"batch_sizes: duplicate entries in {list(sizes)}; the batch sizes must be distinct")
        w = as_float_array(self.w, "w", 1)
        if w.shape != (self.problem.d,):
            raise SgdTheoryError(f"w: expected shape ({self.problem.d},), got {w.shape}")
        G = self.problem.gradients(w)
        scale = (1.0 + float(np.max(np.abs(G)))) * max(1.0, float(np.max(np.abs(self.problem.mean_hessian))))
        if np.max(np.abs(G - G.mean(axis=0))) <= 1e-10 * scale * (1.0 + float(np.max(np.abs(w)))):
            raise SgdTheoryError(f"w = {w.tolist()}: every per-example gradient is the same here (Sigma = 0), so the "
                                 "minibatch covariance has nothing to measure; choose a w (or data) where the "
                                 "per-example gradients differ")
        object.__setattr__(self, "batch_sizes", sizes)
        object.__setattr__(self, "w", w)

    @property
    def gradients(self) -> np.ndarray:
        return self.problem.gradients(self.w)

    @property
    def sigma(self) -> np.ndarray:
        """Per-example gradient covariance at w (population form, 1/n)."""
        G = self.gradients
        D = G - G.mean(axis=0)
        return D.T @ D / G.shape[0]

    def describe(self) -> dict:
        return {"name": self.name, "n": self.problem.n, "d": self.problem.d, "w": self.w.tolist(),
                "batch_sizes": list(self.batch_sizes), "trace_sigma": float(np.trace(self.sigma))}


def default_a1() -> GradientInstance:
    """Linear regression, n = 12, d = 2 (small enough to enumerate every batch), w off the optimum."""
    rng = np.random.default_rng(np.random.SeedSequence(2026_0001))
    X = rng.standard_normal((12, 2))
    y = X @ np.array([1.0, -0.5]) + 0.7 * rng.standard_normal(12)
    p = LinearRegression(X, y, name="linear regression n=12, d=2")
    return GradientInstance(p, p.minimizer + np.array([0.4, -0.3]), (1, 2, 4, 8, 10), name="default")


def default_a2() -> GradientInstance:
    """McAllester's 1-D example: loss (beta - y_i)^2/2 on 10 values y_i, at beta* = mean y."""
    y = np.array([0.3, 1.9, -0.7, 2.4, 1.1, 0.2, -1.3, 0.8, 1.6, 0.5])
    p = LinearRegression(np.ones((10, 1)), y, name="(beta - y)^2/2, n=10")
    return GradientInstance(p, p.minimizer, (1, 2, 4, 8), name="default")


@schema("A1", {"problem": FINITE_SUM, "experiment": {"w": "num[]", "batch_sizes": "int[]!"}})
def a1_from_config(cfg: dict) -> GradientInstance:
    """[problem] X, y (or g, H, c, anchor); [experiment] w (default the minimiser), batch_sizes."""
    return _instance_from_config(cfg, default_a1())


def _instance_from_config(cfg: dict, default: GradientInstance) -> GradientInstance:
    problem = finite_sum_problem(cfg)
    prob = cfg["problem"]
    exp = cfg.get("experiment", {})
    try:
        w = exp.get("w", problem.minimizer)
        sizes = exp.get("batch_sizes", [b for b in default.batch_sizes if b <= problem.n] or [1, problem.n])
        return GradientInstance(problem, w, tuple(sizes), name=prob.get("name", "user"))
    except SgdTheoryError as exc:
        raise ConfigError(f"experiment.{exc}") from None


@schema("A2", {"problem": {"y": "*num[]", "name": "str"}, "experiment": {"batch_sizes": "int[]!"}})
def _a2_from_config(cfg: dict) -> GradientInstance:
    """A2's instance: [problem] y = [...] (the data of loss (beta - y)^2/2), optional batch_sizes."""
    prob = cfg.get("problem")
    if not isinstance(prob, dict) or "y" not in prob:
        raise ConfigError("problem.y: required (the values y_i of McAllester's loss (beta - y)^2/2)")
    unknown = set(prob) - {"y", "name"}
    if unknown:
        raise ConfigError(f"problem.{sorted(unknown)[0]}: unknown field for A2; valid: y, name")
    try:
        y = np.asarray(prob["y"], dtype=np.float64)
        p = LinearRegression(np.ones((y.size, 1)), y, name=prob.get("name", "user (beta - y)^2/2"))
    except (SgdTheoryError, ValueError, TypeError) as exc:
        raise ConfigError(f"problem.y: {exc}") from None
    try:
        sizes = cfg.get("experiment", {}).get("batch_sizes", [1, 2, 4])
        return GradientInstance(p, p.minimizer, tuple(sizes), name=prob.get("name", "user"))
    except SgdTheoryError as exc:
        raise ConfigError(f"experiment.{exc}") from None


def _draws(settings: Settings) -> tuple[int, int]:
    return (256, 2000) if settings.quick else (1024, 4000)


def run_a1(inst: GradientInstance, settings: Settings) -> ClaimResult:
    """A1: E g_B = grad L and tr Cov g_B = c_B tr Sigma, by SymPy, enumeration and Monte Carlo."""
    lv = settings.level
    n = inst.problem.n
    G = inst.gradients
    gbar = G.mean(axis=0)
    tr_sigma = float(np.trace(inst.sigma))
    gap = derive_batch_factor()["c_B - (n - B)/(B (n - 1))"]
    checks = [Check("SymPy: c_B without replacement = (n-B)/(B(n-1))", CLAIM, 0.0,
                    exact(float(gap), "SymPy from inclusion probabilities"), 1e-12)]
    paths, draws = _draws(settings)
    data = {"B": list(inst.batch_sizes), "tr_sigma": tr_sigma, "n": n, "plan": []}
    checked = (inst.batch_sizes[len(inst.batch_sizes) // 2], inst.batch_sizes[-1])
    main_B = checked[1] if batch_factor(n, checked[1], "without_replacement") > 0 else checked[0]
    for si, scheme in enumerate(SCHEMES):
        data[scheme] = {"mc": [], "mc_halfwidth": [], "theory": []}
        for bi, B in enumerate(inst.batch_sizes):
            cB = batch_factor(n, B, scheme)
            if scheme == "without_replacement":
                near, near_name = (n - B) / (B * n) * tr_sigma, f"tr Cov g_B = (n-B)/(Bn) tr Sigma (n for n-1; B={B})"
            else:
                near, near_name = (n / (n - 1) * tr_sigma / B if n > 1 else 0.0,
                                   f"tr Cov g_B = tr Sigma_s / B, Sigma_s = n Sigma/(n-1) the sample covariance (B={B})")
            gap = abs(near - cB * tr_sigma)
            n_draws = draws
            if B in checked:
                def pilot(B=B, si=si, bi=bi, scheme=scheme):
                    r = sample_gradients(inst.problem, inst.w, Sampler(B, scheme), n_draws=PILOT[1], n_paths=PILOT[0],
                                         seed=settings.seed, seed_key=(0xA1, 0xF1, si, bi))
                    return np.trace(r.second, axis1=1, axis2=2) / r.n_draws, r.n_draws
                sd = math.sqrt(draw_variance(G, B, scheme, pilot))
                n_draws = planned_draws(sd, gap, settings, paths, draws)
                data["plan"].append({"scheme": scheme, "B": B, "sd_draw": sd, "gap": gap, "draws": n_draws,
                                     "paths": paths})
            settings.step(f"{scheme} B={B}")
            res = sample_gradients(inst.problem, inst.w, Sampler(B, scheme), n_draws=n_draws, n_paths=paths,
                                   seed=settings.seed, seed_key=(0xA1, si, bi))
            tr = res.trace(lv)
            data[scheme]["mc"].append(tr.value)
            data[scheme]["mc_halfwidth"].append(tr.half_width)
            data[scheme]["theory"].append(cB * tr_sigma)
            if B in checked:
                for k in range(inst.problem.d):
                    checks.append(Check(f"E g_B[{k}] = grad L[{k}] ({scheme}, B={B})", CLAIM, gbar[k], res.mean(k, lv),
                                        0.05 * float(np.linalg.norm(gbar)) + 1e-12, "Monte Carlo"))
                checks.append(Check(f"tr Cov g_B = c_B tr Sigma ({scheme}, B={B})", CLAIM, cB * tr_sigma, tr,
                                    0.05 * cB * tr_sigma if cB > 0 else 1e-12,
                                    f"c_B = {cB:.4g}; {paths} x {n_draws} draws, planned so that the neighbouring "
                                    f"constant sits {PLAN_HALF_WIDTHS:g} half-widths away in full mode",
                                    main=(scheme == "without_replacement" and B == main_B)))
                if gap > 0:
                    checks.append(Check(near_name, NEGATIVE_CONTROL, near, tr, 0.05 * cB * tr_sigma,
                                        "the plausible wrong constant: relative gap 1/n"))
                if scheme == "without_replacement" and B == inst.batch_sizes[-1] and B > 1:
                    checks.append(Check(f"tr Cov g_B = tr Sigma / B (with-replacement formula, B={B} of n={n})",
                                        NEGATIVE_CONTROL, tr_sigma / B, tr, 0.05 * cB * tr_sigma, ""))
        B = inst.batch_sizes[len(inst.batch_sizes) // 2]
        try:
            mean_e, cov_e, _ = enumerate_batch_moments(G, B, scheme)
        except SgdTheoryError:
            continue
        cB = batch_factor(n, B, scheme)
        checks.append(Check(f"enumeration: tr Cov g_B = c_B tr Sigma ({scheme}, B={B})", CLAIM, cB * tr_sigma,
                            exact(float(np.trace(cov_e)), "exact enumeration of every batch"),
                            1e-9 * tr_sigma))
        checks.append(Check(f"enumeration: |E g_B - grad L| = 0 ({scheme}, B={B})", CLAIM, 0.0,
                            exact(float(np.linalg.norm(mean_e - gbar)), "exact enumeration (float64 sums)",
                                  abs_tol=1e-10 * (1 + float(np.abs(G).max()))),
                            1e-9 * (1 + float(np.linalg.norm(gbar)))))
    return ClaimResult("A1", checks, inst.describe(), data)


def _derive(inst, latex=False):
    der = derive_batch_factor()
    return der.latex() if latex else der.text()


def _figure(claim_id):
    def make(result, outdir):
        from ..figures import minibatch as fm

        return fm.FIGURES[claim_id](result, outdir)
    return make


register(Claim("A1", "Unbiased minibatch gradients with covariance c_B Sigma", "000 section 'SGD', 001, 002",
               "E g_B = grad L; Cov g_B = Sigma/B (with), Sigma/B (n-B)/(n-1) (without replacement)", "equality",
               run_a1, _derive, _figure("A1"), default_a1, a1_from_config))
