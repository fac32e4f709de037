"""Claims as Dask tasks (sgdtheory.distributed): records identical to the serial run on a LocalCluster of 2
processes, a worker killed mid-task, an unreachable scheduler, bad input, and serial without Dask."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from functools import partial

import pytest

from sgdtheory.cli import main
from sgdtheory.errors import SgdTheoryError

pytest.importorskip("distributed")

import numpy as np  # noqa: E402

from sgdtheory.distributed import _warm_up, blas_threads, executor, run_claim_task  # noqa: E402

IDS = ["A2", "B4", "B6", "E3"]  # quick, a few seconds each; B4 and E3 share one instance (and its sweep)
VOLATILE = {"elapsed_seconds", "created", "figures"}  # timings, creation time and paths differ by design


def _strip(rec: dict) -> dict:
    return {k: v for k, v in rec.items() if k not in VOLATILE}


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    """The serial run of IDS through the CLI: {claim: record}."""
    out = tmp_path_factory.mktemp("serial")
    assert main(["verify", *IDS, "--quick", "--no-progress", "--out", str(out)]) == 0
    return out, {c: json.loads((out / f"{c}.json").read_text()) for c in IDS}


@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster of 2 processes (executor(workers=2)), shared by the tests below."""
    with executor(workers=2) as ex:
        yield ex


def test_killed_worker_task_is_retried_elsewhere_with_the_same_result(serial, cluster):
    _, ser = serial
    killed, calls = {}, []
    ex = cluster
    info = ex.client.run(_warm_up)
    assert sorted(i["numba_threads"] for i in info.values()) == [1, 1]  # one thread per worker process
    assert all(i["blas_threads"] == blas_threads() for i in info.values())  # BLAS threads as here ...
    rng = np.random.default_rng(3)
    A, bs = rng.random((200, 200)) + 200 * np.eye(200), list(rng.random((2, 200)))
    for x, b in zip(ex.map(partial(np.linalg.solve, A), bs), bs):  # ... so LAPACK gives the same bits
        assert x.tobytes() == np.linalg.solve(A, b).tobytes()  # (1 vs 2 threads differ at n = 200)
    assert ex.map(abs, [-3, 1, -2]) == [3, 1, 2]  # results in the order of the items
    pids = ex.client.run(os.getpid)

    def kill_when_running():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            busy = {w: ks for w, ks in ex.client.processing().items()
                    if any("run_claim_task" in str(k) for k in ks)}
            if busy:
                time.sleep(0.2)  # mid-run: B4 on a fresh worker builds its sweep first (seconds on one thread)
                addr = next(iter(busy))
                killed["pid"] = pids[addr]
                os.kill(pids[addr], signal.SIGKILL)
                return
            time.sleep(0.01)

    killer = threading.Thread(target=kill_when_running, daemon=True)
    killer.start()
    # B4 first on this cluster (kernels not loaded, its sweep not memoised yet): seconds on one thread
    (payload,) = ex.map(partial(run_claim_task, quick=True, figures=False), ["B4"],
                        progress=lambda *a: calls.append(a))
    killer.join(5)
    assert "pid" in killed, "the task was never seen running"
    assert payload["pid"] != killed["pid"], "the task finished before it could be killed"
    assert calls == [(1, 1, "B4")]
    t = payload["timing"]  # where the task's time went (not part of the record)
    assert t["start"] <= t["end"] and 0 < t["cpu_seconds"] <= t["process_cpu_seconds"]
    assert 0 <= t["instance_cpu_seconds"] <= t["cpu_seconds"] and "timing" not in payload["record"]
    assert _strip(payload["record"]) | {"_levels": None} == _strip(ser["B4"]) | {"_levels": None}
    deadline = time.monotonic() + 60  # the nanny restarts the killed worker ...
    while time.monotonic() < deadline:
        try:
            now = ex.client.run(os.getpid)
        except OSError:  # the dead worker was still listed
            now = {}
        if len(now) == 2 and killed["pid"] not in now.values():
            break
        time.sleep(0.2)
    warmed = ex.client.run(lambda dask_worker: "sgdtheory-warm-up" in dask_worker.plugins)
    assert len(warmed) == 2 and all(warmed.values())  # ... and it is warmed up like the others


def test_two_workers_give_the_serial_records(serial, cluster, tmp_path):
    ser_dir, ser = serial
    out = tmp_path / "dask"  # (--workers 2 would start a cluster like the fixture's; this one is shared)
    assert main(["verify", *IDS, "--quick", "--no-progress", "--out", str(out), "--scheduler", cluster.address]) == 0
    for c in IDS:
        rec = json.loads((out / f"{c}.json").read_text())
        assert set(rec) == set(ser[c])
        for field in set(rec) - VOLATILE:
            assert rec[field] == ser[c][field], (c, field)  # JSON floats round-trip exactly: bitwise equality
        assert [os.path.basename(f) for f in rec["figures"]] == [os.path.basename(f) for f in ser[c]["figures"]]
        assert rec["figures"] and all(f.startswith(str(out)) and os.path.isfile(f) for f in rec["figures"])
    s_ser = json.loads((ser_dir / "summary.json").read_text())
    s_dask = json.loads((out / "summary.json").read_text())
    assert s_ser == s_dask


def test_paper_on_an_existing_cluster_gives_the_serial_records(cluster, tmp_path):
    from sgdtheory import paper

    ids, recs = ["E6", "E9"], {}
    for name, kw in (("serial", {}), ("dask", {"scheduler": cluster.address})):
        d = tmp_path / name
        d.mkdir()
        m = paper.regenerate(d, quick=True, ids=ids, bench=False, progress=lambda *_: None, **kw)
        assert m["reran"] == ids
        recs[name] = {c: json.loads((d / "generated" / "results" / f"{c}.json").read_text()) for c in ids}
    for c in ids:
        assert _strip(recs["dask"][c]) == _strip(recs["serial"][c])
        assert recs["dask"][c]["figures"] and all(os.path.isfile(f) for f in recs["dask"][c]["figures"])


def test_unreachable_scheduler_fails_at_once_naming_the_address(capsys):
    t0 = time.monotonic()
    with pytest.raises(SgdTheoryError, match=r"tcp://127\.0\.0\.1:9"):
        with executor(scheduler="tcp://127.0.0.1:9", connect_timeout=1.0):
            pass
    assert main(["verify", "E3", "--quick", "--no-progress", "--scheduler", "tcp://127.0.0.1:9"]) == 2
    assert "tcp://127.0.0.1:9" in capsys.readouterr().err
    assert time.monotonic() - t0 < 20  # the default connect timeout is 5 s


@pytest.mark.parametrize("workers", [0, -2, True, 1.5, "2"])
def test_bad_worker_counts_are_rejected(workers):
    with pytest.raises(SgdTheoryError, match="workers"):
        with executor(workers=workers):
            pass


def test_bad_cluster_options_exit_2(capsys):
    assert main(["verify", "E3", "--quick", "--no-progress", "--workers", "0"]) == 2
    assert "workers: '0' is not a valid number" in capsys.readouterr().err
    with pytest.raises(SgdTheoryError, match="not both"):
        with executor(workers=2, scheduler="tcp://127.0.0.1:9"):
            pass
    # argparse: --workers and --scheduler are mutually exclusive (a usage error: exit 2, nothing run)
    assert main(["verify", "E3", "--workers", "2", "--scheduler", "tcp://127.0.0.1:9"]) == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_serial_executor_imports_no_dask():
    code = ("import sys\nfrom sgdtheory.distributed import executor\nseen = []\n"
            "with executor() as ex:\n    r = ex.map(abs, [-1, 2, -3], progress=lambda *a: seen.append(a))\n"
            "assert r == [1, 2, 3] and seen == [(1, 3, -1), (2, 3, 2), (3, 3, -3)], (r, seen)\n"
            "assert not {'dask', 'distributed'} & set(sys.modules), 'dask imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True, env=os.environ.copy())


def test_longest_first_orders_by_the_last_run_time_of_the_same_mode(tmp_path):
    from sgdtheory.distributed import longest_first

    for cid, secs, quick in (("A1", 3.0, True), ("A3", 9.0, True), ("B4", 20.0, False), ("E3", 1.0, True)):
        (tmp_path / f"{cid}.json").write_text(json.dumps({"elapsed_seconds": secs, "settings": {"quick": quick}}))
    (tmp_path / "D1.json").write_text("{not json")
    # no usable record (B4 is a full-mode record, D1 is unreadable, C1 has none) -> first, in the given order
    assert longest_first(["A1", "B4", "C1", "A3", "D1", "E3"], tmp_path, True) == ["B4", "C1", "D1", "A3", "A1", "E3"]


def test_calibration_builds_each_default_instance_once_per_process(monkeypatch):
    from sgdtheory import distributed
    from sgdtheory.calibrate import calibration_task
    from sgdtheory.claims import Settings, get

    monkeypatch.setattr(distributed, "_INSTANCES", {})
    claim, built = get("E3"), []
    first = calibration_task("E3", 11, True, Settings().level)
    built.append(distributed._instance(claim, None))
    second = calibration_task("E3", 12, True, Settings().level)
    assert distributed._instance(claim, None) is built[0] and len(distributed._INSTANCES) == 1  # built once
    # the shared instance gives what a fresh one gives (the runs share nothing else)
    fresh = claim.run(claim.default_instance(), Settings(quick=True, seed=12))
    assert second["status"] == fresh.status and second["bound"] == float(min(1.0, sum(fresh.chance_failures)))
    assert second["roles"] == [[c.name, c.role] for c in fresh.checks] == first["roles"]


def test_run_claims_reports_its_timeline(cluster, tmp_path):
    from sgdtheory.distributed import run_claims

    timings = []
    recs = run_claims(["E3", "A2"], tmp_path, quick=True, figures=False, scheduler=cluster.address, timings=timings)
    assert [r["claim"] for r in recs] == ["E3", "A2"] and sorted(t["claim"] for t in timings) == ["A2", "E3"]
    pids = set(cluster.client.run(os.getpid).values())
    for t in timings:
        assert t["pid"] in pids and t["start"] <= t["end"] and 0 < t["cpu_seconds"] <= t["process_cpu_seconds"]


# -- how many local workers by default ----------------------------------------------------------------------------


def test_default_workers_are_one_per_core_and_at_most_one_per_claim(monkeypatch):
    from sgdtheory import distributed
    from sgdtheory.distributed import WORKERS_ENV, local_workers

    monkeypatch.delenv(WORKERS_ENV, raising=False)
    monkeypatch.setattr(distributed, "usable_cores", lambda: 4)
    assert local_workers(None, 10) == 4
    assert local_workers(None, 3) == 3
    assert local_workers(None, 1) is None  # one claim: serial, no cluster
    assert local_workers("auto", 2) == 2
    assert local_workers(1, 10) is None  # one worker is the serial run
    assert local_workers("5", 2) == 5  # an explicit count is taken as given
    monkeypatch.setenv(WORKERS_ENV, "3")
    assert local_workers(None, 10) == 3
    assert local_workers(2, 10) == 2  # --workers beats the environment
    monkeypatch.setenv(WORKERS_ENV, "1")
    assert local_workers(None, 10) is None


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5", ""])
def test_a_bad_worker_environment_is_rejected_naming_the_variable(monkeypatch, value):
    from sgdtheory.distributed import WORKERS_ENV, local_workers

    monkeypatch.setenv(WORKERS_ENV, value)
    with pytest.raises(SgdTheoryError, match=f"{WORKERS_ENV}: '{value}' is not"):
        local_workers(None, 4)


def test_verify_of_several_claims_goes_to_one_worker_per_core_by_default(monkeypatch, tmp_path):
    """The CLI's default (no --workers, no environment): a local cluster of min(cores, claims) processes; one claim
    runs serially.  The cluster itself is the one tested above (run_claims is replaced here: no processes start)."""
    from sgdtheory import distributed
    from sgdtheory.distributed import WORKERS_ENV

    seen = []

    def fake_run_claims(ids, out, **kw):
        seen.append((list(ids), kw["workers"], kw["scheduler"]))
        raise KeyboardInterrupt  # stop here: nothing is run

    monkeypatch.delenv(WORKERS_ENV, raising=False)
    monkeypatch.setattr(distributed, "usable_cores", lambda: 2)
    monkeypatch.setattr(distributed, "run_claims", fake_run_claims)
    assert main(["verify", "A2", "B4", "E3", "--quick", "--no-progress", "--out", str(tmp_path / "o")]) == 130
    assert seen == [(["A2", "B4", "E3"], 2, None)]


def test_ctrl_c_stops_a_local_cluster_at_once(monkeypatch):
    """Ctrl-C while a worker is busy (here in time.sleep; in a run, inside a Numba kernel, which cannot be
    interrupted): its process is killed instead of waited for, its scratch directory is removed, and the
    interrupt reaches the caller."""
    import time

    from sgdtheory import distributed

    killed = []
    real = distributed._kill_local_workers
    monkeypatch.setattr(distributed, "_kill_local_workers", lambda cluster: killed.append(real(cluster)) or killed[-1])
    with pytest.raises(KeyboardInterrupt):
        with executor(workers=1) as ex:
            pid = next(iter(ex.client.run(os.getpid).values()))
            scratch = next(iter(ex.client.run(os.getenv, distributed.SCRATCH_ENV).values()))
            assert scratch and os.path.isdir(scratch)
            busy = ex.client.submit(time.sleep, 600, pure=False)  # noqa: F841  (kept alive until the interrupt)
            deadline = time.monotonic() + 30
            while not any(ex.client.processing().values()) and time.monotonic() < deadline:
                time.sleep(0.05)  # until the worker has started it
            raise KeyboardInterrupt
    assert killed == [1]
    assert not os.path.exists(scratch)  # the killed worker's temporary files went with the cluster
    with pytest.raises(ChildProcessError):  # reaped: no longer a child of this process
        os.waitpid(pid, os.WNOHANG)
