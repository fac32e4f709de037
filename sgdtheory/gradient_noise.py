"""Monte Carlo of the minibatch gradient at a fixed point: its mean and covariance, with intervals.

``sample_gradients`` draws ``n_draws`` minibatch gradients on each of ``n_paths`` independent
paths (streams seeded like ``simulate``) and returns per-path sums; the paths are the independent
replicas behind every interval.  Theory: seed 000 (Huszar), section "SGD" -- E g_B = grad L(w)
and Cov g_B = c_B Sigma(w), with Sigma(w) the per-example gradient covariance and c_B from
``Sampler.noise_factor`` (CLAIMS A1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._kernels.compose import kernel
from ._kernels.rng import ZIG_FI, ZIG_KI, ZIG_WI, path_states
from .errors import SgdTheoryError, as_float_array, check_int
from .problems import LinearRegression, QuadraticFiniteSum
from .sampling import Sampler
from .simulate import _seed_sequence
from .stats import DEFAULT_LEVEL, Estimate, replica_interval


@dataclass
class GradientSample:
    """Per-path sums of (g_B - center) and (g_B - center)(g_B - center)^T over ``n_draws`` draws."""

    center: np.ndarray
    first: np.ndarray  # (paths, d)
    second: np.ndarray  # (paths, d, d)
    zeros: np.ndarray  # (paths,) draws with g_B == center exactly
    n_draws: int

    def mean(self, k: int, level: float = DEFAULT_LEVEL) -> Estimate:
        """E[g_B]_k with an interval over paths."""
        return replica_interval(self.center[k] + self.first[:, k] / self.n_draws, level)

    def second_moment(self, k: int, l: int, level: float = DEFAULT_LEVEL) -> Estimate:
        """E[(g_B - center)_k (g_B - center)_l] with an interval over paths."""
        return replica_interval(self.second[:, k, l] / self.n_draws, level)

    def trace(self, level: float = DEFAULT_LEVEL) -> Estimate:
        """E|g_B - center|^2 with an interval over paths (= tr Cov g_B when center = E g_B)."""
        return replica_interval(np.trace(self.second, axis1=1, axis2=2) / self.n_draws, level)

    def zero_fraction(self) -> float:
        return float(self.zeros.sum() / (self.zeros.size * self.n_draws))


def per_example_gradients(problem, w) -> np.ndarray:
    """(n, d) per-example gradients at w."""
    return problem.gradients(w)


def sample_gradients(problem, w, sampler: Sampler, *, n_draws: int, n_paths: int, seed=0, seed_key=(),
                     center=None) -> GradientSample:
    """Draw minibatch gradients of ``problem`` at ``w``; moments are taken about ``center``
    (default: the full gradient grad L(w), so the second moment is the covariance if unbiased)."""
    if not isinstance(problem, (QuadraticFiniteSum, LinearRegression)):
        raise SgdTheoryError(f"problem: expected a finite-sum problem, got {type(problem).__name__}")
    kp = problem.kernel_data()
    w = as_float_array(w, "w", 1)
    if w.shape != (kp.d,):
        raise SgdTheoryError(f"w: expected shape ({kp.d},), got {w.shape}")
    batch = sampler.validate_for(problem.n)
    n_draws = check_int(n_draws, "n_draws", 1)
    n_paths = check_int(n_paths, "n_paths", 2)
    full = problem.gradients(w).mean(axis=0)
    center = full if center is None else as_float_array(center, "center", 1)
    rng = path_states(_seed_sequence(seed, seed_key), 0, n_paths)
    first = np.zeros((n_paths, kp.d))
    second = np.zeros((n_paths, kp.d, kp.d))
    zeros = np.zeros(n_paths, dtype=np.int64)
    sample_batch_gradients = kernel("gradient_noise", "sample_batch_gradients", problem)
    sample_batch_gradients(kp.A, kp.Hs, kp.v, 1.0, kp.w_star, sampler.code, batch, w, center,
                           n_draws, rng, ZIG_KI, ZIG_WI, ZIG_FI, first, second, zeros)
    return GradientSample(center, first, second, zeros, n_draws)
