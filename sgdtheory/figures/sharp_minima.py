"""Figure of claim C6 (large batches and sharp minima): flat-basin occupancy against eta/B."""

from __future__ import annotations

import numpy as np

from . import ci_label, new_figure


def figure_c6(result, outdir) -> list[str]:
    """(a) the flat-basin occupancy over a fixed time t = eta k from the sharp minimum against eta/B: Monte Carlo
    with intervals, the exact discrete chain, the Fokker--Planck/Kramers two-state value, the B = 2 point; (b) the
    mean escape times (in t) from each minimum, exact chain and diffusion; (c) the stationary flat occupancy
    (exact chain, Fokker--Planck): it falls with eta/B."""
    d = result.data
    label = ci_label(result)
    rows = d["rows"]
    b1 = [r for r in rows if r["B"] == 1]
    b2 = [r for r in rows if r["B"] == 2]
    with new_figure(outdir, "fig_c6_sharp_minima", ncols=3, figsize=(13.5, 4.0)) as (fig, axes, paths):
        ax = axes[0]
        x = np.array([r["eta"] / r["B"] for r in b1])
        ax.plot(x, [r["exact"] for r in b1], "-", color="C1", label="exact discrete chain")
        ax.plot(x, [r["fp_two_state"] for r in b1], ":", color="C2", label="Fokker-Planck / Kramers two-state")
        v = np.array([r["mc"]["value"] for r in b1])
        ax.errorbar(x, v, yerr=[v - np.array([r["mc"]["low"] for r in b1]), np.array([r["mc"]["high"] for r in b1]) - v],
                    fmt="o", color="k", mfc="white", capsize=2, label=f"Monte Carlo B = 1 ({label})")
        for r in b2:
            e = r["mc"]
            ax.errorbar([r["eta"] / 2], [e["value"]], yerr=[[e["value"] - e["low"]], [e["high"] - e["value"]]], fmt="s",
                        color="C3", capsize=2, label=f"Monte Carlo B = 2, $\\eta$ = {r['eta']:g}")
        ax.axhline(0.5, color="0.6", linewidth=0.8)
        ax.set_xlabel("$\\eta / B$")
        ax.set_ylabel(f"fraction of $t \\leq$ {d['horizon']:g} in the flat basin")
        ax.set_title("(a) started in the sharp minimum")
        ax.legend(fontsize=7)
        ax = axes[1]
        ax.semilogy(x, [r["chain_mfpt_sharp_to_flat"] for r in b1], "o-", color="C0", label="sharp $\\to$ flat, chain")
        ax.semilogy(x, [r["mfpt_sharp_to_flat"] for r in b1], ":", color="C0", label="sharp $\\to$ flat, diffusion")
        ax.semilogy(x, [r["mfpt_flat_to_sharp"] for r in b1], "--", color="C3", label="flat $\\to$ sharp, diffusion")
        ax.axhline(d["horizon"], color="0.5", linestyle="-.", label="horizon")
        ax.set_xlabel("$\\eta / B$")
        ax.set_ylabel("mean escape time ($t = \\eta k$)")
        ax.set_title("(b) escape times")
        ax.legend(fontsize=7)
        ax = axes[2]
        st = d["stationary"]
        xs = [s["ratio"] for s in st]
        ax.plot(xs, [s["exact"] for s in st], "o-", color="C1", label="exact chain")
        ax.plot(xs, [s["fp"] for s in st], "x:", color="C2", label="Fokker-Planck")
        ax.set_xlabel("$\\eta / B$")
        ax.set_ylabel("stationary flat-basin occupancy")
        ax.set_title("(c) the stationary preference falls with $\\eta/B$")
        ax.legend(fontsize=7)
    return paths
