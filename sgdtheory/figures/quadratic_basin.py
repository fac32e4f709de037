"""Figures of claims B3, B4, B5, E3, E4 (the quadratic-basin theorem, seed 003)."""

from __future__ import annotations

import numpy as np

from . import ci_label, legend_below, new_figure, z_value


def _loglog(ax, xticks):
    """Log axes labelled at the measured learning rates (no crowded minor tick labels)."""
    from matplotlib.ticker import NullFormatter

    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(xticks, [f"{x:.3g}" for x in xticks])


def figure_b4(result, outdir) -> list[str]:
    """L(eta) - L(Phi*) against eta: MC with intervals at the run's level, exact curve, tangent E|g|^2/4, controls."""
    d = result.data
    etas = np.array(d["etas"])
    y = np.array(d["excess_mean"])
    h = np.array(d["excess_halfwidth"])
    a = d["slope_prediction"]
    g2 = d["mean_sq_grad_batch"]
    exact_x = np.array(d.get("exact_eta", etas))
    exact_y = np.array(d.get("exact_excess", []))
    with new_figure(outdir, "fig_b4_quadratic_basin", ncols=2, figsize=(7.2, 3.2), row_height=3.5) as (fig, (ax, bx), paths):
        x = np.linspace(0, etas.max() * 1.05, 200)
        if exact_y.size:
            ax.plot(exact_x, exact_y, label="exact (stationary 2nd-moment eq.)")
        ax.plot(x, a * x, label=r"tangent $\frac{1}{4} E\|g\|^2\,\eta$ (theorem)")
        ax.plot(x, g2 / 2 * x, label=r"$\frac{1}{2} E\|g\|^2\,\eta$ (control)")
        ax.plot(x, g2 * x, label=r"$E\|g\|^2\,\eta$ (slide, control)")
        ax.errorbar(etas, y, yerr=h, fmt="o", color="C5", mfc="white", label=f"SGD Monte Carlo ({ci_label(result)})")
        ax.set_ylim(0, 1.3 * max(y.max(), exact_y.max() if exact_y.size else 0))
        ax.set_xlabel(r"learning rate $\eta$")
        ax.set_ylabel(r"$L(\eta) - L(\Phi^*)$")
        legend_below(ax, fontsize=7)
        R = y / etas
        Rh = h / etas
        bx.errorbar(etas, R, yerr=Rh, fmt="o", color="C5", mfc="white", label=f"Monte Carlo ({ci_label(result)})")
        ic = d["fit_intercept"]
        bx.errorbar([0], [ic["value"]], yerr=[[ic["value"] - ic["low"]], [ic["high"] - ic["value"]]], fmt="s",
                    color="C1", label=f"extrapolated intercept ({ci_label(result)})")
        bx.axhline(a, color="C0", label=r"$\frac{1}{4} E\|g\|^2$")
        if exact_y.size:
            bx.plot(exact_x, exact_y / exact_x, color="C0", linestyle=":", label="exact")
        j = min(3, etas.size - 1)  # the fit's region: up to the fourth learning rate (the last of a short grid)
        bx.set_xlim(-0.03 * etas[j], 1.1 * etas[j])
        bx.set_ylim(0.97 * min(ic["low"], a, R[: j + 1].min()), 1.02 * max(R[: j + 1] + Rh[: j + 1]))
        bx.set_xlabel(r"learning rate $\eta$")
        bx.set_ylabel(r"$(L(\eta) - L(\Phi^*))/\eta$")
        bx.legend(loc="upper left")
        fig.suptitle("B4: quadratic-basin theorem (seed 003)", fontsize=9)
    return paths


def figure_b3(result, outdir) -> list[str]:
    d = result.data
    etas = np.array(d["etas"])
    y = np.array(d["excess_mean"])
    se = np.array(d["excess_se"])
    with new_figure(outdir, "fig_b3_temperature", figsize=(4.2, 3.2)) as (fig, ax, paths):
        ax.errorbar(etas, y, yerr=z_value(result) * se, fmt="o", color="C0", mfc="white", label=f"SGD Monte Carlo ({ci_label(result)})")
        x0, y0 = etas[0], y[0]
        for p, c in ((1.0, "C1"), (0.5, "C2"), (2.0, "C3")):
            ax.plot(etas, y0 * (etas / x0) ** p, color=c, label=f"order {p:g}" + (" (claim)" if p == 1 else " (control)"))
        _loglog(ax, etas)
        ax.set_xlabel(r"learning rate $\eta$")
        ax.set_ylabel(r"$L(\eta) - L(\Phi^*)$")
        s = d["slope"]
        ax.set_title(f"B3: fitted order {s['value']:.3f} [{s['low']:.3f}, {s['high']:.3f}]")
        ax.legend()
    return paths


def figure_b5(result, outdir) -> list[str]:
    """|2L(eta/2) - L(eta) - L*| against eta (log-log): MC with intervals at the run's level, exact, leading term."""
    d = result.data
    etas = np.array(d["etas"])
    D = -np.array(d["D_mean"])
    se = np.array(d["D_se"])
    fine = np.array(d["exact_eta"])
    with new_figure(outdir, "fig_b5_extrapolation", figsize=(4.4, 3.3)) as (fig, ax, paths):
        ax.plot(fine, -np.array(d["exact_D"]), color="C0", label="exact")
        ax.plot(fine, -d["c2"] * fine**2, color="C1", label=r"leading term $\frac{a_2}{2}\eta^2$")
        ax.plot(fine, -d["exact_D"][-1] * fine / fine[-1], color="C3", label=r"order $\eta$ (control)")
        lo = np.maximum(D - z_value(result) * se, D * 1e-2)
        ax.errorbar(etas, D, yerr=[D - lo, z_value(result) * se], fmt="o", color="C5", mfc="white", label=f"Monte Carlo ({ci_label(result)})")
        _loglog(ax, etas)
        ax.set_xlabel(r"learning rate $\eta$")
        ax.set_ylabel(r"$L(\Phi^*) - [2L(\eta/2) - L(\eta)]$")
        ax.set_title("B5: error of the extrapolation to $\\eta\\to 0$")
        ax.legend()
    return paths


def figure_e3(result, outdir) -> list[str]:
    d = result.data
    with new_figure(outdir, "fig_e3_extrapolation_sign", figsize=(4.2, 2.8)) as (fig, ax, paths):
        labels = [r"slide: $L(\eta)-2L(\eta/2)$", r"corrected: $2L(\eta/2)-L(\eta)$", r"$L(\eta)$"]
        vals = [d["printed"], d["corrected"]]
        for i, v in enumerate(vals):
            ax.errorbar([v["value"]], [i], xerr=[[v["value"] - v["low"]], [v["high"] - v["value"]]], fmt="o", color="C0")
        ax.plot([d["L_eta"]], [2], "s", color="C1")
        ax.axvline(d["L_star"], color="C2", label=r"$L(\Phi^*)$")
        ax.set_yticks(range(3), labels)
        ax.set_xlabel("estimate of $L(\\Phi^*)$ at $\\eta$ = %.3g" % d["eta"])
        ax.set_title("E3: the slide's extrapolation has the wrong sign")
        ax.legend()
    return paths


def figure_e4(result, outdir) -> list[str]:
    d = result.data
    etas = np.array(d["etas"])
    y = np.array(d["excess_mean"])
    with new_figure(outdir, "fig_e4_quarter", figsize=(4.2, 3.2)) as (fig, ax, paths):
        x = np.linspace(0, etas.max(), 100)
        ax.plot(x, d["corrected_slope"] * x, color="C1", label=r"corrected $\frac{\eta}{4}E\|g\|^2$")
        ax.plot(x, d["printed_slope"] * x, color="C3", label=r"printed $\eta\,E\|g\|^2$")
        ax.plot(etas, y, "o", color="C0", mfc="white", label="SGD Monte Carlo")
        ax.set_ylim(0, 1.5 * y.max())
        ax.set_xlabel(r"learning rate $\eta$")
        ax.set_ylabel(r"$L(\eta) - L(\Phi^*)$")
        ax.set_title("E4: the slide drops the factor 1/4")
        ax.legend()
    return paths


FIGURES = {"B3": figure_b3, "B4": figure_b4, "B5": figure_b5, "E3": figure_e3, "E4": figure_e4}
