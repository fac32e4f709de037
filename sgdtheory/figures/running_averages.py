"""Figures of claim D8 (running averages, bias correction) and errata E1, E2 (seed 003)."""

from __future__ import annotations

import numpy as np

from ..theory import running_averages as ra
from . import ci_label, legend_below, new_figure

FORMS = (("ema", "plain EMA $m_t$", "C0", "o"), ("min_form", r"$\min(N, t)$ form", "C1", "s"),
         ("adam", r"Adam $m_t/(1-\beta^t)$", "C2", "^"))


def figure_d8(result, outdir) -> list[str]:
    """Left: E mu_hat_t / mu against t, exact curves, the slide's (t/N), MC with intervals.
    Right: E(mu_hat_t - mu)^2 against t, exact and MC."""
    d = result.data
    N, mu, s2 = d["N"], d["mu"], d["sigma2"]
    steps = np.array(d["steps"])
    tt = np.unique(np.geomspace(1, steps[-1], 300).astype(int))
    mean = np.array(d["mc_mean"])
    mean_h = np.array(d["mc_mean_halfwidth"])
    mse = np.array(d["mc_mse"])
    mse_h = np.array(d["mc_mse_halfwidth"])
    with new_figure(outdir, "fig_d8_running_averages", ncols=2, figsize=(9.0, 3.5)) as (fig, axes, paths):
        ax, bx = axes
        for j, (form, label, c, m) in enumerate(FORMS):
            ax.plot(tt, [ra.mean_factor(form, N, t) for t in tt], color=c, label=f"{label} (exact)")
            ax.errorbar(steps, mean[:, j] / mu, yerr=mean_h[:, j] / abs(mu), fmt=m, color=c, mfc="white")
            bx.plot(tt, [ra.mse(form, N, t, mu, s2) for t in tt], color=c, label=f"{label} (exact)")
            bx.errorbar(steps, mse[:, j], yerr=mse_h[:, j], fmt=m, color=c, mfc="white")
        ax.plot(tt[tt <= N], tt[tt <= N] / N, color="0.4", ls=":", label=r"slide: $(t/N)\,\mu$")
        ax.errorbar([], [], yerr=[], fmt="o", color="k", mfc="white", label=f"Monte Carlo ({ci_label(result)})")
        ax.axvline(N, color="0.7", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlabel("step $t$")
        ax.set_ylabel(r"$E\,\hat\mu_t / \mu$")
        ax.set_title(f"D8: bias of running averages (N = {N})")
        ax.legend(fontsize=7)
        bx.axvline(N, color="0.7", lw=0.8)
        bx.set_xscale("log")
        bx.set_yscale("log")
        bx.set_xlabel("step $t$")
        bx.set_ylabel(r"$E(\hat\mu_t - \mu)^2$")
        bx.set_title("mean-square error (points: Monte Carlo)")
        bx.legend(fontsize=7)
    return paths


def figure_e1(result, outdir) -> list[str]:
    """The weights of x_s in mu_hat_t: the recursion's (1/N)(1-1/N)^(t-s) against the printed ^-(t-s)."""
    d = result.data
    N, t = d["N"], d["t"]
    s = np.arange(1, t + 1)
    with new_figure(outdir, "fig_e1_running_average_weights") as (fig, ax, paths):
        ax.plot(s, d["weights"], color="C0", label=r"corrected: $(1/N)(1-1/N)^{t-s}$ (sum $= 1-(1-1/N)^t$)")
        ax.plot(s, d["printed"], color="C3", ls="--", label=r"as printed: $(1/N)(1-1/N)^{-(t-s)}$")
        ax.set_yscale("log")
        ax.set_xlabel("index $s$ of $x_s$")
        ax.set_ylabel(r"weight of $x_s$ in $\hat\mu_t$")
        ax.set_title(f"E1: running-average weights\nat t = {t}, N = {N}")
        legend_below(ax, fontsize=7)
    return paths


def figure_e2(result, outdir) -> list[str]:
    """Partial sums of sum (1 - 1/N)^n (-> N) and of the printed sum (1 - 1/N)^-n (diverges)."""
    N = result.data["N"]
    k = np.arange(0, 10 * N + 1)
    beta = 1 - 1 / N
    with new_figure(outdir, "fig_e2_geometric_series") as (fig, ax, paths):
        ax.plot(k, np.cumsum(beta**k), color="C0", label=r"corrected: $\sum_{n\leq K}(1-1/N)^n \to N$")
        ax.plot(k, np.cumsum(beta ** (-k.astype(float))), color="C3", ls="--",
                label=r"as printed: $\sum_{n\leq K}(1-1/N)^{-n}$ (diverges)")
        ax.axhline(N, color="0.5", ls=":", label=f"$N = {N}$")
        ax.set_yscale("log")
        ax.set_xlabel("number of terms $K$")
        ax.set_ylabel("partial sum")
        ax.set_title("E2: the geometric series of the running average")
        legend_below(ax, fontsize=7)
    return paths


FIGURES = {"D8": figure_d8, "E1": figure_e1, "E2": figure_e2}
