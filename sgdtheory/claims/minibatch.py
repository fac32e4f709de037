"""Claims A1 and A2: the minibatch gradient is unbiased, with covariance c_B Sigma.

A1 -- seed 000 (Huszar, section "SGD"), 001, 002: for uniform minibatches of size B, E g_B = grad L
and Cov g_B = Sigma/B with replacement, Sigma/B (n-B)/(n-1) without (Sigma: the per-example
gradient covariance at w).  Checked three ways: SymPy derives the finite-population factor,
exact enumeration of every batch (small n), and Monte Carlo with independent replicas at several
B for both schemes.  Negative control: the with-replacement formula applied to sampling without
replacement at B near n.

A2 -- seed 003 (McAllester), the slide with loss(beta, y) = (beta - y)^2/2: at the optimum
beta* = E y the batch gradient g_B = beta* - mean_B y is not zero (its variance is Var(y)/B with
replacement).  Negative controls: "g_B = 0 at the optimum" and the variance without the 1/B.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import FINITE_SUM, finite_sum_problem, schema
from ..errors import ConfigError, SgdTheoryError, as_float_array, check_int
from ..gradient_noise import sample_gradients
from ..problems import LinearRegression, QuadraticFiniteSum
from ..sampling import Sampler
from ..stats import exact
from ..theory.minibatch import MAX_ENUMERATION, batch_factor, derive_batch_factor, enumerate_batch_moments
from .base import CLAIM, NEGATIVE_CONTROL, Check, Claim, ClaimResult, Settings, register

SCHEMES = ("with_replacement", "without_replacement")


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
    data = {"B": list(inst.batch_sizes), "tr_sigma": tr_sigma, "n": n}
    for si, scheme in enumerate(SCHEMES):
        data[scheme] = {"mc": [], "mc_halfwidth": [], "theory": []}
        for bi, B in enumerate(inst.batch_sizes):
            cB = batch_factor(n, B, scheme)
            settings.step(f"{scheme} B={B}")
            res = sample_gradients(inst.problem, inst.w, Sampler(B, scheme), n_draws=draws, n_paths=paths,
                                   seed=settings.seed, seed_key=(0xA1, si, bi))
            tr = res.trace(lv)
            data[scheme]["mc"].append(tr.value)
            data[scheme]["mc_halfwidth"].append(tr.half_width)
            data[scheme]["theory"].append(cB * tr_sigma)
            if B in (inst.batch_sizes[len(inst.batch_sizes) // 2], inst.batch_sizes[-1]):
                for k in range(inst.problem.d):
                    checks.append(Check(f"E g_B[{k}] = grad L[{k}] ({scheme}, B={B})", CLAIM, gbar[k], res.mean(k, lv),
                                        0.05 * float(np.linalg.norm(gbar)) + 1e-12, "Monte Carlo"))
                checks.append(Check(f"tr Cov g_B = c_B tr Sigma ({scheme}, B={B})", CLAIM, cB * tr_sigma, tr,
                                    0.05 * cB * tr_sigma if cB > 0 else 1e-12, f"c_B = {cB:.4g}"))
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


def run_a2(inst: GradientInstance, settings: Settings) -> ClaimResult:
    """A2: at beta* the batch gradient is not zero; its variance is Var(y)/B with replacement."""
    lv = settings.level
    if inst.problem.d != 1 or not np.allclose(inst.gradients.mean(axis=0), 0.0, atol=1e-12):
        raise SgdTheoryError("A2 is the one-dimensional example at the optimum: give y values ([problem] y = [...])")
    G = inst.gradients
    var_y = float(inst.sigma[0, 0])
    paths, draws = _draws(settings)
    checks, data = [], {"B": list(inst.batch_sizes), "var_y": var_y, "mc": [], "mc_halfwidth": []}
    for bi, B in enumerate(inst.batch_sizes):
        settings.step(f"B={B}")
        res = sample_gradients(inst.problem, inst.w, Sampler(B), n_draws=draws, n_paths=paths,
                               seed=settings.seed, seed_key=(0xA2, bi), center=np.zeros(1))
        var = res.second_moment(0, 0, lv)
        data["mc"].append(var.value)
        data["mc_halfwidth"].append(var.half_width)
        if bi == len(inst.batch_sizes) - 1:
            checks += [
                Check(f"Var g_B = Var(y)/B at beta* (B={B})", CLAIM, var_y / B, var, 0.05 * var_y / B,
                      "second moment of g_B about 0 (E g_B = 0 at beta*)"),
                Check(f"g_B = 0 at the optimum (B={B})", NEGATIVE_CONTROL, 0.0, var, 0.05 * var_y / B, ""),
                Check(f"Var g_B = Var(y), no 1/B (B={B})", NEGATIVE_CONTROL, var_y, var, 0.05 * var_y / B, ""),
                Check(f"fraction of draws with g_B = 0 exactly (B={B})", CLAIM, 0.0,
                      exact(res.zero_fraction(), f"Monte Carlo count over {paths * draws} draws"), 1e-12,
                      "prediction: no batch mean equals mean y exactly for these y (enumeration below)"),
            ]
    n = inst.problem.n
    B = max(b for b in inst.batch_sizes if n**b <= MAX_ENUMERATION) if n**inst.batch_sizes[0] <= MAX_ENUMERATION \
        else None
    if B is None:
        return ClaimResult("A2", checks, inst.describe(), data)
    _, _, zero = enumerate_batch_moments(G, B, "with_replacement")
    checks.append(Check(f"enumeration: P(g_B = 0) = 0 (B={B})", CLAIM, 0.0, exact(zero, "exact enumeration"),
                        1e-12))
    return ClaimResult("A2", checks, inst.describe(), data)


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
register(Claim("A2", "One-dimensional example: the batch gradient at the optimum is not zero",
               "003, slide 'loss(beta, y) = (beta - y)^2/2'",
               "at beta* = E y, g_B = beta* - mean_B y != 0, Var g_B = Var(y)/B", "equality",
               run_a2, _derive, _figure("A2"), default_a2, _a2_from_config))
