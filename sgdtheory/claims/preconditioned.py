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
    n_paths = 1024 if settings.quick else 4096
    T = RECORD[-1]
    d0 = float(np.sum(inst.delta0**2))
    checks, data = [], {"steps": list(RECORD), "delta0_sq": d0}
    for key, F, role in (("pd", inst.F_pd, CLAIM), ("indefinite", inst.F_indefinite, NEGATIVE_CONTROL)):
        settings.step(f"F_{key}")
        res = simulate(p, inst.schedule, optimizer=PreconditionedSGD(F), sampler=Sampler(1), n_steps=T,
                       n_paths=n_paths, seed=settings.seed, seed_key=(0xA4, int(key == "pd")),
                       w0=p.minimizer + inst.delta0, record_steps=RECORD, record=("dist_sq", "moments"),
                       check_stability=False)
        if res.n_diverged:
            from ..simulate import DivergedError

            raise DivergedError(f"diverged: {res.n_diverged} paths with F_{key}")
        exact = mean_recursion(F, p.mean_hessian, inst.schedule, inst.delta0, RECORD)
        r = RECORD.index(25)
        for k in range(p.d):
            checks.append(Check(f"E[w_t - w*][{k}] = exact mean recursion at t=25 (F_{key})", CLAIM, exact[r, k],
                                res.ensemble_estimate(f"mean[{k}]", record=r, level=lv),
                                0.05 * np.sqrt(d0), "m_{t+1} = (I - eta_t F Hbar) m_t, a matrix product"))
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
