"""Run independent work units serially or on a Dask cluster, with results identical to the serial run.

``executor(workers=None, scheduler=None)`` is a context manager yielding an object with
``.map(fn, items, progress=None, on_result=None) -> list``: ``fn(item)`` for every item, results in
the order of ``items``; ``progress(done, total, item)`` and ``on_result(item, result)`` are called
in this process as tasks finish.

* both ``None``: serial, in this process; Dask is not imported;
* ``workers=N``: a ``dask.distributed.LocalCluster`` of N worker processes, one thread each and
  ``NUMBA_NUM_THREADS=1`` (the cores are shared out between processes, not between threads);
* ``scheduler="tcp://host:8786"``: the workers of an existing cluster (SLURM via dask-jobqueue,
  Kubernetes, ``dask scheduler`` / ``dask worker`` by hand).  An unreachable scheduler raises
  ``SgdTheoryError`` after ``connect_timeout`` seconds, naming the address.

Why the results are identical: a claim's randomness comes only from ``Settings.seed`` and the
claim's own spawn keys, ``numpy.random.SeedSequence(seed, spawn_key=(claim key, ..., path))``
(``sgdtheory.simulate``; every ``default_rng`` in ``claims/`` is seeded the same way), never from a
global generator or from what ran before in the process; the engine is bitwise identical for any
thread count (``tests/test_threads.py``).  So a claim run alone on a worker with one thread gives
the record it gives in the serial run, timings and the creation time aside.  Before any task runs,
every worker reports the hash of its package sources (``paper.package_source_hash``); a worker
running different code is an error, since it could not reproduce the serial run.

Faults: a worker that dies mid-task has its task rescheduled on another worker by the scheduler
(up to ``distributed.scheduler.allowed-failures`` times, default 3); a task that raises is retried
``retries`` times (default 1) before the exception reaches the caller.

Compilation: the Numba kernels are ``cache=True``; a worker plugin imports the package (and with it
the kernel modules) once when a worker starts, and a worker process lives for the whole run, so
each kernel is loaded from the on-disk cache (or compiled, the first time) once per worker, not once
per task.

``run_claim_task`` is the unit a worker runs for one claim; ``save_claim_task`` writes what it
returns (record and figure files) in this process, so workers need no shared file system;
``run_claims`` is both together, as ``sgdtheory verify`` and ``sgdtheory paper`` use them.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from .errors import SgdTheoryError

SCRATCH_ENV = "SGDTHEORY_SCRATCH"  # where a worker of a local cluster puts its temporary files
DEFAULT_CONNECT_TIMEOUT = 5.0  # seconds to reach an existing scheduler (and to see its first worker)


# -- executors -----------------------------------------------------------------------------------------------


class SerialExecutor:
    """``fn(item)`` for each item in turn, in this process."""

    workers = 1
    address = None

    def map(self, fn, items, progress=None, on_result=None) -> list:
        items = list(items)
        out = []
        for done, item in enumerate(items, 1):
            res = fn(item)
            out.append(res)
            if on_result is not None:
                on_result(item, res)
            if progress is not None:
                progress(done, len(items), item)
        return out


class DaskExecutor:
    """``fn(item)`` for each item as one Dask task (``client.submit``, retried on error ``retries`` times)."""

    def __init__(self, client, retries: int = 1, owns_workers: bool = False):
        self.client = client
        self.retries = retries
        self.owns_workers = owns_workers  # a local cluster, stopped with the run: no need to cancel on Ctrl-C

    @property
    def address(self) -> str:
        return self.client.scheduler.address

    @property
    def workers(self) -> int:
        return len(self.client.scheduler_info(n_workers=-1)["workers"])

    def map(self, fn, items, progress=None, on_result=None) -> list:
        from distributed import as_completed

        items = list(items)
        name = getattr(fn, "__name__", None) or getattr(getattr(fn, "func", None), "__name__", "task")
        token = uuid.uuid4().hex[:8]
        # submission order is the order of items: the scheduler starts them first-in, first-out
        futures = [self.client.submit(fn, item, key=f"{name}-{token}-{i}", pure=False, retries=self.retries)
                   for i, item in enumerate(items)]
        index = {f.key: i for i, f in enumerate(futures)}
        out = [None] * len(items)
        try:
            for done, fut in enumerate(as_completed(futures, loop=self.client.loop), 1):
                i = index[fut.key]
                out[i] = fut.result()
                fut.release()
                if on_result is not None:
                    on_result(items[i], out[i])
                if progress is not None:
                    progress(done, len(items), items[i])
        except KeyboardInterrupt:
            if not self.owns_workers:  # a shared cluster: free it; a local one is stopped at once (executor)
                self.client.cancel(futures)
            raise
        except BaseException:
            self.client.cancel(futures)
            raise
        return out


WORKERS_ENV = "SGDTHEORY_WORKERS"


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity; ``os.cpu_count()`` where there is none)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def local_workers(requested, n_tasks: int) -> int | None:
    """The local worker processes for ``n_tasks`` independent tasks: ``None`` means serial, in this process.

    ``requested``: an integer >= 1, ``"auto"``, or ``None`` for the environment variable ``SGDTHEORY_WORKERS``
    (itself an integer >= 1 or ``auto``; unset: ``auto``).  ``auto`` is one process per usable core, at most one
    per task.  One worker is the serial run (a cluster of one process would only add its start-up).
    """
    source = "workers"
    if requested is None:
        requested, source = os.environ.get(WORKERS_ENV, "auto"), WORKERS_ENV
    given = requested
    if isinstance(requested, str):
        text = requested.strip().lower()
        if text == "auto":
            requested = max(1, min(usable_cores(), n_tasks))
        else:
            try:
                requested = int(text)
            except ValueError:
                raise SgdTheoryError(f"{source}: {requested!r} is not a number of worker processes; valid: an "
                                     "integer >= 1 or 'auto' (one per core)") from None
    if isinstance(requested, bool) or not isinstance(requested, int) or requested < 1:
        raise SgdTheoryError(f"{source}: {given!r} is not a valid number of worker processes; valid: an "
                             "integer >= 1 or 'auto' (one per core)")
    return None if requested == 1 else requested


def _check_workers(workers) -> None:
    if workers is None:
        return
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise SgdTheoryError(f"workers: {workers!r} is not a valid number of worker processes; valid: an integer >= 1")


@contextmanager
def executor(workers: int | None = None, scheduler: str | None = None, *,
             connect_timeout: float = DEFAULT_CONNECT_TIMEOUT, retries: int = 1):
    """Serial (both None), a LocalCluster of ``workers`` processes, or the cluster at ``scheduler``."""
    _check_workers(workers)
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
        raise SgdTheoryError(f"scheduler: {scheduler!r} is not an address; valid: e.g. tcp://host:8786")
    if workers is not None and scheduler is not None:
        raise SgdTheoryError(f"workers = {workers} and scheduler = {scheduler!r}: give one of them (a local cluster "
                             "of N processes, or an existing cluster), not both")
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        raise SgdTheoryError(f"retries: {retries!r}; valid: an integer >= 0")
    if workers is None and scheduler is None:
        yield SerialExecutor()
        return
    try:
        import distributed
        import threadpoolctl  # noqa: F401
    except ImportError:
        raise SgdTheoryError("--workers/--scheduler need Dask: pip install 'sgdtheory[dask]' "
                             "(or pip install 'dask[distributed]' threadpoolctl)") from None

    cluster = scratch = None
    if scheduler is not None:
        try:
            client = distributed.Client(scheduler, timeout=connect_timeout, set_as_default=False)
        except Exception as exc:  # OSError / TimeoutError (unreachable), ValueError (malformed address)
            raise SgdTheoryError(f"scheduler: cannot reach the Dask scheduler at {scheduler!r} within "
                                 f"{connect_timeout:g} s ({type(exc).__name__}: {exc}); check the address "
                                 "(e.g. tcp://host:8786) and that the scheduler is running") from None
    else:
        import dask

        # BLAS threads as in this process (Dask's default is 1): LAPACK's results depend on them (B1's
        # Nystrom solve, D13's SLSQP); set before the worker processes start, so the pools are sized right
        n = str(max(blas_threads().values(), default=1))
        spawn = {**dask.config.get("distributed.nanny.pre-spawn-environ"),
                 "OPENBLAS_NUM_THREADS": n, "OMP_NUM_THREADS": n, "MKL_NUM_THREADS": n}
        # no statistical profiler in the workers (a sampling thread every 10 ms: CPU the claims need)
        # the workers' scratch directories go in one directory removed with the cluster: a worker killed
        # mid-task (Ctrl-C, a crash) cannot clean up after itself
        scratch = tempfile.mkdtemp(prefix="sgdtheory-workers-")
        with dask.config.set({"distributed.nanny.pre-spawn-environ": spawn,
                              "distributed.worker.profile.enabled": False}):
            cluster = distributed.LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                memory_limit=0,  # like the serial run: no per-worker memory cap
                env={"NUMBA_NUM_THREADS": "1", SCRATCH_ENV: scratch})
        client = distributed.Client(cluster, set_as_default=False)
    try:
        if scheduler is not None:
            try:
                client.wait_for_workers(1, timeout=connect_timeout)
            except Exception:
                raise SgdTheoryError(f"scheduler: the Dask cluster at {scheduler!r} has no workers "
                                     f"(none joined within {connect_timeout:g} s)") from None
        _prepare_workers(client)
        yield DaskExecutor(client, retries=retries, owns_workers=cluster is not None)
    except KeyboardInterrupt:
        if cluster is not None:
            with _quiet_distributed():
                _kill_local_workers(cluster)
                client.close()
                cluster.close()
            cluster = None
        raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


@contextmanager
def _quiet_distributed():
    """Dask's own log records (cancelled tasks, killed workers) are not news after Ctrl-C: hidden meanwhile."""
    import logging

    logger = logging.getLogger("distributed")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _kill_local_workers(cluster) -> int:
    """SIGKILL the worker processes of a LocalCluster; returns how many.  A claim inside a Numba kernel cannot
    be interrupted, so after Ctrl-C its worker would run on until Dask's graceful close gives up (4 s); the run's
    records are written by this process only, atomically, so nothing is left half-written."""
    import signal

    killed = 0
    for nanny in list(getattr(cluster, "workers", {}).values()):
        pid = getattr(getattr(getattr(nanny, "process", None), "process", None), "pid", None)
        if pid:
            try:
                os.kill(pid, getattr(signal, "SIGKILL", signal.SIGTERM))
                killed += 1
            except OSError:
                pass
    return killed


# -- worker set-up -------------------------------------------------------------------------------------------

_WORKER_INFO: dict | None = None


def blas_threads() -> dict:
    """Threads of each BLAS library loaded by numpy and scipy in this process, by file-name prefix.

    LAPACK's blocked algorithms split their sums by thread, so e.g. ``numpy.linalg.solve`` on a large
    matrix differs in the last bits between 1 and 2 threads: a worker must use this process's counts
    to reproduce its results."""
    import numpy  # noqa: F401  (load the libraries before asking)
    import scipy.linalg  # noqa: F401
    from threadpoolctl import threadpool_info

    return {i["prefix"]: int(i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas"}


def _warm_up(blas: dict | None = None) -> dict:
    """Import the package (claims, figures, kernel modules) once in this process, set the BLAS thread counts
    to ``blas`` (the client's), and report what the process runs."""
    global _WORKER_INFO
    if blas:
        from threadpoolctl import threadpool_limits

        blas_threads()  # load the libraries, so that the limits reach them
        threadpool_limits(limits=dict(blas))  # process-wide, for the worker's life
    if _WORKER_INFO is None:
        import numba

        from . import __version__
        from . import claims  # noqa: F401  (registers every claim, imports the kernels' modules)
        from .paper import package_source_hash

        _WORKER_INFO = {"sgdtheory": __version__, "source_hash": package_source_hash(),
                        "numba_threads": int(numba.config.NUMBA_NUM_THREADS), "host": socket.gethostname(),
                        "pid": os.getpid()}
    return {**_WORKER_INFO, "blas_threads": blas_threads()}


def _warm_up_plugin(blas: dict):
    """A worker plugin running ``_warm_up(blas)`` on every worker, present and future (restarted ones too)."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class SgdTheoryWarmUp(WorkerPlugin):
        name = "sgdtheory-warm-up"
        idempotent = False  # a new client's BLAS counts replace the old ones

        def __init__(self, blas):
            self.blas = blas

        def setup(self, worker):
            _warm_up(self.blas)

    return SgdTheoryWarmUp(blas)


def _prepare_workers(client) -> dict:
    """Warm every worker up (in parallel; BLAS threads as here) and check that it runs the same package sources
    and BLAS thread counts as this process."""
    import warnings

    mine_blas = blas_threads()
    client.register_plugin(_warm_up_plugin(mine_blas))
    info = client.run(_warm_up, mine_blas)
    mine = _local_source_hash()
    bad = {addr: i["source_hash"][:12] for addr, i in info.items() if i["source_hash"] != mine}
    if bad:
        raise SgdTheoryError("workers run different sgdtheory sources (their results would not match the serial "
                             f"run): this process {mine[:12]}, " + ", ".join(f"{a} {h}" for a, h in sorted(bad.items()))
                             + "; install the same version on every worker")
    other = {addr: i["blas_threads"] for addr, i in info.items() if i["blas_threads"] != mine_blas}
    if other:
        warnings.warn(f"workers use other BLAS libraries or thread counts ({other}) than this process ({mine_blas}): "
                      "claims that call LAPACK on large matrices (B1, D13) may differ from a serial run here in the "
                      "last bits", RuntimeWarning, stacklevel=3)
    return info


def _local_source_hash() -> str:
    from .paper import package_source_hash

    return package_source_hash()


# -- claims as tasks -----------------------------------------------------------------------------------------

_INSTANCES: dict = {}  # (instance family, config) -> instance, kept alive for the worker's life


def _instance(claim, config):
    """The claim's instance: its default, or built from the parsed config.

    One object per (instance family, config) and process, as ``runner.instances`` shares one per
    run: claims of a family then share memoised work (``basin_sweep.run_sweep`` keys on the
    instance's ``id``, so the objects must stay alive)."""
    key = (claim.instance_from_config, None if config is None else json.dumps(config, sort_keys=True))
    if key not in _INSTANCES:
        _INSTANCES[key] = claim.default_instance() if config is None else claim.instance_from_config(config)
    return _INSTANCES[key]


def _parsed_config(config):
    if config is None or isinstance(config, dict):
        return config
    from .config import load

    return load(config)


def run_claim_task(claim_id: str, quick: bool = False, seed: int | None = None, level: float | None = None,
                   config=None, figures: bool = True) -> dict:
    """Run one claim (what a worker does) in a temporary directory and return everything it wrote.

    ``config``: None (the default instance), a parsed config dict, or the path of a TOML/JSON file
    (readable where the task runs).  Returns ``{"claim", "record", "files", "host", "pid"}``: the
    record of ``runner.run_claim`` (with ``_levels``; its ``figures`` relative to the output
    directory) and the figure files' bytes by relative path.  ``save_claim_task`` writes them.
    """
    from .claims import Settings, get
    from .runner import run_claim

    claim = get(claim_id)
    defaults = Settings()
    settings = Settings(quick=quick, seed=defaults.seed if seed is None else seed,
                        level=defaults.level if level is None else level)
    from . import figures as figure_module

    t_start, cpu_start, pcpu_start = time.time(), time.thread_time(), time.process_time()
    inst = _instance(claim, _parsed_config(config))
    t_inst, cpu_inst = time.time(), time.thread_time()
    figure_module.LAYOUT_PROBLEMS.clear()
    scratch = os.environ.get(SCRATCH_ENV)
    with tempfile.TemporaryDirectory(prefix=f"sgdtheory-{claim.id}-",
                                     dir=scratch if scratch and os.path.isdir(scratch) else None) as tmp:
        rec = run_claim(claim, inst, settings, Path(tmp), figures=figures)
        # each figure's layout problems (figures.layout), as the paper pipeline records them for a serial run
        layout = {Path(f).stem: figure_module.LAYOUT_PROBLEMS.get(Path(f).stem, [])
                  for f in rec["figures"] if f.endswith(".pdf")}
        files, rels = {}, []
        for f in rec["figures"]:
            rel = Path(f).resolve().relative_to(Path(tmp).resolve()).as_posix()
            files[rel] = Path(f).read_bytes()
            rels.append(rel)
    rec["figures"] = rels
    # where the task's time went (not part of the record): wall-clock start and end, the instance's construction,
    # this thread's and this process's CPU seconds (the process's include Numba's and BLAS's worker threads)
    timing = {"start": t_start, "end": time.time(), "instance_seconds": t_inst - t_start,
              "instance_cpu_seconds": cpu_inst - cpu_start,
              "cpu_seconds": time.thread_time() - cpu_start, "process_cpu_seconds": time.process_time() - pcpu_start}
    return {"claim": claim.id, "record": rec, "files": files, "layout": layout, "host": socket.gethostname(),
            "pid": os.getpid(), "timing": timing}


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_claim_task(payload: dict, out) -> dict:
    """Write a ``run_claim_task`` result under ``out`` (figures, then ``<ID>.json`` atomically) and return the
    record as ``runner.run_claim`` returns it (figure paths under ``out``; ``_levels`` and the figures' layout
    problems ``_layout`` attached)."""
    out = Path(out)
    for rel, data in payload["files"].items():
        _atomic_write_bytes(out / rel, data)
    rec = dict(payload["record"])
    levels = rec.pop("_levels")
    rec["figures"] = [str(out / rel) for rel in rec["figures"]]
    from .results import write_record

    write_record(out, rec)
    rec["_levels"] = levels
    rec["_layout"] = payload.get("layout", {})
    return rec


def run_claims(ids, out, *, quick: bool = False, seed: int | None = None, level: float | None = None, config=None,
               figures: bool = True, workers: int | None = None, scheduler: str | None = None, progress=None,
               on_record=None, timings: list | None = None) -> list[dict]:
    """Run claims ``ids`` as tasks (serially, on ``workers`` local processes or at ``scheduler``), write each
    record and its figures under ``out`` as it arrives, and return the records in the order of ``ids``.

    ``progress(done, total, claim_id)`` and ``on_record(record)`` are called as claims finish; a list passed as
    ``timings`` receives ``{"claim", "host", "pid", **run_claim_task's timing}`` per claim, in order of finishing
    (the run's timeline: which process ran what, when, and its CPU seconds)."""
    from functools import partial

    cfg = _parsed_config(config)  # a bad file fails here, before any cluster starts; workers get the parsed dict
    task = partial(run_claim_task, quick=quick, seed=seed, level=level, config=cfg, figures=figures)
    records = {}

    def save(cid, payload):
        if timings is not None:
            timings.append({"claim": cid, "host": payload["host"], "pid": payload["pid"], **payload["timing"]})
        records[cid] = save_claim_task(payload, out)
        if on_record is not None:
            on_record(records[cid])

    ids = list(ids)
    with executor(workers, scheduler) as ex:
        ex.map(task, longest_first(ids, out, quick), progress=progress, on_result=save)
    return [records[c] for c in ids]


def longest_first(ids, out, quick: bool) -> list:
    """``ids`` ordered by the run time of their last record in ``out`` (same mode), longest first, claims
    without one first of all: tasks start in this order, so the last to start are the shortest and the
    workers finish together (LPT scheduling).  The order changes no result."""
    def last(cid):
        try:
            rec = json.loads((Path(out) / f"{cid.strip().upper()}.json").read_text())
            if rec["settings"]["quick"] == quick:
                return float(rec["elapsed_seconds"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
        return float("inf")

    return sorted(ids, key=last, reverse=True)  # stable: ties keep the given order


__all__ = ["executor", "local_workers", "usable_cores", "WORKERS_ENV", "SerialExecutor", "DaskExecutor", "run_claim_task", "save_claim_task", "run_claims",
           "longest_first", "blas_threads", "DEFAULT_CONNECT_TIMEOUT"]
