"""Every registered claim in quick mode reports its expected verdicts, negative controls included,
on the default instance and on a user instance from a config file."""

import dataclasses
import json
import math

import pytest

from sgdtheory.claims import REGISTRY, Settings
from sgdtheory.claims.base import AS_EXPECTED, AS_PRINTED, CLAIM, NEGATIVE_CONTROL
from sgdtheory.cli import main
from sgdtheory.stats import DEFAULT_LEVEL, REJECTED, VERIFIED

QUICK = Settings(quick=True)
USER_CONFIG = """
[problem]   # a linear regression, given as data
X = [[1.0, 0.2, 0.0], [0.3, 1.0, -0.5], [-0.7, 0.4, 1.0], [0.5, -1.2, 0.3], [1.1, 0.9, 0.4],
     [-0.2, -0.6, -1.3], [0.8, 0.1, 0.9], [-1.0, 0.7, 0.2]]
y = [1.0, -0.5, 0.7, 2.0, -1.2, 0.4, 0.3, -0.8]

[experiment]
batch_size = 2
sampling = "without_replacement"
"""


@pytest.fixture(scope="module")
def default_results(quick_claims):
    return quick_claims  # lazy: a claim runs when a test first reads it (under xdist, on the worker that needs it)


@pytest.mark.parametrize("cid", sorted(REGISTRY))
def test_claim_reports_expected_verdicts(default_results, cid):
    result = default_results[cid]
    bad = [(c.name, c.verdict, c.expected, str(c.estimate)) for c in result.checks if not c.as_expected]
    assert not bad, bad
    assert result.status == AS_EXPECTED


@pytest.mark.parametrize("cid", sorted(REGISTRY))
def test_claim_has_negative_controls_and_a_claim_check(default_results, cid):
    roles = [c.role for c in default_results[cid].checks]
    assert CLAIM in roles
    assert NEGATIVE_CONTROL in roles or AS_PRINTED in roles


@pytest.mark.parametrize("cid", sorted(REGISTRY))
def test_mutated_predictions_are_caught(default_results, cid):
    """Generic mutation test over the registry: every claim check's prediction moved by its detectable error (either
    sign) is rejected, and the main check's prediction moved by 5% is no longer verified."""
    result = default_results[cid]
    for c in result.checks:
        if c.role != CLAIM or c.bound:
            continue
        for sign in (-1.0, 1.0):
            step = c.detectable_abs * (1 + 1e-9) + 1e-12 * max(1.0, abs(c.prediction))
            assert dataclasses.replace(c, prediction=c.prediction + sign * step).verdict == REJECTED, c.name
    main_check = result.main_check
    assert main_check is not None and main_check.role == CLAIM
    assert main_check.prediction != 0, f"{cid}: the main check should have a nonzero prediction (5% mutation)"
    for factor in (0.95, 1.05):
        moved = dataclasses.replace(main_check, prediction=main_check.prediction * factor)
        assert moved.verdict != VERIFIED, (cid, main_check.name, main_check.detectable_error)


# Claims with no plausible wrong answer near enough yet (issue 13): D9's equal stationary errors (any rescaled step is
# >= 40 half-widths away at the 5% resolution) and D11's test error (the training-set class fraction sits 15 half-widths
# away; the 0.01 resolution keeps any control whose gap is > 0.1 beyond 10).  Strict: the test reports them until fixed.
NO_NEAR_CONTROL_YET = {"D9", "D11"}


@pytest.mark.parametrize("cid", [pytest.param(c, marks=pytest.mark.xfail(strict=True, reason="no near control yet"))
                                 if c in NO_NEAR_CONTROL_YET else c for c in sorted(REGISTRY)])
def test_a_near_control_shows_the_resolving_power(default_results, cid):
    """A claim measured by Monte Carlo has a negative control (or the printed form) within 10 half-widths of its
    estimate: the plausible wrong answer, not a straw man (quick mode; full mode is nearer still)."""
    checks = default_results[cid].checks
    if all(c.estimate.level >= 1.0 for c in checks if c.role == CLAIM):
        pytest.skip(f"{cid}: every claim check is exact (no sampling error to resolve)")
    dists = [c.distance_half_widths for c in checks
             if c.role in (NEGATIVE_CONTROL, AS_PRINTED) and c.estimate.level < 1.0]
    assert dists and min(dists) <= 10.0, (cid, sorted(dists)[:3])
    assert math.isfinite(min(dists))


def test_b4_meets_the_issue_resolution(default_results):
    """B4: the interval at the default level of dL/deta(0) has half-width < 5% of E|g|^2/4 and contains it."""
    check = default_results["B4"].checks[0]
    assert check.estimate.level == DEFAULT_LEVEL
    assert check.estimate.contains(check.prediction)
    assert check.estimate.half_width < 0.05 * check.prediction


def test_a_wrong_theory_is_caught(monkeypatch, reuse_monte_carlo):
    """The machinery is not vacuous: a 10% error in the predicted slope turns B4 UNEXPECTED."""
    from sgdtheory.claims import quadratic_basin as qb

    inst = qb.default_instance()
    true_slope = qb._symbolic_slope
    monkeypatch.setattr(qb, "_symbolic_slope", lambda i: (1.1 * true_slope(i)[0], "perturbed"))
    assert REGISTRY["B4"].run(inst, QUICK).status != AS_EXPECTED


@pytest.mark.parametrize("cid", ["A3", "A6", "B3", "B4", "B5", "E3", "E4", "E6", "E9"])
def test_user_instance_from_config(tmp_path, cid):
    cfg = tmp_path / "user.toml"
    cfg.write_text(USER_CONFIG)
    out = tmp_path / "out"
    code = main(["verify", cid, "--quick", "--config", str(cfg), "--out", str(out), "--no-progress", "--no-figures"])
    rec = json.loads((out / f"{cid}.json").read_text())
    assert rec["parameters"]["batch_size"] == 2 and rec["parameters"]["sampling"] == "without_replacement"
    assert rec["parameters"]["n"] == 8
    assert code == 0, [(c["name"], c["verdict"], c["expected"]) for c in rec["checks"]]


def test_cli_verify_writes_records_and_figures(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["verify", "B4", "--quick", "--out", str(out), "--no-progress"]) == 0
    rec = json.loads((out / "B4.json").read_text())
    assert rec["status"] == AS_EXPECTED and rec["settings"]["seed"] == 20261123
    assert rec["versions"]["numba"] and rec["checks"][0]["estimate"]["level"] == DEFAULT_LEVEL
    assert (out / "figures" / "fig_b4_quadratic_basin.png").stat().st_size > 10_000
    assert (out / "figures" / "fig_b4_quadratic_basin.pdf").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["all_as_expected"] and 0 < summary["familywise_false_failure_bound"] < 0.05
    text = capsys.readouterr().out
    assert "family-wise false-failure probability" in text and "B4" in text


def test_cli_list_derive_and_errors(tmp_path, capsys):
    assert main(["list"]) == 0
    listing = capsys.readouterr().out
    assert all(cid in listing for cid in REGISTRY)
    assert main(["derive", "B4"]) == 0
    text = capsys.readouterr().out
    assert "dL/dη at η = 0" in text
    assert main(["verify", "Z9", "--quick"]) == 2
    assert "claim 'Z9' is not implemented" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text("[problem]\ng = [[1.0]]\n")
    assert main(["verify", "B4", "--quick", "--config", str(bad)]) == 2
    assert "problem.H: required" in capsys.readouterr().err


def test_records_are_written_atomically(tmp_path, monkeypatch):
    """An interrupted write leaves the previous record intact and no temporary file behind."""
    import os

    from sgdtheory.results import atomic_write_text

    target = tmp_path / "B4.json"
    atomic_write_text(target, '{"old": true}\n')

    def boom(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_text(target, '{"new": true}\n')
    assert target.read_text() == '{"old": true}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["B4.json"]


def test_gradient_noise_claims_on_a_user_config(tmp_path):
    out = tmp_path / "out"
    code = main(["verify", "A1", "--quick", "--config", "experiments/configs/gradient_noise.toml",
                 "--out", str(out), "--no-progress", "--no-figures"])
    rec = json.loads((out / "A1.json").read_text())
    assert rec["parameters"]["batch_sizes"] == [1, 3, 7] and rec["parameters"]["n"] == 9
    assert code == 0, [(c["name"], c["verdict"], c["expected"]) for c in rec["checks"]]
    code = main(["verify", "A2", "--quick", "--config", "experiments/configs/one_dimensional.toml",
                 "--out", str(out), "--no-progress", "--no-figures"])
    rec = json.loads((out / "A2.json").read_text())
    assert rec["parameters"]["n"] == 7
    assert code == 0, [(c["name"], c["verdict"], c["expected"]) for c in rec["checks"]]


def test_gradient_noise_bad_inputs(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[problem]\nX = [[1.0], [2.0]]\ny = [1.0, 0.0]\n[experiment]\nbatch_sizes = [1, 5]\n")
    assert main(["verify", "A1", "--quick", "--config", str(bad)]) == 2
    bad.write_text("[problem]\nX = [[1.0], [2.0]]\ny = [1.0, 0.0]\n")
    assert main(["verify", "A2", "--quick", "--config", str(bad)]) == 2


def test_preconditioned_claim_on_a_user_config(tmp_path):
    out = tmp_path / "out"
    code = main(["verify", "A4", "--quick", "--config", "experiments/configs/preconditioned.toml",
                 "--out", str(out), "--no-progress", "--no-figures"])
    rec = json.loads((out / "A4.json").read_text())
    assert rec["parameters"]["F_pd"] == [[0.8, 0.4], [-0.3, 1.2]]
    assert code == 0, [(c["name"], c["verdict"], c["expected"]) for c in rec["checks"]]


def test_reused_monte_carlo_is_the_fresh_run(quick_claims, monkeypatch):
    """The perturbed-theory tests re-run claims inside ``conftest.reusing_monte_carlo``: B2 with the sign of the
    probability current flipped gives, with the session's simulations reused, exactly the checks of a fresh run,
    and is caught."""
    import json

    import conftest

    import sgdtheory.theory.lyapunov as th

    quick_claims["B2"]  # the unperturbed run, recorded
    true = th.angular_momentum
    monkeypatch.setattr(th, "angular_momentum", lambda S, H, eta: -true(S, H, eta))
    inst = quick_claims.instance("B2")
    fresh = REGISTRY["B2"].run(inst, QUICK)
    hits = conftest._MC_HITS[0]
    with conftest.reusing_monte_carlo():
        reused = REGISTRY["B2"].run(inst, QUICK)
    assert conftest._MC_HITS[0] > hits  # the simulations did come from the memo
    dump = [json.dumps([c.to_dict() for c in r.checks], sort_keys=True, default=str) for r in (fresh, reused)]
    assert dump[0] == dump[1]
    assert reused.status != AS_EXPECTED
