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


@njit(cache=True, fastmath=FAST, forceinline=True, _nrt=False, error_model="numpy")
def _mean_gradient(A, v, idx, batch, w, g):
    """g = mean_j r_j x_j with r_j = x_j.w - y_j over the minibatch ``idx``; returns mean_j r_j^2 / 2."""
    d = g.shape[0]
    inv_b = 1.0 / batch
    for k in range(d):
        g[k] = 0.0
    loss = 0.0
    for j in range(batch):
        i = idx[j]
        r = -v[i]
        for k in range(d):
            r += A[i, k] * w[k]
        for k in range(d):
            g[k] += r * A[i, k]
        loss += 0.5 * r * r
    for k in range(d):
        g[k] *= inv_b
    return loss * inv_b


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
