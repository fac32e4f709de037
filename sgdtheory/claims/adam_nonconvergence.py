"""Claim D10: Adam can fail to converge on a convex problem; AMSGrad converges (Reddi, Kale & Kumar 2018,
Theorem 1 and Algorithm 2; seed 001 lists the variants).

The online problem of ``theory.adam_nonconvergence`` on F = [-1, 1] (f_t = C x when t mod 3 = 1, -x
otherwise, C > 2; x* = -1), run with the package's own optimizers -- ``Adam(beta1=0, beta2=1/(1+C^2),
bias_correction=False)`` and ``AMSGrad(beta1=0, beta2=1/(1+C^2))``, their plain-numpy ``reference_step``
(bit-identical to the Numba steps, tests/test_optimizers_adaptive.py), eps = 1e-12 (the paper has none;
sqrt(v) >= 1 here, so eps changes nothing at this precision) -- with alpha_t = alpha/sqrt(t) and the
projection onto F (clipping), from several starts.  Everything is deterministic: the checks are exact.

Predictions: Adam ends at +1 (the worst point) with average regret -> 2(C - 2)/3; AMSGrad ends at x* = -1
with average regret -> 0; the SymPy cycle analysis gives the sign of each method's net drift, and its
prediction of the displacement over whole cycles (sum of -alpha g_t/(sqrt(t) sqrt(v)) with SymPy's 3-cycle of v)
is checked against each optimizer run without the projection.  Negative controls: "Adam converges to x*",
"Adam's average regret -> 0", "AMSGrad ends at +1", and each method moving as the other does (Adam with v
frozen at v_a; AMSGrad with v cycling) -- checks that can fail (the former control, the SymPy drift negated,
could not).

Why numpy and not the engine (issue 13, item 10): the engine has no online problem with a projection --
``PolynomialFiniteSum1D`` with cyclic sampling would give the gradient sequence C, -1, -1, but it needs a
loss of even degree bounded below (these are linear) and the engine does not project onto F.  The runs use
the package optimizers' ``reference_step`` (bit-identical to the Numba kernels, tests).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..config import schema
from ..errors import ConfigError, SgdTheoryError, check_float, check_int
from ..optimizers import AMSGrad, Adam
from ..stats import exact
from ..theory import adam_nonconvergence as th
from .base import CLAIM, NEGATIVE_CONTROL, Check, Claim, ClaimResult, Settings, register


@dataclass(frozen=True)
class OnlineInstance:
    """C > 2, the base step alpha (alpha_t = alpha/sqrt(t)) and the starting points in [-1, 1]."""

    C: float = 3.0
    alpha: float = 0.5
    starts: tuple[float, ...] = (-1.0, 0.0, 1.0)
    name: str = "default"

    def __post_init__(self):
        object.__setattr__(self, "C", check_float(self.C, "C", 2.0, 1e6))
        object.__setattr__(self, "alpha", check_float(self.alpha, "alpha", 0.0, 100.0))
        starts = tuple(float(check_float(s, "starts", -1.0, 1.0, low_open=False, high_open=False)) for s in self.starts)
        if not starts:
            raise SgdTheoryError("starts: need at least one starting point in [-1, 1]")
        object.__setattr__(self, "starts", starts)

    @property
    def beta2(self) -> float:
        return 1.0 / (1.0 + self.C**2)

    def describe(self) -> dict:
        return {"name": self.name, "C": self.C, "alpha": self.alpha, "beta2": self.beta2, "starts": list(self.starts)}


def default_instance() -> OnlineInstance:
    return OnlineInstance()


@schema('D10', {"problem": {"name": "str"}, "experiment": {"C": "num", "alpha": "num", "starts": "num[]!"}})
def instance_from_config(cfg: dict) -> OnlineInstance:
    """[experiment] C, alpha, starts."""
    exp = cfg.get("experiment", {})
    unknown = set(exp) - {"C", "alpha", "starts"}
    if unknown:
        raise ConfigError(f"experiment.{sorted(unknown)[0]}: unknown field; valid: C, alpha, starts")
    try:
        return OnlineInstance(exp.get("C", 3.0), exp.get("alpha", 0.5), tuple(exp.get("starts", (-1.0, 0.0, 1.0))),
                              name=cfg.get("problem", {}).get("name", "user"))
    except SgdTheoryError as exc:
        raise ConfigError(f"experiment.{exc}") from None


def run_online(inst: OnlineInstance, optimizer, T: int, x1: float):
    """Projected online run; returns (x_t for t = 1..T+1 as an array, R_T / T against x* = -1)."""
    T = check_int(T, "T", 3)
    x = np.array([x1])
    state = optimizer.init_state(1)
    xs = np.empty(T + 1)
    xs[0] = x1
    regret = 0.0
    for t in range(1, T + 1):
        g = th.gradient(inst.C, t)
        regret += g * (x[0] + 1.0)
        x, state = optimizer.reference_step(x, state, np.array([g]), inst.alpha / np.sqrt(t))
        x = np.clip(x, -1.0, 1.0)
        xs[t] = x[0]
    return xs, regret / T


def unprojected_displacement(inst: OnlineInstance, optimizer, t1: int, t2: int) -> float:
    """x_(t2) - x_(t1) of the optimizer's run from x_1 = 0 *without* the projection (so the drift is not hidden
    by the boundary), alpha_t = alpha/sqrt(t); t1 = 1 mod 3 and t2 - t1 a multiple of 3 (whole cycles)."""
    x = np.array([0.0])
    state = optimizer.init_state(1)
    x_t1 = None
    for t in range(1, t2):
        if t == t1:
            x_t1 = float(x[0])
        x, state = optimizer.reference_step(x, state, np.array([th.gradient(inst.C, t)]), inst.alpha / np.sqrt(t))
    return float(x[0]) - x_t1


def predicted_displacement(inst: OnlineInstance, v_cycle, eps: float, t1: int, t2: int) -> float:
    """sum_(t = t1..t2-1) -alpha g_t/(sqrt(t) (sqrt(v_phase(t)) + eps)) with the SymPy 3-cycle of v (v_a after the
    large gradient C, v_b, v_c after the two -1's) -- no simulation."""
    t = np.arange(t1, t2)
    g = np.where(t % 3 == 1, inst.C, -1.0)
    v = np.asarray(v_cycle, dtype=np.float64)[(t - 1) % 3]
    return float(np.sum(-inst.alpha * g / (np.sqrt(t) * (np.sqrt(v) + eps))))


def run_d10(inst: OnlineInstance, settings: Settings) -> ClaimResult:
    T = 30_000 if settings.quick else 300_000
    der = th.derive()
    at = der.at(inst.C)
    adam = Adam(beta1=0.0, beta2=inst.beta2, eps=1e-12, bias_correction=False)
    ams = AMSGrad(beta1=0.0, beta2=inst.beta2, eps=1e-12)
    tol = 0.01
    checks = [
        Check(f"SymPy: regret per step of x = +1 is 2(C - 2)/3 > 0 (C = {inst.C:g}); x* = -1", CLAIM,
              2 * (inst.C - 2) / 3, exact(at["per_step_regret"], "SymPy"), 1e-9, f"{der.per_step_regret}"),
        Check("SymPy: Adam's net move per cycle (v in its 3-cycle) points away from x*: -drift <= 0", CLAIM, 0.0,
              exact(-at["adam_drift"], "SymPy"), 0.0, f"drift/alpha = {at['adam_drift']:.6g}", bound=True),
        Check("SymPy: AMSGrad's net move (vhat = v_a) points towards x*: drift <= 0", CLAIM, 0.0,
              exact(at["amsgrad_drift"], "SymPy"), 0.0, f"drift/alpha = {at['amsgrad_drift']:.6g}", bound=True),
    ]
    # the cycle analysis against the optimizers: displacement over whole cycles without the projection
    s_ = sp.Symbol("C", positive=True)
    va, vb, vc = (float(v.subs(s_, inst.C)) for v in der.v_cycle)
    t1 = 3 * (T // 6) + 1
    t2 = t1 + 3 * min(3000, (T - t1) // 3)
    for label, opt, vcyc in (("Adam", adam, (va, vb, vc)), ("AMSGrad", ams, (va, va, va))):
        pred_d = predicted_displacement(inst, vcyc, opt.eps, t1, t2)
        meas = unprojected_displacement(inst, opt, t1, t2)
        what = "away from x* (> 0)" if label == "Adam" else "towards x* (< 0)"
        est_d = exact(meas, "float64 run of the package optimizer", abs_tol=1e-9 * abs(pred_d))
        checks.append(Check(f"{label} without the projection: x_t2 - x_t1 over steps {t1}..{t2 - 1} = the SymPy cycle's "
                            "sum -alpha g_t/(sqrt(t) sqrt(v_phase))", CLAIM, pred_d, est_d, 1e-8 * abs(pred_d),
                            f"{what}; v cycle = ({vcyc[0]:.6g}, {vcyc[1]:.6g}, {vcyc[2]:.6g}); allowance 1e-9 relative "
                            "(rounding; v reaches its cycle at rate beta2^t)", main=(label == "Adam")))
        wrong = (va, va, va) if label == "Adam" else (va, vb, vc)
        ctrl = predicted_displacement(inst, wrong, opt.eps, t1, t2)
        checks.append(Check(f"control: {label} moves as {'AMSGrad' if label == 'Adam' else 'Adam'} does "
                            f"(v {'frozen at v_a' if label == 'Adam' else 'cycling'})", NEGATIVE_CONTROL, ctrl, est_d,
                            1e-8 * abs(pred_d), "the other method's normalisation: the sign of the drift flips"))
    runs = {}
    for label, opt in (("Adam", adam), ("AMSGrad", ams)):
        for x1 in inst.starts:
            settings.step(f"{label} from x1 = {x1:g}: {T} online steps")
            runs[(label, x1)] = run_online(inst, opt, T, x1)
    for x1 in inst.starts:
        xs, reg = runs[("Adam", x1)]
        last = xs[-3:]
        checks.append(Check(f"Adam from x1 = {x1:g}: ends at the worst point +1 (max |x - 1| over the last cycle <= {tol})",
                            CLAIM, tol, exact(float(np.max(np.abs(last - 1.0))), f"{T} steps"), 0.0,
                            "bound check", bound=True))
        checks.append(Check(f"control: Adam from x1 = {x1:g} converges to x* = -1 (max |x + 1| <= {tol})",
                            NEGATIVE_CONTROL, tol, exact(float(np.max(np.abs(last + 1.0))), f"{T} steps"), 0.0,
                            "what a convergent method does", bound=True))
        xs, reg_a = runs[("AMSGrad", x1)]
        last = xs[-3:]
        checks.append(Check(f"AMSGrad from x1 = {x1:g}: converges to x* = -1 (max |x + 1| over the last cycle <= {tol})",
                            CLAIM, tol, exact(float(np.max(np.abs(last + 1.0))), f"{T} steps"), 0.0, "bound check",
                            bound=True))
        checks.append(Check(f"control: AMSGrad from x1 = {x1:g} ends at +1 (max |x - 1| <= {tol})", NEGATIVE_CONTROL,
                            tol, exact(float(np.max(np.abs(last - 1.0))), f"{T} steps"), 0.0, "Adam's failure",
                            bound=True))
    x1 = inst.starts[0]
    reg = runs[("Adam", x1)][1]
    pred = at["per_step_regret"]
    checks.append(Check(f"Adam: average regret R_T/T -> 2(C - 2)/3 (|R_T/T - limit| <= 1% of it, T = {T})", CLAIM,
                        0.01 * pred, exact(abs(reg - pred), "deterministic run"), 0.0,
                        f"R_T/T = {reg:.6g}, limit {pred:.6g}", bound=True))
    checks.append(Check(f"control: Adam's average regret -> 0 (R_T/T <= 1% of 2(C - 2)/3)", NEGATIVE_CONTROL, 0.01 * pred,
                        exact(reg, "deterministic run"), 0.0, "no regret", bound=True))
    reg_a = runs[("AMSGrad", x1)][1]
    checks.append(Check(f"AMSGrad: average regret R_T/T -> 0 (<= 1% of Adam's limit, T = {T})", CLAIM, 0.01 * pred,
                        exact(reg_a, "deterministic run"), 0.0, f"R_T/T = {reg_a:.3g}; O(1/sqrt(T)) (Reddi et al. Thm 4)",
                        bound=True))
    sample = np.unique(np.geomspace(1, T + 1, 400).astype(int)) - 1
    data = {"T": T, "t": (sample + 1).tolist(),
            "paths": {f"{lab} x1={x1:g}": runs[(lab, x1)][0][sample].tolist() for (lab, x1) in runs},
            "regret": {f"{lab} x1={x1:g}": runs[(lab, x1)][1] for (lab, x1) in runs}, "limit_regret": pred,
            "drift": at}
    return ClaimResult("D10", checks, inst.describe(), data)


def _derive(inst, latex=False):
    text = th.derive().text()
    return "\\begin{verbatim}\n" + text + "\n\\end{verbatim}" if latex else text


def _figure(result, outdir):
    from ..figures import adam_nonconvergence as fa

    return fa.figure_d10(result, outdir)


register(Claim("D10", "Adam fails to converge on Reddi et al.'s online problem; AMSGrad converges",
               "001 (Adam variants); Reddi, Kale & Kumar 2018, Thm 1, Alg. 2",
               "f_t = Cx (t mod 3 = 1), -x otherwise on [-1, 1], C > 2: Adam (beta1 = 0, beta2 = 1/(1+C^2), "
               "alpha/sqrt(t)) ends at +1, AMSGrad at x* = -1", "equality", run_d10, _derive, _figure,
               default_instance, instance_from_config))
