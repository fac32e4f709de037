"""What every problem module shares: the engine's view of a problem (``KernelProblem``), the kernel-module
convention, the quadratic excess loss, and a positive-definiteness check.

A problem module (one per problem; the registry is ``sgdtheory.problems.REGISTRY``) holds the record (data
validated on construction), its numpy reference gradient (``reference_gradient``) and, as module-level Numba
functions that ``_kernels.compose`` binds into the engine's loop (contracts in ``_kernels.slots``):

* ``gradient(A, Hs, v, noise_scale, idx, batch, delta, w, g, z, S, row, ki, wi, fi) -> minibatch loss``,
* ``regradient(A, Hs, v, idx, batch, delta, w, g, z)``: the gradient at another point on the same minibatch and
  noise (SAM's second gradient; nothing is drawn),
* ``excess_loss(delta, Hbar, excess_poly) -> L(w) - L(w*)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import njit

from .._kernels.steps import FAST

from ..errors import SgdTheoryError


@dataclass(frozen=True)
class KernelProblem:
    """A problem as the engine sees it: arrays (see the module docstring and ``_kernels.slots``).

    ``excess_poly`` is empty except for the 1-D polynomial problem, where it holds the mean loss's
    Taylor coefficients at ``w_star`` (the engine's excess-loss formula; ``_kernels.engine._observe``).
    """

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




class ProblemBase:
    """Mixin of the problem records: where their kernel functions live."""

    #: the module holding ``gradient``, ``regradient`` and ``excess_loss`` (default: the class's own module)
    KERNEL_MODULE: str | None = None

    @classmethod
    def kernel_module(cls) -> str:
        return cls.KERNEL_MODULE or cls.__module__

    @classmethod
    def kernel_functions(cls):
        """The module holding the Numba ``gradient``, ``regradient`` and ``excess_loss`` (e.g. for tests)."""
        import importlib

        return importlib.import_module(cls.kernel_module())


@njit(cache=True, fastmath=FAST, forceinline=True, _nrt=False, error_model="numpy")
def quadratic_excess(delta, Hbar, excess_poly):
    """delta.Hbar delta / 2 with (Hbar delta)_k summed over l in order: the excess loss of a quadratic problem."""
    d = delta.shape[0]
    q = 0.0
    for k in range(d):
        hk = 0.0
        for l in range(d):
            hk += Hbar[k, l] * delta[l]
        q += delta[k] * hk
    return 0.5 * q


def check_positive_definite(Hbar: np.ndarray, name: str) -> None:
    """SgdTheoryError naming ``name`` unless the smallest eigenvalue of Hbar exceeds 1e-12 of the largest."""
    eig = np.linalg.eigvalsh(Hbar)
    if eig[0] <= 1e-12 * max(abs(eig[-1]), 1e-300):
        raise SgdTheoryError(
            f"{name}: the mean Hessian must be positive definite; its smallest eigenvalue is {eig[0]:.6g}"
        )
