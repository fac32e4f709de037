"""Claims D6 (AdaGrad), D7 (RMSProp's second moment), D9 (Adam's forms) and errata E7, E8 (printed Adam/momentum).

The problem is the diagonal quadratic L(w) = sum_k h_k w_k^2/2 (minimiser w* = 0; default h = (1, 100),
a narrow valley with condition number 100) with Gaussian gradient noise ghat = h w + sigma xi,
xi ~ N(0, I) (``problems.GaussianNoiseQuadratic`` with C = diag(sigma^2); sigma = 0 gives the noiseless
deterministic problem).  The adaptive methods act coordinate-wise, so a diagonal H keeps every
per-coordinate prediction exact.  Monte Carlo uses independent paths (replica intervals); the
vectorised numpy steps of ``theory.adaptive`` are bit-identical to the package optimizers'
``reference_step`` (tests), and D9's stationary errors come from the Numba engine (``simulate``).

D6 -- seed 001, slide "3. Adaptively changing learning rate": AdaGrad's learning rate "strictly
decreases and becomes too small".  Exact: a(G) = eta/(sqrt(G) + eps) has da/dG < 0 and a -> 0 as
G -> oo (SymPy).  (The former count of non-increasing steps along runs was true by construction of the
code -- G only accumulates squares -- and could not fail; it is gone, issue 13 item 7.)  On the noisy
quadratic G_t ~ E ghat^2 t, so E a_t ~ t^(-1/2): fitted log-log slope with a path-level delta-method
interval, measured on the Numba engine (the step is read off the engine's iterates, the noise recovered
from an SGD run with the same seeds).  The prediction is the mean-field recursion, whose finite-t
correction c_t/4 (c_t = eta h/(sigma sqrt t)) separates it from the asymptote -1/2: on the coordinate with
the largest eta h/sigma that asymptote is the near control, with the number of paths planned (from the known
variance of G_t) so that it sits ~6 half-widths away.  Far controls: a constant effective step (slope 0),
slope -1, and "-> 0" on the noiseless problem, where sum g^2 < oo and the effective step has a positive limit.

D7 -- seed 003, slide "RMSProp": s[i] ~ E ghat[i]^2 = g[i]^2 + sigma[i]^2, "we should expect sigma[i] >> g[i]".
At a fixed point, E s_t = (1 - beta^t)(g^2 + sigma^2) (SymPy rsolve); along an RMSProp run started at the
optimum, E(s_T - g_T^2 - sigma^2) = 0 in the stationary regime; near the optimum E g^2/sigma^2 is small:
exactly eta h/(2 - eta h) for SGD (SymPy), bounded for RMSProp.  Controls: s ~ g^2 (the noise-free
reading), and sigma ~ g.

D9 -- Adam: Kingma & Ba Algorithm 1 (``published``) against the documents' forms (``theory.adaptive``):
first steps exactly (a g/(|g| + eps) vs a (1 - b1) g/(sqrt(1 - b2)|g| + eps)); deterministic narrow-valley
trajectories and by how much they differ; the numpy published form against the package's Numba Adam;
stationary errors on the noisy quadratic (bias correction decays like b^t: equal stationary errors).
Controls: the uncorrected form's first step equals the published one; the trajectories coincide; the
uncorrected stationary error is the published one scaled by (1 - b1)/sqrt(1 - b2).

E7 -- seed 000 ("Momentum", "Adam") prints w_(t+1) = w_t - eta m_t (and m_t/(sqrt(v_t) + eps)) where the
just-updated m_(t+1), v_(t+1) are meant.  As printed: a stale-buffer momentum stable only for eta h < 1
(corrected: eta h < 2(1 + b)/(1 - b)), and a delayed Adam whose first step is exactly 0.

E8 -- seed 001's Adam slide: theta_(t+1) = theta_t - gamma m_t/sqrt(v_t) before the moment updates, no eps,
no bias correction.  As printed the first update is 0/0 (NaN); read charitably (0/0 := 0) its first
non-zero step is a (1 - b1)/sqrt(1 - b2) sign(g) (3.16 a for the defaults), not Algorithm 1's a sign(g).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..config import schema
from ..errors import ConfigError, SgdTheoryError, check_float, check_int
from ..optimizers import SGD, AdaGrad, Adam, HeavyBall, RMSProp
from ..problems import GaussianNoiseQuadratic
from ..simulate import simulate
from ..stats import difference, exact, path_loglog_slope, replica_interval
from ..theory import adaptive as th
from .base import (APPROXIMATION, AS_PRINTED, CLAIM, NEGATIVE_CONTROL, Check, Claim, ClaimResult, Settings, planned_expectation,
                   register)


def _vec(value, name: str, positive: bool = True) -> tuple:
    try:
        arr = np.atleast_1d(np.asarray(value, dtype=np.float64))
    except (TypeError, ValueError):
        raise SgdTheoryError(f"{name}: expected a list of numbers, got {value!r}") from None
    if arr.ndim != 1 or arr.size < 1 or arr.size > 8 or not np.all(np.isfinite(arr)):
        raise SgdTheoryError(f"{name}: expected 1 to 8 finite numbers, got {value!r}")
    if positive and np.any(arr <= 0):
        raise SgdTheoryError(f"{name}: every entry must be > 0, got {arr.tolist()}")
    return tuple(float(x) for x in arr)


@dataclass(frozen=True, eq=False)
class AdaptiveInstance:
    """Diagonal quadratic sum_k h_k w_k^2/2 with gradient noise sd sigma_k, and the methods' hyperparameters.

    ``coordinate`` is the coordinate of D6's slope and D7's checks (default 0, the flat direction);
    ``w_fixed`` is D7's fixed point; ``w0`` the start of the deterministic trajectories (D9, E7, E8).
    """

    h: tuple = (1.0, 100.0)
    sigma: tuple = (1.0, 1.0)
    w0: tuple = (1.0, 1.0)
    w_fixed: tuple = (0.5, 0.005)
    coordinate: int = 0
    adagrad_lr: float = 0.1
    adagrad_eps: float = 1e-10
    rmsprop_lr: float = 0.01
    rmsprop_beta: float = 0.99
    rmsprop_eps: float = 1e-8
    sgd_lr: float = 0.01
    adam: th.AdamParams = field(default_factory=th.AdamParams)
    momentum_lr: float = 0.05
    momentum_beta: float = 0.9
    name: str = "default"

    def __post_init__(self):
        h = _vec(self.h, "h")
        d = len(h)
        sigma = _vec(self.sigma, "sigma")
        for key, val in (("sigma", sigma), ("w0", _vec(self.w0, "w0", False)), ("w_fixed", _vec(self.w_fixed, "w_fixed", False))):
            if len(val) != d:
                raise SgdTheoryError(f"{key}: expected {d} entries (one per coordinate of h), got {len(val)}")
            object.__setattr__(self, key, val)
        object.__setattr__(self, "h", h)
        check_int(self.coordinate, "coordinate", 0, d - 1)
        check_float(self.adagrad_lr, "adagrad_lr", 0.0, 10.0)
        check_float(self.adagrad_eps, "adagrad_eps", 0.0, 1e-3)
        check_float(self.rmsprop_lr, "rmsprop_lr", 0.0, 1.0)
        check_float(self.rmsprop_beta, "rmsprop_beta", 0.5, 0.9999)
        check_float(self.rmsprop_eps, "rmsprop_eps", 0.0, 1e-3)
        check_float(self.sgd_lr, "sgd_lr", 0.0, 2.0 / max(h))
        b = check_float(self.momentum_beta, "momentum_beta", 0.0, 1.0)
        # E7 compares the two momentum forms where they differ: printed limit 1 < eta h_max < corrected 2(1+b)/(1-b)
        check_float(self.momentum_lr, "momentum_lr", 1.0 / max(h), 2.0 * (1.0 + b) / ((1.0 - b) * max(h)))
        a = self.adam
        check_float(a.alpha, "adam_alpha", 0.0, 1.0)
        check_float(a.beta1, "adam_beta1", 0.0, 1.0)
        check_float(a.beta2, "adam_beta2", 0.5, 1.0)
        check_float(a.eps, "adam_eps", 0.0, 1e-3)
        w0 = np.array(self.w0)
        if np.any(w0 == 0.0):
            raise SgdTheoryError("w0: every coordinate must differ from the minimiser 0 (the first steps divide by |g|)")
        if abs(self.w_fixed[self.coordinate]) == 0.0:
            raise SgdTheoryError("w_fixed: the checked coordinate must have a non-zero gradient there")

    @property
    def d(self) -> int:
        return len(self.h)

    def problem(self, noisy: bool = True) -> GaussianNoiseQuadratic:
        s2 = np.square(self.sigma) if noisy else np.zeros(self.d)
        return GaussianNoiseQuadratic(np.diag(self.h), np.diag(s2), name=f"diagonal quadratic h = {list(self.h)}")

    def describe(self) -> dict:
        return {"name": self.name, "h": list(self.h), "sigma": list(self.sigma), "w0": list(self.w0),
                "w_fixed": list(self.w_fixed), "coordinate": self.coordinate, "adagrad_lr": self.adagrad_lr,
                "adagrad_eps": self.adagrad_eps, "rmsprop_lr": self.rmsprop_lr, "rmsprop_beta": self.rmsprop_beta,
                "rmsprop_eps": self.rmsprop_eps, "sgd_lr": self.sgd_lr, "adam_alpha": self.adam.alpha,
                "adam_beta1": self.adam.beta1, "adam_beta2": self.adam.beta2, "adam_eps": self.adam.eps,
                "momentum_lr": self.momentum_lr, "momentum_beta": self.momentum_beta}


def default_instance() -> AdaptiveInstance:
    return AdaptiveInstance()


_PROBLEM_FIELDS = {"name", "h", "sigma"}
_EXP_FIELDS = {"w0", "w_fixed", "coordinate", "adagrad_lr", "adagrad_eps", "rmsprop_lr", "rmsprop_beta", "rmsprop_eps",
               "sgd_lr", "adam_alpha", "adam_beta1", "adam_beta2", "adam_eps", "momentum_lr", "momentum_beta"}


@schema('D6/D7/D9/E7/E8', {
    "problem": {"h": "num[]", "sigma": "num[]", "name": "str"},
    "experiment": {
        "w0": "num[]", "w_fixed": "num[]", "coordinate": "int",
        **{k: "num" for k in sorted(_EXP_FIELDS - {"w0", "w_fixed", "coordinate"})},
    },
})
def instance_from_config(cfg: dict) -> AdaptiveInstance:
    """[problem] h, sigma (diagonal curvatures and noise sds); [experiment] any field of ``AdaptiveInstance``
    (``adam_alpha``, ``adam_beta1``, ``adam_beta2``, ``adam_eps`` for Adam)."""
    prob = cfg.get("problem", {})
    for sec, valid, fields in (("problem", _PROBLEM_FIELDS, prob), ("experiment", _EXP_FIELDS, cfg.get("experiment", {}))):
        unknown = set(fields) - valid
        if unknown:
            raise ConfigError(f"{sec}.{sorted(unknown)[0]}: unknown field; valid: {', '.join(sorted(valid))}")
    exp = dict(cfg.get("experiment", {}))
    try:
        adam = th.AdamParams(exp.pop("adam_alpha", 0.01), exp.pop("adam_beta1", 0.9), exp.pop("adam_beta2", 0.999),
                             exp.pop("adam_eps", 1e-8))
        kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in exp.items()}
        base = AdaptiveInstance()
        return AdaptiveInstance(h=tuple(prob.get("h", base.h)), sigma=tuple(prob.get("sigma", base.sigma)), adam=adam,
                                name=prob.get("name", "user"), **kw)
    except SgdTheoryError as exc:
        sec = "problem" if str(exc).split(":")[0].split(" ")[0] in ("h", "sigma") else "experiment"
        raise ConfigError(f"{sec}.{exc}") from None


def _rng(settings: Settings, key: tuple) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(settings.seed, spawn_key=key))


# ------------------------------------------------------------------------------------------------ D6
def simulate_adagrad(inst: AdaptiveInstance, n_paths: int, n_steps: int, record, rng, noisy: bool = True):
    """AdaGrad from w* = 0 on independent paths; returns (effective steps at ``record`` (paths, records, d),
    strict-monotonicity violations, rounding-equal steps, G_T, G_(T/2))."""
    h = np.array(inst.h)
    sig = np.array(inst.sigma) if noisy else np.zeros(inst.d)
    w = np.zeros((n_paths, inst.d)) if noisy else np.tile(np.array(inst.w0), (n_paths, 1))
    G = np.zeros_like(w)
    eta, eps = inst.adagrad_lr, inst.adagrad_eps
    rec = {int(t): i for i, t in enumerate(record)}
    out = np.zeros((n_paths, len(rec), inst.d))
    prev = np.full_like(w, np.inf)
    violations = rounding = 0
    G_half = None
    for t in range(1, n_steps + 1):
        g = h * w + (sig * rng.standard_normal(w.shape) if noisy else 0.0)
        G_old = G
        w, G = th.adagrad_step(w, G, g, eta, eps)
        eff = eta / (np.sqrt(G) + eps)
        # g^2 far above G's rounding unit: eff must drop in float64 too (below it, G or sqrt(G) may round back)
        visible = g * g > G_old * 1e-12
        violations += int(np.count_nonzero(eff > prev)) + int(np.count_nonzero(visible & (eff >= prev)))
        rounding += int(np.count_nonzero(~visible & (g != 0.0)))
        prev = eff
        if t in rec:
            out[:, rec[t]] = eff
        if t == n_steps // 2:
            G_half = G.copy()
    return out, violations, rounding, G, G_half


def engine_adagrad_steps(inst: AdaptiveInstance, n_paths: int, n_steps: int, record, settings: Settings,
                         seed_key=(0xD6, 0)) -> np.ndarray:
    """AdaGrad's effective steps eta/(sqrt(G_t) + eps) at the steps ``record`` (paths, records, d), measured on the
    Numba engine from w* = 0 on the noisy quadratic (``engine_effective_steps``)."""
    return engine_effective_steps(inst, AdaGrad(eps=inst.adagrad_eps), inst.adagrad_lr, n_paths, record, settings,
                                  seed_key)[0]


def engine_effective_steps(inst: AdaptiveInstance, optimizer, lr: float, n_paths: int, record, settings: Settings,
                           seed_key) -> tuple[np.ndarray, np.ndarray]:
    """A diagonal adaptive method's effective steps a_(t+1) = lr/(sqrt(state_(t+1)) + eps) at the steps ``record``
    and the iterates w_(t+1), each (paths, records, d), measured on the Numba engine (the simulator users run),
    from w* = 0 on the noisy quadratic.

    The engine does not expose the optimizer state, so the step is read off the iterates: the engine's step t + 1
    moves w_t by -a_(t+1) g_(t+1), and the noise of that step is recovered from an SGD run with the same seeds
    (common random numbers: the Gaussian-noise problem draws d normals per step and nothing else, so path p sees
    the same xi_t under any optimizer; as in claims D1, D2, D5): sigma xi = (delta_t - delta_(t+1))/lr - h delta_t.
    Then a_(t+1) = -(w_(t+1) - w_t)/(h w_t + sigma xi)."""
    record = np.asarray(record, dtype=np.int64)
    rs = np.unique(np.concatenate([record, record + 1]))
    prob = inst.problem()
    lr_sgd = 1.0 / max(inst.h)
    kw = dict(n_steps=int(rs[-1]), n_paths=n_paths, seed=settings.seed, seed_key=seed_key, record_steps=rs,
              record=("moments",))
    ada = simulate(prob, lr, optimizer=optimizer, **kw)
    sgd = simulate(prob, lr_sgd, optimizer=SGD(), **kw)
    ada._require_ok()
    sgd._require_ok()
    cols = [ada.record_names.index(f"mean[{k}]") for k in range(inst.d)]
    W, S = ada.record_values[:, :, cols], sgd.record_values[:, :, cols]
    idx = {int(t): i for i, t in enumerate(rs)}
    h = np.array(inst.h)
    out = np.empty((n_paths, record.size, inst.d))
    w_next = np.empty_like(out)
    for r, t in enumerate(record):
        i0, i1 = idx[int(t)], idx[int(t) + 1]
        noise = (S[:, i0] - S[:, i1]) / lr_sgd - h * S[:, i0]
        out[:, r] = -(W[:, i1] - W[:, i0]) / (h * W[:, i0] + noise)
        w_next[:, r] = W[:, i1]
    return out, w_next


def _d6_sizes(quick: bool):
    return (1024, 20_000) if quick else (4096, 100_000)


#: D6's near control sits at this many planned half-widths (3-10 in full mode, >= 2 in quick mode)
D6_TARGET_HW = 6.0


def planned_slope_half_width(t, level: float, n_paths: int) -> float:
    """Planned half-width of ``stats.path_loglog_slope`` over records t for AdaGrad's effective step, from the known
    variance (no simulation): G_t is noise-dominated, Var(G_t)/E(G_t)^2 = 2/t (Gaussian xi^2 has variance 2) and
    Cov(G_s, G_t)/(E G_s E G_t) = 2/max(s, t) (cumulative sums); a = eta G^(-1/2) has relative deviation -dG/2G, so
    the slope's influence values v = sum_k w_k a_k/E a_k have variance (1/4) sum_jk w_j w_k 2/max(t_j, t_k), with
    the least-squares weights w of log t."""
    from ..stats import _t_quantile

    t = np.asarray(t, dtype=np.float64)
    u = np.log(t)
    w = (u - u.mean()) / np.sum((u - u.mean()) ** 2)
    var = 0.25 * float(w @ (2.0 / np.maximum.outer(t, t)) @ w)
    return _t_quantile(level, n_paths - 1) * np.sqrt(var / n_paths)


def run_d6(inst: AdaptiveInstance, settings: Settings) -> ClaimResult:
    lv = settings.level
    der = th.derive()
    k = inst.coordinate
    P, T = _d6_sizes(settings.quick)
    record = np.unique(np.geomspace(10, T, 25).astype(int))
    h, s = inst.h[k], inst.sigma[k]
    # fit where the finite-t corrections are small: c_t = eta h/(sigma sqrt t) <= 0.02 and the fluctuations of G
    # (relative sqrt(2/t)) negligible; the mean-field prediction carries the O(c_t) part
    t_min = max(T / 20, (inst.adagrad_lr * h / (0.02 * s)) ** 2)
    fit_mask = record >= t_min
    if np.count_nonzero(fit_mask) < 4:
        raise SgdTheoryError(f"adagrad_lr: eta h/sigma = {inst.adagrad_lr * h / s:.3g} on coordinate {k} is too large for "
                             f"the t^(-1/2) regime within {T} steps; need eta h/sigma <= {0.02 * np.sqrt(T / 8):.3g}")
    # the near control, planned before any simulation: on the coordinate j with the largest eta h_j/sigma_j the
    # mean-field slope differs from the asymptote -1/2 by the finite-t correction ~ c_t/4 (fit on t >= T/20); the
    # number of paths for that check is chosen so that -1/2 sits D6_TARGET_HW planned half-widths away
    j = int(np.argmax(np.array(inst.h) / np.array(inst.sigma)))
    hj, sj = inst.h[j], inst.sigma[j]
    mask_j = record >= T / 20
    tj = record[mask_j]
    pred_j = th.loglog_ls_slope(tj, th.adagrad_mean_step(tj, inst.adagrad_lr, hj, sj, inst.adagrad_eps))
    gap_j = abs(pred_j + 0.5)
    hw_all = planned_slope_half_width(tj, lv, P)
    P_j = int(min(P, max(16, np.ceil(P * (hw_all * D6_TARGET_HW / gap_j) ** 2)))) if gap_j > 0 else P
    hw_j = planned_slope_half_width(tj, lv, P_j)
    settings.step(f"D6: AdaGrad, {P} paths x {T} steps (Numba engine, effective steps read off the iterates)")
    eff = engine_adagrad_steps(inst, P, T, record, settings)
    tf = record[fit_mask]
    slope = path_loglog_slope(tf, eff[:, fit_mask, k], lv)
    pred = th.loglog_ls_slope(tf, th.adagrad_mean_step(tf, inst.adagrad_lr, h, s, inst.adagrad_eps))
    corr = inst.adagrad_lr * h / (s * np.sqrt(tf[0]))
    checks = [
        Check("SymPy: d/dG [eta/(sqrt(G) + eps)] < 0 for G > 0 (1 = yes)", CLAIM, 1.0,
              exact(float(der.eff_derivative_negative), "SymPy sign of the derivative"), 1e-9, f"da/dG = {der.eff_derivative}"),
        Check("SymPy: lim_(G -> oo) eta/(sqrt(G) + eps) = 0", CLAIM, 0.0, exact(float(der.eff_limit), "SymPy limit"), 1e-12,
              "so the effective step -> 0 exactly when G_t = sum g^2 -> oo"),
        Check(f"noisy quadratic (engine): log-log slope of E eta_eff,t in t (coordinate {k}, t in [{tf[0]}, {T}]) = -1/2 + "
              "finite-t correction", CLAIM, pred, slope, 0.02,
              f"SymPy asymptote {der.adagrad_slope}; G_t = sigma^2 t (1 + c_t + ...), c_t = eta h/(sigma sqrt t) <= "
              f"{corr:.2g} here: the mean-field recursion shifts the fitted slope by {pred + 0.5:+.2g}; delta-method "
              "interval over independent paths; resolution 0.02", main=True),
        Check("control: a constant effective step (slope 0, as RMSProp's)", NEGATIVE_CONTROL, 0.0, slope, 0.02,
              "resolution 0.02 (far: a straw man kept for the figure)"),
        Check("control: effective step ~ 1/t (slope -1)", NEGATIVE_CONTROL, -1.0, slope, 0.02, "resolution 0.02 (far)"),
    ]
    slope_j = path_loglog_slope(tj, eff[:P_j, mask_j, j], lv)
    name_j = (f"stiffest coordinate {j} (eta h/sigma = {inst.adagrad_lr * hj / sj:.3g}), first {P_j} paths, t in "
              f"[{tj[0]}, {T}]: slope = the mean-field value with its finite-t correction")
    checks.append(Check(name_j, CLAIM, pred_j, slope_j, 0.02,
                        f"c_t = eta h/(sigma sqrt t) up to {inst.adagrad_lr * hj / (sj * np.sqrt(tj[0])):.2g}: the slope "
                        f"differs from -1/2 by {pred_j + 0.5:+.3g}; {P_j} paths planned so that -1/2 sits "
                        f"{D6_TARGET_HW:g} planned half-widths (planned {hw_j:.2g}) away"))
    near = gap_j >= 2.5 * hw_j
    checks.append(Check("control: the asymptote -1/2 without the finite-t correction (G_t = sigma^2 t, noise only), "
                        f"coordinate {j}", NEGATIVE_CONTROL if near else APPROXIMATION, -0.5, slope_j, 0.02,
                        f"planned distance {gap_j / hw_j:.1f} half-widths" + (
                            "" if near else "; too near to be a control at this budget: an approximation"),
                        expect=None if near else planned_expectation(gap_j, hw_j)))
    # noiseless: sum g^2 converges, so the effective step has a positive limit (numpy: deterministic, cheap)
    Tn = 2000 if settings.quick else 5000
    _, _, _, Gn, Gh = simulate_adagrad(inst, 1, Tn, [], _rng(settings, (0xD6, 1)), noisy=False)
    rel = float(np.max(np.abs(Gn - Gh) / Gn))
    eff_lim = inst.adagrad_lr / (np.sqrt(Gn[0]) + inst.adagrad_eps)
    checks.append(Check(f"noiseless quadratic from w0: sum g^2 has converged, max_k (G_T - G_(T/2))/G_T (T = {Tn})", CLAIM,
                        0.0, exact(rel, "deterministic run", abs_tol=1e-12), 1e-9,
                        f"G_T = {np.array2string(Gn[0], precision=6)}"))
    checks.append(Check(f"control (noiseless): the effective step -> 0; value at T = {Tn}, coordinate {k}", NEGATIVE_CONTROL,
                        0.0, exact(float(eff_lim[k]), "deterministic run"), 1e-6 * inst.adagrad_lr,
                        "'strictly decreases to 0' needs sum g^2 = oo (gradient noise); without noise the limit is "
                        "eta/(sqrt(G_oo) + eps) > 0"))
    mean = eff.mean(axis=0)
    half = np.array([[replica_interval(eff[:, r, j], lv).half_width for j in range(inst.d)] for r in range(record.size)])
    data = {"t": record.tolist(), "mean_eff": mean.tolist(), "half_width": half.tolist(), "fit_from": int(tf[0]),
            "slope": slope.value, "coordinate": k, "sigma": list(inst.sigma), "lr": inst.adagrad_lr,
            "noiseless_limit": eff_lim.tolist(), "slope_stiff": slope_j.value, "stiff_coordinate": j, "stiff_paths": P_j}
    return ClaimResult("D6", checks, inst.describe(), data)


# ------------------------------------------------------------------------------------------------ D7
#: D7's near control (the EMA read as unbiased, E s_t = g^2 + sigma^2) sits this many planned half-widths away in
#: full mode (8/sqrt(8) = 2.8 in quick mode, which has 8x fewer paths)
D7_TARGET_HW = 8.0


def _d7_paths(quick: bool) -> int:
    return 4096 if quick else 32768


def d7_near_time(inst: AdaptiveInstance, level: float) -> tuple[int, float]:
    """The step t at which the bias beta^t (g^2 + sigma^2) of the EMA s_t at the fixed point is D7_TARGET_HW planned
    half-widths of the full-mode interval: Var s_t = (1 - beta)^2 (1 - beta^(2t))/(1 - beta^2) Var(ghat^2),
    Var(ghat^2) = 2 sigma^4 + 4 g^2 sigma^2 (Gaussian), no simulation.  Returns (t, planned full-mode half-width)."""
    from ..stats import _t_quantile

    k = inst.coordinate
    beta = inst.rmsprop_beta
    g = inst.h[k] * inst.w_fixed[k]
    s2 = inst.sigma[k] ** 2
    var_g2 = 2 * s2 * s2 + 4 * g * g * s2
    P = _d7_paths(False)
    hw = _t_quantile(level, P - 1) * np.sqrt((1 - beta) ** 2 / (1 - beta**2) * var_g2 / P)
    t = int(np.ceil(np.log(D7_TARGET_HW * hw / (g * g + s2)) / np.log(beta)))
    return max(t, 1), float(hw)


def simulate_d7(inst: AdaptiveInstance, n_paths: int, settings: Settings, t_near: int | None = None):
    """Fixed-point s_t at t = N_s, 5 N_s (and ``t_near``) in numpy -- the engine cannot hold w fixed, and this is an
    EMA of i.i.d. squares with no optimizer dynamics; SGD and RMSProp runs from the optimum on the Numba engine:
    final (w, s, ghat^2)."""
    h, sig = np.array(inst.h), np.array(inst.sigma)
    beta = inst.rmsprop_beta
    N_s = int(round(1 / (1 - beta)))
    rng = _rng(settings, (0xD7, 0))
    g_fix = h * np.array(inst.w_fixed)
    s = np.zeros((n_paths, inst.d))
    fixed = {}
    times = {N_s, 5 * N_s} | ({int(t_near)} if t_near else set())
    for t in range(1, max(times) + 1):
        gh = g_fix + sig * rng.standard_normal(s.shape)
        s = beta * s + (1 - beta) * gh * gh
        if t in times:
            fixed[t] = s.copy()
    T_sgd = int(np.ceil(20 / (inst.sgd_lr * min(h))))
    res = simulate(inst.problem(), inst.sgd_lr, optimizer=SGD(), n_steps=T_sgd, n_paths=n_paths, seed=settings.seed,
                   seed_key=(0xD7, 1), record_steps=[T_sgd], record=("moments",))
    res._require_ok()
    cols = [res.record_names.index(f"mean[{k}]") for k in range(inst.d)]
    w_sgd = res.record_values[:, 0, cols]
    T_rms = int(max(20 * N_s, 40 * max(sig) / (inst.rmsprop_lr * min(h))))
    opt = RMSProp(beta=beta, eps=inst.rmsprop_eps)
    a, w_next = engine_effective_steps(inst, opt, inst.rmsprop_lr, n_paths, [T_rms], settings, (0xD7, 2))
    v = (inst.rmsprop_lr / a[:, 0] - inst.rmsprop_eps) ** 2
    return {"N_s": N_s, "fixed": fixed, "g_fix": g_fix, "T_sgd": T_sgd, "w_sgd": w_sgd, "T_rms": T_rms + 1,
            "w_rms": w_next[:, 0], "s_rms": v}


def run_d7(inst: AdaptiveInstance, settings: Settings) -> ClaimResult:
    lv = settings.level
    der = th.derive()
    P = _d7_paths(settings.quick)
    t_near, hw_full = d7_near_time(inst, lv)
    settings.step(f"D7: RMSProp/SGD, {P} paths (fixed point: numpy; runs: Numba engine)")
    r = simulate_d7(inst, P, settings, t_near)
    k = inst.coordinate
    h, s2 = inst.h[k], inst.sigma[k] ** 2
    g = r["g_fix"][k]
    beta = inst.rmsprop_beta
    checks = []
    for t in sorted(r["fixed"]):
        est = replica_interval(r["fixed"][t][:, k], lv)
        pred = float(th.rmsprop_mean(g, s2, beta, t))
        checks.append(Check(f"fixed point w = {inst.w_fixed[k]}: E s_t = (1 - beta^t)(g^2 + sigma^2) at t = {t}", CLAIM,
                            pred, est, 0.03 * pred, f"SymPy: E s_t = {der.rmsprop_mean}; resolution 3%",
                            main=(t == t_near)))
    t5 = 5 * r["N_s"]
    est5 = replica_interval(r["fixed"][t5][:, k], lv)
    checks.append(Check(f"control: s ~ g^2 (noise ignored), E s_t = (1 - beta^t) g^2 at t = {t5}", NEGATIVE_CONTROL,
                        float((1 - beta**t5) * g * g), est5, 0.03 * float(th.rmsprop_mean(g, s2, beta, t5)),
                        f"g^2 = {g * g:.4g}, sigma^2 = {s2:.4g} (far)"))
    # the near control, planned: at t_near the EMA's bias beta^t (g^2 + sigma^2) is D7_TARGET_HW full-mode half-widths
    gap = beta**t_near * (g * g + s2)
    hw_plan = hw_full * np.sqrt(_d7_paths(False) / P)
    near = gap >= 2.5 * hw_plan
    checks.append(Check(f"control: the EMA read as unbiased (no 1 - beta^t), E s_t = g^2 + sigma^2 at t = {t_near}",
                        NEGATIVE_CONTROL if near else APPROXIMATION, g * g + s2, replica_interval(r["fixed"][t_near][:, k], lv),
                        0.03 * float(th.rmsprop_mean(g, s2, beta, t_near)),
                        f"what Adam's bias correction removes; t planned (Var s_t known) so that it sits {gap / hw_plan:.1f} "
                        "planned half-widths away", expect=None if near else planned_expectation(gap, hw_plan)))
    # SGD near the optimum: exact E g^2
    gs = (h * r["w_sgd"][:, k]) ** 2
    pred = float(th.sgd_grad_sq(h, s2, inst.sgd_lr, r["T_sgd"]))
    est_sgd = replica_interval(gs, lv)
    checks.append(Check(f"SGD from the optimum, lr {inst.sgd_lr}: E g_T^2 = h^2 E e_T^2 exactly (T = {r['T_sgd']})", CLAIM,
                        pred, est_sgd, 0.15 * pred, f"stationary value eta h sigma^2/(2 - eta h) = {der.sgd_stationary_grad_sq}; "
                        "resolution 15%"))
    checks.append(Check("SGD: sigma >> g near the optimum, E g^2/sigma^2 <= 0.1", CLAIM, 0.1,
                        replica_interval(gs / s2, lv), 0.0, f"exact ratio eta h/(2 - eta h) = "
                        f"{inst.sgd_lr * h / (2 - inst.sgd_lr * h):.4g}", bound=True))
    # RMSProp along a run
    g_r = h * r["w_rms"][:, k]
    diff = r["s_rms"][:, k] - g_r**2 - s2
    checks.append(Check(f"RMSProp from the optimum (T = {r['T_rms']} steps, stationary): E(s_T - g_T^2 - sigma^2) = 0",
                        CLAIM, 0.0, replica_interval(diff, lv), 0.03 * s2,
                        "s is an EMA of ghat^2 and E ghat^2 = E g^2 + sigma^2 (noise independent of w_T); resolution 3% of sigma^2"))
    ratio = replica_interval(g_r**2 / s2, lv)
    rho = inst.rmsprop_lr * h / np.sqrt(s2)
    checks.append(Check("RMSProp: sigma >> g near the optimum, E g^2/sigma^2 <= 0.1", CLAIM, 0.1, ratio, 0.0,
                        f"frozen-preconditioner approximation (s = sigma^2, lr eta/sigma): {rho / (2 - rho):.3g}", bound=True))
    checks.append(Check("control: s ~ g^2 along the run, E(s_T - g_T^2) = 0", NEGATIVE_CONTROL, 0.0,
                        replica_interval(r["s_rms"][:, k] - g_r**2, lv), 0.03 * s2, "the noise term sigma^2 is what s measures"))
    checks.append(Check("control: sigma ~ g near the optimum, E g^2/sigma^2 = 1 (RMSProp run)", NEGATIVE_CONTROL, 1.0, ratio,
                        0.1, "resolution 0.1"))
    per_coord = []
    for j in range(inst.d):
        gj = inst.h[j] * r["w_rms"][:, j]
        sj = inst.sigma[j] ** 2
        per_coord.append({"h": inst.h[j], "sigma2": sj, "E_g2_over_sigma2": float(np.mean(gj**2) / sj),
                          "half_width": replica_interval(gj**2 / sj, lv).half_width,
                          "E_s": float(np.mean(r["s_rms"][:, j])), "E_ghat2": float(np.mean(gj**2) + sj),
                          "sgd_E_g2_over_sigma2": float(np.mean((inst.h[j] * r["w_sgd"][:, j]) ** 2) / sj),
                          "sgd_exact": float(th.sgd_grad_sq(inst.h[j], sj, inst.sgd_lr, r["T_sgd"]) / sj)})
    data = {"N_s": r["N_s"], "beta": beta, "g_fixed": r["g_fix"].tolist(), "sigma2": [x**2 for x in inst.sigma],
            "fixed_t": sorted(r["fixed"]), "fixed_mean": [r["fixed"][t].mean(axis=0).tolist() for t in sorted(r["fixed"])],
            "fixed_half": [[replica_interval(r["fixed"][t][:, j], lv).half_width for j in range(inst.d)] for t in sorted(r["fixed"])],
            "per_coordinate": per_coord, "coordinate": k}
    return ClaimResult("D7", checks, inst.describe(), data)


# ------------------------------------------------------------------------------------------------ D9
def _trajectories(inst: AdaptiveInstance, T: int) -> dict:
    trajs = {}
    for form in th.ADAM_FORMS:
        trajs[form] = th.adam_trajectory(form, inst.h, np.zeros(inst.d), inst.w0, T, inst.adam,
                                         charitable=(form == "printed_001"))
    return trajs


def _reference_trajectory(opt, inst: AdaptiveInstance, T: int) -> np.ndarray:
    """The package optimizer's own numpy ``reference_step`` on the noiseless problem."""
    h = np.array(inst.h)
    w = np.array(inst.w0, dtype=float)
    st = opt.init_state(inst.d)
    out = [w]
    for _ in range(T):
        w, st = opt.reference_step(w, st, h * w, inst.adam.alpha)
        out.append(w)
    return np.array(out)


def _adam_opts(inst):
    a = inst.adam
    return (Adam(beta1=a.beta1, beta2=a.beta2, eps=a.eps, bias_correction=True),
            Adam(beta1=a.beta1, beta2=a.beta2, eps=a.eps, bias_correction=False))


def _stationary_numpy(inst, form, P, T, burn, rng):
    """Time-averaged |w - w*|^2 after ``burn`` steps on independent paths for an Adam form (numpy)."""
    h, sig = np.array(inst.h), np.array(inst.sigma)
    w = np.zeros((P, inst.d))
    m, v = np.zeros_like(w), np.zeros_like(w)
    acc = np.zeros(P)
    for t in range(1, T + 1):
        g = h * w + sig * rng.standard_normal(w.shape)
        w, m, v = th.adam_form_step(form, w, m, v, t, g, inst.adam, charitable=True)
        if t > burn:
            acc += np.sum(w * w, axis=1)
    return acc / (T - burn)


def run_d9(inst: AdaptiveInstance, settings: Settings) -> ClaimResult:
    lv = settings.level
    der = th.derive()
    p = inst.adam
    g0 = np.array(inst.h) * np.array(inst.w0)
    T = 3000
    trajs = _trajectories(inst, T)
    tol = 4 * np.finfo(float).eps * float(np.max(np.abs(inst.w0)))  # the step is w_1 - w_0: rounding of w
    checks = []
    for form, label in (("published", "published (Alg. 1)"), ("uncorrected", "uncorrected (no bias correction)")):
        step = trajs[form][1] - trajs[form][0]
        dev = float(np.max(np.abs(step - th.first_step(form, g0, p))))
        checks.append(Check(f"{label}: first step = closed form, max deviation over coordinates", CLAIM, 0.0,
                            exact(dev, "float64", abs_tol=tol), 1e-9 * p.alpha,
                            f"SymPy at g > 0: {der.first_step_published if form == 'published' else der.first_step_uncorrected}"))
    pub_size = float(np.max(np.abs(th.first_step("published", g0, p))))
    checks.append(Check("published (Alg. 1): the first step's size max_k |w_1 - w_0| = alpha |g|/(|g| + eps) ~ alpha",
                        CLAIM, pub_size, exact(float(np.max(np.abs(trajs["published"][1] - trajs["published"][0]))),
                                               "float64", abs_tol=tol), 1e-9 * p.alpha,
                        "bias correction makes the first step alpha sign(g): the headline number", main=True))
    unc_size = float(np.max(np.abs(trajs["uncorrected"][1] - trajs["uncorrected"][0])))
    checks.append(Check("control: the uncorrected first step has the published size alpha |g|/(|g| + eps) ~ alpha",
                        NEGATIVE_CONTROL, float(np.max(np.abs(th.first_step("published", g0, p)))),
                        exact(unc_size, "float64"), 1e-6 * p.alpha,
                        f"it is alpha (1 - b1)/sqrt(1 - b2) = {(1 - p.beta1) / np.sqrt(1 - p.beta2):.4f} alpha"))
    mc_dev = float(np.max(np.abs(trajs["mcallester"][1] - trajs["mcallester"][0] - th.first_step("published", g0, p))))
    checks.append(Check("seed 003's min(t, N) form: first step = the published one (both divide by the t = 1 average)", CLAIM,
                        0.0, exact(mc_dev, "float64", abs_tol=tol), 1e-9 * p.alpha,
                        "min(1, N) = 1: mu_1 = g, s_1 = g^2"))
    # numpy published form vs the package's Numba engine
    pub, unc = _adam_opts(inst)
    eng = simulate(inst.problem(noisy=False), p.alpha, optimizer=pub, n_steps=T, n_paths=1, w0=np.array(inst.w0),
                   seed=settings.seed, seed_key=(0xD9, 0))
    eng_dev = float(np.max(np.abs(eng.final_params[0] - trajs["published"][T])))
    checks.append(Check(f"numpy published form = sgdtheory Adam (Numba engine), |w_T difference| (T = {T})", CLAIM, 0.0,
                        exact(eng_dev, "float64", abs_tol=1e-12), 1e-9, "deterministic narrow valley"))
    diffs = {f: float(np.max(np.abs(trajs[f] - trajs["published"]))) for f in th.ADAM_FORMS if f != "published"}
    dist = {f: float(np.linalg.norm(trajs[f][-1])) for f in th.ADAM_FORMS}
    checks.append(Check("control: the uncorrected trajectory equals the published one, max_t |w_t difference|",
                        NEGATIVE_CONTROL, 0.0, exact(diffs["uncorrected"], "deterministic runs"), 1e-9,
                        "; ".join(f"{f}: max diff {diffs[f]:.3g}" for f in diffs) + "; final |w_T|: "
                        + ", ".join(f"{f} {dist[f]:.3g}" for f in dist)))
    # stationary error on the noisy quadratic (Numba engine, independent paths for each form)
    P, Ts = (512, 20_000) if settings.quick else (4096, 60_000)
    burn = Ts // 2
    settings.step(f"D9: Adam stationary error, {P} paths x {Ts} steps (Numba)")
    prob = inst.problem()
    res = {}
    for i, (name, opt) in enumerate((("published", pub), ("uncorrected", unc))):
        sim = simulate(prob, p.alpha, optimizer=opt, n_steps=Ts, n_paths=P, seed=settings.seed, seed_key=(0xD9, 1, i),
                       time_average=("dist_sq",), burn_in=burn, n_batches=10)
        res[name] = sim.path_averages("dist_sq")
    level_pub = float(res["published"].mean())
    e_pub, e_unc = replica_interval(res["published"], lv), replica_interval(res["uncorrected"], lv)
    d_est = difference(e_pub, e_unc)
    checks.append(Check(f"noisy quadratic: stationary E|w - w*|^2 (time average over steps {burn}..{Ts}), published - "
                        "uncorrected = 0", CLAIM, 0.0, d_est, 0.05 * level_pub,
                        f"the corrections 1/(1 - b^t) -> 1 (b2^{burn} = {p.beta2 ** burn:.2g}); independent paths, Welch "
                        f"interval; resolution 5% of the level {level_pub:.4g}"))
    c = (1 - p.beta1) / np.sqrt(1 - p.beta2)
    checks.append(Check(f"control: uncorrected error = published error x (1 - b1)/sqrt(1 - b2) = {c:.3f} x",
                        NEGATIVE_CONTROL, 0.0, difference(e_unc, e_pub, scale_b=c), 0.05 * level_pub,
                        "the reading 'no bias correction = a rescaled step size'"))
    # the printed forms' stationary errors (numpy; reported, drawn in the figure)
    Pn, Tn = (256, 12_000) if settings.quick else (1024, 40_000)
    stat = {"published": replica_interval(res["published"], lv).to_dict(),
            "uncorrected": replica_interval(res["uncorrected"], lv).to_dict()}
    for i, form in enumerate(("printed_000", "printed_001", "mcallester")):
        settings.step(f"D9: stationary error of {form} (numpy)")
        vals = _stationary_numpy(inst, form, Pn, Tn, Tn // 2, _rng(settings, (0xD9, 2 + i)))
        stat[form] = replica_interval(vals, lv).to_dict() if np.all(np.isfinite(vals)) else None
    data = {"T": T, "traj": {f: trajs[f][:: max(1, T // 600)].tolist() for f in th.ADAM_FORMS},
            "traj_step": max(1, T // 600), "max_diff": diffs, "final_dist": dist, "stationary": stat,
            "alpha": p.alpha, "h": list(inst.h)}
    return ClaimResult("D9", checks, inst.describe(), data)


# ------------------------------------------------------------------------------------------------ E7
def run_e7(inst: AdaptiveInstance, settings: Settings) -> ClaimResult:
    der = th.derive()
    b, eta = inst.momentum_beta, inst.momentum_lr
    h = np.array(inst.h)
    lim_c = float(der.momentum_limits["corrected"].subs(der.beta, b))
    lim_p = float(der.momentum_limits["printed"].subs(der.beta, b))
    checks = []
    # corrected EMA momentum = heavy ball with lr eta (1 - b); run until the corrected form has contracted by 1e-6
    rho = max(float(np.max(np.abs(np.linalg.eigvals(th.iteration_matrix("corrected", eta * hk, b))))) for hk in h)
    Tm = int(min(20_000, max(100, np.ceil(np.log(1e-6) / np.log(rho)) + 50)))
    tr_c = th.momentum_trajectory("corrected", h, inst.w0, Tm, eta, b)
    hb = HeavyBall(momentum=b)
    w, st = np.array(inst.w0, float), hb.init_state(inst.d)
    dev = 0.0
    for t in range(1, Tm + 1):
        w, st = hb.reference_step(w, st, h * w, eta * (1 - b))
        dev = max(dev, float(np.max(np.abs(w - tr_c[t]) / np.maximum(np.abs(w), 1e-300))))
    checks.append(Check(f"corrected (w -= eta m_(t+1)) = HeavyBall(mu = b) with lr eta (1 - b): max relative difference "
                        f"over {Tm} steps", CLAIM, 0.0, exact(dev, "float64", abs_tol=1e-10), 1e-9,
                        "the two differ only in rounding (eta (1 - b) g vs (1 - b) g then eta)"))
    # the printed form's stability limit: SymPy/Jury against eigenvalues
    def radius(x):
        return float(np.max(np.abs(np.linalg.eigvals(th.iteration_matrix("printed", x, b)))))
    lo, hi = 1e-6, 10.0 * max(lim_c, 2.0)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if radius(mid) < 1 else (lo, mid)
    checks.append(Check("as printed (w -= eta m_t): SymPy/Jury stability limit eta h < 1 = where the spectral radius of the "
                        "iteration matrix crosses 1 (bisection)", CLAIM, lim_p, exact(0.5 * (lo + hi), "eigenvalue bisection",
                                                                                   abs_tol=1e-9), 1e-6,
                        f"characteristic polynomial {der.momentum_charpolys['printed']}", main=True))
    checks.append(Check(f"as printed: the stability limit in eta h is the corrected form's 2(1 + b)/(1 - b) = {lim_c:.4g}",
                        AS_PRINTED, lim_c, exact(lim_p, "SymPy (Jury conditions)"), 1e-9,
                        f"printed: eta h < {der.momentum_limits['printed']}; corrected: eta h < {der.momentum_limits['corrected']}"))
    tr_p = th.momentum_trajectory("printed", h, inst.w0, Tm, eta, b)
    x = eta * h
    bound = 1e-3 * float(np.linalg.norm(inst.w0))
    dist_c = float(np.linalg.norm(tr_c[-1]))
    dist_p = float(np.linalg.norm(tr_p[-1]))
    checks.append(Check(f"corrected momentum converges on the narrow valley (eta h = {np.array2string(x, precision=3)}): "
                        f"|w_T| <= 1e-3 |w_0| at T = {Tm}", CLAIM, bound, exact(dist_c, "deterministic run"), 0.0,
                        f"stable for eta h < {lim_c:.4g}", bound=True))
    checks.append(Check(f"as printed: converges too, |w_T| <= 1e-3 |w_0| at T = {Tm}", AS_PRINTED, bound,
                        exact(dist_p if np.isfinite(dist_p) else 1e300, "deterministic run"), 0.0,
                        f"eta h_max = {x.max():.3g} > 1: the printed form diverges", bound=True))
    # Adam as printed in seed 000
    p = inst.adam
    T = 3000
    tr_unc = th.adam_trajectory("uncorrected", h, np.zeros(inst.d), inst.w0, T, p)
    tr_pr = th.adam_trajectory("printed_000", h, np.zeros(inst.d), inst.w0, T, p)
    ref = _reference_trajectory(_adam_opts(inst)[1], inst, T)
    checks.append(Check("corrected (m_(t+1), v_(t+1) in the update) = sgdtheory Adam(bias_correction=False), "
                        "max_t |difference| (bit for bit)", CLAIM, 0.0,
                        exact(float(np.max(np.abs(ref - tr_unc))), "float64"), 1e-12, "reference_step vs the form as written"))
    g0 = h * np.array(inst.w0)
    checks.append(Check("as printed (m_t, v_t): the first step is the corrected one, max_k |step_k|", AS_PRINTED,
                        float(np.max(np.abs(th.first_step("uncorrected", g0, p)))),
                        exact(float(np.max(np.abs(tr_pr[1] - tr_pr[0]))), "float64"), 1e-6 * p.alpha,
                        "printed: m_0 = 0, so w_1 = w_0 exactly; afterwards every step uses the previous iterate's gradient"))
    dpr = float(np.max(np.abs(tr_pr - tr_unc)))
    checks.append(Check("as printed: the trajectory equals the corrected one, max_t |w_t difference|", AS_PRINTED, 0.0,
                        exact(dpr, "deterministic runs"), 1e-9,
                        f"final |w_T|: printed {np.linalg.norm(tr_pr[-1]):.3g}, corrected {np.linalg.norm(tr_unc[-1]):.3g}"))
    data = {"beta": b, "lr": eta, "limits": {"corrected": lim_c, "printed": lim_p},
            "momentum": {"corrected": tr_c.tolist(), "printed": np.clip(np.nan_to_num(tr_p, nan=1e30, posinf=1e30, neginf=-1e30), -1e30, 1e30).tolist()},
            "adam": {"corrected": tr_unc[:600].tolist(), "printed": tr_pr[:600].tolist()}, "h": list(inst.h)}
    return ClaimResult("E7", checks, inst.describe(), data)


# ------------------------------------------------------------------------------------------------ E8
def run_e8(inst: AdaptiveInstance, settings: Settings) -> ClaimResult:
    p = inst.adam
    h = np.array(inst.h)
    g0 = h * np.array(inst.w0)
    T = 3000
    literal = th.adam_trajectory("printed_001", h, np.zeros(inst.d), inst.w0, 3, p, charitable=False)
    charit = th.adam_trajectory("printed_001", h, np.zeros(inst.d), inst.w0, T, p, charitable=True)
    pub = th.adam_trajectory("published", h, np.zeros(inst.d), inst.w0, T, p)
    ref = _reference_trajectory(_adam_opts(inst)[0], inst, T)
    c = (1 - p.beta1) / np.sqrt(1 - p.beta2)
    tol = 4 * np.finfo(float).eps * float(np.max(np.abs(inst.w0)))  # steps are differences of iterates
    checks = [
        Check("as printed: the first update theta_1 = theta_0 - gamma m_0/sqrt(v_0) is defined (1 = finite)", AS_PRINTED, 1.0,
              exact(float(np.all(np.isfinite(literal[1]))), "IEEE 754 evaluation"), 1e-9,
              "m_0 = v_0 = 0 and no eps: 0/sqrt(0) = 0/0 = NaN, and every later iterate is NaN"),
    ]
    second = charit[2] - charit[1]
    slide = -p.alpha * (1 - p.beta1) * g0 / (np.sqrt(1 - p.beta2) * np.abs(g0))
    checks.append(Check("read with 0/0 := 0: the step at t = 2 is a (1 - b1) g_0/(sqrt(1 - b2)|g_0|) exactly (max deviation)",
                        CLAIM, 0.0, exact(float(np.max(np.abs(second - slide))), "float64",
                                          abs_tol=tol), 1e-9 * p.alpha,
                        f"= {c:.4f} alpha sign(g_0): no bias correction, one step late"))
    checks.append(Check("read with 0/0 := 0: its first non-zero step has size alpha (1 - b1)/sqrt(1 - b2) (max_k |step_k|)",
                        CLAIM, p.alpha * c, exact(float(np.max(np.abs(second))), "float64", abs_tol=tol), 1e-9 * p.alpha,
                        f"= {c:.4f} alpha: the slide's step is not Algorithm 1's", main=True))
    checks.append(Check("as printed (0/0 := 0): its first non-zero step has Algorithm 1's size alpha |g|/(|g| + eps)",
                        AS_PRINTED, float(np.max(np.abs(th.first_step("published", g0, p)))),
                        exact(float(np.max(np.abs(second))), "float64"), 1e-6 * p.alpha,
                        f"slide: {c:.4f} alpha; Kingma & Ba: alpha"))
    checks.append(Check("corrected (Kingma & Ba Alg. 1: moments first, bias correction, eps) = sgdtheory Adam, "
                        "max_t |difference| (bit for bit)", CLAIM, 0.0, exact(float(np.max(np.abs(ref - pub))), "float64"),
                        1e-12, "the package optimizer's reference_step vs the form as written"))
    dmax = float(np.max(np.abs(charit - pub)))
    checks.append(Check("as printed (0/0 := 0): the trajectory equals Algorithm 1's, max_t |w_t difference|", AS_PRINTED, 0.0,
                        exact(dmax, "deterministic runs"), 1e-9,
                        f"final |w_T|: slide {np.linalg.norm(charit[-1]):.3g}, published {np.linalg.norm(pub[-1]):.3g}"))
    data = {"T": T, "slide": charit[:600].tolist(), "published": pub[:600].tolist(), "ratio": c, "alpha": p.alpha,
            "literal_first": [None if not np.isfinite(x) else float(x) for x in literal[1]], "h": list(inst.h)}
    return ClaimResult("E8", checks, inst.describe(), data)


def _derive(inst, latex=False):
    text = th.derive().text()
    return "\\begin{verbatim}\n" + text + "\n\\end{verbatim}" if latex else text


def _figure(claim_id):
    def make(result, outdir):
        from ..figures import adaptive as fa

        return fa.FIGURES[claim_id](result, outdir)
    return make


register(Claim("D6", "AdaGrad's effective step is non-increasing, strictly where g != 0, and -> 0 iff sum g^2 = oo",
               "001, slide '3. Adaptively changing learning rate (AdaGrad, RMSProp)'; Duchi et al. 2011",
               "eta/(sqrt(G_t) + eps) decreases strictly and -> 0; with gradient noise E eta_eff ~ t^(-1/2)", "rate",
               run_d6, _derive, _figure("D6"), default_instance, instance_from_config))
register(Claim("D7", "RMSProp's s estimates E ghat^2 = g^2 + sigma^2; sigma >> g near an optimum",
               "003, slide 'RMSProp'", "s ~ E ghat^2 = g^2 + sigma^2; typically sigma >> g", "equality",
               run_d7, _derive, _figure("D7"), default_instance, instance_from_config))
register(Claim("D9", "Adam: Kingma & Ba's Algorithm 1 against the documents' simplified forms",
               "000 'Adam', 001 'Adaptive Learning Rate Methods: ADAM', 003 'Adam (simplified)'; Kingma & Ba 2015, Alg. 1",
               "first steps alpha sign(g) vs alpha (1 - b1)/sqrt(1 - b2) sign(g); trajectories differ; equal stationary error",
               "equality", run_d9, _derive, _figure("D9"), default_instance, instance_from_config))
register(Claim("E7", "Erratum: momentum and Adam updates printed with m_t, v_t instead of m_(t+1), v_(t+1)",
               "000, sections 'Momentum' and 'Adam'", "w_(t+1) = w_t - eta m_(t+1) (printed: m_t)", "erratum",
               run_e7, _derive, _figure("E7"), default_instance, instance_from_config))
register(Claim("E8", "Erratum: Adam slide with no eps, no bias correction, update before the moment estimates",
               "001, slide 'Adaptive Learning Rate Methods: ADAM'; Kingma & Ba 2015, Alg. 1",
               "Algorithm 1 (printed: theta -= gamma m_t/sqrt(v_t) first: 0/0 at t = 1)", "erratum",
               run_e8, _derive, _figure("E8"), default_instance, instance_from_config))
