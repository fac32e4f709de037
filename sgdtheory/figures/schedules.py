"""Figure of claim D12 (learning-rate schedules): the schedules, and SGD's expected excess loss under each,
exact (moment recursion) against Monte Carlo with intervals, and every check."""

from __future__ import annotations

import textwrap

import numpy as np

from . import ci_label, legend_below, new_figure

ORDER = ("constant", "power", "time_based", "exponential", "step", "triangular", "cosine")


def fig_d12_schedules(result, outdir) -> list[str]:
    """(a) eta_t of each schedule (kernel values); (b) E L(w_t) - L*: exact recursion (lines), Monte Carlo
    means with their intervals (bars), and the doubled-period predictions of the cyclic schedules (dotted);
    (c) the Monte Carlo checks, estimate / prediction with the interval, controls marked."""
    d = result.data
    label = ci_label(result)
    steps = np.array(d["steps"])
    with new_figure(outdir, "fig_d12_schedules", ncols=3, figsize=(17.0, 4.8), row_height=2.7,
                    appendix_panels=1) as (fig, axes, paths):
        ax = axes[0]
        for i, key in enumerate(k for k in ORDER if k in d["schedules"]):
            ax.plot(steps, d["schedules"][key]["lr"], color=f"C{i}", label=key, linestyle=["-", "--", ":", "-."][i % 4])
        ax.set_xlabel("step t")
        ax.set_ylabel(r"learning rate $\eta_t$")
        ax.set_title("(a) schedules\n" + r"($\eta_0$ = %.3g, T = %d)" % (d["eta0"], d["horizon"]))
        legend_below(ax, fontsize=6.5, ncol=2)

        ax = axes[1]
        for i, key in enumerate(k for k in ORDER if k in d["schedules"]):
            e = d["schedules"][key]
            ax.plot(steps, e["exact"], color=f"C{i}", linestyle=["-", "--", ":", "-."][i % 4], linewidth=1.2,
                    label=f"{key} (exact)")
            ax.errorbar(steps[::4], np.array(e["mc"])[::4], yerr=np.array(e["mc_half_width"])[::4], fmt="o", ms=2.5,
                        color=f"C{i}", mfc="white", capsize=1.5, linewidth=0.8)
            if "wrong_period_exact" in e:
                ax.plot(steps, e["wrong_period_exact"], color=f"C{i}", linestyle=(0, (1, 3)), linewidth=0.9,
                        label=f"{key}, period doubled (control)")
        ax.errorbar([], [], yerr=[], fmt="o", color="k", mfc="white", ms=3, label=f"Monte Carlo ({label})")
        ax.set_yscale("log")
        ax.set_xlabel("step t")
        ax.set_ylabel(r"$E\,L(w_t) - L^*$")
        ax.set_title("(b) expected excess loss\nunder each schedule")
        legend_below(ax, fontsize=6, ncol=2)

        ax = axes[2]
        mc = [c for c in result.checks if c.estimate.level < 1.0]
        y = np.arange(len(mc))[::-1]
        for yy, c in zip(y, mc):
            e = c.estimate
            sc = c.prediction if c.role == "claim" else next(
                (o.prediction for o in mc if o.role == "claim" and o.estimate is e), c.prediction)
            col = "k" if c.role == "claim" else "C3"
            ax.errorbar([e.value / sc], [yy], xerr=[[(e.value - e.low) / sc], [(e.high - e.value) / sc]], fmt="o",
                        color=col, mfc="white", ms=4, capsize=2)
            ax.plot([c.prediction / sc], [yy], "x" if c.role == "claim" else "d", color="C1" if c.role == "claim" else "C3",
                    ms=6, mfc="none")
        ax.axvline(1.0, color="0.6", linewidth=0.8)
        ax.set_yticks(y)
        ax.yaxis.tick_right()
        names = [c.name.replace(" (exact moment recursion)", "").replace("control: ", "ctrl: ") for c in mc]
        ax.set_yticklabels([textwrap.shorten(n, 44, placeholder=" ...") for n in names], fontsize=6)  # cut at a word
        ax.set_xscale("log")
        ax.set_xlabel("value / exact prediction (x: prediction, d: control)")
        ax.set_title(f"(c) Monte Carlo checks ({label})")
    return paths
