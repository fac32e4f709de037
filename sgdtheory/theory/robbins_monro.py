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
"""

from __future__ import annotations

import sympy

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
    for pv in (sympy.Rational(2, 5), sympy.Rational(1, 2), sympy.Rational(3, 4), 1, sympy.Rational(3, 2)):
        d = step_sums(pv)
        lines.append(f"p = {pv}: sum eta_t {'< oo' if d['sum_eta_finite'] else '= oo'}, sum eta_t^2 "
                     f"{'< oo' if d['sum_eta_sq_finite'] else '= oo'} (SymPy); Robbins-Monro conditions "
                     f"{'hold' if d['robbins_monro'] else 'fail'}")
    return "\n".join(lines)


__all__ = ["step_sums", "asymptotic_slope", "derivation_text"]
