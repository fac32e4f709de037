"""A researcher's own derivation (sgdtheory.derivations): the template runs and verifies as written, the worked
examples in experiments/derivations/ come out as stated (the deliberately wrong one rejected), controls are posed
from theory before measuring, plugins are discovered through the entry-point group, and bad claims are refused."""

import json
from pathlib import Path

import pytest
import sympy as sp

from sgdtheory import Derivation, Measure
from sgdtheory.claims import Settings
from sgdtheory.claims.base import AS_EXPECTED, CLAIM, NEGATIVE_CONTROL, UNEXPECTED
from sgdtheory.cli import main
from sgdtheory.derivations import ENTRY_POINT_GROUP, load_path
from sgdtheory.errors import SgdTheoryError
from sgdtheory.problems import GaussianNoiseQuadratic
from sgdtheory.stats import REJECTED, VERIFIED

EXAMPLES = Path(__file__).resolve().parents[1] / "experiments" / "derivations"
QUICK = Settings(quick=True)
eta, h, s2 = sp.symbols("eta h sigma2", positive=True)


def _claim(prediction, **kw):
    return Derivation(id="T1", title="test", prediction=prediction,
                      measure=Measure(problem=lambda p: GaussianNoiseQuadratic([[p["h"]]], [[p["sigma2"]]]),
                                      steps=3000, burn_in=500),
                      grid=kw.pop("grid", {"eta": [0.1, 0.2, 0.4], "h": 1.0, "sigma2": 1.0}), **kw)


@pytest.fixture(scope="module")
def example_results():
    out = {}
    for c in load_path(EXAMPLES):
        out[c.id] = c.run(c.default_instance(), QUICK)
    return out


def test_worked_examples_behave_as_stated(example_results):
    assert set(example_results) == {"HB-exact", "HB-first-order", "SGD-transient", "RMSProp-sqrt-B", "HB-wrong"}
    for cid, res in example_results.items():
        if cid == "HB-wrong":
            assert res.status == UNEXPECTED
            assert all(c.verdict == REJECTED for c in res.checks if c.role == CLAIM)
        else:
            bad = [(c.name, c.verdict, c.expected) for c in res.checks if not c.as_expected]
            assert res.status == AS_EXPECTED, bad


def test_automatic_controls_are_posed_and_near(example_results):
    res = example_results["HB-exact"]
    names = [c.name for c in res.checks if c.role == NEGATIVE_CONTROL]
    assert any("coefficient off by 5%" in n for n in names)
    assert any("continuous-time limit" in n for n in names)
    assert any("exponent off by +1" in n for n in names)
    near = min(c.distance_half_widths for c in res.checks if c.role == NEGATIVE_CONTROL)
    assert 2.0 <= near <= 10.0
    assert all("planned" in row["plan"] or "budget" in row["plan"] for row in res.data["rows"])


def test_a_five_percent_error_in_the_prediction_is_caught():
    true = eta * s2 / (2 * (2 - eta * h))
    assert _claim(true).to_claim().run(_claim(true).grid, QUICK).status == AS_EXPECTED
    for factor in (0.95, 1.05):
        res = _claim(factor * true).to_claim().run(_claim(true).grid, QUICK)
        assert res.status == UNEXPECTED
        assert res.main_check.verdict != VERIFIED


def test_new_writes_a_template_that_verifies(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["new", "my_claim"]) == 0
    text = (tmp_path / "my_claim.py").read_text()
    assert "Derivation(" in text and "Measure(" in text
    code = [ln for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    assert len(code) <= 45
    assert main(["new", "my_claim"]) == 2  # no silent overwrite
    out = tmp_path / "out"
    assert main(["verify", "my_claim.py", "--quick", "--no-progress", "--out", str(out)]) == 0
    rec = json.loads((out / "my_claim.json").read_text())
    assert rec["status"] == AS_EXPECTED and rec["main_check"]
    assert (out / "figures" / "fig_my_claim.png").stat().st_size > 5000
    assert main(["verify", str(EXAMPLES / "heavy_ball_wrong.py"), "--quick", "--no-progress", "--no-figures",
                 "--out", str(out)]) == 1


def test_plugins_from_the_entry_point_group(tmp_path, monkeypatch, capsys):
    import importlib.metadata as md
    import sys

    pkg = tmp_path / "lab_claims.py"
    pkg.write_text((EXAMPLES / "heavy_ball_stationary.py").read_text().replace('id="HB-exact"', 'id="LAB1"'))
    monkeypatch.syspath_prepend(str(tmp_path))
    ep = md.EntryPoint(name="lab", value="lab_claims:CLAIM", group=ENTRY_POINT_GROUP)

    def fake_entry_points(**kw):
        return md.EntryPoints([ep]) if kw.get("group") == ENTRY_POINT_GROUP else md.EntryPoints([])

    monkeypatch.setattr(md, "entry_points", fake_entry_points)
    assert main(["list"]) == 0
    assert "LAB1" in capsys.readouterr().out
    from sgdtheory.runner import select

    assert [c.id for c in select(["LAB1"])] == ["LAB1"]
    sys.modules.pop("lab_claims", None)


@pytest.mark.parametrize("kwargs, field", [
    ({"prediction": eta * sp.Symbol("zeta")}, "zeta"),
    ({"prediction": eta, "resolution": 0.0}, "resolution"),
    ({"prediction": eta, "resolution": True}, "resolution"),
    ({"prediction": eta, "order": 0}, "order"),
    ({"prediction": eta, "order": 1, "grid": {"eta": [0.1, 0.2], "h": 1.0, "sigma2": 1.0}}, "grid.eta"),
    ({"prediction": eta, "grid": {"eta": [0.1, 0.1], "h": 1.0, "sigma2": 1.0}}, "grid.eta"),
    ({"prediction": eta, "grid": {"eta": [0.1, True], "h": 1.0, "sigma2": 1.0}}, "grid.eta"),
    ({"prediction": eta, "grid": {"eta": [0.1, float("nan")], "h": 1.0, "sigma2": 1.0}}, "grid.eta"),
])
def test_bad_derivations_are_refused(kwargs, field):
    with pytest.raises(SgdTheoryError, match=field.replace(".", r"\.")):
        _claim(**kwargs)


def test_bad_ids_files_and_measures(tmp_path):
    with pytest.raises(SgdTheoryError, match="id"):
        Derivation(id="1bad", title="t", prediction=eta, measure=Measure(problem=lambda p: None), grid={"eta": 0.1})
    with pytest.raises(SgdTheoryError, match="measure.problem"):
        Measure()
    with pytest.raises(SgdTheoryError, match="measure.at"):
        Measure(problem=lambda p: None, at="end")
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    assert main(["verify", str(empty), "--quick"]) == 2
    with pytest.raises(SgdTheoryError, match="defines no Derivation"):
        load_path(empty)


def test_the_rate_check_is_posed_from_the_predictions_not_the_data():
    """A measured value <= 0 makes the rate fit impossible: the check is still made, and is inconclusive."""
    from sgdtheory.derivations import _rate_checks
    from sgdtheory.stats import INCONCLUSIVE, Estimate

    d = _claim(eta * s2 / (2 * (2 - eta * h)))
    pts = d.points()
    ests = [Estimate(v, v - 0.1, v + 0.1, 0.9999, "t", 100) for v in (0.05, -0.01, 0.2)]
    checks = _rate_checks(d, pts, ests, [0.05, 0.1, 0.2], QUICK)
    assert [c.role for c in checks] == [CLAIM, NEGATIVE_CONTROL, NEGATIVE_CONTROL]
    assert checks[0].verdict == INCONCLUSIVE


# -- features the catalogue's ported claims use (B6, C1, D3): cheap, with a numpy statistic instead of the engine --


def _noisy(mean_of, rel_sd=0.01):
    import numpy as np

    return lambda p, n, seed_seq: mean_of(p) * (1 + rel_sd * np.random.default_rng(seed_seq).standard_normal(n))


class _Inst:
    """A researcher's own instance object."""

    scale = 100.0

    def describe(self):
        return {"scale": self.scale}


def test_explicit_points_approximations_and_extra_data():
    from sgdtheory.claims.base import ADEQUATE, APPROXIMATION

    d = Derivation(id="T2", title="points", prediction=lambda p: p["instance"].scale * p["a"],
                   measure=Measure(statistic=_noisy(lambda p: p["instance"].scale * p["a"])),
                   grid=lambda inst: [{"a": 1.0, "b": 0.0}, {"a": 2.0, "b": 0.5}], instance=_Inst,
                   approximations={"far": lambda p: 0.5 * p["instance"].scale * p["a"],
                                   "near": lambda p: p["instance"].scale * p["a"] * (1 + 1e-9)},
                   extra_checks=lambda inst, settings: ([], {"extra": inst.scale}))
    res = d.to_claim().run(_Inst(), QUICK)  # the instance object itself, on its own grid
    assert res.status == AS_EXPECTED, [(c.name, c.verdict) for c in res.checks if not c.as_expected]
    by = {c.name: c for c in res.checks}
    assert by["control: far at a=1, b=0"].role == NEGATIVE_CONTROL  # far beyond 3 planned half-widths
    near = by["approximation: near at a=2, b=0.5"]
    assert near.role == APPROXIMATION and near.expect == ADEQUATE
    assert res.data["extra"] == 100.0 and res.parameters["scale"] == 100.0
    assert [r["params"] for r in res.data["rows"]] == [{"a": 1.0, "b": 0.0}, {"a": 2.0, "b": 0.5}]
    assert "approximation (role fixed by the plan): near" in d.to_claim().derive(_Inst())


@pytest.mark.parametrize("grid, match", [([{"a": 1.0}, {"b": 2.0}], r"grid\[1\]"), ([{"a": 1.0}, {"a": 1.0}], "duplicate"),
                                         ([{"a": "x"}], r"grid\[0\]\.a"), ([], "non-empty")])
def test_bad_point_grids_are_refused(grid, match):
    import numpy as np

    with pytest.raises(SgdTheoryError, match=match):
        Derivation(id="T3", title="t", prediction=lambda p: 1.0, grid=grid,
                   measure=Measure(statistic=lambda p, n, s: np.ones(n)))


def test_approximations_need_an_exact_prediction():
    with pytest.raises(SgdTheoryError, match="approximations"):
        _claim(eta * s2 / 4, order=1, approximations={"x": eta})
