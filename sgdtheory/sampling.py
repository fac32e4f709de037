"""Minibatch sampling schemes: with replacement, without replacement, random reshuffling, cyclic, full.

A ``Sampler`` is a record (scheme, batch size) that the engine turns into a code.  The gradient
noise of a uniform minibatch mean has covariance c_B * Sigma (Sigma the per-example gradient
covariance, seed 000 section "SGD", CLAIMS A1) with

* with replacement: c_B = 1/B,
* without replacement: c_B = (n - B) / (B (n - 1))  (finite-population correction),
* full batch: c_B = 0.

Random reshuffling and cyclic order are not i.i.d. across steps, so they have no such factor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._kernels import codes
from .errors import SgdTheoryError, check_int

SCHEMES = {
    "with_replacement": codes.SAMPLING_WITH_REPLACEMENT,
    "without_replacement": codes.SAMPLING_WITHOUT_REPLACEMENT,
    "reshuffle": codes.SAMPLING_RESHUFFLE,
    "cyclic": codes.SAMPLING_CYCLIC,
    "full": codes.SAMPLING_FULL,
}


@dataclass(frozen=True)
class Sampler:
    """Minibatches of ``batch_size`` examples drawn by ``scheme`` (a key of ``SCHEMES``)."""

    batch_size: int = 1
    scheme: str = "with_replacement"

    def __post_init__(self):
        if self.scheme not in SCHEMES:
            raise SgdTheoryError(f"sampling: unknown scheme {self.scheme!r}; valid: {', '.join(SCHEMES)}")
        object.__setattr__(self, "batch_size", check_int(self.batch_size, "batch_size", 1))

    @property
    def code(self) -> int:
        return SCHEMES[self.scheme]

    def validate_for(self, n: int) -> int:
        """The batch size to use on a data set of n examples; errors name the valid range."""
        if self.scheme == "full":
            return n
        if self.scheme != "with_replacement" and self.batch_size > n:
            raise SgdTheoryError(
                f"batch_size = {self.batch_size} is larger than the data set: valid range for "
                f"{self.scheme} sampling is [1, {n}]"
            )
        return self.batch_size

    def noise_factor(self, n: int) -> float:
        """c_B with E[(g_B - g)(g_B - g)^T] = c_B * Sigma, for the i.i.d.-per-step schemes."""
        b = self.validate_for(n)
        if self.scheme == "with_replacement":
            return 1.0 / b
        if self.scheme == "without_replacement":
            return 0.0 if n == 1 else (n - b) / (b * (n - 1))
        if self.scheme == "full":
            return 0.0
        raise SgdTheoryError(f"sampling: {self.scheme} batches are not i.i.d. across steps; no c_B factor")


def reference_draw(scheme: str, rng: np.random.Generator, n: int, batch: int) -> np.ndarray:
    """Plain-numpy draw of one minibatch for the i.i.d. schemes (same law as the kernel)."""
    if scheme == "with_replacement":
        return rng.integers(0, n, size=batch)
    if scheme == "without_replacement":
        return rng.choice(n, size=batch, replace=False)
    if scheme == "full":
        return np.arange(n)
    raise SgdTheoryError(f"sampling: {scheme} is an epoch scheme; use reference_epoch_batches")


def reference_epoch_batches(perm: np.ndarray, batch: int) -> list[np.ndarray]:
    """The batches of one epoch of random reshuffling / cyclic order for permutation ``perm``.

    The last ``n mod batch`` examples of the permutation are dropped (``drop_last``).
    """
    m = len(perm) // batch
    return [perm[k * batch:(k + 1) * batch] for k in range(m)]
