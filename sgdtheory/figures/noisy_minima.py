"""Figure of claim B7: two minima of equal loss and curvature, unequal gradient noise (seed 000 cartoon, 002)."""

from __future__ import annotations

import numpy as np

from . import ci_label, new_figure


def _bar(ax, x, est, **kw):
    ax.bar(x, est["value"], yerr=[[est["value"] - est["low"]], [est["high"] - est["value"]]], capsize=3, alpha=0.45,
           edgecolor="k", **kw)


def figure_b7(result, outdir) -> list[str]:
    """Left: stationary densities (exact discrete chain, Fokker-Planck, quasi-static RMSProp).  Middle: occupancy
    of the left basin (theory and Monte Carlo for SGD, RMSProp, Adam; GD's from each side).  Right: mean escape
    times in steps (exact discrete, Langevin MFPT integral, Kramers, Monte Carlo)."""
    d = result.data
    with new_figure(outdir, "fig_b7_noisy_minima", ncols=3, figsize=(13.0, 3.6)) as (fig, axes, paths):
        ax, bx, cx = axes
        ax.plot(d["chain_grid"], d["chain_pdf"], color="C0", label="exact discrete chain (SGD)")
        ax.plot(d["grid"], d["fp_pdf"], color="C1", ls="--", label="Fokker-Planck (Langevin)")
        ax.plot(d["grid"], d["qs_pdf"], color="C2", ls=":", label="quasi-static RMSProp (heuristic)")
        for x in d["minima"]:
            ax.axvline(x, color="0.8", lw=0.8)
        ax.axvline(d["barrier"], color="0.5", lw=0.8, ls="-.")
        ax.set_xlabel("$w$")
        ax.set_ylabel("stationary density")
        ax.set_title(f"B7: $\\eta$ = {d['eta']:g}", fontsize=9)
        ax.legend(fontsize=6.5, loc="upper right")
        _bar(bx, 0, d["occ_sgd"], color="C0", label=f"Monte Carlo ({ci_label(result)})")
        bx.plot([-0.4, 0.4], [d["occ_exact"]] * 2, color="k", lw=1.5, label="exact discrete chain")
        bx.plot([-0.4, 0.4], [d["occ_fp"]] * 2, color="C1", ls="--", lw=1.5, label="Fokker-Planck")
        for k, (label, est) in enumerate(d["occ_adaptive"].items()):
            _bar(bx, 1 + k, est, color=f"C{2 + k}")
        bx.plot([0.6, 1.4], [d["occ_quasi_static_rmsprop"]] * 2, color="C2", ls=":", lw=1.5)
        bx.axhline(0.5, color="0.5", lw=0.8, ls="-.", label="no preference")
        bx.set_xticks([0, 1, 2], ["SGD", "RMSProp", "Adam"])
        bx.set_ylabel("occupancy of the left basin")
        bx.set_ylim(0.4, 1.22)
        bx.set_yticks([0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
        bx.set_title(f"adaptive lr {d['adaptive_lr']:.3g}\n(matched temperature)", fontsize=9)
        bx.legend(fontsize=6.5, loc="upper center", ncol=2)
        labels = [r"left$\to$right", r"right$\to$left"]
        xs = np.arange(2)
        for j in range(2):
            e = d["fpt"][j]
            cx.errorbar([xs[j]], [e["value"]], yerr=[[e["value"] - e["low"]], [e["high"] - e["value"]]], fmt="o",
                        color="C0", mfc="white", capsize=3, label="Monte Carlo" if j == 0 else None)
        for key, style, lab in (("exact", dict(color="k"), "exact discrete"), ("fp", dict(color="C1", ls="--"), "Langevin MFPT"),
                                ("kramers", dict(color="C3", ls=":"), "Kramers")):
            for j in range(2):
                cx.plot([xs[j] - 0.4, xs[j] + 0.4], [d["mfpt"][key][j]] * 2, lw=1.5, label=lab if j == 0 else None, **style)
        cx.set_yscale("log")
        cx.set_xticks(xs, labels)
        cx.set_xlim(-0.6, 1.6)
        cx.set_ylabel("mean escape time (steps)")
        cx.set_title("escape from each minimum", fontsize=9)
        cx.legend(fontsize=7)
    return paths
