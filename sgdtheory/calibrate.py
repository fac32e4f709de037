"""Calibration: run claims over fresh seeds and compare their failure rate with the printed bound.

Every run of a claim prints a bound on the probability that some check misses its expected verdict
by chance (the sum of the checks' ``chance_failure``; ``claims.base``).  Calibration checks that
bound against experience: claim X is run on its default instance with N fresh seeds (drawn from
``numpy.random.SeedSequence(master)``, never the default seed the catalogue is tuned on), and the
number k of runs that are not as expected is reported with its Clopper-Pearson interval next to the
mean printed bound b.  The bound is *refuted* when P(K >= k | K ~ Binomial(N, b)) < ``alpha``
(default 1e-3): more failures than the bound allows, beyond chance.

The same runs check that roles are fixed before measuring: the list of (check name, role) must be
identical for every seed; a claim whose checks appear, vanish or change role with the random data
chose them after measuring, and is reported as such.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from .errors import SgdTheoryError
from .stats import DEFAULT_LEVEL, proportion_interval

DEFAULT_MASTER_SEED = 20261204  # the calibration stream; the catalogue's default seed is 20261123
DEFAULT_ALPHA = 1e-3


def fresh_seeds(n_seeds: int, master_seed: int = DEFAULT_MASTER_SEED) -> list[int]:
    """``n_seeds`` distinct 32-bit seeds from ``SeedSequence(master_seed)``."""
    if n_seeds < 1:
        raise SgdTheoryError(f"seeds = {n_seeds} is out of range: valid range is >= 1")
    state = np.random.SeedSequence(master_seed).generate_state(4 * n_seeds + 8, dtype=np.uint32)
    out, seen = [], set()
    for s in state.tolist():
        if s not in seen and s != 20261123:
            seen.add(s)
            out.append(int(s))
        if len(out) == n_seeds:
            return out
    raise SgdTheoryError("could not draw distinct seeds")  # pragma: no cover (2^32 values)


def calibration_task(claim_id: str, seed: int, quick: bool, level: float) -> dict:
    """One run of one claim on its default instance (a top-level function, so executors can pickle it).

    The default instance is built once per process and instance family (``distributed._instance``), as
    ``sgdtheory verify`` shares one per run: B1's takes seconds, and N seeds would otherwise build it N times."""
    from .claims import Settings, get
    from .distributed import _instance
    from .simulate import DivergedError

    claim = get(claim_id)
    settings = Settings(quick=quick, seed=seed, level=level)
    try:
        result = claim.run(_instance(claim, None), settings)
    except DivergedError as exc:
        return {"claim": claim_id, "seed": seed, "status": "diverged", "as_expected": False, "bound": 0.0,
                "roles": [], "missed": [f"diverged: {exc}"]}
    return {"claim": claim_id, "seed": seed, "status": result.status, "as_expected": result.status == claim.expected,
            "bound": float(min(1.0, sum(result.chance_failures))),
            "roles": [[c.name, c.role] for c in result.checks],
            "missed": [f"{c.name}: {c.verdict} (expected {c.expected})" for c in result.checks if not c.as_expected]}


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(K >= k) for K ~ Binomial(n, p) (scipy.special.bdtrc)."""
    if k <= 0:
        return 1.0
    if p <= 0.0:
        return 0.0
    return float(special.bdtrc(k - 1, n, p))


@dataclass(frozen=True)
class ClaimCalibration:
    """The calibration of one claim over ``runs`` fresh seeds."""

    claim: str
    runs: int
    failures: int
    low: float
    high: float
    bound: float
    tail_probability: float
    roles_stable: bool
    missed: tuple

    @property
    def refuted(self) -> bool:
        return not self.roles_stable or self.tail_probability < DEFAULT_ALPHA

    def to_dict(self) -> dict:
        return {"claim": self.claim, "runs": self.runs, "not_as_expected": self.failures,
                "rate": self.failures / self.runs, "rate_interval_95": [self.low, self.high],
                "printed_bound_mean": self.bound, "p_at_least_this_many_under_bound": self.tail_probability,
                "roles_stable": self.roles_stable, "refuted": self.refuted, "missed": list(self.missed)}


def summarise(claim_id: str, runs: list[dict], alpha: float = DEFAULT_ALPHA) -> ClaimCalibration:
    """Failures, Clopper-Pearson 95% interval, mean printed bound and the binomial tail for one claim."""
    n = len(runs)
    k = sum(not r["as_expected"] for r in runs)
    ci = proportion_interval(k, n, 0.95)
    bound = float(np.mean([r["bound"] for r in runs]))
    roles = {tuple(map(tuple, r["roles"])) for r in runs if r["status"] != "diverged"}
    missed = tuple(f"seed {r['seed']}: {m}" for r in runs for m in r["missed"])
    return ClaimCalibration(claim_id, n, k, ci.low, ci.high, bound, binomial_tail(k, n, bound), len(roles) <= 1,
                            missed)


def calibrate(ids, n_seeds: int, quick: bool = True, level: float = DEFAULT_LEVEL,
              master_seed: int = DEFAULT_MASTER_SEED, mapper=None, progress=None) -> list[ClaimCalibration]:
    """Run each claim in ``ids`` over ``n_seeds`` fresh seeds; ``mapper(fn, items)`` runs the tasks
    (default: a serial loop; ``distributed.executor(...).map`` spreads them over workers)."""
    from .claims import get

    claims = [get(i).id for i in ids]
    seeds = fresh_seeds(n_seeds, master_seed)
    items = [(cid, s, quick, level) for cid in claims for s in seeds]
    if mapper is None:
        results = []
        for it in items:
            results.append(calibration_task(*it))
            if progress is not None:
                progress(len(results), len(items), it)
    else:
        results = mapper(_task_star, items)
    return [summarise(cid, [r for r in results if r["claim"] == cid]) for cid in claims]


def _task_star(item) -> dict:
    return calibration_task(*item)
