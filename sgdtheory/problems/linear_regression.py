"""Linear regression, L_i(w) = (x_i.w - y_i)^2 / 2: the quadratic finite sum with H_i = x_i x_i^T."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numba import njit

from .._kernels.steps import FAST
from ..errors import SgdTheoryError, as_float_array
from .base import KernelProblem, ProblemBase, check_positive_definite, quadratic_excess
from .quadratic_finite_sum import QuadraticFiniteSum

excess_loss = quadratic_excess


#: reassociation and contraction (FMA) in the gradient: the twin tests compare it with ``reference_gradient`` to
#: rounding (rtol 1e-10)
_FAST_FMA = FAST | {"contract"}


@njit(cache=True, fastmath=_FAST_FMA, forceinline=True, _nrt=False, error_model="numpy")
def _mean_gradient(A, v, idx, batch, w, g):
    """g = mean_j r_j x_j with r_j = x_j.w - y_j over the minibatch ``idx``; returns mean_j r_j^2 / 2.

    The samples are taken eight at a time (then four, then one): their residuals in one pass over ``w`` and
    one update ``g += sum_j (r_j / B) x_j`` per group, the first group writing ``g`` instead of adding to it.
    ``g`` is an array the compiler cannot keep in registers (it may alias ``A``), so every update is a store
    and a reload on the path from ``w`` to the next ``w``; one update per sample (and a zeroing and a final
    scaling by 1 / B) made that chain of store-to-load latencies the bottleneck of linear-regression SGD.
    Grouped, the engine runs W1 (d = 16, B = 8, one thread) 1.5x faster (14.0 -> 21.4 million path-steps/s);
    the sum is reassociated, which ``FAST`` allows anyway.
    """
    d = g.shape[0]
    inv_b = 1.0 / batch
    loss = 0.0
    j = 0
    first = True
    while j + 8 <= batch:
        i0, i1, i2, i3 = idx[j], idx[j + 1], idx[j + 2], idx[j + 3]
        i4, i5, i6, i7 = idx[j + 4], idx[j + 5], idx[j + 6], idx[j + 7]
        r0, r1, r2, r3 = -v[i0], -v[i1], -v[i2], -v[i3]
        r4, r5, r6, r7 = -v[i4], -v[i5], -v[i6], -v[i7]
        for k in range(d):
            wk = w[k]
            r0 += A[i0, k] * wk
            r1 += A[i1, k] * wk
            r2 += A[i2, k] * wk
            r3 += A[i3, k] * wk
            r4 += A[i4, k] * wk
            r5 += A[i5, k] * wk
            r6 += A[i6, k] * wk
            r7 += A[i7, k] * wk
        loss += ((r0 * r0 + r1 * r1) + (r2 * r2 + r3 * r3)) + ((r4 * r4 + r5 * r5) + (r6 * r6 + r7 * r7))
        r0, r1, r2, r3 = r0 * inv_b, r1 * inv_b, r2 * inv_b, r3 * inv_b
        r4, r5, r6, r7 = r4 * inv_b, r5 * inv_b, r6 * inv_b, r7 * inv_b
        if first:
            for k in range(d):
                g[k] = (((r0 * A[i0, k] + r1 * A[i1, k]) + (r2 * A[i2, k] + r3 * A[i3, k]))
                        + ((r4 * A[i4, k] + r5 * A[i5, k]) + (r6 * A[i6, k] + r7 * A[i7, k])))
            first = False
        else:
            for k in range(d):
                g[k] += (((r0 * A[i0, k] + r1 * A[i1, k]) + (r2 * A[i2, k] + r3 * A[i3, k]))
                         + ((r4 * A[i4, k] + r5 * A[i5, k]) + (r6 * A[i6, k] + r7 * A[i7, k])))
        j += 8
    if j + 4 <= batch:
        i0, i1, i2, i3 = idx[j], idx[j + 1], idx[j + 2], idx[j + 3]
        r0, r1, r2, r3 = -v[i0], -v[i1], -v[i2], -v[i3]
        for k in range(d):
            wk = w[k]
            r0 += A[i0, k] * wk
            r1 += A[i1, k] * wk
            r2 += A[i2, k] * wk
            r3 += A[i3, k] * wk
        loss += (r0 * r0 + r1 * r1) + (r2 * r2 + r3 * r3)
        r0, r1, r2, r3 = r0 * inv_b, r1 * inv_b, r2 * inv_b, r3 * inv_b
        if first:
            for k in range(d):
                g[k] = (r0 * A[i0, k] + r1 * A[i1, k]) + (r2 * A[i2, k] + r3 * A[i3, k])
            first = False
        else:
            for k in range(d):
                g[k] += (r0 * A[i0, k] + r1 * A[i1, k]) + (r2 * A[i2, k] + r3 * A[i3, k])
        j += 4
    if first:
        for k in range(d):
            g[k] = 0.0
    while j < batch:
        i = idx[j]
        r = -v[i]
        for k in range(d):
            r += A[i, k] * w[k]
        loss += r * r
        r *= inv_b
        for k in range(d):
            g[k] += r * A[i, k]
        j += 1
    return 0.5 * loss * inv_b


@njit(cache=True, fastmath=FAST, forceinline=True, _nrt=False, error_model="numpy")
def gradient(A, Hs, v, noise_scale, idx, batch, delta, w, g, z, S, row, ki, wi, fi):
    """r_j = x_j.w - y_j, g = mean_j r_j x_j, loss = mean_j r_j^2 / 2 with ``A`` = X, ``v`` = y.  Inlined into
    the engine's loop, which has reassociation (``FAST``: the dot products vectorise): agrees with
    ``reference_gradient`` to rounding."""
    return _mean_gradient(A, v, idx, batch, w, g)


@njit(cache=True, fastmath=FAST, forceinline=True, _nrt=False, error_model="numpy")
def regradient(A, Hs, v, idx, batch, delta, w, g, z):
    """The minibatch gradient at another point ``w`` on the same minibatch."""
    _mean_gradient(A, v, idx, batch, w, g)


@dataclass(frozen=True, eq=False)
class LinearRegression(ProblemBase):
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
        check_positive_definite(X.T @ X / X.shape[0], "X")
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "y", y)

    @classmethod
    def example(cls) -> LinearRegression:
        """n = 7, d = 3, Gaussian design and targets (generic tests)."""
        rng = np.random.default_rng(8)
        return cls(rng.standard_normal((7, 3)), rng.standard_normal(7))

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
        return KernelProblem(self.X, np.zeros((1, 1, 1)), self.y,
                             self.minimizer, self.mean_hessian, self.n, self.d)

    def reference_gradient(self, w, idx, xi=None) -> tuple[np.ndarray, float]:
        """Plain-numpy minibatch gradient and loss at ``w`` for the indices ``idx`` (the kernel's twin)."""
        return self.gradients(w)[idx].mean(axis=0), float(self.losses(w)[idx].mean())
