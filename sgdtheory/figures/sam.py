"""Figure of claim D13 (SAM): the max over the rho-ball, the sharp/flat landscape outcomes, the 2-cycle."""

from __future__ import annotations

import textwrap

import numpy as np
from numpy.polynomial import polynomial as P

from . import ci_label, new_figure


def fig_d13_sam(result, outdir) -> list[str]:
    """(a) errors of the linearisation L + rho|g| (O(rho^2)) and of the plug-in L(w + eps_hat) (O(rho^3)) against
    the exact max over the rho-ball, with the predicted leading terms; (b) the 1-D landscape with its sharp and
    flat minima, SAM's rest point m_s + rho, and the final points of GD and SAM from uniform starts; (c) outcome
    proportions with Clopper-Pearson intervals against the predictions (and the controls); (d) the 2-cycle:
    |w_T| against eta h with the exact amplitude eta h rho/(2 - eta h), and a trajectory."""
    d = result.data
    label = ci_label(result)
    with new_figure(outdir, "fig_d13_sam", ncols=4, figsize=(21.0, 4.6), row_height=2.5, appendix_panels=2,
                    appendix_row_height=3.0) as (fig, axes, paths):
        ax = axes[0]
        b = d["ball"]
        rho = np.array(b["rho"])
        c2, c3 = b["coefficients"]
        ax.loglog(rho, b["err_linear"], "o", mfc="white", color="k", label=r"max $- (L + \rho|g|)$")
        ax.loglog(rho, c2 * rho**2, "--", color="C1", label=r"$\rho^2\, u^\top H u/2$")
        ax.loglog(rho, b["err_plugin"], "s", mfc="white", color="C0", label=r"max $- L(w + \hat\epsilon)$")
        ax.loglog(rho, c3 * rho**3, ":", color="C2", label=r"$\rho^3 (u^\top H v)^2/(2|g|)$")
        ax.set_xlabel(r"$\rho$")
        ax.set_ylabel("error (exact max: SLSQP)")
        ax.set_title(r"(a) first-order max over the $\rho$-ball")
        ax.legend(fontsize=6.5, loc="lower right")  # the points rise from lower left to upper right

        ax = axes[1]
        ls = d["landscape"]
        xs = np.linspace(ls["x_lo"] - 0.2, ls["x_hi"] + 0.2, 600)
        Lx = P.polyval(xs, ls["coeffs"])
        ax.plot(xs, Lx, color="0.3", linewidth=1.2, label="L(w)")
        for key, col, mk, off in (("gd", "C1", "v", 0.06), ("sam", "C0", "^", 0.12)):
            fin = np.array(ls[key])
            ax.plot(fin, P.polyval(fin, ls["coeffs"]) + off, mk, color=col, ms=4, alpha=0.3,
                    label=f"{key.upper()} final points")
        top = float(P.polyval(ls["b"], ls["coeffs"])) + 0.35
        for k, (x, lab) in enumerate(((ls["m_s"], "$m_s$"), (ls["b"], "$b$"), (ls["m_f"], "$m_f$"),
                                      (ls["m_s"] + ls["rho"], r"$m_s+\rho$"), (ls["b"] + ls["rho"], r"$b+\rho$"))):
            ax.axvline(x, color="0.7", linewidth=0.7, linestyle=":")
            ax.text(x, top - 0.11 * (top - Lx.min()) * (k + 0.3), lab, fontsize=7, ha="center", va="top")
        ax.set_ylim(Lx.min() - 0.1, top)
        ax.set_xlabel("w")
        ax.set_ylabel("L(w)")
        ax.set_title(r"(b) sharp vs flat: GD and SAM ($\rho$ = %g)" % ls["rho"])
        ax.legend(fontsize=7, loc="lower left")

        ax = axes[2]
        props = [c for c in result.checks if "probability" in c.name or "fraction" in c.name]
        y = np.arange(len(props))[::-1]
        for yy, c in zip(y, props):
            e = c.estimate
            ax.errorbar([e.value], [yy], xerr=[[e.value - e.low], [e.high - e.value]], fmt="o", color="k",
                        mfc="white", ms=4, capsize=2)
            ax.plot([c.prediction], [yy], "x" if c.role == "claim" else "d", color="C1" if c.role == "claim" else "C3",
                    ms=7, mfc="none")
        ax.set_yticks(y)
        ax.yaxis.tick_right()
        ax.set_yticklabels([textwrap.shorten(c.name.replace("control: ", "ctrl: "), 40, placeholder=" ...")
                            for c in props], fontsize=6)  # cut at a word, marked
        ax.set_xlim(-0.05, 1.05)
        ax.set_xlabel(f"proportion ({label}); x: prediction, d: control")
        ax.set_title("(c) outcomes")

        ax = axes[3]
        tc = d["two_cycle"]
        xh = np.linspace(0.05, 1.95, 200)
        ax.plot(xh, xh * tc["rho"] / (2 - xh), color="C1", label=r"$A = \eta h\rho/(2-\eta h)$")
        ax.plot([r["eta_h"] for r in tc["rows"]], [abs(r["w_T"]) for r in tc["rows"]], "o", color="k", mfc="white",
                label=r"$|w_T|$ (engine)")
        ax.axhline(tc["rho"], color="C3", linestyle=":", label=r"control: $\rho$")
        ax.set_yscale("log")
        ax.set_xlabel(r"$\eta h$")
        ax.set_ylabel("cycle amplitude")
        ax.set_title(r"(d) SAM on $h w^2/2$: the 2-cycle")
        ins = ax.inset_axes([0.58, 0.1, 0.38, 0.33])
        ins.plot(tc["trajectory"], ".-", color="C0", ms=3, linewidth=0.7)
        ins.set_title(r"$w_t$, $\eta h$ = %g" % tc["rows"][0]["eta_h"], fontsize=6)
        ins.tick_params(labelsize=5)
        ax.legend(fontsize=7, loc="upper left")
    return paths
