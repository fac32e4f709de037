"""Two minima of equal depth and curvature but different gradient noise: occupancy and escape (claim B7).

The cartoon of seed 000 (Huszár, "SGD prefers minima whose minibatch gradients agree") and seed 002
realised as a 1-D finite sum (``cartoon_problem``):

    L_i(w) = (w^2 - 1)^2 + b_i (w + 1)^3 / 12 + c_i w,      mean_i b_i = mean_i c_i = 0,

so L = (w^2 - 1)^2 for every choice of b, c (minima at -1 and +1, L = 0, L'' = 8, barrier L(0) = 1) while the
per-example gradients L_i' = L' + b_i (w + 1)^2 / 4 + c_i disagree by Var_i(b (w+1)^2/4 + c): Var c at the
left minimum, Var(b + c) at the right one.

Predictions for SGD (step eta, batch B with replacement; seed 003's Langevin model, time t = eta k):

* Fokker--Planck (``stationary_1d.fokker_planck_density``): p ∝ exp(-Psi), Psi = ∫ L'/D + log D,
  D = eta Sigma(w) / (2B); the occupancy of each basin and the exact mean first-passage times of the
  diffusion (``stationary_1d.mean_first_passage_time``);
* Kramers' asymptotic escape time (``kramers_time``): T = 2 pi exp(Psi(s) - Psi(a)) / (D(s) sqrt(Psi''(a) |Psi''(s)|))
  (flux over population, Laplace's method on the MFPT integral; Kramers 1940, Hänggi, Talkner & Borkovec
  1990 eq. 4.7b with the state-dependent D of the Ito Fokker--Planck operator);
* the exact law of the DISCRETE chain (``DiscreteChain``): with noise_sd = 0 one SGD step from w goes to
  w - eta mean_{i in c} L_i'(w) with the multinomial probability of the batch multiset c.  On a uniform grid
  (spacing h) each image is split between its two neighbouring nodes with linear weights, which keeps its
  mean exactly and adds a variance <= h^2/4 per step (here ~1e-4 of the step variance eta^2 Sigma/B).  The
  stationary vector solves pi (P - I) = 0, sum pi = 1, and the mean number of steps to reach w >= b
  solves (I - Q) tau = 1 on the nodes below b (sparse LU, scipy.sparse.linalg.splu).

GD (B = n, no noise) has D = 0: it is indifferent, it stays in the basin where it starts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.polynomial import polynomial as npoly
from scipy import sparse
from scipy.sparse import linalg as splinalg

from ..errors import SgdTheoryError, check_float, check_int
from ..problems import PolynomialFiniteSum1D
from . import stationary_1d as st


def cartoon_problem(b, c, name: str = "two equal minima, unequal gradient noise") -> PolynomialFiniteSum1D:
    """Coefficients of L_i = (w^2 - 1)^2 + b_i (w + 1)^3 / 12 + c_i w (b, c centred here)."""
    b = np.asarray(b, dtype=np.float64)
    c = np.asarray(c, dtype=np.float64)
    if b.ndim != 1 or b.shape != c.shape or b.size < 2:
        raise SgdTheoryError(f"b, c: expected two 1-D arrays of the same length n >= 2, got {b.shape} and {c.shape}")
    b = b - b.mean()
    c = c - c.mean()
    base = np.array([1.0, 0.0, -2.0, 0.0, 1.0])  # (w^2 - 1)^2
    cube = np.array([1.0, 3.0, 3.0, 1.0, 0.0]) / 12.0  # (w + 1)^3 / 12
    lin = np.array([0.0, 1.0, 0.0, 0.0, 0.0])
    return PolynomialFiniteSum1D(base[None, :] + b[:, None] * cube[None, :] + c[:, None] * lin[None, :], 0.0,
                                 -1.0, name=name)


def default_problem() -> PolynomialFiniteSum1D:
    """n = 4, b = s (1, 1, -1, -1), c = s (1, -1, 1, -1), s^2 = 40: Sigma(-1) = 40, Sigma(+1) = 80."""
    s = np.sqrt(40.0)
    return cartoon_problem(s * np.array([1.0, 1.0, -1.0, -1.0]), s * np.array([1.0, -1.0, 1.0, -1.0]))


def scaled_noise(problem: PolynomialFiniteSum1D, factor: float) -> PolynomialFiniteSum1D:
    """The same mean loss with the per-example deviations scaled by sqrt(factor): Sigma(w) -> factor Sigma(w).

    At fixed temperature eta Sigma the Fokker--Planck density and its MFPTs in t = eta k are unchanged, so
    the discrete chains at (eta/m, m Sigma) converge to them as m grows: the eta -> 0 limit of the Langevin
    model, taken at fixed temperature."""
    a = problem.coeffs
    mean = a.mean(axis=0)
    return PolynomialFiniteSum1D(mean + np.sqrt(factor) * (a - mean), problem.noise_sd * np.sqrt(factor),
                                 problem.reference, name=f"{problem.name} (noise x{factor:g})")


def _psi(problem, eta, batch_size, grid):
    dens = st.fokker_planck_density(problem, eta, batch_size, grid)
    with np.errstate(divide="ignore"):
        return -np.log(dens.pdf), dens


def kramers_time(problem: PolynomialFiniteSum1D, eta: float, a: float, s: float, batch_size: int = 1,
                 grid=None) -> float:
    """Kramers' mean escape time (in t = eta k) from the well at a over the barrier at s (see the module doc).

    The extrema of Psi are located on the grid near a and s (the noise gradient shifts them off L's critical
    points) and Psi'' is taken by central differences there."""
    grid = st.default_grid(problem, eta, batch_size, 40001) if grid is None else np.asarray(grid, dtype=np.float64)
    psi, _ = _psi(problem, eta, batch_size, grid)
    h = grid[1] - grid[0]

    def extremum(x0, sign):
        win = np.abs(grid - x0) < 0.3
        j = np.flatnonzero(win)[np.argmin(sign * psi[win])]
        return j, (psi[j + 1] - 2 * psi[j] + psi[j - 1]) / h**2

    ja, ca = extremum(a, 1.0)
    js, cs = extremum(s, -1.0)
    if not (ca > 0 and cs < 0):
        raise SgdTheoryError("kramers: no well/barrier pair of the effective potential near the given points")
    D = st.diffusion(problem, eta, grid[js], batch_size)
    return float(2 * np.pi * np.exp(psi[js] - psi[ja]) / (D * np.sqrt(ca * abs(cs))))


@dataclass(frozen=True)
class DiscreteChain:
    """The SGD chain (noise_sd = 0, batches with replacement) on a uniform grid, linear splitting of images."""

    grid: np.ndarray
    P: sparse.csr_matrix
    eta: float
    batch_size: int

    @classmethod
    def build(cls, problem: PolynomialFiniteSum1D, eta: float, batch_size: int = 1, lo: float | None = None,
              hi: float | None = None, n_nodes: int = 4001) -> "DiscreteChain":
        if not isinstance(problem, PolynomialFiniteSum1D):
            raise SgdTheoryError(f"problem: expected a PolynomialFiniteSum1D, got {type(problem).__name__}")
        if problem.noise_sd != 0.0:
            raise SgdTheoryError("noise_sd: the grid chain is exact for minibatch noise only; valid: noise_sd = 0")
        eta = check_float(eta, "eta", 0.0)
        n_nodes = check_int(n_nodes, "n_nodes", 101, 200_001)
        if lo is None or hi is None:
            g0 = st.default_grid(problem, eta, batch_size, 2001)
            lo, hi = float(g0[0]), float(g0[-1])
        grid = np.linspace(lo, hi, n_nodes)
        counts, probs = st.batch_components(problem.n, batch_size)
        G = npoly.polyval(grid, npoly.polyder(problem.coeffs.T)).T  # (nodes, n): per-example L_i'(x)
        means = G @ counts.T / batch_size  # (nodes, components)
        h = grid[1] - grid[0]
        rows, cols, vals = [], [], []
        j = np.arange(n_nodes)
        for m, pm in enumerate(probs):
            y = np.clip(grid - eta * means[:, m], lo, hi)
            u = (y - lo) / h
            k = np.minimum(np.floor(u).astype(np.int64), n_nodes - 2)
            f = u - k
            rows += [j, j]
            cols += [k, k + 1]
            vals += [pm * (1 - f), pm * f]
        P = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                              shape=(n_nodes, n_nodes))
        return cls(grid, P, eta, batch_size)

    def stationary(self) -> np.ndarray:
        """pi with pi P = pi, sum pi = 1 (node masses); solved once per chain (a copy is returned)."""
        cached = self.__dict__.get("_stationary")
        if cached is None:
            cached = self._solve_stationary()
            object.__setattr__(self, "_stationary", cached)
        return cached.copy()

    def _solve_stationary(self) -> np.ndarray:
        n = self.grid.size
        A = (self.P.T - sparse.identity(n, format="csr")).tolil()
        A[n - 1, :] = np.ones(n)
        rhs = np.zeros(n)
        rhs[-1] = 1.0
        pi = splinalg.spsolve(A.tocsc(), rhs)
        return np.clip(pi, 0.0, None) / np.clip(pi, 0.0, None).sum()

    def mass_below(self, split: float) -> float:
        pi = self.stationary()
        return float(pi[self.grid < split].sum())

    def mean_passage_steps(self, start: float, target: float) -> float:
        """E[first k >= 1 with w_k >= target] from w_0 = start < target (or <= target when start > target)."""
        up = target > start
        live = self.grid < target if up else self.grid > target
        idx = np.flatnonzero(live)
        Q = self.P[idx][:, idx]
        tau = splinalg.spsolve((sparse.identity(idx.size, format="csc") - Q.tocsc()), np.ones(idx.size))
        return float(np.interp(start, self.grid[idx], tau))


def quasi_static_rmsprop_density(problem: PolynomialFiniteSum1D, lr: float, batch_size: int, grid) -> np.ndarray:
    """A heuristic prediction for RMSProp with beta -> 1: v tracks E g_B^2 = L'^2 + Sigma/B, so the update is
    SGD with the state-dependent step lr/sqrt(v(w)); Ito Fokker--Planck with drift -L'/sqrt(v) and diffusion
    lr Sigma/(2 B v): p ∝ (1/D) exp(-∫ (L'/sqrt v)/D).  Near the minima v ≈ Sigma/B, so the temperature scales
    with sqrt(Sigma) instead of Sigma: the preference for the low-noise minimum is weakened, not removed.
    (An approximation: v actually averages g^2 over ~1/(1 - beta) steps, across the whole basin.)"""
    grid = np.asarray(grid, dtype=np.float64)
    g = st.mean_gradient(problem, grid)
    S = st.noise_variance(problem, grid, batch_size)
    v = g**2 + S
    D = lr * S / (2 * v)
    drift = g / np.sqrt(v)
    from scipy import integrate

    logp = -integrate.cumulative_trapezoid(drift / D, grid, initial=0.0) - np.log(D)
    p = np.exp(logp - logp.max())
    return p / integrate.trapezoid(p, grid)


__all__ = ["scaled_noise", "cartoon_problem", "default_problem", "kramers_time", "DiscreteChain", "quasi_static_rmsprop_density"]
