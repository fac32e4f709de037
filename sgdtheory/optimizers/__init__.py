"""Optimizers, one per module, and their registry.

Each module holds an optimizer's record (hyperparameters named and validated), its Numba ``step``, its numpy
reference step and its declared properties (state size, stability limit, conventions); see ``base``.  To add
an optimizer: write its module (copy ``heavy_ball.py``) and add one line to ``REGISTRY`` below.  The engine
compiles one loop per (problem, optimizer) with the optimizer's ``step`` inlined (``_kernels.compose``); the
generic test (``tests/test_registry.py``) runs every registered optimizer against its numpy reference on every
problem and sampler.

The learning rate is passed to ``step`` separately because schedules (``sgdtheory.schedules``) supply it.
"""

from .. import _kernels  # noqa: F401  (first: installs the kernel cache locator)
from ..errors import SgdTheoryError
from .adagrad import AdaGrad
from .adam import Adam
from .adamw import AdamW
from .adaptive import AdaptiveOptimizer
from .amsgrad import AMSGrad
from .base import Optimizer
from .heavy_ball import HeavyBall
from .mcallester_adam import McAllesterAdam
from .nesterov import Nesterov
from .preconditioned import PreconditionedSGD
from .rmsprop import RMSProp
from .sam import SAM
from .sgd import SGD

#: name -> optimizer class: what ``from_name``, configuration files and the generic tests see
REGISTRY = {
    "sgd": SGD,
    "heavy_ball": HeavyBall,
    "nesterov": Nesterov,
    "preconditioned": PreconditionedSGD,
    "adagrad": AdaGrad,
    "rmsprop": RMSProp,
    "adam": Adam,
    "amsgrad": AMSGrad,
    "adam_min": McAllesterAdam,
    "adamw": AdamW,
    "sam": SAM,
}

#: accepted names, with aliases
NAMES = {**REGISTRY, "momentum": HeavyBall}

__all__ = ["Optimizer", "SGD", "HeavyBall", "Nesterov", "PreconditionedSGD", "AdaptiveOptimizer", "AdaGrad",
           "RMSProp", "Adam", "AMSGrad", "McAllesterAdam", "AdamW", "SAM", "from_name", "NAMES", "REGISTRY"]


def from_name(name: str, **hyper) -> Optimizer:
    """Build an optimizer from its lower-case name (a key of ``NAMES``: "sgd", "heavy_ball"/"momentum",
    "nesterov", "adagrad", "rmsprop", "adam", "amsgrad", "adam_min", "adamw", "sam", "preconditioned"),
    e.g. ``from_name("adam", beta1=0.0)``."""
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
