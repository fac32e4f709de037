"""Figure of claim B1 (one-dimensional Boltzmann law): variance against eta on the quadratic, histograms with
intervals against the predicted densities, and every goodness-of-fit distance with its DKW band."""

from __future__ import annotations

import numpy as np

from . import APPENDIX_SUFFIX, ci_label, save, styled


SHORT = {"gauss_exact": "N(0, exact v)", "gauss_langevin": "N(0, Langevin v)", "boltzmann_small": "Boltzmann",
         "wrong_temperature": "wrong T", "nystrom_large": "exact discrete", "boltzmann_large": "Boltzmann",
         "ito": "Ito F-P", "boltzmann_min": "Boltzmann Sigma(w*)", "boltzmann_avg": "Boltzmann <Sigma>",
         "stratonovich": "Stratonovich", "isothermal": "isothermal"}


def _hist(ax, h, label, color="k"):
    """Histogram density with Clopper-Pearson intervals per bin (drawn as error bars)."""
    edges = np.array(h["edges"])
    mid = 0.5 * (edges[1:] + edges[:-1])
    dens = np.array(h["density"])
    lo, hi = np.array(h["low"]), np.array(h["high"])
    ax.stairs(dens, edges, color="0.6", linewidth=0.8)
    ax.errorbar(mid, dens, yerr=[dens - lo, hi - dens], fmt="o", ms=2.2, color=color, mfc="white", capsize=1.2,
                elinewidth=0.8, label=label)


def fig_b1_boltzmann_1d(result, outdir) -> list[str]:
    """(a) quadratic: normalised stationary variance v h/(eta sigma^2) against eta with intervals, the exact
    1/(2 - eta h) and the Langevin 1/2, and the predicted detection eta*; (b) quadratic histogram at the main eta
    against N(0, v_exact) and N(0, v_Langevin); (c) every goodness-of-fit distance D = sup|F_MC - F| with its
    DKW band against the resolution; (d, e) double well at the small and the large eta: histograms against
    Boltzmann, the exact discrete (Nystrom) law and the wrong temperature; (f) state-dependent noise: histogram
    against the Ito Fokker--Planck density, the Stratonovich and isothermal conventions and Boltzmann with a
    frozen Sigma."""
    d = result.data
    label = ci_label(result)
    with styled() as plt:
        # at print width: (a) (b) / (c) across the page (its labels are long) / (d) (e) / (f) and its legend
        # (c) sits in its own subfigure so that its long tick labels do not widen the other panels' margins
        # (d)-(f), the histograms behind (c), are a second figure printed in the paper's appendix
        fig = plt.figure(figsize=(6.77, 4.3), layout="constrained")
        more = plt.figure(figsize=(6.77, 4.4), layout="constrained")
        top, middle = fig.subfigures(2, 1, height_ratios=[1.25, 1.0])
        m = dict(zip("ab", top.subplots(1, 2)))
        m["c"] = middle.subplots(1, 1)
        m.update(more.subplot_mosaic("de;fg"))
        axes = np.array([[m["a"], m["b"], m["c"]], [m["d"], m["e"], m["f"]]])
        m["g"].axis("off")
        paths: list[str] = []
        try:
            # (a) variance vs eta
            ax = axes[0, 0]
            sw = d["sweep"]
            h = sw["h"]
            rows = sw["rows"]
            eta = np.array([r["eta"] for r in rows])
            scale = 1.0 / (2.0 - eta * h)  # X = v_MC / v_exact, so v_MC h/(eta sigma^2) = X / (2 - eta h)
            X = np.array([r["estimate"]["value"] for r in rows])
            lo = np.array([r["estimate"]["low"] for r in rows])
            hi = np.array([r["estimate"]["high"] for r in rows])
            fine = np.geomspace(eta.min() / 1.5, min(eta.max() * 1.3, 1.99 / h), 300)
            ax.plot(fine, 1.0 / (2.0 - fine * h), "-", color="C1", label=r"exact $1/(2-\eta h)$")
            ax.plot(fine, 0.5 + 0 * fine, ":", color="C2", label=r"Langevin $1/2$")
            rej = np.array([r["langevin_rejected"] for r in rows])
            ax.errorbar(eta[~rej], (X * scale)[~rej], yerr=[((X - lo) * scale)[~rej], ((hi - X) * scale)[~rej]],
                        fmt="o", color="k", mfc="white", capsize=2,
                        label=f"Monte Carlo ({label}), Langevin not rejected")
            ax.errorbar(eta[rej], (X * scale)[rej], yerr=[((X - lo) * scale)[rej], ((hi - X) * scale)[rej]], fmt="s",
                        color="C3", capsize=2, label="Monte Carlo, Langevin rejected")
            q = d["quadratic"]
            Xm = q["X"]
            sm = 1.0 / (2.0 - q["eta"] * h)
            ax.errorbar([q["eta"]], [Xm["value"] * sm], yerr=[[(Xm["value"] - Xm["low"]) * sm],
                                                              [(Xm["high"] - Xm["value"]) * sm]],
                        fmt="D", color="C0", ms=4, capsize=2, label=f"main $\\eta$ = {q['eta']:g}")
            ax.axvline(sw["eta_detect_predicted"], color="C5", linestyle="--",
                       label=f"power 1/2 (predicted): $\\eta^*$ = {sw['eta_detect_predicted']:.3g}")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel(r"learning rate $\eta$")
            ax.set_ylabel(r"$\mathrm{Var}(w)\, h / (\eta \sigma^2)$")
            ax.set_title(f"(a) quadratic: stationary variance,\n{sw['paths']} paths per $\\eta$")
            lo_y, hi_y = ax.get_ylim()
            ax.set_ylim(lo_y, hi_y * (hi_y / lo_y) ** 1.1)  # the data in the lower half, the legend above
            ax.legend(fontsize=6, loc="upper left", frameon=True, framealpha=0.9, edgecolor="none")  # over the line

            # (b) quadratic histogram
            ax = axes[0, 1]
            _hist(ax, q["hist"], f"Monte Carlo ({label})")
            x = np.linspace(q["hist"]["edges"][0], q["hist"]["edges"][-1], 400)
            for v, lab, c, ls in ((q["v_exact"], f"exact N(0, {q['v_exact']:.3g})", "C1", "-"),
                                  (q["v_langevin"], f"Langevin N(0, {q['v_langevin']:.3g})", "C2", ":")):
                ax.plot(x, np.exp(-0.5 * x**2 / v) / np.sqrt(2 * np.pi * v), color=c, linestyle=ls, label=lab)
            ax.set_xlabel("$w - w^*$")
            ax.set_ylabel("density")
            ax.set_title(f"(b) quadratic, $\\eta h$ = {q['eta'] * h:g}")
            ax.set_ylim(0, ax.get_ylim()[1] * 1.6)
            ax.legend(fontsize=6, loc="upper left", handlelength=1.5)

            # (c) every GOF distance
            ax = axes[0, 2]
            gofs = [("quadratic", r) for r in d["quadratic"]["gof"]]
            gofs += [("double well", r) for r in d["double_well"]["gof"]]
            gofs += [("state dep.", r) for r in d["state_dependent"]["gof"]]
            y = np.arange(len(gofs))[::-1]
            for yy, (part, r) in zip(y, gofs):
                e = r["est"]
                col = "k" if r["role"] == "claim" else "C3" if r["role"] == "negative control" else "0.6"
                ax.errorbar([e["value"]], [yy], xerr=[[e["value"] - e["low"]], [e["high"] - e["value"]]], fmt="o",
                            color=col, mfc="white", ms=4, capsize=2)
                ax.plot([r["delta"]], [yy], "x", color="C1", ms=6)
            ax.errorbar([], [], xerr=[], fmt="o", color="k", mfc="white", label=f"claim: D with DKW band ({label})")
            ax.errorbar([], [], xerr=[], fmt="o", color="C3", mfc="white", label="negative control")
            ax.plot([], [], "x", color="C1", label="exact distance from the discrete law")
            ax.axvline(result.parameters["resolutions"]["gof"], color="C2", linestyle="--", label="resolution")
            ax.set_yticks(y)
            ax.set_yticklabels([f"{p}: {SHORT.get(r['key'], r['key'])}, $\\eta$={r['eta']:g}" for p, r in gofs],
                               fontsize=6.5)
            ax.set_xscale("symlog", linthresh=0.01)
            ax.set_xlabel(r"$\sup_x |F_{MC}(x) - F_{pred}(x)|$")
            ax.set_title("(c) whole-density fits")
            ax.legend(fontsize=6.5, loc="center left", bbox_to_anchor=(1.01, 0.5))

            # (d, e) double well
            dw = d["double_well"]
            for ax, key, tag in ((axes[1, 0], "small", "(d)"), (axes[1, 1], "large", "(e)")):
                gd = dw["grid_density"][key]
                _hist(ax, dw["hist"][key], f"Monte Carlo ({label})")
                b = dw["grid_density"]["boltzmann"]
                ax.plot(b["x"], b["pdf"], "-", color="C2", label=r"Boltzmann $e^{-2L/\eta\sigma^2}$")
                ny = gd["nystrom"]
                ax.plot(ny["x"], ny["pdf"], "--", color="C1", label="exact discrete (Nystrom)")
                if key == "small":
                    wt = dw["grid_density"]["wrong_temperature"]
                    ax.plot(wt["x"], wt["pdf"], "-.", color="C3", label=r"wrong $e^{-L/\eta\sigma^2}$")
                ax.set_xlim(dw["hist"][key]["edges"][0], dw["hist"][key]["edges"][-1])
                ax.set_xlabel("$w$")
                ax.set_ylabel("density")
                ax.set_title(f"{tag} double well, $\\eta$ = {gd['eta']:g}, T = {dw['temperature']:.3g}\n"
                             f"({gd['steps']} steps, Kramers {gd['kramers_steps']:.0f})", fontsize=9)
                ax.set_ylim(0, ax.get_ylim()[1] * 2.6)
                ax.legend(fontsize=6, loc="upper left", handlelength=1.5)

            # (f) state-dependent
            ax = axes[1, 2]
            sd = d["state_dependent"]
            _hist(ax, sd["hist"], f"Monte Carlo ({label})")
            styles = {"ito": ("C1", "-", "Ito F-P $(1/D)e^{-\\int L'/D}$"),
                      "stratonovich": ("C4", "--", "Stratonovich $D^{-1/2}e^{-\\int L'/D}$"),
                      "isothermal": ("C5", ":", "isothermal $e^{-\\int L'/D}$"),
                      "boltzmann_min": ("C3", "-.", r"Boltzmann, $\Sigma(w^*)$"),
                      "boltzmann_avg": ("C2", (0, (1, 1)), r"Boltzmann, $\langle\Sigma\rangle$")}
            for k, (c, ls, lab) in styles.items():
                dd = sd["densities"][k]
                ax.plot(dd["x"], dd["pdf"], color=c, linestyle=ls, label=lab)
            ax.set_xlim(sd["hist"]["edges"][0], sd["hist"]["edges"][-1])
            ax.set_xlabel("$w$")
            ax.set_ylabel("density")
            ax.set_title(f"(f) state-dependent noise,\n$\\eta$ = {sd['eta']:g} ({sd['steps']} steps)", fontsize=9)
            m["g"].legend(*ax.get_legend_handles_labels(), fontsize=7, loc="center left", title="(f)",
                          title_fontsize=8)
            paths.extend(save(fig, outdir, "fig_b1_boltzmann_1d"))
            paths.extend(save(more, outdir, "fig_b1_boltzmann_1d" + APPENDIX_SUFFIX))
        finally:
            plt.close(fig)
            plt.close(more)
    return paths
