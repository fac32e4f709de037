"""Claim D13 (sharpness-aware minimisation; seed 000, section on SAM; Foret et al., ICLR 2021).

1. The update and its two gradient evaluations: one engine step of SAM (B = 1, with replacement, on McAllester's
   quadratic basin) must equal w - eta grad L_i(w + rho g_i/|g_i|) with the SAME example i in both gradients for
   every path (an exact count of mismatches: the example drawn is random, the identity per path is not);
   control: the second gradient on an independently drawn example.
2. The first-order approximation of L^SAM(w) = max_{|e| <= rho} L(w + e) on a smooth non-quadratic 2-D loss: the
   error of L(w) + rho |g| is O(rho^2) and that of L(w + eps_hat) is O(rho^3) (``theory.sam``; exact max by scipy
   SLSQP, polished on the sphere); exponents by Richardson-extrapolated log-log slopes; leading coefficients
   u.H u/2 and (u.H v)^2/(2|g|).  Controls: exponent 1 for the linearisation, 2 for the plug-in.
3. A 1-D landscape with a sharp and a flat minimum (``SharpFlatLandscape``), starts uniform on [x_lo, x_hi]:
   gradient descent ends in the sharp minimum with probability (b - x_lo)/(x_hi - x_lo) (its starting basin);
   SAM never ends in the sharp basin, and reaches the flat minimum with probability (x_hi - b - rho)/(x_hi - x_lo)
   (starts left of b + rho park at SAM's rest point m_s + rho).  The maps are deterministic, so this is decided
   exactly: the engine's end class against the exact basin partition on a grid of starts (mismatch count), and
   the switch points b (GD) and b + rho (SAM) located on the engine by bisection; the probabilities are the
   basins' lengths over the span.  Controls: SAM's boundary = GD's b; SAM's flat basin = GD's; GD never in the
   sharp basin.
4. SAM on h w^2/2 (full batch): the 2-cycle +-A, A = eta h rho/(2 - eta h) (SymPy), reached from w_0 != 0 for
   0 < eta h < 2 (sign alternates at the end); divergence for eta h > 2.  Controls: A = rho; A = 0 (convergence).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

import numba
import numpy as np

from ..config import schema
from ..errors import ConfigError, SgdTheoryError, check_float, check_int
from ..optimizers import SAM, SGD
from ..problems import PolynomialFiniteSum1D
from ..sampling import Sampler
from ..simulate import simulate
from ..stats import Estimate, exact
from ..theory import sam as ts
from .base import CLAIM, NEGATIVE_CONTROL, Check, Claim, ClaimResult, Settings, register


@contextmanager
def _one_thread():
    """Single-path runs on one thread: the result is identical for any thread count, and the parallel
    launch of a one-path kernel costs milliseconds when the machine is busy."""
    prev = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(prev)


@dataclass(frozen=True, eq=False)
class SamInstance:
    """All four parts' settings (defaults: the built-in instance)."""

    landscape: ts.SharpFlatLandscape = field(default_factory=ts.SharpFlatLandscape)
    rho: float = 0.5
    eta: float = 0.01
    x_lo: float = -1.5
    x_hi: float = 1.5
    n_steps: int = 2500
    bowl_H: np.ndarray = field(default_factory=lambda: np.array([[2.0, 0.6], [0.6, 1.0]]))
    bowl_q: float = 0.5
    bowl_c: np.ndarray = field(default_factory=lambda: np.array([0.3, -0.2]))
    bowl_w: np.ndarray = field(default_factory=lambda: np.array([0.8, 0.5]))
    rho_max: float = 0.2
    h: float = 2.0
    rho_cycle: float = 0.1
    eta_h: tuple = (0.3, 1.0, 1.5, 1.9)
    name: str = "default"

    def __post_init__(self):
        check_float(self.rho, "rho", 0.0, None)
        check_float(self.eta, "eta", 0.0, None)
        check_int(self.n_steps, "n_steps", 100, 1_000_000)
        if not self.x_lo < self.x_hi:
            raise SgdTheoryError(f"x_lo = {self.x_lo} must be < x_hi = {self.x_hi}")
        bad = self.landscape.landscape_conditions(self.eta, self.rho, self.x_lo, self.x_hi)
        if bad:
            raise SgdTheoryError("rho/eta/starts: the SAM landscape prediction needs " + "; ".join(bad))
        H = np.asarray(self.bowl_H, dtype=np.float64)
        if H.shape != (2, 2) or not np.allclose(H, H.T) or not np.all(np.isfinite(H)):
            raise SgdTheoryError("bowl_H: expected a finite symmetric 2 x 2 matrix")
        object.__setattr__(self, "bowl_H", H)
        for key in ("bowl_c", "bowl_w"):
            v = np.asarray(getattr(self, key), dtype=np.float64)
            if v.shape != (2,) or not np.all(np.isfinite(v)):
                raise SgdTheoryError(f"{key}: expected a finite vector of length 2")
            object.__setattr__(self, key, v)
        check_float(self.bowl_q, "bowl_q", 0.0, None, low_open=False)
        check_float(self.rho_max, "rho_max", 0.0, 1.0)
        f = self.bowl
        if np.linalg.norm(f.grad(self.bowl_w)) < 1e-3:
            raise SgdTheoryError("bowl_w: the gradient vanishes there; SAM's direction g/|g| is undefined")
        if abs(ts.leading_coefficients(f, self.bowl_w)[1]) < 1e-8:
            raise SgdTheoryError("bowl_w: g is an eigenvector of the Hessian there, so the rho^3 term vanishes; "
                                 "choose another point")
        check_float(self.h, "h", 0.0, None)
        check_float(self.rho_cycle, "rho_cycle", 0.0, None)
        eh = tuple(float(x) for x in self.eta_h)
        if not eh or any(not 0.0 < x < 2.0 for x in eh):
            raise SgdTheoryError(f"eta_h: every value must lie in (0, 2) (the 2-cycle's range); got {list(eh)}")
        object.__setattr__(self, "eta_h", eh)

    @property
    def bowl(self) -> ts.QuarticBowl:
        return ts.QuarticBowl(self.bowl_H, self.bowl_q, self.bowl_c)

    def describe(self) -> dict:
        L = self.landscape
        ks, kf = L.curvatures()
        return {"name": self.name, "landscape": {"m_s": L.m_s, "b": L.b, "m_f": L.m_f, "a": L.a,
                                                 "curvature_sharp": ks, "curvature_flat": kf},
                "rho": self.rho, "eta": self.eta, "x_lo": self.x_lo, "x_hi": self.x_hi, "n_steps": self.n_steps,
                "bowl": {"H": self.bowl_H.tolist(), "q": self.bowl_q, "c": self.bowl_c.tolist(), "w": self.bowl_w.tolist()},
                "rho_max": self.rho_max, "h": self.h, "rho_cycle": self.rho_cycle, "eta_h": list(self.eta_h)}


def default_instance() -> SamInstance:
    return SamInstance()


PROBLEM_FIELDS = {"m_s", "b", "m_f", "a", "H", "q", "c", "w", "h", "name"}
EXPERIMENT_FIELDS = {"rho", "eta", "x_lo", "x_hi", "n_steps", "rho_max", "rho_cycle", "eta_h"}


@schema('D13', {
    "problem": {
        "m_s": "num", "b": "num", "m_f": "num", "a": "num", "H": "num[][]", "q": "num", "c": "num[]", "w": "num[]",
        "h": "num", "name": "str"
    },
    "experiment": {
        "rho": "num", "eta": "num", "x_lo": "num", "x_hi": "num", "n_steps": "int", "rho_max": "num",
        "rho_cycle": "num", "eta_h": "num[]!"
    },
})
def instance_from_config(cfg: dict) -> SamInstance:
    """[problem] m_s, b, m_f, a (the 1-D landscape), H, q, c, w (the 2-D bowl and point), h (the quadratic);
    [experiment] rho, eta, x_lo, x_hi, n_steps, rho_max, rho_cycle, eta_h.  All optional."""
    prob, exp = dict(cfg.get("problem", {})), dict(cfg.get("experiment", {}))
    for sec, d, valid in (("problem", prob, PROBLEM_FIELDS), ("experiment", exp, EXPERIMENT_FIELDS)):
        for k in d:
            if k not in valid:
                raise ConfigError(f"{sec}.{k}: unknown field; valid: {', '.join(sorted(valid))}")
    try:
        land = ts.SharpFlatLandscape(*(float(prob.get(k, v)) for k, v in
                                       (("m_s", -1.0), ("b", -0.7), ("m_f", 1.0), ("a", 0.3))))
    except (SgdTheoryError, TypeError, ValueError) as exc:
        raise ConfigError(f"problem.{exc}") from None
    kw = {"landscape": land}
    for k_cfg, k_inst in (("H", "bowl_H"), ("q", "bowl_q"), ("c", "bowl_c"), ("w", "bowl_w"), ("h", "h")):
        if k_cfg in prob:
            kw[k_inst] = prob[k_cfg]
    kw.update(exp)
    if "eta_h" in kw:
        kw["eta_h"] = tuple(kw["eta_h"])
    try:
        return SamInstance(**kw, name=prob.get("name", "user"))
    except (SgdTheoryError, TypeError, ValueError) as exc:
        raise ConfigError(f"experiment.{exc}") from None


# ------------------------------------------------------------------------------------------ parts
def _two_gradients(inst: SamInstance, settings: Settings, checks: list, data: dict) -> None:
    from .basin_sweep import default_instance as default_basin

    p = default_basin().problem.at_minimum()
    w0 = p.minimizer + np.array([0.7, -0.4])
    eta, rho = 0.1, 0.3
    n_paths = 400 if settings.quick else 4000
    res = simulate(p, eta, optimizer=SAM(rho), sampler=Sampler(1), n_steps=1, n_paths=n_paths, seed=settings.seed,
                   seed_key=(0xD13, 0), w0=w0)
    G = p.gradients(w0)  # (n, d) per-example gradients at w0
    same = np.array([w0 - eta * p.gradients(w0 + rho * G[i] / np.linalg.norm(G[i]))[i] for i in range(p.n)])
    mixed = np.array([w0 - eta * p.gradients(w0 + rho * G[i] / np.linalg.norm(G[i]))[j]
                      for i in range(p.n) for j in range(p.n) if i != j])
    tol = 1e-12 * (1 + np.abs(w0).max())
    fin = res.final_params
    match_same = np.array([np.min(np.max(np.abs(same - f), axis=1)) <= tol for f in fin])
    match_mixed = np.array([np.min(np.max(np.abs(mixed - f), axis=1)) <= tol for f in fin])
    # which example a path drew is random, but whether its step matches a candidate is not: exact counts
    n_miss = int(n_paths - match_same.sum())
    checks.append(Check("one SAM step = w - eta grad L_i(w + rho g_i/|g_i|), same example i in both gradients: "
                        "number of paths whose step matches no such candidate", CLAIM, 0.0,
                        exact(float(n_miss), f"{n_paths} engine paths, match to {tol:.1e}"), 0.5,
                        f"{p.n} candidate examples; a deterministic identity per path (an exact count)"))
    checks.append(Check("control: second gradient on an independent example: fraction of paths matching a "
                        "mixed candidate (i != j) = (n - 1)/n", NEGATIVE_CONTROL, (p.n - 1) / p.n,
                        exact(float(match_mixed.mean()), f"{n_paths} engine paths"), 0.5 / n_paths,
                        "what a fresh minibatch for the second gradient would give"))
    data["two_gradients"] = {"n": p.n, "paths": n_paths, "same": int(match_same.sum()), "mixed": int(match_mixed.sum())}


def _ball(inst: SamInstance, settings: Settings, checks: list, data: dict) -> None:
    f = inst.bowl
    n = 7 if settings.quick else 9
    rhos = inst.rho_max / 2.0 ** np.arange(n)
    e = ts.approximation_errors(f, inst.bowl_w, rhos)
    c2, c3 = ts.leading_coefficients(f, inst.bowl_w)
    res_slope = 0.05
    for key, p_true, p_wrong, lab in (("err_linear", 2.0, 1.0, "L(w) + rho|g|"), ("err_plugin", 3.0, 2.0, "L(w + eps_hat)")):
        p_est, unc = ts.richardson_slope(rhos, e[key])
        unc = max(unc, 1e-6)
        est = Estimate(p_est, p_est - unc, p_est + unc, 1.0, "Richardson-extrapolated local log-log slope "
                       "(+- the last slope change)", len(rhos))
        checks.append(Check(f"max_(|e|<=rho) L(w+e) - ({lab}) = O(rho^{p_true:g}): exponent", CLAIM, p_true, est, res_slope,
                            f"rho = {rhos[-1]:.3g}..{rhos[0]:.3g}; exact max by SLSQP + polish"))
        checks.append(Check(f"control: the error of {lab} is O(rho^{p_wrong:g})", NEGATIVE_CONTROL, p_wrong, est,
                            res_slope, "one order too low"))
    # leading coefficients: err/rho^p extrapolated linearly in rho (Richardson, ratio 2)
    for key, p_, coef, lab in (("err_linear", 2, c2, "u.H u/2"), ("err_plugin", 3, c3, "(u.H v)^2/(2|g|)")):
        r = np.array(e[key]) / rhos**p_
        val = 2 * r[-1] - r[-2]
        unc = max(abs(r[-1] - r[-2]), 1e-12 * abs(val))
        checks.append(Check(f"leading coefficient of the O(rho^{p_}) error = {lab}", CLAIM, coef,
                            Estimate(val, val - unc, val + unc, 1.0, "Richardson extrapolation of err/rho^p", len(rhos)),
                            0.02 * abs(coef), "resolution 2%"))
    data["ball"] = {k: list(v) for k, v in e.items()}
    data["ball"]["coefficients"] = [c2, c3]


def _final(prob, opt, inst: SamInstance, w0: float, settings: Settings, key: str) -> float:
    r = simulate(prob, inst.eta, optimizer=opt, sampler=Sampler(1, "full"), n_steps=inst.n_steps, n_paths=1,
                 seed=settings.seed, seed_key=(0xD13, 2), w0=[w0], check_stability=False)
    if r.n_diverged:
        raise SgdTheoryError(f"diverged: {key} from w0 = {w0:.6g}")
    return float(r.final_params[0, 0])


#: bisection steps on the engine's outcome map: bracket (x_hi - x_lo) / 2^BISECT ~ 1e-12 for the defaults
BISECT = 42
#: allowance on a located switch point: a start within ~1e-9 of the repelling point b + rho (or b) needs
#: ln(1e9)/ln(1 + eta |L''|) steps to leave it; the stated allowance covers the bracket and that margin
SWITCH_TOL = 1e-8


def _switch_point(prob, opt, inst: SamInstance, settings: Settings, key: str, outcome) -> float:
    """The start at which the engine's end state switches class (``outcome(final) -> bool``), by bisection on
    [x_lo, x_hi] (the grid check establishes a single switch)."""
    lo, hi = inst.x_lo, inst.x_hi
    f_lo = outcome(_final(prob, opt, inst, lo, settings, key))
    if outcome(_final(prob, opt, inst, hi, settings, key)) == f_lo:
        return float("nan")
    for _ in range(BISECT):
        mid = 0.5 * (lo + hi)
        if outcome(_final(prob, opt, inst, mid, settings, key)) == f_lo:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _landscape(inst: SamInstance, settings: Settings, checks: list, data: dict) -> None:
    """Deterministic maps, decided exactly (issue 13, item 6): where each start ends is a function of the
    start, so the probabilities over uniform starts are lengths of the basins.  The engine's end class is
    checked against the exact partition on a grid of starts (number of mismatches), and the partition's
    switch points are located on the engine by bisection; the probabilities are their lengths / the span."""
    L = inst.landscape
    prob = L.problem()
    n_grid = 121 if settings.quick else 601
    span = inst.x_hi - inst.x_lo
    starts = np.linspace(inst.x_lo, inst.x_hi, n_grid)
    bounds = (L.b, L.b + inst.rho)
    starts = starts[np.min(np.abs(starts[:, None] - np.array(bounds)[None, :]), axis=1) > 1e-6 * span]
    n_starts = starts.size
    finals = {"gd": np.empty(n_starts), "sam": np.empty(n_starts)}
    opts = {"gd": SGD(), "sam": SAM(inst.rho)}
    settings.step(f"{n_starts} grid starts x 2 methods x {inst.n_steps} steps, and 2 x {BISECT} bisection runs")
    with _one_thread():
        for k, w0 in enumerate(starts):
            for key in ("gd", "sam"):
                finals[key][k] = _final(prob, opts[key], inst, w0, settings, key)
        sw_gd = _switch_point(prob, opts["gd"], inst, settings, "gd", lambda w: bool(L.classify(w, inst.rho) == 0))
        sw_sam = _switch_point(prob, opts["sam"], inst, settings, "sam", lambda w: bool(L.classify(w, inst.rho) == 2))
    cls = {k: L.classify(v, inst.rho) for k, v in finals.items()}
    pred_cls = {"gd": np.where(starts < L.b, 0, 2), "sam": np.where(starts < L.b + inst.rho, 1, 2)}
    pred = L.predicted_fractions(inst.rho, inst.x_lo, inst.x_hi)
    grid = f"{n_starts} evenly spaced starts in [{inst.x_lo:g}, {inst.x_hi:g}], {inst.n_steps} steps"
    for key, lab in (("gd", "GD"), ("sam", "SAM")):
        bad = int(np.count_nonzero(cls[key] != pred_cls[key]))
        part = ("sharp minimum for starts < b, flat minimum for starts > b" if key == "gd" else
                "rest point m_s + rho for starts < b + rho, flat minimum for starts > b + rho; never the sharp basin")
        checks.append(Check(f"{lab} on the engine ends where the exact partition says ({part}): number of grid starts "
                            "that do not", CLAIM, 0.0, exact(float(bad), grid), 0.5, "deterministic runs: an exact count"))
    tol = SWITCH_TOL * max(1.0, span)
    e_gd = exact(sw_gd, f"bisection on the engine's end class ({BISECT} halvings)", abs_tol=tol)
    e_sam = exact(sw_sam, f"bisection on the engine's end class ({BISECT} halvings)", abs_tol=tol)
    checks += [
        Check("GD's basin boundary on the engine (start where the end switches from sharp to flat) = the barrier b",
              CLAIM, L.b, e_gd, 1e-6, f"allowance {tol:.1e}: bracket and escape from the repelling point"),
        Check("SAM's basin boundary on the engine (switch from m_s + rho to the flat minimum) = b + rho", CLAIM,
              L.b + inst.rho, e_sam, 1e-6, "the point whose ascent step lands on the barrier: w - rho = b"),
        Check("control: SAM's basin boundary is GD's, b", NEGATIVE_CONTROL, L.b, e_sam, 1e-6,
              "SAM as a rescaled GD (no preference)"),
    ]
    # probabilities for starts uniform on [x_lo, x_hi]: basin lengths (the switch points just located) / span
    p_gd_sharp = exact((sw_gd - inst.x_lo) / span, "basin length / span (engine switch point)", abs_tol=tol / span)
    p_sam_flat = exact((inst.x_hi - sw_sam) / span, "basin length / span (engine switch point)", abs_tol=tol / span)
    p_sam_sharp = exact(float(np.mean(cls["sam"] == 0)), grid)
    note = "starts uniform on [x_lo, x_hi]: the measure of the basin, from the located switch point (exact)"
    checks += [
        Check("GD ends in the sharp minimum with probability (b - x_lo)/(x_hi - x_lo) (its starting basin)", CLAIM,
              pred["gd_sharp"], p_gd_sharp, 1e-6, note),
        Check("control: GD avoids the sharp minimum (probability 0)", NEGATIVE_CONTROL, 0.0, p_gd_sharp, 1e-6, note),
        Check("SAM never ends in the sharp basin (probability over the grid)", CLAIM, 0.0, p_sam_sharp, 0.5 / n_starts,
              "exact count over the grid"),
        Check("SAM ends at the flat minimum with probability (x_hi - b - rho)/(x_hi - x_lo); the rest park at m_s + rho",
              CLAIM, pred["sam_flat"], p_sam_flat, 1e-6, note, main=True),
        Check("control: SAM's flat-minimum basin is GD's, probability (x_hi - b)/(x_hi - x_lo)", NEGATIVE_CONTROL,
              pred["gd_flat"], p_sam_flat, 1e-6, note),
    ]
    parked = finals["sam"][pred_cls["sam"] == 1]  # the starts the partition sends to the rest point (planned)
    if parked.size:
        dev = float(np.max(np.abs(parked - (L.m_s + inst.rho))))
        checks.append(Check("SAM's parked starts sit at the rest point m_s + rho (max deviation)", CLAIM, 0.0,
                            exact(dev, "engine, deterministic", abs_tol=1e-8), 1e-6,
                            "the rest point attracts at rate 1 - eta L''(m_s); 1e-8 allowance"))
    data["landscape"] = {"starts": starts.tolist(), "gd": finals["gd"].tolist(), "sam": finals["sam"].tolist(),
                         "pred": pred, "coeffs": L.coeffs.tolist(), "m_s": L.m_s, "b": L.b, "m_f": L.m_f,
                         "rho": inst.rho, "x_lo": inst.x_lo, "x_hi": inst.x_hi, "switch": {"gd": sw_gd, "sam": sw_sam}}


def _two_cycle(inst: SamInstance, settings: Settings, checks: list, data: dict) -> None:
    h, rho = inst.h, inst.rho_cycle
    prob = PolynomialFiniteSum1D([[0.0, 0.0, h / 2]], name="h w^2/2")
    rows = []
    with _one_thread():
        for x in inst.eta_h:
            eta = x / h
            T = int(min(200_000, max(400, np.ceil(60.0 / -np.log(abs(1 - x))) if x != 1 else 400)))
            r = simulate(prob, eta, optimizer=SAM(rho), sampler=Sampler(1, "full"), n_steps=T, n_paths=1,
                         w0=[1.0], record_steps=[T - 1, T], record=("moments",), check_stability=False)
            w_prev, w_last = r.record_values[0, 0, 0], r.record_values[0, 1, 0]
            A = ts.two_cycle_amplitude(eta, h, rho)
            est = exact(abs(w_last), "engine, deterministic", abs_tol=1e-12 * A)
            checks.append(Check(f"eta h = {x:g}: |w_T| = A = eta h rho/(2 - eta h) = {A:.6g}", CLAIM, A, est, 1e-9 * A,
                                f"after T = {T} steps, contraction |1 - eta h| = {abs(1 - x):g} per step"))
            checks.append(Check(f"eta h = {x:g}: the sign alternates, w_T + w_(T-1) = 0", CLAIM, 0.0,
                                exact(abs(w_last + w_prev), "engine", abs_tol=1e-12 * A), 1e-9 * A, "a 2-cycle"))
            if x == inst.eta_h[0]:
                checks.append(Check(f"control: eta h = {x:g}: the cycle's amplitude is rho", NEGATIVE_CONTROL, rho, est,
                                    1e-9 * A, "the naive 'SAM oscillates on the rho-ball'"))
                checks.append(Check(f"control: eta h = {x:g}: SAM converges to the minimum (|w_T| = 0)", NEGATIVE_CONTROL,
                                    0.0, est, 1e-9 * A, "what gradient descent does"))
            rows.append({"eta_h": x, "A": A, "w_T": float(w_last), "w_T-1": float(w_prev), "T": T})
        # beyond the condition: eta h = 2.2 diverges
        x = 2.2
        r = simulate(prob, x / h, optimizer=SAM(rho), sampler=Sampler(1, "full"), n_steps=2000, n_paths=1, w0=[1.0],
                     check_stability=False)
        checks.append(Check("eta h = 2.2 > 2: the iteration diverges (fraction of diverged paths)", CLAIM, 1.0,
                            exact(float(r.n_diverged), "engine divergence detection"), 1e-9, "|1 - eta h| > 1"))
    # a trajectory for the figure
    eta = inst.eta_h[0] / h
    w, traj = 1.0, []
    for _ in range(40):
        traj.append(w)
        w = ts.sam_map_quadratic(w, eta, h, rho)
    data["two_cycle"] = {"rows": rows, "h": h, "rho": rho, "trajectory": traj, "eta": eta}


def run_d13(inst: SamInstance, settings: Settings) -> ClaimResult:
    checks: list[Check] = []
    data: dict = {}
    _two_gradients(inst, settings, checks, data)
    _ball(inst, settings, checks, data)
    _landscape(inst, settings, checks, data)
    _two_cycle(inst, settings, checks, data)
    data["derivation"] = ts.derive().text()
    return ClaimResult("D13", checks, inst.describe(), data)


def _derive(inst, latex=False):
    text = ts.derive().text()
    return "\\begin{verbatim}\n" + text + "\n\\end{verbatim}" if latex else text


def _figure(result, outdir):
    from ..figures import sam as fs

    return fs.fig_d13_sam(result, outdir)


register(Claim("D13", "Sharpness-aware minimisation: two gradients, first-order max, sharp vs flat, 2-cycle",
               "000, section on SAM; Foret, Kleiner, Mobahi & Neyshabur, ICLR 2021",
               "SAM steps with the gradient at w + rho g/|g| on the same minibatch; L(w) + rho|g| approximates the "
               "max over the rho-ball to O(rho^2); SAM leaves a sharp minimum that GD keeps; on h w^2/2 it ends on a "
               "2-cycle of amplitude eta h rho/(2 - eta h)", "equality", run_d13, _derive, _figure, default_instance,
               instance_from_config))
