"""Figure of claim A4 (preconditioned SGD)."""

from __future__ import annotations

import numpy as np

from . import new_figure


def figure_a4(result, outdir) -> list[str]:
    """E|w_t - w*|^2 against t for positive-definite and indefinite F (log scale, CIs at the run's level),
    with the exact mean recursion's |m_t|^2 (the part of the error the mean explains)."""
    d = result.data
    t = np.array(d["steps"], dtype=float)
    ts = np.maximum(t, 1.0)
    with new_figure(outdir, "fig_a4_preconditioned", figsize=(4.6, 3.3)) as (fig, ax, paths):
        for key, c, label in (("pd", "C0", "positive-definite F"), ("indefinite", "C3", "indefinite F (control)")):
            y = np.array(d[key]["dist_sq"])
            ax.errorbar(ts, y, yerr=d[key]["dist_sq_halfwidth"], fmt="o", color=c, mfc="white",
                        label=f"Monte Carlo, {label}")
            ax.plot(ts, np.sum(np.array(d[key]["mean_exact"]) ** 2, axis=1), color=c,
                    label=r"$|E(w_t - w^*)|^2$ exact" if key == "pd" else None)
        ax.axhline(0.05 * d["delta0_sq"], color="C5", linestyle=":", label="5% of $|\\delta_0|^2$ (bound)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("step $t$ (t = 0 drawn at 1)")
        ax.set_ylabel(r"$E\,|w_t - w^*|^2$")
        ax.set_title("A4: preconditioned SGD, Robbins-Monro steps")
        ax.legend()
    return paths
