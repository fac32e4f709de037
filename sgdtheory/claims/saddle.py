"""Claim A8: GD started on the stable manifold of a strict saddle stays there; SGD escapes in ~log(1/noise)/lambda.

Source: seed 004 ("Stochastic Gradient Descent" bibliography): Ge, Huang, Jin and Yuan (2015), "Escaping
From Saddle Points -- Online Stochastic Gradient for Tensor Decomposition" (strict saddle property, noisy
SGD escapes), and Du et al. (2017), "Gradient Descent Can Take Exponential Time to Escape Saddle Points".

Setting: ``problems.SaddleQuadratic(H, sigma^2 C, w_s)``, an index-1 strict saddle (one negative
eigenvalue -lambda of H) with Gaussian gradient noise, constant step eta with |1 - eta mu_i| < 1 on the
stable eigenvalues, exit time tau = first k >= 1 with |w_k - w_s| > R (the engine's ``diverged_at``
with threshold R^2).  The math is in ``theory/saddle.py``.  Checks:

* GD (sigma = 0, run in H's eigenbasis, where the stable manifold is a coordinate plane and float64 keeps
  it exactly): from w_s + v_0 (v_0 in the stable eigenspace) the unstable coordinate is exactly 0 for all
  T steps and |w_T - w_s| = |(1 - eta mu)^T v_0| (exact); "GD escapes" is the negative control.  From
  eps off the manifold GD exits at the exact step of the discrete recursion; the gradient-flow step
  ceil(log(R/eps)/(eta lambda)) is a negative control.
* SGD from the saddle, one independent ensemble per sigma on a geometric grid: E tau at each sigma
  against the exact bracket of ``exit_time_moments`` (replica intervals); the slope and intercept of a
  weighted fit of E tau on log(1/sigma) (independent points) against 1/log(1 + eta lambda) and the
  asymptotic intercept; the pooled Var tau against the exact value ~ pi^2/(8 log^2 a) + 1/12.
  Negative controls: the gradient-flow slope 1/(eta lambda); a power law E tau ~ sigma^-2 (log-log
  slope 2); E tau = log(R/s)/log a (no (gamma + log 2)/2); the continuous first-passage time E x (no
  1/2 for the discrete step); an exponential (Kramers-like) exit law Var tau = (E tau)^2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from ..config import schema
from ..errors import ConfigError, SgdTheoryError, as_float_array, check_float, check_int
from ..problems import SaddleQuadratic
from ..simulate import simulate
from ..stats import exact, loglog_slope, proportion_interval, replica_interval, weighted_linear_fit
from ..theory import saddle as th
from .base import CLAIM, NEGATIVE_CONTROL, Check, Claim, ClaimResult, Settings, register

SEED = 0xA8
#: resolutions (steps; steps per e-fold of sigma; relative for the variance), chosen below the smallest
#: wrong prediction each check must see: the 1/2 step of the discrete exit (E tau, intercept), the 0.47
#: steps/e-fold between 1/log(1.5) and 1/0.5 on the default instance (slope); 5% for Var tau, whose
#: controls (an exponential law) differ by orders of magnitude.  Quick mode (~9300 paths per sigma, planned
#: below) reaches half-widths ~0.11 steps, 0.007 steps/e-fold, 4% of Var; full mode (~37000) half that.
RES_MEAN = 0.25
RES_SLOPE = 0.05
RES_INTERCEPT = 0.25
RES_VAR_REL = 0.05
#: the number of paths per sigma is planned so that the nearest plausible wrong E tau -- the continuous
#: first-passage time E x, 1/2 step below the exact discrete exit -- sits PLAN_HALF_WIDTHS planned half-widths
#: from it in full mode (half that in quick mode, a quarter of the paths): P = (q sd(tau) PLAN / (1/2))^2 with
#: sd(tau) from the exact Var tau at the middle sigma and q the normal quantile at the run's level.  On the
#: default instance: ~37000 paths full, ~9300 quick (Var tau ~ 7.6 steps^2, independent of sigma).
PLAN_HALF_WIDTHS = 9.0
PLAN_GAP = 0.5  # steps: exact E tau - E x
MAX_STAY = 0.01  # "SGD escapes": at most this fraction of paths still in the ball after the horizon
MIN_PATHS = 2048
#: the exact predictions must be bracketed, and the grid must lie on the asymptotic line, to these
#: accuracies (far below the full-mode half-widths, ~0.01 steps)
MAX_BRACKET = 2e-3
MAX_VAR_BRACKET = 1e-2
MAX_ASYMPTOTIC = 2e-3

_PROBLEM_FIELDS = ("H", "C", "w_star", "name")


@dataclass(frozen=True, eq=False)
class SaddleInstance:
    """An index-1 strict saddle with noise shape C (covariance sigma^2 C at noise level sigma) and the
    experiment: step ``eta``, exit radius ``radius``, noise levels ``sigmas``, the GD start on the stable
    manifold at distance ``gd_start``, the off-manifold offset ``gd_offset`` and ``gd_steps`` GD steps."""

    H: np.ndarray
    C: np.ndarray
    w_star: np.ndarray
    eta: float
    radius: float
    sigmas: tuple
    gd_start: float | None = None  # default radius/2
    gd_offset: float | None = None  # default 1e-6 radius
    gd_steps: int = 200
    name: str = "default"
    frame: th.EigenFrame = field(init=False, repr=False)

    def __post_init__(self):
        H = as_float_array(self.H, "H", 2)
        d = H.shape[0]
        if d < 2:
            raise SgdTheoryError(f"H: a saddle needs d >= 2 (a stable and an unstable direction), got d = {d}")
        C = as_float_array(self.C, "C", 2)
        w = as_float_array(self.w_star, "w_star", 1)
        SaddleQuadratic(H, C, w)  # validates H (symmetric, indefinite, non-singular), C (PSD), shapes
        frame = th.eigen_frame(H, C)
        eta = check_float(self.eta, "eta", 0.0)
        mu_max = float(frame.mu.max())
        if eta * mu_max >= 2.0:
            raise SgdTheoryError(f"eta = {eta:g} is out of range: the stable directions contract only for "
                                 f"eta < 2/mu_max = {2.0 / mu_max:.6g} (|1 - eta mu| < 1)")
        if frame.noise_u <= 1e-14 * max(float(np.abs(frame.C).max()), 1e-300):
            raise SgdTheoryError("C: the noise has no component along the unstable eigenvector of H, so SGD "
                                 "from the saddle never leaves it; use a C with u.C u > 0")
        R = check_float(self.radius, "radius", 0.0)
        try:
            sig = np.array(self.sigmas, dtype=np.float64).ravel()
        except (TypeError, ValueError):
            raise SgdTheoryError(f"sigmas: expected a list of numbers, got {self.sigmas!r}") from None
        if sig.size < 3 or np.unique(sig).size != sig.size or not np.all(np.isfinite(sig)) or np.any(sig <= 0):
            raise SgdTheoryError(f"sigmas: need at least 3 distinct positive noise levels, got {sig.tolist()}")
        if np.any(sig < 1e-100):
            raise SgdTheoryError(f"sigmas: every noise level must be >= 1e-100 (sigma^2 C must not underflow in "
                                 f"float64), got {float(sig.min()):g}")
        x0 = check_float(0.5 * R if self.gd_start is None else self.gd_start, "gd_start", 0.0, R)
        eps = check_float(1e-6 * R if self.gd_offset is None else self.gd_offset, "gd_offset", 0.0, R)
        T = check_int(self.gd_steps, "gd_steps", 1, 100000)
        object.__setattr__(self, "H", 0.5 * (H + H.T))
        object.__setattr__(self, "C", 0.5 * (C + C.T))
        object.__setattr__(self, "w_star", w)
        object.__setattr__(self, "eta", eta)
        object.__setattr__(self, "radius", R)
        object.__setattr__(self, "sigmas", tuple(float(s) for s in np.sort(sig)[::-1]))
        object.__setattr__(self, "gd_start", x0)
        object.__setattr__(self, "gd_offset", eps)
        object.__setattr__(self, "gd_steps", T)
        object.__setattr__(self, "frame", frame)
        _, margin = th.gd_exit_step(eta, frame.h, self.gd_delta0(perturbed=True), R)
        if margin < 1e-9:
            raise SgdTheoryError(f"gd_offset = {eps:g}: GD's exit lands within {margin:.1e} (relative) of the "
                                 "sphere |delta| = R, closer than float64 can resolve; change it slightly")
        for s in self.sigmas:
            mom = th.exit_time_moments(frame, eta, s, R)
            if mom.mean_gap > MAX_BRACKET:
                raise SgdTheoryError(f"sigmas: sigma = {s:g} is too large for radius = {R:g}: the exact E tau is "
                                     f"only bracketed to {mom.mean_gap:.2g} steps (need <= {MAX_BRACKET:g}); "
                                     "use smaller noise levels")
            if mom.var_gap > MAX_VAR_BRACKET:
                raise SgdTheoryError(f"sigmas: sigma = {s:g} is too large for radius = {R:g}: the exact Var tau is "
                                     f"only bracketed to {mom.var_gap:.2g} steps^2 (need <= {MAX_VAR_BRACKET:g}); "
                                     "use smaller noise levels")
            dev = abs(mom.mean - th.asymptotic_mean(eta, frame.lam, s * math.sqrt(frame.noise_u), R))
            if dev > MAX_ASYMPTOTIC:
                raise SgdTheoryError(f"sigmas: at sigma = {s:g} the exact E tau is {dev:.2g} steps off the asymptotic "
                                     f"line (need <= {MAX_ASYMPTOTIC:g}); use smaller noise levels"
                                     + (" or a smaller eta*lambda" if th.periodic_bound(eta, frame.lam) > 1e-3 else ""))

    @property
    def d(self) -> int:
        return int(self.H.shape[0])

    def gd_delta0(self, perturbed: bool = False) -> np.ndarray:
        """GD start in the eigenbasis: gd_start spread evenly over the stable eigenvectors (+ gd_offset along
        the unstable one when ``perturbed``)."""
        v = np.zeros(self.d)
        v[1:] = self.gd_start / math.sqrt(self.d - 1)
        if perturbed:
            v[0] = self.gd_offset
        return v

    def describe(self) -> dict:
        return {"name": self.name, "d": self.d, "H": self.H.tolist(), "C": self.C.tolist(),
                "w_star": self.w_star.tolist(), "eta": self.eta, "radius": self.radius, "sigmas": list(self.sigmas),
                "gd_start": self.gd_start, "gd_offset": self.gd_offset, "gd_steps": self.gd_steps,
                "eigenvalues": self.frame.h.tolist(), "lambda": self.frame.lam,
                "eta_lambda": self.eta * self.frame.lam}


def default_a8() -> SaddleInstance:
    """H = diag(-5, 8), correlated noise shape C, eta = 0.1 (eta lambda = 0.5, eta mu = 0.8), R = 1,
    sigma from 1e-2 to 1e-10 (6 levels, 1.6 decades apart; at sigma = 1e-2 the exact E tau is bracketed to
    3e-5 steps and lies 1.3e-5 steps off the asymptotic line, far below the full-mode half-width ~0.01)."""
    return SaddleInstance(np.diag([-5.0, 8.0]), np.array([[1.0, 0.3], [0.3, 0.5]]), np.zeros(2), eta=0.1,
                          radius=1.0, sigmas=tuple(10.0 ** np.linspace(-2.0, -10.0, 6)), gd_start=0.5,
                          gd_offset=1e-6, gd_steps=200)


@schema('A8', {
    "problem": {"H": "*num[][]", "C": "num[][]", "w_star": "num[]", "name": "str"},
    "experiment": {
        "eta": "*num", "radius": "*num", "sigmas": "*num[]!", "gd_start": "num", "gd_offset": "num",
        "gd_steps": "int"
    },
})
def a8_from_config(cfg: dict) -> SaddleInstance:
    """[problem] H (d x d), C (d x d noise shape, default I), w_star (default 0), name;
    [experiment] eta, radius, sigmas (>= 3 noise levels), gd_start, gd_offset, gd_steps (optional)."""
    prob = dict(cfg.get("problem") or {})
    exp = dict(cfg.get("experiment") or {})
    for sec, allowed, got in (("problem", _PROBLEM_FIELDS, prob),
                              ("experiment", ("eta", "radius", "sigmas", "gd_start", "gd_offset", "gd_steps"), exp)):
        unknown = sorted(set(got) - set(allowed))
        if unknown:
            raise ConfigError(f"{sec}.{unknown[0]}: unknown field for A8; valid: {', '.join(allowed)}")
    if "H" not in prob:
        raise ConfigError("problem.H: required for A8 (a symmetric indefinite d x d Hessian)")
    for k in ("eta", "radius", "sigmas"):
        if k not in exp:
            raise ConfigError(f"experiment.{k}: required for A8")
    try:
        H = as_float_array(prob["H"], "H", 2)
        d = H.shape[0]
        kw = {k: exp[k] for k in ("gd_start", "gd_offset", "gd_steps") if k in exp}
        return SaddleInstance(H, prob.get("C", np.eye(d)), prob.get("w_star", np.zeros(d)), eta=exp["eta"],
                              radius=exp["radius"], sigmas=exp["sigmas"], name=str(prob.get("name", "user")), **kw)
    except SgdTheoryError as exc:
        msg = str(exc)
        head = msg.split(":")[0].split(" ")[0]
        raise ConfigError(f"{'problem' if head in _PROBLEM_FIELDS else 'experiment'}.{msg}") from None


def _gd_checks(inst: SaddleInstance, settings: Settings, data: dict) -> list[Check]:
    fr, eta, R, T = inst.frame, inst.eta, inst.radius, inst.gd_steps
    d = inst.d
    gd = SaddleQuadratic(np.diag(fr.h), np.zeros((d, d)), np.zeros(d))
    # on the stable manifold
    v0 = inst.gd_delta0()
    res = simulate(gd, eta, n_steps=T, n_paths=1, seed=settings.seed, seed_key=(SEED, 1), w0=v0,
                   record_steps=range(T + 1), record=("moments",), check_stability=False,
                   divergence_threshold=R * R)
    traj = res.record_values[0][:, :d]
    u_max = float(np.max(np.abs(traj[:, 0])))
    dist = float(np.linalg.norm(res.final_params[0])) if res.diverged_at[0] < 0 else float("nan")
    dist_pred = th.gd_distance(eta, fr.h, v0, T)
    tol = 1e-9 * dist_pred + 1e-300
    checks = [
        Check(f"GD from the stable manifold: max_(k<={T}) |u_k| = 0 (it never leaves the manifold)", CLAIM, 0.0,
              exact(u_max, f"GD, {T} steps, every step recorded"), 0.0,
              "u_(k+1) = (1 + eta lambda) u_k and u_0 = 0; run in H's eigenbasis, where float64 keeps u = 0 exactly"),
        Check(f"GD from the stable manifold converges to the saddle: |w_T - w_s| = |(1 - eta mu)^T v_0| (T={T})",
              CLAIM, dist_pred, exact(dist, "GD run", abs_tol=tol), tol, "exact power (mpmath); tolerance 1e-9 relative"),
        Check(f"control: GD from the stable manifold escapes the ball within {T} steps (fraction 1)", NEGATIVE_CONTROL,
              1.0, exact(float(res.diverged_at[0] >= 0), "GD run (0 = stayed inside)"), 0.0,
              "the saddle attracts the stable manifold: GD converges to it instead"),
    ]
    # eps off the manifold
    v1 = inst.gd_delta0(perturbed=True)
    k_exit, margin = th.gd_exit_step(eta, fr.h, v1, R)
    k_flow = th.gd_exit_step_continuous(eta, fr.lam, inst.gd_offset, R)
    n1 = max(k_exit, k_flow) + 20
    res1 = simulate(gd, eta, n_steps=n1, n_paths=1, seed=settings.seed, seed_key=(SEED, 2), w0=v1,
                    record_steps=range(n1 + 1), record=("moments",), check_stability=False, divergence_threshold=R * R)
    k_mc = float(res1.diverged_at[0]) if res1.diverged_at[0] >= 0 else float("nan")
    checks += [
        Check(f"GD from eps = {inst.gd_offset:g} off the manifold exits at the exact discrete step", CLAIM, float(k_exit),
              exact(k_mc, "GD run (first k with |w_k - w_s| > R)"), 0.5,
              f"first k >= 1 with eps^2 a^(2k) + |(1 - eta mu)^k v_0|^2 > R^2, a = {1 + eta * fr.lam:g} (mpmath; "
              f"relative margin {margin:.1e} from the sphere)"),
        Check("control: ... at the gradient-flow step ceil(log(R/eps)/(eta lambda))", NEGATIVE_CONTROL, float(k_flow),
              exact(k_mc, "GD run"), 0.5, "u(t) = eps exp(lambda t), t = eta k: right only as eta lambda -> 0"),
    ]
    data["gd"] = {"stable_traj": traj.tolist(), "perturbed_traj": res1.record_values[0][:, :d].tolist(),
                  "k_exit": k_exit, "k_flow": k_flow, "dist_pred": dist_pred, "dist": dist}
    return checks


def run_a8(inst: SaddleInstance, settings: Settings) -> ClaimResult:
    lv = settings.level
    fr, eta, R = inst.frame, inst.eta, inst.radius
    lam = fr.lam
    a = 1.0 + eta * lam
    q = float(special.ndtri(0.5 + 0.5 * lv))
    var_plan = th.exit_time_moments(fr, eta, inst.sigmas[len(inst.sigmas) // 2], R).var
    n_full = (q * math.sqrt(var_plan) * PLAN_HALF_WIDTHS / PLAN_GAP) ** 2
    n_paths = max(MIN_PATHS, int(math.ceil(n_full / (4.0 if settings.quick else 1.0))))
    data: dict = {"sigmas": list(inst.sigmas), "radius": R, "eta": eta, "lambda": lam, "n_paths": n_paths}
    settings.step("gradient descent on and off the stable manifold")
    checks = _gd_checks(inst, settings, data)

    sig = np.array(inst.sigmas)
    xs = np.log(1.0 / sig)
    means, ses, hws, pred, pred_lo, pred_hi, asym, var_pred, sq_dev, n_esc, n_tot, p_esc = ([] for _ in range(12))
    taus_mid = None
    mid = len(sig) // 2
    for j, s in enumerate(sig):
        settings.step(f"SGD from the saddle, sigma = {s:.3g}")
        n = th.horizon_for(fr, eta, s, R, n_paths)
        prob = SaddleQuadratic(inst.H, s * s * inst.C, inst.w_star)
        res = simulate(prob, eta, n_steps=n, n_paths=n_paths, seed=settings.seed, seed_key=(SEED, 100 + j),
                       w0=inst.w_star, record_steps=(), record=(), check_stability=False, divergence_threshold=R * R)
        tau = res.diverged_at.astype(np.float64)
        escaped = tau >= 0
        tau[~escaped] = n + 1  # observed: min(tau, n + 1); its exact mean is sum_{k <= n} P(tau > k)
        mom = th.exit_time_moments(fr, eta, s, R, horizon=n)
        est = replica_interval(tau, lv)
        means.append(est.value)
        ses.append(est.standard_error)
        hws.append(est.half_width)
        pred.append(mom.mean)
        pred_lo.append(mom.mean_low)
        pred_hi.append(mom.mean_high)
        asym.append(th.asymptotic_mean(eta, lam, s * math.sqrt(fr.noise_u), R))
        var_pred.append(mom.var)
        sq_dev.append((tau - tau.mean()) ** 2 * n_paths / (n_paths - 1))
        n_esc.append(int(escaped.sum()))
        n_tot.append(int(tau.size))
        p_esc.append(1.0 - float(th.survival_upper(eta, lam, s * math.sqrt(fr.noise_u), R, n)))
        checks.append(Check(f"SGD from the saddle: E tau = exact (sigma = {s:.3g})", CLAIM, mom.mean, est, RES_MEAN,
                            f"exact bracket [{mom.mean_low:.6f}, {mom.mean_high:.6f}]; asymptotic law {asym[-1]:.6f}; "
                            f"{n} steps, {n_esc[-1]} of {n_paths} paths escaped", main=(j == mid)))
        if j == mid:
            taus_mid = tau
            s_lim = th.limit_scale(eta, lam, s * math.sqrt(fr.noise_u))
            naive = math.log(R / s_lim) / math.log(a)
            checks.append(Check(f"control: E tau = log(R/s)/log a, the time for the scale s a^k to reach R "
                                f"(sigma = {s:.3g})", NEGATIVE_CONTROL, naive, est, RES_MEAN,
                                "leaves out E log(1/|N|) = (gamma + log 2)/2 and the discrete 1/2"))
            checks.append(Check(f"control: E tau = E x, the continuous first-passage time of a^t |Z| (sigma = {s:.3g})",
                                NEGATIVE_CONTROL, asym[-1] - 0.5, est, RES_MEAN,
                                "the discrete exit step is floor(x) + 1, on average x + 1/2"))
            var_mid = replica_interval(sq_dev[-1], lv)
            checks.append(Check(f"control: exponential (Kramers-like) exit law, Var tau = (E tau)^2 (sigma = {s:.3g})",
                                NEGATIVE_CONTROL, mom.mean**2, var_mid, RES_VAR_REL * mom.var,
                                "escape from a saddle is not activated: Var tau stays O(1) as sigma -> 0"))
    stay = proportion_interval(sum(n_tot) - sum(n_esc), sum(n_tot), lv)
    checks.append(Check(f"SGD from the saddle escapes: fraction of paths still in the ball after the horizon <= "
                        f"{MAX_STAY:g} (all sigmas)", CLAIM, MAX_STAY, stay, 0.0,
                        f"exact P(tau > n), averaged over the ensembles: {1.0 - float(np.mean(p_esc)):.3g}; "
                        "Clopper-Pearson (a bound: the exact probability, ~1 - 1e-6, sits at the edge of [0, 1] where "
                        "the interval is one-sided)", bound=True))

    settings.step("fits")
    fit = weighted_linear_fit(xs, means, ses, lv, dof_each=n_paths - 1)
    fit_exact = weighted_linear_fit(xs, pred, ses, lv, dof_each=n_paths - 1)
    slope_pred = th.asymptotic_slope(eta, lam)
    icpt_pred = th.asymptotic_intercept(eta, lam, fr.noise_u, R)
    common = (f"weighted fit over {len(sig)} independent ensembles, chi2 = {fit.chi2:.3g} on {fit.dof} dof; "
              f"the same fit of the exact finite-sigma predictions gives slope {fit_exact.slope.value:.6f}, "
              f"intercept {fit_exact.intercept.value:.6f}")
    checks += [
        Check("slope d E tau / d log(1/sigma) = 1/log(1 + eta lambda)", CLAIM, slope_pred, fit.slope, RES_SLOPE,
              common + f"; in time t = eta k: eta/log(1 + eta lambda) = {eta * slope_pred:.6g} (-> 1/lambda = "
              f"{1 / lam:.6g} as eta -> 0)"),
        Check("control: gradient-flow slope 1/(eta lambda)", NEGATIVE_CONTROL, th.continuous_slope(eta, lam), fit.slope,
              RES_SLOPE, "the continuous-time escape time log(1/sigma)/lambda in units of steps"),
        Check("intercept (E tau at sigma = 1 on the asymptotic line) = [log(R/s_1) + (gamma + log 2)/2]/log a + 1/2",
              CLAIM, icpt_pred, fit.intercept, RES_INTERCEPT, common),
    ]
    ll = loglog_slope(1.0 / sig, means, ses, lv, dof_each=n_paths - 1)
    checks.append(Check("control: power law E tau ~ sigma^-2 (log-log slope 2)", NEGATIVE_CONTROL, 2.0, ll.slope,
                        RES_SLOPE, f"the escape time grows like log(1/sigma), not a power; chi2 = {ll.chi2:.3g}"))
    pooled = replica_interval(np.concatenate(sq_dev), lv)
    var_exact = float(np.mean(var_pred))
    checks.append(Check("Var tau = exact (pooled over sigma; ~ pi^2/(8 log^2 a) + 1/12, independent of sigma)", CLAIM,
                        var_exact, pooled, RES_VAR_REL * var_exact,
                        f"squared deviations from each ensemble's own mean (x n/(n-1)), all ensembles as replicas; "
                        f"asymptotic value {th.asymptotic_variance(eta, lam):.6f}; per-sigma exact "
                        f"{np.round(var_pred, 5).tolist()}"))

    # figure data: survival at the middle sigma, a few SGD trajectories at the largest sigma
    s_mid = float(sig[mid])
    kmax = int(np.max(taus_mid))
    ks = np.arange(0, kmax + 1)
    counts = np.array([(taus_mid > k).sum() for k in ks])
    ci = [proportion_interval(int(c), n_paths, lv) for c in counts]
    su = s_mid * math.sqrt(fr.noise_u)
    mom_mid = th.exit_time_moments(fr, eta, s_mid, R)
    data["survival"] = {"sigma": s_mid, "k": ks.tolist(), "p": (counts / n_paths).tolist(),
                        "low": [c.low for c in ci], "high": [c.high for c in ci],
                        "exact_upper": th.survival_upper(eta, lam, su, R, ks).tolist(), "rho": mom_mid.rho}
    s_big = float(sig[0])
    n_tr = th.horizon_for(fr, eta, s_big, R, 8)
    tr = simulate(SaddleQuadratic(inst.H, s_big * s_big * inst.C, inst.w_star), eta, n_steps=n_tr, n_paths=8,
                  seed=settings.seed, seed_key=(SEED, 3), w0=inst.w_star, record_steps=range(n_tr + 1),
                  record=("moments",), check_stability=False, divergence_threshold=R * R)
    delta = tr.record_values[:, :, : inst.d] @ fr.U  # eigen coordinates
    data["sgd_traj"] = {"sigma": s_big, "paths": np.where(np.isfinite(delta), delta, np.nan).tolist()}
    data.update({"x": xs.tolist(), "mean": means, "half_width": hws, "exact": pred, "exact_low": pred_lo,
                 "exact_high": pred_hi, "asymptotic": asym,
                 "fit": {"slope": fit.slope.value, "slope_low": fit.slope.low, "slope_high": fit.slope.high,
                         "intercept": fit.intercept.value, "intercept_low": fit.intercept.low,
                         "intercept_high": fit.intercept.high},
                 "slope_pred": slope_pred, "intercept_pred": icpt_pred, "slope_flow": th.continuous_slope(eta, lam),
                 "var": {"value": pooled.value, "low": pooled.low, "high": pooled.high, "exact": var_exact}})
    params = inst.describe()
    params["n_paths"] = n_paths
    return ClaimResult("A8", checks, params, data)


def _derive(inst: SaddleInstance, latex: bool = False) -> str:
    text = th.derivation_text(inst.eta, inst.frame.lam, inst.frame.mu, inst.frame.noise_u, inst.radius)
    return "\\begin{verbatim}\n" + text + "\n\\end{verbatim}" if latex else text


def _figure(result, outdir):
    from ..figures import saddle as fs

    return fs.fig_a8_saddle(result, outdir)


register(Claim("A8", "Strict saddles: GD on the stable manifold stays, SGD escapes in ~log(1/noise)/lambda",
               "004, Ge et al. 2015 'Escaping from saddle points'",
               "On a strict saddle, GD started on the stable manifold stays there; SGD noise escapes in time "
               "~ log(1/noise)/lambda", "rate", run_a8, _derive, _figure, default_a8, a8_from_config))
