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

One problem per module (record, numpy reference gradient, Numba kernel functions; see ``base``).  To add a
problem: write its module (copy ``linear_regression.py``) and add one line to ``REGISTRY``.
"""

from __future__ import annotations

import numpy as np

from .. import _kernels  # noqa: F401  (first: installs the kernel cache locator)
from .base import KernelProblem
from .gaussian_noise import GaussianNoiseQuadratic
from .linear_regression import LinearRegression
from .polynomial_1d import PolynomialFiniteSum1D
from .quadratic_finite_sum import QuadraticFiniteSum
from .saddle import SaddleQuadratic

#: name -> problem class (the generic tests run every registered problem with every optimizer and sampler)
REGISTRY = {
    "quadratic_finite_sum": QuadraticFiniteSum,
    "linear_regression": LinearRegression,
    "gaussian_noise": GaussianNoiseQuadratic,
    "saddle": SaddleQuadratic,
    "polynomial_1d": PolynomialFiniteSum1D,
}

Problem = QuadraticFiniteSum | LinearRegression | GaussianNoiseQuadratic | PolynomialFiniteSum1D


def reference_batch_gradient(problem: Problem, w, idx, xi=None) -> tuple[np.ndarray, float]:
    """Plain-numpy minibatch gradient and loss at ``w`` for indices ``idx`` (the kernel's twin): the problem's
    ``reference_gradient``.  For ``GaussianNoiseQuadratic`` pass the standard-normal draws ``xi`` (d,); the batch
    size is ``len(idx)``.  For ``PolynomialFiniteSum1D`` with noise_sd > 0 pass its standard normal ``xi``."""
    return problem.reference_gradient(w, np.asarray(idx), xi)


__all__ = ["KernelProblem", "QuadraticFiniteSum", "LinearRegression", "GaussianNoiseQuadratic", "SaddleQuadratic",
           "PolynomialFiniteSum1D", "Problem", "REGISTRY", "reference_batch_gradient"]
