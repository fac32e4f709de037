r"""Exact stationary behaviour of minibatch SGD in a quadratic basin.

Source: D. McAllester, TTIC 31230 SGD slides (seed ``003``), slides "A Quadratic Basin
Theorem", "Analyzing Stationary Distributions", "Proof: Observation 1", "Proof: Step 1",
"Proof Step 2". Claims ``B3``, ``B4``, ``B5`` and errata ``E3``, ``E4`` of ``CLAIMS.md``.

Setting
-------
Per-example losses are exactly quadratic around the minimiser :math:`\Phi^*`,

.. math:: L_i(\Phi^*+\Delta) = c_i + g_i^\top\Delta + \tfrac12\Delta^\top H_i\Delta,
          \qquad i = 1..n,

with :math:`\operatorname{mean}_i g_i = 0` and :math:`\bar H = \operatorname{mean}_i H_i \succ 0`
(each :math:`H_i` symmetric, not necessarily PSD). SGD with batch size :math:`B` is

.. math:: \Delta_{t+1} = \Delta_t - \eta\,(g_B + H_B\Delta_t),

where :math:`g_B, H_B` are means over a minibatch drawn afresh at every step, either
``"with_replacement"`` (B iid uniform indices) or ``"without_replacement"`` (a uniform
B-subset). The covariance of a sample mean gives, with the batch factor
:math:`c_B = 1/B` (with replacement) or :math:`c_B = (n-B)/(B(n-1))` (without; 0 if n = 1),

.. math:: E[g_B g_B^\top] = c_B\Sigma,\quad \Sigma = \operatorname{mean}_i g_i g_i^\top, \qquad
          M := E[H_B\otimes H_B] = \bar H\otimes\bar H
               + c_B(\operatorname{mean}_i H_i\otimes H_i - \bar H\otimes\bar H).

Stationary law
--------------
The stationary mean is 0 and the second moment :math:`S = E_{P_\eta}[\Delta\Delta^\top]`
solves :math:`S = E[(I-\eta H_B)S(I-\eta H_B)^\top] + \eta^2 c_B\Sigma`. On row-major
:math:`\operatorname{vec}` (``S.reshape(-1)``, :math:`\operatorname{vec}(ASB^\top) =
(A\otimes B)\operatorname{vec}S`) the moment operator is
:math:`T(\eta) = I - \eta K + \eta^2 M` with :math:`K = \bar H\otimes I + I\otimes\bar H`,
so the equation is :math:`(K - \eta M)\operatorname{vec}S = \eta\operatorname{vec}(c_B\Sigma)`.
:math:`K` and :math:`M` are symmetric (each :math:`H_i` is) and :math:`K \succ 0`, but :math:`M` need
not be positive semidefinite: for indefinite :math:`H_i` the eigenvalues of :math:`H_i\otimes H_i` include
products :math:`\lambda_a(H_i)\lambda_b(H_i) < 0` (e.g. :math:`H_1 = \mathrm{diag}(2, -1)`,
:math:`H_2 = \mathrm{diag}(0, 3)`, B = 1: :math:`M = \mathrm{diag}(2, -1, -1, 5)`), and
:math:`M - \bar H\otimes\bar H = c_B\operatorname{mean}_i (H_i-\bar H)\otimes(H_i-\bar H)` is
indefinite whenever some :math:`H_i - \bar H` is, even for PSD :math:`H_i`. The argument needs
neither. :math:`T(\eta)` maps :math:`S` to :math:`E[(I-\eta H_B)S(I-\eta H_B)]`, a mixture of
congruences, so it maps positive semidefinite matrices to positive semidefinite matrices whatever the
signs of the :math:`H_i` (it is completely positive); for such a map the spectral radius is an
eigenvalue with a PSD eigenvector (Krein–Rutman for the PSD cone; Evans & Høegh-Krohn 1978), and
:math:`T(\eta)` is a symmetric matrix, so :math:`\rho(T(\eta)) = \lambda_{\max}(T(\eta))`. Hence
:math:`\rho(T(\eta)) < 1` iff :math:`\eta K - \eta^2 M \succ 0` iff :math:`K - \eta M \succ 0`
(:math:`\eta > 0`), and the stability limit is :math:`\eta_c = 1/\mu_{\max}` with
:math:`\mu_{\max}` the largest eigenvalue of the symmetric-definite pencil :math:`M v = \mu K v`
(:math:`\mu_{\max} > 0`: for :math:`v = u\otimes u`, :math:`v^\top M v = E[(u^\top H_B u)^2] > 0`).
The bound :math:`\eta_c \le 2/\lambda_{\max}(\bar H)` holds on the PSD cone, not as a matrix
inequality: for :math:`S \succeq 0`, :math:`E[H_B S H_B] - \bar H S\bar H = E[(H_B-\bar H)S(H_B-\bar H)]
\succeq 0`, so with :math:`S = uu^\top`, :math:`u` the top eigenvector of :math:`\bar H`,
:math:`T(\eta)S \succeq (1-\eta\lambda_{\max})^2 S` and the Rayleigh quotient
:math:`\operatorname{tr}(S\,T(\eta)S)/\operatorname{tr}(S^2) \ge (1-\eta\lambda_{\max})^2`, which is
:math:`\ge 1` for :math:`\eta \ge 2/\lambda_{\max}`.

The exact excess loss is :math:`L(\eta) - L(\Phi^*) = \tfrac12\operatorname{tr}(\bar H S)`
(slide "Proof: Observation 1"). Taking the trace of the stationary equation gives the
finite-:math:`\eta` identity of slide "Proof: Step 1", valid for every batch size,

.. math:: L(\eta) - L(\Phi^*) = \tfrac{\eta}{4}\,E_{P_\eta}E_B\|g_B + H_B\Delta\|^2
          = \tfrac{\eta}{4}\big(\operatorname{tr}(c_B\Sigma)
            + \operatorname{tr}(E[H_B^2]\,S)\big)

(no cross term: :math:`E\Delta = 0` and :math:`\Delta` is independent of the current batch).
Expanding :math:`(K-\eta M)^{-1} = \sum_k \eta^k (K^{-1}M)^k K^{-1}` gives
:math:`S = \sum_{k\ge1}\eta^k S_k` with :math:`\bar H S_1 + S_1\bar H = c_B\Sigma` and
:math:`\bar H S_k + S_k\bar H = E[H_B S_{k-1} H_B]`, so the excess loss is
:math:`\sum_k a_k\eta^k`, :math:`a_k = \tfrac12\operatorname{tr}(\bar H S_k)`, and
:math:`a_1 = \tfrac14\operatorname{tr}(c_B\Sigma) = \tfrac14 E\|g_B\|^2` (the theorem, B4;
for B = 1 with replacement it is :math:`\tfrac14 E_i\|g_i\|^2`). The extrapolation of slide
"Analyzing Stationary Distributions" (B5, with the E3 sign corrected) has error
:math:`2L(\eta/2) - L(\eta) - L(\Phi^*) = -\tfrac{a_2}{2}\eta^2 + O(\eta^3)`.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from functools import cached_property
from typing import Callable

import numpy as np
import scipy.linalg

from ..errors import SgdTheoryError

__all__ = ["QuadraticBasin", "SAMPLINGS"]

#: The two minibatch sampling schemes.
SAMPLINGS = ("with_replacement", "without_replacement")

_SYMMETRY_RTOL = 1e-12
_MEAN_GRADIENT_RTOL = 1e-10


def _finite_array(value, name: str, ndim: int, shape_text: str) -> np.ndarray:
    """Return ``value`` as a read-only float64 array of dimension ``ndim``, or raise."""
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise SgdTheoryError(f"{name} must be a real array of shape {shape_text}; {exc}") from exc
    if array.ndim != ndim or 0 in array.shape:
        raise SgdTheoryError(
            f"{name} must be a non-empty {ndim}-D array of shape {shape_text}; "
            f"got shape {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise SgdTheoryError(f"{name} must contain only finite values (no NaN or inf)")
    return array


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class QuadraticBasin:
    """A quadratic basin instance: per-example gradients ``G`` and Hessians ``H`` at Φ*.

    Parameters
    ----------
    G : array, shape (n, d)
        Row ``i`` is the per-example gradient g_i at the minimiser; the rows must average to 0.
    H : array, shape (n, d, d)
        ``H[i]`` is the symmetric per-example Hessian H_i; their mean must be positive definite.
    batch_size : int
        Minibatch size B: 1..n without replacement, any B >= 1 with replacement.
    sampling : {"with_replacement", "without_replacement"}
        How each minibatch is drawn (independently at every step).

    Source: 003, slide "A Quadratic Basin Theorem". Arrays are stored as read-only float64
    copies (``H`` exactly symmetrised); instances compare by identity.
    """

    G: np.ndarray
    H: np.ndarray
    batch_size: int = 1
    sampling: str = "with_replacement"

    def __post_init__(self) -> None:
        G = _finite_array(self.G, "G", 2, "(n, d)")
        n, d = G.shape
        H = _finite_array(self.H, "H", 3, f"(n, d, d) = ({n}, {d}, {d})")
        if H.shape != (n, d, d):
            raise SgdTheoryError(
                f"H must have shape (n, d, d) = ({n}, {d}, {d}) to match G of shape {G.shape}; "
                f"got {H.shape}"
            )
        scale = np.max(np.abs(H))
        asymmetry = np.max(np.abs(H - H.transpose(0, 2, 1)))
        if asymmetry > _SYMMETRY_RTOL * scale:
            raise SgdTheoryError(
                f"H must hold symmetric matrices H_i = H_i^T (relative tolerance "
                f"{_SYMMETRY_RTOL:g}); max |H_i - H_i^T| = {asymmetry:.3g}"
            )
        H = 0.5 * (H + H.transpose(0, 2, 1))
        mean_gradient = np.max(np.abs(G.mean(axis=0)))
        # relative to the gradients' size, with a rounding floor relative to the curvature for problems that
        # interpolate (all g_i ~ 1e-15 at Phi*, where a purely relative test would reject rounding noise)
        if mean_gradient > max(_MEAN_GRADIENT_RTOL * np.max(np.abs(G)), 1e-12 * scale):
            raise SgdTheoryError(
                f"G must have zero mean, E_i g_i = 0 (relative tolerance {_MEAN_GRADIENT_RTOL:g}); "
                f"max |mean_i g_i| = {mean_gradient:.3g}. Recentre at the minimiser Phi* "
                "(the point where the mean gradient vanishes), e.g. G - G.mean(axis=0)"
            )
        eigenvalues = np.linalg.eigvalsh(H.mean(axis=0))
        if eigenvalues[0] <= _SYMMETRY_RTOL * np.max(np.abs(eigenvalues)):
            raise SgdTheoryError(
                "H must have a positive definite mean Hessian mean_i H_i; its smallest "
                f"eigenvalue is {eigenvalues[0]:.6g}"
            )
        if self.sampling not in SAMPLINGS:
            raise SgdTheoryError(f"sampling must be one of {SAMPLINGS}; got {self.sampling!r}")
        batch_size = self.batch_size
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
            raise SgdTheoryError(f"batch_size must be an int; got {batch_size!r}")
        if self.sampling == "without_replacement" and not 1 <= batch_size <= n:
            raise SgdTheoryError(
                f"batch_size must be in 1..n = 1..{n} for sampling without replacement; "
                f"got {batch_size}"
            )
        if batch_size < 1:
            raise SgdTheoryError(f"batch_size must be >= 1; got {batch_size}")
        object.__setattr__(self, "G", _read_only(G))
        object.__setattr__(self, "H", _read_only(H))
        object.__setattr__(self, "batch_size", int(batch_size))

    # ------------------------------------------------------------------ moments

    @property
    def n(self) -> int:
        """Number of examples n."""
        return self.G.shape[0]

    @property
    def d(self) -> int:
        """Parameter dimension d."""
        return self.G.shape[1]

    @cached_property
    def mean_hessian(self) -> np.ndarray:
        """H̄ = mean_i H_i, the Hessian of L at Φ* (003, slide 'A Quadratic Basin Theorem')."""
        return _read_only(self.H.mean(axis=0))

    @cached_property
    def gradient_second_moment(self) -> np.ndarray:
        """Σ = mean_i g_i g_iᵀ; tr Σ = E_i‖g_i‖² (003, slide 'A Quadratic Basin Theorem')."""
        return _read_only(self.G.T @ self.G / self.n)

    @property
    def batch_factor(self) -> float:
        """c_B: Cov(mean over a batch) = c_B · (population covariance).

        c_B = 1/B with replacement; c_B = (n − B)/(B(n − 1)) without replacement (finite-
        population correction), and c_B = 0 when n = 1. Setting of 003, slide 'A Quadratic
        Basin Theorem', with minibatches of size B.
        """
        n, B = self.n, self.batch_size
        if self.sampling == "with_replacement":
            return 1.0 / B
        return 0.0 if n == 1 else (n - B) / (B * (n - 1))

    @cached_property
    def batch_gradient_covariance(self) -> np.ndarray:
        """E[g_B g_Bᵀ] = c_B Σ (mean-zero g_i); tr = E‖g_B‖² (003, 'A Quadratic Basin Theorem')."""
        return _read_only(self.batch_factor * self.gradient_second_moment)

    @cached_property
    def batch_hessian_kron_moment(self) -> np.ndarray:
        """M = E[H_B ⊗ H_B] = H̄⊗H̄ + c_B(mean_i H_i⊗H_i − H̄⊗H̄), a (d², d²) matrix.

        The quadratic term of the moment operator T(η) = I − ηK + η²M; symmetric, but not positive
        semidefinite in general (indefinite H_i give negative eigenvalues; see the module docstring: the
        stability argument uses only that S ↦ E[H_B S H_B] maps PSD matrices to PSD matrices).
        Source: 003, slide 'Proof: Step 1' (the E_i‖H_iΔΦ‖² term), with minibatches.
        """
        d = self.d
        hbar = self.mean_hessian
        Z = self.H.reshape(self.n, d * d)  # row i = vec H_i; (Z^T Z)[(a,b),(c,e)] = sum_i H_i[a,b] H_i[c,e]
        mean_kron = (Z.T @ Z / self.n).reshape(d, d, d, d).transpose(0, 2, 1, 3).reshape(d * d, d * d)
        mean_kron_of_mean = np.kron(hbar, hbar)
        c = self.batch_factor
        return _read_only(mean_kron_of_mean + c * (mean_kron - mean_kron_of_mean))

    @cached_property
    def batch_hessian_square_moment(self) -> np.ndarray:
        """E[H_BᵀH_B] = E[H_B²] = H̄² + c_B(mean_i H_i² − H̄²) (003, slide 'Proof: Step 1')."""
        hbar = self.mean_hessian
        mean_square = np.einsum("iab,ibc->ac", self.H, self.H) / self.n
        return _read_only(hbar @ hbar + self.batch_factor * (mean_square - hbar @ hbar))

    @cached_property
    def _lyapunov_kron(self) -> np.ndarray:
        """K = H̄⊗I + I⊗H̄, the matrix of S ↦ H̄S + SH̄ on row-major vec(S)."""
        eye = np.eye(self.d)
        return np.kron(self.mean_hessian, eye) + np.kron(eye, self.mean_hessian)

    def _batch_sandwich(self, X: np.ndarray) -> np.ndarray:
        """E[H_B X H_B] = (1 − c_B) H̄XH̄ + c_B mean_i H_i X H_i."""
        hbar, c = self.mean_hessian, self.batch_factor
        mean_sandwich = np.einsum("iab,bc,icd->ad", self.H, X, self.H) / self.n
        return (1.0 - c) * hbar @ X @ hbar + c * mean_sandwich

    # ------------------------------------------------------------- stationary law

    def moment_operator(self, eta: float) -> np.ndarray:
        """Matrix of T(η): S ↦ E[(I − ηH_B) S (I − ηH_B)ᵀ] on row-major vec(S) (S.reshape(-1)).

        T(η) = I − ηK + η²M with K = H̄⊗I + I⊗H̄ and M = E[H_B⊗H_B]; a symmetric
        (d², d²) matrix. Source: 003, slide 'Proof: Step 1' (stationarity of P_η).
        """
        eta = float(eta)
        K, M = self._lyapunov_kron, self.batch_hessian_kron_moment
        return np.eye(self.d * self.d) - eta * K + eta**2 * M

    def stability_limit(self) -> float:
        """η_c: the smallest η > 0 with spectral radius ρ(T(η)) = 1.

        ρ(T(η)) is the largest eigenvalue of the symmetric completely positive map T(η), so
        ρ(T) < 1 iff K − ηM ≻ 0 and η_c = 1/μ_max, μ_max the largest eigenvalue of the
        symmetric-definite pencil M v = μ K v (i.e. the smallest positive generalised
        eigenvalue of K v = η M v). Always η_c ≤ 2/λ_max(H̄). The stationary law P_η of
        003, slide 'A Quadratic Basin Theorem' exists (in mean square) iff 0 < η < η_c.
        """
        return self._stability_limit

    @cached_property
    def _stability_limit(self) -> float:
        mu = scipy.linalg.eigh(
            self.batch_hessian_kron_moment, self._lyapunov_kron, eigvals_only=True
        )
        return float(1.0 / mu[-1])

    def _check_eta(self, eta) -> float:
        eta_c = self.stability_limit()
        try:
            value = float(eta)
        except (TypeError, ValueError) as exc:
            raise SgdTheoryError(f"eta must be a real number in (0, eta_c); got {eta!r}") from exc
        if not 0.0 < value < eta_c:
            raise SgdTheoryError(
                f"eta must lie in the open interval (0, eta_c) = (0, {eta_c:.6g}) where the "
                f"stationary distribution exists; got {eta!r}"
            )
        return value

    def _solve_pencil(self, eta: float, rhs: np.ndarray) -> np.ndarray:
        """Solve (K − ηM) x = rhs; K − ηM is symmetric positive definite for 0 < η < η_c."""
        matrix = self._lyapunov_kron - eta * self.batch_hessian_kron_moment
        return scipy.linalg.solve(matrix, rhs, assume_a="pos")

    def stationary_second_moment(self, eta: float) -> np.ndarray:
        """S = E_{P_η}[ΔΔᵀ], the exact solution of S = E[(I−ηH_B)S(I−ηH_B)ᵀ] + η² c_BΣ.

        With T(η) = I − ηK + η²M the equation is η(K − ηM) vec S = η² vec(c_BΣ), solved as
        (K − ηM) vec S = η vec(c_BΣ) (no cancellation at small η). Returns a symmetrised
        (d, d) array. Raises ValueError unless 0 < eta < η_c. Source: 003, slide 'Proof:
        Step 1' (P_η is stationary).
        """
        eta = self._check_eta(eta)
        d = self.d
        vec_s = self._solve_pencil(eta, eta * self.batch_gradient_covariance.reshape(-1))
        S = vec_s.reshape(d, d)
        return 0.5 * (S + S.T)

    def _elementwise(self, func: Callable[[float], float], eta):
        """Apply a scalar function of η to a scalar (-> float) or an array (-> ndarray)."""
        if np.ndim(eta) == 0:
            return func(eta)
        etas = np.asarray(eta, dtype=np.float64)
        return np.array([func(e) for e in etas.reshape(-1)]).reshape(etas.shape)

    def excess_loss(self, eta):
        """L(η) − L(Φ*) = ½ tr(H̄ S(η)), exact; eta may be a scalar or an array.

        Source: 003, slide 'Proof: Observation 1' (L(η) = L(Φ*) + E ½ΔᵀH̄Δ, since E_i g_i = 0).
        """
        return self._elementwise(self._excess_loss, eta)

    def _excess_loss(self, eta) -> float:
        return 0.5 * float(np.sum(self.mean_hessian * self.stationary_second_moment(eta)))

    def slope_at_zero(self) -> float:
        """dL/dη at η = 0: ¼ tr(c_BΣ) = ¼ E‖g_B‖² (¼ E_i‖g_i‖² for B = 1 with replacement).

        The quadratic-basin theorem, 003, slide 'A Quadratic Basin Theorem' (claim B4).
        """
        return 0.25 * float(np.trace(self.batch_gradient_covariance))

    def proof_identity_rhs(self, eta):
        """(η/4) E_{P_η} E_B‖g_B + H_BΔ‖² = (η/4)(tr(c_BΣ) + tr(E[H_B²] S(η))).

        No cross term: E Δ = 0 and Δ is independent of the current batch. Equals
        excess_loss(eta) exactly for every batch size (trace of the stationary equation,
        i.e. E‖Δ_{t+1}‖² = E‖Δ_t‖²). Source: 003, slide 'Proof: Step 1' (last line).
        """
        return self._elementwise(self._proof_identity_rhs, eta)

    def _proof_identity_rhs(self, eta) -> float:
        S = self.stationary_second_moment(eta)
        noise = np.trace(self.batch_gradient_covariance)
        return 0.25 * float(eta) * float(noise + np.sum(self.batch_hessian_square_moment * S))

    # ------------------------------------------------------ small-η expansion

    def series_coefficients(self, order: int = 3) -> list[float]:
        """[a_1, ..., a_order] with L(η) − L(Φ*) = Σ_k a_k η^k.

        S(η) = Σ_k η^k S_k with H̄S_1 + S_1H̄ = c_BΣ and H̄S_k + S_kH̄ = E[H_B S_{k−1} H_B]
        (k ≥ 2), from (K − ηM)^{-1} = Σ_k η^k (K^{-1}M)^k K^{-1}; a_k = ½ tr(H̄S_k) and
        a_1 = slope_at_zero(). Source: 003, slides 'A Quadratic Basin Theorem' and
        'Analyzing Stationary Distributions'.
        """
        if isinstance(order, bool) or not isinstance(order, numbers.Integral) or order < 1:
            raise SgdTheoryError(f"order must be an int >= 1; got {order!r}")
        hbar = self.mean_hessian
        S_k = scipy.linalg.solve_continuous_lyapunov(hbar, self.batch_gradient_covariance)
        coefficients = []
        for _ in range(order):
            coefficients.append(0.5 * float(np.sum(hbar * S_k)))
            S_k = scipy.linalg.solve_continuous_lyapunov(hbar, self._batch_sandwich(S_k))
        return coefficients

    def extrapolation(self, eta):
        """2L(η/2) − L(η) − L(Φ*) = 2·excess(η/2) − excess(η), the error of the η → 0 estimate.

        The slide prints L(Φ*) ≈ L(η) − 2L(η/2) (erratum E3); the algebra gives
        2L(η/2) − L(η) (claim B5). Source: 003, slide 'Analyzing Stationary Distributions'.
        """
        return self._elementwise(self._extrapolation, eta)

    def _extrapolation(self, eta) -> float:
        eta = self._check_eta(eta)
        return 2.0 * self._excess_loss(0.5 * eta) - self._excess_loss(eta)

    def extrapolation_error_coefficient(self) -> float:
        """c_2 with 2L(η/2) − L(η) − L(Φ*) = c_2 η² + O(η³): c_2 = −a_2/2 ≤ 0.

        a_2 = ½tr(H̄S_2) = ¼tr(E[H_B S_1 H_B]) ≥ 0, so the extrapolation underestimates
        L(Φ*). Source: 003, slide 'Analyzing Stationary Distributions' (claim B5).
        """
        return -0.5 * self.series_coefficients(2)[1]

    def local_loglog_slope(self, eta):
        """d log(L(η) − L(Φ*)) / d log η, exact; → 1 as η → 0 (claim B3, linear in η).

        With excess = (η/2) hᵀx, x = (K − ηM)^{-1} s, h = vec H̄, s = vec(c_BΣ) and
        dx/dη = (K − ηM)^{-1} M x (the derivative of the stationary equation,
        (I − T) dS/dη = (dT/dη) S + 2η c_BΣ), the slope is 1 + η yᵀMx / hᵀx with
        y = (K − ηM)^{-1} h. Source: 003, slides 'A Quadratic Basin Theorem' and
        'Analyzing Stationary Distributions'. Raises ValueError if c_BΣ = 0 (no noise).
        """
        return self._elementwise(self._local_loglog_slope, eta)

    def _local_loglog_slope(self, eta) -> float:
        eta = self._check_eta(eta)
        if not np.any(self.batch_gradient_covariance):
            raise SgdTheoryError(
                "local_loglog_slope is undefined: the minibatch gradient noise c_B*Sigma is "
                "zero (G = 0 or full-batch sampling), so L(eta) - L(Phi*) = 0 for every eta"
            )
        h = self.mean_hessian.reshape(-1)
        x = self._solve_pencil(eta, self.batch_gradient_covariance.reshape(-1))
        y = self._solve_pencil(eta, h)
        return 1.0 + eta * float(y @ self.batch_hessian_kron_moment @ x) / float(h @ x)
