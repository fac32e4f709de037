"""Run claims and save their artifacts: the one code path behind ``sgdtheory verify`` and ``experiments/``."""

from __future__ import annotations

import time
from pathlib import Path

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


def run_claim(claim, instance, settings: Settings, out: Path, figures: bool = True) -> dict:
    """Run one claim, draw its figure (PNG + PDF) and write its JSON record atomically."""
    t0 = time.perf_counter()
    try:
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
