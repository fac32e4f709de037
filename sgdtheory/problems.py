"""Finite-sum problems: per-example losses, gradients and Hessians, validated on construction.

Five problem classes, each of which the Numba engine simulates (``kernel_data``); four quadratic:

* ``QuadraticFiniteSum`` -- L_i(w) = c_i + g_i.(w - a) + (w - a).H_i (w - a)/2 around an anchor a,
  McAllester's quadratic basin (seed 003, slide "A Quadratic Basin Theorem").  L = mean_i L_i.
* ``LinearRegression`` -- L_i(w) = (x_i.w - y_i)^2/2, the case H_i = x_i x_i^T.
* ``GaussianNoiseQuadratic`` -- L(w) = c + (w - w*).H(w - w*)/2 with gradient oracle
  H(w - w*) + xi/sqrt(B), xi ~ N(0, C): the Ornstein-Uhlenbeck model of SGD (seed 003,
  "Langevin Dynamics").
* ``SaddleQuadratic`` -- the same oracle around a strict saddle (indefinite non-singular H; seed 004,
  "Saddle points").

The first three have a unique minimiser w* (the mean Hessian must be positive definite) and the full
loss L(w) = L(w*) + (w - w*).Hbar (w - w*)/2, which the engine uses for the excess-loss observable.

and one non-quadratic:

* ``PolynomialFiniteSum1D`` -- d = 1, L_i(w) = sum_k a_ik w^k (degree K >= 2, mean of even degree
  with a positive leading coefficient), optionally with additive Gaussian gradient noise: several
  local minima (double wells, sharp and flat minima, minima whose per-example gradients disagree
  by different amounts; seed 003, "SGD as a form of MCMC", "Langevin Dynamics", "Stationary
  Distributions").  The engine measures
  relative to a chosen ``reference`` point (default the global minimiser), and its excess loss
  is the exact polynomial L(w) - L(reference).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from math import comb

import numpy as np
from numpy.polynomial import polynomial as npoly

from ._kernels import codes
from .errors import SgdTheoryError, as_float_array, check_float, check_symmetric


@dataclass(frozen=True)
class KernelProblem:
    """A problem as the engine sees it: an integer code and arrays (see ``_kernels.steps``).

    ``excess_poly`` is empty except for the 1-D polynomial problem, where it holds the mean loss's
    Taylor coefficients at ``w_star`` (the engine's excess-loss formula; ``_kernels.engine._observe``).
    """

    code: int
    A: np.ndarray
    Hs: np.ndarray
    v: np.ndarray
    w_star: np.ndarray
    Hbar: np.ndarray
    n: int
    d: int
    excess_poly: np.ndarray = field(default_factory=lambda: np.zeros(0))


def _check_positive_definite(Hbar: np.ndarray, name: str) -> None:
    eig = np.linalg.eigvalsh(Hbar)
    if eig[0] <= 1e-12 * max(abs(eig[-1]), 1e-300):
        raise SgdTheoryError(
            f"{name}: the mean Hessian must be positive definite; its smallest eigenvalue is {eig[0]:.6g}"
        )


@dataclass(frozen=True, eq=False)
class QuadraticFiniteSum:
    """L_i(w) = c_i + g_i.(w - a) + (w - a).H_i (w - a)/2, i = 1..n;  L(w) = mean_i L_i(w).

    Args:
        g: (n, d) array, rows g_i (per-example gradients at the anchor a).
        H: (n, d, d) array of symmetric per-example Hessians H_i (each may be indefinite; their
           mean Hbar must be positive definite).
        c: (n,) per-example losses at the anchor (default 0).
        anchor: (d,) the expansion point a (default 0).

    Source: seed 003 (McAllester), slide "A Quadratic Basin Theorem": there the anchor is the
    minimiser Phi*, E_i g_i = 0 and E_i H_i is positive definite; ``at_minimum`` re-expresses any
    instance in that form.
    """

    g: np.ndarray
    H: np.ndarray
    c: np.ndarray | None = None
    anchor: np.ndarray | None = None
    name: str = "quadratic finite sum"

    def __post_init__(self):
        g = as_float_array(self.g, "g", 2)
        n, d = g.shape
        H = as_float_array(self.H, "H", 3)
        if H.shape != (n, d, d):
            raise SgdTheoryError(f"H: expected shape (n, d, d) = ({n}, {d}, {d}) to match g, got {H.shape}")
        check_symmetric(H, "H")
        H = 0.5 * (H + np.swapaxes(H, 1, 2))
        c = np.zeros(n) if self.c is None else as_float_array(self.c, "c", 1)
        if c.shape != (n,):
            raise SgdTheoryError(f"c: expected shape ({n},) to match g, got {c.shape}")
        a = np.zeros(d) if self.anchor is None else as_float_array(self.anchor, "anchor", 1)
        if a.shape != (d,):
            raise SgdTheoryError(f"anchor: expected shape ({d},) to match g, got {a.shape}")
        Hbar = H.mean(axis=0)
        _check_positive_definite(Hbar, "H")
        for key, val in (("g", g), ("H", H), ("c", c), ("anchor", a)):
            object.__setattr__(self, key, val)

    @property
    def n(self) -> int:
        return self.g.shape[0]

    @property
    def d(self) -> int:
        return self.g.shape[1]

    @property
    def mean_hessian(self) -> np.ndarray:
        """Hbar = mean_i H_i."""
        return self.H.mean(axis=0)

    @property
    def minimizer(self) -> np.ndarray:
        """w* = a - Hbar^{-1} gbar, the unique minimiser of L."""
        return self.anchor - np.linalg.solve(self.mean_hessian, self.g.mean(axis=0))

    def losses(self, w) -> np.ndarray:
        """Per-example losses L_i(w), shape (n,)."""
        delta = np.asarray(w, dtype=np.float64) - self.anchor
        return self.c + self.g @ delta + 0.5 * np.einsum("k,ikl,l->i", delta, self.H, delta)

    def loss(self, w) -> float:
        """L(w) = mean_i L_i(w)."""
        return float(self.losses(w).mean())

    def gradients(self, w) -> np.ndarray:
        """Per-example gradients g_i + H_i (w - a), shape (n, d)."""
        delta = np.asarray(w, dtype=np.float64) - self.anchor
        return self.g + self.H @ delta

    def at_minimum(self) -> QuadraticFiniteSum:
        """The same losses expanded around w*: g_i' = g_i + H_i(w* - a), mean_i g_i' = 0."""
        w = self.minimizer
        return QuadraticFiniteSum(self.gradients(w), self.H, self.losses(w), w, name=self.name)

    def kernel_data(self) -> KernelProblem:
        m = self.at_minimum()
        return KernelProblem(codes.PROBLEM_QUADRATIC, m.g, m.H, m.c, m.anchor, m.mean_hessian, self.n, self.d)


@dataclass(frozen=True, eq=False)
class LinearRegression:
    """L_i(w) = (x_i.w - y_i)^2 / 2: the quadratic finite sum with H_i = x_i x_i^T.

    Args:
        X: (n, d) design matrix with full column rank (so that Hbar = X^T X / n is positive definite).
        y: (n,) targets.
    """

    X: np.ndarray
    y: np.ndarray
    name: str = "linear regression"

    def __post_init__(self):
        X = as_float_array(self.X, "X", 2)
        y = as_float_array(self.y, "y", 1)
        if y.shape != (X.shape[0],):
            raise SgdTheoryError(f"y: expected shape ({X.shape[0]},) to match X, got {y.shape}")
        _check_positive_definite(X.T @ X / X.shape[0], "X")
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "y", y)

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def d(self) -> int:
        return self.X.shape[1]

    @property
    def mean_hessian(self) -> np.ndarray:
        return self.X.T @ self.X / self.n

    @property
    def minimizer(self) -> np.ndarray:
        """The least-squares solution."""
        return self._minimizer.copy()

    @cached_property
    def _minimizer(self) -> np.ndarray:
        return np.linalg.lstsq(self.X, self.y, rcond=None)[0]

    def losses(self, w) -> np.ndarray:
        r = self.X @ np.asarray(w, dtype=np.float64) - self.y
        return 0.5 * r * r

    def loss(self, w) -> float:
        return float(self.losses(w).mean())

    def gradients(self, w) -> np.ndarray:
        r = self.X @ np.asarray(w, dtype=np.float64) - self.y
        return r[:, None] * self.X

    def as_quadratic(self) -> QuadraticFiniteSum:
        """The equivalent ``QuadraticFiniteSum`` expanded around the least-squares solution."""
        w = self.minimizer
        H = np.einsum("ik,il->ikl", self.X, self.X)
        return QuadraticFiniteSum(self.gradients(w), H, self.losses(w), w, name=self.name)

    def kernel_data(self) -> KernelProblem:
        return KernelProblem(codes.PROBLEM_LINREG, self.X, np.zeros((1, 1, 1)), self.y,
                             self.minimizer, self.mean_hessian, self.n, self.d)


@dataclass(frozen=True, eq=False)
class GaussianNoiseQuadratic:
    """L(w) = c + (w - w*).H(w - w*)/2 with gradient oracle H(w - w*) + L xi / sqrt(B), xi ~ N(0, I).

    Here C = L L^T is the per-example gradient-noise covariance, so a batch of B examples has
    noise covariance C/B.  SGD on it is the discrete Ornstein-Uhlenbeck process
    w <- (I - eta H) w - eta xi_B (seed 003, "Langevin Dynamics"; Mandt et al. 2017, eq. 8).

    Args:
        H: (d, d) symmetric positive-definite Hessian.
        C: (d, d) symmetric positive-semidefinite noise covariance.
        w_star: (d,) the minimiser (default 0).  c: the minimum value (default 0).
    """

    H: np.ndarray
    C: np.ndarray
    w_star: np.ndarray | None = None
    c: float = 0.0
    name: str = "quadratic with Gaussian gradient noise"

    def __post_init__(self):
        H = as_float_array(self.H, "H", 2)
        d = H.shape[0]
        if H.shape != (d, d):
            raise SgdTheoryError(f"H: expected a square matrix, got shape {H.shape}")
        check_symmetric(H, "H")
        self._check_hessian(0.5 * (H + H.T))
        C = as_float_array(self.C, "C", 2)
        if C.shape != (d, d):
            raise SgdTheoryError(f"C: expected shape ({d}, {d}) to match H, got {C.shape}")
        check_symmetric(C, "C")
        C = 0.5 * (C + C.T)
        ev = np.linalg.eigvalsh(C)
        if ev[0] < -1e-12 * max(ev[-1], 1e-300):
            raise SgdTheoryError(f"C: must be positive semidefinite; its smallest eigenvalue is {ev[0]:.6g}")
        w = np.zeros(d) if self.w_star is None else as_float_array(self.w_star, "w_star", 1)
        if w.shape != (d,):
            raise SgdTheoryError(f"w_star: expected shape ({d},), got {w.shape}")
        object.__setattr__(self, "H", 0.5 * (H + H.T))
        object.__setattr__(self, "C", C)
        object.__setattr__(self, "w_star", w)

    @staticmethod
    def _check_hessian(H: np.ndarray) -> None:
        _check_positive_definite(H, "H")

    @property
    def n(self) -> int:
        return 1

    @property
    def d(self) -> int:
        return self.H.shape[0]

    @property
    def mean_hessian(self) -> np.ndarray:
        return self.H

    @property
    def minimizer(self) -> np.ndarray:
        return self.w_star

    @property
    def noise_factor(self) -> np.ndarray:
        """A square root L of C (L L^T = C), from the eigendecomposition (C may be singular)."""
        ev, U = np.linalg.eigh(self.C)
        return U * np.sqrt(np.clip(ev, 0.0, None))

    def loss(self, w) -> float:
        delta = np.asarray(w, dtype=np.float64) - self.w_star
        return float(self.c + 0.5 * delta @ self.H @ delta)

    def kernel_data(self) -> KernelProblem:
        return KernelProblem(codes.PROBLEM_GAUSSIAN_NOISE, self.noise_factor, self.H[None, :, :],
                             np.array([self.c]), self.w_star, self.H, 1, self.d)


@dataclass(frozen=True, eq=False)
class SaddleQuadratic(GaussianNoiseQuadratic):
    """L(w) = c + (w - w_s).H(w - w_s)/2 around a strict saddle w_s, gradient oracle as above.

    H is symmetric, non-singular and has at least one negative eigenvalue (a strict saddle:
    seed 004, "Saddle points"; Ge, Huang, Jin and Yuan 2015, Definition 5).  The stable manifold
    of gradient descent is w_s + span of H's positive-eigenvalue eigenvectors.  ``w_star`` names the
    saddle (there is no minimiser); ``simulate`` needs ``check_stability=False`` and a
    ``divergence_threshold`` (the squared exit radius), and reports the first exit step per path
    in ``diverged_at``.

    Args:
        H: (d, d) symmetric non-singular indefinite Hessian.  C: (d, d) PSD noise covariance.
        w_star: (d,) the saddle point (default 0).  c: the loss at the saddle (default 0).
    """

    name: str = "strict saddle with Gaussian gradient noise"

    @staticmethod
    def _check_hessian(H: np.ndarray) -> None:
        eig = np.linalg.eigvalsh(H)
        scale = max(abs(eig[0]), abs(eig[-1]), 1e-300)
        if eig[0] >= 0:
            raise SgdTheoryError(
                f"H: a strict saddle needs a negative eigenvalue; the smallest eigenvalue is {eig[0]:.6g}"
            )
        small = eig[np.argmin(np.abs(eig))]
        if abs(small) <= 1e-12 * scale:
            raise SgdTheoryError(f"H: a strict saddle must be non-degenerate (no zero eigenvalue); one is {small:.3g}")

    @property
    def saddle(self) -> np.ndarray:
        return self.w_star

    @property
    def minimizer(self) -> np.ndarray:
        raise SgdTheoryError("problem: a SaddleQuadratic has no minimiser; its saddle point is .saddle")


@dataclass(frozen=True, eq=False)
class PolynomialFiniteSum1D:
    """L_i(w) = sum_{k=0..K} a_ik w^k (w scalar, d = 1), i = 1..n;  L(w) = mean_i L_i(w).

    The minibatch gradient the engine uses is g_B(w) = mean_{i in B} L_i'(w) + (noise_sd/sqrt(B)) xi
    with xi ~ N(0, 1), one fresh normal per step after the minibatch indices (none is drawn when
    noise_sd = 0); B is the batch size (n for full-batch sampling).  With n = 1 and noise_sd = sigma
    this is gradient descent plus constant Gaussian noise, whose small-step stationary density is
    the Boltzmann density proportional to exp(-2 L(w) / (eta sigma^2)) (seed 003, "Langevin
    Dynamics": d Phi = -g dt + sqrt(eta) eps sqrt(dt), eps ~ N(0, Sigma); "Stationary
    Distributions": in one dimension a Boltzmann distribution; here temperature eta sigma^2/2);
    with n > 1 the minibatch noise is state dependent, Sigma(w)/B with Sigma(w) = Var_i L_i'(w)
    (``gradient_variance``; with replacement; seed 000, "SGD").  Typical instances: a quadratic, a
    double well (w^2 - 1)^2, two minima of equal depth and curvature whose per-example gradients
    disagree by different amounts, a sharp and a flat minimum.

    The engine's w* is ``reference`` (default: the global minimiser): the divergence test and the
    observables "dist_sq" and "moments" are relative to it, and "excess_loss" is the exact
    L(w) - L(reference), evaluated as sum_{k>=1} b_k (w - reference)^k from the Taylor
    coefficients b of L at the reference (``taylor_coefficients``), which avoids cancellation.

    Args:
        coeffs: (n, K+1) finite array, row i = (a_i0, a_i1, ..., a_iK), lowest degree first,
            K >= 2.  The mean loss must be bounded below: K even and mean_i a_iK > 0 (individual
            L_i may be unbounded below, as long as their mean is not).
        noise_sd: sigma >= 0, standard deviation of the additive per-example gradient noise.
        reference: the point the engine measures from (default ``global_minimizer()``); a finite
            float, e.g. one of ``local_minima()``.
    """

    coeffs: np.ndarray
    noise_sd: float = 0.0
    reference: float | None = None
    name: str = "1-D polynomial finite sum"

    def __post_init__(self):
        a = as_float_array(self.coeffs, "coeffs", 2)
        if a.shape[1] < 3:
            raise SgdTheoryError(
                f"coeffs: expected shape (n, K+1) with degree K >= 2 (lowest degree first), got shape {a.shape}"
            )
        K = a.shape[1] - 1
        lead = float(a[:, -1].mean())
        if K % 2 or not lead > 0:
            raise SgdTheoryError(
                f"coeffs: the mean loss must be bounded below: its degree K = {K} (last column) must be even and "
                f"its leading coefficient mean_i a_iK = {lead:.6g} must be > 0"
            )
        object.__setattr__(self, "coeffs", a)
        object.__setattr__(self, "noise_sd", check_float(self.noise_sd, "noise_sd", 0.0, None, low_open=False))
        if self.reference is None:
            ref = self.global_minimizer()
        else:
            r = self.reference
            if np.ndim(r) == 1 and np.size(r) == 1:
                r = np.asarray(r).reshape(-1)[0]
            ref = check_float(r, "reference")
        object.__setattr__(self, "reference", ref)

    # sizes and coefficients

    @property
    def n(self) -> int:
        return self.coeffs.shape[0]

    @property
    def d(self) -> int:
        return 1

    @property
    def degree(self) -> int:
        """K, the number of coefficient columns minus one."""
        return self.coeffs.shape[1] - 1

    @property
    def mean_coefficients(self) -> np.ndarray:
        """(K+1,) coefficients of L = mean_i L_i, lowest degree first."""
        return self.coeffs.mean(axis=0)

    def taylor_coefficients(self, at: float) -> np.ndarray:
        """b with L(at + x) = sum_k b_k x^k: b_k = sum_{j>=k} binom(j, k) abar_j at^(j-k), abar_j = mean_i a_ij.

        Evaluated in exact rational arithmetic from the float64 data and rounded once, so that b_1 =
        L'(at) is accurate even where it nearly vanishes (next to a minimum), and the engine's
        excess loss sum_{k>=1} b_k x^k is accurate to rounding relative to its own size.
        """
        n = self.n
        abar = [sum(Fraction(float(c)) for c in col) / n for col in self.coeffs.T]
        r = Fraction(float(at))
        K = len(abar) - 1
        return np.array([float(sum(comb(j, k) * abar[j] * r ** (j - k) for j in range(k, K + 1)))
                         for k in range(K + 1)])

    # losses and derivatives (w: a float or a shape-(1,) array)

    @staticmethod
    def _x(w) -> float:
        arr = np.asarray(w, dtype=np.float64).reshape(-1)
        if arr.shape != (1,):
            raise SgdTheoryError(f"w: expected a scalar or shape (1,), got shape {np.shape(w)}")
        return float(arr[0])

    def losses(self, w) -> np.ndarray:
        """Per-example losses L_i(w), shape (n,) (Horner)."""
        return npoly.polyval(self._x(w), self.coeffs.T)

    def loss(self, w) -> float:
        """L(w) = mean_i L_i(w)."""
        return float(self.losses(w).mean())

    def gradients(self, w) -> np.ndarray:
        """Per-example gradients L_i'(w), shape (n, 1) (Horner on k a_ik)."""
        return npoly.polyval(self._x(w), npoly.polyder(self.coeffs.T))[:, None]

    def curvatures(self, w) -> np.ndarray:
        """Per-example second derivatives L_i''(w), shape (n,)."""
        return npoly.polyval(self._x(w), npoly.polyder(self.coeffs.T, 2))

    def mean_gradient(self, w) -> float:
        """L'(w)."""
        return float(npoly.polyval(self._x(w), npoly.polyder(self.mean_coefficients)))

    def curvature(self, w) -> float:
        """L''(w)."""
        return float(npoly.polyval(self._x(w), npoly.polyder(self.mean_coefficients, 2)))

    def gradient_variance(self, w) -> float:
        """Sigma(w) = mean_i (L_i'(w) - L'(w))^2, the per-example gradient variance (population form):
        a with-replacement batch of B has gradient-noise variance Sigma(w)/B + noise_sd^2/B."""
        g = self.gradients(w)[:, 0]
        return float(np.mean((g - g.mean()) ** 2))

    # critical points

    def _scale(self, x: float, order: int) -> float:
        """sum_k |d^order/dw^order (a_k w^k)| at |x|: the size of the rounding error of L^(order)(x)."""
        c = npoly.polyder(np.abs(self.mean_coefficients), order)
        return float(npoly.polyval(abs(x), c))

    def _polish(self, x: float) -> float:
        """Newton's method on L' from x while |L'| decreases (at most 20 steps; a step that overflows,
        as next to a degenerate root, ends it)."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            gx = self.mean_gradient(x)
            for _ in range(20):
                h = self.curvature(x)
                if gx == 0.0 or not h != 0.0:
                    break
                y = x - gx / h
                gy = self.mean_gradient(y)
                if not abs(gy) < abs(gx):
                    break
                x, gx = y, gy
        return x

    def critical_points(self) -> np.ndarray:
        """Sorted real roots of L' (numpy.polynomial companion-matrix roots with |Im| <= 1e-6 (1 + |Re|),
        refined by Newton's method, kept if |L'| <= 1e-8 of its rounding scale (+ 1e-300), merged when
        closer than 1e-9 (1 + |x|))."""
        roots = npoly.polyroots(npoly.polyder(self.mean_coefficients))
        out: list[float] = []
        for r in np.atleast_1d(roots):
            if abs(r.imag) > 1e-6 * (1.0 + abs(r.real)):
                continue
            x = self._polish(float(r.real))
            if abs(self.mean_gradient(x)) > 1e-8 * self._scale(x, 1) + 1e-300:  # (floor: subnormal terms)
                continue
            if all(abs(x - y) > 1e-9 * (1.0 + abs(x)) for y in out):
                out.append(x)
        return np.array(sorted(out))

    def local_minima(self) -> np.ndarray:
        """Sorted strict local minima: critical points with L'' > 1e-10 times its rounding scale."""
        return np.array([x for x in self.critical_points() if self.curvature(x) > 1e-10 * self._scale(x, 2)])

    def global_minimizer(self) -> float:
        """argmin_w L(w): the candidate with the smallest L among the real parts of all roots of L'
        (the global minimum is a real critical point) and the refined ``critical_points``; ties
        within 1e-12 (1 + |L|) go to the leftmost; refined by Newton's method when L'' > 0 there."""
        roots = np.atleast_1d(npoly.polyroots(npoly.polyder(self.mean_coefficients)))
        cand = sorted(set(float(r.real) for r in roots) | set(self.critical_points().tolist()))
        with np.errstate(over="ignore", invalid="ignore"):
            values = [self.loss(x) for x in cand]
        low = min(values)
        x = next(c for c, v in zip(cand, values) if v <= low + 1e-12 * (1.0 + abs(low)))
        return self._polish(x) if self.curvature(x) > 0 else x

    @property
    def minimizer(self) -> np.ndarray:
        """(1,) the global minimiser."""
        return np.array([self.global_minimizer()])

    @property
    def w_star(self) -> np.ndarray:
        """(1,) the engine's reference point."""
        return np.array([self.reference])

    @property
    def mean_hessian(self) -> np.ndarray:
        """(1, 1) L''(reference), the curvature at the engine's reference point."""
        return np.array([[self.curvature(self.reference)]])

    def stability_curvature(self) -> float | None:
        """max L'' over the strict local minima (None if there is none); see ``simulate.stability_limit``."""
        return self._stability_curvature

    @cached_property
    def _stability_curvature(self) -> float | None:
        mins = self.local_minima()
        return max(self.curvature(x) for x in mins) if mins.size else None

    def kernel_data(self) -> KernelProblem:
        return self._kernel_data

    @cached_property
    def _kernel_data(self) -> KernelProblem:
        """Built once per instance (the exact Taylor coefficients cost O(n K) rational operations)."""
        b = self.taylor_coefficients(self.reference)
        b[0] = 0.0
        return KernelProblem(codes.PROBLEM_POLY1D, self.coeffs, np.zeros((1, 1, 1)), np.array([self.noise_sd]),
                             self.w_star, self.mean_hessian, self.n, 1, b)


Problem = QuadraticFiniteSum | LinearRegression | GaussianNoiseQuadratic | PolynomialFiniteSum1D


def reference_batch_gradient(problem: Problem, w, idx, xi=None) -> tuple[np.ndarray, float]:
    """Plain-numpy minibatch gradient and loss at ``w`` for indices ``idx`` (the kernel's twin).

    For ``GaussianNoiseQuadratic`` pass the standard-normal draws ``xi`` (d,); the batch size is
    ``len(idx)``.  For ``PolynomialFiniteSum1D`` with noise_sd > 0 pass its standard normal ``xi``
    (a float or shape (1,)): g = mean_{i in idx} L_i'(w) + noise_sd / sqrt(len(idx)) * xi.
    """
    w = np.asarray(w, dtype=np.float64)
    idx = np.asarray(idx)
    if isinstance(problem, PolynomialFiniteSum1D):
        g = problem.gradients(w)[idx].mean(axis=0)
        if problem.noise_sd > 0:
            if xi is None:
                raise SgdTheoryError("xi: a PolynomialFiniteSum1D with noise_sd > 0 needs its standard-normal draw")
            g = g + problem.noise_sd / np.sqrt(len(idx)) * np.asarray(xi, dtype=np.float64).reshape(1)
        return g, float(problem.losses(w)[idx].mean())
    if isinstance(problem, GaussianNoiseQuadratic):
        delta = w - problem.w_star
        g = problem.H @ delta + problem.noise_factor @ (np.asarray(xi) / np.sqrt(len(idx)))
        return g, problem.loss(w)
    if isinstance(problem, QuadraticFiniteSum):
        problem = problem.at_minimum()
    return problem.gradients(w)[idx].mean(axis=0), float(problem.losses(w)[idx].mean())
