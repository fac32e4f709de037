"""Figure of claim A1 (minibatch gradient noise; A2 draws its figure through sgdtheory.derivations)."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import NullFormatter

from . import ci_label, new_figure


def figure_a1(result, outdir) -> list[str]:
    """tr Cov g_B against B for both schemes: Monte Carlo (CI at the run's level), c_B tr Sigma, and tr Sigma / B."""
    d = result.data
    B = np.array(d["B"])
    n = d["n"]
    bb = np.linspace(1, n, 200)
    with new_figure(outdir, "fig_a1_minibatch_covariance") as (fig, ax, paths):
        ax.plot(bb, d["tr_sigma"] / bb, color="C0", label=r"$\mathrm{tr}\,\Sigma/B$ (with replacement)")
        ax.plot(bb, d["tr_sigma"] * (n - bb) / (bb * (n - 1)), color="C1",
                label=r"$\mathrm{tr}\,\Sigma\,(n-B)/(B(n-1))$ (without)")
        for scheme, c, m in (("with_replacement", "C0", "o"), ("without_replacement", "C1", "s")):
            ax.errorbar(B, d[scheme]["mc"], yerr=d[scheme]["mc_halfwidth"], fmt=m, color=c, mfc="white",
                        label=f"Monte Carlo, {scheme.replace('_', ' ')} ({ci_label(result)})")
        ax.set_xlabel("batch size $B$")
        ax.set_ylabel(r"$\mathrm{tr}\,\mathrm{Cov}\,\hat g_B$")
        ax.set_title(f"A1: minibatch gradient covariance (n = {n})")
        ax.legend()
    return paths


FIGURES = {"A1": figure_a1}
