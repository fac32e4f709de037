"""The figure layout check (sgdtheory/figures/layout.py): it must see the overlaps matplotlib can detect --
labels running into a neighbouring panel, colliding texts, overlapping panels, legends over data, text too
small in print -- and pass a clean figure.  Also: the grid and print size of ``figures.new_figure``, and two
claims' real figures (quick mode) drawn without a layout problem."""

from pathlib import Path

import numpy as np
import pytest

from sgdtheory import figures
from sgdtheory.figures import layout


@pytest.fixture()
def plt():
    with figures.styled() as p:
        yield p
        p.close("all")


def _clean(plt):
    fig, axes = plt.subplots(1, 2, figsize=(7.0, 2.6), layout="constrained")
    x = np.linspace(0.0, 1.0, 50)
    for ax in axes:
        ax.plot(x, x**2, label="data")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.legend(loc="upper left")
    return fig


def test_a_clean_figure_has_no_problems(plt):
    assert layout.problems(_clean(plt), printed_width=6.77, printed_height=5.5) == []


def test_a_long_label_running_into_the_next_panel_is_found(plt):
    fig, axes = plt.subplots(1, 2, figsize=(5.0, 2.5))  # no layout engine
    fig.subplots_adjust(wspace=0.05)
    axes[1].set_ylabel("a long y label that needs space", fontsize=14)
    axes[0].set_title("a very long title that runs over into the second panel of the figure")
    found = layout.problems(fig)
    assert any("runs into another panel" in p and "long y label" in p for p in found), found
    assert any("text overlaps text" in p and "very long title" in p for p in found), found


def test_colliding_texts_and_panels_are_found(plt):
    fig = plt.figure(figsize=(4.0, 3.0))
    a = fig.add_axes([0.1, 0.1, 0.5, 0.5])
    fig.add_axes([0.4, 0.4, 0.5, 0.5])
    a.text(0.5, 0.5, "first label", transform=a.transAxes)
    a.text(0.52, 0.5, "second label", transform=a.transAxes)
    found = layout.problems(fig)
    assert any(p.startswith("panels overlap") for p in found), found
    assert any("text overlaps text" in p and "first label" in p and "second label" in p for p in found), found


def test_an_inset_is_not_an_overlap(plt):
    fig, ax = plt.subplots(figsize=(4.0, 3.0), layout="constrained")
    ax.plot([0, 1], [0, 1])
    inner = fig.add_axes([0.6, 0.25, 0.25, 0.25])
    inner.plot([0, 1], [1, 0])
    assert not any(p.startswith("panels overlap") for p in layout.problems(fig, legend_data=False))


def test_a_legend_over_data_and_small_print_are_found(plt):
    fig, ax = plt.subplots(figsize=(12.0, 3.0))
    x = np.linspace(0.0, 1.0, 200)
    ax.plot(x, np.full_like(x, 0.95), label="a line under the legend")
    ax.plot(x, x, label="another")
    ax.set_ylim(0, 1)
    ax.legend(loc="upper right", fontsize=7)
    found = layout.problems(fig, printed_width=6.77)
    assert any(p.startswith("legend hides data") for p in found), found
    assert any(p.startswith("text too small in print") for p in found), found


def test_new_figure_grid_and_print_size():
    assert figures.grid(1) == (1, 1) and figures.grid(3) == (2, 2) and figures.grid(4) == (2, 2)
    w, h = figures.print_size(4, (17.0, 4.2))
    assert w <= figures.MAX_WIDTH + 1e-12 and h <= figures.PRINT_HEIGHT
    assert figures.print_size(1, (3.4, 2.6)) == (3.4, 2.6)
    w, h = figures.print_size(1, (8.0, 3.0))
    assert w == figures.MAX_SINGLE_WIDTH and abs(h / w - 3.0 / 8.0) < 1e-12


def test_new_figure_records_layout_problems(tmp_path):
    with figures.new_figure(tmp_path, "demo", ncols=4, figsize=(17.0, 4.2)) as (fig, axes, paths):
        assert len(axes) == 4
        for ax in axes:
            ax.plot([1, 2, 3], [3, 1, 2], label="a")
            ax.set_xlabel("a label of some length")
            ax.set_ylabel("another label of some length")
            ax.set_title("a title for the panel")
    assert figures.LAYOUT_PROBLEMS["demo"] == []
    assert sorted(p.rsplit(".", 1)[1] for p in paths) == ["pdf", "png"]


def test_new_figure_moves_the_last_panels_to_an_appendix_figure(tmp_path):
    stem_more = "demo" + figures.APPENDIX_SUFFIX
    with figures.new_figure(tmp_path, "demo", ncols=4, figsize=(17.0, 4.2), row_height=3.0, appendix_panels=1,
                            appendix_row_height=2.5) as (fig, axes, paths):
        assert len(axes) == 4 and {ax.figure for ax in axes[:3]} == {fig} and axes[3].figure is not fig
        for ax in axes:
            ax.plot([1, 2, 3], [3, 1, 2])
    names = sorted(f"{s}.{e}" for s in ("demo", stem_more) for e in ("pdf", "png"))
    assert sorted(Path(p).name for p in paths) == names
    assert figures.LAYOUT_PROBLEMS["demo"] == [] and figures.LAYOUT_PROBLEMS[stem_more] == []
    assert abs(axes[0].figure.get_size_inches()[1] - 2 * 3.0) < 1e-9  # three panels: two rows of row_height
    w_all, _ = figures.print_size(4, (17.0, 4.2), 3.0)
    assert np.allclose(axes[3].figure.get_size_inches(), (w_all, 2.5))  # one panel moved: a row of the whole
    with pytest.raises(ValueError, match="appendix_panels = 2"):
        with figures.new_figure(tmp_path, "bad", ncols=2, appendix_panels=2):
            pass


@pytest.mark.parametrize("claim_id", ["A2", "C2"])
def test_quick_claim_figures_have_no_layout_problems(claim_id, tmp_path, quick_claims):
    from sgdtheory.claims import REGISTRY

    claim = REGISTRY[claim_id]
    result = quick_claims[claim_id]
    figures.LAYOUT_PROBLEMS.clear()
    paths = claim.figure(result, tmp_path)
    assert paths
    for stem, found in figures.LAYOUT_PROBLEMS.items():
        assert found == [], (stem, found)  # legends included: place_legends moves them off the data


def test_declutter_thins_numbers_and_rotates_categories(plt):
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(4.0, 2.0), layout="constrained")
    ax.plot(np.arange(30), np.arange(30))
    ax.set_xticks(np.arange(30))
    bx.bar(range(4), [1, 2, 3, 4])
    bx.set_xticks(range(4), ["a long category", "another long one", "and a third", "fourth label"])
    assert any("text overlaps text" in p for p in layout.problems(fig, legend_data=False))
    assert layout.declutter(fig) == 2
    assert not any("text overlaps text" in p for p in layout.problems(fig, legend_data=False))
    assert bx.get_xticklabels()[0].get_rotation() in (30, 60, 90)
    assert sum(lab.get_visible() for lab in ax.get_xticklabels()) < 30


def test_a_squeezed_panel_is_found(plt):
    fig = plt.figure(figsize=(4.0, 2.5))
    fig.add_axes([0.1, 0.15, 0.05, 0.7]).plot([0, 1], [0, 1])  # 0.2 in wide, as a layout engine leaves it
    fig.add_axes([0.45, 0.15, 0.5, 0.7]).plot([0, 1], [1, 0])
    found = layout.problems(fig, legend_data=False)
    assert any(p.startswith("panel collapsed: panel 1") for p in found), found
    assert not any("panel 2 is" in p for p in found)


def test_place_legends_moves_a_legend_off_the_data(plt):
    """A legend put on the data in the upper right goes to an empty corner; problems() no longer finds it."""
    fig, ax = plt.subplots(figsize=(4.0, 3.0), layout="constrained")
    x = np.linspace(0.0, 1.0, 200)
    ax.plot(x, 1.0 - 0.9 * x**4, label="high until the right edge")
    ax.plot(x, 0.9 - 0.5 * x, label="a second line")
    ax.set_ylim(0, 1.05)
    ax.legend(loc="upper right")
    layout.declutter(fig)
    assert any(p.startswith("legend hides data") for p in layout.problems(fig, draw=False))
    assert layout.place_legends(fig) == 1
    assert ax.get_legend()._loc == 3  # lower left: the first location free of data in LEGEND_LOCATIONS order
    assert not any(p.startswith("legend hides data") for p in layout.problems(fig))


def test_place_legends_keeps_a_clean_legend_and_one_outside_the_panel(plt):
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(7.0, 3.0), layout="constrained")
    x = np.linspace(0.0, 1.0, 50)
    ax.plot(x, x**2, label="data")
    ax.legend(loc="upper left")  # covers nothing: the author's location stays
    bx.plot(x, np.full_like(x, 0.5), label="a flat line")
    figures.legend_below(bx)  # outside the plotting area: left alone
    layout.declutter(fig)
    assert layout.place_legends(fig) == 0
    assert ax.get_legend()._loc == 2


def test_bars_are_data_and_reference_lines_are_not(plt):
    fig, ax = plt.subplots(figsize=(4.0, 3.0))
    ax.bar([0, 1, 2], [3.0, 4.0, 5.0])
    ax.axhline(4.5)
    ax.axvline(1.0)
    ax.plot([0.0, 2.0], [1.0, 2.0])
    fig.canvas.draw()
    assert layout._data_points(ax).shape == (3 * 5 + 2, 2)  # three bars' corners (closed paths) and the line
