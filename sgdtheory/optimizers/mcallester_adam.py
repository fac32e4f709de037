"""Adam in McAllester's min(t, N) form (seed 003)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from ..errors import check_float
from .adaptive import AdaptiveOptimizer, _eps


@njit(cache=True, fastmath=False, forceinline=True, _nrt=False, error_model="numpy")
def step(hp, lr, w, state, g):
    """t <- t + 1; a = 1/min(t, N_g), b = 1/min(t, N_s); mu <- (1 - a) mu + a g; s <- (1 - b) s + b g^2;
    w <- w - lr mu / (sqrt(s) + eps) (hp = (N_g, N_s, eps); state = mu (d), s (d), t)."""
    d = w.shape[0]
    ng = hp[0]
    ns = hp[1]
    eps = hp[2]
    t = state[2 * d] + 1.0
    state[2 * d] = t
    ag = 1.0 / min(t, ng)
    a_s = 1.0 / min(t, ns)
    for k in range(d):
        mu = (1.0 - ag) * state[k] + ag * g[k]
        s = (1.0 - a_s) * state[d + k] + a_s * g[k] * g[k]
        state[k] = mu
        state[d + k] = s
        w[k] -= lr * mu / (np.sqrt(s) + eps)


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
