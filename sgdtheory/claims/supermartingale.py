"""Claim A3: the loss of SGD is a supermartingale away from the minimum; Robbins-Siegmund.

Sources: seed 000 (Huszar), section "Convergence"; seed 002 (lecture 4: supermartingale);
Robbins & Siegmund (1971); CLAIMS.md A3.  The math is in ``sgdtheory.theory.supermartingale``.

Setting: the quadratic basin (B4's instance by default) with i.i.d. minibatches.
1. One-step conditional expectation: at points w = w* + r u on rays u, with r a multiple of the
   predicted boundary radius r*(u) (0, 0.5, 0.8, 1.25, 2, 4 times), the exact E[L(w - eta g_B)] - L(w)
   (equation (1)) against one-step Monte Carlo with the Numba minibatch-gradient kernel (draws of
   -eta grad L.g_B + eta^2/2 g_B.Hbar g_B, whose mean is exactly the change since L is quadratic).
   Resolution: 5% of the sum of the magnitudes of the terms of (1).  Near control at every point off w*:
   the constant-noise model, (1) with Sigma(w) frozen at Sigma(w*) (the plausible wrong answer); each
   point's draws are planned (per-draw sd from a pilot on its own seed stream, the level's normal
   quantile) so that it sits PLAN_HALF_WIDTHS = 9 planned half-widths away in full mode (4.5 in quick
   mode, a quarter of the draws), never more draws than the default budget.
2. The region where descent in expectation fails: inside r*(u) the change is positive (checked at
   0 and 0.8 r*), beyond it negative (1.25 r*); the map of (1) over the plane is the figure.
   Negative control (CLAIMS.md): "descent in expectation everywhere for constant eta", i.e.
   E[dL | w*] <= 0, rejected.
3. Robbins-Siegmund: with eta_t = c/(t0 + t)^p, p = 3/4 (sum eta_t^2 < infinity), the corrected loss
   U_t = V_t/P_t + sum_{s>=t} b_s/P_{s+1} is a supermartingale: its exact mean (moment recursion
   plus the exact constants) is non-increasing, and Monte Carlo E[U_t] decreases between the checked
   records (paired differences over independent paths).  Almost-sure convergence, probed on the
   recorded grid: the fraction of paths with max_{t in [T/10, T]} V_t <= eps (eps = a quarter of the
   stationary E[V] at the constant rate eta_0) is at least 0.99 for Robbins-Monro steps; the same
   statement for constant eta = eta_0 is the second negative control (it does not converge; run on an
   eighth of the paths, which rejects it by a factor ~90, see CONTROL_PATHS_DIVISOR).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from ..config import FINITE_SUM, schema
from ..errors import ConfigError, SgdTheoryError
from ..gradient_noise import sample_gradients
from ..schedules import Constant, Power
from ..simulate import DivergedError, simulate
from ..stats import exact, proportion_interval, replica_interval
from ..theory.sgd_moments import SGDMoments
from ..theory.supermartingale import (SiegmundConstants, boundary_radius, expected_loss_change,
                                      gradient_covariance, loss_change_scale)
from .base import CLAIM, NEGATIVE_CONTROL, Check, Claim, ClaimResult, Settings, register
from .basin_sweep import BasinInstance
from .basin_sweep import default_instance as default_basin
from .basin_sweep import instance_from_config as basin_from_config

RADIUS_FACTORS = (0.0, 0.5, 0.8, 1.25, 2.0, 4.0)  # multiples of the predicted boundary radius
MAP_ETA_FRACTION = 0.2  # constant eta of parts 1-2, as a fraction of eta_c
RM_SCHEDULE = (1.0, 10.0, 0.75)  # (c, t0, p) of part 3 (t0 is raised if eta_0 would exceed 1/lambda_max)
EPS_FRACTION = 0.25  # eps = EPS_FRACTION x stationary E[V] at constant eta_0
CONVERGED_FRACTION = 0.99
PLAN_HALF_WIDTHS = 9.0  # the constant-noise control's planned distance (full mode; half that in quick mode)
PILOT = (64, 256)  # paths x draws of each point's pilot run (its own seed stream)
MIN_DRAWS = 16
#: the constant-eta control of part 3 runs on n_paths / CONTROL_PATHS_DIVISOR paths (128 quick, 512 full).  Planned
#: from theory, not from its outcome: at constant eta_0 the loss fluctuates around its stationary mean E[V] = 4 eps,
#: so its maximum over t in [T/10, T] stays below eps on essentially no path; with every path unconverged the
#: Clopper-Pearson lower bound at the default level is (5e-5)^(1/N) = 0.93 (N = 128) > 0.01 by a factor of ~90.
#: The claim's own Robbins-Monro run keeps its n_paths (its E[V_T] check needs them: half-width ~0.6 x resolution).
CONTROL_PATHS_DIVISOR = 8


@dataclass(frozen=True, eq=False)
class SupermartingaleInstance:
    """A quadratic basin with i.i.d. minibatches, and the start w* + delta0 of the convergence runs."""

    basin: BasinInstance
    delta0: np.ndarray

    def __post_init__(self):
        d0 = np.asarray(self.delta0, dtype=np.float64)
        if d0.shape != (self.basin.problem.d,) or not np.all(np.isfinite(d0)):
            raise SgdTheoryError(f"delta0: expected a finite vector of shape ({self.basin.problem.d},)")
        object.__setattr__(self, "delta0", d0)

    @property
    def c_B(self) -> float:
        return self.basin.sampler.noise_factor(self.basin.problem.n)

    def schedule(self) -> Power:
        c, t0, p = RM_SCHEDULE
        eta_max = min(SiegmundConstants.of(self.basin.problem, self.c_B).eta_max, 0.5 * self.basin.basin.stability_limit())
        return Power(c, max(t0, (c / eta_max) ** (1.0 / p)), p)

    def describe(self) -> dict:
        return {**self.basin.describe(), "delta0": self.delta0.tolist()}


def default_a3() -> SupermartingaleInstance:
    return SupermartingaleInstance(default_basin(), np.array([1.0, -1.0]))


@schema('A3', {"problem": FINITE_SUM, "experiment": {"batch_size": "int", "sampling": "str", "delta0": "num[]"}})
def a3_from_config(cfg: dict) -> SupermartingaleInstance:
    """[problem] as for B4 (g, H, c or X, y); [experiment] batch_size, sampling, optional delta0 (d; default 1)."""
    exp = dict(cfg.get("experiment", {}))
    d0 = exp.pop("delta0", None)
    basin = basin_from_config({"problem": cfg.get("problem"), "experiment": exp})
    try:
        return SupermartingaleInstance(basin, np.ones(basin.problem.d) if d0 is None else np.array(d0, dtype=float))
    except (SgdTheoryError, ValueError) as exc:
        raise ConfigError(f"experiment.{exc}") from None


def _points(inst, eta):
    """(factor, u, r*) for each checked point: rays at angles spread over the half-plane of the first
    two coordinates (other coordinates 0)."""
    d = inst.basin.problem.d
    out = []
    for k, f in enumerate(RADIUS_FACTORS):
        ang = np.pi * (k + 0.5) / len(RADIUS_FACTORS)
        u = np.zeros(d)
        u[0], u[min(1, d - 1)] = np.cos(ang), np.sin(ang) if d > 1 else 0.0
        u /= np.linalg.norm(u)
        out.append((f, u, boundary_radius(inst.basin.problem, inst.c_B, u, eta)))
    return out


def run_a3(inst: SupermartingaleInstance, settings: Settings) -> ClaimResult:
    lv = settings.level
    quick = settings.quick
    p = inst.basin.problem
    Hbar = p.mean_hessian
    eta_c = inst.basin.basin.stability_limit()
    eta = MAP_ETA_FRACTION * eta_c
    paths, draws = (256, 2000) if quick else (1024, 4000)
    checks: list[Check] = []
    data: dict = {"eta": eta, "points": []}

    # 1-2: exact one-step change against Monte Carlo, and its sign inside/outside the boundary
    q = float(special.ndtri(0.5 + 0.5 * lv))
    sigma0 = gradient_covariance(p, np.zeros(p.d))
    for j, (f, u, rstar) in enumerate(_points(inst, eta)):
        if not np.isfinite(rstar):
            raise SgdTheoryError("the instance has no bounded region of ascent along a checked ray")
        delta = f * rstar * u
        w = p.minimizer + delta
        grad = Hbar @ delta
        pred = expected_loss_change(p, inst.c_B, delta, eta)
        frozen = float(-eta * grad @ grad + 0.5 * eta**2 * (grad @ Hbar @ grad + inst.c_B * np.sum(Hbar * sigma0)))
        gap = abs(frozen - pred)
        n_draws, plan = draws, ""
        if gap > 1e-12 * max(abs(pred), 1e-300):
            # plan: the per-draw sd of the change from a pilot on its own seed stream; draws so that the
            # constant-noise prediction sits PLAN_HALF_WIDTHS half-widths away in full mode (1024 paths)
            settings.step(f"point {j}: pilot")
            pil = sample_gradients(p, w, inst.basin.sampler, n_draws=PILOT[1], n_paths=PILOT[0], seed=settings.seed,
                                   seed_key=(0xA3, 0xF1, j), center=np.zeros(p.d))
            xp = -eta * (pil.first / pil.n_draws) @ grad + 0.5 * eta**2 * np.einsum("pkl,kl->p", pil.second / pil.n_draws, Hbar)
            sd = float(np.std(xp, ddof=1) * np.sqrt(PILOT[1]))
            full_total = (q * sd * PLAN_HALF_WIDTHS / gap) ** 2
            n_draws = int(min(draws, max(MIN_DRAWS, np.ceil(full_total / (4.0 if quick else 1.0) / paths))))
            plan = (f"; {paths} x {n_draws} draws, planned (pilot sd {sd:.3g} per draw) so that the constant-noise "
                    f"prediction sits {PLAN_HALF_WIDTHS:g} half-widths away in full mode")
        settings.step(f"point {j} (r = {f:g} r*)")
        res = sample_gradients(p, w, inst.basin.sampler, n_draws=n_draws, n_paths=paths, seed=settings.seed,
                               seed_key=(0xA3, 0, j), center=np.zeros(p.d))
        first, second = res.first / res.n_draws, res.second / res.n_draws
        change = -eta * first @ grad + 0.5 * eta**2 * np.einsum("pkl,kl->p", second, Hbar)
        est = replica_interval(change, lv)
        scale = loss_change_scale(p, inst.c_B, delta, eta)
        checks.append(Check(f"E[dL | w] exact at r = {f:g} r* (point {j})", CLAIM, pred, est, 0.05 * scale,
                            "-eta|grad L|^2 + eta^2/2 (grad L.Hbar grad L + c_B tr(Hbar Sigma(w)))" + plan,
                            main=(f == 0.5)))
        if plan:
            checks.append(Check(f"E[dL | w] with the noise frozen at Sigma(w*) at r = {f:g} r* (point {j})",
                                NEGATIVE_CONTROL, frozen, est, 0.05 * scale,
                                "the plausible wrong answer: the constant-noise model (Sigma independent of w)"))
        if f < 1.0 and f != 0.5:
            checks.append(Check(f"descent fails inside the boundary: E[dL | w] > 0 at r = {f:g} r*", CLAIM, 0.0,
                                replica_interval(-change, lv), 0.0, "written as -E[dL] <= 0", bound=True))
        if f == 0.0:
            checks.append(Check("'descent in expectation everywhere for constant eta': E[dL | w*] <= 0",
                                NEGATIVE_CONTROL, 0.0, est, 0.0, "", bound=True))
        if f == 1.25:
            checks.append(Check(f"descent outside the boundary: E[dL | w] < 0 at r = {f:g} r*", CLAIM, 0.0, est, 0.0,
                                "", bound=True))
        data["points"].append({"factor": f, "u": u.tolist(), "r_star": rstar, "delta": delta.tolist(),
                               "prediction": pred, "estimate": est.to_dict()})
    data["map"] = _map(inst, eta)

    # 3: Robbins-Siegmund and almost-sure convergence
    sched = inst.schedule()
    T = 30_000 if quick else 300_000
    n_paths = 1024 if quick else 4096
    steps = np.unique(np.concatenate([np.round(np.geomspace(1, T, 40)).astype(np.int64), [0]]))
    consts = SiegmundConstants.of(p, inst.c_B)
    P, R, tail_err = consts.correction(sched, steps)
    exact_v = SGDMoments(inst.basin.basin).run(sched, inst.delta0, steps).excess_loss
    exact_u = exact_v / P + R
    settings.step("Robbins-Monro paths")
    res = simulate(p, sched, sampler=inst.basin.sampler, n_steps=T, n_paths=n_paths, seed=settings.seed,
                   seed_key=(0xA3, 1), w0=p.minimizer + inst.delta0, record_steps=steps, record=("excess_loss",),
                   check_stability=False)
    eta0 = sched.max_lr
    n_paths_c = n_paths // CONTROL_PATHS_DIVISOR
    settings.step("constant-eta paths")
    res_c = simulate(p, Constant(eta0), sampler=inst.basin.sampler, n_steps=T, n_paths=n_paths_c, seed=settings.seed,
                     seed_key=(0xA3, 2), w0=p.minimizer + inst.delta0, record_steps=steps, record=("excess_loss",),
                     check_stability=False)
    for r, name in ((res, "Robbins-Monro"), (res_c, "constant eta")):
        if r.n_diverged:
            raise DivergedError(f"diverged: {r.n_diverged} {name} paths in A3")
    V = res.record_values[:, :, 0]
    U = V / P + R
    incr = np.diff(exact_u)
    checks.append(Check("exact E[U_t] is non-increasing (max increment over the records <= 0)", CLAIM, 0.0,
                        exact(float(incr.max()), f"exact moments + Robbins-Siegmund constants (tail error < {tail_err:.1e})"),
                        0.0, f"a_t = {consts.alpha:.4g} eta_t^2, b_t = {consts.beta:.4g} eta_t^2", bound=True))
    k_mid = int(np.searchsorted(steps, T // 100))
    k_end = len(steps) - 1
    for a, b in ((0, k_mid), (k_mid, k_end)):
        est = replica_interval(U[:, b] - U[:, a], lv)
        checks.append(Check(f"Monte Carlo E[U_t] decreases from t = {steps[a]} to {steps[b]}", CLAIM, 0.0, est, 0.0,
                            "paired differences over independent paths", bound=True))
    for k in (k_mid, k_end):
        est = replica_interval(V[:, k], lv)
        checks.append(Check(f"E[V_t] = exact at t = {steps[k]} (Robbins-Monro steps)", CLAIM, float(exact_v[k]), est,
                            (0.2 if quick else 0.1) * float(exact_v[k]), "the exact moment recursion"))
    eps = EPS_FRACTION * float(inst.basin.basin.excess_loss(eta0))
    window = steps >= T // 10
    conv = int(np.count_nonzero(V[:, window].max(axis=1) <= eps))
    conv_c = int(np.count_nonzero(res_c.record_values[:, window, 0].max(axis=1) <= eps))
    not_conv = proportion_interval(n_paths - conv, n_paths, lv)
    not_conv_c = proportion_interval(n_paths_c - conv_c, n_paths_c, lv)
    checks.append(Check(f"Robbins-Monro: fraction of paths with V_t <= eps on t in [{T // 10}, {T}] >= "
                        f"{CONVERGED_FRACTION} (eps = {eps:.3g})", CLAIM, 1.0 - CONVERGED_FRACTION, not_conv, 0.0,
                        "written as P(not converged) <= 0.01; Clopper-Pearson", bound=True))
    checks.append(Check(f"constant eta = eta_0: the same convergence ('constant eta converges a.s.')", NEGATIVE_CONTROL,
                        1.0 - CONVERGED_FRACTION, not_conv_c, 0.0, f"{n_paths_c} paths (planned: the control's "
                        "unconverged fraction is ~1, far from 0.01)", bound=True))
    frac = [(float(np.mean(V[:, k:].max(axis=1) <= eps)), float(np.mean(res_c.record_values[:, k:, 0].max(axis=1) <= eps)))
            for k in range(len(steps))]
    data.update({
        "steps": steps.tolist(), "schedule": {"c": sched.c, "t0": sched.t0, "p": sched.p}, "eps": eps,
        "exact_U": exact_u.tolist(), "exact_V": exact_v.tolist(), "mc_U": U.mean(axis=0).tolist(),
        "mc_U_halfwidth": [replica_interval(U[:, k], lv).half_width for k in range(len(steps))],
        "mc_V": V.mean(axis=0).tolist(), "mc_V_constant": res_c.record_values[:, :, 0].mean(axis=0).tolist(),
        "fraction_converged_from_t": [f[0] for f in frac], "fraction_converged_from_t_constant": [f[1] for f in frac],
        "siegmund": {"alpha": consts.alpha, "beta": consts.beta, "tail_error": tail_err},
    })
    return ClaimResult("A3", checks, {**inst.describe(), "eta_map": eta, "eta0": eta0, "horizon": T,
                                      "n_paths": n_paths, "n_paths_constant_eta": n_paths_c}, data)


def _map(inst, eta, n=61) -> dict:
    """Exact E[dL | w] on a grid over the first two coordinates, 4.5 boundary radii wide."""
    p = inst.basin.problem
    rs = [r for (_, _, r) in _points(inst, eta)]
    half = 4.5 * max(rs)
    xs = np.linspace(-half, half, n)
    Z = np.zeros((n, n))
    S = np.zeros((n, n))
    for a, y in enumerate(xs):
        for b, x in enumerate(xs):
            delta = np.zeros(p.d)
            delta[0] = x
            if p.d > 1:
                delta[1] = y
            Z[a, b] = expected_loss_change(p, inst.c_B, delta, eta)
            S[a, b] = loss_change_scale(p, inst.c_B, delta, eta)
    angles = np.linspace(0, 2 * np.pi, 181)
    radii = []
    for ang in angles:
        u = np.zeros(p.d)
        u[0] = np.cos(ang)
        if p.d > 1:
            u[1] = np.sin(ang)
        radii.append(boundary_radius(p, inst.c_B, u / np.linalg.norm(u), eta))
    return {"x": xs.tolist(), "change": Z.tolist(), "scale": S.tolist(), "angles": angles.tolist(),
            "radii": radii}


def _derive(inst, latex=False):
    import sympy

    eta, cB = sympy.symbols("eta c_B", positive=True)
    g2, gHg, trHS = sympy.symbols("|gradL|^2 gradL.Hbar.gradL tr(Hbar*Sigma(w))", nonnegative=True)
    change = -eta * g2 + eta**2 / 2 * (gHg + cB * trHS)
    r = sympy.Symbol("r", positive=True)
    k2, k1, k0 = sympy.symbols("k2 k1 k0", real=True)
    consts = SiegmundConstants.of(inst.basin.problem, inst.c_B)
    text = "\n".join([
        f"E[L(w - eta g_B) | w] - L(w) = {change}",
        f"at w*: grad L = 0, so the change is {change.subs({g2: 0, gHg: 0})} > 0: descent fails near the minimum",
        f"along w = w* + r u: k2 r^2 + k1 r + k0 = 0 at r* = {sympy.solve(k2 * r**2 + k1 * r + k0, r)} (k0 > 0 > k2)",
        f"Robbins-Siegmund (eta_t <= 1/lambda_max = {consts.eta_max:.4g}): E[V_(t+1) | w_t] <= (1 + a_t) V_t + b_t - "
        f"(eta_t/2)|grad L|^2 with a_t = {consts.alpha:.5g} eta_t^2, b_t = {consts.beta:.5g} eta_t^2;",
        "U_t = V_t/P_t + sum_(s>=t) b_s/P_(s+1), P_t = prod_(s<t)(1 + a_s), is a supermartingale when sum eta_t^2 < oo",
    ])
    return sympy.latex(change) if latex else text


def _figure(result, outdir):
    from ..figures import supermartingale as fs

    return fs.figure_a3(result, outdir)


register(Claim("A3", "The loss is a supermartingale away from the minimum; Robbins-Siegmund convergence",
               "000 'Convergence'; 002", "E[L(w_(t+1)) | w_t] = L - eta|grad L|^2 + eta^2/2 (grad L.H grad L + "
               "c_B tr(H Sigma(w))); descent fails near w* for constant eta; with sum eta_t^2 < oo the corrected loss "
               "is a supermartingale and L(w_t) converges a.s.", "equality", run_a3, _derive, _figure, default_a3,
               a3_from_config))
