r"""Modified losses of SGD with random shuffling and of GD: backward error analysis (claims C1, C2).

Sources
-------
* Seed 002 (F. Huszár, DeepNN lecture 4), slides "Implicit regularization in SGD": the mean iterate
  mu_t = E w_t follows the gradient flow of L~_SGD = L~_GD + (eta/4) E|grad L_B - grad L|^2, citing
  S. L. Smith, B. Dherin, D. G. T. Barrett, S. De, "On the Origin of Implicit Regularization in
  Stochastic Gradient Descent", ICLR 2021 (arXiv:2101.12176), whose main result (Sec. 2, eq. 1 and its
  rewriting eq. 2; derivation in Sec. 2.1-2.2) reads: for one epoch of m SGD steps over m minibatches of
  fixed composition visited in a uniformly random order,

      E[w_m] = w(m eta) + O(m^3 eta^3),   w' = -grad L~_SGD(w),
      L~_SGD = L + (eta/(4m)) sum_k |grad L_k|^2 = L + (eta/4)|grad L|^2 + (eta/(4m)) sum_k |grad L_k - grad L|^2.

  Seed 000 (Huszár's notes, "Further reading") points to the same paper.
* D. G. T. Barrett and B. Dherin, "Implicit Gradient Regularization", ICLR 2021 (arXiv:2009.11162),
  Theorem 3.1: gradient descent w' = w - h grad E(w) follows the flow of E~ = E + (h/4)|grad E|^2 with a
  local error O(h^3) per step, against O(h^2) for the plain flow of E (claim C2 = the case m = 1).
  (Equation numbers as recalled from the papers; the stored copies found by the search tool contained
  only the abstracts.)

Backward error analysis (what ``derive_general`` does in SymPy)
---------------------------------------------------------------
Per-batch losses L_k, k = 1..m, L = (1/m) sum_k L_k, g_k = grad L_k, J_k = Hessian of L_k.  One epoch
visits the batches in the order pi and takes w_{j+1} = w_j - eta g_{pi_j}(w_j).  Expanding each step
at w_0 and composing,

    w_m - w_0 = -eta sum_j g_{pi_j} + eta^2 sum_{i<j} J_{pi_j} g_{pi_i} + O(m^3 eta^3).

For a uniform order, (pi_i, pi_j), i < j, is a uniform ordered pair of distinct batches, so
E sum_{i<j} J_{pi_j} g_{pi_i} = (1/2) sum_{a != b} J_b g_a = (m^2/2) J g - (1/2) sum_a J_a g_a
(J = grad^2 L, g = grad L).  The flow w' = f_0 + eta f_1 run for the time m eta gives
w(m eta) - w_0 = m eta f_0 + eta^2 (m f_1 + (m^2/2) (grad f_0) f_0) + O(eta^3); matching order by order
gives f_0 = -g and f_1 = -(1/(2m)) sum_a J_a g_a = -grad[(1/(4m)) sum_a |g_a|^2].  SymPy does exactly
this with undefined functions L_k(x, y) (d = 2) for m = 1, 2, 3, enumerating all m! orders, solves
for f_1, checks that it is a gradient (zero curl) and that it equals minus the gradient of the
modified-loss correction, and shows the GD-only correction (1/4)|grad L|^2 misses the variance term.
With m = 1 this is Barrett & Dherin's L~_GD.

Quadratic per-batch losses (exact; ``derive_quadratic``)
--------------------------------------------------------
L_k(w0 + delta) = L_k(w0) + G_k.delta + delta.H_k delta/2.  Every step is affine,
delta -> (I - eta H_k) delta - eta G_k, so every order's epoch map is affine and its average over the
m! orders is exact linear algebra (subset recursion, ``theory.sampling_order.reshuffle_average`` on the
(d+1)-square affine matrices: 2^m m products instead of m!).  A modified loss L + eta L_1 with
grad L_1 = A_1 delta + r_1 has an affine flow delta' = -(A delta + r), A = Hbar + eta A_1,
r = Gbar + eta r_1, whose time-t map is one matrix exponential (``flow_displacement``).  SymPy expands
the order-averaged epoch map (symbolic start delta_0, rational data) and the flow in eta, solves the
eta^2 terms for (A_1, r_1), and obtains A_1 = (1/(2m)) sum_k H_k^2, r_1 = (1/(2m)) sum_k H_k G_k, i.e.
L_1 = (1/(4m)) sum_k |G_k + H_k delta|^2 + const; it also returns the exact eta^3 coefficient C_3 of
E[delta_m] - delta~(m eta) (non-zero: the error is exactly third order) and the eta^2 coefficients of the
negative controls (plain flow, GD-only flow, wrong coefficient), which are non-zero.

Flows compared (``FLOWS``; a eta |grad L|^2 + b eta (1/m) sum_k |grad L_k - grad L|^2 added to L):
"sgd" (a, b) = (1/4, 1/4) [Smith et al.]; "plain" (0, 0); "gd" (1/4, 0) [Barrett & Dherin only];
"wrong" (1/2, 1/2) [coefficient eta/(2m) instead of eta/(4m)].

Averaging also over batch composition (``composition_epoch_mean``): each epoch a uniformly random
partition of the n examples into m = n/B batches of size B, in random order (the engine's "reshuffle"
sampler).  The same matching with E over the partition gives
L~ = L + (eta/4) E_B |grad L_B|^2 = L + (eta/4)|grad L|^2 + (eta/4) ((n - B)/(B (n - 1))) (1/n) sum_i |grad l_i - grad L|^2
(the without-replacement variance of a batch mean of B of the n per-example gradients, CLAIMS A1).

Non-quadratic (1-D polynomial per-example losses, ``PolyBatches``): the epoch over every order and the
modified flow are evaluated in mpmath (``MP_DPS`` digits; the flow by mpmath's Taylor-series ODE solver
``odefun``), so rounding and integration errors (~1e-30) are far below the measured O(eta^3) errors.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from ..errors import SgdTheoryError, as_float_array, check_float, check_int
from .sampling_order import reshuffle_average

__all__ = ["FLOWS", "MAX_EXACT_M", "QuadraticBatches", "PolyBatches", "flow_displacement", "derive_general",
           "derive_quadratic", "partition_from", "composition_epoch_mean", "settled_slope", "SlopeFit"]

#: flows compared: name -> (a, b, label) for L + a eta |grad L|^2 + b eta (1/m) sum_k |grad L_k - grad L|^2
FLOWS = {
    "sgd": (0.25, 0.25, "L~_SGD = L + (eta/4m) sum_k |grad L_k|^2 (Smith et al.)"),
    "plain": (0.0, 0.0, "plain flow of L"),
    "gd": (0.25, 0.0, "GD-only modified flow L + (eta/4)|grad L|^2"),
    "wrong": (0.5, 0.5, "wrong coefficient L + (eta/2m) sum_k |grad L_k|^2"),
}
#: largest m for the exact order average by the subset recursion (2^m m products)
MAX_EXACT_M = 12
#: largest number of partitions for the exact average over batch composition
MAX_PARTITIONS = 3000
MP_DPS = 30


# ---------------------------------------------------------------------------------------------
# partitions


def partition_from(batches, n: int, name: str = "batches") -> list[list[int]]:
    """Validate a partition of range(n) into m >= 1 batches of equal size; return it as lists of ints."""
    try:
        parts = [[int(i) for i in b] for b in batches]
    except (TypeError, ValueError):
        raise SgdTheoryError(f"{name}: expected a list of lists of example indices, got {batches!r}") from None
    if not parts or any(len(b) == 0 for b in parts):
        raise SgdTheoryError(f"{name}: need at least one non-empty batch")
    flat = sorted(i for b in parts for i in b)
    if flat != list(range(n)):
        raise SgdTheoryError(f"{name}: must partition the examples 0..{n - 1} (each exactly once); got {parts}")
    if len({len(b) for b in parts}) != 1:
        raise SgdTheoryError(f"{name}: all batches must have the same size (so that L = mean_k L_k); got sizes "
                             f"{[len(b) for b in parts]}")
    return parts


# ---------------------------------------------------------------------------------------------
# quadratic per-batch losses


def _affine_field(G: np.ndarray, H: np.ndarray, eta: float, a: float, b: float):
    """(A, r) with grad[L + a eta |grad L|^2 + b eta mean_u |grad L_u - grad L|^2](w0 + delta) = A delta + r,
    for units u (batches or examples) with grad L_u = G_u + H_u delta (module docstring)."""
    Gb, Hb = G.mean(axis=0), H.mean(axis=0)
    dH, dG = H - Hb, G - Gb
    A = Hb + eta * (2 * a * Hb @ Hb + 2 * b * np.einsum("uij,ujk->ik", dH, dH) / G.shape[0])
    r = Gb + eta * (2 * a * Hb @ Gb + 2 * b * np.einsum("uij,uj->i", dH, dG) / G.shape[0])
    return A, r


def flow_displacement(A: np.ndarray, r: np.ndarray, t: float) -> np.ndarray:
    """delta(t) for delta' = -(A delta + r), delta(0) = 0: the top-right block of expm(t [[-A, -r], [0, 0]]).

    The displacement is computed directly (not as a difference of positions), so its rounding error is
    relative to |delta(t)| = O(t)."""
    d = A.shape[0]
    M = np.zeros((d + 1, d + 1))
    M[:d, :d] = -t * A
    M[:d, d] = -t * r
    return scipy.linalg.expm(M)[:d, d]


class QuadraticBatches:
    """Per-batch quadratic losses expanded at the start point w0: grad L_k(w0 + delta) = G_k + H_k delta.

    Args:
        G: (m, d) per-batch gradients at w0; H: (m, d, d) symmetric per-batch Hessians.
        examples: optional (G_i, H_i) per example (n, d), (n, d, d) for the composition variant.
    """

    def __init__(self, G, H, examples=None):
        G = as_float_array(G, "G", 2)
        H = as_float_array(H, "H", 3)
        if H.shape != (G.shape[0], G.shape[1], G.shape[1]):
            raise SgdTheoryError(f"H: expected shape {(G.shape[0], G.shape[1], G.shape[1])}, got {H.shape}")
        self.G, self.H = G, 0.5 * (H + np.swapaxes(H, 1, 2))
        self.m, self.d = G.shape
        self.examples = examples
        self._cache: dict = {}

    @classmethod
    def from_problem(cls, problem, batches, w0) -> "QuadraticBatches":
        """From a ``QuadraticFiniteSum`` or ``LinearRegression``, a partition and the start point w0."""
        q = problem.as_quadratic() if hasattr(problem, "as_quadratic") else problem
        parts = partition_from(batches, q.n)
        w0 = np.asarray(w0, dtype=np.float64)
        if w0.shape != (q.d,):
            raise SgdTheoryError(f"w0: expected shape ({q.d},), got {w0.shape}")
        g = q.gradients(w0)
        G = np.array([g[b].mean(axis=0) for b in parts])
        H = np.array([q.H[b].mean(axis=0) for b in parts])
        return cls(G, H, examples=(g, q.H))

    @property
    def max_curvature(self) -> float:
        return float(max(np.max(np.abs(np.linalg.eigvalsh(h))) for h in self.H))

    def affine_maps(self, eta: float) -> np.ndarray:
        """(m, d+1, d+1) step maps on (1, delta): delta -> (I - eta H_k) delta - eta G_k."""
        T = np.zeros((self.m, self.d + 1, self.d + 1))
        T[:, 0, 0] = 1.0
        T[:, 1:, 0] = -eta * self.G
        T[:, 1:, 1:] = np.eye(self.d)[None] - eta * self.H
        return T

    def epoch_mean(self, eta: float) -> np.ndarray:
        """E[delta_m] over the m! orders, exactly (subset recursion; m <= MAX_EXACT_M)."""
        key = ("mean", float(eta))
        if key not in self._cache:
            if self.m > MAX_EXACT_M:
                raise SgdTheoryError(f"m = {self.m} batches is out of range for the exact order average: valid "
                                     f"range is [1, {MAX_EXACT_M}] (use Monte Carlo over orders)")
            self._cache[key] = reshuffle_average(self.affine_maps(eta))[1:, 0].copy()
        return self._cache[key]

    def epoch_order(self, eta: float, order) -> np.ndarray:
        """delta_m for one order (plain numpy, the reference for enumeration and Monte Carlo)."""
        x = np.zeros(self.d)
        for k in order:
            x = x - eta * (self.G[k] + self.H[k] @ x)
        return x

    def enumerate_mean(self, eta: float) -> np.ndarray:
        """E[delta_m] by enumerating all m! orders (m <= 7; the reference of ``epoch_mean``)."""
        if self.m > 7:
            raise SgdTheoryError(f"m = {self.m} is out of range for enumeration: valid range is [1, 7]")
        perms = list(itertools.permutations(range(self.m)))
        return np.mean([self.epoch_order(eta, p) for p in perms], axis=0)

    def flow(self, eta: float, kind: str, t: float | None = None) -> np.ndarray:
        """Displacement of the flow ``kind`` (``FLOWS``) after time t (default m eta)."""
        a, b, _ = FLOWS[kind]
        A, r = _affine_field(self.G, self.H, eta, a, b)
        return flow_displacement(A, r, self.m * eta if t is None else t)

    def composition_flow(self, eta: float, batch_size: int, a: float = 0.25, factor: float = 1.0) -> np.ndarray:
        """Flow of L + a eta |grad L|^2 + factor (eta/4) c_B (1/n) sum_i |grad l_i - grad L|^2 for m eta,
        c_B = (n - B)/(B (n - 1)) (``factor`` = 1: the composition-averaged modified loss)."""
        g, H = self.examples
        n = g.shape[0]
        cB = (n - batch_size) / (batch_size * (n - 1)) if n > 1 else 0.0
        A, r = _affine_field(g, H, eta, a, 0.25 * factor * cB)
        return flow_displacement(A, r, self.m * eta)

    def errors(self, etas, kind: str, mean=None) -> np.ndarray:
        """|E[delta_m] - delta_flow(m eta)| on a grid of eta."""
        out = []
        for k, eta in enumerate(etas):
            em = self.epoch_mean(eta) if mean is None else mean[k]
            out.append(np.linalg.norm(em - self.flow(eta, kind)))
        return np.array(out)

    def series_coefficients(self, kind: str) -> tuple[np.ndarray, np.ndarray]:
        """(C2, C3): E[delta_m] - delta~_kind(m eta) = C2 eta^2 + C3 eta^3 + O(eta^4), in closed form (float).

        E[delta_m] = -m eta Gbar + eta^2 E2 - eta^3 E3 + ..., E2 = (1/2) sum_(a != b) H_b G_a,
        E3 = (1/6) sum_(a, b, c distinct) H_c H_b G_a (a uniform order puts a uniform ordered triple of
        distinct batches at any three positions i < j < l); the flow of grad L~ = A delta + r with
        A = Hbar + eta A1, r = Gbar + eta r1 for t = m eta is -t r + (t^2/2) A r - (t^3/6) A^2 r + ...
        (``derive_quadratic`` checks these against SymPy)."""
        G, H, m = self.G, self.H, self.m
        a, b, _ = FLOWS[kind]
        Gb, Hb = G.mean(axis=0), H.mean(axis=0)
        HG = np.einsum("bij,aj->bai", H, G)  # HG[b, a] = H_b G_a
        E2 = 0.5 * (HG.sum(axis=(0, 1)) - np.einsum("aai->i", HG))
        E3 = np.zeros(self.d)
        for c in range(m):
            for bb in range(m):
                if bb == c:
                    continue
                for aa in range(m):
                    if aa != c and aa != bb:
                        E3 += H[c] @ HG[bb, aa]
        E3 /= 6.0
        dH, dG = H - Hb, G - Gb
        A1 = 2 * a * Hb @ Hb + 2 * b * np.einsum("uij,ujk->ik", dH, dH) / m
        r1 = 2 * a * Hb @ Gb + 2 * b * np.einsum("uij,uj->i", dH, dG) / m
        C2 = E2 - (-m * r1 + 0.5 * m * m * Hb @ Gb)
        C3 = -E3 - (0.5 * m * m * (Hb @ r1 + A1 @ Gb) - m**3 / 6.0 * Hb @ Hb @ Gb)
        return C2, C3

    def rounding_floor(self, etas) -> np.ndarray:
        """A generous bound on float64 rounding in E[delta_m] - delta~: 1e3 eps m (|G| m eta + ...)."""
        scale = np.abs(self.G).max() + 1e-300
        return np.array([1e3 * np.finfo(float).eps * self.m * (self.m * eta * scale) for eta in etas])


def composition_epoch_mean(qb: QuadraticBatches, eta: float, batch_size: int) -> np.ndarray:
    """E[delta_m] averaged over the uniform partitions of the n examples into batches of ``batch_size`` and
    over the orders (exact; number of partitions <= MAX_PARTITIONS)."""
    g, H = qb.examples
    n = g.shape[0]
    if n % batch_size:
        raise SgdTheoryError(f"batch_size = {batch_size} must divide n = {n}")
    m = n // batch_size
    count = math.factorial(n) // (math.factorial(batch_size) ** m * math.factorial(m))
    if count > MAX_PARTITIONS:
        raise SgdTheoryError(f"the composition average needs {count} partitions (> {MAX_PARTITIONS}); use fewer "
                             "examples")
    total = np.zeros(qb.d)
    for part in _partitions(list(range(n)), batch_size):
        G = np.array([g[list(b)].mean(axis=0) for b in part])
        Hb = np.array([H[list(b)].mean(axis=0) for b in part])
        total += QuadraticBatches(G, Hb).epoch_mean(eta)
    return total / count


def _partitions(items, size):
    """All partitions of ``items`` into unordered blocks of ``size`` (the first item anchors each block)."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for combo in itertools.combinations(rest, size - 1):
        block = (first,) + combo
        remaining = [x for x in rest if x not in combo]
        for tail in _partitions(remaining, size):
            yield [block] + tail


# ---------------------------------------------------------------------------------------------
# 1-D polynomial per-batch losses (non-quadratic), in mpmath


class PolyBatches:
    """Per-batch 1-D polynomial losses L_k(w) = sum_j c_kj w^j (rows: batch means of example coefficients)."""

    def __init__(self, coeffs, w0: float):
        c = as_float_array(coeffs, "coeffs", 2)
        if c.shape[1] < 3:
            raise SgdTheoryError(f"coeffs: expected degree >= 2 (>= 3 columns), got shape {c.shape}")
        self.c = c
        self.m = c.shape[0]
        self.w0 = check_float(w0, "w0")
        import mpmath

        self.mp = mpmath.mp
        with mpmath.workdps(MP_DPS):
            self._mpc = [[mpmath.mpf(float(v)) for v in row] for row in c]
            self._w0 = mpmath.mpf(self.w0)

    @classmethod
    def from_problem(cls, problem, batches, w0) -> "PolyBatches":
        parts = partition_from(batches, problem.n)
        C = np.array([problem.coeffs[b].mean(axis=0) for b in parts])
        return cls(C, w0)

    def _grad(self, k, w):
        row = self._mpc[k]
        return sum(j * row[j] * w ** (j - 1) for j in range(1, len(row)))

    def _hess(self, k, w):
        row = self._mpc[k]
        return sum(j * (j - 1) * row[j] * w ** (j - 2) for j in range(2, len(row)))

    @property
    def max_curvature(self) -> float:
        return float(max(abs(float(self._hess(k, self._w0))) for k in range(self.m)))

    def epoch_mean(self, eta: float):
        """E[w_m - w0] over all m! orders (mpmath; m <= 7), as an mpf."""
        if self.m > 7:
            raise SgdTheoryError(f"m = {self.m} is out of range for the polynomial enumeration: valid range [1, 7]")
        import mpmath

        with mpmath.workdps(MP_DPS):
            e = mpmath.mpf(eta)
            acc = mpmath.mpf(0)
            perms = list(itertools.permutations(range(self.m)))
            for p in perms:
                w = self._w0
                for k in p:
                    w = w - e * self._grad(k, w)
                acc += w - self._w0
            return acc / len(perms)

    def field(self, eta: float, kind: str):
        a, b, _ = FLOWS[kind]
        e = self.mp.mpf(eta)
        m = self.m

        def grad_mod(w):
            gs = [self._grad(k, w) for k in range(m)]
            hs = [self._hess(k, w) for k in range(m)]
            g = sum(gs) / m
            h = sum(hs) / m
            var = sum((hs[k] - h) * (gs[k] - g) for k in range(m)) / m
            return g + e * (2 * a * h * g + 2 * b * var)

        return grad_mod

    def flow(self, eta: float, kind: str):
        """w(m eta) - w0 for w' = -grad L~_kind (mpmath Taylor-series solver), as an mpf."""
        import mpmath

        with mpmath.workdps(MP_DPS):
            f = self.field(eta, kind)
            sol = mpmath.odefun(lambda t, w: -f(w), 0, self._w0)
            return sol(mpmath.mpf(eta) * self.m) - self._w0

    def errors(self, etas, kind: str, means=None) -> np.ndarray:
        out = []
        for k, eta in enumerate(etas):
            em = self.epoch_mean(eta) if means is None else means[k]
            import mpmath

            with mpmath.workdps(MP_DPS):
                out.append(float(abs(em - self.flow(eta, kind))))
        return np.array(out)


# ---------------------------------------------------------------------------------------------
# slopes of deterministic errors


@dataclass(frozen=True)
class SlopeFit:
    """Least-squares slope of log e on log eta over the settled range, and the spread of the local slopes."""

    slope: float
    spread: float
    lo: float
    hi: float
    n_points: int
    local: np.ndarray  # local two-point slopes on the whole grid (nan below the rounding floor)
    usable: np.ndarray  # bool, above 1e3 x the rounding floor


def settled_slope(etas, errors, floor, settle_tol: float = 0.02, min_points: int = 4) -> SlopeFit:
    """The slope of a deterministic error curve over the range where it has settled.

    Points are usable when the error exceeds 1e3 x the rounding floor.  Starting from the smallest
    usable eta, the range extends upward while each new local (two-point) slope differs from the first
    local slope of the range by at most ``settle_tol`` -- a criterion that does not use the predicted
    exponent.  The fitted slope is ordinary least squares over the range; ``spread`` = the larger of
    max |local slope - fitted slope| over the range and |extrapolated exponent - fitted slope|
    (``extrapolated_exponent``: where the local slopes are heading as eta -> 0) -- the systematic
    uncertainty of a deterministic fit, used as the interval half-width -- plus 1e-6 for rounding.
    """
    x = np.log(np.asarray(etas, dtype=np.float64))
    e = np.asarray(errors, dtype=np.float64)
    usable = e > 1e3 * np.asarray(floor)
    local = np.full(x.size - 1, np.nan)
    for j in range(x.size - 1):
        if usable[j] and usable[j + 1]:
            local[j] = (np.log(e[j + 1]) - np.log(e[j])) / (x[j + 1] - x[j])
    start = next((j for j in range(x.size - 1) if np.isfinite(local[j])), None)
    if start is None:
        raise SgdTheoryError("etas: no two adjacent learning rates give errors above the rounding floor; use larger "
                             "learning rates")
    end = start
    while end + 1 < local.size and np.isfinite(local[end + 1]) and abs(local[end + 1] - local[start]) <= settle_tol:
        end += 1
    idx = np.arange(start, end + 2)
    if idx.size < min_points:
        raise SgdTheoryError(f"etas: the error slope settles over only {idx.size} grid points (need {min_points}); "
                             "use a finer or wider grid of small learning rates")
    xs, ys = x[idx], np.log(e[idx])
    slope = float(np.polyfit(xs, ys, 1)[0])
    spread = float(np.max(np.abs(local[start:end + 1] - slope)))
    spread = max(spread, abs(extrapolated_exponent(np.exp(x[start:start + 3]), local[start:start + 2]) - slope)) + 1e-6
    return SlopeFit(slope, spread, float(np.exp(xs[0])), float(np.exp(xs[-1])), int(idx.size), local, usable)


def extrapolated_exponent(etas3, local2) -> float:
    """The exponent at eta -> 0 from the first two local slopes s_1, s_2 (between etas3[0:2] and etas3[1:3]):
    for e = C eta^p (1 + a eta + ...) a local slope is p + a eta_mid + O(eta^2), so linear extrapolation in
    the geometric midpoints eta_mid gives p up to O(eta^2).  ``settled_slope`` widens its interval to reach it."""
    e = np.asarray(etas3, dtype=np.float64)
    mid = np.sqrt(e[:-1] * e[1:])
    s1, s2 = float(local2[0]), float(local2[1])
    return s1 - (s2 - s1) * mid[0] / (mid[1] - mid[0])


# ---------------------------------------------------------------------------------------------
# SymPy: backward error analysis


@dataclass
class GeneralDerivation:
    m: int
    f1: object  # recovered O(eta) correction of the vector field (sympy Matrix)
    claimed: object  # -grad[(1/4m) sum |grad L_k|^2]
    difference: object  # f1 - claimed, simplified (zero)
    curl: object  # curl of f1 (zero: a gradient field)
    gd_only_difference: object  # f1 - (-grad[(1/4)|grad L|^2]) = -grad[(1/4m) sum |grad L_k - grad L|^2]
    variance_difference: object  # gd_only_difference + grad[(1/4m) sum |g_k - g|^2] (zero)
    identity: object  # (1/4m) sum |g_k|^2 - (1/4)|g|^2 - (1/4m) sum |g_k - g|^2 (zero)


@functools.lru_cache(maxsize=None)
def derive_general(m: int) -> GeneralDerivation:
    """SymPy backward error analysis with undefined per-batch losses L_k(x, y) (module docstring)."""
    import sympy as sp

    m = check_int(m, "m", 1, 4)
    x, y = sp.symbols("x y")
    X = [x, y]
    Ls = [sp.Function(f"L{k + 1}")(x, y) for k in range(m)]
    g = [sp.Matrix([sp.diff(L, v) for v in X]) for L in Ls]
    J = [sp.Matrix(2, 2, lambda i, j: sp.diff(L, X[i], X[j])) for L in Ls]
    # composition truncated at eta^2: delta = eta d1 + eta^2 d2; step: delta -> delta - eta (g + J delta)
    perms = list(itertools.permutations(range(m)))
    E2 = sp.zeros(2, 1)
    for p in perms:
        d1, d2 = sp.zeros(2, 1), sp.zeros(2, 1)
        for k in p:
            d1, d2 = d1 - g[k], d2 - J[k] * d1
        E2 += d2
    E2 = E2 / len(perms)
    gbar = sum(g, sp.zeros(2, 1)) / m
    Jbar = sum(J, sp.zeros(2, 2)) / m
    f0 = -gbar
    # flow: w(m eta) - w0 = m eta f0 + eta^2 (m f1 + (m^2/2) (grad f0) f0) + O(eta^3); grad f0 = -Jbar
    f1 = ((E2 - sp.Rational(m * m, 2) * (-Jbar) * f0) / m).applyfunc(sp.expand)
    reg = sum((gk.T * gk)[0] for gk in g) / (4 * m)
    claimed = -sp.Matrix([sp.diff(reg, v) for v in X])
    diff = (f1 - claimed).applyfunc(sp.simplify)
    curl = sp.simplify(sp.diff(f1[1], x) - sp.diff(f1[0], y))
    gd_reg = (gbar.T * gbar)[0] / 4
    gd_diff = (f1 + sp.Matrix([sp.diff(gd_reg, v) for v in X])).applyfunc(sp.expand)
    var = sum(((gk - gbar).T * (gk - gbar))[0] for gk in g) / (4 * m)
    var_diff = (gd_diff + sp.Matrix([sp.diff(var, v) for v in X])).applyfunc(sp.simplify)
    identity = sp.simplify(sp.expand(reg - gd_reg - var))
    return GeneralDerivation(m, f1, claimed, diff, curl, gd_diff, var_diff, identity)


def _rat(v):
    """The rational a float stores, exactly (``symbolic_basin.exact_rational``: p/2^k, no rounding to a nearby
    simple fraction), so the SymPy derivation is exact for the stored double inputs."""
    from .symbolic_basin import exact_rational

    return exact_rational(v)


@dataclass
class QuadraticDerivation:
    A1: object  # recovered eta-correction of the Hessian of L~
    r1: object  # recovered eta-correction of the gradient at w0
    A1_claimed: object
    r1_claimed: object
    coefficients: dict  # kind -> list of (eta^k coefficient vectors of E delta_m - delta~(m eta), k = 1..3)
    L1: object  # recovered correction L_1(delta) (sympy expression in delta symbols, up to a constant)
    L1_claimed: object
    symbols: tuple


def derive_quadratic(G, H, order: int = 3) -> QuadraticDerivation:
    """SymPy (exact rationals): recover the modified loss of quadratic per-batch losses and the exact
    eta^1..eta^order coefficients of E[delta_m] - delta~(m eta) for every flow in ``FLOWS``."""
    import sympy as sp

    G = np.asarray(G, dtype=np.float64)
    H = np.asarray(H, dtype=np.float64)
    m, d = G.shape
    if m > 6:
        raise SgdTheoryError(f"m = {m} is out of range for the symbolic quadratic derivation: valid range [1, 6]")
    eta = sp.Symbol("eta", positive=True)
    s = sp.Matrix(sp.symbols(f"s0:{d}"))  # start displacement
    Gs = [sp.Matrix(d, 1, [_rat(v) for v in G[k]]) for k in range(m)]
    Hs = [sp.Matrix(d, d, [_rat(v) for v in H[k].reshape(-1)]) for k in range(m)]
    Hs = [(h + h.T) / 2 for h in Hs]
    eye = sp.eye(d)

    def affine(k):
        T = sp.zeros(d + 1, d + 1)
        T[0, 0] = 1
        T[1:, 0] = -eta * Gs[k]
        T[1:, 1:] = eye - eta * Hs[k]
        return T

    maps = [affine(k) for k in range(m)]
    F = {0: sp.eye(d + 1)}
    for size in range(1, m + 1):
        for mask in range(1 << m):
            if bin(mask).count("1") != size:
                continue
            acc = sp.zeros(d + 1, d + 1)
            for k in range(m):
                if mask >> k & 1:
                    acc += maps[k] * F[mask ^ (1 << k)]
            F[mask] = (acc / size).expand()
    E = F[(1 << m) - 1]
    Emean = (E[1:, 0] + E[1:, 1:] * s - s).applyfunc(sp.expand)  # E[delta_m] - delta_0, affine in s
    Gb = sum(Gs, sp.zeros(d, 1)) / m
    Hb = sum(Hs, sp.zeros(d, d)) / m
    # recover (A1, r1): eta^2 coefficient of the flow -m (A1 s + r1) + (m^2/2) Hb (Hb s + Gb)
    c2 = Emean.applyfunc(lambda e: e.coeff(eta, 2))
    target = ((sp.Rational(m * m, 2) * Hb * (Hb * s + Gb) - c2) / m).applyfunc(sp.expand)
    A1 = sp.Matrix(d, d, lambda i, j: target[i].coeff(s[j]))
    r1 = target.subs({v: 0 for v in s})
    A1c = sum((h * h for h in Hs), sp.zeros(d, d)) / (2 * m)
    r1c = sum((Hs[k] * Gs[k] for k in range(m)), sp.zeros(d, d)[:, 0]) / (2 * m)
    delta = sp.Matrix(sp.symbols(f"delta0:{d}"))
    L1 = sp.expand((delta.T * A1 * delta)[0] / 2 + (r1.T * delta)[0])
    L1c = sp.expand(sum(((Gs[k] + Hs[k] * delta).T * (Gs[k] + Hs[k] * delta))[0] for k in range(m)) / (4 * m))
    L1c = L1c - L1c.subs({v: 0 for v in delta})
    # exact series of each flow from delta_0 = 0 at t = m eta: delta~ = -sum_j (-A)^j t^(j+1)/(j+1)! r
    E0 = Emean.subs({v: 0 for v in s})
    coeffs = {}
    for kind, (a, b, _) in FLOWS.items():
        a_, b_ = _rat(a), _rat(b)  # the FLOWS coefficients are dyadic (1/4, 1/2, 0): exact
        varH = sum(((Hs[k] - Hb) * (Hs[k] - Hb) for k in range(m)), sp.zeros(d, d)) / m
        varG = sum(((Hs[k] - Hb) * (Gs[k] - Gb) for k in range(m)), sp.zeros(d, 1)) / m
        A = Hb + eta * (2 * a_ * Hb * Hb + 2 * b_ * varH)
        r = Gb + eta * (2 * a_ * Hb * Gb + 2 * b_ * varG)
        t = m * eta
        flow = sp.zeros(d, 1)
        term = r
        for j in range(order + 1):
            flow += -(t ** (j + 1) / sp.factorial(j + 1)) * term
            term = -A * term
        diff = (E0 - flow).applyfunc(sp.expand)
        coeffs[kind] = [diff.applyfunc(lambda e, k=k: e.coeff(eta, k)) for k in range(1, order + 1)]
    return QuadraticDerivation(A1, r1, A1c, r1c, coeffs, L1, L1c, (eta, s, delta))


def derivation_text(qb: QuadraticBatches | None = None, m_general=(1, 2, 3)) -> str:
    """The derivation as text (``sgdtheory derive C1``)."""
    import sympy as sp

    lines = ["Backward error analysis of one epoch of SGD with random shuffling (Smith et al. 2021; m = 1: GD,",
             "Barrett & Dherin 2021).  Steps w_(j+1) = w_j - eta grad L_(pi_j)(w_j), pi uniform over the m! orders.",
             "Composed and expanded at w0 (d = 2, undefined L_k(x, y)), averaged over all orders:",
             "  E[w_m] - w0 = -m eta grad L + eta^2 E sum_(i<j) J_(pi_j) g_(pi_i) + O(eta^3).",
             "Flow w' = f0 + eta f1 for time m eta: m eta f0 + eta^2 (m f1 + (m^2/2) grad(f0) f0) + O(eta^3).",
             "Matching gives f0 = -grad L and f1 = -grad L_1 with (SymPy):"]
    for m in m_general:
        der = derive_general(m)
        lines.append(f"  m = {m}: f1 - (-grad[(1/4m) sum_k |grad L_k|^2]) = {list(der.difference)};  curl f1 = "
                     f"{der.curl};  f1 + grad[(1/4)|grad L|^2] + grad[(1/4m) sum |g_k - g|^2] = "
                     f"{list(der.variance_difference)}")
    der = derive_general(2)
    lines += ["  e.g. m = 2: f1_x = " + str(der.f1[0]),
              "Modified loss recovered:  L~_SGD = L + (eta/(4m)) sum_k |grad L_k|^2",
              "                                 = L + (eta/4)|grad L|^2 + (eta/(4m)) sum_k |grad L_k - grad L|^2",
              f"  (identity checked by SymPy: difference = {derive_general(3).identity});",
              "  m = 1: L~_GD = L + (eta/4)|grad L|^2 (Barrett & Dherin).",
              "Averaged also over batch composition (random partition into batches of B each epoch):",
              "  L~ = L + (eta/4)|grad L|^2 + (eta/4) (n-B)/(B(n-1)) (1/n) sum_i |grad l_i - grad L|^2."]
    if qb is not None and qb.m <= 6:
        q = derive_quadratic(qb.G, qb.H)
        eta = q.symbols[0]
        lines += [f"Quadratic per-batch losses of the instance (m = {qb.m}, d = {qb.d}; exact rationals):",
                  f"  recovered A1 = {q.A1.tolist()}",
                  f"  claimed   A1 = (1/2m) sum H_k^2 = {q.A1_claimed.tolist()}",
                  f"  recovered r1 = {list(q.r1)};  claimed (1/2m) sum H_k G_k = {list(q.r1_claimed)}",
                  f"  recovered L_1(delta) - L_1(0) = {q.L1}",
                  f"  (1/4m) sum |G_k + H_k delta|^2 - const = {q.L1_claimed}"]
        for kind in FLOWS:
            c = q.coefficients[kind]
            lines.append(f"  E[delta_m] - delta~_{kind}(m eta) = " + " + ".join(
                f"{[float(v) for v in c[k]]} {eta}^{k + 1}" for k in range(len(c))) + " + ...")
        lines.append("  (sgd: eta and eta^2 terms vanish, error O(eta^3); the controls have a non-zero eta^2 term)")
    _ = sp
    return "\n".join(lines)
