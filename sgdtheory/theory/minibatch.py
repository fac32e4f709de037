r"""Moments of the minibatch gradient: the factor c_B symbolically, and exact enumeration.

Source: seed 000 (Huszar, section "SGD"), 001 and 002 (the minibatch gradient is unbiased) and
CLAIMS A1; seed 003, slide on the loss (beta - y)^2/2 (CLAIMS A2).

For per-example gradients g_1..g_n at a point w with mean gbar and covariance
Sigma = mean_i (g_i - gbar)(g_i - gbar)^T, the minibatch mean g_B satisfies E g_B = gbar and
Cov g_B = c_B Sigma with

* c_B = 1/B for B indices drawn independently with replacement;
* c_B = (n - B) / (B (n - 1)) for a uniform B-subset (without replacement).

``derive_batch_factor`` proves the second with SymPy from inclusion probabilities
P(i in batch) = B/n and P(i, j in batch) = B(B-1)/(n(n-1)); ``enumerate_batch_moments`` computes
E g_B and Cov g_B exactly by listing every batch (small n).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import sympy

from ..errors import SgdTheoryError
from .symbolic_basin import Derivation

MAX_ENUMERATION = 2_000_000


def batch_factor(n: int, batch: int, scheme: str) -> float:
    """c_B with Cov g_B = c_B Sigma."""
    if scheme == "with_replacement":
        return 1.0 / batch
    if scheme == "without_replacement":
        if not 1 <= batch <= n:
            raise SgdTheoryError(f"batch_size = {batch} is out of range: valid range is [1, {n}] without replacement")
        return 0.0 if n == 1 else (n - batch) / (batch * (n - 1))
    raise SgdTheoryError(f"sampling: {scheme!r} has no c_B (valid: with_replacement, without_replacement)")


def derive_batch_factor() -> Derivation:
    """SymPy: Cov of the mean of a uniform B-subset of centred vectors is (n-B)/(B(n-1)) Sigma.

    With indicators I_i (i in batch), g_B - gbar = (1/B) sum_i I_i x_i, x_i = g_i - gbar,
    sum_i x_i = 0.  Cov = (1/B^2)[sum_i Var(I_i) x_i x_i^T + sum_{i != j} Cov(I_i, I_j) x_i x_j^T]
    and sum_{i != j} x_i x_j^T = -sum_i x_i x_i^T, so Cov = (n/B^2)(Var I - Cov(I_i, I_j)) Sigma.
    """
    n, B = sympy.symbols("n B", positive=True)
    p = B / n
    q = B * (B - 1) / (n * (n - 1))
    var_i = p * (1 - p)
    cov_ij = q - p**2
    factor = sympy.simplify(n / B**2 * (var_i - cov_ij))
    der = Derivation("Batch factor c_B without replacement (CLAIMS A1)")
    der.add("P(i in batch)", p)
    der.add("P(i, j in batch), i != j", q)
    der.add("c_B = n (Var I_i - Cov(I_i, I_j)) / B^2", factor)
    der.add("c_B - (n - B)/(B (n - 1))", sympy.simplify(factor - (n - B) / (B * (n - 1))))
    der.add("c_B with replacement (independent draws): Var of a mean of B iid", sympy.Integer(1) / B)
    return der


def enumerate_batch_moments(G, batch: int, scheme: str) -> tuple[np.ndarray, np.ndarray, float]:
    """Exact (E g_B, Cov g_B, P(g_B = gbar)) by listing every batch; G is (n, d).

    With replacement every ordered B-tuple of indices is equally likely; without replacement
    every B-subset.  P(g_B = gbar) counts batches whose mean equals gbar to 1e-12 relative.
    """
    G = np.asarray(G, dtype=np.float64)
    n, d = G.shape
    count = n**batch if scheme == "with_replacement" else math.comb(n, batch)
    if count > MAX_ENUMERATION:
        raise SgdTheoryError(f"batch_size = {batch}: {count} batches exceed the enumeration limit {MAX_ENUMERATION}")
    if scheme == "with_replacement":
        batches = itertools.product(range(n), repeat=batch)
    elif scheme == "without_replacement":
        batches = itertools.combinations(range(n), batch)
    else:
        raise SgdTheoryError(f"sampling: {scheme!r} cannot be enumerated (valid: with_replacement, without_replacement)")
    means = np.array([G[list(b)].mean(axis=0) for b in batches])
    gbar = G.mean(axis=0)
    dev = means - means.mean(axis=0)
    scale = max(np.abs(G).max(), 1e-300)
    zero = float(np.mean(np.all(np.abs(means - gbar) <= 1e-12 * scale, axis=1)))
    return means.mean(axis=0), dev.T @ dev / len(means), zero
