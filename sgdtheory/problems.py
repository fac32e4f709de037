"""Finite-sum problems: per-example losses, gradients and Hessians, validated on construction.

Four quadratic problem classes, each of which the Numba engine simulates (``kernel_data``):

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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._kernels import codes
from .errors import SgdTheoryError, as_float_array, check_symmetric


@dataclass(frozen=True)
class KernelProblem:
    """A problem as the engine sees it: an integer code and arrays (see ``_kernels.steps``)."""

    code: int
    A: np.ndarray
    Hs: np.ndarray
    v: np.ndarray
    w_star: np.ndarray
    Hbar: np.ndarray
    n: int
    d: int


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


Problem = QuadraticFiniteSum | LinearRegression | GaussianNoiseQuadratic


def reference_batch_gradient(problem: Problem, w, idx, xi=None) -> tuple[np.ndarray, float]:
    """Plain-numpy minibatch gradient and loss at ``w`` for indices ``idx`` (the kernel's twin).

    For ``GaussianNoiseQuadratic`` pass the standard-normal draws ``xi`` (d,); the batch size is
    ``len(idx)``.
    """
    w = np.asarray(w, dtype=np.float64)
    idx = np.asarray(idx)
    if isinstance(problem, GaussianNoiseQuadratic):
        delta = w - problem.w_star
        g = problem.H @ delta + problem.noise_factor @ (np.asarray(xi) / np.sqrt(len(idx)))
        return g, problem.loss(w)
    if isinstance(problem, QuadraticFiniteSum):
        problem = problem.at_minimum()
    return problem.gradients(w)[idx].mean(axis=0), float(problem.losses(w)[idx].mean())
