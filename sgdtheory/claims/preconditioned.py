"""Claim A4: preconditioned ("second-order") SGD converges when F is positive definite.

Source: seed 000 (Huszar), "Note on second-order SGD": the convergence argument of SGD holds as
long as E[(w_{t+1} - w_t) . grad L | w_t] <= 0 ... "if F(w) is a positive definite matrix,
convergence of w_{t+1} = w_t - eta F grad L(w, D_t) is also guaranteed".

Setting: a quadratic finite sum (the quadratic-basin instance of B4 by default), Robbins-Monro
steps eta_t = c/(t0 + t)^p, start w* + delta_0.  Since E[g_B | w] = Hbar (w - w*), the mean
deviation obeys exactly m_{t+1} = (I - eta_t F Hbar) m_t (the prediction, a matrix product).
Checks: that recursion against the ensemble mean (for a positive-definite, non-symmetric F and
for an indefinite F); convergence, E|w_T - w*|^2 <= 5% of |delta_0|^2, for the positive-definite F;
the same bound for the indefinite F is the negative control that must be rejected.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from ..config import FINITE_SUM, schema
from ..errors import ConfigError, SgdTheoryError
from ..optimizers import PreconditionedSGD
from ..problems import QuadraticFiniteSum
from ..sampling import Sampler
from ..schedules import Power
from ..simulate import simulate
from .base import CLAIM, NEGATIVE_CONTROL, Check, Claim, ClaimResult, Settings, register
from .basin_sweep import default_instance as default_basin
from .basin_sweep import instance_from_config as basin_from_config

RECORD = (0, 25, 100, 400, 1000, 2000, 4000)
PLAN_HALF_WIDTHS = 9.0
MIN_PATHS = 256
MAX_MEAN_PATHS = 1 << 18
T_MEAN = 25  # the mean recursion is checked at this step (short runs with planned paths)


@dataclass(frozen=True, eq=False)
class PreconditionerInstance:
    problem: QuadraticFiniteSum  # expanded at its minimiser
    F_pd: np.ndarray
    F_indefinite: np.ndarray
    delta0: np.ndarray
    schedule: Power = Power(0.5, 10.0, 0.75)
    name: str = "default"

    def __post_init__(self):
        pd, ind = PreconditionedSGD(self.F_pd), PreconditionedSGD(self.F_indefinite)
        for opt, key in ((pd, "F_pd"), (ind, "F_indefinite")):
            try:
                opt.validate_for(self.problem.d)
            except SgdTheoryError as exc:
                raise SgdTheoryError(f"{key}: {exc}") from None
        if not pd.is_positive_definite:
            raise SgdTheoryError("F_pd: its symmetric part must be positive definite")
        if pd.is_positive_definite and ind.is_positive_definite:
            raise SgdTheoryError("F_indefinite: must not be positive definite (it is the negative control)")
        if np.asarray(self.delta0).shape != (self.problem.d,):
            raise SgdTheoryError(f"delta0: expected shape ({self.problem.d},)")

    def describe(self) -> dict:
        return {"name": self.name, "n": self.problem.n, "d": self.problem.d, "F_pd": self.F_pd.tolist(),
                "F_indefinite": self.F_indefinite.tolist(), "delta0": list(map(float, self.delta0)),
                "schedule": {"c": self.schedule.c, "t0": self.schedule.t0, "p": self.schedule.p}}


def mean_recursion(F, Hbar, schedule, delta0, steps) -> np.ndarray:
    """Exact E[w_t - w*] at each t in ``steps``: m_{t+1} = (I - eta_t F Hbar) m_t, m_0 = delta0."""
    A = np.asarray(F) @ np.asarray(Hbar)
    m = np.array(delta0, dtype=np.float64)
    out, t = [], 0
    for target in sorted(steps):
        while t < target:
            m = m - schedule(t) * (A @ m)
            t += 1
        out.append(m.copy())
    return np.array(out)


def covariance_at(F, problem: QuadraticFiniteSum, schedule, delta0, t: int) -> np.ndarray:
    """Exact Cov(w_t) for batch-1 sampling with replacement: delta_{s+1} = A_i delta_s - eta_s F g_i with
    A_i = I - eta_s F H_i, i uniform (g_i, H_i at the minimiser), so with m = E delta and S = E delta delta^T
    S' = mean_i [A_i S A_i^T - eta (A_i m g_i^T F^T + F g_i m^T A_i^T) + eta^2 F g_i g_i^T F^T]."""
    p0 = problem.at_minimum()
    F = np.asarray(F, dtype=np.float64)
    m = np.array(delta0, dtype=np.float64)
    S = np.outer(m, m)
    FH = np.einsum("ab,ibc->iac", F, p0.H)
    Fg = p0.g @ F.T
    for k in range(int(t)):
        e = schedule(k)
        A = np.eye(len(m))[None] - e * FH
        Am = A @ m
        S = (np.einsum("iab,bc,idc->ad", A, S, A) - e * (np.einsum("ia,ib->ab", Am, Fg) + np.einsum("ia,ib->ab", Fg, Am))
             + e * e * Fg.T @ Fg) / p0.n
        m = Am.mean(axis=0) - e * Fg.mean(axis=0)
    return S - np.outer(m, m)


def default_a4() -> PreconditionerInstance:
    basin = default_basin()
    return PreconditionerInstance(basin.problem, np.array([[1.0, 0.3], [-0.2, 0.8]]),
                                  np.array([[1.0, 0.0], [0.0, -0.3]]), np.array([1.0, -1.0]))


@schema('A4', {
    "problem": FINITE_SUM,
    "experiment": {"batch_size": "int", "sampling": "str", "F_pd": "*num[][]", "F_indefinite": "*num[][]", "delta0": "*num[]"},
})
def a4_from_config(cfg: dict) -> PreconditionerInstance:
    """[problem] as for B4 (g, H, c or X, y); [experiment] F_pd, F_indefinite, delta0 (d x d, d x d, d)."""
    exp = dict(cfg.get("experiment", {}))
    extra = {k: exp.pop(k) for k in ("F_pd", "F_indefinite", "delta0") if k in exp}
    basin = basin_from_config({"problem": cfg.get("problem"), "experiment": exp})
    missing = [k for k in ("F_pd", "F_indefinite", "delta0") if k not in extra]
    if missing:
        raise ConfigError(f"experiment.{missing[0]}: required for A4")
    try:
        return PreconditionerInstance(basin.problem, np.array(extra["F_pd"], dtype=float),
                                      np.array(extra["F_indefinite"], dtype=float),
                                      np.array(extra["delta0"], dtype=float), name=basin.name)
    except (SgdTheoryError, ValueError) as exc:
        raise ConfigError(f"experiment.{exc}") from None


def run_a4(inst: PreconditionerInstance, settings: Settings) -> ClaimResult:
    lv = settings.level
    p = inst.problem
    # plan: the mean at t = T_MEAN is checked on its own short runs, with the number of paths planned so that
    # the nearest plausible wrong mean recursion -- F applied on the other side, (I - eta_t Hbar F), or the
    # schedule read one step late, eta_(t+1) -- sits PLAN_HALF_WIDTHS planned half-widths from the claim in
    # full mode (half that in quick mode: a quarter of the paths), on the component where that is cheapest;
    # sd from the exact covariance of w_(T_MEAN) (``covariance_at``), q the normal quantile at the level.
    H = p.mean_hessian
    m_pd = mean_recursion(inst.F_pd, H, inst.schedule, inst.delta0, [T_MEAN])[0]
    wrong = {"(I - eta_t Hbar F) m_t: the preconditioner on the other side": mean_recursion(H, inst.F_pd, inst.schedule,
                                                                                          inst.delta0, [T_MEAN])[0],
             "eta_(t+1) in place of eta_t (the schedule one step late)": mean_recursion(
                 inst.F_pd, H, lambda t: inst.schedule(t + 1), inst.delta0, [T_MEAN])[0],
             "F = I: the preconditioner leaves the mean path unchanged (plain SGD)": mean_recursion(
                 np.eye(p.d), H, inst.schedule, inst.delta0, [T_MEAN])[0]}
    sd = np.sqrt(np.diag(covariance_at(inst.F_pd, p, inst.schedule, inst.delta0, T_MEAN)))
    gaps = np.min([np.abs(v - m_pd) for v in wrong.values()], axis=0)
    k_near = int(np.argmax(gaps / np.maximum(sd, 1e-300)))
    q = float(special.ndtri(0.5 + 0.5 * lv))
    if gaps[k_near] > 0 and sd[k_near] > 0:
        plan_paths = (q * sd[k_near] * PLAN_HALF_WIDTHS / gaps[k_near]) ** 2 / (4.0 if settings.quick else 1.0)
        n_mean = int(min(MAX_MEAN_PATHS, max(MIN_PATHS, np.ceil(plan_paths))))
    else:
        n_mean = 1024 if settings.quick else 4096
    n_paths = 1024 if settings.quick else 4096
    T = RECORD[-1]
    d0 = float(np.sum(inst.delta0**2))
    checks, data = [], {"steps": list(RECORD), "delta0_sq": d0, "mean_paths": n_mean, "t_mean": T_MEAN}
    for key, F, role in (("pd", inst.F_pd, CLAIM), ("indefinite", inst.F_indefinite, NEGATIVE_CONTROL)):
        n_short = n_mean if key == "pd" else n_paths  # the planned precision is needed where the near controls are
        settings.step(f"F_{key}: mean at t = {T_MEAN}, {n_short} paths")
        short = simulate(p, inst.schedule, optimizer=PreconditionedSGD(F), sampler=Sampler(1), n_steps=T_MEAN,
                         n_paths=n_short, seed=settings.seed, seed_key=(0xA4, 2 + int(key == "pd")),
                         w0=p.minimizer + inst.delta0, record_steps=(T_MEAN,), record=("moments",),
                         check_stability=False)
        settings.step(f"F_{key}")
        res = simulate(p, inst.schedule, optimizer=PreconditionedSGD(F), sampler=Sampler(1), n_steps=T,
                       n_paths=n_paths, seed=settings.seed, seed_key=(0xA4, int(key == "pd")),
                       w0=p.minimizer + inst.delta0, record_steps=RECORD, record=("dist_sq", "moments"),
                       check_stability=False)
        for r_, n_ in ((short, "short"), (res, "long")):
            if r_.n_diverged:
                from ..simulate import DivergedError

                raise DivergedError(f"diverged: {r_.n_diverged} paths with F_{key} ({n_} run)")
        exact = mean_recursion(F, H, inst.schedule, inst.delta0, RECORD)
        exact_t = mean_recursion(F, H, inst.schedule, inst.delta0, [T_MEAN])[0]
        for k in range(p.d):
            est = short.ensemble_estimate(f"mean[{k}]", record=0, level=lv)
            near = key == "pd" and k == k_near
            checks.append(Check(f"E[w_t - w*][{k}] = exact mean recursion at t={T_MEAN} (F_{key})", CLAIM,
                                float(exact_t[k]), est, 0.05 * np.sqrt(d0),
                                f"m_(t+1) = (I - eta_t F Hbar) m_t, a matrix product; {n_short} paths"
                                + (f", planned so that the nearest wrong recursion sits {PLAN_HALF_WIDTHS:g} "
                                   "half-widths away in full mode" if near else ""), main=near))
            if near:
                for name, m_wrong in wrong.items():
                    checks.append(Check(f"E[w_t - w*][{k}] at t={T_MEAN} with {name}", NEGATIVE_CONTROL,
                                        float(m_wrong[k]), est, 0.05 * np.sqrt(d0), "a plausible wrong mean recursion"))
        final = res.ensemble_estimate("dist_sq", record=-1, level=lv)
        checks.append(Check(f"converges: E|w_T - w*|^2 <= 5% of |delta_0|^2 at T={T} (F_{key})", role,
                            0.05 * d0, final, 0.0, "Robbins-Monro steps; the note's claim for positive-definite F",
                            bound=True))
        data[key] = {"mean_mc": res.ensemble_mean("mean[0]").tolist(), "mean_mc_1": res.ensemble_mean("mean[1]").tolist(),
                     "mean_exact": exact.tolist(), "dist_sq": res.ensemble_mean("dist_sq").tolist(),
                     "dist_sq_halfwidth": [res.ensemble_estimate("dist_sq", record=i, level=lv).half_width
                                           for i in range(len(RECORD))]}
    return ClaimResult("A4", checks, inst.describe(), data)


def _derive(inst, latex=False):
    """The descent condition and the spectra that decide convergence of the mean iterate (SymPy for F)."""
    import sympy

    Hbar = inst.problem.mean_hessian
    sym_part = (sympy.Matrix(inst.F_pd).applyfunc(sympy.nsimplify) + sympy.Matrix(inst.F_pd.T).applyfunc(sympy.nsimplify)) / 2
    sc = inst.schedule
    lines = [
        f"Mean recursion: m_(t+1) = (I - eta_t F Hbar) m_t with eta_t = {sc.c}/({sc.t0} + t)^{sc.p}",
        "Descent: E[step] . grad L = -eta grad L . F grad L < 0 iff the symmetric part of F is positive definite",
        f"  eigenvalues of (F_pd + F_pd^T)/2 (SymPy): {list(sym_part.eigenvals())}",
        f"  eigenvalues of F_pd Hbar (all real parts > 0: the mean converges): "
        f"{np.linalg.eigvals(inst.F_pd @ Hbar).round(6).tolist()}",
        f"  eigenvalues of F_indefinite Hbar (a negative one: the mean grows): "
        f"{np.linalg.eigvals(inst.F_indefinite @ Hbar).round(6).tolist()}",
    ]
    text = "\n".join(lines)
    return "\\begin{verbatim}\n" + text + "\n\\end{verbatim}" if latex else text


def _figure(result, outdir):
    from ..figures import preconditioned as fp

    return fp.figure_a4(result, outdir)


register(Claim("A4", "Preconditioned SGD converges for positive-definite F", "000, 'Note on second-order SGD'",
               "w <- w - eta F grad L_B converges when F is positive definite; not for indefinite F", "equality",
               run_a4, _derive, _figure, default_a4, a4_from_config))
