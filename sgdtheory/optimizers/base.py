"""The optimizer record protocol shared by all optimizers (one optimizer per module; the registry is
``sgdtheory.optimizers.REGISTRY``).

An optimizer module holds

* its record (a frozen dataclass): the hyperparameters, named and validated on construction, and
  ``hyperparameters()``, the float64 vector its kernel step reads;
* ``step(hp, lr, w, state, g)``: its ``@njit`` update in place, which ``_kernels.compose`` binds into the
  engine's loop.  It is compiled on its own, without fastmath and NOT Numba-inlined (an inlined function takes
  the caller's flags, and the engine's loop reassociates the gradients' sums): every operation in the order
  written, so the step agrees bit for bit with the numpy reference, whether or not LLVM inlines it;);
* ``_reference_update``: the same update in plain numpy (``reference_step``);
* its declared properties: ``state_size(d)`` (momentum buffer, moment estimates and step counter
  packed in one float64 vector), ``stability_limit(problem, sampler)`` and the convention notes of
  its docstring.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Optimizer:
    """Base record.  Subclasses implement ``_reference_update``; their module defines ``step``."""

    @classmethod
    def example(cls, d: int) -> Optimizer:
        """A small valid instance for dimension d (the generic tests run every registered optimizer)."""
        return cls()

    def hyperparameters(self) -> np.ndarray:
        """The float64 parameter vector the kernel reads (``hp`` of the module's ``step``)."""
        return np.zeros(1)

    def state_size(self, d: int) -> int:
        return 0

    def validate_for(self, d: int) -> None:
        """Raise an SgdTheoryError naming the hyperparameter if it does not fit dimension d."""

    def init_state(self, d: int) -> np.ndarray:
        return np.zeros(self.state_size(d))

    def kernel_module(self) -> str:
        """The module whose ``step(hp, lr, w, state, g)`` the composed kernels inline (``_kernels.compose``)."""
        return type(self).__module__

    def kernel_step(self):
        """The Numba step function itself (``step`` of ``kernel_module()``), e.g. for tests."""
        return sys.modules[self.kernel_module()].step

    def kernel_second_gradient(self) -> bool:
        """True when a step needs a second gradient on the same minibatch (SAM)."""
        return False

    def stability_limit(self, problem, sampler) -> tuple[float, str]:
        """Largest stable constant learning rate and the criterion (see ``simulate.stability_limit``)."""
        from ..errors import SgdTheoryError

        raise SgdTheoryError(f"optimizer: no stability limit is known for {type(self).__name__} (pass "
                             "check_stability=False to run it unchecked)")

    def reference_step(self, params, state, grad, lr: float) -> tuple[np.ndarray, np.ndarray]:
        """One update in plain numpy: (params, state, grad) -> (new params, new state)."""
        w = np.array(params, dtype=np.float64, copy=True)
        st = np.array(state, dtype=np.float64, copy=True)
        g = np.asarray(grad, dtype=np.float64)
        return self._reference_update(w, st, g, float(lr))

    def _reference_update(self, w, state, g, lr):
        raise NotImplementedError


def stability_hessian(problem) -> np.ndarray | None:
    """The Hessian the deterministic stability limits use: the mean Hessian, or for a ``PolynomialFiniteSum1D``
    [[max L'']] over its strict local minima (None: it has no strict local minimum)."""
    stab = getattr(problem, "stability_curvature", None)
    if stab is not None:
        lam = stab()
        return None if lam is None else np.array([[lam]])
    return problem.mean_hessian


def largest_curvature(problem) -> float | None:
    """lambda_max of ``stability_hessian(problem)`` (None when there is none)."""
    hess = stability_hessian(problem)
    return None if hess is None else float(np.linalg.eigvalsh(hess)[-1])
