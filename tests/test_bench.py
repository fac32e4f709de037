"""``sgdtheory bench``: peers.py's workloads, its correctness checks and the report's structure (never timings)."""

import importlib.util

import numpy as np
import pytest

from sgdtheory import bench


def test_w1_data_as_specified():
    X, y = bench.w1_data()
    rng = np.random.default_rng(20240601)
    X0 = rng.standard_normal((1024, 16))
    w_true = rng.standard_normal(16)
    assert np.array_equal(X, X0)
    assert np.array_equal(y, X0 @ w_true + 0.5 * rng.standard_normal(1024))


def test_w2_data_as_specified():
    H, L = bench.w2_data()
    d = 8
    lam = np.linalg.eigvalsh(H)
    assert np.allclose(lam, 10.0 ** (np.arange(d) / (d - 1)), rtol=1e-12)
    # eigenvectors are the DCT-IV columns: H q_k = lambda_k q_k
    j = np.arange(d)
    Q = np.sqrt(2.0 / d) * np.cos(np.pi * np.outer(2 * j + 1, 2 * j + 1) / (4 * d))
    assert np.allclose(Q.T @ Q, np.eye(d), atol=1e-14)
    assert np.allclose(H @ Q[:, 3], 10.0 ** (3 / 7) * Q[:, 3], atol=1e-12)
    assert L[3, 1] == 1.3 * 0.25 and L[0, 0] == 1.0 and np.all(np.triu(L, 1) == 0)


def test_checks_can_fail():
    cfg = dict(bench.W2, P=512, T=400, burn=100)
    H, L = bench.w2_data(cfg)
    S_sum, m_sum = bench.w2_numpy(H, L, cfg["eta"], cfg["P"], cfg["T"], cfg["burn"], 3)
    S_ex, A = bench.w2_exact(H, L, cfg["eta"])
    assert bench.w2_check(S_sum, m_sum, cfg, S_ex, A)["ok"]
    assert not bench.w2_check(1.3 * S_sum, m_sum, cfg, S_ex, A)["ok"]
    c1 = dict(bench.W1, P=256, T=40)
    X, y = bench.w1_data(c1)
    W, bl = bench.w1_numpy(X, y, c1["eta"], c1["P"], c1["T"], c1["B"], 3)
    Lexp = bench.w1_exact(X, y, c1["eta"], c1["B"], c1["T"])
    assert bench.w1_check(W, bl, X, y, c1, Lexp)["ok"]
    assert not bench.w1_check(W, 1.2 * bl, X, y, c1, Lexp)["ok"]


def test_report_structure_and_correctness():
    log = []
    rep = bench.run(scale=0.125, quick=True, reps=1, cache_load=False, pause=0.0, log=log.append)
    has_jax = importlib.util.find_spec("jax") is not None
    threads = rep["threads"]
    assert set(rep["workloads"]) == {"W1", "W2"}
    for key, wl in rep["workloads"].items():
        impls = set(wl["path_steps_per_second"])
        for th in threads:
            assert {f"engine {th}thr", f"hand {th}thr", f"floor {th}thr", f"engine floor {th}thr"} <= impls
            assert f"engine / hand, {th} thr" in wl["ratios"] and f"engine / numpy, {th} thr" in wl["ratios"]
            assert (f"engine / JAX, {th} thr" in wl["ratios"]) == has_jax
        assert "numpy" in impls and ("jax" in impls) == has_jax
        assert all(v > 0 for v in wl["path_steps_per_second"].values())
        assert all(len(v) == 1 for v in wl["reps_path_steps_per_second"].values())
        assert set(wl["checks"]) == {i for i in impls if "floor" not in i}
        assert all(c["ok"] for c in wl["checks"].values()), wl["checks"]
        assert wl["identical_across_threads"] and wl["hand_identical_across_threads"]
        assert all(isinstance(t["pass"], bool) for t in wl["targets"].values())
    assert ("engine / RNG floor, 1 thr" in rep["workloads"]["W2"]["targets"]
            and "engine / RNG floor, 1 thr" not in rep["workloads"]["W1"]["targets"])
    text = "\n".join(map(str, log))
    assert "correctness" in text and "sgdtheory.simulate" in text
    assert ("JAX: not installed (pip install jax)" in text) == (not has_jax)


def test_bench_cli_rejects_bad_reps(capsys):
    from sgdtheory.cli import main

    assert main(["bench", "--reps", "0"]) == 2
    assert "reps" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--scale", "0"], ["--scale", "nan"], ["--scale", "inf"]])
def test_bench_cli_rejects_bad_scale(argv, capsys):
    from sgdtheory.cli import main

    assert main(["bench", *argv]) == 2
    assert "scale" in capsys.readouterr().err
