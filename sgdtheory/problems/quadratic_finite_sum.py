"""The quadratic finite sum L_i(w) = c_i + g_i.(w - a) + (w - a).H_i (w - a)/2 (McAllester's quadratic basin, seed 003)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .._kernels.steps import FAST
from ..errors import SgdTheoryError, as_float_array, check_symmetric
from .base import KernelProblem, ProblemBase, check_positive_definite, quadratic_excess

excess_loss = quadratic_excess


#: reassociation and contraction (FMA) in the gradient: the twin tests compare it with ``reference_gradient`` to
#: rounding (rtol 1e-10)
_FAST_FMA = FAST | {"contract"}


@njit(cache=True, fastmath=_FAST_FMA, forceinline=True, _nrt=False, error_model="numpy")
def _mean_gradient(A, Hs, v, idx, batch, delta, g):
    """g = mean_j (g_j + H_j delta) over the minibatch ``idx``; returns mean_j (c_j + g_j.delta + delta.H_j delta/2).

    Each component is summed over the minibatch in a local and written to ``g`` once, scaled by 1 / B (d = 2,
    the quadratic basin of A3/A5/B4: both components and ``delta`` in locals).  ``g`` is an array the compiler
    cannot keep in registers (it may alias ``A``), so the former zeroing, one ``g[k] +=`` per sample and final
    scaling were stores and reloads on the path from ``w`` to the next ``w`` (as in linear regression).  The
    engine at one thread, default basin (n = 6, d = 2, B = 1): A3's and A5's Robbins-Monro runs 32.4 -> 45.5
    million path-steps/s (1.4x), their constant-eta runs 45-47 -> 86-97 (1.9-2.0x); the general branch alone
    gave 42 and 75-85.
    The sums are reassociated, which ``FAST`` allows anyway.
    """
    d = g.shape[0]
    inv_b = 1.0 / batch
    if d == 2:
        x0, x1 = delta[0], delta[1]
        g0 = 0.0
        g1 = 0.0
        loss = 0.0
        for j in range(batch):
            i = idx[j]
            h0 = Hs[i, 0, 0] * x0 + Hs[i, 0, 1] * x1
            h1 = Hs[i, 1, 0] * x0 + Hs[i, 1, 1] * x1
            a0, a1 = A[i, 0], A[i, 1]
            g0 += a0 + h0
            g1 += a1 + h1
            loss += v[i] + (a0 * x0 + a1 * x1) + 0.5 * (x0 * h0 + x1 * h1)
        g[0] = g0 * inv_b
        g[1] = g1 * inv_b
        return loss * inv_b
    loss = 0.0
    for j in range(batch):
        loss += v[idx[j]]
    for k in range(d):
        xk = delta[k]
        s = 0.0
        lq = 0.0  # sum_j delta_k (g_jk + (H_j delta)_k / 2)
        for j in range(batch):
            i = idx[j]
            hk = 0.0
            for l in range(d):
                hk += Hs[i, k, l] * delta[l]
            ak = A[i, k]
            s += ak + hk
            lq += xk * (ak + 0.5 * hk)
        g[k] = s * inv_b
        loss += lq
    return loss * inv_b


@njit(cache=True, fastmath=FAST, forceinline=True, _nrt=False, error_model="numpy")
def gradient(A, Hs, v, noise_scale, idx, batch, delta, w, g, z, S, row, ki, wi, fi):
    """g = mean_j (g_j + H_j delta), loss = mean_j (c_j + g_j.delta + delta.H_j delta/2) over the minibatch ``idx``,
    with ``A`` = rows g_i (at the minimiser), ``Hs`` = H_i, ``v`` = c_i and delta = w - w*.  Inlined into
    the engine's loop, which has reassociation (``FAST``: the dot products vectorise): agrees with
    ``reference_gradient`` to rounding."""
    return _mean_gradient(A, Hs, v, idx, batch, delta, g)


@njit(cache=True, fastmath=FAST, forceinline=True, _nrt=False, error_model="numpy")
def regradient(A, Hs, v, idx, batch, delta, w, g, z):
    """The minibatch gradient at another point on the same minibatch (deterministic given ``idx``)."""
    _mean_gradient(A, Hs, v, idx, batch, delta, g)


@dataclass(frozen=True, eq=False)
class QuadraticFiniteSum(ProblemBase):
    """L_i(w) = c_i + g_i.(w - a) + (w - a).H_i (w - a)/2, i = 1..n;  L(w) = mean_i L_i(w).

    Args:
        g: (n, d) array, rows g_i (per-example gradients at the anchor a).
        H: (n, d, d) array of symmetric per-example Hessians H_i (each may be indefinite; their
           mean Hbar must be positive definite).
        c: (n,) per-example losses at the anchor (default 0).
        anchor: (d,) the expansion point a (default 0).

    Source: seed 003 (McAllester), slide "A Quadratic Basin Theorem": there the anchor is the
    minimiser Phi*, E_i g_i = 0 and E_i H_i is positive definite; ``at_minimum`` re-expresses any
    instance in that form.
    """

    g: np.ndarray
    H: np.ndarray
    c: np.ndarray | None = None
    anchor: np.ndarray | None = None
    name: str = "quadratic finite sum"

    def __post_init__(self):
        g = as_float_array(self.g, "g", 2)
        n, d = g.shape
        H = as_float_array(self.H, "H", 3)
        if H.shape != (n, d, d):
            raise SgdTheoryError(f"H: expected shape (n, d, d) = ({n}, {d}, {d}) to match g, got {H.shape}")
        check_symmetric(H, "H")
        H = 0.5 * (H + np.swapaxes(H, 1, 2))
        c = np.zeros(n) if self.c is None else as_float_array(self.c, "c", 1)
        if c.shape != (n,):
            raise SgdTheoryError(f"c: expected shape ({n},) to match g, got {c.shape}")
        a = np.zeros(d) if self.anchor is None else as_float_array(self.anchor, "anchor", 1)
        if a.shape != (d,):
            raise SgdTheoryError(f"anchor: expected shape ({d},) to match g, got {a.shape}")
        Hbar = H.mean(axis=0)
        check_positive_definite(Hbar, "H")
        for key, val in (("g", g), ("H", H), ("c", c), ("anchor", a)):
            object.__setattr__(self, key, val)

    @classmethod
    def example(cls) -> QuadraticFiniteSum:
        """n = 5, d = 3, random PSD-ish H_i (mean positive definite), off-minimum anchor (generic tests)."""
        rng = np.random.default_rng(7)
        A = rng.standard_normal((5, 3, 3))
        return cls(rng.standard_normal((5, 3)), A @ A.transpose(0, 2, 1) / 3 + 0.2 * np.eye(3), rng.standard_normal(5),
                   rng.standard_normal(3))

    @property
    def n(self) -> int:
        return self.g.shape[0]

    @property
    def d(self) -> int:
        return self.g.shape[1]

    @property
    def mean_hessian(self) -> np.ndarray:
        """Hbar = mean_i H_i."""
        return self.H.mean(axis=0)

    @property
    def minimizer(self) -> np.ndarray:
        """w* = a - Hbar^{-1} gbar, the unique minimiser of L."""
        return self.anchor - np.linalg.solve(self.mean_hessian, self.g.mean(axis=0))

    def losses(self, w) -> np.ndarray:
        """Per-example losses L_i(w), shape (n,)."""
        delta = np.asarray(w, dtype=np.float64) - self.anchor
        return self.c + self.g @ delta + 0.5 * np.einsum("k,ikl,l->i", delta, self.H, delta)

    def loss(self, w) -> float:
        """L(w) = mean_i L_i(w)."""
        return float(self.losses(w).mean())

    def gradients(self, w) -> np.ndarray:
        """Per-example gradients g_i + H_i (w - a), shape (n, d)."""
        delta = np.asarray(w, dtype=np.float64) - self.anchor
        return self.g + self.H @ delta

    def at_minimum(self) -> QuadraticFiniteSum:
        """The same losses expanded around w*: g_i' = g_i + H_i(w* - a), mean_i g_i' = 0."""
        w = self.minimizer
        return QuadraticFiniteSum(self.gradients(w), self.H, self.losses(w), w, name=self.name)

    def kernel_data(self) -> KernelProblem:
        m = self.at_minimum()
        return KernelProblem(m.g, m.H, m.c, m.anchor, m.mean_hessian, self.n, self.d)

    def reference_gradient(self, w, idx, xi=None) -> tuple[np.ndarray, float]:
        """Plain-numpy minibatch gradient and loss at ``w`` for the indices ``idx`` (the kernel's twin)."""
        m = self.at_minimum()
        return m.gradients(w)[idx].mean(axis=0), float(m.losses(w)[idx].mean())
