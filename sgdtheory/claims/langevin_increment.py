"""Claim B6 (the Langevin increment) and erratum E5 (seed 003, McAllester, slides "Langevin Dynamics" and
"Langevin Dynamics (Without Annealing)").

B6 -- over a time Delta t = k eta (k SGD steps), with the gradient frozen at Phi ("small enough so that
the gradient does not change as the updates are made"), Phi(t + Delta t) = Phi(t) - g Delta t + sqrt(eta)
sqrt(Delta t) eps with eps ~ N(0, Sigma), Sigma the covariance of the minibatch gradient g_hat: the
displacement's covariance at fixed Delta t is eta Delta t Sigma, exponent 1 in eta.  Measured two ways
on a finite-sum problem at a point w away from the minimiser, at k = Delta t/eta for several k:

* frozen gradient: k fresh minibatch gradients at w (``gradient_noise.sample_gradients``), displacement
  -eta sum_j g_B,j; its mean is -g Delta t and tr Cov = eta Delta t tr Sigma_B exactly;
* real SGD (the gradient moves): k steps from w (``simulate``), tr Cov(w_k) against its exact value
  from the moment recursion (``theory.sgd_moments``), which is eta tr V(Delta t) + O(eta^2) with V the
  Langevin covariance along the flow (``theory.langevin_increment.langevin_covariance``).

The exponent is the weighted log-log slope of tr Cov against eta over independent runs.  Negative
control: exponent 2 (the "without annealing" slide's sqrt(Delta t) eta eps), and a mean displacement
that ignores the drift (E D = 0).

E5 -- the "without annealing" slide's increment sqrt(Delta t) eta eps has variance Delta t eta^2 Sigma:
as printed it is rejected against the same measurements (it is eta times too small); the corrected
form (the first slide's) is verified.  Both vanish as eta -> 0, so the slide's remark "back to gradient
flow" does not tell them apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import finite_sum_problem
from ..config import FINITE_SUM, schema
from ..errors import ConfigError, SgdTheoryError, check_float, check_int
from ..gradient_noise import sample_gradients
from ..problems import LinearRegression, QuadraticFiniteSum
from ..sampling import Sampler
from ..schedules import Constant
from ..simulate import simulate, stability_limit
from ..stats import exact, loglog_slope, replica_interval
from ..theory import langevin_increment as th
from ..theory.quadratic_basin import QuadraticBasin
from ..theory.sgd_moments import SGDMoments
from .base import AS_PRINTED, CLAIM, NEGATIVE_CONTROL, Check, ClaimResult, Settings, register
from .base import Claim


@dataclass(frozen=True, eq=False)
class IncrementInstance:
    """A finite-sum problem, the start w, the window Delta t and the step counts k (eta = Delta t/k)."""

    problem: QuadraticFiniteSum | LinearRegression
    w: np.ndarray
    dt: float = 0.5
    ks: tuple[int, ...] = (8, 16, 32, 64, 128)
    sampler: Sampler = Sampler(1, "with_replacement")
    name: str = "default"

    def __post_init__(self):
        if not isinstance(self.problem, (QuadraticFiniteSum, LinearRegression)):
            raise SgdTheoryError(f"problem: expected a QuadraticFiniteSum or LinearRegression, got {type(self.problem).__name__}")
        w = np.asarray(self.w, dtype=np.float64)
        if w.shape != (self.problem.d,) or not np.all(np.isfinite(w)):
            raise SgdTheoryError(f"w: expected a finite vector of shape ({self.problem.d},), got {w.shape}")
        object.__setattr__(self, "w", w)
        if self.sampler.scheme not in ("with_replacement", "without_replacement"):
            raise SgdTheoryError(f"sampling: B6 needs i.i.d. minibatches; got {self.sampler.scheme!r} "
                                 "(valid: with_replacement, without_replacement)")
        self.sampler.validate_for(self.problem.n)
        if self.sampler.noise_factor(self.problem.n) == 0.0:
            raise SgdTheoryError("batch_size: the minibatch gradient has no noise (B = n without replacement); "
                                 f"valid range is [1, {self.problem.n - 1}]")
        ks = tuple(sorted(check_int(k, "ks", 2, 1_000_000) for k in self.ks))
        if len(set(ks)) < 3:
            raise SgdTheoryError("ks: need at least three distinct step counts k >= 2 for the exponent fit")
        object.__setattr__(self, "ks", ks)
        lam = float(np.linalg.eigvalsh(self.problem.mean_hessian)[-1])
        dt = check_float(self.dt, "dt", 0.0, 2.0 / lam)  # the window: at most a couple of relaxation times
        object.__setattr__(self, "dt", dt)
        rounding = 1e-10 * float(np.max(np.abs(self.problem.mean_hessian))) * (1.0 + float(np.max(np.abs(w))))
        if np.trace(self.sigma_b) <= rounding**2:  # zero up to rounding (e.g. an interpolating problem at w*)
            raise SgdTheoryError("w: the minibatch gradient has zero covariance there; choose another w")
        limit, how = stability_limit(self.problem, _sgd(), self.sampler)
        if dt / ks[0] >= limit:
            raise SgdTheoryError(f"ks: the largest learning rate dt/k = {dt / ks[0]:.6g} (k = {ks[0]}) is beyond the "
                                 f"stability limit {limit:.6g} [{how}]; valid: k > {dt / limit:.6g}")

    @property
    def etas(self) -> np.ndarray:
        return self.dt / np.array(self.ks, dtype=np.float64)

    @property
    def quadratic(self) -> QuadraticFiniteSum:
        p = self.problem
        return p.as_quadratic() if isinstance(p, LinearRegression) else p.at_minimum()

    @property
    def gradient(self) -> np.ndarray:
        return self.problem.gradients(self.w).mean(axis=0)

    @property
    def sigma_b(self) -> np.ndarray:
        """Sigma of the slide = Cov of the minibatch gradient at w = c_B Sigma(w)."""
        G = self.problem.gradients(self.w)
        D = G - G.mean(axis=0)
        return self.sampler.noise_factor(self.problem.n) * D.T @ D / self.problem.n

    def describe(self) -> dict:
        return {"name": self.name, "n": self.problem.n, "d": self.problem.d, "w": self.w.tolist(), "dt": self.dt,
                "ks": list(self.ks), "batch_size": self.sampler.batch_size, "sampling": self.sampler.scheme,
                "tr_sigma_b": float(np.trace(self.sigma_b))}


def _sgd():
    from ..optimizers import SGD

    return SGD()


def default_instance() -> IncrementInstance:
    """A1's linear regression (n = 12, d = 2) from its off-optimum point, Delta t = 0.5, B = 1."""
    from .minibatch import default_a1

    a1 = default_a1()
    return IncrementInstance(a1.problem, a1.w, 0.5, (8, 16, 32, 64, 128), Sampler(1, "with_replacement"))


@schema('B6/E5', {
    "problem": FINITE_SUM,
    "experiment": {"w": "*num[]", "dt": "num", "ks": "int[]!", "batch_size": "int", "sampling": "str"},
})
def instance_from_config(cfg: dict) -> IncrementInstance:
    """[problem] X, y (or g, H, c) and [experiment] w, dt, ks, batch_size, sampling."""
    problem = finite_sum_problem(cfg)
    prob = cfg["problem"]
    exp = cfg.get("experiment", {})
    unknown = set(exp) - {"w", "dt", "ks", "batch_size", "sampling"}
    if unknown:
        raise ConfigError(f"experiment.{sorted(unknown)[0]}: unknown field; valid: w, dt, ks, batch_size, sampling")
    if "w" not in exp:
        raise ConfigError("experiment.w: required (the point where the window starts, away from the minimiser)")
    try:
        sampler = Sampler(exp.get("batch_size", 1), exp.get("sampling", "with_replacement"))
        return IncrementInstance(problem, exp["w"], exp.get("dt", 0.5), tuple(exp.get("ks", (8, 16, 32, 64, 128))),
                                 sampler, name=prob.get("name", "user"))
    except SgdTheoryError as exc:
        raise ConfigError(f"experiment.{exc}") from None


@dataclass
class IncrementRuns:
    """Per eta: frozen-gradient displacements' squared deviations and SGD's, per path (independent)."""

    etas: np.ndarray
    frozen_mean: list  # per eta: (paths, d) displacement + g dt
    frozen_sq: list  # per eta: (paths,) |D - E D|^2
    sgd_sq: list  # per eta: (paths,) |w_k - E w_k|^2 (exact E w_k)
    exact_sgd: np.ndarray  # per eta: exact tr Cov(w_k)
    n_paths: int


def run_increments(inst: IncrementInstance, n_paths: int, seed, progress=None) -> IncrementRuns:
    """Simulate both windows at every k (independent seeds per k and per kind)."""
    q = inst.quadratic
    basin = QuadraticBasin(q.g, q.H, inst.sampler.validate_for(q.n), inst.sampler.scheme)
    moments = SGDMoments(basin)
    delta0 = inst.w - q.minimizer
    frozen_mean, frozen_sq, sgd_sq, exact_sgd = [], [], [], []
    for j, k in enumerate(inst.ks):
        eta = inst.dt / k
        if progress:
            progress(f"k = {k}: {n_paths} paths, frozen gradient and SGD")
        gs = sample_gradients(inst.problem, inst.w, inst.sampler, n_draws=k, n_paths=n_paths, seed=seed,
                              seed_key=(0xB6, 0, j))
        dev = -eta * gs.first  # D - E D = -eta sum_j (g_B,j - g)
        frozen_mean.append(dev)
        frozen_sq.append(np.sum(dev**2, axis=1))
        res = simulate(inst.problem, eta, sampler=inst.sampler, n_steps=k, n_paths=n_paths, seed=seed,
                       seed_key=(0xB6, 1, j), w0=inst.w, record=())
        res._require_ok()
        mp = moments.run(Constant(eta), delta0, [k])
        m = q.minimizer + mp.mean[0]
        exact_sgd.append(float(np.trace(mp.second[0]) - mp.mean[0] @ mp.mean[0]))
        sgd_sq.append(np.sum((res.final_params - m) ** 2, axis=1))
    return IncrementRuns(inst.etas, frozen_mean, frozen_sq, sgd_sq, np.array(exact_sgd), n_paths)


def _n_paths(settings: Settings) -> int:
    return 4096 if settings.quick else 32768


def _slope(etas, ests):
    y = np.array([e.value for e in ests])
    se = np.array([e.standard_error for e in ests])
    return loglog_slope(etas, y, se, ests[0].level)


def run_b6(inst: IncrementInstance, settings: Settings) -> ClaimResult:
    lv = settings.level
    runs = run_increments(inst, _n_paths(settings), settings.seed, settings.step)
    der = th.derive()
    tr_s = float(np.trace(inst.sigma_b))
    dt = inst.dt
    res = 0.10 if settings.quick else 0.05
    q = inst.quadratic
    trV = float(np.trace(th.langevin_covariance(q.g, q.H, inst.sampler.noise_factor(q.n), inst.w - q.minimizer, dt)))
    checks = [
        Check("SymPy: Var(eta sum_(j<k) xi_j) at k = dt/eta equals Var(sqrt(eta) sqrt(dt) eps) (difference)", CLAIM, 0.0,
              exact(0.0 if der.corrected_matches else 1.0, "SymPy simplify"), 1e-9,
              f"both {der.corrected}; exponent {der.corrected_exponent}"),
    ]
    frozen_ests, sgd_ests = [], []
    for j, (k, eta) in enumerate(zip(inst.ks, runs.etas)):
        est = replica_interval(runs.frozen_sq[j], lv)
        frozen_ests.append(est)
        pred = eta * dt * tr_s
        checks.append(Check(f"frozen gradient, k = {k}: E|D + g dt|^2 = eta dt tr Sigma", CLAIM, pred, est, res * pred,
                            f"eta = {eta:.4g}; resolution {100 * res:g}% of the prediction; independent paths"))
        sgd_ests.append(replica_interval(runs.sgd_sq[j], lv))
        checks.append(Check(f"SGD (gradient moves), k = {k}: tr Cov(w_k) exact (moment recursion)", CLAIM,
                            runs.exact_sgd[j], sgd_ests[-1], res * runs.exact_sgd[j],
                            f"Langevin first order eta tr V(dt) = {eta * trV:.5g}; |w_k - E w_k|^2 per path"))
    # the mean displacement: -g dt (drift) against "no drift"
    j0 = len(inst.ks) // 2
    g = inst.gradient
    u = g / np.linalg.norm(g)
    proj = runs.frozen_mean[j0] @ u - np.linalg.norm(g) * dt  # (D . u) with D = -g dt + dev
    est = replica_interval(proj, lv)
    gd = float(np.linalg.norm(g) * dt)
    checks.append(Check(f"frozen gradient, k = {inst.ks[j0]}: E D . g/|g| = -|g| dt (the drift)", CLAIM, -gd, est,
                        0.05 * gd, "resolution 5% of |g| dt"))
    checks.append(Check(f"control: no drift, E D . g/|g| = 0 (k = {inst.ks[j0]})", NEGATIVE_CONTROL, 0.0, est, 0.05 * gd,
                        "the -g dt term"))
    fit_f = _slope(runs.etas, frozen_ests)
    fit_s = _slope(runs.etas, sgd_ests)
    exact_sgd_slope = float(np.polyfit(np.log(runs.etas), np.log(runs.exact_sgd), 1)[0])
    checks += [
        Check("frozen gradient: exponent of tr Cov D in eta at fixed dt is 1 (sqrt(eta) sqrt(dt) eps)", CLAIM, 1.0,
              fit_f.slope, 0.1, f"weighted log-log fit over {len(inst.ks)} independent runs; chi2 = {fit_f.chi2:.2f} "
              f"on {fit_f.dof} dof"),
        Check("control: exponent 2 (the 'without annealing' slide's sqrt(dt) eta eps)", NEGATIVE_CONTROL, 2.0,
              fit_f.slope, 0.1, "erratum E5"),
        Check("SGD (gradient moves): the measured exponent equals the exact one over this grid", CLAIM,
              exact_sgd_slope, fit_s.slope, 0.1, "exponent 1 + O(eta): the O(eta) curvature of log tr Cov against log eta; the limit itself is the "
              "tr V(dt) check below"),
        Check("control: SGD exponent 2", NEGATIVE_CONTROL, 2.0, fit_s.slope, 0.1, "erratum E5"),
    ]
    # the Langevin limit of the exact covariance: tr Cov / eta -> tr V(dt) (Richardson over the two smallest eta)
    r = runs.exact_sgd / runs.etas
    e = runs.etas

    def richardson(a, b):
        return (e[b] * r[a] - e[a] * r[b]) / (e[b] - e[a])

    rich, rich_prev = richardson(-1, -2), richardson(-2, -3)
    checks.append(Check("exact: tr Cov(w_k)/eta -> tr V(dt) as eta -> 0 (linear extrapolation of the two smallest eta)",
                        CLAIM, trV, exact(rich, "moment recursion + Richardson; allowance: change from the next pair",
                                          abs_tol=abs(rich - rich_prev)),
                        0.01 * trV, f"tr V(dt) = {trV:.6g} (covariance ODE along the flow, DOP853); "
                        f"tr Cov/eta at eta = {e[-1]:.4g}: {r[-1]:.6g}"))
    data = {"etas": runs.etas.tolist(), "ks": list(inst.ks), "dt": dt, "tr_sigma_b": tr_s, "trV": trV,
            "frozen": [[e.value, e.low, e.high] for e in frozen_ests],
            "sgd": [[e.value, e.low, e.high] for e in sgd_ests], "exact_sgd": runs.exact_sgd.tolist(),
            "slope_frozen": [fit_f.slope.value, fit_f.slope.low, fit_f.slope.high],
            "slope_sgd": [fit_s.slope.value, fit_s.slope.low, fit_s.slope.high], "exact_sgd_slope": exact_sgd_slope,
            "n_paths": runs.n_paths}
    return ClaimResult("B6", checks, inst.describe(), data)


def run_e5(inst: IncrementInstance, settings: Settings) -> ClaimResult:
    lv = settings.level
    runs = run_increments(inst, _n_paths(settings), settings.seed, settings.step)
    der = th.derive()
    tr_s = float(np.trace(inst.sigma_b))
    dt = inst.dt
    res = 0.10 if settings.quick else 0.05
    checks = [
        Check("SymPy as printed: Var(sqrt(dt) eta eps) / Var(eta sum_(j<k) xi_j) = 1 (ratio eta evaluated at the largest eta)",
              AS_PRINTED, 1.0, exact(float(der.printed_ratio.subs({s: runs.etas[0] for s in der.printed_ratio.free_symbols})),
                                     "SymPy simplify"), 1e-9, f"printed/true = {der.printed_ratio}"),
        Check("SymPy as printed: exponent of the variance in eta is 1", AS_PRINTED, 1.0,
              exact(float(der.printed_exponent), "SymPy"), 1e-9, f"printed exponent {der.printed_exponent}"),
        Check("SymPy corrected: exponent of Var(sqrt(eta) sqrt(dt) eps) in eta is 1", CLAIM, 1.0,
              exact(float(der.corrected_exponent), "SymPy"), 1e-9, "the first Langevin slide"),
    ]
    ests = []
    for j, (k, eta) in enumerate(zip(inst.ks, runs.etas)):
        est = replica_interval(runs.frozen_sq[j], lv)
        ests.append(est)
        if j in (0, len(inst.ks) - 1):
            checks.append(Check(f"as printed, k = {k}: E|D + g dt|^2 = dt eta^2 tr Sigma", AS_PRINTED, dt * eta**2 * tr_s,
                                est, res * dt * eta**2 * tr_s, f"eta = {eta:.4g}: printed is eta times the truth"))
            checks.append(Check(f"corrected, k = {k}: E|D + g dt|^2 = dt eta tr Sigma", CLAIM, dt * eta * tr_s, est,
                                res * dt * eta * tr_s, f"resolution {100 * res:g}%"))
    fit = _slope(runs.etas, ests)
    checks.append(Check("as printed: exponent 2", AS_PRINTED, 2.0, fit.slope, 0.1, "weighted log-log fit"))
    checks.append(Check("corrected: exponent 1", CLAIM, 1.0, fit.slope, 0.1, "weighted log-log fit"))
    data = {"etas": runs.etas.tolist(), "dt": dt, "tr_sigma_b": tr_s,
            "frozen": [[e.value, e.low, e.high] for e in ests],
            "slope": [fit.slope.value, fit.slope.low, fit.slope.high]}
    return ClaimResult("E5", checks, inst.describe(), data)


def _derive(inst, latex=False):
    q = inst.quadratic
    trV = float(np.trace(th.langevin_covariance(q.g, q.H, inst.sampler.noise_factor(q.n), inst.w - q.minimizer, inst.dt)))
    text = th.derive().text() + (f"\nThis instance: dt = {inst.dt:g}, tr Sigma_B(w) = {np.trace(inst.sigma_b):.6g}, "
                                 f"Langevin tr V(dt) = {trV:.6g} (gradient moving along the flow)")
    return "\\begin{verbatim}\n" + text + "\n\\end{verbatim}" if latex else text


def _figure(claim_id):
    def make(result, outdir):
        from ..figures import langevin_increment as fl

        return fl.FIGURES[claim_id](result, outdir)
    return make


SOURCE = "003, slides 'Langevin Dynamics' and 'Langevin Dynamics (Without Annealing)'"
register(Claim("B6", "Langevin increment: over dt = k eta the displacement variance is eta dt Sigma (exponent 1)",
               SOURCE, "Phi(t + dt) ~ Phi(t) - g dt + sqrt(eta) sqrt(dt) eps, eps ~ N(0, Sigma): Var ~ eta^1 at fixed dt",
               "rate", run_b6, _derive, _figure("B6"), default_instance, instance_from_config))
register(Claim("E5", "Erratum: the 'without annealing' increment sqrt(dt) eta eps has the wrong power of eta", SOURCE,
               "sqrt(eta) sqrt(dt) eps (printed: sqrt(dt) eta eps, variance exponent 2)", "erratum", run_e5, _derive,
               _figure("E5"), default_instance, instance_from_config))
