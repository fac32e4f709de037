"""The loss of SGD as a supermartingale: the exact one-step conditional expectation on a quadratic,
the region where descent in expectation fails, and the Robbins-Siegmund correction.

Sources: seed 000 (Huszar), section "Convergence" (the loss "forms a super-martingale"); seed 002
(lecture 4 slides: supermartingale); Robbins & Siegmund (1971), "A convergence theorem for non
negative almost supermartingales"; CLAIMS.md A3.

Setting: a quadratic finite sum at its minimiser w* (per-example gradients g_i + H_i Delta, mean_i g_i
= 0, Delta = w - w*), i.i.d. minibatches with noise factor c_B, V(w) = L(w) - L* = Delta.Hbar Delta/2.
Because L is quadratic and E[g_B | w] = grad L(w) = Hbar Delta,

  E[V(w - eta g_B) | w] - V(w) = -eta |grad L|^2 + (eta^2/2) (grad L.Hbar grad L + c_B tr(Hbar Sigma(w)))   (1)

with Sigma(w) = mean_i (g_i + (H_i - Hbar) Delta)(g_i + (H_i - Hbar) Delta)^T the per-example gradient
covariance at w.  At w* the first two terms vanish and (1) equals (eta^2/2) c_B tr(Hbar Sigma(w*)) > 0:
with constant eta, descent in expectation fails in a neighbourhood of the minimum, whose boundary is
the zero set of (1) (a quadric in Delta; along a ray Delta = r u, a quadratic in r).

Robbins-Siegmund constants.  For eta <= 1/lambda_max(Hbar), grad L.Hbar grad L <= lambda_max |grad L|^2
gives -eta|grad L|^2 + eta^2/2 grad L.Hbar grad L <= -(eta/2)|grad L|^2, and
tr(Hbar Sigma(w)) <= 2 a0 + 2 Delta.Q Delta <= 2 a0 + 4 q V with a0 = mean_i g_i.Hbar g_i,
Q = mean_i (H_i - Hbar) Hbar (H_i - Hbar), q = the largest eigenvalue of the pencil (Q, Hbar).  Hence

  E[V_{t+1} | w_t] <= (1 + a_t) V_t + b_t - (eta_t/2) |grad L(w_t)|^2,  a_t = 2 q c_B eta_t^2,  b_t = c_B a0 eta_t^2,

and with P_t = prod_{s<t} (1 + a_s) the corrected loss U_t = V_t/P_t + sum_{s>=t} b_s/P_{s+1} satisfies
E[U_{t+1} | w_t] <= U_t - (eta_t/2)|grad L|^2/P_{t+1}: a non-negative supermartingale when
sum eta_t^2 < infinity (then P_infinity and the tail sums are finite), so U_t, hence V_t, converges
almost surely, and sum eta_t |grad L|^2 < infinity forces the limit of V_t to be 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.special

from ..errors import SgdTheoryError
from ..problems import QuadraticFiniteSum
from ..schedules import Power


def gradient_covariance(problem: QuadraticFiniteSum, delta) -> np.ndarray:
    """Sigma(w) = per-example gradient covariance at w = w* + delta (``problem`` at its minimum)."""
    D = problem.gradients(problem.minimizer + np.asarray(delta, dtype=np.float64))
    D = D - D.mean(axis=0)
    return D.T @ D / D.shape[0]


def expected_loss_change(problem: QuadraticFiniteSum, c_B: float, delta, eta: float) -> float:
    """Equation (1): E[L(w - eta g_B) | w] - L(w) at w = w* + delta, exactly."""
    Hbar = problem.mean_hessian
    grad = Hbar @ np.asarray(delta, dtype=np.float64)
    sigma = gradient_covariance(problem, delta)
    return float(-eta * grad @ grad + 0.5 * eta**2 * (grad @ Hbar @ grad + c_B * np.sum(Hbar * sigma)))


def loss_change_scale(problem: QuadraticFiniteSum, c_B: float, delta, eta: float) -> float:
    """Sum of the magnitudes of the terms of (1): the scale a relative resolution refers to."""
    Hbar = problem.mean_hessian
    grad = Hbar @ np.asarray(delta, dtype=np.float64)
    sigma = gradient_covariance(problem, delta)
    return float(eta * grad @ grad + 0.5 * eta**2 * (grad @ Hbar @ grad + c_B * np.sum(Hbar * sigma)))


def radial_coefficients(problem: QuadraticFiniteSum, c_B: float, u, eta: float) -> np.ndarray:
    """(1) along the ray delta = r u is k2 r^2 + k1 r + k0; returns (k2, k1, k0)."""
    u = np.asarray(u, dtype=np.float64)
    Hbar = problem.mean_hessian
    p0 = problem.at_minimum()
    G = p0.g - p0.g.mean(axis=0)
    Du = np.einsum("iab,b->ia", p0.H, u) - Hbar @ u  # (H_i - Hbar) u
    k0 = 0.5 * eta**2 * c_B * np.mean(np.einsum("ia,ab,ib->i", G, Hbar, G))
    k1 = 0.5 * eta**2 * c_B * 2.0 * np.mean(np.einsum("ia,ab,ib->i", G, Hbar, Du))
    Hu = Hbar @ u
    k2 = -eta * Hu @ Hu + 0.5 * eta**2 * (Hu @ Hbar @ Hu + c_B * np.mean(np.einsum("ia,ab,ib->i", Du, Hbar, Du)))
    return np.array([k2, k1, k0])


def boundary_radius(problem: QuadraticFiniteSum, c_B: float, u, eta: float) -> float:
    """The r > 0 where (1) changes sign along delta = r u (descent beyond it), or inf if none."""
    k2, k1, k0 = radial_coefficients(problem, c_B, u, eta)
    if k2 >= 0:
        return float("inf")
    roots = np.roots([k2, k1, k0])
    pos = [float(r.real) for r in roots if abs(r.imag) < 1e-12 and r.real > 0]
    return min(pos) if pos else float("inf")


@dataclass(frozen=True)
class SiegmundConstants:
    """a_t = alpha eta_t^2 and b_t = beta eta_t^2 of the Robbins-Siegmund inequality (module docstring)."""

    alpha: float  # 2 q c_B
    beta: float  # c_B a0
    eta_max: float  # 1/lambda_max(Hbar): the inequality needs eta_t <= eta_max

    @classmethod
    def of(cls, problem: QuadraticFiniteSum, c_B: float) -> SiegmundConstants:
        p0 = problem.at_minimum()
        Hbar = p0.mean_hessian
        D = p0.H - Hbar
        Q = np.einsum("iab,bc,icd->ad", D, Hbar, D) / p0.n
        q = float(scipy.linalg.eigh(Q, Hbar, eigvals_only=True)[-1])
        G = p0.g - p0.g.mean(axis=0)
        a0 = float(np.mean(np.einsum("ia,ab,ib->i", G, Hbar, G)))
        return cls(2.0 * q * c_B, c_B * a0, 1.0 / float(np.linalg.eigvalsh(Hbar)[-1]))

    def correction(self, schedule: Power, steps) -> tuple[np.ndarray, np.ndarray, float]:
        """(P_t, R_t = sum_{s>=t} b_s/P_{s+1}, tail_error) at each step t in ``steps``, for eta_t = c/(t0 + t)^p, p > 1/2.

        Sums run exactly to S = 10 max(steps) + 10^6; beyond S, P_s lies in [P_S, P_S exp(A_S)] with
        A_S = alpha c^2 zeta(2p, t0 + S) (Hurwitz zeta), so the tail beta c^2 zeta(2p, t0 + S)/P_{s+1} is
        taken at P_S exp(A_S / 2); ``tail_error`` = A_S bounds its relative error.
        """
        if schedule.p <= 0.5:
            raise SgdTheoryError(f"schedule.p = {schedule.p}: the Robbins-Siegmund correction needs "
                                 "sum eta_t^2 < infinity, i.e. p > 1/2")
        steps = np.asarray(steps, dtype=np.int64)
        S = int(10 * steps.max() + 1_000_000)
        eta2 = schedule(np.arange(S)) ** 2
        log_p = np.concatenate([[0.0], np.cumsum(np.log1p(self.alpha * eta2))])  # log P_t, t = 0..S
        b_over_p = self.beta * eta2 / np.exp(log_p[1:])  # b_s / P_{s+1}, s = 0..S-1
        zeta = float(scipy.special.zeta(2 * schedule.p, schedule.t0 + S)) * schedule.c**2
        a_tail = self.alpha * zeta
        tail = self.beta * zeta / np.exp(log_p[S] + 0.5 * a_tail)
        suffix = np.concatenate([np.cumsum(b_over_p[::-1])[::-1], [0.0]]) + tail  # R_t, t = 0..S
        return np.exp(log_p[steps]), suffix[steps], a_tail


__all__ = ["gradient_covariance", "expected_loss_change", "loss_change_scale", "radial_coefficients",
           "boundary_radius", "SiegmundConstants"]
