"""The strict saddle with Gaussian gradient noise (seed 004, "Saddle points"); kernels: ``gaussian_noise``'s."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import SgdTheoryError
from .gaussian_noise import GaussianNoiseQuadratic


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
    KERNEL_MODULE = "sgdtheory.problems.gaussian_noise"

    @classmethod
    def example(cls) -> SaddleQuadratic:
        """d = 2, H = diag(1, -0.5), isotropic noise, saddle at (0.3, -0.2) (generic tests)."""
        return cls(np.diag([1.0, -0.5]), 0.5 * np.eye(2), np.array([0.3, -0.2]))

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
