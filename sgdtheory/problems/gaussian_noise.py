"""The quadratic with Gaussian gradient noise: SGD on it is the discrete Ornstein-Uhlenbeck process (seed 003)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .._kernels.rng import fill_normals
from .._kernels.steps import FAST
from ..errors import SgdTheoryError, as_float_array, check_symmetric
from .base import KernelProblem, ProblemBase, check_positive_definite, quadratic_excess

excess_loss = quadratic_excess


@njit(cache=True, fastmath=FAST, forceinline=True, _nrt=False, error_model="numpy")
def gradient(A, Hs, v, noise_scale, idx, batch, delta, w, g, z, S, row, ki, wi, fi):
    """g = H delta + L z with z = noise_scale xi, xi ~ N(0, I) (d normals from the generator S[row]), ``Hs[0]`` = H,
    ``A`` = L; returns the full loss c + delta.H delta / 2 (``v[0]`` = c).  ``z`` keeps the noise for
    ``regradient``.  Inlined into the engine's loop, which has reassociation (``FAST``)."""
    d = g.shape[0]
    fill_normals(S, row, z, d, noise_scale, ki, wi, fi)
    quad = 0.0
    for k in range(d):
        hk = 0.0
        nk = 0.0
        for l in range(d):
            hk += Hs[0, k, l] * delta[l]
            nk += A[k, l] * z[l]
        g[k] = hk + nk
        quad += delta[k] * hk
    return v[0] + 0.5 * quad


@njit(cache=True, fastmath=FAST, forceinline=True, _nrt=False, error_model="numpy")
def regradient(A, Hs, v, idx, batch, delta, w, g, z):
    """H delta + L z with the step's noise ``z`` (nothing is drawn)."""
    d = g.shape[0]
    for k in range(d):
        hk = 0.0
        nk = 0.0
        for l in range(d):
            hk += Hs[0, k, l] * delta[l]
            nk += A[k, l] * z[l]
        g[k] = hk + nk


@dataclass(frozen=True, eq=False)
class GaussianNoiseQuadratic(ProblemBase):
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

    @classmethod
    def example(cls) -> GaussianNoiseQuadratic:
        """d = 3, H positive definite, C a full-rank covariance not commuting with H, w* != 0 (generic tests)."""
        rng = np.random.default_rng(9)
        B = rng.standard_normal((3, 3))
        return cls(B @ B.T / 3 + np.eye(3), np.cov(rng.standard_normal((3, 10))), rng.standard_normal(3))

    @staticmethod
    def _check_hessian(H: np.ndarray) -> None:
        check_positive_definite(H, "H")

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
        return KernelProblem(self.noise_factor, self.H[None, :, :],
                             np.array([self.c]), self.w_star, self.H, 1, self.d)

    def reference_gradient(self, w, idx, xi=None) -> tuple[np.ndarray, float]:
        """Plain-numpy gradient H delta + L xi / sqrt(B) (B = len(idx); ``xi``: the d standard normals) and loss."""
        if xi is None:
            raise SgdTheoryError("xi: a GaussianNoiseQuadratic's gradient needs its d standard-normal draws")
        delta = np.asarray(w, dtype=np.float64) - self.w_star
        g = self.H @ delta + self.noise_factor @ (np.asarray(xi) / np.sqrt(len(idx)))
        return g, self.loss(w)
