"""Figure of claim A7 (sampling order: cyclic vs random reshuffling vs with replacement)."""

from __future__ import annotations

import numpy as np

from . import ci_label, legend_below, new_figure

COLORS = {"cyclic": "C3", "reshuffle": "C0", "with_replacement": "C2"}
LABELS = {"cyclic": "cyclic (listed order)", "reshuffle": "random reshuffling", "with_replacement": "with replacement"}


def _interval(d: dict) -> tuple[float, float]:
    """(value, half-width) of a serialised ``Estimate``."""
    return d["value"], 0.5 * (d["high"] - d["low"])


def _slope_text(s: dict) -> str:
    mc = s["mc"]
    return f"slope {mc['value']:.3f} [{mc['low']:.3f}, {mc['high']:.3f}], exact {s['exact']:.3f}"


def fig_a7_sampling_order(result, outdir) -> list[str]:
    """Four panels. (a) end-of-epoch bias against eta (log-log): exact stationary |E w - w*| (cyclic) and
    E[(w - w*).u] (reshuffling, u = b1/|b1|), their O(eta) asymptotes b1 eta, and the Monte Carlo values
    with intervals; (b) E|w - w*|^2 of the three schemes, exact curves, asymptotes (eta tr S0 and
    |b1|^2 eta^2) and Monte Carlo intervals; (c) the components of E[w_T - w*]/eta at the two Monte Carlo
    learning rates with intervals, against SymPy's b1 (with replacement: 0); (d) |b1| of the cyclic scheme
    over all n! orders (n <= 7), with the listed (sorted) order and the reshuffling |b1|."""
    d = result.data
    cv = d["curves"]
    eta = np.array(cv["eta"])
    lab = ci_label(result)
    mc = [d["mc"][k] for k in sorted(d["mc"], key=int)]
    etas = np.array([m["eta"] for m in mc])
    b1c, b1r = np.array(d["b1"]["cyclic"]), np.array(d["b1"]["reshuffle"])
    with new_figure(outdir, "fig_a7_sampling_order", ncols=4, figsize=(17.0, 3.9), row_height=3.2,
                    appendix_panels=2) as (fig, axes, paths):
        ax = axes[0]
        ax.plot(eta, cv["bias_cyclic"], color=COLORS["cyclic"], label=r"cyclic $|E w - w^*|$ exact")
        ax.plot(eta, cv["proj_reshuffle"], color=COLORS["reshuffle"],
                label=r"reshuffling $E(w - w^*)\cdot u$ exact")
        ax.plot(eta, np.linalg.norm(b1c) * eta, color=COLORS["cyclic"], linestyle=":", label=r"$|b_1|\,\eta$ (SymPy)")
        ax.plot(eta, np.linalg.norm(b1r) * eta, color=COLORS["reshuffle"], linestyle=":")
        ax.plot(etas, [np.linalg.norm(m["cyclic"]["mc"]) for m in mc], "s", color=COLORS["cyclic"], mfc="white",
                label="simulated (deterministic)")
        pr = np.array([_interval(m["reshuffle"]["proj"]) for m in mc])
        ax.errorbar(etas, pr[:, 0], yerr=pr[:, 1], fmt="o", color=COLORS["reshuffle"], mfc="white",
                    label=f"Monte Carlo, {lab}\n{_slope_text(d['slopes']['bias_reshuffle'])}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(r"learning rate $\eta$")
        ax.set_ylabel("end-of-epoch bias")
        ax.set_title(r"(a) bias: $\Theta(\eta)$ for both orders")
        legend_below(ax, fontsize=6)

        ax = axes[1]
        for s in ("cyclic", "reshuffle", "with_replacement"):
            ax.plot(eta, cv[f"mse_{s}"], color=COLORS[s], label=f"{LABELS[s]} exact")
        ax.plot(eta, d["trS0"] * eta, color=COLORS["with_replacement"], linestyle=":",
                label=r"$\eta\,\mathrm{tr}\,S_0$")
        ax.plot(eta, float(b1r @ b1r) * eta**2, color=COLORS["reshuffle"], linestyle=":", label=r"$|b_1|^2\eta^2$")
        ax.plot(etas, [float(np.sum(np.array(m["cyclic"]["mc"]) ** 2)) for m in mc], "s", color=COLORS["cyclic"],
                mfc="white")
        for s, key in (("reshuffle", "mse_reshuffle"), ("with_replacement", "mse_with_replacement")):
            v = np.array([_interval(m[s]["mse"]) for m in mc])
            ax.errorbar(etas, v[:, 0], yerr=v[:, 1], fmt="o", color=COLORS[s], mfc="white",
                        label=f"MC {lab}: {_slope_text(d['slopes'][key])}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(r"learning rate $\eta$")
        ax.set_ylabel(r"$E\,|w_T - w^*|^2$")
        ax.set_title(r"(b) error: $\eta$ (w. repl.) vs $\eta^2$ (reshuffling)")
        legend_below(ax, fontsize=6)

        ax = axes[2]
        dim = len(b1r)
        markers = "o^vD<>ph"
        for j in range(dim):
            mk = markers[j % len(markers)]
            for s, off in (("reshuffle", 0.97), ("with_replacement", 1.03)):
                v = np.array([_interval(m[s]["mean"][j]) for m in mc]) / etas[:, None]
                ax.errorbar(etas * off, v[:, 0], yerr=v[:, 1], fmt=mk, color=COLORS[s], mfc="white",
                            label=f"{LABELS[s]} [{j}], {lab}")
            ax.plot(etas, [m["cyclic"]["mc"][j] / m["eta"] for m in mc], mk, color=COLORS["cyclic"],
                    label=f"cyclic [{j}] (deterministic)")
            ax.axhline(b1r[j], color=COLORS["reshuffle"], linestyle=":", linewidth=0.8)
            ax.axhline(b1c[j], color=COLORS["cyclic"], linestyle=":", linewidth=0.8)
        ax.axhline(0.0, color=COLORS["with_replacement"], linestyle=":", linewidth=0.8)
        ax.set_xscale("log")
        ax.set_xticks(etas)
        ax.set_xticks([], minor=True)
        ax.set_xticklabels([f"{e:g}" for e in etas])
        ax.set_xlim(etas.min() / 1.6, etas.max() * 1.6)
        ax.set_xlabel(r"learning rate $\eta$ (Monte Carlo)")
        ax.set_ylabel(r"$E[w_T - w^*]_k / \eta$")
        ax.set_title(r"(c) bias$/\eta$ by component (dotted: SymPy $b_1$)")
        legend_below(ax, fontsize=6, ncol=2)

        ax = axes[3]
        od = d.get("orders")
        if od:
            ax.hist(od["b1_norms"], bins=30, color="0.7", edgecolor="0.3",
                    label=f"all {len(od['b1_norms'])} cyclic orders")
            ax.axvline(od["listed"], color=COLORS["cyclic"],
                       label=f"listed order: rank {od['rank_listed'] + 1}")
            ax.axvline(od["b1_reshuffle"], color=COLORS["reshuffle"], linestyle="--", label="random reshuffling")
            ax.axvline(0.0, color=COLORS["with_replacement"], linestyle=":", label="with replacement")
            legend_below(ax, fontsize=6, ncol=2)  # inside, it covered bars and the listed order's line
        else:
            ax.text(0.5, 0.5, "n > 7: orders not enumerated", ha="center", va="center", transform=ax.transAxes)
        ax.set_xlabel(r"$|b_1|$ = lim bias/$\eta$")
        ax.set_ylabel("number of orders")
        ax.set_title("(d) which order: leading bias")
        fig.suptitle(r"A7: sampling order matters (end-of-epoch iterate, batch size 1, constant $\eta$)", fontsize=9)
    return paths
