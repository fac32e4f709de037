"""Issue 14: bad input through the command line and the API gets exit 2 / ``SgdTheoryError`` before any simulation.

Every case asserts: the exit code (2) or the exception (``SgdTheoryError``), a message naming the field, no
traceback, and that no Monte Carlo started (a spy replaces every engine entry point: ``run_paths`` and
``path_states`` wherever sgdtheory imported them).  The CLI runs in-process (``cli.main``) to stay fast; the
interrupt tests use real subprocesses and SIGINT.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import sgdtheory.claims  # noqa: F401  (register every claim, import every engine entry point)
from sgdtheory.cli import main
from sgdtheory.errors import SgdTheoryError

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "experiments" / "configs"

# --------------------------------------------------------------------------------------------------
# the spy: any Monte Carlo (the fused engine or a direct kernel) counts as a simulation started
# --------------------------------------------------------------------------------------------------


class SimulationStarted(AssertionError):
    pass


@pytest.fixture
def no_simulation(monkeypatch):
    calls = []

    def spy(*args, **kwargs):
        calls.append(args[:1])
        raise SimulationStarted("a simulation started on bad input")

    for name, mod in list(sys.modules.items()):
        if name.startswith("sgdtheory") and mod is not None:
            for attr in ("run_paths", "path_states"):
                if callable(getattr(mod, attr, None)):
                    monkeypatch.setattr(mod, attr, spy)
    yield calls
    assert not calls, "a simulation started"


def run_cli(args, capsys):
    code = main(args)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


G3 = "g = [[1.0, 0.5], [-0.8, 1.2], [-0.2, -1.7]]\n"
H3 = "H = [[[2.0, 0.3], [0.3, 0.5]], [[0.5, -0.4], [-0.4, 1.5]], [[1.0, 0.0], [0.0, 1.0]]]\n"
BASIN = "[problem]\n" + G3 + H3  # eta_c = 1.27845 (batch 1, with replacement)
LINREG = ("[problem]\nX = [[1.0, 0.2], [0.3, 1.0], [-0.7, 0.4], [0.5, -1.2], [1.1, 0.9], [-0.2, -0.6]]\n"
          "y = [1.0, -0.5, 0.7, 2.0, -1.2, 0.4]\n")
INTERP = "[problem]\nX = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]\ny = [1.0, 2.0, 3.0]\n"  # exact fit: Sigma = 0 at w*


def _read(name):
    return (CONFIGS / name).read_text()


def _swap(name, old, new):
    text = _read(name)
    assert old in text, (name, old)
    return text.replace(old, new, 1)


# (claim, config text, file suffix, text the message must contain): one distinct bad input each
CONFIG_CASES = [
    # unknown fields, and a config meant for another family, named
    ("A1", LINREG + "[experiment]\nsampling = \"cyclic\"\n", "toml", "experiment.sampling: unknown field for A1"),
    ("A1", LINREG + "[experiment]\neta = [0.1, 0.2, 0.3]\n", "toml", "experiment.eta: unknown field for A1"),
    ("A1", _read("basin_quadratic.toml"), "toml", "looks meant for B3/B4/B5/E3/E4/E6/E9"),
    ("B4", _read("batch_scaling.toml"), "toml", "looks meant for C3/C4/C5"),
    ("B4", BASIN + "h = 1\n", "toml", "problem.h: unknown field for B3/B4/B5"),
    ("B4", "[problme]\n", "toml", "config: unknown section"),
    ("D8", _read("running_averages.toml") + "beta = 0.9\n", "toml", "experiment.beta: unknown field for D8"),
    # wrong types: float for int, bool for number, strings
    ("A1", LINREG + "[experiment]\nbatch_sizes = [1.5, 2.7]\n", "toml", "experiment.batch_sizes[0] = 1.5: expected an integer"),
    ("B4", BASIN + "[experiment]\nbatch_size = 2.0\n", "toml", "experiment.batch_size = 2: expected an integer"),
    ("B4", BASIN + "[experiment]\nbatch_size = true\n", "toml", "experiment.batch_size = true: expected an integer"),
    ("B4", BASIN + "[experiment]\neta = [true, 0.1, 0.2]\n", "toml", "experiment.eta[0] = true: expected a number, got a boolean"),
    ("B4", BASIN + "[experiment]\neta = [\"0.1\", 0.2, 0.3]\n", "toml", "experiment.eta[0] = '0.1': expected a number, got a string"),
    ("B4", BASIN + "[experiment]\neta = 0.1\n", "toml", "experiment.eta: expected a 1-D array"),
    ("B4", BASIN + "[experiment]\nsampling = 3\n", "toml", "experiment.sampling = 3: expected a string"),
    ("B4", BASIN + "name = 5\n", "toml", "problem.name = 5: expected a string"),
    ("B4", BASIN + "[experiment]\nsampling = \"stratified\"\n", "toml", "sampling"),
    ("A5", _swap("robbins_monro.toml", "horizon = 1000000", "horizon = 1e6"), "toml", "experiment.horizon = 1e+06: expected an integer"),
    ("D12", _swap("schedules.toml", "horizon = 320", "horizon = 320.5"), "toml", "experiment.horizon = 320.5"),
    ("C5", _swap("batch_scaling.toml", "factor = 2", "factor = 2.5"), "toml", "experiment.C5.factor = 2.5"),
    ("B8", _swap("bayesian_sgd.toml", "N = 200 ", "N = 200.5 "), "toml", "problem.N = 200.5: expected an integer"),
    ("D11", _swap("generalisation.toml", "n_test = 100000", "n_test = \"many\""), "toml", "experiment.n_test = 'many'"),
    ("D1", _swap("momentum.toml", "lr = 0.002", "lr = true"), "toml", "experiment.lr = true"),
    ("D13", _swap("sam.toml", "n_steps = 4000", "n_steps = 4000.0"), "toml", "experiment.n_steps = 4000"),
    ("D6", _swap("adaptive.toml", "coordinate = 0", "coordinate = 0.0"), "toml", "experiment.coordinate = 0"),
    ("D10", _swap("adam_nonconvergence.toml", "starts = [-0.5, 0.5]", "starts = [true]"), "toml", "experiment.starts[0] = true"),
    ("B1", _swap("boltzmann_1d.toml", "quadratic_eta = 0.8", "quadratic_eta = \"0.8\""), "toml", "experiment.quadratic_eta = '0.8'"),
    ("C1", _swap("implicit_regularisation.toml", "batches = [[0, 3]", "batches = [[0.5, 3]"), "toml", "experiment.batches[0][0] = 0.5"),
    # shapes
    ("B4", "[problem]\n" + G3 + "H = [[1.0, 0.0], [0.0, 1.0]]\n", "toml", "problem.H: expected a 3-D array"),
    ("B4", "[problem]\ng = [[1.0, 0.5], [-0.8], [-0.2, -1.7]]\n" + H3, "toml", "problem.g: rows of unequal shape"),
    ("B4", "[problem]\n" + G3, "toml", "problem.H: required"),
    ("B2", _swap("lyapunov.toml", "w_star = [1.0, -2.0, 0.5]", "w_star = [[1.0, -2.0, 0.5]]"), "toml", "problem.w_star: expected a 1-D array"),
    ("A4", _swap("preconditioned.toml", "F_pd = [[0.8, 0.4], [-0.3, 1.2]]", ""), "toml", "experiment.F_pd: required"),
    ("A7", _swap("sampling_order.toml", "eta = [0.06, 0.015]", "eta = [0.06, 0.03, 0.015]"), "toml", "experiment.eta"),
    ("A6", _swap("gradient_flow.toml", "t = 3.0", "eta = [0.1, 0.2, 0.3]"), "toml", "experiment.eta: not used by A6"),
    # finiteness and magnitudes
    ("A1", LINREG + "[experiment]\nw = [nan, 0.0]\n", "toml", "experiment.w[0] = nan: must be finite"),
    ("D8", _swap("running_averages.toml", "w = [2.0, -2.0]", "w = [nan, -2.0]"), "toml", "experiment.w[0] = nan: must be finite"),
    ("B4", BASIN + "c = [1.0, inf, 1.5]\n", "toml", "problem.c[1] = inf: must be finite"),
    ("B4", "[problem]\ng = [[1e300, 0.5], [-0.8, 1.2], [-0.2, -1.7]]\n" + H3, "toml", "problem.g[0][0] = 1e+300 is out of range"),
    ("B4", BASIN + "[experiment]\neta = [1e-300, 0.1, 0.2]\n", "toml", "experiment.eta[0] = 1e-300 is out of range"),
    ("D11", _swap("generalisation.toml", "\np = 0.65", "\np = nan"), "toml", "problem.p = nan: must be finite"),
    # duplicates in grids
    ("B4", BASIN + "[experiment]\neta = [0.1, 0.1, 0.1]\n", "toml", "experiment.eta: duplicate value 0.1"),
    ("A1", LINREG + "[experiment]\nbatch_sizes = [2, 2]\n", "toml", "experiment.batch_sizes: duplicate value 2"),
    ("B2", _swap("lyapunov.toml", "etas = [0.001, 0.002,", "etas = [0.002, 0.002,"), "toml", "experiment.etas: duplicate value"),
    ("A8", _swap("saddle.toml", "sigmas = [1e-2, 1e-4", "sigmas = [1e-4, 1e-4"), "toml", "experiment.sigmas: duplicate value"),
    ("C6", _swap("sharp_minima.toml", "ratios = [0.003, 0.004", "ratios = [0.004, 0.004"), "toml", "experiment.ratios: duplicate"),
    # degenerate instances and ranges
    ("A1", INTERP, "toml", "Sigma = 0"),
    ("D8", LINREG + "[experiment]\nw = [0.0, 0.0]\nN = 5\n", "toml", "experiment.N = 5 is out of range"),
    ("B4", BASIN + "[experiment]\neta = [0.01, 0.02, 1.3]\n", "toml", "experiment.eta[2] = 1.3 is beyond the stability limit"),
    ("B4", BASIN + "[experiment]\neta = [1e-12, 0.01, 0.02]\n", "toml", "experiment.eta[0] = 1e-12 is too small"),
    ("B6", _swap("langevin_increment.toml", "w = [1.5, -1.0]", ""), "toml", "experiment.w: required"),
    ("B4", BASIN + "[experiment]\nbatch_size = 0\n", "toml", "experiment.batch_size = 0 is out of range"),
    # JSON specifics and file errors
    ("B4", '{"problem": {"g": [[1.0, 0.0], [-1.0, 0.0]], "g": [[1.0, 0.0]]}}', "json", "g: given twice"),
    ("B4", "[1, 2]", "json", "the top level must be a table"),
    ("B4", "[problem\n", "toml", "not valid TOML"),
    ("B4", "a: 1", "yaml", "expected a .toml or .json file"),
]


@pytest.mark.parametrize("cid,text,suffix,needle", CONFIG_CASES,
                         ids=[f"{c[0]}-{c[3][:40]}" for c in CONFIG_CASES])
def test_bad_config_cli(cid, text, suffix, needle, tmp_path, capsys, no_simulation):
    path = tmp_path / f"c.{suffix}"
    path.write_text(text)
    code, err = run_cli(["verify", cid, "--quick", "--config", str(path), "--out", str(tmp_path / "out"),
                         "--no-progress", "--no-figures"], capsys)
    assert code == 2, err
    assert needle in err, err


def test_bad_config_api(tmp_path, no_simulation):
    """The same readers through the API: ``instance_from_config`` raises ``ConfigError`` (a ``SgdTheoryError``)."""
    from sgdtheory.claims import get
    from sgdtheory.config import load

    for cid, text, suffix, needle in CONFIG_CASES:
        path = tmp_path / f"c.{suffix}"
        path.write_text(text)
        with pytest.raises(SgdTheoryError) as exc:
            get(cid).instance_from_config(load(path))
        assert needle in str(exc.value), (cid, str(exc.value))


def _out_cases(tmp_path):
    regular = tmp_path / "file.txt"
    regular.write_text("x")
    return [
        (["--out", ""], "--out: empty path"),
        (["--out", "   "], "--out: empty path"),
        (["--out", str(regular)], f"--out: {regular} exists and is not a folder"),
        (["--out", str(regular / "sub")], "--out: cannot write to"),
        (["--out", str(tmp_path / "o"), "--budget", "0"], "--budget = 0 is out of range"),
        (["--out", str(tmp_path / "o"), "--budget", "-5"], "--budget = -5 is out of range"),
        (["--out", str(tmp_path / "o"), "--budget", "nan"], "--budget = nan is out of range"),
        (["--out", str(tmp_path / "o"), "--budget", "lots"], "--budget: expected a number"),
        (["--out", str(tmp_path / "o"), "--seed", "-1"], "--seed = -1 is out of range"),
        (["--out", str(tmp_path / "o"), "--seed", "1.5"], "--seed: expected a non-negative integer"),
        (["--out", str(tmp_path / "o"), "--level", "1.5"], "--level = 1.5 is out of range"),
        (["--out", str(tmp_path / "o"), "--level", "nan"], "--level = nan is out of range"),
        (["--out", str(tmp_path / "o"), "--config", str(tmp_path / "missing.toml")], "config: file not found"),
        (["--out", str(tmp_path / "o"), "--config", str(tmp_path)], "config: file not found"),
    ]


def test_bad_arguments_cli(tmp_path, capsys, no_simulation):
    for extra, needle in _out_cases(tmp_path):
        code, err = run_cli(["verify", "B4", "--quick", "--no-progress"] + extra, capsys)
        assert code == 2, (extra, err)
        assert needle in err, (extra, err)
    code, err = run_cli(["verify", "Z9", "--quick", "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "Z9" in err
    code, err = run_cli(["derive", "B4", "--config", str(tmp_path / "nope.json")], capsys)
    assert code == 2 and "config: file not found" in err
    code, err = run_cli(["paper", "--no-build", "--paper-dir", str(tmp_path / "nopaper")], capsys)
    assert code == 2 and "paper-dir" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_out_is_refused_first(tmp_path, capsys, no_simulation):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, err = run_cli(["verify", "B4", "--quick", "--out", str(locked / "res"), "--no-progress"], capsys)
    finally:
        locked.chmod(0o700)
    assert code == 2 and "--out: cannot write to" in err


def test_plans_over_the_budget_are_refused_before_any_simulation(tmp_path, capsys, no_simulation):
    """Near either end of the allowed range the plan explodes; it is refused at once, with the cheapest grid."""
    near = tmp_path / "near.toml"
    near.write_text(BASIN + "[experiment]\neta = [0.01, 0.02, 1.2783]\n")  # 0.99991 x eta_c
    small = tmp_path / "small.toml"
    small.write_text(BASIN + "[experiment]\neta = [1e-8, 0.01, 0.02]\n")
    t0 = time.perf_counter()
    for cfg in (near, small):
        code, err = run_cli(["verify", "B4", "--config", str(cfg), "--out", str(tmp_path / "o"), "--no-progress"],
                            capsys)
        assert code == 2, err
        assert "budget: claim B4 needs" in err and "without the learning rate(s)" in err, err
    code, err = run_cli(["verify", "B4", "--quick", "--budget", "1e6", "--out", str(tmp_path / "o"),
                         "--no-progress"], capsys)
    assert code == 2 and "over the budget of 1e+06" in err, err
    assert time.perf_counter() - t0 < 60


# --------------------------------------------------------------------------------------------------
# the API: simulate and the instance dataclasses
# --------------------------------------------------------------------------------------------------

def _problem():
    from sgdtheory.problems import QuadraticFiniteSum

    return QuadraticFiniteSum(np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([np.eye(2), 2 * np.eye(2)]))


SIM_CASES = [
    (dict(record_steps="150"), "record_steps = '150': expected a sequence"),
    (dict(record_steps=[10.7]), "record_steps[0]: expected an integer"),
    (dict(record_steps=[True]), "record_steps[0]: expected an integer"),
    (dict(time_average="excess_loss"), "time_average = 'excess_loss': expected a tuple"),
    (dict(record="dist_sq"), "record = 'dist_sq': expected a tuple"),
    (dict(divergence_threshold=float("nan")), "divergence_threshold: must be finite"),
    (dict(divergence_threshold=-1.0), "divergence_threshold = -1 is out of range"),
    (dict(w0=np.array([1 + 1j, 0.0])), "w0: expected a real numeric array, got complex numbers"),
    (dict(w0=["1", "2"]), "w0: expected a real numeric array, got strings"),
    (dict(w0=[np.nan, 0.0]), "w0: all entries must be finite"),
    (dict(n_paths=10**12), "n_paths = 1000000000000: the output arrays need"),
    (dict(n_paths=10**6, n_steps=10**6), "budget: this simulation needs 1e+12 path-steps"),
    (dict(n_paths=True), "n_paths: expected an integer"),
    (dict(lr=True), "lr"),
    (dict(lr="0.1"), "lr"),
    (dict(lr=float("nan")), "lr"),
    (dict(seed=1.5), "seed: expected an integer"),
]


@pytest.mark.parametrize("kwargs,needle", SIM_CASES, ids=[c[1][:40] for c in SIM_CASES])
def test_bad_simulate_arguments(kwargs, needle, no_simulation):
    from sgdtheory.simulate import simulate

    args = dict(lr=0.1, n_steps=100, n_paths=4, record_steps=[100])
    args.update(kwargs)
    lr = args.pop("lr")
    with pytest.raises(SgdTheoryError) as exc:
        simulate(_problem(), lr, **args)
    assert needle in str(exc.value), str(exc.value)


def test_bad_instances_api(no_simulation):
    from sgdtheory.claims.basin_sweep import BasinInstance
    from sgdtheory.claims.minibatch import GradientInstance
    from sgdtheory.problems import LinearRegression, QuadraticFiniteSum

    p = _problem()
    cases = [
        (lambda: BasinInstance(p, etas=(0.1, 0.1, 0.1)), "eta: duplicate learning rates"),
        (lambda: BasinInstance(p, etas=(1e-300, 0.1, 0.2)), "eta[0] = 1e-300 is too small"),
        (lambda: BasinInstance(p, etas=(True, 0.1, 0.2)), "eta[0]: expected a number"),
        (lambda: BasinInstance(p, etas="0.1"), "eta = '0.1': expected a list"),
        (lambda: GradientInstance(p, [0.0, 0.0], "12"), "batch_sizes: expected a list of integers"),
        (lambda: GradientInstance(p, [0.0, 0.0], (1.5, 2)), "batch_sizes[0]: expected an integer"),
        (lambda: GradientInstance(p, [np.nan, 0.0], (1, 2)), "w: all entries must be finite"),
        (lambda: GradientInstance(LinearRegression(np.eye(2), [1.0, 2.0]), [1.0, 2.0], (1, 2)), "Sigma = 0"),
        (lambda: QuadraticFiniteSum(np.array([[1j, 0.0], [0.0, 1.0]]), np.array([np.eye(2)] * 2)),
         "g: expected a real numeric array"),
    ]
    for make, needle in cases:
        with pytest.raises(SgdTheoryError) as exc:
            make()
        assert needle in str(exc.value), str(exc.value)


# --------------------------------------------------------------------------------------------------
# divergence, chunking, temp files, interrupts
# --------------------------------------------------------------------------------------------------

def test_beyond_the_mean_square_limit_is_diverging_at_once():
    """At 1.05 x the mean-square limit with check_stability=False no path reaches 1e12 in 400 steps, but the second
    moment grows geometrically: the run is reported as diverging and never averaged."""
    from sgdtheory.simulate import DivergedError, simulate, stability_limit
    from sgdtheory.optimizers import SGD
    from sgdtheory.sampling import Sampler

    p = _problem()
    limit, _ = stability_limit(p, SGD(), Sampler())
    res = simulate(p, 1.05 * limit, n_steps=400, n_paths=64, check_stability=False, time_average=("excess_loss",),
                   burn_in=100)
    assert int(np.count_nonzero(res.diverged_at >= 0)) == 0  # nothing crossed the threshold yet ...
    assert res.status == "diverged" and res.n_diverged == 64  # ... but the run is diverging
    with pytest.raises(DivergedError, match="grows geometrically"):
        res.time_average("excess_loss")
    ok = simulate(p, 0.95 * limit, n_steps=400, n_paths=64, check_stability=False, time_average=("excess_loss",),
                  burn_in=100)
    assert ok.status == "ok"


def test_chunked_engine_calls_are_bitwise_identical(monkeypatch):
    import sgdtheory.simulate as sim

    kw = dict(n_steps=300, n_paths=37, seed=5, record_steps=[0, 150, 300], record=("excess_loss", "moments"),
              time_average=("excess_loss", "grad_sq"), burn_in=100)
    one = sim.simulate(_problem(), 0.3, **kw)
    monkeypatch.setattr(sim, "CHUNK_PATH_STEPS", 300 * 5)  # chunks of 5 paths
    many = sim.simulate(_problem(), 0.3, **kw)
    for a in ("record_values", "batch_sums", "final_params", "diverged_at"):
        assert np.array_equal(getattr(one, a), getattr(many, a)), a


def test_figure_temp_files_are_removed_on_interrupt(tmp_path):
    from sgdtheory.figures import new_figure
    from sgdtheory.results import LIVE_TEMP_FILES

    class Boom(KeyboardInterrupt):
        pass

    with pytest.raises(KeyboardInterrupt):
        with new_figure(tmp_path, "f") as (fig, ax, paths):
            ax.plot([0, 1])
            fig.savefig = lambda *a, **k: (_ for _ in ()).throw(Boom())
    assert list(tmp_path.iterdir()) == [] and not LIVE_TEMP_FILES


def test_stale_temp_files_of_killed_runs_are_removed(tmp_path, capsys, no_simulation):
    out = tmp_path / "out"
    (out / "figures").mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = [out / f".B4.json.{dead.pid}.abc123.tmp", out / "figures" / f".B4.png.{dead.pid}.x_9.tmp"]
    live = out / f".B5.json.{os.getpid()}.zz.tmp"  # this process is alive: its file is kept
    for f in stale + [live]:
        f.write_text("partial")
    bad = tmp_path / "bad.toml"
    bad.write_text(BASIN + "[experiment]\neta = [0.1, 0.1, 0.1]\n")
    code, _ = run_cli(["verify", "B4", "--config", str(bad), "--out", str(out), "--no-progress"], capsys)
    assert code == 2
    assert not any(f.exists() for f in stale) and live.exists()


def _spawn(args, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "sgdtheory.cli"] + args, cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_ctrl_c_exits_130_promptly_and_leaves_no_temp_file(tmp_path):
    """SIGINT in the middle of a claim: exit 130 within seconds (never 0), no temporary file left behind."""
    out = tmp_path / "out"
    # full mode A3: over a minute on two cores (B4/B5 now take seconds, so the signal could arrive after the end)
    proc = _spawn(["verify", "A3", "--out", str(out), "--no-figures"], tmp_path)
    deadline = time.time() + 90
    while time.time() < deadline and proc.poll() is None:  # wait until it is simulating
        if (out / "figures").is_dir() or out.is_dir():
            time.sleep(4.0)
            break
        time.sleep(0.2)
    assert proc.poll() is None, proc.communicate()
    t0 = time.time()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    elapsed = time.time() - t0
    assert proc.returncode == 130, err[-2000:]
    assert elapsed < 30, (elapsed, err[-2000:])
    assert "interrupted" in err and "Traceback" not in err, err[-2000:]
    leftovers = [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    assert not leftovers, leftovers
