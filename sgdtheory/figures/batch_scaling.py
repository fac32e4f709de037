"""Figures of claims C3 (linear scaling), C4 (momentum and second-moment horizons), C5 (decay eta = grow B).

Every Monte Carlo estimate is drawn with its interval (the run's level, ``ci_label``); exact values as lines or
crosses; negative-control predictions as open diamonds.
"""

from __future__ import annotations

import numpy as np

from . import ci_label, legend_below, new_figure


def _err(ax, x, est, **kw):
    v = est["value"]
    ax.errorbar([x], [v], yerr=[[v - est["low"]], [est["high"] - v]], capsize=3, **kw)


def fig_c3(result, outdir) -> list[str]:
    """(a) |one step at B eta - B steps at eta| against eta (slope 2) and the unscaled control (slope 1);
    (b) exact stationary differences at equal eta/B (O(r^2)) and at equal eta (O(eta)); (c) Monte Carlo stationary
    excess loss at (eta, B) = (B r, B) against the exact values, the batch-1 value at the same eta/B and the
    control (batch 1 at the same eta)."""
    d = result.data
    label = ci_label(result)
    with new_figure(outdir, "fig_c3_linear_scaling", ncols=3, figsize=(13.5, 4.0)) as (fig, axes, paths):
        ax = axes[0]
        om = d["one_vs_many"]
        eta = np.array(om["etas"])
        ax.loglog(eta, om["scaled"], "o-", color="C0", label=f"$\\eta_B = B\\eta_1$ (slope {om['slope_scaled']['value']:.3f})")
        ax.loglog(eta, om["unscaled"], "s--", color="C3", label=f"control $\\eta_B = \\eta_1$ (slope {om['slope_unscaled']['value']:.3f})")
        ax.loglog(eta, om["eta2_norm"] * eta**2, ":", color="k", label="SymPy $\\eta^2|\\sum_{j<k}H_k\\nabla L_j|$")
        ax.set_xlabel("$\\eta_1$")
        ax.set_ylabel("$|x_B - y|$")
        ax.set_title("(a) one step vs $B$ steps (exact, float64)")
        ax.legend(fontsize=7)
        ax = axes[1]
        st = d["stationary"]
        rs = np.array(st["rs"])
        ax.loglog(rs, np.abs(st["diff_same_ratio"]), "o-", color="C0", label="$|E(Br,B) - E(r,1)|$ (same $\\eta/B$)")
        ax.loglog(rs, np.abs(st["diff_same_eta"]), "s--", color="C3", label="control $|E(Br,B) - E(Br,1)|$ (same $\\eta$)")
        ax.set_xlabel("$r = \\eta/B$")
        ax.set_ylabel("exact difference of stationary $E L - L^*$")
        ax.set_title(f"(b) exact stationary moments, B = {st['batch_sizes'][-1]}")
        ax.legend(fontsize=7)
        ax = axes[2]
        Bs = st["batch_sizes"]
        for k, B in enumerate(Bs):
            _err(ax, B, st["mc"][k], fmt="o", color="k", mfc="white", label=f"Monte Carlo ({label})" if k == 0 else None)
            ax.plot([B], [st["exact"][k]], "x", color="C1", ms=8, label="exact $E(Br, B)$" if k == 0 else None)
            ax.plot([B], [st["batch1_same_eta"][k]], "d", color="C3", mfc="none",
                    label="control: batch 1 at the same $\\eta$" if k == 0 else None)
        ax.axhline(st["exact"][0], color="C0", linestyle=":", label="batch 1 at the same $\\eta/B$")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("batch size $B$ ($\\eta = B r$)")
        ax.set_ylabel("stationary $E L - L^*$")
        ax.set_title(f"(c) $r = \\eta/B$ = {st['ratio']:g}")
        ax.legend(fontsize=7)
    return paths


def fig_c4(result, outdir) -> list[str]:
    """(a) exact relative differences (batch B over batch 1) of tr Cov(mu) and of the excess loss against eps, for
    the scaled and the unscaled horizon; (b) Monte Carlo tr Cov(mu) and excess loss with intervals; (c) the EMA
    variance and the second-moment estimate with intervals against their exact values."""
    d = result.data
    label = ci_label(result)
    with new_figure(outdir, "fig_c4_momentum_horizon", ncols=3, figsize=(13.5, 4.0),
                    row_height=2.6) as (fig, axes, paths):
        ax = axes[0]
        ex = d["exact"]
        eps = np.array(ex["eps"])
        ax.loglog(eps, np.abs(ex["rel"]["scaled"]["mu"]), "o-", color="C0", label="tr Cov($\\mu$), $N_B = N_1/B$")
        ax.loglog(eps, np.abs(ex["rel"]["unscaled"]["mu"]), "s--", color="C3", label="tr Cov($\\mu$), control $N_B = N_1$")
        ax.loglog(eps, np.abs(ex["rel"]["scaled"]["x"]), "^-", color="C2", label="excess loss, $N_B = N_1/B$")
        ax.loglog(eps, np.abs(ex["rel"]["unscaled"]["x"]), "v:", color="C4", label="excess loss, $N_B = N_1$")
        ax.set_xlabel("$\\varepsilon$ ($1/N_1 = a\\varepsilon$, $\\eta'_1 = c\\varepsilon$)")
        ax.set_ylabel("|relative difference| batch $B$ vs 1 (exact)")
        ax.set_title("(a) exact discrete Lyapunov")
        legend_below(ax, fontsize=6.5)  # inside, it covered the curves
        ax = axes[1]
        hb = d["heavy_ball"]
        for k, rule in enumerate(("scaled", "unscaled")):
            m = hb["mc"][rule]
            for j, key in enumerate(("mu", "x")):
                x = 2 * j + k
                sc = hb["batch1"][key]
                e = {kk: m[key][kk] / sc for kk in ("value", "low", "high")}
                _err(ax, x, e, fmt="o", color="k", mfc="white", label=f"Monte Carlo ({label})" if x == 0 else None)
                ax.plot([x], [m[f"exact_{key}"] / sc], "x", color="C1", ms=8, label="exact at batch B" if x == 0 else None)
        ax.axhline(1.0, color="C0", linestyle=":", label="batch 1")
        ax.set_xticks([0, 1, 2, 3])
        ax.set_xticklabels(["Cov($\\mu$)\nscaled", "Cov($\\mu$)\nunscaled", "loss\nscaled", "loss\nunscaled"], fontsize=7)
        ax.set_ylabel("over the batch-1 exact value")
        ax.set_title(f"(b) heavy ball, B = {hb['B']}, $N_1$ = {hb['N_1']:.0f}")
        ax.legend(fontsize=7)
        ax = axes[2]
        rows = []
        for lab, v in d["ema"].items():
            rows.append((f"Var EMA, {lab}", v["est"], v["pred"], d["ema"]["batch 1"]["pred"]))
        for lab, v in d["second_moment"]["runs"].items():
            rows.append((f"E s, {lab}", v["est"], v["pred"], d["second_moment"]["mean_sq"]))
        y = np.arange(len(rows))[::-1]
        for yy, (lab, e, pred, ref) in zip(y, rows):
            ax.errorbar([e["value"] / ref], [yy], xerr=[[(e["value"] - e["low"]) / ref], [(e["high"] - e["value"]) / ref]],
                        fmt="o", color="k", mfc="white", capsize=2)
            ax.plot([pred / ref], [yy], "x", color="C1", ms=7)
        ax.axvline(1.0, color="C0", linestyle=":")
        ax.set_yticks(y)
        ax.set_yticklabels([r[0] for r in rows], fontsize=6.5)
        ax.set_xlabel("over batch 1 / mean$_i g_i^2$ (exact: x)")
        ax.set_title("(c) EMA at a fixed point; $N_s$")
    return paths


def fig_c5(result, outdir) -> list[str]:
    """Excess loss per epoch for the three schedules (exact lines, Monte Carlo points with intervals), against
    epochs and against the number of updates."""
    d = result.data
    label = ci_label(result)
    epochs = np.array(d["epochs"])
    styles = {"decay": ("C0", "-", "o", "decay $\\eta$ (fixed $B$)"), "grow": ("C1", "--", "s", "grow $B$ (fixed $\\eta$)"),
              "grow_and_decay": ("C3", ":", "d", "control: grow $B$ and decay $\\eta$")}
    n_ep = d["epochs_per_stage"]
    with new_figure(outdir, "fig_c5_batch_schedule", ncols=2, figsize=(10.0, 4.0)) as (fig, axes, paths):
        for k, (c, ls, mk, lab) in styles.items():
            ex = np.array(d["exact"][k])
            mc = d["mc"][k]
            v = np.array([m["value"] for m in mc])
            lo = v - np.array([m["low"] for m in mc])
            hi = np.array([m["high"] for m in mc]) - v
            axes[0].plot(epochs, ex, ls, color=c, label=f"{lab}, exact")
            axes[0].errorbar(epochs, v, yerr=[lo, hi], fmt=mk, color=c, mfc="white", ms=4, capsize=2)
            upd = np.concatenate([[0], np.cumsum(np.repeat(_updates_per_epoch(result, k), n_ep))])
            axes[1].plot(upd, ex, ls, color=c, label=f"{lab} ({d['updates'][k]} updates)")
            axes[1].errorbar(upd, v, yerr=[lo, hi], fmt=mk, color=c, mfc="white", ms=4, capsize=2)
        for ax in axes:
            ax.set_yscale("log")
            ax.set_ylabel("$E L - L^*$")
        axes[0].set_xlabel("epoch")
        axes[1].set_xlabel("parameter updates")
        axes[0].set_title(f"(a) per epoch (points: Monte Carlo, {label})")
        axes[1].set_title("(b) per update: growing $B$ takes fewer updates")
        axes[0].legend(fontsize=7)
        axes[1].legend(fontsize=7)
    return paths


def _updates_per_epoch(result, kind):
    p = result.parameters
    from ..theory import batch_scaling as bs

    st = bs.schedule(kind, p["eta0"], p["B0"], p["factor"], p["n_stages"], p["epochs"])
    return np.array([p["n"] // s.batch for s in st])


FIGURES = {"C3": fig_c3, "C4": fig_c4, "C5": fig_c5}
