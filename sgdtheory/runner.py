"""Run claims and save their artifacts: the one code path behind ``sgdtheory verify`` and ``experiments/``."""

from __future__ import annotations

import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

from . import budget as _budget

from .claims import REGISTRY, ClaimResult, Settings, get
from .errors import SgdTheoryError
from .results import record, write_record
from .simulate import DivergedError


def select(ids) -> list:
    """The claims named by ``ids`` (all catalogue claims, sorted, when ``ids`` is empty).

    An entry is a catalogue ID, the ID of a claim an installed package declares in the entry-point group
    ``sgdtheory.claims``, or the path of a ``.py`` file (or a folder of them) defining ``Derivation``s."""
    if not ids:
        return [REGISTRY[k] for k in sorted(REGISTRY)]
    from .derivations import entry_point_claims, load_path

    out, plugins = [], None
    for i in ids:
        s = str(i)
        if s.endswith(".py") or Path(s).is_dir():
            out += load_path(s)
            continue
        if s.strip().upper() in REGISTRY:
            out.append(get(s))
            continue
        plugins = {c.id: c for c in entry_point_claims()} if plugins is None else plugins
        if s in plugins:
            out.append(plugins[s])
        else:
            out.append(get(s))  # raises, listing the known IDs
    seen = {}
    for c in out:
        if c.id in seen and seen[c.id] is not c:
            raise SgdTheoryError(f"claim ID {c.id} is defined twice (IDs must be unique)")
        seen[c.id] = c
    return list(seen.values())


def instances(claims, config_path=None) -> dict:
    """One instance per instance family (claims sharing ``instance_from_config`` share it).

    Built before any simulation, so a malformed config fails at once.
    """
    from .config import load

    cfg = None if config_path is None else load(config_path)
    out = {}
    for c in claims:
        if c.instance_from_config not in out:
            out[c.instance_from_config] = c.default_instance() if cfg is None else c.instance_from_config(cfg)
    return out


def _budget_of(settings: Settings) -> _budget.Budget:
    return _budget.Budget() if settings.budget is None else _budget.Budget(path_steps=settings.budget)


#: seconds a planning pass may take (it re-does the claim's exact, non-Monte-Carlo work); then the plan so far counts
PLAN_SECONDS = 10.0


def plan_claim(claim, instance, settings: Settings) -> _budget.Ledger:
    """Plan a claim's work before running it: ``claim.run`` with the engine replaced by a recorder
    (``sgdtheory.budget``).  Raises ``BudgetError`` (nothing simulated) when the plan is over the budget.

    Where the claim's Monte Carlo does not go through ``simulate``, or after ``PLAN_SECONDS``, the plan stops there
    (``ledger.complete`` is False) and the run itself is still bounded by the same budget."""
    import signal
    import threading

    quiet = replace(settings, progress=None)
    timed = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")

    def out_of_time(signum, frame):
        raise _budget.PlanningStop(f"planning took more than {PLAN_SECONDS:g} s")

    with _budget.active(_budget_of(settings), planning=True, what=f"claim {claim.id}") as ledger:
        previous = signal.signal(signal.SIGALRM, out_of_time) if timed else None
        try:
            if timed:  # the planning pass also repeats the claim's exact computations: bounded in time
                signal.setitimer(signal.ITIMER_REAL, PLAN_SECONDS)
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                claim.run(instance, quiet)
        except _budget.BudgetError:
            raise
        except _budget.PlanningStop:
            ledger.complete = False
        except Exception:  # statistics of the empty results of a planning pass: the plan so far is what counts
            ledger.complete = False
        finally:
            if timed:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
    if ledger.used > ledger.budget.path_steps:
        raise _budget.BudgetError(ledger.refusal())
    return ledger


def run_claim(claim, instance, settings: Settings, out: Path, figures: bool = True, plan: bool | None = None) -> dict:
    """Plan one claim (``plan_claim``; refused at once if over the budget) when ``settings.budget`` is set (or
    ``plan``), run it within the budget, draw its figure (PNG + PDF) and write its JSON record atomically."""
    if plan or (plan is None and settings.budget is not None):
        plan_claim(claim, instance, settings)
    t0 = time.perf_counter()
    try:
        if settings.budget is None:  # the default instances' fixed plans; each simulate call still bounded
            result = claim.run(instance, settings)
        else:
            with _budget.active(_budget_of(settings), what=f"claim {claim.id}"):
                result = claim.run(instance, settings)
    except DivergedError as exc:
        result = ClaimResult(claim.id, [], {}, diverged=str(exc))
    paths = []
    if figures and claim.figure is not None and not result.diverged:
        paths = claim.figure(result, Path(out) / "figures")
    rec = record(claim, result, settings, time.perf_counter() - t0, paths)
    write_record(out, rec)
    rec["_levels"] = result.levels
    return rec


def run_one(claim_id: str, quick: bool = False, out: Path | str = "sgdtheory-results") -> dict:
    """Run ``claim_id`` on its default instance and save its artifacts (for experiment scripts)."""
    claim = get(claim_id)
    if claim.default_instance is None:
        raise SgdTheoryError(f"claim {claim_id} has no default instance")
    settings = Settings(quick=quick, progress=lambda msg: print(f"  {claim_id}: {msg}", flush=True))
    return run_claim(claim, claim.default_instance(), settings, Path(out))


def experiment_main(claim_id: str, doc: str) -> None:
    """Command line of an ``experiments/`` script: run one claim, save figure and record, report."""
    import argparse

    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="quick mode (fewer paths)")
    ap.add_argument("--out", type=Path, default=Path("experiments") / "output", help="output directory")
    args = ap.parse_args()
    rec = run_one(claim_id, quick=args.quick, out=args.out)
    print(f"{claim_id}: {rec['status']}; figures: {', '.join(rec['figures'])}")
