"""Figure of claim D10 (Reddi, Kale & Kumar 2018, Theorem 1): Adam's and AMSGrad's iterates on the online
problem, and their average regret against the predicted limits."""

from __future__ import annotations

import numpy as np

from . import new_figure


def _math_label(label: str) -> str:
    """'Adam x1=-1' -> 'Adam, $x_1 = -1$' (the claim's run names, typeset)."""
    name, sep, start = label.partition(" x1=")
    return f"{name}, $x_1 = {start}$" if sep else label


def figure_d10(result, outdir) -> list[str]:
    d = result.data
    t = np.array(d["t"])
    with new_figure(outdir, "fig_d10_adam_nonconvergence", ncols=2, figsize=(9.0, 3.4)) as (fig, axes, paths):
        ax, bx = axes
        for k, (label, xs) in enumerate(d["paths"].items()):
            ax.plot(t, xs, color="C1" if label.startswith("Adam") else "C2", lw=1.0,
                    ls=("-", "--", ":")[k % 3], label=_math_label(label))
        ax.axhline(-1, color="0.5", lw=0.8, ls="-.")
        ax.text(t[-1], -0.9, "$x^* = -1$", ha="right", va="bottom", fontsize=7)
        ax.set_xscale("log")
        ax.set_xlabel("online step $t$")
        ax.set_ylabel("iterate $x_t$ (projected on [-1, 1])")
        ax.set_title(f"$C = {result.parameters['C']:g}$, " + r"$\beta_2 = 1/(1+C^2)$", fontsize=9)
        ax.legend(fontsize=6.5, ncol=2)
        labels = list(d["regret"])
        bx.bar(range(len(labels)), [d["regret"][k] for k in labels], color=["C1" if k.startswith("Adam") else "C2"
                                                                            for k in labels], alpha=0.6, edgecolor="k")
        bx.axhline(d["limit_regret"], color="k", ls="--", lw=1.0, label="Adam's limit $2(C-2)/3$ (SymPy)")
        bx.set_xticks(range(len(labels)), [_math_label(k) for k in labels], rotation=30, ha="right", fontsize=7)
        bx.set_ylabel(r"average regret $R_T/T$ (exact run)")
        bx.set_title(f"$T = {d['T']}$: Adam's regret stays, AMSGrad's " + r"$\to 0$", fontsize=9)
        bx.legend(fontsize=7)
    return paths
