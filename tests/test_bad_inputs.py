"""Every bad input gets a clear error naming the parameter (and the valid range where there is one)."""

import json

import numpy as np
import pytest

from sgdtheory.claims.quadratic_basin import BasinInstance, instance_from_config
from sgdtheory.config import load
from sgdtheory.errors import ConfigError, SgdTheoryError
from sgdtheory.optimizers import HeavyBall, PreconditionedSGD, from_name
from sgdtheory.problems import GaussianNoiseQuadratic, LinearRegression, QuadraticFiniteSum
from sgdtheory.sampling import Sampler
from sgdtheory.schedules import Power
from sgdtheory.simulate import simulate
from sgdtheory.stats import replica_interval

G = np.array([[1.0, 0.0], [-1.0, 0.0]])
H = np.array([np.eye(2), 2 * np.eye(2)])
OK = QuadraticFiniteSum(G, H)


@pytest.mark.parametrize("make,match", [
    (lambda: QuadraticFiniteSum(G, H[:, :1, :]), r"H: expected shape \(n, d, d\)"),
    (lambda: QuadraticFiniteSum(G, np.array([[[1.0, 1.0], [0.0, 1.0]]] * 2)), "H: must be symmetric"),
    (lambda: QuadraticFiniteSum(G, -H), "H: the mean Hessian must be positive definite"),
    (lambda: QuadraticFiniteSum([[1.0, np.nan], [0.0, 1.0]], H), "g: all entries must be finite"),
    (lambda: QuadraticFiniteSum(G, H, c=[1.0, 2.0, 3.0]), r"c: expected shape \(2,\)"),
    (lambda: LinearRegression(np.ones((4, 2)), np.ones(4)), "X: the mean Hessian must be positive definite"),
    (lambda: LinearRegression(np.eye(3), np.ones(2)), r"y: expected shape \(3,\)"),
    (lambda: GaussianNoiseQuadratic(np.eye(2), -np.eye(2)), "C: must be positive semidefinite"),
    (lambda: Sampler(0), r"batch_size = 0 is out of range: valid range is >= 1"),
    (lambda: Sampler(2, "stratified"), "sampling: unknown scheme 'stratified'"),
    (lambda: HeavyBall(1.0), r"momentum = 1 is out of range: valid range is \[0, 1\)"),
    (lambda: Power(-1.0), r"c = -1 is out of range"),
    (lambda: from_name("lion"), "optimizer: unknown name 'lion'"),
    (lambda: replica_interval([1.0]), "samples: need at least 2"),
    (lambda: PreconditionedSGD(np.ones((2, 3))), r"F: expected a square matrix"),
])
def test_constructor_errors(make, match):
    with pytest.raises(SgdTheoryError, match=match):
        make()


@pytest.mark.parametrize("kwargs,match", [
    (dict(lr=5.0), r"lr = 5 is beyond the stability limit: valid range is \(0, "),
    (dict(lr=-0.1), r"lr = -0.1 is out of range"),
    (dict(sampler=Sampler(3, "without_replacement")), r"batch_size = 3 is larger than the data set: valid range .* is \[1, 2\]"),
    (dict(n_steps=0), r"n_steps = 0 is out of range"),
    (dict(n_paths=2.5), "n_paths: expected an integer"),
    (dict(record_steps=[200]), r"record_steps\[0\] = 200 is out of range: valid range is \[0, 100\]"),
    (dict(time_average=("loss",)), "time_average: unknown observable 'loss'"),
    (dict(record=("grad_sq",)), "record: unknown observable 'grad_sq'"),
    (dict(w0=[1.0, 2.0, 3.0]), r"w0: expected shape \(2,\)"),
    (dict(seed=-1), r"seed = -1 is out of range"),
    (dict(optimizer=PreconditionedSGD(np.eye(3))), r"F: expected shape \(2, 2\) to match the problem"),
    (dict(optimizer=PreconditionedSGD(np.diag([1.0, -1.0]))), r"no learning rate is stable"),
    (dict(time_average=("excess_loss",), burn_in=99, n_batches=5), r"n_batches = 5 is out of range: valid range is \[2, 1\]"),
])
def test_simulate_errors(kwargs, match):
    args = dict(lr=0.1, n_steps=100, n_paths=4)
    args.update(kwargs)
    lr = args.pop("lr")
    with pytest.raises(SgdTheoryError, match=match):
        simulate(OK, lr, **args)


def test_stability_limit_is_the_mean_square_one():
    """Between the mean-square limit and 2/lambda_max(Hbar) the run is refused, naming the limit."""
    from sgdtheory.theory.quadratic_basin import QuadraticBasin

    eta_c = QuadraticBasin(G, H).stability_limit()
    assert eta_c < 2 / np.linalg.eigvalsh(H.mean(axis=0))[-1]
    with pytest.raises(SgdTheoryError, match=f"valid range is \\(0, {eta_c:.6g}\\)"):
        simulate(OK, 1.01 * eta_c, n_steps=10, n_paths=2)
    simulate(OK, 0.99 * eta_c, n_steps=10, n_paths=2)


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize("text,match", [
    ("[problem]\ng = [[1.0, 0.0], [-1.0, 0.0]]\n", "problem.H: required"),
    ("[problem]\ng = [[1.0, 0.0], [-1.0, 0.0]]\nH = [[1.0, 0.0], [0.0, 1.0]]\n", "problem.H: expected a 3-D array"),
    ("[problem]\ng = [[1.0, 0.0], [-1.0, 0.0]]\nH = [[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]]\n"
     "[experiment]\nbatch_size = 0\n", r"experiment.batch_size = 0 is out of range"),
    ("[problem]\ng = [[1.0, 0.0], [-1.0, 0.0]]\nH = [[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]]\n"
     "[experiment]\neta = [0.1, 0.2, 9.0]\n", r"experiment.eta\[2\] = 9 is beyond the stability limit"),
    ("[problem]\ng = [[1.0, 0.0], [-1.0, 0.0]]\nH = [[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]]\n"
     "[experiment]\nsampling = \"reshuffle\"\n", "experiment.sampling: the quadratic-basin theory needs i.i.d."),
    ("[problem]\nX = [[1.0, 0.0], [0.0, 1.0]]\n", "problem.y: required"),
    ("[problem]\ng = [[1.0, 0.0], [-1.0, 0.0]]\nH = [[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]]\nh = 1\n",
     "problem.h: unknown field"),
    ("[problme]\n", "config: unknown section"),
    ("[problem\n", "not valid TOML"),
])
def test_config_errors_name_the_field(tmp_path, text, match):
    path = _write(tmp_path, "c.toml", text)
    with pytest.raises(ConfigError, match=match):
        instance_from_config(load(path))


def test_config_file_type_and_json(tmp_path):
    with pytest.raises(ConfigError, match="expected a .toml or .json file"):
        load(_write(tmp_path, "c.yaml", "a: 1"))
    with pytest.raises(ConfigError, match="file not found"):
        load(tmp_path / "missing.toml")
    cfg = {"problem": {"g": G.tolist(), "H": H.tolist()}, "experiment": {"batch_size": 1}}
    inst = instance_from_config(load(_write(tmp_path, "c.json", json.dumps(cfg))))
    assert isinstance(inst, BasinInstance) and inst.problem.n == 2
