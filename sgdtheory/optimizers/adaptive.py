"""The base of the adaptive (per-coordinate step size) optimizers, each in its own module: ``adagrad``, ``rmsprop``,
``adam``, ``amsgrad``, ``mcallester_adam``, ``adamw``.

All act coordinate-wise on the minibatch gradient g_t (g^2, sqrt and max are elementwise), start
from a zero state, and keep everything (accumulators, moment estimates, Adam's step counter) in
the one float64 state vector the engine's ``optimizer_step`` kernel updates.  Each reference
update is written with the same operations in the same order as the kernel, so the two agree
bit for bit (the tests check this).  The learning rate lr = eta_t comes from the schedule.

Bounded steps: each update moves every coordinate by at most ``step_bound() * lr`` (derived in
the docstrings from v >= (1 - beta2) beta2^k g_{t-k}^2), so unlike SGD these methods cannot blow
up at any learning rate; ``simulate.stability_limit`` returns +inf for them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import SgdTheoryError, check_float
from .base import Optimizer


def _beta(value, name: str) -> float:
    return check_float(value, name, 0.0, 1.0, low_open=False)


def _eps(value) -> float:
    return check_float(value, "eps", 0.0, None)


def _momentum_bound(beta1: float, beta2: float) -> float:
    """sup |m_t| / sqrt(v_t) for m, v the EMAs of g and g^2 with zero start (no bias correction).

    From |g_{t-k}| <= sqrt(v_t / ((1 - beta2) beta2^k)):  |m_t| <= (1 - beta1) sum_k beta1^k |g_{t-k}|
    <= (1 - beta1) / sqrt(1 - beta2) * sum_k gamma^k sqrt(v_t), gamma = beta1 / sqrt(beta2); finite
    iff gamma < 1 (or beta1 = 0), giving (1 - beta1) / (sqrt(1 - beta2) (1 - gamma)).
    """
    if beta1 == 0.0:
        return 1.0 / np.sqrt(1.0 - beta2)
    if beta2 == 0.0 or beta1 >= np.sqrt(beta2):
        return np.inf
    return (1.0 - beta1) / (np.sqrt(1.0 - beta2) * (1.0 - beta1 / np.sqrt(beta2)))


@dataclass(frozen=True)
class AdaptiveOptimizer(Optimizer):
    """Base of the adaptive optimizers: bounded steps, so no learning-rate stability limit."""

    def step_bound(self) -> float:
        """C with |w_{t+1} - w_t|_k <= C lr for every coordinate, step and gradient sequence (inf: none)."""
        raise NotImplementedError

    def step_bound_text(self) -> str:
        c = self.step_bound()
        if np.isfinite(c):
            return f"its steps are bounded: |w_(t+1) - w_t| <= {c:.6g} lr per coordinate"
        return "beta1 >= sqrt(beta2): its steps are not bounded by a multiple of lr (only by lr |m| / eps)"

    def stability_limit(self, problem, sampler) -> tuple[float, str]:
        """+inf: the steps are bounded by a multiple of the rate (``step_bound``), so no rate makes the iterates
        blow up, and SGD's quadratic-basin limit does not apply; claims state their own conditions."""
        return np.inf, (f"none: the SGD stability limits do not apply to {type(self).__name__}; "
                        f"{self.step_bound_text()}")
