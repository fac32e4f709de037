"""Figures of claim B6 (the Langevin increment) and erratum E5 (seed 003, slides "Langevin Dynamics" and
"Langevin Dynamics (Without Annealing)")."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import NullFormatter

from . import ci_label, new_figure


def _errorbar(ax, x, rows, **kw):
    rows = np.asarray(rows)
    ax.errorbar(x, rows[:, 0], yerr=[rows[:, 0] - rows[:, 1], rows[:, 2] - rows[:, 0]], mfc="white", **kw)


def figure_b6(result, outdir) -> list[str]:
    """tr Cov of SGD's displacement over dt = k eta against eta (log-log): Monte Carlo, the exact moment recursion,
    the Langevin eta tr V(dt), the frozen-gradient increment eta dt tr Sigma and the printed dt eta^2 tr Sigma."""
    d = result.data
    eta = np.array(d["etas"])
    ee = np.geomspace(eta.min() / 1.3, eta.max() * 1.3, 100)
    dt, trs, trV = d["dt"], d["tr_sigma_b"], d["trV"]
    with new_figure(outdir, "fig_b6_langevin_increment", figsize=(5.0, 3.6)) as (fig, ax, paths):
        ax.plot(ee, ee * dt * trs, color="C0", label=r"frozen $g$: $\eta\,\Delta t\,\mathrm{tr}\,\Sigma$ (slope 1)")
        ax.plot(ee, ee**2 * dt * trs, color="C3", ls="--", label=r"as printed: $\Delta t\,\eta^2\,\mathrm{tr}\,\Sigma$ (slope 2)")
        ax.plot(eta, d["exact_sgd"], color="C2", marker="x", ls="-", label="SGD, exact (moment recursion)")
        ax.plot(ee, ee * trV, color="C2", ls=":", label=r"SGD, Langevin $\eta\,\mathrm{tr}\,V(\Delta t)$")
        _errorbar(ax, eta, d["sgd"], fmt="s", color="C2", label=f"SGD, Monte Carlo ({ci_label(result)})")
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_yscale("log")
        ax.set_xlabel(r"learning rate $\eta = \Delta t / k$")
        ax.set_ylabel(r"$\mathrm{tr}\,\mathrm{Cov}$ of the displacement over $\Delta t$")
        ss = d["slope_sgd"]
        ax.set_title(f"B6: dt = {dt:g}; fitted slope {ss[0]:.3f} (SGD; exact {d['exact_sgd_slope']:.3f})", fontsize=9)
        ax.legend(fontsize=6.5)
    return paths


def figure_e5(result, outdir) -> list[str]:
    """SGD's measured tr Cov over dt divided by eta dt tr Sigma: 1 + O(eta) for the first slide's
    sqrt(eta) sqrt(dt) eps; the printed sqrt(dt) eta eps gives eta."""
    d = result.data
    eta = np.array(d["etas"])
    scale = eta * d["dt"] * d["tr_sigma_b"]
    rows = np.array(d["sgd"]) / scale[:, None]
    with new_figure(outdir, "fig_e5_langevin_power", figsize=(4.6, 3.4)) as (fig, ax, paths):
        ax.axhline(1.0, color="C0", label=r"corrected $\sqrt{\eta}\sqrt{\Delta t}\,\epsilon$")
        ax.plot(eta, eta, color="C3", ls="--", marker="", label=r"as printed $\sqrt{\Delta t}\,\eta\,\epsilon$")
        _errorbar(ax, eta, rows, fmt="o", color="k", label=f"SGD, Monte Carlo ({ci_label(result)})")
        ax.plot(eta, np.array(d["exact_sgd"]) / scale, color="C2", marker="x", label="SGD, exact")
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_yscale("log")
        ax.set_xlabel(r"learning rate $\eta$")
        ax.set_ylabel(r"$\mathrm{tr}\,\mathrm{Cov}(w_k) / (\eta\,\Delta t\,\mathrm{tr}\,\Sigma)$")
        ax.set_title(f"E5: fitted exponent {d['slope'][0]:.3f} (printed: 2)", fontsize=9)
        ax.legend(fontsize=7)
    return paths


FIGURES = {"B6": figure_b6, "E5": figure_e5}
