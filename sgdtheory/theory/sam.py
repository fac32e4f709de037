"""Sharpness-aware minimisation (seed 000, section on SAM; Foret et al., ICLR 2021): the first-order
approximation of the max over the rho-ball, SAM's 2-cycle on a quadratic, and its fixed points in 1-D.

1. First-order approximation (Foret et al. eq. 2-3).  L^SAM(w) = max_{|e| <= rho} L(w + e).  With g = grad L(w),
   the linearisation gives eps_hat = rho g/|g| and L^SAM(w) ~ L(w) + rho |g|.  Writing e = rho (u cos th + v sin th)
   (u = g/|g|, v a unit vector orthogonal to u) and maximising L(w) + g.e + e.H e/2 + O(rho^3) over th,
   th* = rho (u.H v)/|g| + O(rho^2), so
     max - (L(w) + rho |g|)  = rho^2 u.H u / 2 + O(rho^3)      (exponent 2: the slide's "first-order" error)
     max - L(w + eps_hat)    = rho^3 (u.H v)^2 / (2 |g|) + O(rho^4)   (exponent 3 when u is not an eigenvector of H)
   The exact max is computed by scipy's SLSQP under |e|^2 <= rho^2, polished along the circle |e| = rho.

2. SAM on L = h w^2 / 2 (d = 1, full batch): w' = (1 - eta h) w - eta h rho sign(w) (g = h w, eps_hat = rho sign(w)).
   A 2-cycle w -> -w needs -A = (1 - eta h) A - eta h rho, i.e. A = eta h rho / (2 - eta h) (SymPy solve), which
   requires A > 0: 0 < eta h < 2.  On either branch the map has slope 1 - eta h, so | |w_(t+1)| - A | =
   |1 - eta h| | |w_t| - A | once the sign alternates: the cycle attracts every w != 0 at rate |1 - eta h|
   (the multiplier of the 2-cycle is (1 - eta h)^2 < 1); for eta h > 2 the iterates diverge.  w = 0 is a fixed
   point (g = 0 gives eps_hat = 0).  SAM therefore does not converge to the minimum at a constant rate: it
   ends at distance A from it, with loss h A^2 / 2.

3. 1-D landscape with a sharp minimum m_s, a barrier b and a flat minimum m_f (m_s < b < m_f).  In 1-D eps_hat =
   rho sign(L'(w)), so SAM's step is -eta G(w), G(w) = L'(w + rho sign L'(w)).  Its rest points solve
   w + rho sign L'(w) = a critical point of L with the matching sign: for b - m_s < rho < m_f - b this is the
   single point w = m_s + rho in (b, m_f) (there L' < 0, and w - rho = m_s), which attracts the starts in
   (-inf, b + rho) (G < 0 left of it, > 0 on (m_s + rho, b + rho)); w = b + rho repels; starts beyond b + rho
   reach a small cycle around m_f.  So SAM leaves the sharp basin from every start, but parks at m_s + rho (a
   point whose rho-ball has the sharp minimum at its edge), not at the flat minimum, for starts left of b + rho.
   Gradient descent (eta sup L'' < 1, so its map is increasing) ends in the basin it starts in (split at b).
   Sufficient conditions used (checked by ``landscape_conditions``): b - m_s < rho < m_f - b;
   eta sup L'' < 1 on [x_lo - rho, x_hi + rho] (every branch map increasing); eta sup |L'| < rho there (no
   jump across b + rho).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import sympy as sp
from numpy.polynomial import polynomial as P
from scipy import optimize

from ..errors import SgdTheoryError


# ---------------------------------------------------------------- 1. the max over the rho-ball
@dataclass(frozen=True)
class QuarticBowl:
    """L(w) = w.H w / 2 + q |w|^4 / 4 + c.w in d = 2 (smooth, non-quadratic; H symmetric)."""

    H: np.ndarray
    q: float
    c: np.ndarray

    def loss(self, w):
        w = np.asarray(w, dtype=np.float64)
        return 0.5 * w @ self.H @ w + 0.25 * self.q * (w @ w) ** 2 + self.c @ w

    def grad(self, w):
        w = np.asarray(w, dtype=np.float64)
        return self.H @ w + self.q * (w @ w) * w + self.c

    def hessian(self, w):
        w = np.asarray(w, dtype=np.float64)
        return self.H + self.q * ((w @ w) * np.eye(w.size) + 2.0 * np.outer(w, w))


def ball_max(f: QuarticBowl, w, rho: float) -> tuple[float, np.ndarray]:
    """max_{|e| <= rho} L(w + e) by SLSQP (constraint rho^2 - |e|^2 >= 0, started at eps_hat), then polished
    by a bounded scalar search over the angle on |e| = rho (d = 2); returns (max, argmax e)."""
    w = np.asarray(w, dtype=np.float64)
    g = f.grad(w)
    e0 = rho * g / np.linalg.norm(g)
    res = optimize.minimize(lambda e: -f.loss(w + e), e0, jac=lambda e: -f.grad(w + e), method="SLSQP",
                            constraints=[{"type": "ineq", "fun": lambda e: rho**2 - e @ e, "jac": lambda e: -2 * e}],
                            options={"ftol": 1e-15, "maxiter": 500})
    e = res.x
    ne = float(np.linalg.norm(e))
    if ne > rho:  # SLSQP tolerates a small constraint violation, which would overstate the max: project
        e = e * (rho / ne)
    best = (f.loss(w + e), e)
    # polish on the sphere |e| = rho, in the angle phi from eps_hat (small, so the search's relative
    # tolerance is fine), bracketing the SLSQP solution
    u = g / np.linalg.norm(g)
    v = np.array([-u[1], u[0]])
    on = lambda phi: rho * (u * np.cos(phi) + v * np.sin(phi))  # noqa: E731
    phi0 = float(np.arctan2(e @ v, e @ u))
    span = max(4 * abs(phi0), 1e-3)
    r = optimize.minimize_scalar(lambda phi: -f.loss(w + on(phi)), bounds=(phi0 - span, phi0 + span),
                                 method="bounded", options={"xatol": 1e-15})
    e2 = on(r.x)
    if f.loss(w + e2) > best[0]:
        best = (f.loss(w + e2), e2)
    return float(best[0]), best[1]


def approximation_errors(f: QuarticBowl, w, rhos) -> dict:
    """For each rho: exact max (``ball_max``), the linearisation L(w) + rho |g| and the plug-in L(w + eps_hat);
    errors max - linearisation (O(rho^2)) and max - plug-in (O(rho^3))."""
    w = np.asarray(w, dtype=np.float64)
    g = f.grad(w)
    gn = float(np.linalg.norm(g))
    out = {"rho": [], "max": [], "linear": [], "plugin": [], "err_linear": [], "err_plugin": []}
    for rho in rhos:
        mx, _ = ball_max(f, w, float(rho))
        lin = f.loss(w) + rho * gn
        plug = f.loss(w + rho * g / gn)
        for k, v in (("rho", rho), ("max", mx), ("linear", lin), ("plugin", plug), ("err_linear", mx - lin),
                     ("err_plugin", mx - plug)):
            out[k].append(float(v))
    return out


def leading_coefficients(f: QuarticBowl, w) -> tuple[float, float]:
    """(u.H u / 2, (u.H v)^2 / (2 |g|)): the predicted rho^2 and rho^3 coefficients."""
    g = f.grad(w)
    u = g / np.linalg.norm(g)
    v = np.array([-u[1], u[0]])
    H = f.hessian(w)
    return float(0.5 * u @ H @ u), float((u @ H @ v) ** 2 / (2 * np.linalg.norm(g)))


def richardson_slope(rhos, errs) -> tuple[float, float]:
    """Local log-log slopes s_k between consecutive rho (ratio 2 grid, decreasing rho); the slope converges
    linearly in rho (s_k = p + c rho_k + ...), so p ~ 2 s_K - s_(K-1) (Richardson, ratio 2), with the
    last change |s_K - s_(K-1)| as the uncertainty.  Returns (p, uncertainty)."""
    r = np.asarray(rhos, dtype=np.float64)
    e = np.asarray(errs, dtype=np.float64)
    if np.any(e <= 0):
        raise SgdTheoryError("slope: every error must be positive (a non-positive error means the optimiser "
                             "did not find the max)")
    s = np.diff(np.log(e)) / np.diff(np.log(r))
    return float(2 * s[-1] - s[-2]), float(abs(s[-1] - s[-2]))


# ---------------------------------------------------------------- 2. the 2-cycle on h w^2 / 2
def two_cycle_amplitude(eta: float, h: float, rho: float) -> float:
    """A = eta h rho / (2 - eta h) for 0 < eta h < 2 (else inf: no bounded cycle)."""
    x = eta * h
    return eta * h * rho / (2.0 - x) if 0.0 < x < 2.0 else np.inf


def sam_map_quadratic(w: float, eta: float, h: float, rho: float) -> float:
    """One GD-SAM step on h w^2/2 (plain numpy reference)."""
    return w - eta * h * (w + rho * np.sign(w))


@dataclass(frozen=True)
class SamDerivation:
    amplitude: sp.Expr
    multiplier: sp.Expr
    stable_interval: object
    loss_at_cycle: sp.Expr
    linear_error: sp.Expr
    plugin_error: sp.Expr

    def text(self) -> str:
        return "\n".join([
            "SAM (Foret et al. 2021, eq. 2-3; seed 000): eps_hat = rho g/|g|; w <- w - eta grad L_B(w + eps_hat).",
            "Max over the rho-ball, e = rho (u cos th + v sin th), L(w+e) = L + g.e + e.H e/2 + O(rho^3):",
            f"  max - (L + rho|g|) = {self.linear_error} + O(rho^3)     (order 2)",
            f"  max - L(w + eps_hat) = {self.plugin_error} + O(rho^4)   (order 3)",
            "2-cycle on L = h w^2/2: w' = (1 - eta h) w - eta h rho sign(w);  -A = (1 - eta h) A - eta h rho:",
            f"  A = {self.amplitude};  cycle multiplier {self.multiplier};  stable for eta h in {self.stable_interval};",
            f"  loss on the cycle h A^2/2 = {self.loss_at_cycle}",
            "1-D sharp/flat landscape: rest points of w -> w - eta L'(w + rho sign L'(w)) solve w + rho sign L'(w) = "
            "a critical point; for b - m_s < rho < m_f - b: w = m_s + rho (attracts starts < b + rho); "
            "w = b + rho repels; GD ends in its starting basin (split at b).",
        ])


@functools.lru_cache(maxsize=1)  # no arguments, a frozen record of SymPy expressions: derived once per process
def derive() -> SamDerivation:
    eta, h, rho, A, x = sp.symbols("eta h rho A x", positive=True)
    amp = sp.solve(sp.Eq(-A, (1 - eta * h) * A - eta * h * rho), A)[0]
    mult = sp.expand((1 - x) ** 2)
    stable = sp.solve_univariate_inequality(sp.Abs(1 - x) < 1, x, relational=False)
    rr, th, a, bb, c, gn = sp.symbols("rho theta a b c g", positive=True)
    # e = rho (cos th, sin th) in the (u, v) frame; H in that frame [[a, b], [b, c]]; |g| = gn
    val = gn * rr * sp.cos(th) + rr**2 / 2 * (a * sp.cos(th) ** 2 + 2 * bb * sp.cos(th) * sp.sin(th) + c * sp.sin(th) ** 2)
    th_star = sp.series(sp.solve(sp.diff(sp.series(val, th, 0, 3).removeO(), th), th)[0], rr, 0, 2).removeO()
    mx = sp.series(val.subs(th, th_star), rr, 0, 4).removeO()
    lin_err = sp.simplify(sp.series(mx - gn * rr, rr, 0, 3).removeO())
    plug_err = sp.simplify(sp.series(mx - val.subs(th, 0), rr, 0, 4).removeO())
    return SamDerivation(sp.simplify(amp), mult, stable, sp.simplify(h * amp**2 / 2), lin_err, plug_err)


# ---------------------------------------------------------------- 3. sharp and flat minima in 1-D
@dataclass(frozen=True)
class SharpFlatLandscape:
    """L'(w) = (w - m_s)(w - b)(w - m_f)((w - m_f)^2 + a^2) (degree 6 loss, L(0) = 0): minima m_s < m_f, barrier b;
    L''(m_s) = (m_s - b)(m_s - m_f)((m_s - m_f)^2 + a^2) is large, L''(m_f) = (m_f - m_s)(m_f - b) a^2 small for a
    small."""

    m_s: float = -1.0
    b: float = -0.7
    m_f: float = 1.0
    a: float = 0.3

    def __post_init__(self):
        if not self.m_s < self.b < self.m_f:
            raise SgdTheoryError(f"landscape: need m_s < b < m_f; got {self.m_s}, {self.b}, {self.m_f}")
        if not self.a > 0:
            raise SgdTheoryError(f"a = {self.a} is out of range: valid range is (0, inf)")

    @property
    def dL(self) -> np.ndarray:
        return P.polymul(P.polyfromroots([self.m_s, self.b, self.m_f]), [self.m_f**2 + self.a**2, -2 * self.m_f, 1.0])

    @property
    def coeffs(self) -> np.ndarray:
        return P.polyint(self.dL)

    def problem(self):
        from ..problems import PolynomialFiniteSum1D

        return PolynomialFiniteSum1D([self.coeffs], reference=self.m_f, name="sharp and flat minima (degree 6)")

    def curvatures(self) -> tuple[float, float]:
        d2 = P.polyder(self.dL)
        return float(P.polyval(self.m_s, d2)), float(P.polyval(self.m_f, d2))

    def landscape_conditions(self, eta: float, rho: float, x_lo: float, x_hi: float) -> list[str]:
        """The sufficient conditions of the module docstring that fail (empty: all hold)."""
        bad = []
        if not self.b - self.m_s < rho < self.m_f - self.b:
            bad.append(f"rho = {rho:g} must lie in (b - m_s, m_f - b) = ({self.b - self.m_s:g}, {self.m_f - self.b:g})")
        if not x_lo < self.m_s and self.m_f < x_hi:
            bad.append("starts: need x_lo < m_s and x_hi > m_f")
        xs = np.linspace(x_lo - rho, x_hi + rho, 4001)
        d2 = P.polyder(self.dL)
        sup2 = float(np.max(P.polyval(xs, d2)))
        sup1 = float(np.max(np.abs(P.polyval(xs, self.dL))))
        if not eta * sup2 < 1:
            bad.append(f"eta sup L'' = {eta * sup2:.3g} must be < 1 on [x_lo - rho, x_hi + rho]")
        if not eta * sup1 < rho:
            bad.append(f"eta sup |L'| = {eta * sup1:.3g} must be < rho on [x_lo - rho, x_hi + rho]")
        return bad

    def predicted_fractions(self, rho: float, x_lo: float, x_hi: float) -> dict:
        """Starts uniform on [x_lo, x_hi]: GD ends left of b with probability (b - x_lo)/(x_hi - x_lo); SAM never
        ends left of b, and ends at the flat minimum with probability (x_hi - b - rho)/(x_hi - x_lo)."""
        span = x_hi - x_lo
        return {"gd_sharp": (self.b - x_lo) / span, "gd_flat": (x_hi - self.b) / span, "sam_sharp": 0.0,
                "sam_parked": (self.b + rho - x_lo) / span, "sam_flat": (x_hi - self.b - rho) / span}

    def classify(self, w_final, rho: float) -> np.ndarray:
        """0: sharp basin (w < b); 1: SAM's rest point m_s + rho (b < w < midpoint to m_f); 2: near m_f."""
        w = np.asarray(w_final, dtype=np.float64)
        mid = 0.5 * (self.m_s + rho + self.m_f)
        return np.where(w < self.b, 0, np.where(w < mid, 1, 2))


__all__ = ["QuarticBowl", "ball_max", "approximation_errors", "leading_coefficients", "richardson_slope",
           "two_cycle_amplitude", "sam_map_quadratic", "derive", "SamDerivation", "SharpFlatLandscape"]
