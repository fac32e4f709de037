"""Figures of claims A1 and A2 (minibatch gradient noise)."""

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


def figure_a2(result, outdir) -> list[str]:
    """Var g_B at the optimum against B (log-log): Monte Carlo, Var(y)/B and the controls."""
    d = result.data
    B = np.array(d["B"], dtype=float)
    with new_figure(outdir, "fig_a2_gradient_at_optimum") as (fig, ax, paths):
        ax.plot(B, d["var_y"] / B, color="C0", label=r"$\mathrm{Var}(y)/B$ (claim)")
        ax.plot(B, np.full_like(B, d["var_y"]), color="C3", label=r"$\mathrm{Var}(y)$ (control)")
        ax.errorbar(B, d["mc"], yerr=d["mc_halfwidth"], fmt="o", color="C5", mfc="white", label=f"Monte Carlo ({ci_label(result)})")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xticks(B, [f"{b:g}" for b in B])
        ax.set_xlabel("batch size $B$ (with replacement)")
        ax.set_ylabel(r"$E\,\hat g_B^2$ at $\beta^* = E\,y$")
        ax.set_title(r"A2: the batch gradient at the optimum is not 0")
        ax.legend()
    return paths


FIGURES = {"A1": figure_a1, "A2": figure_a2}
