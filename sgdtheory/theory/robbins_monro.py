"""Robbins-Monro step sizes eta_t = c/(t0 + t)^p: SymPy decisions on the step sums and the
asymptotic mean-square-error rate of SGD on a strongly convex quadratic.

Sources: seed 003 (McAllester), slide "SGD convergence" (the classical theorem: eta_t -> 0,
sum eta_t = infinity, sum eta_t^2 < infinity); seed 000 (Huszar), section "Convergence"; Robbins &
Monro (1951).  The rate follows from the scalar mean-square recursion of one eigen-direction of the
mean Hessian with curvature h and gradient-noise variance s at the minimum,

    e_{t+1} = (1 - eta_t h)^2 e_t + eta_t^2 s   (state-dependent noise adds O(eta_t^2 e_t)),

whose continuous version e' = -2 h eta(t) e + s eta(t)^2 gives, for eta = c/t^p:

* 0 < p < 1: e ~ s eta_t/(2h), slope -p (the noise floor tracks eta_t; any p in (0, 1) converges);
* p = 1: e ~ A t^(-2ch) + s c^2/(2ch - 1) t^(-1), slope -min(1, 2ch); at 2ch = 1, e ~ s c^2 log(t)/t;
* p > 1: sum eta_t < infinity, so e_t -> a positive limit (stalls), slope 0;
* p = 0 (constant eta): e -> the stationary value ~ s eta/(2h) (plateau proportional to eta).

The MSE of a d-dimensional problem is a sum of such modes; with p = 1 the slowest is h = lambda_min.

Asymptotic constants (``asymptotic_constant``), for the exact moment recursion of
``theory.sgd_moments`` (a quadratic basin with state-dependent minibatch noise; m = E delta,
S = E delta delta^T, z = (m, vec S)): z_{t+1} = (I + eta_t A1 + eta_t^2 A2) z_t + eta_t^2 b with
A1 = -diag(Hbar, K), K vec S = vec(Hbar S + S Hbar), b = (0, c_B vec Sigma).  Substituting
z_t = eta_t v + o(eta_t) and eta_{t+1} - eta_t = -p eta_t / (t0 + t) (1 + O(1/t)):

* 0 < p < 1: eta_{t+1} - eta_t = o(eta_t^2), so A1 v + b = 0: lim E|delta_t|^2 / eta_t = tr S0 with
  Hbar S0 + S0 Hbar = c_B Sigma (continuous Lyapunov; independent of c, t0 and the start).  Remainder
  O(eta_t) + O(t^(p-1)/c): relative order t^(-min(p, 1-p)).
* p = 1, eta_t = c/(t0 + t): eta_{t+1} - eta_t = -eta_t^2/c + O(eta^3), so (A1 + I/c) v + b = 0:
  lim (t0 + t) E|delta_t|^2 = c tr V with (Hbar - I/(2c)) V + V (Hbar - I/(2c)) = c_B Sigma, which has a
  positive solution iff 2 c lambda_min > 1 (scalar mode: s c^2/(2ch - 1)).  Remainder: relative order
  t^(-min(1, 2 c lambda_min - 1)) (the start's transient decays like t^(-2 c lambda_min)).
* p > 1: sum eta_t < oo and the recursion has a limit z_oo = prod_t (I + eta_t A1 + eta_t^2 A2) z_0 + ...,
  which depends on the start.  It is evaluated as the exact recursion to a step T followed by the exact
  tail to second order: with H1 = sum_{t>=T} eta_t = c zeta(p, t0 + T) and H2 = sum_{t>=T} eta_t^2 =
  c^2 zeta(2p, t0 + T) (Hurwitz zeta, scipy.special.zeta), z_oo = expm(A1 H1 + (A2 - A1^2/2) H2) z_T
  + H2 b + O(T^(2-3p)) (Magnus/BCH: the commutators and the noise's cross term are O(H1 H2)).
  This is evaluated at T = 2^10 .. 2^20, extrapolated once in T (Richardson on the leading T^(2-3p)),
  and the T where successive extrapolations agree best is kept (the recursion's own rounding grows
  with T); their disagreement is reported as ``error`` (~1e-13 relative for A5's p = 3/2).  The value at a large finite t instead is off by O(t^(1-p))
  (about 0.2% at t = 1e6 for p = 3/2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.special
import sympy

from ..errors import SgdTheoryError

t_sym = sympy.Symbol("t", integer=True, nonnegative=True)


def step_sums(p, c=1, t0=1) -> dict:
    """SymPy's decision on sum_t eta_t and sum_t eta_t^2 for eta_t = c/(t0 + t)^p (p rational)."""
    p_r, c_r, t0_r = (sympy.nsimplify(x) for x in (p, c, t0))
    eta = c_r / (t0_r + t_sym) ** p_r
    s1 = bool(sympy.Sum(eta, (t_sym, 0, sympy.oo)).is_convergent())
    s2 = bool(sympy.Sum(eta**2, (t_sym, 0, sympy.oo)).is_convergent())
    lim = sympy.limit(eta.subs(t_sym, sympy.Symbol("x", positive=True)), sympy.Symbol("x", positive=True), sympy.oo)
    return {"p": float(p), "eta_to_zero": bool(lim == 0), "sum_eta_finite": s1, "sum_eta_sq_finite": s2,
            "robbins_monro": bool(lim == 0 and not s1 and s2)}


def asymptotic_slope(p: float, c: float, lam_min: float) -> tuple[float, str]:
    """Predicted d log E|w_t - w*|^2 / d log t as t -> infinity, and the regime's name."""
    p_s, c_s, h = sympy.nsimplify(p), sympy.Float(c), sympy.Float(lam_min)
    slope = sympy.Piecewise(
        (0, sympy.Eq(p_s, 0)),
        (-p_s, p_s < 1),
        (-sympy.Min(1, 2 * c_s * h), sympy.Eq(p_s, 1)),
        (0, True),
    )
    if p == 0:
        regime = "constant eta: plateau at an error proportional to eta"
    elif p < 1:
        regime = "0 < p < 1: the noise floor tracks eta_t, slope -p"
    elif p == 1:
        regime = f"p = 1: slope -min(1, 2 c lambda_min) with 2 c lambda_min = {2 * c * lam_min:.3g}"
    else:
        regime = "p > 1: steps summable, the error stalls at a positive value"
    return float(slope), regime


def derivation_text(lam_min: float) -> str:
    """The continuous mean-square ODE and its solutions (SymPy), for ``sgdtheory derive A5``."""
    t = sympy.Symbol("t", positive=True)
    c, h, s, p = sympy.symbols("c h s p", positive=True)
    e = sympy.Function("e")
    lines = [f"MSE ODE of one mode: e'(t) = -2 h eta(t) e + s eta(t)^2, eta = c/t^p, h = lambda_min = {lam_min:.6g}"]
    sol1 = sympy.dsolve(sympy.Eq(e(t).diff(t), -2 * h * c / t * e(t) + s * c**2 / t**2), e(t))
    lines.append(f"p = 1: {sol1}  -> slope -min(1, 2ch) (log t / t at 2ch = 1)")
    ansatz = s * c / (2 * h) * t ** (-p)
    resid = sympy.simplify((ansatz.diff(t) + 2 * h * c * t ** (-p) * ansatz - s * c**2 * t ** (-2 * p)) / ansatz)
    lines.append(f"0 < p < 1: e = s eta/(2h) leaves e'/e residual {resid}, negligible against the decay rate "
                 "2 h c t^(-p) when p < 1: slope -p")
    K = sympy.Symbol("K")
    # one mode, discrete: e_t = K eta_t + o(eta_t) in e_{t+1} = (1 - eta h)^2 e + eta^2 s with eta_{t+1} - eta_t =
    # -eta^2/c (p = 1) or o(eta^2) (p < 1): the eta^2 terms give -K/c = -2 h K + s, resp. 0 = -2 h K + s
    k1 = sympy.solve(sympy.Eq(-K / c, -2 * h * K + s), K)[0]
    k0 = sympy.solve(sympy.Eq(0, -2 * h * K + s), K)[0]
    lines.append(f"constants (one mode): p < 1: lim e_t/eta_t = {k0}; p = 1: lim (t0 + t) e_t = c lim e_t/eta_t = "
                 f"{sympy.simplify(c * k1)} (needs 2ch > 1); d modes: continuous Lyapunov equations "
                 "(asymptotic_constant); p > 1: the exact limit of the recursion (no closed form in general; for p = 2 "
                 "and one mode a ratio of Gamma functions)")
    for pv in (sympy.Rational(2, 5), sympy.Rational(1, 2), sympy.Rational(3, 4), 1, sympy.Rational(3, 2)):
        d = step_sums(pv)
        lines.append(f"p = {pv}: sum eta_t {'< oo' if d['sum_eta_finite'] else '= oo'}, sum eta_t^2 "
                     f"{'< oo' if d['sum_eta_sq_finite'] else '= oo'} (SymPy); Robbins-Monro conditions "
                     f"{'hold' if d['robbins_monro'] else 'fail'}")
    return "\n".join(lines)


@dataclass(frozen=True)
class AsymptoticConstant:
    """The exact asymptotic constant of E|w_t - w*|^2 under eta_t = c/(t0 + t)^p (see the module docstring).

    kind: "per_eta" (0 < p < 1: lim E|delta_t|^2 / eta_t), "per_step" (p = 1: lim (t0 + t) E|delta_t|^2) or
    "limit" (p > 1: lim E|delta_t|^2).  value: that limit.  second: the matching limit of S_t (scaled the
    same way).  remainder_exponent: r > 0 with (scaled E|delta_t|^2) - value = O(t^(-r)) (p > 1: 1 - p <
    0 is the finite-t error's order, given as p - 1).  error: an estimate of the numerical error of value
    (0 for the closed forms up to rounding).
    """

    kind: str
    value: float
    second: np.ndarray
    remainder_exponent: float
    error: float = 0.0

    def scale(self, schedule, t) -> np.ndarray:
        """The factor that turns E|delta_t|^2 into the scaled quantity whose limit is ``value``."""
        t = np.asarray(t, dtype=np.float64)
        if self.kind == "per_eta":
            return 1.0 / schedule(t)
        if self.kind == "per_step":
            return schedule.t0 + t
        return np.ones_like(t)


def _power(schedule):
    from ..schedules import Power

    if not isinstance(schedule, Power) or schedule.p <= 0:
        raise SgdTheoryError(f"schedule: expected a Power schedule c/(t0 + t)^p with p > 0, got {schedule!r}")
    return schedule


def asymptotic_constant(basin, schedule, delta0=None, T_start: int = 1 << 10, T_max: int = 1 << 20) -> AsymptoticConstant:
    """The exact asymptotic constant of E|w_t - w*|^2 for SGD on ``basin`` (a QuadraticBasin at its minimum)
    with the Power schedule eta_t = c/(t0 + t)^p (module docstring: per_eta for p < 1, per_step for p = 1 with
    2 c lambda_min > 1, limit for p > 1, which needs the start offset ``delta0``)."""
    sched = _power(schedule)
    p, c = sched.p, sched.c
    Hbar = basin.mean_hessian
    lam_min = float(np.linalg.eigvalsh(Hbar)[0])
    C = np.asarray(basin.batch_gradient_covariance)
    if p < 1:
        S0 = scipy.linalg.solve_continuous_lyapunov(Hbar, C)
        S0 = 0.5 * (S0 + S0.T)
        return AsymptoticConstant("per_eta", float(np.trace(S0)), S0, min(p, 1.0 - p))
    if p == 1:
        if not 2.0 * c * lam_min > 1.0:
            raise SgdTheoryError(f"schedule.c = {c:g}: lim (t0 + t) E|w_t - w*|^2 exists only for 2 c lambda_min > 1; "
                                 f"here 2 c lambda_min = {2 * c * lam_min:.6g} (E|w - w*|^2 decays like t^(-2 c lambda_min))")
        A = Hbar - np.eye(basin.d) / (2.0 * c)
        V = scipy.linalg.solve_continuous_lyapunov(A, C)
        V = 0.5 * (V + V.T)
        return AsymptoticConstant("per_step", float(c * np.trace(V)), c * V, min(1.0, 2.0 * c * lam_min - 1.0))
    if delta0 is None:
        raise SgdTheoryError("delta0: p > 1 (summable steps): the limit of E|w_t - w*|^2 depends on the start; "
                             "pass delta0 = w_0 - w*")
    from .sgd_moments import SGDMoments

    mom = SGDMoments(basin)
    d = basin.d
    A1, A2, b = mom.A1, mom.A2, mom.b
    G = A2 - A1 @ A1 / 2.0
    Ts = [1 << k for k in range(int(np.log2(T_start)), int(np.log2(T_max)) + 1)]
    path = mom.run(sched, delta0, Ts)
    values, seconds = [], []
    for i, T in enumerate(Ts):
        zT = np.concatenate([path.mean[i], path.second[i].reshape(-1)])
        a = sched.t0 + T
        H1 = c * float(scipy.special.zeta(p, a))
        H2 = c * c * float(scipy.special.zeta(2.0 * p, a))
        z_inf = scipy.linalg.expm(A1 * H1 + G * H2) @ zT + H2 * b
        S = z_inf[d:].reshape(d, d)
        seconds.append(0.5 * (S + S.T))
        values.append(float(np.trace(S)))
    # one Richardson step on the known leading remainder T^(2 - 3p) of the second-order tail, then the T where
    # successive extrapolations agree best (below it the tail's truncation dominates, above it the recursion's
    # rounding): its disagreement is the reported error
    q = 2.0 ** (3.0 * p - 2.0)
    rich = [values[i] + (values[i] - values[i - 1]) / (q - 1.0) for i in range(1, len(values))]
    diffs = [abs(rich[i] - rich[i - 1]) for i in range(1, len(rich))]
    k = int(np.argmin(diffs)) + 1
    S = seconds[k + 1] + (seconds[k + 1] - seconds[k]) / (q - 1.0)
    return AsymptoticConstant("limit", rich[k], S, p - 1.0, diffs[k - 1])


__all__ = ["step_sums", "asymptotic_slope", "derivation_text", "asymptotic_constant", "AsymptoticConstant"]
