r"""Exact end-of-epoch moments of SGD under cyclic order, random reshuffling and sampling with replacement.

Source: seed 004 ("Stochastic Gradient Descent" design pattern): "The randomness is very important
because ... if the samples aren't random enough, then the method does not work at all"; CLAIMS.md A7
("cyclic (sorted) order vs random reshuffling vs sampling with replacement: bias and error of the
final iterate").  The leading random-reshuffling bias below is the minimiser shift of the modified
loss of Smith, Dherin, Barrett and De (ICLR 2021, eq. 1 with m = n minibatches of size 1), seed 002.

Setting
-------
A quadratic finite sum expanded at its minimiser w*, per-example gradient g_i + H_i Delta at
Delta = w - w* (mean_i g_i = 0, Hbar = mean_i H_i positive definite), batch size 1, constant eta.
A step with example i is the affine map

    Delta -> A_i Delta + b_i,    A_i = I - eta H_i,   b_i = -eta g_i.

Lifted to the moment vector z = (1, Delta, Delta (x) Delta) (row-major vec of Delta Delta^T) it is the
linear map

    M_i = [[1,            0,                       0      ],
           [b_i,          A_i,                     0      ],
           [b_i (x) b_i,  A_i (x) b_i + b_i (x) A_i, A_i (x) A_i]],

since (A x + b)(A x + b)^T = A x x^T A^T + A x b^T + b x^T A^T + b b^T.  Products of lifted maps are
the lifts of the composed affine maps, and an epoch's map is independent of the iterate at the start
of the epoch, so the expected moment vector at the end of each epoch obeys z_{k+1} = E[M_epoch] z_k
exactly, with

* cyclic (the fixed order o_1..o_n, "sorted" when the examples are listed sorted):
  M_epoch = M_{o_n} ... M_{o_1} (deterministic);
* random reshuffling (a fresh uniform permutation pi each epoch):
  E[M_epoch] = (1/n!) sum_pi M_{pi_n} ... M_{pi_1}, computed without enumerating the n! orders by
  the recursion over subsets  F(S) = (1/|S|) sum_{i in S} M_i F(S \ {i}),  F({}) = I  (F(S) is the
  average over the orderings of S of the product; i is the example visited last): 2^n n products;
* with replacement (i.i.d. uniform indices): E[M_epoch] = Mbar^n with Mbar = mean_i M_i (this is
  the recursion of ``theory.sgd_moments.SGDMoments`` for B = 1, applied n times).

The stationary end-of-epoch moments solve z = E[M_epoch] z (a linear system); the run is mean-square
stable iff the spectral radius of E[M_epoch] without its constant row and column is < 1.

Leading orders in eta (derived in ``symbolic_bias_series``; closed forms here)
------------------------------------------------------------------------------
With pi an epoch's order, the epoch map is Delta -> P_pi Delta + c_pi, P_pi = I - eta n Hbar + O(eta^2)
and, because sum_i g_i = 0,  c_pi = eta^2 sum_{k<j} H_{pi_j} g_{pi_k} + O(eta^3).  The stationary mean
m = (I - E P)^{-1} E c is therefore m = b1 eta + O(eta^2) with

* cyclic:        b1 = (1/n) Hbar^{-1} sum_{k<j} H_{o_j} g_{o_k}   (non-zero in general: bias Theta(eta));
* reshuffling:   for positions k < j the pair (pi_k, pi_j) is uniform over ordered distinct pairs, so
                 E sum_{k<j} H_{pi_j} g_{pi_k} = (1/2) sum_{a != b} H_b g_a = -(1/2) sum_i H_i g_i and
                 b1 = -(1/(2n)) Hbar^{-1} sum_i H_i g_i  -- the average of the cyclic b1 over all n!
                 orders, and the minimiser shift of the modified loss L + (eta/(4n)) sum_i |grad L_i|^2.
                 It vanishes when all H_i are equal (then E c_pi = 0 exactly and RR is unbiased);
                 otherwise the RR bias is Theta(eta), not O(eta^2);
* with replacement: E Delta_{t+1} = (I - eta Hbar) E Delta_t exactly, so the mean is unbiased.

Mean-square errors E|Delta|^2 at the end of an epoch in the stationary regime:

* with replacement: S = (I - eta Hbar) S (I - eta Hbar) + eta^2 (Sigma + mean_i H_i S H_i - Hbar S Hbar)
  (Sigma = mean_i g_i g_i^T), so E|Delta|^2 = eta tr S0 + O(eta^2), Hbar S0 + S0 Hbar = Sigma: Theta(eta);
* reshuffling: c_pi - E c_pi = O(eta^2) and P_pi - E P_pi = O(eta^2) (the O(eta) term -eta n Hbar
  does not depend on the order), while 1 - rho(E P) = Theta(eta), so the covariance is O(eta^3) and
  E|Delta|^2 = |b1|^2 eta^2 + O(eta^3): Theta(eta^2), all of it bias to leading order;
* cyclic: deterministic, E|Delta|^2 = |m|^2 = |b1|^2 eta^2 + O(eta^3).

Nothing here is fitted or sampled.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..errors import SgdTheoryError, check_float
from ..problems import QuadraticFiniteSum

__all__ = ["SCHEMES", "MAX_RESHUFFLE_N", "MAX_ORDER_ENUMERATION_N", "SamplingOrderTheory", "EpochMoments",
           "lift", "reshuffle_average", "reference_reshuffle_average", "symbolic_bias_series"]

#: the three sampling schemes compared by claim A7 (names of ``sampling.SCHEMES``)
SCHEMES = ("cyclic", "reshuffle", "with_replacement")
#: largest n for the exact reshuffling average (2^n n products of (1 + d + d^2)-square matrices)
MAX_RESHUFFLE_N = 12
#: largest n for which all n! cyclic orders are enumerated (figure data only)
MAX_ORDER_ENUMERATION_N = 7


def lift(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The lifted moment map of Delta -> A Delta + b on z = (1, Delta, vec Delta Delta^T) (module docstring).

    ``A``: (..., d, d), ``b``: (..., d); returns (..., D, D) with D = 1 + d + d^2.
    """
    A = np.asarray(A, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    d = A.shape[-1]
    lead = A.shape[:-2]
    D = 1 + d + d * d
    M = np.zeros(lead + (D, D))
    M[..., 0, 0] = 1.0
    M[..., 1:1 + d, 0] = b
    M[..., 1:1 + d, 1:1 + d] = A
    M[..., 1 + d:, 0] = np.einsum("...a,...b->...ab", b, b).reshape(lead + (d * d,))
    # vec(A x b^T) = (A (x) b) x and vec(b x^T A^T) = (b (x) A) x  (row-major vec, b a column)
    Ab = np.einsum("...ak,...b->...abk", A, b).reshape(lead + (d * d, d))
    bA = np.einsum("...a,...bk->...abk", b, A).reshape(lead + (d * d, d))
    M[..., 1 + d:, 1:1 + d] = Ab + bA
    M[..., 1 + d:, 1 + d:] = np.einsum("...ak,...bl->...abkl", A, A).reshape(lead + (d * d, d * d))
    return M


def reshuffle_average(M: np.ndarray) -> np.ndarray:
    """(1/n!) sum over permutations pi of M[pi_n] @ ... @ M[pi_1], exactly, in 2^n n products.

    Recursion over subsets S of {0..n-1} (bit masks): F(S) = (1/|S|) sum_{i in S} M[i] @ F(S - {i}),
    F(empty) = I; F(S) is the average over the |S|! orderings of S of the ordered product.
    """
    M = np.asarray(M, dtype=np.float64)
    n, D = M.shape[0], M.shape[1]
    if n > MAX_RESHUFFLE_N:
        raise SgdTheoryError(f"n = {n} is out of range for the exact reshuffling average: valid range is "
                             f"[1, {MAX_RESHUFFLE_N}] (it costs 2^n n matrix products)")
    F = np.zeros((1 << n, D, D))
    F[0] = np.eye(D)
    masks = np.arange(1 << n)
    size = np.array([bin(s).count("1") for s in masks])
    for s in range(1, n + 1):
        layer = masks[size == s]
        acc = np.zeros((layer.size, D, D))
        for i in range(n):
            has = (layer >> i) & 1 == 1
            if np.any(has):
                acc[has] += np.einsum("ab,sbc->sac", M[i], F[layer[has] ^ (1 << i)])
        F[layer] = acc / s
    return F[-1]


def reference_reshuffle_average(M: np.ndarray) -> np.ndarray:
    """The same average by enumerating all n! permutations (plain numpy; for tests, n <= 7)."""
    M = np.asarray(M, dtype=np.float64)
    n, D = M.shape[0], M.shape[1]
    if n > 7:
        raise SgdTheoryError(f"n = {n} is out of range for enumeration: valid range is [1, 7]")
    total = np.zeros((D, D))
    for perm in itertools.permutations(range(n)):
        P = np.eye(D)
        for i in perm:
            P = M[i] @ P
        total += P
    return total / math.factorial(n)


@dataclass(frozen=True)
class EpochMoments:
    """E[w - w*] (``mean``, (d,)) and E[(w - w*)(w - w*)^T] (``second``) at the end of an epoch."""

    mean: np.ndarray
    second: np.ndarray

    @property
    def bias(self) -> float:
        """|E w - w*|."""
        return float(np.linalg.norm(self.mean))

    @property
    def mse(self) -> float:
        """E|w - w*|^2 = tr S."""
        return float(np.trace(self.second))

    @property
    def variance(self) -> float:
        """tr Cov(w) = E|w - w*|^2 - |E w - w*|^2."""
        return float(np.trace(self.second) - self.mean @ self.mean)


class SamplingOrderTheory:
    """Exact end-of-epoch moments for the three schemes on a quadratic finite sum (module docstring).

    Args:
        problem: a ``QuadraticFiniteSum``; it is re-expanded at its minimiser.  Its examples are
            visited in the listed order by the cyclic scheme (as by the engine's "cyclic" sampler).
    """

    def __init__(self, problem: QuadraticFiniteSum):
        if not isinstance(problem, QuadraticFiniteSum):
            raise SgdTheoryError(f"problem: expected a QuadraticFiniteSum, got {type(problem).__name__}")
        p = problem.at_minimum()
        if p.n > MAX_RESHUFFLE_N:
            raise SgdTheoryError(f"problem.n = {p.n} examples is out of range for claim A7's exact "
                                 f"reshuffling theory: valid range is [2, {MAX_RESHUFFLE_N}]")
        if p.n < 2:
            raise SgdTheoryError("problem.n = 1 example is out of range: sampling order needs n >= 2")
        self.problem = p
        self.g = p.g - p.g.mean(axis=0)  # mean_i g_i = 0 up to rounding; make it exact in float
        self.H = p.H
        self.n, self.d = p.g.shape
        self.Hbar = p.mean_hessian
        self._cache: dict = {}

    # ---- exact epoch maps -------------------------------------------------------------------
    def step_maps(self, eta: float) -> np.ndarray:
        """Lifted per-example maps M_i at learning rate eta, shape (n, D, D)."""
        eta = check_float(eta, "eta", 0.0, None)
        A = np.eye(self.d)[None] - eta * self.H
        return lift(A, -eta * self.g)

    def epoch_map(self, eta: float, scheme: str) -> np.ndarray:
        """E[M_epoch] for ``scheme`` (cyclic, reshuffle, with_replacement), shape (D, D)."""
        key = (float(eta), scheme)
        if key in self._cache:
            return self._cache[key]
        M = self.step_maps(eta)
        if scheme == "cyclic":
            E = np.eye(M.shape[1])
            for i in range(self.n):
                E = M[i] @ E
        elif scheme == "reshuffle":
            E = reshuffle_average(M)
        elif scheme == "with_replacement":
            E = np.linalg.matrix_power(M.mean(axis=0), self.n)
        else:
            raise SgdTheoryError(f"scheme: unknown {scheme!r}; valid: {', '.join(SCHEMES)}")
        self._cache[key] = E
        return E

    def spectral_radius(self, eta: float, scheme: str) -> float:
        """Spectral radius of the epoch moment map on (Delta, vec Delta Delta^T) (< 1: mean-square stable)."""
        E = self.epoch_map(eta, scheme)
        return float(np.max(np.abs(np.linalg.eigvals(E[1:, 1:]))))

    def _split(self, z: np.ndarray) -> EpochMoments:
        d = self.d
        S = z[1 + d:].reshape(d, d)
        return EpochMoments(z[1:1 + d].copy(), 0.5 * (S + S.T))

    def moments(self, eta: float, scheme: str, epochs: int, delta0=None) -> EpochMoments:
        """Exact moments of w - w* after ``epochs`` whole epochs from w_0 = w* + delta0 (default 0)."""
        d = self.d
        x = np.zeros(d) if delta0 is None else np.asarray(delta0, dtype=np.float64)
        if x.shape != (d,):
            raise SgdTheoryError(f"delta0: expected shape ({d},), got {x.shape}")
        if int(epochs) != epochs or epochs < 0:
            raise SgdTheoryError(f"epochs = {epochs} is out of range: valid range is >= 0 (an integer)")
        z = np.concatenate([[1.0], x, np.outer(x, x).reshape(-1)])
        E = self.epoch_map(eta, scheme)
        z = np.linalg.matrix_power(E, int(epochs)) @ z
        return self._split(z)

    def stationary(self, eta: float, scheme: str) -> EpochMoments:
        """Stationary end-of-epoch moments: the fixed point z = E[M_epoch] z with z_0 = 1."""
        E = self.epoch_map(eta, scheme)
        rho = self.spectral_radius(eta, scheme)
        if rho >= 1.0:
            raise SgdTheoryError(f"eta = {eta:g} is beyond the stability limit of {scheme} sampling: the exact "
                                 f"epoch moment map has spectral radius {rho:.6g} >= 1")
        R = E[1:, 1:]
        x = np.linalg.solve(np.eye(R.shape[0]) - R, E[1:, 0])
        return self._split(np.concatenate([[1.0], x]))

    # ---- leading orders (closed forms; ``symbolic_bias_series`` derives them) -------------------
    def bias_coefficient(self, scheme: str, order=None) -> np.ndarray:
        """b1 with stationary E[w - w*] = b1 eta + O(eta^2) at the end of an epoch (module docstring)."""
        g, H, n = self.g, self.H, self.n
        if scheme == "with_replacement":
            return np.zeros(self.d)
        if scheme == "reshuffle":
            return -np.linalg.solve(self.Hbar, np.einsum("iab,ib->a", H, g)) / (2 * n)
        if scheme == "cyclic":
            o = np.arange(n) if order is None else np.asarray(order)
            acc = np.zeros(self.d)
            run = np.zeros(self.d)  # sum_{k<j} g_{o_k}
            for j in range(n):
                acc += H[o[j]] @ run
                run += g[o[j]]
            return np.linalg.solve(self.Hbar, acc) / n
        raise SgdTheoryError(f"scheme: unknown {scheme!r}; valid: {', '.join(SCHEMES)}")

    @cached_property
    def lyapunov_S0(self) -> np.ndarray:
        """S0 with Hbar S0 + S0 Hbar = Sigma = mean_i g_i g_i^T (with-replacement covariance / eta)."""
        import scipy.linalg

        Sigma = self.g.T @ self.g / self.n
        return scipy.linalg.solve_continuous_lyapunov(self.Hbar, Sigma)

    def mse_coefficient(self, scheme: str) -> tuple[int, float]:
        """(p, a) with stationary end-of-epoch E|w - w*|^2 = a eta^p + o(eta^p), for a non-zero b1."""
        if scheme == "with_replacement":
            return 1, float(np.trace(self.lyapunov_S0))
        b1 = self.bias_coefficient(scheme)
        return 2, float(b1 @ b1)

    def cyclic_order_coefficients(self) -> np.ndarray:
        """|b1| of the cyclic scheme for every one of the n! orders (n <= 7), shape (n!,)."""
        if self.n > MAX_ORDER_ENUMERATION_N:
            raise SgdTheoryError(f"n = {self.n} is out of range for enumerating the orders: valid range is "
                                 f"[2, {MAX_ORDER_ENUMERATION_N}]")
        return np.array([np.linalg.norm(self.bias_coefficient("cyclic", o))
                         for o in itertools.permutations(range(self.n))])


def symbolic_bias_series(problem: QuadraticFiniteSum, scheme: str):
    """SymPy: exact rational (b1, b2) with stationary end-of-epoch E[w - w*] = b1 eta + b2 eta^2 + O(eta^3).

    The instance's numbers are read as the rationals of their shortest decimal representation; w* and
    the gradients at w* are computed exactly.  The epoch's affine map Delta -> P(eta) Delta + c(eta)
    (cyclic: the product in the listed order; reshuffle: averaged over all orders by the subset
    recursion of ``reshuffle_average``, on the (d+1)-square affine matrices) is a polynomial in eta
    with P(0) = I and c = O(eta^2) (mean_i g_i = 0).  Writing I - P = eta Q(eta) and c = eta^2 r(eta),
    the fixed point is m = eta Q^{-1} r, so b1 = Q0^{-1} r0 and b2 = Q0^{-1} (r1 - Q1 b1).
    Returns two ``sympy.Matrix`` columns.
    """
    import sympy

    if scheme not in ("cyclic", "reshuffle"):
        raise SgdTheoryError(f"scheme: the series is for 'cyclic' or 'reshuffle', got {scheme!r}")
    n, d = problem.n, problem.d
    if scheme == "reshuffle" and n > 8:
        raise SgdTheoryError(f"n = {n} is out of range for the symbolic reshuffling series: valid range is [2, 8]")

    def rat(x):
        return sympy.Rational(repr(float(x)))

    eta = sympy.Symbol("eta", positive=True)
    G0 = [sympy.Matrix(d, 1, [rat(v) for v in problem.g[i]]) for i in range(n)]
    Hs = [sympy.Matrix(d, d, [rat(v) for v in problem.H[i].reshape(-1)]) for i in range(n)]
    Hs = [(h + h.T) / 2 for h in Hs]
    a = sympy.Matrix(d, 1, [rat(v) for v in problem.anchor])
    Hbar = sum(Hs, sympy.zeros(d, d)) / n
    w_star = a - Hbar.LUsolve(sum(G0, sympy.zeros(d, 1)) / n)
    gs = [G0[i] + Hs[i] * (w_star - a) for i in range(n)]
    eye = sympy.eye(d)

    def affine(i):
        T = sympy.zeros(d + 1, d + 1)
        T[0, 0] = 1
        T[1:, 0] = -eta * gs[i]
        T[1:, 1:] = eye - eta * Hs[i]
        return T

    maps = [affine(i) for i in range(n)]
    if scheme == "cyclic":
        E = sympy.eye(d + 1)
        for T in maps:
            E = (T * E).expand()
    else:
        F = {0: sympy.eye(d + 1)}
        for s in range(1, n + 1):
            for mask in range(1 << n):
                if bin(mask).count("1") != s:
                    continue
                acc = sympy.zeros(d + 1, d + 1)
                for i in range(n):
                    if mask >> i & 1:
                        acc += maps[i] * F[mask ^ (1 << i)]
                F[mask] = (acc / s).expand()
        E = F[(1 << n) - 1]
    P, c = E[1:, 1:], E[1:, 0]
    Q = ((eye - P) / eta).applyfunc(sympy.cancel)
    r = (c / eta**2).applyfunc(sympy.cancel)
    Q0, Q1 = Q.subs(eta, 0), Q.diff(eta).subs(eta, 0)
    r0, r1 = r.subs(eta, 0), r.diff(eta).subs(eta, 0)
    b1 = Q0.LUsolve(r0)
    b2 = Q0.LUsolve(r1 - Q1 * b1)
    return b1, b2
