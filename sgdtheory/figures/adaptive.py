"""Figures of claims D6 (AdaGrad), D7 (RMSProp), D9 (Adam forms) and errata E7, E8 (``claims.adaptive``)."""

from __future__ import annotations

import numpy as np

from . import ci_label, new_figure

FORM_STYLE = {"published": ("C0", "-", "published (Kingma & Ba Alg. 1)"),
              "uncorrected": ("C1", "--", "000 corrected: no bias correction"),
              "printed_000": ("C3", ":", "000 as printed (m_t, v_t) [E7]"),
              "printed_001": ("C4", "-.", "001 as printed, 0/0 := 0 [E8]"),
              "mcallester": ("C2", (0, (1, 1)), "003 min(t, N) form")}


def figure_d6(result, outdir) -> list[str]:
    """E eta_eff,t against t (log-log) with intervals, the fitted t^(-1/2) line and the controls."""
    d = result.data
    t = np.array(d["t"], float)
    mean = np.array(d["mean_eff"])
    half = np.array(d["half_width"])
    k = d["coordinate"]
    with new_figure(outdir, "fig_d6_adagrad_step") as (fig, ax, paths):
        for j in range(mean.shape[1]):
            ax.errorbar(t, mean[:, j], yerr=half[:, j], fmt="os"[j % 2], ms=3, mfc="white", color=f"C{j}",
                        label=f"AdaGrad, coordinate {j} (MC, {ci_label(result)})")
        ref = mean[-1, k] * (t / t[-1]) ** -0.5
        ax.plot(t, ref, color="k", lw=0.8, label=r"predicted $\propto t^{-1/2}$")
        ax.plot(t, np.full_like(t, mean[-1, k]), color="0.5", ls=":", label="control: constant")
        ax.plot(t, mean[-1, k] * (t / t[-1]) ** -1.0, color="0.5", ls="--", label=r"control: $\propto t^{-1}$")
        ax.axvline(d["fit_from"], color="0.8", lw=0.8)
        for j, lim in enumerate(d["noiseless_limit"]):
            ax.axhline(lim, color=f"C{j}", lw=0.6, ls="-.")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("step $t$")
        ax.set_ylabel(r"$E\,\eta/(\sqrt{G_t}+\epsilon)$")
        ax.set_title(f"D6: AdaGrad effective step (slope {d['slope']:.4f}); dash-dot: noiseless limits", fontsize=8)
        ax.legend(fontsize=6)
    return paths


def figure_d7(result, outdir) -> list[str]:
    """Left: E s_t at the fixed point vs (1 - beta^t)(g^2 + sigma^2) and g^2.  Right: E g^2/sigma^2 near the optimum."""
    d = result.data
    beta = d["beta"]
    k = d["coordinate"]
    g2 = d["g_fixed"][k] ** 2
    s2 = d["sigma2"][k]
    tt = np.arange(1, max(d["fixed_t"]) + 1)
    with new_figure(outdir, "fig_d7_rmsprop_second_moment", ncols=2, figsize=(9.0, 3.5)) as (fig, axes, paths):
        ax, bx = axes
        ax.plot(tt, (1 - beta**tt) * (g2 + s2), color="C0", label=r"$(1-\beta^t)(g^2+\sigma^2)$ (exact)")
        ax.plot(tt, (1 - beta**tt) * g2, color="C3", ls="--", label=r"control: $(1-\beta^t)g^2$")
        ax.errorbar(d["fixed_t"], [m[k] for m in d["fixed_mean"]], yerr=[h[k] for h in d["fixed_half"]], fmt="o",
                    color="k", mfc="white", label=f"MC ({ci_label(result)})")
        ax.set_xlabel("step $t$")
        ax.set_ylabel(r"$E\,s_t$")
        ax.set_title(f"D7: RMSProp's $s$ at a fixed point (coordinate {k})", fontsize=8)
        ax.legend(fontsize=7)
        pc = d["per_coordinate"]
        x = np.arange(len(pc))
        bx.errorbar(x - 0.1, [c["E_g2_over_sigma2"] for c in pc], yerr=[c["half_width"] for c in pc], fmt="o",
                    color="C0", mfc="white", label=f"RMSProp (MC, {ci_label(result)})")
        bx.plot(x + 0.1, [c["sgd_E_g2_over_sigma2"] for c in pc], "s", color="C1", mfc="white", label="SGD (MC)")
        bx.plot(x + 0.1, [c["sgd_exact"] for c in pc], "_", color="C1", ms=14, label="SGD exact")
        bx.axhline(1.0, color="C3", ls="--", label=r"control: $\sigma \sim g$")
        bx.axhline(0.1, color="0.5", ls=":", label=r"$\sigma^2/g^2 = 10$")
        bx.set_xticks(x, [f"h = {c['h']:g}" for c in pc])
        bx.set_yscale("log")
        bx.set_ylabel(r"$E\,g^2/\sigma^2$ near the optimum")
        bx.set_title(r"$\sigma \gg g$ when $\eta h/\sigma \ll 1$", fontsize=8)
        bx.legend(fontsize=6)
    return paths


def figure_d9(result, outdir) -> list[str]:
    """Left: |w_t| of each Adam form on the narrow valley.  Right: stationary errors with intervals."""
    d = result.data
    step = d["traj_step"]
    with new_figure(outdir, "fig_d9_adam_forms", ncols=2, figsize=(9.0, 3.5)) as (fig, axes, paths):
        ax, bx = axes
        for form, traj in d["traj"].items():
            c, ls, label = FORM_STYLE[form]
            tr = np.array(traj)
            ax.plot(np.arange(tr.shape[0]) * step, np.maximum(np.linalg.norm(tr, axis=1), 1e-300), color=c, ls=ls, label=label)
        ax.set_yscale("log")
        ax.set_ylim(1e-12, 10)
        below = [np.argmax(np.linalg.norm(np.array(tr), axis=1) < 1e-12) for tr in d["traj"].values()]
        if all(b > 0 for b in below):
            ax.set_xlim(0, 1.2 * max(below) * step)
        ax.set_xlabel("step $t$")
        ax.set_ylabel(r"$|w_t - w^*|$")
        ax.set_title(f"D9: noiseless narrow valley h = {d['h']}, alpha = {d['alpha']}", fontsize=8)
        ax.legend(fontsize=6)
        names = [f for f in FORM_STYLE if d["stationary"].get(f)]
        for i, f in enumerate(names):
            e = d["stationary"][f]
            bx.errorbar([i], [e["value"]], yerr=[[e["value"] - e["low"]], [e["high"] - e["value"]]], fmt="o",
                        color=FORM_STYLE[f][0], mfc="white")
        bx.set_xticks(range(len(names)), [f.replace("_", "\n") for f in names], fontsize=7)
        bx.set_ylabel(r"stationary $E|w - w^*|^2$")
        bx.set_title(f"noisy quadratic ({ci_label(result)})", fontsize=8)
    return paths


def figure_e7(result, outdir) -> list[str]:
    """Left: EMA momentum, corrected vs printed, on the narrow valley.  Right: Adam, corrected vs printed."""
    d = result.data
    with new_figure(outdir, "fig_e7_adam_indexing", ncols=2, figsize=(9.0, 3.5)) as (fig, axes, paths):
        ax, bx = axes
        for form, c, ls in (("corrected", "C0", "-"), ("printed", "C3", "--")):
            tr = np.array(d["momentum"][form])
            ax.plot(np.maximum(np.linalg.norm(tr, axis=1), 1e-300), color=c, ls=ls,
                    label=f"{form}: stable iff eta h < {d['limits'][form]:.3g}")
            tr = np.array(d["adam"][form])
            bx.plot(np.maximum(np.linalg.norm(tr, axis=1), 1e-300), color=c, ls=ls,
                    label=f"{form} ({'m_(t+1), v_(t+1)' if form == 'corrected' else 'm_t, v_t'})")
        ax.set_yscale("log")
        ax.set_xlabel("step $t$")
        ax.set_ylabel(r"$|w_t|$")
        ax.set_title(f"E7: EMA momentum, $\\eta$ = {d['lr']}, $\\beta$ = {d['beta']},\nh = {d['h']}", fontsize=8)
        ax.legend(fontsize=7)
        bx.set_yscale("log")
        bx.set_xlabel("step $t$")
        bx.set_ylabel(r"$|w_t|$")
        bx.set_title("E7: Adam without bias correction\n(first step of 'printed' is 0)", fontsize=8)
        bx.legend(fontsize=7)
    return paths


def figure_e8(result, outdir) -> list[str]:
    """|w_t| for Algorithm 1 and for the slide read with 0/0 := 0 (as printed the first step is NaN)."""
    d = result.data
    with new_figure(outdir, "fig_e8_adam_slide") as (fig, ax, paths):
        for key, c, ls, label in (("published", "C0", "-", "Kingma & Ba Alg. 1"),
                                  ("slide", "C4", "--", "slide 001 with 0/0 := 0 (as printed: NaN)")):
            tr = np.array(d[key])
            ax.plot(np.maximum(np.linalg.norm(tr, axis=1), 1e-300), color=c, ls=ls, label=label)
        ax.set_yscale("log")
        ax.set_xlabel("step $t$")
        ax.set_ylabel(r"$|w_t - w^*|$")
        ax.set_title(f"E8: first non-zero step {d['ratio']:.3g} alpha vs alpha", fontsize=8)
        ax.legend(fontsize=7)
    return paths


FIGURES = {"D6": figure_d6, "D7": figure_d7, "D9": figure_d9, "E7": figure_e7, "E8": figure_e8}
