"""Sharpness-aware minimisation (SAM) as a wrapper around any base optimizer."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import njit

from ..errors import SgdTheoryError, check_float
from .base import Optimizer
from .sgd import SGD


@njit(cache=True, fastmath=False, forceinline=True, _nrt=False, error_model="numpy")
def perturb(rho, w, g, w2):
    """w2 = w + rho g / |g| (Foret et al. 2021, eq. 2 with p = 2), and w2 = w when g = 0; |g|^2 summed in the
    order k = 0..d-1 and the scale rho / sqrt(|g|^2) formed once, as ``SAM.perturbation`` (bit for bit)."""
    d = w.shape[0]
    q = 0.0
    for k in range(d):
        q += g[k] * g[k]
    if q > 0.0:
        scale = rho / np.sqrt(q)
        for k in range(d):
            w2[k] = w[k] + scale * g[k]
    else:
        for k in range(d):
            w2[k] = w[k]


@dataclass(frozen=True)
class SAM(Optimizer):
    """SAM (Foret, Kleiner, Mobahi and Neyshabur, ICLR 2021, Algorithm 1, p = 2) around ``base``:

        g = grad L_B(w_t)                          (minibatch B of step t)
        eps_hat = rho g / |g|_2                    (eq. 2: the first-order argmax of L_B(w + eps), |eps| <= rho)
        g_SAM = grad L_B(w_t + eps_hat)            (the SAME minibatch B; second gradient evaluation)
        w_{t+1}, state = base update of (w_t, state) with the gradient g_SAM and rate eta_t.

    With ``base = SGD()`` this is seed 000's "practical SAM algorithm" (Huszar, section on SAM):
    w_{t+1} = w_t - eta grad L(w_t + rho grad L(w_t) / |grad L(w_t)|).  Conventions:

    * g = 0: eps_hat = 0 (no perturbation, so g_SAM = g); Foret et al.'s code divides by
      |g| + 1e-12 instead, which also gives eps_hat = 0 at g = 0 but shrinks eps_hat for |g| ~ 1e-12.
    * Noisy problems (``GaussianNoiseQuadratic``, ``PolynomialFiniteSum1D`` with noise_sd > 0): the
      Gaussian gradient noise is part of the sample, so the second gradient reuses the step's noise
      draw (it is not redrawn): g_SAM = H (delta + eps_hat) + L xi with the same xi.  No extra random
      numbers are drawn, so a SAM path sees the same minibatches and noise as the SGD path would
      at the same iterates.
    * The base optimizer's state (momentum, moments) is updated with g_SAM only; the engine's
      observables (minibatch loss, |g|^2) are those of the first gradient, at w_t.
    * |g|^2 is summed in coordinate order and eps_hat = (rho / sqrt(|g|^2)) g, in the kernel
      (``perturb`` below) and in ``perturbation`` alike (bit for bit).

    Each step costs two gradient evaluations.  The composed kernel (``_kernels.compose``) inlines the BASE
    optimizer's ``step`` and takes the second gradient with the problem's ``regradient`` (``engine.run_paths``);
    the hyperparameters are (rho, base hyperparameters...), the state the base optimizer's.

    Args:
        rho: the neighbourhood radius, >= 0 (rho = 0 is the base optimizer).  base: any optimizer of
            ``sgdtheory.optimizers`` except SAM itself (default SGD()).
    """

    rho: float = 0.05
    base: Optimizer = field(default_factory=SGD)

    def __post_init__(self):
        object.__setattr__(self, "rho", check_float(self.rho, "rho", 0.0, None, low_open=False))
        if not isinstance(self.base, Optimizer):
            raise SgdTheoryError(f"base: expected an sgdtheory optimizer, got {type(self.base).__name__}")
        if isinstance(self.base, SAM):
            raise SgdTheoryError("base: SAM cannot wrap SAM")

    @classmethod
    def example(cls, d: int) -> SAM:
        """SAM around heavy ball (a base with state), rho = 0.1."""
        from .heavy_ball import HeavyBall

        return cls(0.1, HeavyBall(0.5))

    def hyperparameters(self) -> np.ndarray:
        return np.concatenate([[self.rho], self.base.hyperparameters()])

    def kernel_module(self) -> str:
        """The base optimizer's module: its ``step`` is applied to the second gradient."""
        return self.base.kernel_module()

    def kernel_second_gradient(self) -> bool:
        return True

    def stability_limit(self, problem, sampler) -> tuple[float, str]:
        """The base optimizer's limit (necessary: on a quadratic SAM's step is the base step plus a bounded term,
        eta H eps_hat with |eps_hat| = rho, so it stays bounded exactly when the base iteration does; near a
        minimum it does not converge but settles in a cycle of size O(eta h rho))."""
        limit, how = self.base.stability_limit(problem, sampler)
        return limit, f"SAM: its base optimizer's limit ({how})"

    def state_size(self, d: int) -> int:
        return self.base.state_size(d)

    def validate_for(self, d: int) -> None:
        self.base.validate_for(d)

    def init_state(self, d: int) -> np.ndarray:
        return self.base.init_state(d)

    def perturbation(self, params, grad) -> np.ndarray:
        """w + eps_hat = w + rho g / |g| (w itself when g = 0), in the kernel's operation order."""
        w = np.array(params, dtype=np.float64, copy=True)
        g = np.asarray(grad, dtype=np.float64)
        q = 0.0
        for gk in g:
            q += float(gk) * float(gk)
        if q > 0.0:
            return w + (self.rho / np.sqrt(q)) * g
        return w

    def reference_step(self, params, state, grad, lr: float, gradient_at=None) -> tuple[np.ndarray, np.ndarray]:
        """One SAM step in plain numpy: ``grad`` is the minibatch gradient at ``params`` and
        ``gradient_at(w)`` must return the gradient at w on the same minibatch (and noise)."""
        if gradient_at is None:
            raise SgdTheoryError("gradient_at: SAM's reference step needs the minibatch gradient function "
                                 "(its second gradient is taken at the perturbed point)")
        g2 = np.asarray(gradient_at(self.perturbation(params, grad)), dtype=np.float64)
        return self.base.reference_step(params, state, g2, lr)
