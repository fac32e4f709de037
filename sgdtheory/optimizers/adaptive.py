"""Adaptive (per-coordinate step size) optimizers: AdaGrad, RMSProp, Adam, AMSGrad.

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

from .._kernels import codes
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


@dataclass(frozen=True)
class AdaGrad(AdaptiveOptimizer):
    """Diagonal AdaGrad: G_t = G_{t-1} + g_t^2;  w_{t+1} = w_t - eta_t g_t / (sqrt(G_t) + eps);  G_0 = 0.

    Source: Duchi, Hazan and Singer, JMLR 12 (2011), Figure 1 (AdaGrad with diagonal matrices),
    unconstrained: H_t = delta I + diag(s_t), s_(t,i) = ||g_(1:t,i)||_2 = sqrt(G_t,i), so the step
    is eta g_t / (delta + sqrt(G_t)) with delta = eps outside the square root; as PyTorch
    ``Adagrad(lr_decay=0, initial_accumulator_value=0)``.  Tieleman and Hinton's RMSProp below
    replaces the sum G by an exponential average.  Since G_t >= g_t^2, every step
    is at most eta_t per coordinate.

    Args:
        eps: > 0 (default 1e-10).
    """

    eps: float = 1e-10
    code = codes.OPT_ADAGRAD

    def __post_init__(self):
        object.__setattr__(self, "eps", _eps(self.eps))

    def hyperparameters(self) -> np.ndarray:
        return np.array([self.eps])

    def state_size(self, d: int) -> int:
        return d

    def step_bound(self) -> float:
        return 1.0

    def _reference_update(self, w, state, g, lr):
        G = state + g * g
        return w - lr * g / (np.sqrt(G) + self.eps), G


@dataclass(frozen=True)
class RMSProp(AdaptiveOptimizer):
    """RMSProp: v_t = beta v_{t-1} + (1 - beta) g_t^2;  w_{t+1} = w_t - eta_t g_t / (sqrt(v_t) + eps);  v_0 = 0.

    Source: Tieleman and Hinton, Coursera "Neural Networks for Machine Learning", lecture 6e
    (2012): divide the gradient by a running average of its recent magnitude; eps outside the
    square root and no momentum or centering, as PyTorch ``RMSprop(alpha=beta)``.  Since
    v_t >= (1 - beta) g_t^2, every step is at most eta_t / sqrt(1 - beta) per coordinate.

    Args:
        beta: the decay rate, in [0, 1) (default 0.99).  eps: > 0 (default 1e-8).
    """

    beta: float = 0.99
    eps: float = 1e-8
    code = codes.OPT_RMSPROP

    def __post_init__(self):
        object.__setattr__(self, "beta", _beta(self.beta, "beta"))
        object.__setattr__(self, "eps", _eps(self.eps))

    def hyperparameters(self) -> np.ndarray:
        return np.array([self.beta, self.eps])

    def state_size(self, d: int) -> int:
        return d

    def step_bound(self) -> float:
        return float(1.0 / np.sqrt(1.0 - self.beta))

    def _reference_update(self, w, state, g, lr):
        v = self.beta * state + (1.0 - self.beta) * g * g
        return w - lr * g / (np.sqrt(v) + self.eps), v


@dataclass(frozen=True)
class Adam(AdaptiveOptimizer):
    """Adam (Kingma and Ba, ICLR 2015, Algorithm 1), state (m, v, t) with m_0 = v_0 = 0, t_0 = 0:

        t <- t + 1;  m_t = beta1 m_{t-1} + (1 - beta1) g_t;  v_t = beta2 v_{t-1} + (1 - beta2) g_t^2;
        mhat_t = m_t / (1 - beta1^t);  vhat_t = v_t / (1 - beta2^t);
        w_t = w_{t-1} - eta_t mhat_t / (sqrt(vhat_t) + eps).

    With ``bias_correction=False``, mhat = m and vhat = v.  This is Algorithm 1 as printed (eps added
    to sqrt(vhat)), not the "efficient" reordering of Section 2 (eps added to sqrt(v)); PyTorch's
    ``Adam`` computes the same quantity with a different rounding order.  The step counter t is
    the last entry of the state vector.  Steps are bounded by ``step_bound() * eta_t`` when
    beta1 < sqrt(beta2) (Section 2.1 argues |step| <~ eta_t max(1, (1 - beta1)/sqrt(1 - beta2)) in
    typical cases; ``_momentum_bound`` gives a proven, looser bound, with bias correction dividing
    m by 1 - beta1^t >= 1 - beta1 and v by 1 - beta2^t <= 1).

    Args:
        beta1, beta2: in [0, 1) (defaults 0.9, 0.999).  eps: > 0 (default 1e-8).
        bias_correction: divide by 1 - beta^t (default True).
    """

    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    bias_correction: bool = True
    code = codes.OPT_ADAM

    def __post_init__(self):
        object.__setattr__(self, "beta1", _beta(self.beta1, "beta1"))
        object.__setattr__(self, "beta2", _beta(self.beta2, "beta2"))
        object.__setattr__(self, "eps", _eps(self.eps))
        if not isinstance(self.bias_correction, (bool, np.bool_)):
            raise SgdTheoryError(f"bias_correction: expected True or False, got {self.bias_correction!r}")
        object.__setattr__(self, "bias_correction", bool(self.bias_correction))

    def hyperparameters(self) -> np.ndarray:
        return np.array([self.beta1, self.beta2, self.eps, 1.0 if self.bias_correction else 0.0])

    def state_size(self, d: int) -> int:
        return 2 * d + 1

    def step_bound(self) -> float:
        c = _momentum_bound(self.beta1, self.beta2)
        # bias correction: 1/(1 - beta1^t) <= 1/(1 - beta1) and sqrt(1 - beta2^t) <= 1
        return c / (1.0 - self.beta1) if self.bias_correction else c

    def _reference_update(self, w, state, g, lr):
        d = w.shape[0]
        b1, b2 = self.beta1, self.beta2
        t = float(state[2 * d]) + 1.0
        c1 = 1.0 - b1**t if self.bias_correction else 1.0
        c2 = 1.0 - b2**t if self.bias_correction else 1.0
        m = b1 * state[:d] + (1.0 - b1) * g
        v = b2 * state[d:2 * d] + (1.0 - b2) * g * g
        w_new = w - lr * (m / c1) / (np.sqrt(v / c2) + self.eps)
        return w_new, np.concatenate([m, v, [t]])


@dataclass(frozen=True)
class AMSGrad(AdaptiveOptimizer):
    """AMSGrad, in Reddi, Kale and Kumar's form (default) or in PyTorch's (``bias_correction=True``).

    ``bias_correction=False`` (default): Reddi, Kale and Kumar, ICLR 2018, Algorithm 2, state
    (m, v, vhat), all 0 at start:

        m_t = beta1 m_{t-1} + (1 - beta1) g_t;  v_t = beta2 v_{t-1} + (1 - beta2) g_t^2;
        vhat_t = max(vhat_{t-1}, v_t);  w_{t+1} = w_t - eta_t m_t / (sqrt(vhat_t) + eps).

    Exact variant: Algorithm 2 with a constant beta_1t = beta1 (as in the paper's experiments), no
    bias correction, no projection (the problems here are unconstrained), and eps > 0 added to
    sqrt(vhat) so that the first steps are defined when g = 0; the paper's step size
    alpha_t = alpha / sqrt(t) is the schedule ``Power(alpha, 1, 0.5)``.  The max is over the raw v
    (v keeps its own recursion).  vhat_t >= v_t, so the steps obey Adam's bound without bias correction.

    ``bias_correction=True``: PyTorch's ``Adam(amsgrad=True)`` (torch/optim/adam.py), state
    (m, v, vmax, t), all 0 at start:

        t <- t + 1;  m_t, v_t as above;  vmax_t = max(vmax_{t-1}, v_t)  (the max over the RAW v);
        w_t = w_{t-1} - eta_t (m_t / (1 - beta1^t)) / (sqrt(vmax_t / (1 - beta2^t)) + eps),

    i.e. both bias corrections applied after the max and eps outside the root (PyTorch forms the same
    quantity as lr/(1 - beta1^t) m / (sqrt(vmax)/sqrt(1 - beta2^t) + eps): a different rounding order).
    The first step is then eta g / (|g| + eps), not Algorithm 2's (1 - beta1)/sqrt(1 - beta2) times
    that (3.16 eta at the defaults).  Steps obey ``Adam(bias_correction=True)``'s bound.

    Args:
        beta1, beta2: in [0, 1) (defaults 0.9, 0.999).  eps: > 0 (default 1e-8).
        bias_correction: False (default; Reddi et al.'s Algorithm 2) or True (PyTorch's convention).
    """

    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    bias_correction: bool = False
    code = codes.OPT_AMSGRAD

    def __post_init__(self):
        object.__setattr__(self, "beta1", _beta(self.beta1, "beta1"))
        object.__setattr__(self, "beta2", _beta(self.beta2, "beta2"))
        object.__setattr__(self, "eps", _eps(self.eps))
        if not isinstance(self.bias_correction, (bool, np.bool_)):
            raise SgdTheoryError(f"bias_correction: expected True or False, got {self.bias_correction!r}")
        object.__setattr__(self, "bias_correction", bool(self.bias_correction))

    def hyperparameters(self) -> np.ndarray:
        return np.array([self.beta1, self.beta2, self.eps, 1.0 if self.bias_correction else 0.0])

    def state_size(self, d: int) -> int:
        """3d (m, v, vhat), plus the step counter t with bias correction."""
        return 3 * d + (1 if self.bias_correction else 0)

    def step_bound(self) -> float:
        c = _momentum_bound(self.beta1, self.beta2)
        # vmax >= v; bias correction: 1/(1 - beta1^t) <= 1/(1 - beta1) and sqrt(1 - beta2^t) <= 1
        return c / (1.0 - self.beta1) if self.bias_correction else c

    def _reference_update(self, w, state, g, lr):
        d = w.shape[0]
        b1, b2 = self.beta1, self.beta2
        m = b1 * state[:d] + (1.0 - b1) * g
        v = b2 * state[d:2 * d] + (1.0 - b2) * g * g
        vh = np.maximum(state[2 * d:3 * d], v)
        if not self.bias_correction:
            return w - lr * m / (np.sqrt(vh) + self.eps), np.concatenate([m, v, vh])
        t = float(state[3 * d]) + 1.0
        c1 = 1.0 - b1**t
        c2 = 1.0 - b2**t
        w_new = w - lr * (m / c1) / (np.sqrt(vh / c2) + self.eps)
        return w_new, np.concatenate([m, v, vh, [t]])


@dataclass(frozen=True)
class McAllesterAdam(AdaptiveOptimizer):
    """Adam in McAllester's min(t, N) form (seed 003, slide "Adam (simplified)"), state (mu, s, t) = 0:

        t <- t + 1;  mu_t = (1 - 1/min(t, N_g)) mu_{t-1} + (1/min(t, N_g)) g_t;
        s_t = (1 - 1/min(t, N_s)) s_{t-1} + (1/min(t, N_s)) g_t^2;
        w_{t+1} = w_t - eta_t mu_t / (sqrt(s_t) + eps).

    The bias correction is the averaging weight 1/min(t, N) (slide "Bias Correction of Running
    Averages": for t <= N, mu_t is exactly the mean of g_1..g_t; afterwards an EMA with beta = 1 - 1/N)
    instead of Kingma and Ba's division by 1 - beta^t.  Conventions: eps outside the square root, as
    the slide prints it (its RMSProp slide puts eps inside, sqrt(s + eps); the Adam slide does not);
    no framework implements this form.  N_g, N_s >= 1 need not be integers.  Since
    s_t >= g_t^2 / min(t, N_s), and mu_t is a convex combination of the past g, the steps are bounded
    by ``step_bound() * eta_t`` (finite when 1 - 1/N_g < sqrt(1 - 1/N_s), as for Adam).

    Args:
        N_g: the momentum horizon (default 10).  N_s: the second-moment horizon (default 1000).
        eps: > 0 (default 1e-8).
    """

    N_g: float = 10.0
    N_s: float = 1000.0
    eps: float = 1e-8
    code = codes.OPT_ADAM_MIN

    def __post_init__(self):
        object.__setattr__(self, "N_g", check_float(self.N_g, "N_g", 1.0, None, low_open=False))
        object.__setattr__(self, "N_s", check_float(self.N_s, "N_s", 1.0, None, low_open=False))
        object.__setattr__(self, "eps", _eps(self.eps))

    def hyperparameters(self) -> np.ndarray:
        return np.array([self.N_g, self.N_s, self.eps])

    def state_size(self, d: int) -> int:
        return 2 * d + 1

    def step_bound(self) -> float:
        """sqrt(N_s) / (1 - beta1/sqrt(beta2)) with beta = 1 - 1/N (integer N): the weight of g_(t-k)^2 in s_t
        is >= beta2^k / N_s, so |g_(t-k)| <= sqrt(N_s s_t / beta2^k); the weight a_k of g_(t-k) in mu_t is
        <= beta1^k (1/t <= (1 - 1/N)^(t-1) for t <= N); sum_k a_k |g_(t-k)| / sqrt(s_t) <= the bound."""
        b1, b2 = 1.0 - 1.0 / self.N_g, 1.0 - 1.0 / self.N_s
        if b1 > 0.0 and (b2 == 0.0 or b1 >= np.sqrt(b2)):
            return np.inf
        return float(np.sqrt(self.N_s) / (1.0 - (b1 / np.sqrt(b2) if b1 > 0 else 0.0)))

    def _reference_update(self, w, state, g, lr):
        d = w.shape[0]
        t = float(state[2 * d]) + 1.0
        ag = 1.0 / min(t, self.N_g)
        a_s = 1.0 / min(t, self.N_s)
        mu = (1.0 - ag) * state[:d] + ag * g
        s = (1.0 - a_s) * state[d:2 * d] + a_s * g * g
        return w - lr * mu / (np.sqrt(s) + self.eps), np.concatenate([mu, s, [t]])


@dataclass(frozen=True)
class AdamW(AdaptiveOptimizer):
    """AdamW, Adam with decoupled weight decay (Loshchilov and Hutter, ICLR 2019, Algorithm 2), state (m, v, t):

        t <- t + 1;  m_t, v_t, mhat_t, vhat_t as ``Adam``;
        w_t = w_{t-1} (1 - eta_t lambda) - eta_t mhat_t / (sqrt(vhat_t) + eps).

    Convention (PyTorch ``AdamW(lr, betas, eps, weight_decay=lambda)``): the decay is multiplied by
    the learning rate eta_t, i.e. w <- w - eta_t lambda w, applied to w_{t-1} (the paper's Algorithm 2
    line 12 multiplies lambda by the schedule multiplier only, not by alpha: its lambda is PyTorch's
    lr * lambda at a constant rate).  The decay pulls w toward 0 in the problem's coordinates (not
    toward w*).  eps is added to sqrt(vhat) as in Kingma and Ba's Algorithm 1; PyTorch forms the same
    quantity with a different rounding order.  lambda = 0 is ``Adam``; with bias_correction=False
    mhat = m, vhat = v.  The steps are not bounded by a multiple of eta_t independently of w (the
    decay term is eta_t lambda |w|); ``stability_limit`` still returns +inf (the decay contracts w
    for 0 < eta_t lambda < 2).

    Args:
        beta1, beta2: in [0, 1) (defaults 0.9, 0.999).  eps: > 0 (default 1e-8).
        weight_decay: lambda >= 0 (default 0.01, PyTorch's).  bias_correction: default True.
    """

    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.01
    bias_correction: bool = True
    code = codes.OPT_ADAMW

    def __post_init__(self):
        object.__setattr__(self, "beta1", _beta(self.beta1, "beta1"))
        object.__setattr__(self, "beta2", _beta(self.beta2, "beta2"))
        object.__setattr__(self, "eps", _eps(self.eps))
        object.__setattr__(self, "weight_decay", check_float(self.weight_decay, "weight_decay", 0.0, None,
                                                             low_open=False))
        if not isinstance(self.bias_correction, (bool, np.bool_)):
            raise SgdTheoryError(f"bias_correction: expected True or False, got {self.bias_correction!r}")
        object.__setattr__(self, "bias_correction", bool(self.bias_correction))

    def hyperparameters(self) -> np.ndarray:
        return np.array([self.beta1, self.beta2, self.eps, self.weight_decay, 1.0 if self.bias_correction else 0.0])

    def state_size(self, d: int) -> int:
        return 2 * d + 1

    def step_bound(self) -> float:
        if self.weight_decay > 0:
            return np.inf
        return Adam(self.beta1, self.beta2, self.eps, self.bias_correction).step_bound()

    def step_bound_text(self) -> str:
        if self.weight_decay > 0:
            c = Adam(self.beta1, self.beta2, self.eps, self.bias_correction).step_bound()
            return (f"its steps are bounded by {c:.6g} lr + lr weight_decay |w| per coordinate (the decay "
                    "contracts w for lr weight_decay < 2)")
        return super().step_bound_text()

    def _reference_update(self, w, state, g, lr):
        d = w.shape[0]
        b1, b2 = self.beta1, self.beta2
        decay = 1.0 - lr * self.weight_decay
        t = float(state[2 * d]) + 1.0
        c1 = 1.0 - b1**t if self.bias_correction else 1.0
        c2 = 1.0 - b2**t if self.bias_correction else 1.0
        m = b1 * state[:d] + (1.0 - b1) * g
        v = b2 * state[d:2 * d] + (1.0 - b2) * g * g
        w_new = w * decay - lr * (m / c1) / (np.sqrt(v / c2) + self.eps)
        return w_new, np.concatenate([m, v, [t]])
