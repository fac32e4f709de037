"""Preconditioned ("second-order") SGD."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from ..errors import SgdTheoryError, as_float_array
from .base import Optimizer, stability_hessian


@njit(cache=True, fastmath=False, forceinline=True, _nrt=False, error_model="numpy")
def step(hp, lr, w, state, g):
    """w_k <- w_k - lr (sum_l F_kl g_l), summed in order l = 0..d-1 (hp = F row-major, d x d)."""
    d = w.shape[0]
    for k in range(d):
        s = 0.0
        for l in range(d):
            s += hp[k * d + l] * g[l]
        w[k] -= lr * s


@dataclass(frozen=True, eq=False)
class PreconditionedSGD(Optimizer):
    """w_{t+1} = w_t - eta_t F g_t with a fixed d x d preconditioner F.

    Source: seed 000 (Huszar), "Note on second-order SGD": if F is positive definite the expected
    step -eta F grad L is a descent direction (grad L . F grad L > 0) and the convergence argument
    of plain SGD goes through; natural gradient descent is the example.  F need not be symmetric;
    an indefinite F is CLAIMS A4's negative control.  The product F g is summed in the order
    l = 0..d-1 in both the kernel and the reference, so the two agree bit for bit.

    Args:
        F: (d, d) finite matrix.
    """

    F: np.ndarray = None

    def __post_init__(self):
        F = as_float_array(self.F, "F", 2)
        if F.shape[0] != F.shape[1]:
            raise SgdTheoryError(f"F: expected a square matrix, got shape {F.shape}")
        object.__setattr__(self, "F", F)

    @classmethod
    def example(cls, d: int) -> PreconditionedSGD:
        """F = I + 0.2 (strictly upper triangle): non-symmetric, positive definite symmetric part."""
        return cls(np.eye(d) + 0.2 * np.triu(np.ones((d, d)), 1))

    def hyperparameters(self) -> np.ndarray:
        return self.F.reshape(-1).copy()

    def validate_for(self, d: int) -> None:
        if self.F.shape != (d, d):
            raise SgdTheoryError(f"F: expected shape ({d}, {d}) to match the problem, got {self.F.shape}")

    @property
    def is_positive_definite(self) -> bool:
        """x.F x > 0 for all x != 0, i.e. the symmetric part of F is positive definite."""
        return bool(np.linalg.eigvalsh(0.5 * (self.F + self.F.T))[0] > 0)

    def stability_limit(self, problem, sampler) -> tuple[float, str]:
        """min_k 2 Re mu_k / |mu_k|^2 over the eigenvalues mu_k of F Hbar: stability of I - eta F Hbar (mean
        iterate); 0 when some Re mu_k <= 0 (no rate is stable)."""
        hess = stability_hessian(problem)
        if hess is None:
            return np.inf, "none: L has no strict local minimum, so linear stability gives no limit"
        mu = np.linalg.eigvals(self.F @ hess)
        if np.any(mu.real <= 0):
            return 0.0, "no learning rate is stable: F Hbar has an eigenvalue with non-positive real part"
        return float(np.min(2 * mu.real / np.abs(mu) ** 2)), "stability of I - eta F Hbar (mean iterate)"

    def _reference_update(self, w, state, g, lr):
        d = w.shape[0]
        out = w.copy()
        for k in range(d):
            s = 0.0
            for l in range(d):
                s += float(self.F[k, l]) * float(g[l])
            out[k] = w[k] - lr * s
        return out, state
