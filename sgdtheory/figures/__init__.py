"""Figures: one function per claim, drawing a ``ClaimResult`` and saving PNG and PDF.

Every figure uses the package style (``sgdtheory.mplstyle``: greyscale-safe colours *and* line
styles, labelled axes) and draws every interval it reports.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import numpy as np

STYLE = Path(__file__).resolve().parent.parent / "sgdtheory.mplstyle"

# The size a figure is printed at in paper/main.tex (letter paper, 2.2 cm margins): \linewidth wide and at most
# FIGURE_HEIGHT_FRACTION of \textheight high.  Figures are drawn at most MAX_WIDTH inches wide so that their
# 9 pt text prints at no less than about 8 pt; sgdtheory/paper.py uses the same fraction.
PRINT_WIDTH = 6.77
TEXT_HEIGHT = 9.27
FIGURE_HEIGHT_FRACTION = 0.8
PRINT_HEIGHT = FIGURE_HEIGHT_FRACTION * TEXT_HEIGHT
MAX_WIDTH = PRINT_WIDTH  # printed 1:1, so the sizes set in the style are the printed sizes
MIN_ROW_HEIGHT = 2.0
MAX_PANEL_ASPECT = 0.62  # panel height / width after rescaling
MAX_SINGLE_WIDTH = 3.5  # a one-panel figure is drawn at most this wide (its text stays at the style's size)

# Layout problems of every figure saved by this process, by file stem (figures.layout.problems at print size).
LAYOUT_PROBLEMS: dict[str, list[str]] = {}


@contextmanager
def styled():
    """Matplotlib (Agg backend) with the package style applied."""
    import logging

    import matplotlib

    # fontTools, subsetting the fonts embedded in the PDFs, warns about the creation date in the head table of the
    # DejaVu fonts matplotlib ships ("'created' timestamp seems very low"): nothing a user can act on
    logging.getLogger("fontTools.ttLib.tables._h_e_a_d").setLevel(logging.ERROR)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with plt.style.context(str(STYLE)):
        yield plt


def run_level(result) -> float:
    """The confidence level of a result's Monte Carlo intervals (the run's ``--level``)."""
    levels = [c.estimate.level for c in result.checks if c.estimate.level < 1.0]
    return max(levels) if levels else 0.9999


def ci_label(result) -> str:
    """'99.99% CI' for a result run at level 0.9999: the legend text of its error bars."""
    return f"{100 * run_level(result):.10g}% CI"


def z_value(result) -> float:
    """Two-sided normal quantile of the run's level (error bar = z * standard error)."""
    from scipy.stats import norm

    return float(norm.ppf(0.5 + run_level(result) / 2))


def save(fig, outdir, stem: str) -> list[str]:
    """Save ``fig`` as ``stem.png`` and ``stem.pdf`` in ``outdir`` atomically; return the paths."""
    from .layout import declutter, place_legends, problems

    import matplotlib as mpl

    declutter(fig)  # its last draw shows the final state: the layout is computed once, here, and then frozen
    place_legends(fig)  # legends inside a panel go where they hide the least data (no redraw needed)
    # the layout check reads the boxes of that draw (no redraw)
    LAYOUT_PROBLEMS[stem] = problems(fig, printed_width=PRINT_WIDTH, printed_height=PRINT_HEIGHT, draw=False)
    # Both files get exactly the layout just checked: the layout engine is switched off and the tight box is
    # given, so savefig does not lay the figure out again (a dry-run draw per file, ~40% of the saving time).
    bbox = fig.get_tightbbox(fig.canvas.get_renderer()).padded(mpl.rcParams["savefig.pad_inches"])
    fig.set_layout_engine("none")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    paths = []
    from ..results import commit_temp_file, discard_temp_file, temp_file

    for ext in ("png", "pdf"):
        final = outdir / f"{stem}.{ext}"
        tmp = temp_file(final)  # .<stem>.<ext>.<pid>.<token>.tmp: removed on Ctrl-C, and by the next run if killed
        try:
            fig.savefig(tmp, format=ext, bbox_inches=bbox)
            commit_temp_file(tmp, final)
        except BaseException:
            discard_temp_file(tmp)
            raise
        paths.append(str(final))
    return paths


def legend_below(ax, gap: float = 0.45, **kw):
    """A legend centred under ``ax``, ``gap`` inches below the bottom of its plotting area (below the tick
    labels and the x label whatever the panel's height); constrained layout makes room for it."""
    from matplotlib.transforms import ScaledTranslation

    kw.setdefault("loc", "upper center")
    transform = ax.transAxes + ScaledTranslation(0.0, -gap, ax.figure.dpi_scale_trans)
    return ax.legend(bbox_to_anchor=(0.5, 0.0), bbox_transform=transform, **kw)


def grid(n: int) -> tuple[int, int]:
    """Rows and columns for ``n`` panels: one row up to two, then two rows (three panels: the third spans the
    second row)."""
    return (1, n) if n <= 2 else (2, -(-n // 2))


def print_size(n: int, figsize, row_height: float | None = None) -> tuple[float, float]:
    """The figure size for ``n`` panels laid out by ``grid(n)``, from a requested one-row ``figsize``.

    Each panel keeps its requested width; the whole is scaled to at most MAX_WIDTH inches, and each row is
    between MIN_ROW_HEIGHT and MAX_PANEL_ASPECT panel widths high (or ``row_height`` inches, for dense panels).
    """
    rows, cols = grid(n)
    panel_w, panel_h = figsize[0] / n, figsize[1]
    s = min(1.0, MAX_WIDTH / (cols * panel_w))
    if n == 1:
        s = min(1.0, MAX_SINGLE_WIDTH / panel_w)
        return panel_w * s, panel_h * s
    row_h = row_height or max(MIN_ROW_HEIGHT, min(panel_h * s, MAX_PANEL_ASPECT * panel_w * s))
    return cols * panel_w * s, rows * row_h


# A figure saved as ``<stem>_more`` holds the secondary panels of ``<stem>``: the paper prints it in the appendix
APPENDIX_SUFFIX = "_more"


@contextmanager
def new_figure(outdir, stem: str, ncols: int = 1, figsize=(4.4, 3.3), row_height: float | None = None,
               appendix_panels: int = 0, appendix_row_height: float | None = None):
    """``with new_figure(outdir, stem) as (fig, ax, paths): ...`` draws, then saves PNG + PDF.

    ``ncols`` panels are laid out by ``grid`` (``ax`` is then a flat array of them; with an odd count the last
    panel spans the rest of its row) at ``print_size`` with matplotlib's constrained layout, so labels of neighbouring panels do not
    collide.  ``paths`` is filled with the two saved paths when the block ends; the figure is closed.

    With ``appendix_panels`` = k the last k panels are drawn in a second figure, saved as
    ``<stem>_more`` (APPENDIX_SUFFIX; the paper prints it in the appendix): ``ax`` still holds all ``ncols``
    panels in order, each figure is laid out by ``grid`` for its own count with the panels' requested widths
    (a single moved panel keeps the row it had in the whole figure), and ``fig`` is the first one;
    ``appendix_row_height`` (default ``row_height``) is the second one's row height.
    """
    if not 0 <= appendix_panels < ncols:
        raise ValueError(f"appendix_panels = {appendix_panels}: must be in [0, ncols = {ncols})")
    parts = [(stem, ncols - appendix_panels, row_height)]
    if appendix_panels:
        parts.append((stem + APPENDIX_SUFFIX, appendix_panels, appendix_row_height or row_height))
    with styled() as plt:
        figs, axes = [], []
        for k, (_, n, rh) in enumerate(parts):
            rows, cols = grid(n)
            size = print_size(n, (figsize[0] * n / ncols, figsize[1]), rh)
            if k and n == 1:  # one panel moved out keeps the size it had in the whole figure: a row of it
                w_all, h_all = print_size(ncols, figsize, row_height)
                size = (w_all, rh or h_all / grid(ncols)[0])
            fig = plt.figure(figsize=size, layout="constrained")
            gs = fig.add_gridspec(rows, cols)
            cells = [gs[i // cols, i % cols] for i in range(n)]
            if n % cols:  # an odd count: the last panel spans what is left of its row
                cells[-1] = gs[rows - 1, (n - 1) % cols:]
            axes += [fig.add_subplot(c) for c in cells]
            figs.append(fig)
        ax = np.array(axes, dtype=object)
        if ncols == 1:
            ax = ax[0]
        paths: list[str] = []
        try:
            yield figs[0], ax, paths
            for fig, (name, _, _) in zip(figs, parts):
                paths.extend(save(fig, outdir, name))
        finally:
            for fig in figs:
                plt.close(fig)
