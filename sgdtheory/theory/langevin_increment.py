"""The Langevin increment of SGD over a time Delta t = k eta (seed 003, McAllester, slides "Langevin
Dynamics" and "Langevin Dynamics (Without Annealing)").

With the gradient frozen at Phi over the window (the slide's assumption "small enough so that the
gradient does not change"), k = Delta t/eta SGD steps move Phi by
    D = -eta sum_{j<k} g_B,j = -g Delta t - eta sum_{j<k} (g_B,j - g),
so E D = -g Delta t and Cov D = eta^2 k Sigma_B = eta Delta t Sigma_B exactly (Sigma_B = c_B Sigma, the
minibatch gradient covariance): the increment is sqrt(eta) sqrt(Delta t) eps, eps ~ N(0, Sigma_B) -- the
first slide.  The "without annealing" slide prints sqrt(Delta t) eta eps, whose variance
Delta t eta^2 Sigma_B has exponent 2 in eta at fixed Delta t (CLAIMS.md erratum E5).

Without freezing (real SGD on a quadratic), the exact covariance after k steps from w_0 is
tr(S_k - m_k m_k^T) from the moment recursion (``theory.sgd_moments``); at fixed Delta t it is
eta V(Delta t) + O(eta^2) with V(Delta t) = int_0^Delta t e^{-Hbar s} Sigma_B(Phi(s)) e^{-Hbar s} ds,
so the exponent is still 1 as eta -> 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp
from scipy import integrate


@dataclass(frozen=True)
class IncrementDerivation:
    variance_k_steps: sp.Expr  # Var of eta sum_{j<k} xi_j with k = dt/eta, Var xi = sigma^2
    corrected: sp.Expr  # Var of sqrt(eta) sqrt(dt) eps
    printed: sp.Expr  # Var of sqrt(dt) eta eps
    corrected_matches: bool
    printed_ratio: sp.Expr  # printed / true
    corrected_exponent: sp.Expr  # d log Var / d log eta at fixed dt
    printed_exponent: sp.Expr
    limit_corrected: sp.Expr  # eta -> 0
    limit_printed: sp.Expr

    def text(self) -> str:
        return "\n".join([
            "Frozen gradient over dt = k eta: D = -g dt - eta sum_{j<k} (g_B,j - g) (seed 003):",
            f"  Var(eta sum_(j<k) xi_j), k = dt/eta:  {self.variance_k_steps}",
            f"  slide 'Langevin Dynamics':  sqrt(eta) sqrt(dt) eps -> Var {self.corrected}; equal: {self.corrected_matches};"
            f" exponent in eta {self.corrected_exponent}",
            f"  slide 'Without Annealing':  sqrt(dt) eta eps -> Var {self.printed}; printed/true = {self.printed_ratio};"
            f" exponent in eta {self.printed_exponent}  (erratum E5)",
            f"  eta -> 0: corrected Var -> {self.limit_corrected}, printed Var -> {self.limit_printed}"
            " (both vanish: 'back to gradient flow' holds either way and does not tell them apart)",
        ])


def derive() -> IncrementDerivation:
    eta, dt, sigma2 = sp.symbols("eta Delta_t sigma2", positive=True)
    k = dt / eta
    var_k = sp.simplify(eta**2 * k * sigma2)  # k iid terms of variance sigma^2, scaled by eta
    corrected = sp.simplify((sp.sqrt(eta) * sp.sqrt(dt)) ** 2 * sigma2)
    printed = sp.simplify((sp.sqrt(dt) * eta) ** 2 * sigma2)

    def exponent(v):
        return sp.simplify(eta * sp.diff(v, eta) / v)

    return IncrementDerivation(
        variance_k_steps=var_k, corrected=corrected, printed=printed,
        corrected_matches=bool(sp.simplify(var_k - corrected) == 0),
        printed_ratio=sp.simplify(printed / var_k),
        corrected_exponent=exponent(corrected), printed_exponent=exponent(printed),
        limit_corrected=sp.limit(corrected, eta, 0), limit_printed=sp.limit(printed, eta, 0),
    )


def langevin_covariance(G, H, batch_factor: float, delta0, dt: float) -> np.ndarray:
    """V(dt) = int_0^dt e^{-Hbar (dt-s)} c_B Sigma(phi(s)) e^{-Hbar (dt-s)} ds on a quadratic finite sum.

    The first-order (in eta) covariance of SGD's displacement over the time dt without freezing the
    gradient: Cov(w_k) = eta V(dt) + O(eta^2) at k = dt/eta (the linearised Langevin SDE
    d Phi = -grad L dt + sqrt(eta) Sigma_B(Phi)^(1/2) dW of seed 003, covariance ODE
    V' = -Hbar V - V Hbar + c_B Sigma(phi(s)), V(0) = 0, along the gradient flow phi(s) = w* + e^{-Hbar s} delta0).
    Per-example gradients at w* + delta are g_i + H_i delta (G: (n, d), H: (n, d, d), rows of G averaging 0).
    Integrated with scipy's DOP853 at rtol 1e-11.
    """
    G = np.asarray(G, dtype=np.float64)
    H = np.asarray(H, dtype=np.float64)
    n, d = G.shape
    Hbar = H.mean(axis=0)
    delta0 = np.asarray(delta0, dtype=np.float64)

    def rhs(_s, y):
        delta, V = y[:d], y[d:].reshape(d, d)
        g = G + np.einsum("iab,b->ia", H, delta)
        gc = g - g.mean(axis=0)
        sigma = gc.T @ gc / n
        dV = -Hbar @ V - V @ Hbar + batch_factor * sigma
        return np.concatenate([-Hbar @ delta, dV.ravel()])

    sol = integrate.solve_ivp(rhs, (0.0, float(dt)), np.concatenate([delta0, np.zeros(d * d)]), method="DOP853",
                              rtol=1e-11, atol=1e-14)
    return sol.y[d:, -1].reshape(d, d)
