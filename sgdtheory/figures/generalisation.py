"""Figure of claim D11 (Wilson et al. 2017: adaptive methods generalise worse; ``claims.generalisation``)."""

from __future__ import annotations

import numpy as np

from . import ci_label, new_figure

METHODS = ("GD", "SGD", "AdaGrad", "RMSProp", "Adam")


def figure_d11(result, outdir) -> list[str]:
    """Left: first weights of each solution against the two predictions.  Right: test errors (Clopper-Pearson)
    against the predicted errors."""
    d = result.data
    with new_figure(outdir, "fig_d11_wilson", ncols=2, figsize=(9.0, 3.5)) as (fig, axes, paths):
        ax, bx = axes
        k = min(12, len(d["w_min_norm"]))
        idx = np.arange(k)
        ax.plot(idx, d["w_min_norm"][:k], "k_", ms=12, label=r"min-norm $X^+y$ (exact)")
        ax.plot(idx, d["w_adaptive"][:k], "_", color="C3", ms=12, label=r"$\mathrm{sign}(X^Ty)/4$ (exact)")
        for j, m in enumerate(METHODS):
            ax.plot(idx + 0.08 * (j - 2), d["solutions"][m][:k], "os^vd"[j], ms=3, mfc="white", color=f"C{j}", label=m)
        ax.set_xlabel("weight index (0: $x_1 = y$; 1, 2: constant; 3+: unique features)")
        ax.set_ylabel("weight")
        ax.set_title(f"D11: solutions from 0 (n = {d['n']}, d = {d['d']})", fontsize=8)
        ax.legend(fontsize=6, ncol=2)
        for j, m in enumerate(METHODS):
            e = d["test_error"][m]
            bx.errorbar([j], [e["value"]], yerr=[[e["value"] - e["low"]], [e["high"] - e["value"]]], fmt="o",
                        color=f"C{j}", mfc="white")
        bx.hlines(d["pred_error"]["min_norm"], -0.3, 1.3, color="k", label="predicted (min-norm)")
        bx.hlines(d["pred_error"]["adaptive"], 1.7, 4.3, color="C3", label=r"predicted (adaptive): $1-p$")
        bx.set_xticks(range(len(METHODS)), METHODS)
        bx.set_ylabel("test error")
        bx.set_title(f"{d['n_test']:,} fresh examples, $p = {d['p']}$\n({ci_label(result)}, Clopper-Pearson)",
                     fontsize=8)
        bx.legend(fontsize=7)
    return paths
