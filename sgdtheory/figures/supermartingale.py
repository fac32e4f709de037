"""Figure of claim A3: the map of E[dL | w] with the predicted boundary, and Robbins-Siegmund."""

from __future__ import annotations

import numpy as np

from . import legend_below, new_figure


def figure_a3(result, outdir) -> list[str]:
    """Left: sign of the exact one-step change E[L(w - eta g_B)] - L(w) over the plane (shaded:
    ascent in expectation), the predicted boundary, and the Monte Carlo check points (filled: the
    interval lies above 0, open: below).  Middle: E[U_t] (corrected loss) and E[V_t], exact
    and Monte Carlo.  Right: fraction of paths with V_s <= eps for all recorded s >= t."""
    d = result.data
    m = d["map"]
    x = np.array(m["x"])
    Z = np.array(m["change"])
    with new_figure(outdir, "fig_a3_supermartingale", ncols=3, figsize=(12.0, 3.6)) as (fig, axes, paths):
        ax = axes[0]
        ax.contourf(x, x, np.sign(Z), levels=[-2, 0, 2], colors=["white", "0.8"])
        ax.contour(x, x, Z, levels=[0.0], colors="k", linewidths=0.5)
        ang = np.array(m["angles"])
        r = np.array(m["radii"])
        ax.plot(r * np.cos(ang), r * np.sin(ang), color="C3", linestyle="--", label="predicted boundary")
        for pt in d["points"]:
            e = pt["estimate"]
            filled = e["low"] > 0
            ax.plot(pt["delta"][0], pt["delta"][1], "o", color="C0", mfc="C0" if filled else "white")
        ax.plot([], [], "o", color="C0", label="MC: ascent (filled) / descent")
        ax.set_aspect("equal")
        ax.set_xlabel(r"$(w-w^*)_1$")
        ax.set_ylabel(r"$(w-w^*)_2$")
        ax.set_title(f"A3: $E[\\Delta L|w] > 0$ shaded, $\\eta$ = {d['eta']:.3g}")
        legend_below(ax, fontsize=6)
        ax = axes[1]
        t = np.maximum(np.array(d["steps"], dtype=float), 1.0)
        ax.plot(t, d["exact_U"], color="C0", label="$E U_t$ exact (corrected)")
        ax.errorbar(t[::2], np.array(d["mc_U"])[::2], yerr=np.array(d["mc_U_halfwidth"])[::2], fmt="o", ms=3,
                    mfc="white", color="C0", label="$E U_t$ Monte Carlo")
        ax.plot(t, d["exact_V"], color="C1", linestyle="--", label="$E V_t$ exact (Robbins-Monro)")
        ax.plot(t, d["mc_V_constant"], color="C3", linestyle=":", label="$E V_t$ MC, constant eta")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("step $t$ (t = 0 drawn at 1)")
        ax.set_ylabel("loss above the minimum")
        ax.set_title("Robbins-Siegmund: $U_t$ non-increasing")
        ax.legend(fontsize=6)
        ax = axes[2]
        ax.plot(t, d["fraction_converged_from_t"], color="C0", label="Robbins-Monro steps")
        ax.plot(t, d["fraction_converged_from_t_constant"], color="C3", linestyle="--", label="constant eta")
        ax.axhline(0.99, color="0.5", linestyle=":", label="0.99")
        ax.set_xscale("log")
        ax.set_xlabel("step $t$")
        ax.set_ylabel("fraction with $V_s \\leq \\epsilon$\nfor recorded $s \\geq t$")
        ax.set_title(f"a.s. convergence, $\\epsilon$ = {d['eps']:.3g}")
        ax.legend(fontsize=6)
    return paths
