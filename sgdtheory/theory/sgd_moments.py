"""Exact first and second moments of SGD on a quadratic finite sum, for any learning-rate schedule.

Setting (seed 003, slide "A Quadratic Basin Theorem"; seed 000, section "Convergence"): per-example
gradients g_i + H_i Delta at Delta = w - w*, with mean_i g_i = 0 (the expansion is at the minimiser),
i.i.d. minibatches of size B (with or without replacement) and
Delta_{t+1} = Delta_t - eta_t (g_B + H_B Delta_t).  Because Delta_t is independent of the batch of
step t, and the batch mean of pairs (X_i, Y_i) with mean_i Y_i = 0 has E[X_B Y_B^T] = c_B Cov_i(X, Y)
(c_B = 1/B with replacement, (n - B)/(B(n - 1)) without), the moments obey the closed linear recursion

    m_{t+1} = (I - eta_t Hbar) m_t,
    S_{t+1} = S_t - eta_t (Hbar S_t + S_t Hbar) + eta_t^2 E[H_B S_t H_B]
              + eta_t^2 c_B (Sigma + C(m_t) + C(m_t)^T),

with m = E Delta, S = E[Delta Delta^T], Sigma = mean_i g_i g_i^T, C(m) = mean_i (H_i m) g_i^T and
E[H_B X H_B] = (1 - c_B) Hbar X Hbar + c_B mean_i H_i X H_i.  On z = (m, vec S) (row-major vec) this
is z_{t+1} = (A0 + eta_t A1 + eta_t^2 A2) z_t + eta_t^2 b; the mean-square error is tr S and the
excess loss E[L(w_t)] - L* = tr(Hbar S)/2.  Nothing here is fitted or sampled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .._kernels.steps import learning_rate
from ..errors import SgdTheoryError
from ..schedules import Constant, Power
from .quadratic_basin import QuadraticBasin


@njit(cache=True)
def _iterate(A0, A1, A2, b, sched_code, sched_hp, n_steps, z0, rec_steps, out):
    """z_{t+1} = (A0 + eta_t A1 + eta_t^2 A2) z_t + eta_t^2 b; out[r] = z at step rec_steps[r].

    eta_t is the engine's own ``learning_rate(code, parameters, t)``, so theory and simulation use the
    same schedule bit for bit.
    """
    k = z0.shape[0]
    z = z0.copy()
    znew = np.empty(k)
    # column-major copies: the inner loop runs over rows i (contiguous, vectorisable); each znew[i] is still
    # e2 b[i] + sum_j (A0[i, j] + eta A1[i, j] + e2 A2[i, j]) z[j] added in the order j = 0, 1, ... (bitwise the same)
    A0t = np.ascontiguousarray(A0.T)
    A1t = np.ascontiguousarray(A1.T)
    A2t = np.ascontiguousarray(A2.T)
    r = 0
    n_rec = rec_steps.shape[0]
    for t in range(n_steps + 1):
        while r < n_rec and rec_steps[r] == t:
            out[r, :] = z
            r += 1
        if t == n_steps:
            break
        eta = learning_rate(sched_code, sched_hp, t)
        e2 = eta * eta
        for i in range(k):
            znew[i] = e2 * b[i]
        for j in range(k):
            zj = z[j]
            for i in range(k):
                znew[i] += (A0t[j, i] + eta * A1t[j, i] + e2 * A2t[j, i]) * zj
        for i in range(k):
            z[i] = znew[i]


@dataclass(frozen=True)
class MomentPath:
    """Exact E[w_t - w*] (``mean``, (records, d)) and E[(w_t - w*)(w_t - w*)^T] (``second``) at ``steps``."""

    steps: np.ndarray
    mean: np.ndarray
    second: np.ndarray
    Hbar: np.ndarray

    @property
    def mse(self) -> np.ndarray:
        """E|w_t - w*|^2 = tr S_t."""
        return np.trace(self.second, axis1=1, axis2=2)

    @property
    def excess_loss(self) -> np.ndarray:
        """E[L(w_t)] - L(w*) = tr(Hbar S_t)/2."""
        return 0.5 * np.einsum("kl,rlk->r", self.Hbar, self.second)

    def local_loglog_slope(self, which: str = "mse") -> np.ndarray:
        """d log y / d log t between consecutive records (finite differences; y = mse or excess_loss)."""
        y = getattr(self, which)
        t = self.steps.astype(np.float64)
        return np.diff(np.log(y)) / np.diff(np.log(t))

    def loglog_slope(self, first: int = 0, which: str = "mse") -> float:
        """Least-squares slope of log y on log t over records ``first:`` (the functional that
        ``stats.path_loglog_slope`` applies to Monte Carlo means)."""
        y = getattr(self, which)[first:]
        u = np.log(self.steps[first:].astype(np.float64))
        a = (u - u.mean()) / np.sum((u - u.mean()) ** 2)
        return float(a @ np.log(y))


class SGDMoments:
    """The exact moment recursion above for a quadratic basin (``QuadraticBasin``: g_i, H_i, B, scheme)."""

    def __init__(self, basin: QuadraticBasin):
        self.basin = basin
        d = basin.d
        eye = np.eye(d)
        Hbar = basin.mean_hessian
        c = basin.batch_factor
        G, H = basin.G, basin.H
        k = d + d * d
        A0 = np.zeros((k, k))
        A1 = np.zeros((k, k))
        A2 = np.zeros((k, k))
        A0[:d, :d] = eye
        A1[:d, :d] = -Hbar
        A0[d:, d:] = np.eye(d * d)
        A1[d:, d:] = -(np.kron(Hbar, eye) + np.kron(eye, Hbar))
        A2[d:, d:] = basin.batch_hessian_kron_moment
        # vec C(m) = Q m with C(m)[a, b] = mean_i sum_k H_i[a, k] m_k g_i[b]
        Q = np.einsum("iak,ib->abk", H, G).reshape(d * d, d) / basin.n
        QT = np.einsum("iak,ib->bak", H, G).reshape(d * d, d) / basin.n  # vec C(m)^T
        A2[d:, :d] = c * (Q + QT)
        b = np.zeros(k)
        b[d:] = c * basin.gradient_second_moment.reshape(-1)
        self.A0, self.A1, self.A2, self.b = A0, A1, A2, b

    def run(self, schedule, delta0, steps) -> MomentPath:
        """Exact moments at each step in ``steps`` (0 <= step) from w_0 = w* + delta0.

        ``schedule``: a ``schedules.Constant`` or ``schedules.Power`` (eta_t for t = 0, 1, ...).
        """
        d = self.basin.d
        delta0 = np.asarray(delta0, dtype=np.float64)
        if delta0.shape != (d,):
            raise SgdTheoryError(f"delta0: expected shape ({d},), got {delta0.shape}")
        if not isinstance(schedule, (Constant, Power)):
            raise SgdTheoryError(f"schedule: expected a Constant or Power schedule, got {type(schedule).__name__}")
        steps = np.asarray(sorted(int(s) for s in steps), dtype=np.int64)
        if steps.size == 0 or steps[0] < 0:
            raise SgdTheoryError("steps: need at least one step, each >= 0")
        z0 = np.concatenate([delta0, np.outer(delta0, delta0).reshape(-1)])
        out = np.zeros((steps.size, z0.size))
        _iterate(self.A0, self.A1, self.A2, self.b, schedule.code, schedule.parameters(), int(steps[-1]), z0,
                 steps, out)
        return MomentPath(steps, out[:, :d], out[:, d:].reshape(-1, d, d), self.basin.mean_hessian)


def reference_moment_step(basin: QuadraticBasin, eta: float, m, S):
    """One step of the recursion written term by term (plain numpy; for tests)."""
    Hbar, c = basin.mean_hessian, basin.batch_factor
    G, H, n = basin.G, basin.H, basin.n
    sandwich = (1 - c) * Hbar @ S @ Hbar + c * np.einsum("iab,bc,idc->ad", H, S, H) / n
    C = np.einsum("iak,k,ib->ab", H, m, G) / n
    S_new = S - eta * (Hbar @ S + S @ Hbar) + eta**2 * sandwich + eta**2 * c * (G.T @ G / n + C + C.T)
    return m - eta * Hbar @ m, S_new


__all__ = ["SGDMoments", "MomentPath", "reference_moment_step"]
