"""The one-dimensional polynomial finite sum L_i(w) = sum_k a_ik w^k, with optional Gaussian gradient noise."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from math import comb

import numpy as np
from numba import njit
from numpy.polynomial import polynomial as npoly

from .._kernels.rng import fill_normals
from .._kernels.steps import FAST
from ..errors import SgdTheoryError, as_float_array, check_float
from .base import KernelProblem, ProblemBase


@njit(cache=True, fastmath=FAST, forceinline=True, _nrt=False, error_model="numpy")
def _mean_derivative(A, idx, batch, x):
    """(mean_j L_i'(x), mean_j L_i(x)) over the minibatch ``idx`` by Horner's rule (``A`` = a_ik, lowest degree first)."""
    inv_b = 1.0 / batch
    deg = A.shape[1] - 1
    gs = 0.0
    loss = 0.0
    for j in range(batch):
        i = idx[j]
        p = deg * A[i, deg]  # Horner for L_i'
        q = A[i, deg]  # Horner for L_i
        for k in range(deg - 1, 0, -1):
            p = p * x + k * A[i, k]
            q = q * x + A[i, k]
        gs += p
        loss += q * x + A[i, 0]
    return gs * inv_b, loss * inv_b


@njit(cache=True, fastmath=FAST, forceinline=True, _nrt=False, error_model="numpy")
def gradient(A, Hs, v, noise_scale, idx, batch, delta, w, g, z, S, row, ki, wi, fi):
    """g = mean_j L_i'(w) + v[0] noise_scale xi with L_i'(w) = sum_{k>=1} k a_ik w^(k-1) and L_i(w) = sum_k a_ik w^k
    by Horner's rule (``A`` = a_ik, n x (K+1), lowest degree first); the standard normal xi comes from S[row] and
    is drawn only when v[0] (the noise standard deviation) is > 0, after the indices; ``z[0]`` keeps it for
    ``regradient``.  Returns the minibatch loss mean_j L_i(w) (without noise)."""
    gs, loss = _mean_derivative(A, idx, batch, w[0])
    if v[0] > 0.0:
        fill_normals(S, row, z, 1, v[0] * noise_scale, ki, wi, fi)
        gs += z[0]
    g[0] = gs
    return loss


@njit(cache=True, fastmath=FAST, forceinline=True, _nrt=False, error_model="numpy")
def regradient(A, Hs, v, idx, batch, delta, w, g, z):
    """mean_j L_i'(w) + z[0] (the step's noise, when noise_sd = v[0] > 0; nothing is drawn)."""
    gs, _ = _mean_derivative(A, idx, batch, w[0])
    if v[0] > 0.0:
        gs += z[0]
    g[0] = gs


@njit(cache=True, fastmath=FAST, forceinline=True, _nrt=False, error_model="numpy")
def excess_loss(delta, Hbar, excess_poly):
    """L(w) - L(w*) = sum_{k>=1} b_k delta^k by Horner's rule, b = ``excess_poly`` the mean loss's Taylor
    coefficients at w* (b_0 is not read): exact to rounding, without cancelling two O(1) values."""
    b = excess_poly
    x = delta[0]
    q = b[b.shape[0] - 1]
    for k in range(b.shape[0] - 2, 0, -1):
        q = q * x + b[k]
    return q * x


@dataclass(frozen=True, eq=False)
class PolynomialFiniteSum1D(ProblemBase):
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

    @classmethod
    def example(cls) -> PolynomialFiniteSum1D:
        """Two quartic double wells with different slopes and Gaussian gradient noise 0.3 (generic tests)."""
        return cls([[1.0, 0.5, -2.0, 0.0, 1.0], [1.0, -0.5, -2.0, 0.2, 1.0]], noise_sd=0.3)

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
        return KernelProblem(self.coeffs, np.zeros((1, 1, 1)), np.array([self.noise_sd]),
                             self.w_star, self.mean_hessian, self.n, 1, b)

    def reference_gradient(self, w, idx, xi=None) -> tuple[np.ndarray, float]:
        """Plain-numpy mean_{i in idx} L_i'(w) + noise_sd / sqrt(len(idx)) xi and the minibatch loss (``xi``: the
        standard normal, needed when noise_sd > 0)."""
        g = self.gradients(w)[idx].mean(axis=0)
        if self.noise_sd > 0:
            if xi is None:
                raise SgdTheoryError("xi: a PolynomialFiniteSum1D with noise_sd > 0 needs its standard-normal draw")
            g = g + self.noise_sd / np.sqrt(len(idx)) * np.asarray(xi, dtype=np.float64).reshape(1)
        return g, float(self.losses(w)[idx].mean())
