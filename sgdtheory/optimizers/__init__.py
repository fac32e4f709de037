"""Optimizers as small records: the update rule (docstring math), a numpy reference step, a Numba code.

Every optimizer has

* ``code`` and ``hyperparameters()`` -- how the engine's ``optimizer_step`` kernel sees it;
* ``state_size(d)`` and ``init_state(d)`` -- its state vector (momentum buffer, moment estimates,
  step counter; all packed in one float64 vector so later optimizers fit the same kernel shape);
* ``reference_step(params, state, grad, lr)`` -- plain numpy, usable on its own, returning
  ``(new_params, new_state)`` without modifying its inputs.

The learning rate is passed separately because schedules (``sgdtheory.schedules``) supply it.

Implemented: SGD (``sgd``), heavy ball and Nesterov momentum (``momentum``), a fixed
preconditioner (``preconditioned``), and the adaptive methods AdaGrad, RMSProp, Adam and AMSGrad
(``adaptive``; Adam's step counter lives in its state vector, since the kernel has no t argument),
McAllester's min(t, N) Adam and AdamW (``adaptive``), and SAM (``sam``), a wrapper around any of
these that takes a second gradient at the perturbed point on the same minibatch; its reference
step takes that gradient function as an extra argument.
"""

from .adaptive import AdaGrad, Adam, AdamW, AdaptiveOptimizer, AMSGrad, McAllesterAdam, RMSProp
from .base import Optimizer
from .momentum import HeavyBall, Nesterov
from .preconditioned import PreconditionedSGD
from .sam import SAM
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "HeavyBall", "Nesterov", "PreconditionedSGD", "AdaptiveOptimizer", "AdaGrad",
           "RMSProp", "Adam", "AMSGrad", "McAllesterAdam", "AdamW", "SAM", "from_name", "NAMES"]

NAMES = {"sgd": SGD, "heavy_ball": HeavyBall, "momentum": HeavyBall, "nesterov": Nesterov, "adagrad": AdaGrad,
         "rmsprop": RMSProp, "adam": Adam, "amsgrad": AMSGrad, "adam_min": McAllesterAdam, "adamw": AdamW, "sam": SAM}


def from_name(name: str, **hyper) -> Optimizer:
    """Build an optimizer from its lower-case name (a key of ``NAMES``: "sgd", "heavy_ball"/"momentum",
    "nesterov", "adagrad", "rmsprop", "adam", "amsgrad", "adam_min", "sam"), e.g. ``from_name("adam", beta1=0.0)``."""
    from ..errors import SgdTheoryError

    table = NAMES
    if name not in table:
        raise SgdTheoryError(f"optimizer: unknown name {name!r}; valid: {', '.join(sorted(table))}")
    import dataclasses

    valid = [f.name for f in dataclasses.fields(table[name])]
    unknown = sorted(set(hyper) - set(valid))
    if unknown:
        raise SgdTheoryError(f"optimizer {name}: unknown hyperparameter(s) {', '.join(unknown)}; "
                             f"valid: {', '.join(valid) or 'none'}")
    return table[name](**hyper)
