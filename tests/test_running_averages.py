"""D8, E1, E2: running-average theory against brute force, the kernel against a plain-Python twin,
bad inputs, the user config, and a perturbed theory that the checks must catch."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference_rng import Xoshiro
from sgdtheory.claims import REGISTRY, Settings
from sgdtheory.claims.base import AS_EXPECTED
from sgdtheory.claims.running_averages import (
    RunningAverageInstance,
    default_instance,
    instance_from_config,
    simulate_running_averages,
)
from sgdtheory.cli import main
from sgdtheory.errors import ConfigError, SgdTheoryError
from sgdtheory.problems import LinearRegression
from sgdtheory.sampling import Sampler
from sgdtheory.simulate import _seed_sequence
from sgdtheory._kernels.rng import path_states
from sgdtheory.theory import running_averages as ra


def brute_force(form, N, x):
    """Run the recursion of ``form`` on the sequence x; return the estimate after each step."""
    beta = 1 - 1 / N
    m, a, out = 0.0, 0.0, []
    for t, xt in enumerate(x, start=1):
        m = beta * m + xt / N
        k = min(N, t)
        a = (1 - 1 / k) * a + xt / k
        out.append({"ema": m, "min_form": a, "adam": m / (1 - beta**t)}[form])
    return np.array(out)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(ra.FORMS), st.integers(2, 40), st.integers(1, 120), st.integers(0, 2**32 - 1))
def test_weights_reproduce_the_recursions(form, N, t, seed):
    x = np.random.default_rng(seed).standard_normal(t)
    assert ra.weights(form, N, t) @ x == pytest.approx(brute_force(form, N, x)[-1], rel=1e-10, abs=1e-12)


@given(st.integers(2, 500), st.integers(1, 2000))
def test_mean_factors(N, t):
    assert ra.mean_factor("ema", N, t) == pytest.approx(1 - (1 - 1 / N) ** t, rel=1e-12)
    assert ra.mean_factor("min_form", N, t) == pytest.approx(1.0, rel=1e-12)
    assert ra.mean_factor("adam", N, t) == pytest.approx(1.0, rel=1e-12)


def test_printed_weights_are_not_the_recursion():
    x = np.ones(30)
    assert ra.printed_weights(10, 30) @ x > 5 * brute_force("ema", 10, x)[-1]


def test_symbolic_facts():
    der = ra.derive()
    assert der.unrolled_matches_corrected and not der.printed_matches
    assert not der.printed_series_convergent
    assert der.min_form_unbiased
    assert float(der.small_t_limit) == 1.0
    N = [s for s in der.corrected_series.free_symbols][0]
    assert float(der.corrected_series.subs(N, 37)) == pytest.approx(37)


def test_kernel_matches_a_plain_python_twin():
    """The kernel's three estimates equal the recursions run on the same minibatch draws."""
    inst = default_instance()
    inst = RunningAverageInstance(inst.problem, inst.w, 1, 12, Sampler(3, "without_replacement"))
    steps = [1, 5, 12, 30]
    out = simulate_running_averages(inst, steps, 3, seed=11, seed_key=(7,))
    states = path_states(_seed_sequence(11, (7,)), 0, 3)
    n = inst.problem.n
    G = inst.problem.gradients(inst.w)[:, 1]
    for p in range(3):
        rng = Xoshiro(states[p])
        perm = list(range(n))
        x = []
        for _ in range(30):
            for j in range(3):
                k = j + rng.below(n - j)
                perm[j], perm[k] = perm[k], perm[j]
            x.append(G[perm[:3]].mean())
        for r, t in enumerate(steps):
            for j, form in enumerate(ra.FORMS):
                assert out[p, r, j] == pytest.approx(brute_force(form, 12, x[:t])[-1], rel=1e-12, abs=1e-14)


def test_bad_inputs_name_the_parameter():
    inst = default_instance()
    with pytest.raises(SgdTheoryError, match="N"):
        RunningAverageInstance(inst.problem, inst.w, 0, 1)
    with pytest.raises(SgdTheoryError, match="coordinate"):
        RunningAverageInstance(inst.problem, inst.w, 5, 100)
    with pytest.raises(SgdTheoryError, match="w:"):
        RunningAverageInstance(inst.problem, inst.problem.minimizer, 0, 100)  # E x = 0: no visible bias
    with pytest.raises(SgdTheoryError, match="batch_size"):
        RunningAverageInstance(inst.problem, inst.w, 0, 100, Sampler(50, "without_replacement"))
    with pytest.raises(ConfigError, match="experiment.lag"):
        instance_from_config({"problem": {"X": [[1.0], [2.0], [0.5]], "y": [1.0, 0.0, 2.0]}, "experiment": {"lag": 1}})
    with pytest.raises(ConfigError, match="problem"):
        instance_from_config({"experiment": {}})
    p = LinearRegression(np.array([[1.0], [2.0], [0.5]]), np.array([1.0, 0.0, 2.0]))
    with pytest.raises(SgdTheoryError, match="steps"):
        simulate_running_averages(RunningAverageInstance(p, [3.0], 0, 20), [0, 3], 4, 0, (1,))


@pytest.mark.parametrize("cid", ["D8", "E1", "E2"])
def test_user_config_from_the_command_line(cid, tmp_path):
    code = main(["verify", cid, "--quick", "--config", "experiments/configs/running_averages.toml",
                 "--out", str(tmp_path), "--no-progress", "--no-figures"])
    assert code == 0


def test_a_perturbed_theory_is_caught(monkeypatch, reuse_monte_carlo):
    """Adam's correction with beta^(t+1) instead of beta^t (an off-by-one) must be detected."""
    real = ra.mse

    def off_by_one(form, N, t, mu, sigma2):
        return real("ema", N, t, mu, sigma2) / (1 - (1 - 1 / N) ** (t + 1)) ** 2 if form == "adam" else real(form, N, t, mu, sigma2)

    monkeypatch.setattr(ra, "mse", off_by_one)
    c = REGISTRY["D8"]
    assert c.run(c.default_instance(), Settings(quick=True)).status != AS_EXPECTED


@pytest.mark.parametrize("N", [10, 100, 1000])
def test_near_times_are_planned_at_the_target_distance(N):
    """The planned steps of the near controls (D8: the small-t form, E1: the printed weights) are the smallest t at
    which they sit >= TARGET_HW full-mode planned half-widths away (no simulation), ~TARGET_HW/sqrt(8) in quick mode."""
    import dataclasses

    import sgdtheory.claims.running_averages as cl
    from sgdtheory.stats import DEFAULT_LEVEL

    inst = dataclasses.replace(cl.default_instance(), N=N)
    for gap in (cl._small_t_gap(N), cl._printed_gap(N)):
        t = cl.near_time(inst, gap, DEFAULT_LEVEL)

        def ratio(s, quick=False):
            return abs(inst.mu) * abs(gap(float(s))) / cl.planned_half_width(inst, s, DEFAULT_LEVEL, quick)

        if ratio(t) >= cl.TARGET_HW:
            assert t == 1 or ratio(t - 1) < cl.TARGET_HW
        assert ratio(t, quick=True) == pytest.approx(ratio(t) / np.sqrt(8), rel=1e-3)
