"""Command line: ``sgdtheory list | new | verify | calibrate | derive | bench | paper``.

``verify`` runs claims (all by default), prints a verdict table, writes one JSON record per claim
(atomically) plus ``summary.json`` and the figures, and exits 0 when every claim came out as
expected, 1 when some did not, 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .errors import SgdTheoryError
from .stats import DEFAULT_LEVEL


def cmd_list(args) -> int:
    from .claims import REGISTRY

    from .derivations import entry_point_claims

    print(f"{'ID':4s}  {'kind':8s}  claim  [source]")
    for key in sorted(REGISTRY):
        c = REGISTRY[key]
        print(f"{c.id:4s}  {c.kind:8s}  {c.title}  [{c.source}]")
    plugins = entry_point_claims()
    if plugins:
        print("\nfrom installed packages (entry-point group sgdtheory.claims):")
        for c in plugins:
            print(f"{c.id:4s}  {c.kind:8s}  {c.title}  [{c.source}]")
    return 0


def cmd_new(args) -> int:
    from .templates import write_template

    path = write_template(args.name, force=args.force)
    print(f"wrote {path}; run it with: sgdtheory verify {path} --quick")
    return 0


def _fmt(x: float) -> str:
    return f"{x:.5g}"


def cmd_verify(args) -> int:
    from .runner import instances, select

    claims = select(args.ids)
    created = []
    out = _output_dir(args.out, figures=not args.no_figures, created=created)  # created and probed before any work
    try:
        _resolve_workers(args, len(claims))
        parallel = args.workers is not None or args.scheduler is not None
        # every config is checked against its family's schema at once; default instances (B1's takes a minute) are
        # built by the workers in parallel mode, not here
        insts = instances(claims, args.config) if not parallel or args.config is not None else None
        return _verify(args, claims, insts, out)
    except SgdTheoryError:
        for d in reversed(created):  # refused before any work: leave no empty folder behind
            try:
                d.rmdir()
            except OSError:
                pass
        raise


def _verify(args, claims, insts, out) -> int:
    from tqdm import tqdm

    from .claims import Settings
    from .claims.base import UNDECIDED
    from .runner import run_claim
    from .stats import familywise_bound

    parallel = args.workers is not None or args.scheduler is not None

    bar = tqdm(total=len(claims), desc="verify", unit="claim", file=sys.stderr, disable=args.no_progress)
    from .budget import DEFAULT_PATH_STEPS

    budget = args.budget if args.budget is not None else DEFAULT_PATH_STEPS if args.config is not None else None
    settings = Settings(quick=args.quick, seed=args.seed, level=args.level, budget=budget,
                        progress=lambda msg: bar.set_postfix_str(msg[:60], refresh=True))
    if budget is not None and insts is not None:  # user instances and budgets: every plan checked before any simulation
        from .runner import plan_claim

        for c in claims:
            bar.set_description(f"plan {c.id}")
            plan_claim(c, insts[c.instance_from_config], settings)
    records, all_levels = [], []
    if not parallel:
        for c in claims:
            bar.set_description(f"verify {c.id}")
            rec = run_claim(c, insts[c.instance_from_config], settings, out, figures=not args.no_figures, plan=False)
            all_levels += rec.pop("_levels")
            records.append(rec)
            bar.update(1)
    else:  # one task per claim on a Dask cluster; records identical to the loop above (timings aside)
        from .distributed import run_claims

        def done(k, n, cid):
            bar.set_description(f"verify {cid} done")
            bar.update(1)

        records = run_claims([c.id for c in claims], out, quick=args.quick, seed=args.seed, level=args.level,
                             config=args.config, figures=not args.no_figures, workers=args.workers,
                             scheduler=args.scheduler, progress=done)
        for rec in records:
            all_levels += rec.pop("_levels")
            rec.pop("_layout", None)
    bar.close()

    print(f"\n{'claim':5s} {'check':58s} {'prediction':>11s}  {f'estimate [{100 * settings.level:g}% interval]':34s} verdict (expected)")
    for rec in records:
        if rec["diverged"]:
            print(f"{rec['claim']:5s} DIVERGED: {rec['diverged']}")
            continue
        for ch in rec["checks"]:
            e = ch["estimate"]
            interval = f"{_fmt(e['value'])} [{_fmt(e['low'])}, {_fmt(e['high'])}]" if e["level"] < 1 else f"{_fmt(e['value'])} (exact)"
            mark = "" if ch["verdict"] == ch["expected"] or ch["expected"] == UNDECIDED else "  <-- UNEXPECTED"
            print(f"{rec['claim']:5s} {ch['name'][:58]:58s} {_fmt(ch['prediction']):>11s}  {interval:34s} "
                  f"{ch['verdict']} ({ch['expected']}){mark}")
    bound = familywise_bound(all_levels)
    ok = all(r["status"] == r["expected_status"] for r in records)
    print()
    for rec in records:
        print(f"{rec['claim']:5s} {rec['status']:12s} {rec['title']}")
    print(f"\n{len(records)} claims, {sum(len(r['checks']) for r in records)} checks; family-wise false-failure "
          f"probability <= {bound:.3g} (Bonferroni over {len(all_levels)} checks that can miss their expected "
          f"verdict by chance); "
          f"mode: {'quick' if args.quick else 'full'}, seed {args.seed}")
    summary = {"claims": {r["claim"]: r["status"] for r in records}, "all_as_expected": ok,
               "familywise_false_failure_bound": bound, "quick": args.quick, "seed": args.seed,
               "config": None if args.config is None else str(args.config)}
    from .results import atomic_write_text

    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    print(f"records: {out}/<ID>.json, figures: {out}/figures/")
    return 0 if ok else 1


def cmd_calibrate(args) -> int:
    from tqdm import tqdm

    from .calibrate import calibrate
    from .results import atomic_write_text

    if args.seeds < 1:
        raise SgdTheoryError(f"--seeds = {args.seeds} is out of range: valid range is >= 1")
    from .runner import select

    ids = [c.id for c in select(args.ids)]
    _resolve_workers(args, len(ids) * args.seeds)
    bar = tqdm(total=len(ids) * args.seeds, desc="calibrate", unit="run", file=sys.stderr, disable=args.no_progress)
    if args.workers is not None or args.scheduler is not None:
        from .distributed import executor

        with executor(workers=args.workers, scheduler=args.scheduler) as ex:
            out = calibrate(ids, args.seeds, quick=not args.full, level=args.level, master_seed=args.seed,
                            mapper=lambda fn, items: ex.map(fn, items, progress=lambda d, t, i: bar.update(1)))
    else:
        out = calibrate(ids, args.seeds, quick=not args.full, level=args.level, master_seed=args.seed,
                        progress=lambda done, total, item: bar.update(1))
    bar.close()
    print(f"\n{'claim':5s} {'runs':>5s} {'not as expected':>16s}  {'rate [95% Clopper-Pearson]':28s} "
          f"{'printed bound':>13s}  {'P(>= k | bound)':>15s}  roles")
    for c in out:
        print(f"{c.claim:5s} {c.runs:5d} {c.failures:16d}  {c.failures / c.runs:.3f} [{c.low:.3f}, {c.high:.3f}]"
              f"{'':9s} {c.bound:13.2e}  {c.tail_probability:15.3g}  {'stable' if c.roles_stable else 'CHANGE WITH SEED'}"
              f"{'   <-- REFUTED' if c.refuted else ''}")
        for m in c.missed[:5]:
            print(f"      {m}")
    runs = sum(c.runs for c in out)
    fails = sum(c.failures for c in out)
    print(f"\n{len(out)} claims x {args.seeds} fresh seeds ({'full' if args.full else 'quick'} mode): {fails} of {runs} "
          f"runs not as expected; {sum(c.refuted for c in out)} claims refute their printed bound")
    if args.json is not None:
        atomic_write_text(args.json, json.dumps({"seeds": args.seeds, "master_seed": args.seed, "quick": not args.full,
                                                 "level": args.level, "claims": [c.to_dict() for c in out]},
                                                indent=2) + "\n")
    return 1 if any(c.refuted for c in out) else 0


def _output_dir(raw: str, figures: bool, created: list) -> Path:
    """The output folder, created and probed for writing before any work (errors name --out and the path);
    temporary files left there by earlier runs that were killed are removed."""
    import os

    from .results import discard_temp_file, remove_stale_temp_files, temp_file

    if not raw or not raw.strip():
        raise SgdTheoryError("--out: empty path; give an output folder (default sgdtheory-results)")
    out = Path(raw)
    for d in ([out, out / "figures"] if figures else [out]):
        if d.exists() and not d.is_dir():
            raise SgdTheoryError(f"--out: {d} exists and is not a folder")
        try:
            missing = [p for p in [d, *d.parents] if not p.exists()]
            d.mkdir(parents=True, exist_ok=True)
            created.extend(reversed(missing))
            probe = temp_file(d / "probe")
            discard_temp_file(probe)
        except OSError as exc:
            raise SgdTheoryError(f"--out: cannot write to {d} ({exc.strerror or exc})") from None
        if not os.access(d, os.W_OK | os.X_OK):
            raise SgdTheoryError(f"--out: {d} is not writable")
    remove_stale_temp_files(out, out / "figures")
    return out


def _positive(name: str, kind=float):
    """argparse type: a finite positive number (``kind``), else a clear error naming ``name``."""
    def parse(text: str):
        import math

        try:
            x = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name}: expected a {'positive integer' if kind is int else 'number'}, "
                                             f"got {text!r}") from None
        if not math.isfinite(x) or x <= 0:
            raise argparse.ArgumentTypeError(f"{name} = {text} is out of range: valid range is (0, inf)")
        return x
    return parse


def _seed(text: str) -> int:
    try:
        x = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seed: expected a non-negative integer, got {text!r}") from None
    if not 0 <= x < 2**128:
        raise argparse.ArgumentTypeError(f"--seed = {text} is out of range: valid range is [0, 2^128)")
    return x


def cmd_derive(args) -> int:
    from .runner import instances, select

    claim = select([args.id])[0]
    print(claim.derive(instances([claim], args.config)[claim.instance_from_config], latex=args.latex))
    return 0


def cmd_bench(args) -> int:
    from .bench import run
    from .results import atomic_write_text

    if args.reps < 1:
        raise SgdTheoryError(f"reps: {args.reps} is not a positive integer (valid: >= 1)")
    if not 0 < args.scale < float("inf"):
        raise SgdTheoryError(f"scale: {args.scale} is not a positive finite number (valid: > 0)")
    report = run(scale=args.scale, quick=args.quick, reps=args.reps)
    if args.json:
        atomic_write_text(args.json, json.dumps(report, indent=2, default=str) + "\n")
    return 0


def cmd_paper(args) -> int:
    from . import paper

    paper_dir = args.paper_dir
    if not (paper_dir / "main.tex").is_file():
        raise SgdTheoryError(f"paper-dir: {paper_dir} has no main.tex (run from the repository root or pass "
                             "--paper-dir)")
    from .results import remove_stale_temp_files

    gen = paper_dir / "generated"  # temporary files of killed runs (records, figures, sources) go first
    remove_stale_temp_files(*(d for d in [gen, *gen.rglob("*")] if d.is_dir()))
    t0 = time.perf_counter()
    from .claims import REGISTRY

    _resolve_workers(args, len(args.ids) if args.ids else len(REGISTRY))
    manifest = paper.regenerate(paper_dir, quick=args.quick, seed=args.seed, level=args.level, ids=args.ids or None,
                                force=args.force, bench=not args.no_bench, workers=args.workers,
                                scheduler=args.scheduler)
    print(f"regenerated {len(manifest['files'])} files in {paper_dir / 'generated'} "
          f"({len(manifest['reran'])} claims re-run) in {time.perf_counter() - t0:.0f} s")
    if args.no_build:
        return 0
    try:
        pdf = paper.build(paper_dir)
    except paper.PaperError as exc:
        print(f"sgdtheory paper: {exc}", file=sys.stderr)
        return 3
    problems = paper.check_build(paper_dir)
    for msg in problems:
        print(f"sgdtheory paper: {msg}", file=sys.stderr)
    split = paper.page_split(pdf)  # main text: the pages before \label{appendix}
    pages = f"{paper.page_count(pdf)} pages" + (f" (main text {split['main_text']}, appendix {split['appendix']})"
                                              if split else "")
    print(f"{pdf}: {pages}; {'OK' if not problems else f'{len(problems)} problems'} "
          f"({time.perf_counter() - t0:.0f} s in all)")
    return 0 if not problems else 1


def _resolve_workers(args, n_tasks: int) -> None:
    """``args.workers``: the local processes for ``n_tasks`` claims (``distributed.local_workers``: --workers, else
    $SGDTHEORY_WORKERS, else one per core), or None for the serial run; None with --scheduler."""
    from .distributed import local_workers

    args.workers = None if args.scheduler is not None else local_workers(args.workers, n_tasks)


def _add_cluster_options(s) -> None:
    """--workers N|auto / --scheduler ADDRESS: where the claims run (Dask tasks unless serial)."""
    g = s.add_mutually_exclusive_group()
    g.add_argument("--workers", metavar="N",
                   help="run claims on a local Dask cluster of N processes, one thread each; 1: serially, in this "
                        "process (default: $SGDTHEORY_WORKERS, else auto = one per core, at most one per claim)")
    g.add_argument("--scheduler", metavar="ADDRESS",
                   help="run claims on an existing Dask cluster, e.g. tcp://host:8786")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sgdtheory", description="Check the theory of SGD by experiment.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("list", help="list the implemented claims")
    s.set_defaults(func=cmd_list)
    s = sub.add_parser("new", help="write NAME.py, a commented template of your own derivation")
    s.add_argument("name", help="the new file's name (NAME or NAME.py)")
    s.add_argument("--force", action="store_true", help="overwrite an existing file")
    s.set_defaults(func=cmd_new)
    s = sub.add_parser("verify", help="run claims and report verdicts")
    s.add_argument("ids", nargs="*", help="claim IDs, or .py files / folders of your own derivations (default: all)")
    s.add_argument("--quick", action="store_true", help="quick mode (fewer paths; used in CI)")
    s.add_argument("--config", type=Path, help="a TOML or JSON file with a user instance")
    s.add_argument("--seed", type=_seed, default=20261123, help="master seed (default 20261123)")
    s.add_argument("--out", default="sgdtheory-results", help="output directory")
    s.add_argument("--budget", type=_positive("--budget"), default=None,
                   help="work per claim in path-steps (paths x steps; default 2e9, sized for 2 cores); a plan over "
                        "it is refused before any simulation")
    s.add_argument("--level", type=float, default=DEFAULT_LEVEL,
                   help=f"confidence level of every interval (default {DEFAULT_LEVEL})")
    s.add_argument("--no-figures", action="store_true", help="skip the figures")
    s.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_cluster_options(s)
    s.set_defaults(func=cmd_verify)
    s = sub.add_parser("calibrate", help="run claims over fresh seeds: failure rate vs the printed bound")
    s.add_argument("ids", nargs="*", help="claim IDs (default: all)")
    s.add_argument("--seeds", type=_positive("--seeds", int), default=20,
                   help="number of fresh seeds per claim (default 20)")
    s.add_argument("--seed", type=_seed, default=20261204, help="master seed of the fresh seeds (default 20261204)")
    s.add_argument("--full", action="store_true", help="full mode (default: quick mode)")
    s.add_argument("--level", type=float, default=DEFAULT_LEVEL)
    s.add_argument("--json", type=Path, help="also write the calibration as JSON")
    s.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_cluster_options(s)
    s.set_defaults(func=cmd_calibrate)
    s = sub.add_parser("derive", help="print the symbolic derivation of a claim")
    s.add_argument("id")
    s.add_argument("--config", type=Path)
    s.add_argument("--latex", action="store_true")
    s.set_defaults(func=cmd_derive)
    s = sub.add_parser("bench", help="throughput ratios of the engine (not a test)")
    s.add_argument("--scale", type=float, default=1.0, help="scale the number of paths")
    s.add_argument("--quick", action="store_true", help="peers.py's --quick sizes (P/8, T/4): a smoke run")
    s.add_argument("--reps", type=int, default=3, help="alternating timed repetitions per implementation")
    s.add_argument("--json", type=Path, help="also write the report as JSON")
    s.set_defaults(func=cmd_bench)
    s = sub.add_parser("paper", help="regenerate the paper's figures, tables and numbers and build paper/main.pdf")
    s.add_argument("ids", nargs="*", help="only these claims (default: all)")
    s.add_argument("--quick", action="store_true", help="quick mode (what CI builds)")
    s.add_argument("--seed", type=_seed, default=20261123)
    s.add_argument("--level", type=float, default=DEFAULT_LEVEL)
    s.add_argument("--force", action="store_true", help="re-run every claim even if its record is up to date")
    s.add_argument("--no-build", action="store_true", help="regenerate only; do not run latexmk")
    s.add_argument("--no-bench", action="store_true", help="do not run the benchmark for the appendix")
    s.add_argument("--paper-dir", type=Path, default=Path("paper"), help="directory of main.tex (default paper)")
    _add_cluster_options(s)
    s.set_defaults(func=cmd_paper)
    return p


def main(argv=None) -> int:
    """Exit codes: 0 all as expected, 1 some claim unexpected, 2 bad input (nothing simulated), 130 interrupted."""
    import math
    import signal

    from . import interrupts
    from .results import remove_own_temp_files

    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse: usage errors exit 2, --help exits 0
        return int(exc.code or 0)
    level = getattr(args, "level", 0.5)
    if level is not None and not (math.isfinite(level) and 0 < level < 1):
        print(f"sgdtheory: error: --level = {level} is out of range: valid range is (0, 1)", file=sys.stderr)
        return 2
    interrupted = []

    def on_sigint(signum, frame):
        interrupted.append(signum)
        if interrupts.compiling():  # raised inside Numba's compiler it would be swallowed: at the next check
            interrupts.request(signum)
            return
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGINT, on_sigint)
    except ValueError:  # not the main thread: keep Python's handler
        previous = None
    try:
        code = args.func(args)
        if interrupted:  # an interrupt swallowed on the way never ends as success
            raise KeyboardInterrupt
        return code
    except SgdTheoryError as exc:
        print(f"sgdtheory: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        n = remove_own_temp_files()
        print(f"\nsgdtheory: interrupted; {n} temporary file(s) removed, records already written are complete",
              file=sys.stderr)
        return 130
    finally:
        interrupts.reset()
        remove_own_temp_files()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


if __name__ == "__main__":
    sys.exit(main())
