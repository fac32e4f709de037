"""Figure of claim A5 (Robbins-Monro step sizes): the phase diagram over p and the error curves."""

from __future__ import annotations

import numpy as np

from . import ci_label, new_figure


def figure_a5(result, outdir) -> list[str]:
    """Left: asymptotic log-log slope of E|w_t - w*|^2 against p (theory line: -p for p < 1, 0 for
    p > 1; at p = 1, -min(1, 2 c lambda_min)); Monte Carlo slopes with their intervals at the run's level.
    Right: E|w_t - w*|^2 against t, exact recursion (lines) and Monte Carlo (points with intervals)."""
    d = result.data
    cases = d["cases"]
    t = np.array(d["steps"], dtype=float)
    with new_figure(outdir, "fig_a5_robbins_monro", ncols=2, figsize=(9.0, 3.6)) as (fig, axes, paths):
        ax = axes[0]
        p_grid = np.linspace(0.05, 1.6, 400)
        ax.plot(p_grid[p_grid < 1], -p_grid[p_grid < 1], color="k", label="theory: slope $-p$")
        ax.plot(p_grid[p_grid > 1], 0 * p_grid[p_grid > 1], color="k", linestyle="--", label="theory: stalls ($p>1$)")
        ax.axvspan(0.0, 0.5, color="0.9", label=r"$\sum\eta_t^2=\infty$")
        ax.axvspan(1.0, 1.6, color="0.8", alpha=0.5, label=r"$\sum\eta_t<\infty$")
        for k, (key, c) in enumerate(cases.items()):
            if "slope" not in c:
                continue
            s = c["slope"]
            ax.errorbar([c["p"] + (0.012 * (k - 2.5) if c["p"] == 1.0 else 0.0)], [s["value"]], yerr=[[s["value"] - s["low"]], [s["high"] - s["value"]]],
                        fmt="os^D"[k % 4], mfc="white", label=f"Monte Carlo, {key}")
            ax.plot([c["p"]], [c["target"]], "x", color="k")
        ax.set_xlim(0.0, 1.6)
        ax.set_xlabel("$p$ in $\\eta_t = c/(t_0+t)^p$")
        ax.set_ylabel(r"slope of $\log E|w_t-w^*|^2$ vs $\log t$")
        ax.set_title("A5: phase diagram (x: predicted)")
        ax.legend(fontsize=6, loc="lower right")
        ax = axes[1]
        for k, (key, c) in enumerate(cases.items()):
            line, = ax.plot(t, c["exact_mse"], label=f"{key} exact")
            ax.errorbar(t[::3], np.array(c["mc_mse"])[::3], yerr=np.array(c["mc_halfwidth"])[::3], fmt="o", ms=2.5,
                        mfc="white", color=line.get_color())
            if "fit_from" in c:
                ax.axvline(c["fit_from"], color=line.get_color(), linewidth=0.5, linestyle=":")
        crit = d["critical"]
        ax.plot(t, crit["exact_mse"], color="0.4", linestyle="-.", label=r"$p=1$, $2c\lambda=1$ exact ($\log t/t$)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("step $t$")
        ax.set_ylabel(r"$E\,|w_t-w^*|^2$")
        ax.set_title(f"exact recursion (lines), Monte Carlo (points, {ci_label(result)})")
        ax.legend(fontsize=6)
    return paths
