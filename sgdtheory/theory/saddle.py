"""Escape from a strict saddle: exact laws of the first exit time of GD and SGD from a ball.

Source: seed 004 ("Stochastic Gradient Descent" bibliography, entries "Escaping From Saddle Points
-- Online Stochastic Gradient for Tensor Decomposition", Ge, Huang, Jin and Yuan 2015, and "Gradient
Descent Can Take Exponential Time to Escape Saddle Points", Du et al. 2017): gradient descent started
on the stable manifold of a strict saddle converges to the saddle; SGD's noise escapes it, and the
escape time grows only like log(1/noise)/lambda, lambda = |smallest Hessian eigenvalue|.

Setting (``problems.SaddleQuadratic``): L(w) = (w - w_s).H(w - w_s)/2 with H symmetric, non-singular,
exactly one negative eigenvalue -lam (an index-1 strict saddle), stable eigenvalues mu_i > 0, and the
gradient oracle H(w - w_s) + L xi with xi ~ N(0, I), L L^T = sigma^2 C.  In H's eigenbasis
(H = U diag(h) U^T, delta = U^T (w - w_s) = (u, v)) constant-step SGD is

    u_{k+1} = a u_k - eta n_k,          a   = 1 + eta lam > 1            (unstable coordinate)
    v_{k+1} = B v_k - eta m_k,          B   = diag(1 - eta mu_i), |1 - eta mu_i| < 1

with (n_k, m_k) ~ N(0, sigma^2 U^T C U) i.i.d.; sigma_u^2 = sigma^2 (U^T C U)_{uu}.  The exit time
is tau = min{k >= 1 : |delta_k| > R} (the engine's ``diverged_at`` with threshold R^2).

GD (sigma = 0).  From delta_0 = (0, v_0) the unstable coordinate is 0 for ever and
|delta_T|^2 = sum_i v_{0,i}^2 (1 - eta mu_i)^{2T} -> 0: GD converges to the saddle.  From
delta_0 = (eps, v_0) it leaves at the first k >= 1 with eps^2 a^{2k} + sum_i v_{0,i}^2 (1-eta mu_i)^{2k} > R^2,
i.e. ceil(log(R/eps)/log(1 + eta lam)) when v is negligible -- not log(R/eps)/(eta lam) (continuous time).

SGD from the saddle (delta_0 = 0).  u_k ~ N(0, s_k^2), s_k^2 = eta^2 sigma_u^2 (a^{2k} - 1)/(a^2 - 1), and

* upper bound (exact): {tau > k} is contained in {|u_k| <= R}, so P(tau > k) <= erf(R/(sqrt 2 s_k));
* lower bound: {tau > k} contains {|u_j| <= R', |v_j| <= rho for j <= k}, R'^2 = R^2 - rho^2.  Once
  |u_j| > R', |u_{j+1}| >= a R' - eta |n_j| > R' unless |n_j| > lam R', so
  P(|u_j| <= R' for all j <= k) >= P(|u_k| <= R') - (k - 1) erfc(lam R'/(sqrt 2 sigma_u)); and by
  Anderson's inequality P(|v_j| > rho) <= P(|v_oo| > rho) <= (d - 1) erfc(rho/sqrt(2 tr S)), with S the
  stationary covariance of v, S_il = eta^2 (sigma^2 U^T C U)_il / (1 - b_i b_l).

E tau = sum_{k>=0} P(tau > k), E tau^2 = sum_k (2k + 1) P(tau > k) and Var tau are therefore bracketed, and
the bracket is far narrower than any Monte Carlo interval when sigma << R (``exit_time_moments``; e.g.
3e-5 steps for E tau at sigma/R = 1e-2 on the default instance of claim A8).

Asymptotic law (sigma -> 0).  u_k = a^k Z_k with Z_k -> Z ~ N(0, s^2), s = eta sigma_u / sqrt(a^2 - 1),
and tau = floor(x) + 1 with x = (log R - log|Z|)/log a.  With E log|N(0,1)| = -(gamma + log 2)/2 and
Var log|N(0,1)| = pi^2/8 (SymPy, ``symbolic_laws``) and frac(x) ~ U(0,1) up to a periodic term of size
``periodic_bound`` (the Fourier coefficients |E|N|^{-2 pi i m/log a}| = sech(pi^2 m/log a)^{1/2}):

    E tau  = [log(R/s) + (gamma + log 2)/2] / log a + 1/2,     Var tau = pi^2/(8 log^2 a) + 1/12,

so E tau is linear in log(1/sigma) with slope 1/log(1 + eta lam) steps (eta/log(1 + eta lam) -> 1/lam
in time t = eta k: the "log(1/noise)/lambda" of the literature) and Var tau does not grow as sigma -> 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import special

from ..errors import SgdTheoryError

EULER_GAMMA = 0.57721566490153286060651209008240243
#: E log|N(0,1)| = -(gamma + log 2)/2 (SymPy: ``symbolic_laws``)
E_LOG_ABS_NORMAL = -(EULER_GAMMA + math.log(2.0)) / 2.0
#: Var log|N(0,1)| = pi^2/8 (SymPy: ``symbolic_laws``)
VAR_LOG_ABS_NORMAL = math.pi**2 / 8.0


@dataclass(frozen=True)
class EigenFrame:
    """H = U diag(h) U^T with h ascending; ``unstable`` = index of the (single) negative eigenvalue;
    ``C`` = U^T C U, the noise shape in the eigenbasis."""

    h: np.ndarray
    U: np.ndarray
    C: np.ndarray

    @property
    def lam(self) -> float:
        return float(-self.h[0])

    @property
    def mu(self) -> np.ndarray:
        return self.h[1:]

    @property
    def noise_u(self) -> float:
        """Variance of the noise along the unstable eigenvector per unit sigma^2, (U^T C U)_{uu}."""
        return float(self.C[0, 0])


def eigen_frame(H, C) -> EigenFrame:
    """Eigenbasis of an index-1 strict saddle (exactly one negative eigenvalue of H, put first)."""
    H = np.asarray(H, dtype=np.float64)
    C = np.asarray(C, dtype=np.float64)
    h, U = np.linalg.eigh(0.5 * (H + H.T))
    n_neg = int(np.sum(h < 0))
    if n_neg != 1:
        raise SgdTheoryError(f"H: the exit-time law needs exactly one negative eigenvalue (an index-1 saddle); "
                             f"H has {n_neg} (eigenvalues {np.round(h, 6).tolist()})")
    return EigenFrame(h, U, U.T @ (0.5 * (C + C.T)) @ U)


def escape_factor(eta: float, lam: float) -> float:
    """a = 1 + eta lam: the growth factor of the unstable coordinate per GD step."""
    return 1.0 + float(eta) * float(lam)


def asymptotic_slope(eta: float, lam: float) -> float:
    """d E tau / d log(1/sigma) = 1/log(1 + eta lam) steps per e-fold of the noise (sigma -> 0)."""
    return 1.0 / math.log1p(float(eta) * float(lam))


def continuous_slope(eta: float, lam: float) -> float:
    """The gradient-flow value 1/(eta lam) of the same slope (right only as eta lam -> 0): a control."""
    return 1.0 / (float(eta) * float(lam))


def limit_scale(eta: float, lam: float, sigma_u: float) -> float:
    """s = eta sigma_u / sqrt(a^2 - 1): the standard deviation of Z = lim a^{-k} u_k."""
    a = escape_factor(eta, lam)
    return float(eta) * float(sigma_u) / math.sqrt(a * a - 1.0)


def asymptotic_mean(eta: float, lam: float, sigma_u: float, R: float) -> float:
    """E tau ~ [log(R/s) + (gamma + log 2)/2]/log a + 1/2 as sigma_u/R -> 0 (module docstring)."""
    s = limit_scale(eta, lam, sigma_u)
    return (math.log(R / s) - E_LOG_ABS_NORMAL) / math.log1p(eta * lam) + 0.5


def asymptotic_intercept(eta: float, lam: float, noise_u: float, R: float) -> float:
    """E tau at log(1/sigma) = 0 on the asymptotic line (sigma_u = sigma sqrt(noise_u))."""
    return asymptotic_mean(eta, lam, math.sqrt(noise_u), R)


def asymptotic_variance(eta: float, lam: float) -> float:
    """Var tau ~ pi^2/(8 log^2 a) + 1/12 as sigma -> 0 (independent of sigma)."""
    return VAR_LOG_ABS_NORMAL / math.log1p(eta * lam) ** 2 + 1.0 / 12.0


def periodic_bound(eta: float, lam: float) -> float:
    """Bound on |E frac(x) - 1/2|, the periodic-in-log(sigma) part of E tau left out of ``asymptotic_mean``:
    sum_m |phi(2 pi m)|/(pi m), |phi(2 pi m)| = |Gamma((1 + i t)/2)|/sqrt(pi) = sech(pi t/2)^{1/2}, t = 2 pi m/log a."""
    la = math.log1p(eta * lam)
    total = 0.0
    for m in range(1, 200):
        z = math.pi**2 * m / la
        term = math.sqrt(2.0) * math.exp(-z / 2.0) / math.sqrt(1.0 + math.exp(-2.0 * z)) / (math.pi * m)
        total += term
        if term < 1e-18:
            break
    return total


def unstable_sd(eta: float, lam: float, sigma_u: float, k) -> np.ndarray:
    """s_k = sd(u_k) from u_0 = 0: eta sigma_u sqrt((a^{2k} - 1)/(a^2 - 1))."""
    a = escape_factor(eta, lam)
    k = np.asarray(k, dtype=np.float64)
    return eta * sigma_u * np.sqrt(np.expm1(2.0 * k * math.log(a)) / (a * a - 1.0))


def survival_upper(eta: float, lam: float, sigma_u: float, R: float, k) -> np.ndarray:
    """P(|u_k| <= R) = erf(R/(sqrt 2 s_k)) (1 at k = 0): an exact upper bound on P(tau > k)."""
    k = np.asarray(k)
    s = unstable_sd(eta, lam, sigma_u, np.maximum(k, 1))
    return np.where(k <= 0, 1.0, special.erf(R / (math.sqrt(2.0) * s)))


@dataclass(frozen=True)
class ExitMoments:
    """Rigorous brackets [low, high] of E tau, E tau^2 and Var tau of SGD started at the saddle."""

    mean_low: float
    mean_high: float
    second_low: float
    second_high: float
    var_low: float
    var_high: float
    n_terms: int
    rho: float

    @property
    def mean(self) -> float:
        return 0.5 * (self.mean_low + self.mean_high)

    @property
    def mean_gap(self) -> float:
        return self.mean_high - self.mean_low

    @property
    def var(self) -> float:
        return 0.5 * (self.var_low + self.var_high)

    @property
    def var_gap(self) -> float:
        return self.var_high - self.var_low


def _stable_trace(frame: EigenFrame, eta: float, sigma: float) -> float:
    b = 1.0 - eta * frame.mu
    return float(np.sum(eta**2 * sigma**2 * np.diag(frame.C)[1:] / (1.0 - b * b)))


def exit_time_moments(frame: EigenFrame, eta: float, sigma: float, R: float, horizon: int | None = None) -> ExitMoments:
    """Bracket E tau and E tau^2 (tau truncated at ``horizon`` + 1 if given) for SGD from the saddle.

    Upper: sum_k w_k P(|u_k| <= R) (+ a geometric tail bound when not truncated); lower: sum_k w_k
    max(0, P(|u_k| <= R') - (k-1) erfc(lam R'/(sqrt 2 sigma_u)) - k (d-1) erfc(rho/sqrt(2 tr S))), the best
    over a few rho; w_k = 1 for the mean, 2k + 1 for the second moment (module docstring).  Var tau =
    F(P) = sum (2k+1) P_k - (sum P_k)^2 is bracketed through its exact expansion around the midpoint P0
    of the survival bracket, F(P0 + D) = F(P0) + sum (2k + 1 - 2 sum P0) D_k - (sum D_k)^2 with
    |D_k| <= half the bracket width (much tighter than combining the E tau^2 and E tau brackets).
    With ``horizon`` = n the moments are those of min(tau, n + 1), what a run of n steps observes.
    """
    lam, d = frame.lam, frame.h.size
    sigma_u = sigma * math.sqrt(frame.noise_u)
    if not (eta > 0 and sigma > 0 and R > 0 and sigma_u > 0):
        raise SgdTheoryError("exit_time_moments: need eta, sigma, R and the unstable noise variance > 0")
    a = escape_factor(eta, lam)
    la = math.log(a)
    # terms until P(|u_k| <= R) <= sqrt(2/pi) R/s_k is below 1e-22
    k_star = math.log(R / limit_scale(eta, lam, sigma_u)) / la
    n_terms = int(math.ceil(k_star + 52.0 * math.log(10.0) / la)) + 2
    if horizon is not None:
        n_terms = min(n_terms, int(horizon) + 1)
    k = np.arange(n_terms)
    w2 = 2.0 * k + 1.0
    up = survival_upper(eta, lam, sigma_u, R, k)
    tail1 = tail2 = 0.0
    if horizon is None or n_terms < int(horizon) + 1:
        # tail k >= K: P <= c q^k, c q^K = sqrt(2/pi) R/s_K, q = 1/a
        q = 1.0 / a
        cK = math.sqrt(2.0 / math.pi) * R / float(unstable_sd(eta, lam, sigma_u, n_terms))
        tail1 = cK / (1.0 - q)
        tail2 = cK * ((2.0 * n_terms + 1.0) / (1.0 - q) + 2.0 * q / (1.0 - q) ** 2)
    trS = _stable_trace(frame, eta, sigma)
    best = None
    for z in (4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 12.0):
        rho = z * math.sqrt(2.0 * trS)
        if rho >= R:
            continue
        Rp = math.sqrt(R * R - rho * rho)
        e_u = float(special.erfc(lam * Rp / (math.sqrt(2.0) * sigma_u)))
        p_v = (d - 1) * float(special.erfc(z))
        low = survival_upper(eta, lam, sigma_u, Rp, k) - np.maximum(k - 1, 0) * e_u - k * p_v
        low = np.where(k == 0, 1.0, np.clip(low, 0.0, 1.0))
        if best is None or low.sum() > best[0].sum():
            best = (low, rho)
    if best is None:
        raise SgdTheoryError("sigmas: the noise is too large for the radius R: no exit-time bracket exists")
    low, rho = best
    # Var = F(P) = sum (2k+1) P_k - (sum P_k)^2 is quadratic in the survival function P: around the
    # midpoint P0 of the bracket, F(P0 + D) = F(P0) + sum g_k D_k - (sum D_k)^2, g_k = 2k + 1 - 2 sum P0
    P0, D = 0.5 * (low + up), 0.5 * (up - low)
    m0 = float(P0.sum())
    f0 = float((w2 * P0).sum()) - m0 * m0
    lin = float((np.abs(w2 - 2.0 * m0) * D).sum())
    var_high = f0 + lin + tail2
    var_low = f0 - lin - float(D.sum()) ** 2 - 2.0 * (float(up.sum()) + tail1) * tail1
    mean_low, second_low = float(low.sum()), float((w2 * low).sum())
    mean_high, second_high = float(up.sum()) + tail1, float((w2 * up).sum()) + tail2
    return ExitMoments(mean_low, mean_high, second_low, second_high, var_low, var_high, int(n_terms), float(rho))


def horizon_for(frame: EigenFrame, eta: float, sigma: float, R: float, n_paths: int, p_miss: float = 1e-12) -> int:
    """A number of steps n with n_paths * P(tau > n) <= p_miss (from the exact upper bound)."""
    sigma_u = sigma * math.sqrt(frame.noise_u)
    la = math.log1p(eta * frame.lam)
    k = int(math.ceil(math.log(R / limit_scale(eta, frame.lam, sigma_u)) / la))
    while survival_upper(eta, frame.lam, sigma_u, R, k) * n_paths > p_miss:
        k += 5
    return k


# -- gradient descent: exact -------------------------------------------------------------------------


def gd_distance(eta: float, h, delta0, T: int) -> float:
    """|delta_T| of GD in the eigenbasis: delta_T,i = (1 - eta h_i)^T delta_0,i (mpmath, 50 digits)."""
    import mpmath

    with mpmath.workdps(50):
        e = mpmath.mpf(eta)
        tot = mpmath.mpf(0)
        for hi, di in zip(np.asarray(h, dtype=float), np.asarray(delta0, dtype=float)):
            tot += (mpmath.mpf(di) * (1 - e * mpmath.mpf(hi)) ** int(T)) ** 2
        return float(mpmath.sqrt(tot))


def gd_exit_step(eta: float, h, delta0, R: float, max_steps: int = 100000) -> tuple[int, float]:
    """First k >= 1 with sum_i delta_0,i^2 (1 - eta h_i)^{2k} > R^2 (GD in the eigenbasis), exactly
    (mpmath, 50 digits), and the relative margin min over k in {tau - 1, tau} of |delta_k|^2/R^2 - 1|
    (a float64 run agrees with the exact step when the margin is far above rounding, ~1e-13)."""
    import mpmath

    with mpmath.workdps(50):
        e, R2 = mpmath.mpf(eta), mpmath.mpf(R) ** 2
        fac = [(1 - e * mpmath.mpf(hi)) ** 2 for hi in np.asarray(h, dtype=float)]
        sq = [mpmath.mpf(di) ** 2 for di in np.asarray(delta0, dtype=float)]
        prev = abs(sum(sq) / R2 - 1)
        for k in range(1, max_steps + 1):
            sq = [s * f for s, f in zip(sq, fac)]
            r = sum(sq) / R2
            if r > 1:
                return k, float(min(prev, abs(r - 1)))
            prev = abs(r - 1)
    raise SgdTheoryError(f"gd_offset: GD does not leave the ball within {max_steps} steps")


def gd_exit_step_continuous(eta: float, lam: float, eps: float, R: float) -> int:
    """The gradient-flow guess ceil(log(R/eps)/(eta lam)) (u(t) = eps e^{lam t}, t = eta k): a control."""
    return int(math.ceil(math.log(R / eps) / (eta * lam)))


# -- symbolic layer -----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def symbolic_laws() -> dict:
    """SymPy: E log|N|, Var log|N| for N ~ N(0, 1), and the asymptotic E tau, slope and Var tau."""
    import sympy

    x = sympy.Symbol("x", positive=True)
    phi = sympy.exp(-x**2 / 2) / sympy.sqrt(2 * sympy.pi)
    m1 = sympy.simplify(2 * sympy.integrate(sympy.log(x) * phi, (x, 0, sympy.oo)))
    m2 = sympy.simplify(2 * sympy.integrate(sympy.log(x) ** 2 * phi, (x, 0, sympy.oo)))
    var = sympy.simplify(m2 - m1**2)
    eta, lam, sig, R = sympy.symbols("eta lambda sigma_u R", positive=True)
    a = 1 + eta * lam
    s = eta * sig / sympy.sqrt(a**2 - 1)
    mean = (sympy.log(R / s) - m1) / sympy.log(a) + sympy.Rational(1, 2)
    slope = sympy.simplify(sympy.diff(mean, sig) * (-sig))
    return {"E_log_abs_normal": m1, "Var_log_abs_normal": var, "mean": mean, "slope": slope,
            "variance": var / sympy.log(a) ** 2 + sympy.Rational(1, 12),
            "slope_small_eta": sympy.limit(slope * eta, eta, 0)}


def derivation_text(eta: float, lam: float, mu, noise_u: float, R: float) -> str:
    """The derivation printed by ``sgdtheory derive A8``."""
    import sympy

    L = symbolic_laws()
    a = escape_factor(eta, lam)
    lines = [
        f"Index-1 saddle in H's eigenbasis: unstable eigenvalue -lambda = {-lam:.6g}, stable mu = "
        f"{np.round(np.asarray(mu), 6).tolist()}, eta = {eta:.6g}, a = 1 + eta lambda = {a:.6g}, R = {R:.6g}",
        "GD from the stable manifold (u_0 = 0): u_k = a^k u_0 = 0 for all k; "
        "|delta_T|^2 = sum v_i^2 (1 - eta mu_i)^(2T) -> 0",
        "GD from u_0 = eps: exits at the first k with eps^2 a^(2k) + |v_k|^2 > R^2 ~ ceil(log(R/eps)/log a)"
        " (gradient flow would say log(R/eps)/(eta lambda))",
        "SGD from the saddle: u_k = a^k Z_k, Z_k -> Z ~ N(0, s^2), s = eta sigma_u/sqrt(a^2 - 1); tau = floor(x) + 1,"
        " x = (log R - log|Z|)/log a",
        f"  SymPy: E log|N(0,1)| = {L['E_log_abs_normal']},  Var log|N(0,1)| = {L['Var_log_abs_normal']}",
        f"  E tau ~ {sympy.simplify(L['mean'])}",
        f"  d E tau / d log(1/sigma_u) = {L['slope']} = {asymptotic_slope(eta, lam):.6g} steps "
        f"(gradient-flow value 1/(eta lambda) = {continuous_slope(eta, lam):.6g}); in time t = eta k: "
        f"eta/log(1 + eta lambda) -> {L['slope_small_eta']} as eta -> 0",
        f"  Var tau ~ {L['variance']} = {asymptotic_variance(eta, lam):.6g} (independent of sigma)",
        f"  periodic correction to E tau (Fourier, frac(x) not exactly uniform) <= {periodic_bound(eta, lam):.3g} steps",
        "Finite sigma: P(tau > k) bracketed by erf(R/(sqrt2 s_k)) above and the R' = sqrt(R^2 - rho^2) version"
        " minus return and stable-direction probabilities below (exit_time_moments)",
    ]
    return "\n".join(lines)


__all__ = ["EigenFrame", "eigen_frame", "escape_factor", "asymptotic_slope", "continuous_slope", "limit_scale",
           "asymptotic_mean", "asymptotic_intercept", "asymptotic_variance", "periodic_bound", "unstable_sd",
           "survival_upper", "ExitMoments", "exit_time_moments", "horizon_for", "gd_distance", "gd_exit_step",
           "gd_exit_step_continuous", "symbolic_laws", "derivation_text", "E_LOG_ABS_NORMAL", "VAR_LOG_ABS_NORMAL"]
