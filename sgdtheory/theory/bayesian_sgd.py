r"""Constant SGD as approximate Bayesian inference (claim B8): Mandt, Hoffman & Blei (2017).

Source: seed ``004`` (annotated bibliography) links S. Mandt, M. D. Hoffman, D. M. Blei, "Stochastic Gradient
Descent as Approximate Bayesian Inference", JMLR 18(134):1-35, 2017, arXiv:1704.04289.  Section 3 ("Continuous-
time limit revisited"), Section 4 ("SGD as approximate inference"), Theorem 1 (optimal constant learning rate) and
Theorem 2 (optimal preconditioner); the diagonal form is "Theorem 2, Corollary 1" in TensorFlow Probability's
``VariationalSGD``, which implements it as ``2 S / (N diag(BB^T))``.

.. note:: The full text of the paper was not reachable from this machine (only its abstract and introduction),
   so equation numbers are not cited; statements are cited by section and theorem and every formula below is
   re-derived (and checked in SymPy).  Independent confirmation of the conventions: TensorFlow Probability's
   ``VariationalSGD`` (tensorflow_probability/python/optimizer/variational_sgd.py) implements "Theorem 2
   Corollary 1 of Mandt et al. 2017" as the per-coordinate rate ``2 S / (N * S Var(g_k))`` for a loss "taken as
   the mean over a minibatch" (S Var(g_k) = (BB^T)_kk, the per-example variance), and with
   ``use_single_learning_rate`` it averages the diagonal: ``2 S / (N tr(BB^T)/d)`` = Theorem 1's eps*.

Conventions (paper, Section 3)
------------------------------
* Loss = the **mean** over the N examples: :math:`\mathcal L(\theta) = -\frac1N\sum_n \log p(x_n|\theta)
  - \frac1N\log p(\theta)`; the posterior is :math:`p(\theta|x) \propto \exp\{-N\mathcal L(\theta)\}`.
* Minibatch of S examples: :math:`\hat g_S = g(\theta) + \frac1{\sqrt S}\Delta g`, :math:`\Delta g \sim
  N(0, BB^\top)`: :math:`BB^\top` is the *per-example* gradient-noise covariance (assumed constant).
* Constant SGD :math:`\theta_{t+1} = \theta_t - \epsilon\hat g_S`; near the optimum
  :math:`\mathcal L = \tfrac12\theta^\top A\theta`, so the SDE with one time unit per step is the
  Ornstein-Uhlenbeck process :math:`d\theta = -\epsilon A\theta\,dt + \frac{\epsilon}{\sqrt S}B\,dW`.
* Its stationary law is :math:`q = N(0, \Sigma)` with :math:`A\Sigma + \Sigma A = \frac{\epsilon}{S}BB^\top`.
* The posterior (quadratic approximation) is :math:`f = N(0, (NA)^{-1})`: precision :math:`P = NA`.

In sgdtheory this is ``problems.GaussianNoiseQuadratic(H = A, C = BB^T)`` with batch size B = S: the gradient
oracle is :math:`A\delta + \xi`, :math:`\xi \sim N(0, C/S)`, and SGD is *exactly* the linear chain
:math:`\delta_{t+1} = (I - \epsilon A)\delta_t - \epsilon\xi_t` (no continuous-time approximation).

KL divergence and Theorem 1
---------------------------
For Gaussians, :math:`\mathrm{KL}(q\|f) = \tfrac12[\mathrm{tr}(P\Sigma) - d - \log\det(P\Sigma)]`.  The
continuous (OU) covariance is linear in the step, :math:`\Sigma_c(\epsilon) = \epsilon\Sigma_1` with
:math:`A\Sigma_1 + \Sigma_1A = BB^\top/S`, and the trace of the Lyapunov equation gives
:math:`2\,\mathrm{tr}(A\Sigma_c) = \frac{\epsilon}{S}\mathrm{tr}(BB^\top)`, so :math:`\mathrm{tr}(P\Sigma_c)
= N\,\mathrm{tr}(A\Sigma_c) = \frac{\epsilon N}{2S}\mathrm{tr}(BB^\top)` whatever the shape of the noise.
Hence (closed form, symbolic in d, S, N, :math:`\tau = \mathrm{tr}\,BB^\top`)

.. math:: \mathrm{KL}_c(\epsilon) = \tfrac12\Big[\frac{\epsilon N\tau}{2S} - d - d\log\epsilon
          - \log\det(NA\Sigma_1)\Big],\qquad
          \epsilon^* = \frac{2dS}{N\tau}\quad\text{(Theorem 1)},

the unique root of :math:`\partial_\epsilon\mathrm{KL}_c`, with :math:`\partial^2_\epsilon\mathrm{KL}_c =
d/(2\epsilon^2) > 0`.  At :math:`\epsilon^*`, :math:`\mathrm{tr}(P\Sigma_c) = d` exactly and
:math:`\mathrm{KL}_c(\epsilon^*) = -\tfrac12\log\det(P\Sigma_c(\epsilon^*)) \ge 0`, zero iff
:math:`\Sigma_c(\epsilon^*) = P^{-1}`, i.e. iff :math:`A P^{-1} + P^{-1}A = \frac2N I = \frac{\epsilon^*}{S}
BB^\top`: **iff the noise is isotropic, BB^T ∝ I** (the same algebra as claim B2's Boltzmann condition).
For :math:`BB^\top = cA` (noise ∝ Hessian, the Fisher-identity case) :math:`\Sigma_c = \frac{\epsilon c}{2S}I`
is isotropic, *not* :math:`(NA)^{-1}` unless :math:`A \propto I`.

Discrete chain (exact).  The chain's true stationary covariance solves the discrete Lyapunov equation
:math:`\Sigma = (I - \epsilon A)\Sigma(I - \epsilon A) + \epsilon^2 BB^\top/S`
(``theory.lyapunov.discrete_covariance``) :math:`= \epsilon\Sigma_1 + \epsilon^2\Sigma_2 + O(\epsilon^3)`,
:math:`A\Sigma_2 + \Sigma_2A = A\Sigma_1A`; so :math:`\mathrm{KL}_d(\epsilon)` differs from the closed form at
:math:`O(\epsilon\lambda)`.  For :math:`BB^\top = cI`:
:math:`\Sigma_d(\epsilon^*) = (NA)^{-1}(I - \epsilon^*A/2)^{-1}` exactly, i.e. the whitened covariance
:math:`W = P^{1/2}\Sigma P^{1/2}` is :math:`(I - \epsilon^*A/2)^{-1} = I + \epsilon^*A/2 + O(\epsilon^{*2})`:
the posterior is matched to first order only.  The exact discrete minimiser :math:`\epsilon_d^*` (scipy
``minimize_scalar``) satisfies, to first order,

.. math:: \epsilon_d^* = \epsilon^*\Big(1 - \frac{\epsilon^*}{d}\big(2\epsilon^*\mathrm{tr}(P\Sigma_2)
          - \mathrm{tr}(\Sigma_1^{-1}\Sigma_2)\big)\Big) + O(\epsilon^{*3}),

(:math:`= \epsilon^*(1 - \epsilon^*\mathrm{tr}A/(2d))` for :math:`BB^\top \propto I`).

Preconditioned SGD (Theorem 2).  :math:`\theta \leftarrow \theta - \epsilon H\hat g_S` has the OU covariance
:math:`HA\Sigma + \Sigma AH = \frac{\epsilon}{S}HBB^\top H`; with :math:`H^* = \frac{2S}{\epsilon N}(BB^\top)^{-1}`
the right side is :math:`\frac2N H^*` and :math:`\Sigma = (NA)^{-1}` solves it for *any* B: the OU law equals
the posterior.  The discrete chain :math:`\Sigma = M\Sigma M^\top + \epsilon^2 H^*BB^\top H^*/S`,
:math:`M = I - \epsilon H^*A`, again differs at :math:`O(\epsilon H^*A)`.

Monte Carlo statistics (linear in the second moments, so a mean over independent paths has an honest interval):
:math:`\mathrm{tr}(P\Sigma)/d = E[\theta^\top P\theta]/d` (the KL's trace term, 1 at :math:`\epsilon^*` in the
continuous model for every B), whitened entries :math:`W_{ij}` (posterior: :math:`\delta_{ij}`), and the KL
itself through its delta-method linearisation in :math:`\Sigma` (``kl_influence``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.optimize

from ..errors import SgdTheoryError, as_float_array, check_float, check_int
from . import lyapunov as ly


def _sym(M) -> np.ndarray:
    M = np.asarray(M, dtype=np.float64)
    return 0.5 * (M + M.T)


def posterior_precision(A, N: float) -> np.ndarray:
    """P = N A: the precision of the Laplace posterior exp(-N L), L = theta^T A theta / 2 the *mean* loss."""
    N = check_float(N, "N", 0.0)
    return N * _sym(as_float_array(A, "A", 2))


def optimal_learning_rate(C, N: float, batch_size: int = 1) -> float:
    """Theorem 1: eps* = 2 d S / (N tr(BB^T)), BB^T = C the per-example gradient-noise covariance."""
    C = _sym(as_float_array(C, "C", 2))
    N = check_float(N, "N", 0.0)
    S = check_int(batch_size, "batch_size", 1)
    tau = float(np.trace(C))
    if tau <= 0:
        raise SgdTheoryError("C: tr C must be positive (no noise, no stationary spread)")
    return 2.0 * C.shape[0] * S / (N * tau)


def wrong_learning_rates(C, N: float, batch_size: int = 1) -> dict:
    """Plausible wrong versions of Theorem 1: without the factor 2 (d S / (N tr C)), and with tr C replaced by
    d lambda_max(C) (2 S / (N lambda_max))."""
    C = _sym(as_float_array(C, "C", 2))
    e = optimal_learning_rate(C, N, batch_size)
    return {"no factor 2": 0.5 * e,
            "tr C -> d lambda_max(C)": e * float(np.trace(C)) / (C.shape[0] * float(np.linalg.eigvalsh(C)[-1]))}


def optimal_preconditioner(C, N: float, eps: float, batch_size: int = 1) -> np.ndarray:
    """Theorem 2: H* = (2 S / (eps N)) (BB^T)^-1 (C must be non-singular)."""
    C = _sym(as_float_array(C, "C", 2))
    if np.linalg.eigvalsh(C)[0] <= 1e-12 * np.linalg.eigvalsh(C)[-1]:
        raise SgdTheoryError("C: must be non-singular for the optimal preconditioner (BB^T)^-1")
    return 2.0 * check_int(batch_size, "batch_size", 1) / (check_float(eps, "eps", 0.0) * N) * np.linalg.inv(C)


def stationary_covariance(A, C, eps: float, batch_size: int = 1, kind: str = "discrete", F=None) -> np.ndarray:
    """Stationary covariance of (preconditioned) constant SGD on L = theta^T A theta/2 with noise N(0, C/S).

    kind "discrete": the exact law of the chain (discrete Lyapunov equation); "continuous": the OU process of
    Section 3.  Without F this is ``theory.lyapunov.discrete_covariance`` / ``continuous_covariance``; with a
    preconditioner F the chain is theta <- (I - eps F A) theta - eps F xi and scipy solves
    Sigma = M Sigma M^T + eps^2 F C F^T / S, resp. (F A) Sigma + Sigma (F A)^T = eps F C F^T / S.
    """
    if kind not in ("discrete", "continuous"):
        raise SgdTheoryError(f"kind: expected 'discrete' or 'continuous', got {kind!r}")
    if F is None:
        f = ly.discrete_covariance if kind == "discrete" else ly.continuous_covariance
        return f(A, C, eps, batch_size)
    A = _sym(as_float_array(A, "A", 2))
    C = _sym(as_float_array(C, "C", 2))
    F = as_float_array(F, "F", 2)
    eps = check_float(eps, "eps", 0.0)
    S = check_int(batch_size, "batch_size", 1)
    G = F @ A
    Q = F @ C @ F.T / S
    if kind == "discrete":
        M = np.eye(A.shape[0]) - eps * G
        if np.max(np.abs(np.linalg.eigvals(M))) >= 1.0:
            raise SgdTheoryError(f"eps = {eps:g} is out of range: the preconditioned chain does not contract")
        return _sym(scipy.linalg.solve_discrete_lyapunov(M, eps * eps * Q))
    return _sym(scipy.linalg.solve_continuous_lyapunov(G, eps * Q))


def gaussian_kl(Sigma, P) -> float:
    """KL(N(0, Sigma) || N(0, P^-1)) = [tr(P Sigma) - d - log det(P Sigma)] / 2."""
    Sigma = _sym(Sigma)
    P = _sym(P)
    M = P @ Sigma
    sign, logdet = np.linalg.slogdet(M)
    if sign <= 0:
        raise SgdTheoryError("Sigma: must be positive definite for the KL divergence")
    return 0.5 * (float(np.trace(M)) - Sigma.shape[0] - logdet)


def kl_influence(M_paths, P, Sigma_hat=None) -> np.ndarray:
    """Per-path delta-method values of KL(N(0, Sigma) || N(0, P^-1)) from per-path second-moment matrices.

    k_p = KL(Sigma_hat) + <grad, M_p - Sigma_hat>, grad = (P - Sigma_hat^-1)/2, Sigma_hat = mean_p M_p: their mean
    is the plug-in KL(Sigma_hat) and their spread is the delta-method standard error, so ``replica_interval`` over
    independent paths gives an interval that is honest to first order in 1/paths.
    """
    M = np.asarray(M_paths, dtype=np.float64)
    Sh = M.mean(axis=0) if Sigma_hat is None else np.asarray(Sigma_hat, dtype=np.float64)
    G = 0.5 * (_sym(P) - np.linalg.inv(_sym(Sh)))
    return gaussian_kl(Sh, P) + np.einsum("pkl,kl->p", M - Sh[None], G)


def kl_continuous_closed_form(eps, d: int, S: int, N: float, trC: float, logdet_PS1: float):
    """KL_c(eps) = [eps N tr C / (2 S) - d - d log eps - log det(N A Sigma_1)] / 2 (vectorised in eps)."""
    eps = np.asarray(eps, dtype=np.float64)
    return 0.5 * (eps * N * trC / (2.0 * S) - d - d * np.log(eps) - logdet_PS1)


@dataclass(frozen=True)
class KLCurve:
    """Everything exact about one (A, C, N, S): eps*, the continuous and discrete KL curves and the argmin."""

    A: np.ndarray
    C: np.ndarray
    N: float
    S: int
    F: np.ndarray | None = None  # preconditioner (None: plain SGD)

    @property
    def d(self) -> int:
        return int(self.A.shape[0])

    @property
    def P(self) -> np.ndarray:
        return posterior_precision(self.A, self.N)

    @property
    def eps_star(self) -> float:
        return optimal_learning_rate(self.C, self.N, self.S)

    @property
    def stability_limit(self) -> float:
        """Largest step for which the chain contracts: 2 / max Re eig(F A) (real positive for F, A SPD)."""
        G = self.A if self.F is None else self.F @ self.A
        return 2.0 / float(np.max(np.real(np.linalg.eigvals(G))))

    def covariance(self, eps: float, kind: str = "discrete") -> np.ndarray:
        return stationary_covariance(self.A, self.C, eps, self.S, kind, self.F)

    def kl(self, eps: float, kind: str = "discrete") -> float:
        return gaussian_kl(self.covariance(eps, kind), self.P)

    def kl_closed_form(self, eps):
        """The continuous curve from the closed form (plain SGD only)."""
        S1 = ly.continuous_covariance(self.A, self.C, 1.0, self.S)
        _, ld = np.linalg.slogdet(self.P @ S1)
        return kl_continuous_closed_form(eps, self.d, self.S, self.N, float(np.trace(self.C)), ld)

    def discrete_argmin(self) -> float:
        """argmin over eps in (0, 2/lambda_max) of the exact discrete KL (bounded scalar minimisation in log eps)."""
        hi = math.log(self.stability_limit * (1 - 1e-9))
        lo = math.log(self.eps_star) - 8.0
        res = scipy.optimize.minimize_scalar(lambda u: self.kl(math.exp(u)), bounds=(lo, hi), method="bounded",
                                             options={"xatol": 1e-12})
        return float(math.exp(res.x))

    def first_order_argmin(self) -> float:
        """eps* (1 - (eps*/d)(2 eps* tr(P Sigma_2) - tr(Sigma_1^-1 Sigma_2))) (plain SGD; module docstring)."""
        if self.F is not None:
            raise SgdTheoryError("first_order_argmin: implemented for plain SGD (F = None) only")
        S1 = ly.continuous_covariance(self.A, self.C, 1.0, self.S)
        S2 = scipy.linalg.solve_continuous_lyapunov(self.A, self.A @ S1 @ self.A)
        e = self.eps_star
        corr = 2 * e * float(np.trace(self.P @ S2)) - float(np.trace(np.linalg.solve(S1, S2)))
        return e * (1.0 - e * corr / self.d)


def whitening(P) -> np.ndarray:
    """The symmetric square root P^(1/2): W = P^(1/2) Sigma P^(1/2) is I for the posterior."""
    ev, U = np.linalg.eigh(_sym(P))
    return (U * np.sqrt(ev)) @ U.T


def long_run_variance(Q, Sigma, M) -> float:
    """sigma^2 = gamma(0) + 2 sum_(s>=1) gamma(s) for q_t = theta_t^T Q theta_t along the stationary chain
    theta' = M theta + noise with stationary covariance Sigma (Q symmetric): T Var(time average) -> sigma^2.

    Isserlis: gamma(s) = 2 tr(Q M^s Sigma Q (M^s Sigma)^T), so sum_(s>=0) gamma(s) = 2 tr(Sigma K Sigma Q) with
    K = sum_s (M^T)^s Q M^s, the solution of K = M^T K M + Q (scipy solve_discrete_lyapunov).  Used to plan run
    lengths only, never for an interval.
    """
    Q = _sym(Q)
    Sg = np.asarray(Sigma, dtype=np.float64)
    M = np.asarray(M, dtype=np.float64)
    K = scipy.linalg.solve_discrete_lyapunov(M.T, Q)
    g0 = 2.0 * float(np.trace(Q @ Sg @ Q @ Sg.T))
    total = 2.0 * float(np.trace(Sg @ K @ Sg.T @ Q))
    return 2.0 * total - g0


# -- symbolic layer ---------------------------------------------------------------------------------------------


def derive_optimal_rate() -> dict:
    """SymPy: KL_c(eps) symbolic in d, S, N, tau = tr BB^T (and L = log det(N A Sigma_1)); its stationary points,
    second derivative, and the minimum value; plus the preconditioner identity of Theorem 2 for a generic
    symmetric 2 x 2 A and B B^T."""
    import sympy

    eps, d, S, N, tau = sympy.symbols("epsilon d S N tau", positive=True)
    L = sympy.Symbol("L", real=True)
    kl = sympy.Rational(1, 2) * (eps * N * tau / (2 * S) - d - d * sympy.log(eps) - L)
    roots = sympy.solve(sympy.diff(kl, eps), eps)
    second = sympy.simplify(sympy.diff(kl, eps, 2).subs(eps, roots[0]))
    kmin = sympy.simplify(kl.subs(eps, roots[0]))
    # tr(P Sigma_c) from the Lyapunov equation: N tr(A Sigma) = (N/2) tr(A Sigma + Sigma A) = eps N tau / (2 S)
    a, b, c, p, q, r = sympy.symbols("a b c p q r", real=True)
    Am = sympy.Matrix([[a, b], [b, c]])
    Cm = sympy.Matrix([[p, q], [q, r]])
    Hs = 2 * S / (eps * N) * Cm.inv()
    Sig = (N * Am).inv()
    resid = (Hs * Am * Sig + Sig * Am * Hs.T - eps / S * Hs * Cm * Hs.T).applyfunc(sympy.simplify)
    # wrong formulas: stationary points of the curve without the factor 1/2 in the trace identity
    kl_wrong = sympy.Rational(1, 2) * (eps * N * tau / S - d - d * sympy.log(eps) - L)
    roots_wrong = sympy.solve(sympy.diff(kl_wrong, eps), eps)
    return {"symbols": (eps, d, S, N, tau, L), "kl": kl, "roots": roots, "second_derivative": second,
            "kl_min": kmin, "preconditioner_residual": resid, "roots_wrong_trace": roots_wrong}


def symbolic_whitened_isotropic(A, N, S: int = 1):
    """SymPy, C = c I with eps = eps* = 2 S / (N c): the exact discrete Sigma (from ``lyapunov.symbolic_covariance``
    evaluated at eps*) against (N A)^-1 (I - eps* A/2)^-1; returns (max |difference|, eps* Sigma_1 - (N A)^-1 max).

    The answer does not depend on c (eps* c is fixed), so c = 1."""
    import sympy

    sc = ly.symbolic_covariance(A, np.eye(np.asarray(A).shape[0]), S)
    As = ly._rational_matrix(A)
    Ns = sympy.nsimplify(N, rational=True)
    e = 2 * sympy.Integer(S) / Ns
    Sd = sc.S.subs(sc.eta, e)
    target = (Ns * As).inv() * (sympy.eye(As.rows) - e * As / 2).inv()
    dev = max(abs(float(v)) for v in (Sd - target).applyfunc(sympy.simplify))
    dev1 = max(abs(float(v)) for v in (e * sc.S1 - (Ns * As).inv()).applyfunc(sympy.simplify))
    return dev, dev1


def symbolic_first_order_distance(A, C, N, S: int = 1) -> float:
    """|eps* Sigma_1 - (N A)^-1|_F / |(N A)^-1|_F exactly (SymPy; rational A, C): 0 iff the OU law at eps* is the
    posterior (C ∝ I)."""
    import sympy

    sc = ly.symbolic_covariance(A, C, S)
    As, Cs = ly._rational_matrix(A), ly._rational_matrix(C)
    Ns = sympy.nsimplify(N, rational=True)
    e = 2 * As.rows * sympy.Integer(S) / (Ns * Cs.trace())
    Pi = (Ns * As).inv()
    R = (e * sc.S1 - Pi).applyfunc(sympy.simplify)
    num = sum(v**2 for v in R)
    den = sum(v**2 for v in Pi)
    return 0.0 if sympy.simplify(num) == 0 else float(sympy.sqrt(num / den).evalf(30))


__all__ = ["posterior_precision", "optimal_learning_rate", "wrong_learning_rates", "optimal_preconditioner",
           "stationary_covariance", "gaussian_kl", "kl_influence", "kl_continuous_closed_form", "KLCurve",
           "whitening", "long_run_variance", "derive_optimal_rate", "symbolic_whitened_isotropic",
           "symbolic_first_order_distance"]
