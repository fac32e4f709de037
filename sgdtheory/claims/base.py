"""Claim records, checks and results: the vocabulary every claim family uses, and the standard of
evidence (CLAIMS.md, "What verified means"), enforced here so that no claim can break it.

A ``Claim`` is a record (ID, source, statement, kind, expected verdict) with three functions:
``run(instance, settings) -> ClaimResult`` (prediction, Monte Carlo measurement, verdicts),
``derive(instance) -> str`` (the symbolic derivation) and ``figure(result, outdir)``.

A ``Check`` compares one prediction with one estimate.  Its role, fixed before measuring (from the
theory and a power calculation, never from the measured interval), says what the check is for:

* ``claim`` -- the document's statement (or its corrected form); expected verdict *verified*;
* ``negative control`` -- a plausible wrong prediction the same machinery must *reject*;
* ``as printed`` -- an erratum's formula exactly as the document prints it; expected *rejected*;
* ``approximation`` -- a known approximation (Langevin at small eta, a Fokker-Planck limit, a
  first-order formula): its verdicts read *adequate at this resolution* / *detectably wrong*, never
  *verified*, and it is not evidence for the claim.  Its expected verdict (``expect``) comes from the
  exact gap and the planned interval width; when the plan cannot tell, ``expect`` is ``None`` and the
  outcome is reported but not counted.

Rules enforced by ``ClaimResult`` for every claim:

* **Resolution rule.** A claim check is verified only if its half-width is at most its stated
  resolution *and* at most half the distance from its prediction to its nearest negative control
  (a control on the same estimate, or naming it with ``against``): otherwise the experiment could
  not tell the claim from the control, and the verdict is *inconclusive*.
* **Resolving power on the record.** Every check carries ``detectable_error`` (the smallest relative
  error in its prediction that its interval rejects; ``detectable_abs`` in absolute units) and every
  control its ``distance_half_widths`` from the estimate.
* **Chance failures counted.** ``chance_failure`` is each check's probability of missing its expected
  verdict when the theory is right: 1 - level for a claim, and for a control or an approximation the
  probability that the interval does (or does not) cover a prediction at its known distance from the
  truth (the linked claim's prediction).  The family-wise bound sums them over every check.

A claim's status is ``as expected`` when every check's verdict equals its expected verdict.  For a
claim that the document gets wrong (the errata, family E), "as expected" means the printed form
was rejected and the corrected form verified: the verdict "the document is wrong here".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

from ..stats import (DEFAULT_LEVEL, DIVERGED, INCONCLUSIVE, REJECTED, VERIFIED, Estimate, chance_inside, decide,
                     decide_upper_bound)

CLAIM = "claim"
NEGATIVE_CONTROL = "negative control"
AS_PRINTED = "as printed"
APPROXIMATION = "approximation"
ROLES = (CLAIM, NEGATIVE_CONTROL, AS_PRINTED, APPROXIMATION)
CONTROL_ROLES = (NEGATIVE_CONTROL, AS_PRINTED)

ADEQUATE = "adequate at this resolution"
DETECTABLY_WRONG = "detectably wrong"
UNDECIDED = "not decided by the plan"

AS_EXPECTED = "as expected"
UNEXPECTED = "UNEXPECTED"


def planned_expectation(gap: float, planned_half_width: float, adequate_below: float = 0.25,
                        wrong_above: float = 2.0) -> str | None:
    """The expected verdict of an approximation, fixed before measuring.

    ``gap`` = approximation - exact value (known from theory), ``planned_half_width`` from the power
    calculation (not the measured interval).  Below ``adequate_below`` half-widths the approximation
    is expected *adequate*; above ``wrong_above`` it is expected *detectably wrong*; in between the
    plan cannot tell and ``None`` is returned (the check is reported, not counted)."""
    if not planned_half_width > 0:
        return DETECTABLY_WRONG if gap != 0 else ADEQUATE
    r = abs(gap) / planned_half_width
    if r < adequate_below:
        return ADEQUATE
    if r > wrong_above:
        return DETECTABLY_WRONG
    return None


@dataclass
class Check:
    """One prediction against one estimate, with the resolution the interval must reach.

    ``against`` names the claim check a control (or approximation) competes with; by default a
    control competes with the claim checks that share its estimate.  ``expect`` is the planned
    verdict of an approximation (``ADEQUATE``, ``DETECTABLY_WRONG`` or ``None``).  ``control_gap``
    (set by ``ClaimResult``) is the distance from a claim's prediction to its nearest control, and
    ``truth`` the prediction of the claim a control or approximation is linked to."""

    name: str
    role: str
    prediction: float
    estimate: Estimate
    resolution: float
    note: str = ""
    bound: bool = False  # True: the prediction is an upper bound, not a value
    against: str | None = None
    expect: str | None = None
    main: bool = False  # the claim's headline check (reported with its detectable error)
    control_gap: float = math.inf
    truth: float | None = None

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"check {self.name!r}: unknown role {self.role!r}; valid: {', '.join(ROLES)}")
        if self.role == APPROXIMATION and self.expect not in (ADEQUATE, DETECTABLY_WRONG, None):
            raise ValueError(f"check {self.name!r}: expect must be {ADEQUATE!r}, {DETECTABLY_WRONG!r} or None")

    @property
    def expected(self) -> str:
        if self.role == CLAIM:
            return VERIFIED
        if self.role == APPROXIMATION:
            return UNDECIDED if self.expect is None else self.expect
        return REJECTED

    @property
    def effective_resolution(self) -> float:
        """The half-width the interval must reach: the stated resolution, and for a claim check half
        the distance to its nearest control (the resolution rule)."""
        if self.role == CLAIM:
            return min(self.resolution, 0.5 * self.control_gap)
        return self.resolution

    @property
    def verdict(self) -> str:
        if self.bound:
            v = decide_upper_bound(self.prediction, self.estimate)
        else:
            v = decide(self.prediction, self.estimate, self.effective_resolution)
        if self.role == APPROXIMATION:
            return {VERIFIED: ADEQUATE, REJECTED: DETECTABLY_WRONG}.get(v, v)
        return v

    @property
    def as_expected(self) -> bool:
        return self.expected == UNDECIDED or self.verdict == self.expected

    @property
    def detectable_abs(self) -> float:
        """The smallest error in the prediction (either sign) that this interval rejects:
        max(high - prediction, prediction - low), which is |prediction - estimate| + half-width for a
        symmetric interval and also right for an asymmetric one (Clopper-Pearson near 0 or 1)."""
        return max(self.estimate.high - self.prediction, self.prediction - self.estimate.low, 0.0)

    @property
    def detectable_error(self) -> float | None:
        """``detectable_abs`` relative to |prediction| (None for a zero prediction)."""
        return None if self.prediction == 0 else self.detectable_abs / abs(self.prediction)

    @property
    def distance_half_widths(self) -> float:
        """|prediction - estimate| in half-widths (for controls: how near the wrong answer was)."""
        hw = self.estimate.half_width
        d = abs(self.prediction - self.estimate.value)
        return math.inf if hw <= 0 else d / hw

    @property
    def chance_failure(self) -> float:
        """Probability that this check misses its expected verdict by chance when the theory is right.

        Exact checks (level 1) and undecided approximations: 0.  A claim: 1 - level.  A control: the
        chance that the interval covers it, at its known distance from the truth (the linked claim's
        prediction; the estimate when no claim is linked).  An approximation expected adequate: the
        chance its interval misses it; expected detectably wrong: the chance it covers it."""
        est = self.estimate
        if est.level >= 1.0 or self.expected == UNDECIDED:
            return 0.0
        if self.role == CLAIM or self.bound:
            return 1.0 - est.level
        truth = self.truth if self.truth is not None else est.value
        se = est.standard_error
        if se <= 0:
            return 0.0
        inside = chance_inside((self.prediction - truth) / se, est)
        if self.role == APPROXIMATION and self.expect == ADEQUATE:
            return 1.0 - inside
        return inside

    def to_dict(self) -> dict:
        d = {
            "name": self.name, "role": self.role, "prediction": float(self.prediction),
            "estimate": self.estimate.to_dict(), "half_width": float(self.estimate.half_width),
            "resolution": float(self.resolution), "effective_resolution": float(self.effective_resolution),
            "bound": self.bound, "verdict": self.verdict, "expected": self.expected,
            "detectable_abs": float(self.detectable_abs), "detectable_error": self.detectable_error,
            "chance_failure": float(self.chance_failure), "main": self.main,
            "note": self.note,
        }
        if self.role in CONTROL_ROLES or self.role == APPROXIMATION:
            d["distance_half_widths"] = float(self.distance_half_widths)
            d["against"] = self.against
        if self.role == APPROXIMATION:
            d["expect"] = self.expect
        if self.role == CLAIM:
            d["nearest_control_gap"] = float(self.control_gap)
        return d


def link_checks(checks: list[Check]) -> None:
    """Link controls and approximations to the claim checks they compete with (same estimate, or
    ``against`` naming the claim check): set each claim's ``control_gap`` (distance to its nearest
    control's prediction) and each control's ``truth`` (the linked claim's prediction)."""
    claims = [c for c in checks if c.role == CLAIM and not c.bound]
    for c in claims:
        c.control_gap = math.inf
    for k in checks:
        if k.role == CLAIM:
            continue
        if k.against is not None:
            linked = [c for c in claims if c.name == k.against]
            if not linked:
                raise ValueError(f"check {k.name!r}: against={k.against!r} names no claim check of this result")
        else:
            linked = [c for c in claims if c.estimate == k.estimate]
        k.truth = linked[0].prediction if linked else None
        if k.role in CONTROL_ROLES:
            for c in linked:
                c.control_gap = min(c.control_gap, abs(k.prediction - c.prediction))


@dataclass
class ClaimResult:
    """Everything one run of a claim produced: checks, the data behind the figure, parameters."""

    claim_id: str
    checks: list[Check]
    parameters: dict
    data: dict = field(default_factory=dict)
    diverged: str | None = None

    def __post_init__(self):
        link_checks(self.checks)

    @property
    def status(self) -> str:
        if self.diverged:
            return DIVERGED
        link_checks(self.checks)
        return AS_EXPECTED if all(c.as_expected for c in self.checks) else UNEXPECTED

    @property
    def main_check(self) -> Check | None:
        """The headline check: the one marked ``main``, else the first Monte Carlo claim check, else the
        first claim check."""
        marked = [c for c in self.checks if c.main]
        if marked:
            return marked[0]
        claims = [c for c in self.checks if c.role == CLAIM]
        mc = [c for c in claims if c.estimate.level < 1.0]
        return (mc or claims or [None])[0]

    @property
    def chance_failures(self) -> list[float]:
        """Per check that can miss its expected verdict by chance, that probability (see
        ``Check.chance_failure``); the family-wise bound is their sum."""
        link_checks(self.checks)
        return [p for p in (c.chance_failure for c in self.checks) if p > 0]

    @property
    def levels(self) -> list[float]:
        """1 - chance failure per check that can fail by chance (what ``stats.familywise_bound`` sums)."""
        return [1.0 - p for p in self.chance_failures]

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
    latex_statement: str = ""  # the statement as LaTeX maths for the paper ("" = use the plain statement)

    def summary(self) -> str:
        return f"{self.id:4s} {self.title}  [{self.source}]"


REGISTRY: dict[str, Claim] = {}


def register(claim: Claim) -> Claim:
    if claim.id in REGISTRY:
        raise ValueError(f"claim {claim.id} registered twice")
    REGISTRY[claim.id] = claim
    return claim


__all__ = ["Check", "ClaimResult", "Claim", "Settings", "REGISTRY", "register", "CLAIM", "NEGATIVE_CONTROL",
           "AS_PRINTED", "APPROXIMATION", "ADEQUATE", "DETECTABLY_WRONG", "UNDECIDED", "planned_expectation",
           "link_checks", "AS_EXPECTED", "UNEXPECTED", "VERIFIED", "REJECTED", "INCONCLUSIVE", "DIVERGED"]
