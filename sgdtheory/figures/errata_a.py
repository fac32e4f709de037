"""Figures of errata E6 and E9."""

from __future__ import annotations

import numpy as np

from . import ci_label, new_figure


def figure_e6(result, outdir) -> list[str]:
    """One-step expected change of the loss inside (0.5 r*) and outside (2 r*) the boundary on each ray: exact vs
    Monte Carlo (CI at the run's level), and 0."""
    pts = result.data["points"]
    with new_figure(outdir, "fig_e6_supermartingale", figsize=(4.4, 3.0)) as (fig, ax, paths):
        x = np.arange(len(pts))
        est = [p["estimate"] for p in pts]
        ax.errorbar(x, [e["value"] for e in est], yerr=[[e["value"] - e["low"] for e in est],
                                                        [e["high"] - e["value"] for e in est]],
                    fmt="o", color="C0", mfc="white", label=f"Monte Carlo ({ci_label(result)})")
        ax.plot(x, [p["prediction"] for p in pts], "x", color="C1", markersize=8, label="exact")
        ax.axhline(0.0, color="C3", label="0: printed 'at least 0' (true inside r* only)")
        ax.set_xticks(x, [f"ray {q['ray']}, {q['factor']:g} r*" if "factor" in q else f"point {i}"
                          for i, q in enumerate(pts)], fontsize=7)
        ax.set_xlim(-0.6, len(pts) - 0.4)
        ax.set_ylabel(r"$E[L(w_{t+1}) - L(w_t) \mid w_t]$")
        ax.set_title(r"E6: non-decreasing inside $r^*$, non-increasing outside ($\eta$ = %.3g)" % result.data["eta"])
        ax.legend()
    return paths


def figure_e9(result, outdir) -> list[str]:
    """eta_t = (1/2)/(10+t)^(3/4) against t: its limits at t -> 0 (printed) and t -> infinity."""
    t = np.geomspace(1e-2, 1e6, 300)
    with new_figure(outdir, "fig_e9_limits", figsize=(4.4, 3.0)) as (fig, ax, paths):
        ax.plot(t, 0.5 / (10 + t) ** 0.75, color="C0", label=r"$\eta_t = \frac{1}{2}(10+t)^{-3/4}$")
        ax.axhline(result.data["limit_t_to_0"], color="C3", label=r"$\lim_{t\to 0}\eta_t$ (printed: 0)")
        ax.axhline(0.0, color="C1", label=r"$\lim_{t\to\infty}\eta_t = 0$")
        ax.set_xscale("log")
        ax.set_xlabel("step $t$")
        ax.set_ylabel(r"$\eta_t$")
        ax.set_title("E9: the limit is taken at t → ∞, not t → 0")
        ax.legend()
    return paths


FIGURES = {"E6": figure_e6, "E9": figure_e9}
