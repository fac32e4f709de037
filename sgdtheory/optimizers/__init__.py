"""Optimizers as small records: the update rule (docstring math), a numpy reference step, a Numba code.

Every optimizer has

* ``code`` and ``hyperparameters()`` -- how the engine's ``optimizer_step`` kernel sees it;
* ``state_size(d)`` and ``init_state(d)`` -- its state vector (momentum buffer, moment estimates,
  step counter; all packed in one float64 vector so later optimizers fit the same kernel shape);
* ``reference_step(params, state, grad, lr)`` -- plain numpy, usable on its own, returning
  ``(new_params, new_state)`` without modifying its inputs.

The learning rate is passed separately because schedules (``sgdtheory.schedules``) supply it.
AdaGrad, RMSProp, Adam, AMSGrad and SAM (a wrapper needing a second gradient) slot in as new codes.
"""

from .base import Optimizer
from .momentum import HeavyBall, Nesterov
from .preconditioned import PreconditionedSGD
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "HeavyBall", "Nesterov", "PreconditionedSGD", "from_name"]


def from_name(name: str, **hyper) -> Optimizer:
    """Build an optimizer from its lower-case name ("sgd", "heavy_ball", "nesterov")."""
    from ..errors import SgdTheoryError

    table = {"sgd": SGD, "heavy_ball": HeavyBall, "momentum": HeavyBall, "nesterov": Nesterov}
    if name not in table:
        raise SgdTheoryError(f"optimizer: unknown name {name!r}; valid: {', '.join(sorted(table))}")
    return table[name](**hyper)
