"""Claim records, checks and results: the vocabulary every claim family uses.

A ``Claim`` is a record (ID, source, statement, kind, expected verdict) with three functions:
``run(instance, settings) -> ClaimResult`` (prediction, Monte Carlo measurement, verdicts),
``derive(instance) -> str`` (the symbolic derivation) and ``figure(result, outdir)``.

A ``Check`` compares one prediction with one estimate.  Its role says what the check is for:

* ``claim`` -- the document's statement (or its corrected form); expected verdict *verified*;
* ``negative control`` -- a plausible wrong prediction the same machinery must *reject*;
* ``as printed`` -- an erratum's formula exactly as the document prints it; expected *rejected*.

A claim's status is ``as expected`` when every check's verdict equals its expected verdict.  For a
claim that the document gets wrong (the errata, family E), "as expected" means the printed form
was rejected and the corrected form verified: the verdict "the document is wrong here".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..stats import DEFAULT_LEVEL, DIVERGED, INCONCLUSIVE, REJECTED, VERIFIED, Estimate, decide, decide_upper_bound

CLAIM = "claim"
NEGATIVE_CONTROL = "negative control"
AS_PRINTED = "as printed"

AS_EXPECTED = "as expected"
UNEXPECTED = "UNEXPECTED"


@dataclass
class Check:
    """One prediction against one estimate, with the resolution the interval must reach."""

    name: str
    role: str
    prediction: float
    estimate: Estimate
    resolution: float
    note: str = ""
    bound: bool = False  # True: the prediction is an upper bound, not a value

    @property
    def expected(self) -> str:
        return VERIFIED if self.role == CLAIM else REJECTED

    @property
    def verdict(self) -> str:
        if self.bound:
            return decide_upper_bound(self.prediction, self.estimate)
        return decide(self.prediction, self.estimate, self.resolution)

    @property
    def as_expected(self) -> bool:
        return self.verdict == self.expected

    def to_dict(self) -> dict:
        return {
            "name": self.name, "role": self.role, "prediction": float(self.prediction),
            "estimate": self.estimate.to_dict(), "half_width": float(self.estimate.half_width),
            "resolution": float(self.resolution), "bound": self.bound, "verdict": self.verdict,
            "expected": self.expected,
            "note": self.note,
        }


@dataclass
class ClaimResult:
    """Everything one run of a claim produced: checks, the data behind the figure, parameters."""

    claim_id: str
    checks: list[Check]
    parameters: dict
    data: dict = field(default_factory=dict)
    diverged: str | None = None

    @property
    def status(self) -> str:
        if self.diverged:
            return DIVERGED
        return AS_EXPECTED if all(c.as_expected for c in self.checks) else UNEXPECTED

    @property
    def levels(self) -> list[float]:
        """Confidence levels of the Monte Carlo interval checks of true predictions (role 'claim').

        Exact (symbolic) checks have no sampling error and are left out of the family-wise bound.
        """
        return [c.estimate.level for c in self.checks if c.role == CLAIM and c.estimate.level < 1.0]

    def verdict_of(self, name: str) -> str:
        for c in self.checks:
            if c.name == name:
                return c.verdict
        raise KeyError(name)


@dataclass(frozen=True)
class Settings:
    """How hard to look: quick mode (CI) or full; the seed; the confidence level of every interval."""

    quick: bool = False
    seed: int = 20261123
    level: float = DEFAULT_LEVEL
    progress: Callable[[str], None] | None = None
    budget: float | None = None  # path-steps per claim (sgdtheory.budget; None: the default)

    def step(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)


@dataclass(frozen=True)
class Claim:
    """A claim of the catalogue (CLAIMS.md) and the code that checks it."""

    id: str
    title: str
    source: str
    statement: str
    kind: str  # "equality", "rate", "erratum", ...
    run: Callable
    derive: Callable
    figure: Callable | None
    default_instance: Callable
    instance_from_config: Callable
    expected: str = AS_EXPECTED

    def summary(self) -> str:
        return f"{self.id:4s} {self.title}  [{self.source}]"


REGISTRY: dict[str, Claim] = {}


def register(claim: Claim) -> Claim:
    if claim.id in REGISTRY:
        raise ValueError(f"claim {claim.id} registered twice")
    REGISTRY[claim.id] = claim
    return claim


__all__ = ["Check", "ClaimResult", "Claim", "Settings", "REGISTRY", "register", "CLAIM", "NEGATIVE_CONTROL",
           "AS_PRINTED", "AS_EXPECTED", "UNEXPECTED", "VERIFIED", "REJECTED", "INCONCLUSIVE", "DIVERGED"]
