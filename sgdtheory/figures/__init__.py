"""Figures: one function per claim, drawing a ``ClaimResult`` and saving PNG and PDF.

Every figure uses the package style (``sgdtheory.mplstyle``: greyscale-safe colours *and* line
styles, labelled axes) and draws every interval it reports.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

STYLE = Path(__file__).resolve().parent.parent / "sgdtheory.mplstyle"


@contextmanager
def styled():
    """Matplotlib (Agg backend) with the package style applied."""
    import matplotlib

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
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    paths = []
    from ..results import commit_temp_file, discard_temp_file, temp_file

    for ext in ("png", "pdf"):
        final = outdir / f"{stem}.{ext}"
        tmp = temp_file(final)  # .<stem>.<ext>.<pid>.<token>.tmp: removed on Ctrl-C, and by the next run if killed
        try:
            fig.savefig(tmp, format=ext)
            commit_temp_file(tmp, final)
        except BaseException:
            discard_temp_file(tmp)
            raise
        paths.append(str(final))
    return paths


@contextmanager
def new_figure(outdir, stem: str, ncols: int = 1, figsize=(4.4, 3.3)):
    """``with new_figure(outdir, stem) as (fig, ax, paths): ...`` draws, then saves PNG + PDF.

    ``paths`` is filled with the two saved paths when the block ends; the figure is closed.
    """
    with styled() as plt:
        fig, ax = plt.subplots(1, ncols, figsize=figsize)
        paths: list[str] = []
        try:
            yield fig, ax, paths
            paths.extend(save(fig, outdir, stem))
        finally:
            plt.close(fig)
