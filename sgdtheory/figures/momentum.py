"""Figures of claims D1-D5 (momentum and Nesterov; seeds 000, 001, 003; Lessard et al. 2016)."""

from __future__ import annotations

import numpy as np

from . import ci_label, legend_below, new_figure


def figure_d1(result, outdir) -> list[str]:
    """Left: the weights mu^k of past gradients (and the wrong mu^(k+1)).  Right: |step - weighted sum| along the
    noisy engine paths (max over paths and coordinates) for the right and the wrong weights."""
    d = result.data
    with new_figure(outdir, "fig_d1_momentum_weights", ncols=2, figsize=(9.0, 3.5)) as (fig, axes, paths):
        ax, bx = axes
        k = np.arange(len(d["weights"]))
        ax.stem(k, d["weights"], linefmt="C0-", markerfmt="C0o", basefmt=" ", label=r"$\mu^k$ (slide 001)")
        ax.plot(k, d["wrong_weights"], "C3s--", mfc="white", label=r"control: $\mu^{k+1}$")
        ax.set_xlabel("lag $k$")
        ax.set_ylabel(r"weight of $\nabla L(\theta_{t-k})$ in the step / $\gamma$")
        ax.set_title(f"D1: momentum weights (mu = {d['mu']:g})")
        ax.legend(fontsize=7)
        t = np.arange(len(d["err_right"]))
        bx.semilogy(t, np.maximum(d["err_right"], 1e-20), "C0-", label=r"$|$step $- \gamma\sum\mu^k g_{t-k}|$")
        bx.semilogy(t, np.maximum(d["err_wrong"], 1e-20), "C3--", label=r"control: $\mu^{k+1}$")
        bx.axhline(1e-20, color="0.7", lw=0.6)
        bx.set_xlabel("step $t$")
        bx.set_ylabel("max abs difference over paths")
        bx.set_title(f"engine HeavyBall on {d['paths']} noisy paths (exact check)")
        bx.legend(fontsize=7)
    return paths


def figure_d2(result, outdir) -> list[str]:
    """One coordinate of one noisy path: EMA form vs heavy ball at lr eta(1 - beta) (identical) and at lr eta;
    McAllester's N eta mu form vs heavy ball(1 - 1/N) and the N-dropped control."""
    d = result.data
    with new_figure(outdir, "fig_d2_parameterisations", ncols=2, figsize=(9.0, 3.5), row_height=3.2) as (fig, axes, paths):
        ax, bx = axes
        t = np.arange(len(d["ema0"]))
        ax.plot(t, d["hb0"], "C0-", lw=2.5, alpha=0.5, label=r"engine heavy ball, lr $\eta(1-\beta)$")
        ax.plot(t, d["ema0"], "k:", label=r"EMA form, lr $\eta$")
        ax.plot(t, d["hb_wrong0"], "C3--", label=f"control: heavy ball, lr {d['ctrl_lr']:.3g}")
        ax.set_xlabel("step $t$")
        ax.set_ylabel(r"$(w_t - w^*)_0$, path 0")
        ax.set_title(f"D2: EMA form = heavy ball ($\\beta$ = {d['beta']:g})")
        legend_below(ax, fontsize=6.5)
        bx.plot(t, d["hbN0"], "C0-", lw=2.5, alpha=0.5, label=r"engine heavy ball, $\mu = 1 - 1/N$")
        bx.plot(t, d["mc0"], "k:", label=r"McAllester: $\Phi \leftarrow \Phi - N\eta\mu_t$")
        bx.plot(t, d["mc_wrong0"], "C3--", label=r"control: $\Phi \leftarrow \Phi - \eta\mu_t$")
        bx.set_xlabel("step $t$")
        bx.set_title(f"$v_t = N\\eta\\mu_t$ (N = {d['N']})")
        legend_below(bx, fontsize=6.5)
    return paths


def figure_d3(result, outdir) -> list[str]:
    """Left: noise-free decay |delta_k| of heavy ball (Polyak) and tuned GD with the predicted k rho^k and rho^k
    envelopes.  Right: stationary excess loss under noise, exact vs Monte Carlo with intervals, and the controls."""
    d = result.data
    with new_figure(outdir, "fig_d3_narrow_valley", ncols=2, figsize=(9.0, 3.5), row_height=3.3) as (fig, axes, paths):
        ax, bx = axes
        rh, rg = np.array(d["r_hb"]), np.array(d["r_gd"])
        kh, kg = np.arange(rh.size), np.arange(rg.size)
        ax.semilogy(kh, rh, "C0-", label=f"heavy ball (Polyak), fit rho = {d['rho_hb']:.5f}")
        ax.semilogy(kg, rg, "C1-", label=f"tuned GD, fit rho = {d['rho_gd']:.5f}")
        K = d["K_hb"]
        ref = rh[K] / (K * d["hb_rate"] ** K)
        ax.semilogy(kh[1:], ref * kh[1:] * d["hb_rate"] ** kh[1:], "C0:",
                    label=r"$\propto k\rho^k$, $\rho = (\sqrt{\kappa}-1)/(\sqrt{\kappa}+1)$")
        Kg = d["K_gd"]
        ax.semilogy(kg, rg[Kg] / d["gd_rate"] ** Kg * d["gd_rate"] ** kg, "C1:",
                    label=r"$\propto\rho^k$, $\rho = (\kappa-1)/(\kappa+1)$")
        ax.set_xlabel("step $k$")
        ax.set_ylabel(r"$|w_k - w^*|$ (no noise)")
        ax.set_title(f"D3: narrow valley, $\\kappa$ = {d['kappa']:.4g}")
        legend_below(ax, fontsize=6.5)
        st = d["stationary"]
        names = ["heavy ball", "tuned GD"]
        for i, key in enumerate(("hb", "gd")):
            m = st[key]["mc"]
            bx.errorbar([i], [m["value"]], yerr=[[m["value"] - m["low"]], [m["high"] - m["value"]]], fmt="o",
                        color="k", mfc="white", capsize=4, label=f"Monte Carlo ({ci_label(result)})" if i == 0 else None)
            bx.plot([i - 0.25, i + 0.25], [st[key]["pred"]] * 2, "C0-", label="exact (Lyapunov)" if i == 0 else None)
        bx.plot([-0.25, 0.25], [st["langevin_hb"]] * 2, "C3--", label="control: Langevin, lr/(1-beta)")
        bx.plot([-0.25, 0.25], [st["gd"]["pred"]] * 2, "C1:", label="control: GD's value")
        bx.set_xticks([0, 1])
        bx.set_xticklabels(names)
        bx.set_yscale("log")
        bx.set_ylabel(r"stationary $E\,[L(w) - L(w^*)]$")
        bx.set_title("with gradient noise N(0, C)")
        legend_below(bx, fontsize=6.5)
    return paths


def figure_d4(result, outdir) -> list[str]:
    """Left: heavy ball and NAG from x0 = 3.3 on Lessard et al.'s function, with the exact cycle's points.
    Right: the outcome (converged / on the cycle) per start."""
    d = result.data
    with new_figure(outdir, "fig_d4_lessard_cycle", ncols=2, figsize=(9.0, 3.5)) as (fig, axes, paths):
        ax, bx = axes
        t = np.arange(len(d["hb_show"]))
        ax.plot(t, d["hb_show"], "C0o-", ms=3, label="heavy ball (Polyak's tuning)")
        ax.plot(t, d["nag_show"], "C1s--", ms=3, mfc="white", label="NAG")
        for c in d["cycles"]:
            if c["stable"]:
                for j, y in enumerate(c["floats"]):
                    ax.axhline(y, color="0.5", ls=":", lw=0.8,
                               label=f"exact 3-cycle {', '.join(c['points'])}" if j == 0 else None)
        ax.set_xlabel("step $k$")
        ax.set_ylabel("$x_k$")
        ax.set_title(f"D4: mu = {d['mu']:g}, L = {d['L']:g}, x0 = {d['x0_show']:.3g}")
        ax.legend(fontsize=6)
        xs, out = np.array(d["starts"]), np.array(d["outcome"])
        bx.plot(xs, out, "C0.", ms=2)
        bx.axvspan(3.07, 3.46, color="C3", alpha=0.15, label="Lessard et al.'s starts [3.07, 3.46]")
        bx.set_yticks([0, 1, 2])
        bx.set_yticklabels(["x* = 0", "3-cycle", "neither"])
        bx.set_xlabel("start $x_0$ (heavy ball)")
        bx.set_title(f"limit of heavy ball after {d['K']} steps")
        bx.legend(fontsize=7)
    return paths


def figure_d5(result, outdir) -> list[str]:
    """Left: f(x_k) - f* of GD and NAG on the convex quadratic, log-log, with the fitted slopes and the
    Beck-Teboulle bound.  Right: the engine's Nesterov iterates and the slide's look-ahead points on a noisy path."""
    d = result.data
    with new_figure(outdir, "fig_d5_nesterov_rate", ncols=2, figsize=(9.0, 3.5)) as (fig, axes, paths):
        ax, bx = axes
        ks = np.array(d["ks"])
        ax.loglog(ks, d["f_gd"], "C1-", label=f"GD: slope {d['slope_gd']:.3f} ± {d['tol_gd']:.2g}")
        ax.loglog(ks, d["f_nag"], "C0-", label=f"NAG: slope {d['slope_nag']:.3f} ± {d['tol_nag']:.2g}")
        ax.loglog(ks, d["bound_nag"], "0.5", ls=":", label=r"bound $2L|x_0-x^*|^2/(k+1)^2$")
        K = d["K"]
        ax.axvspan(K // 2, K, color="0.85", label="fit range")
        ax.set_xlabel("iteration $k$")
        ax.set_ylabel(r"$f(x_k) - f^*$")
        ax.set_title("D5: O(1/k) vs O(1/k^2) (deterministic)")
        ax.legend(fontsize=7)
        t = np.arange(len(d["nes0"]))
        bx.plot(t, d["nes0"], "C0-", lw=2.5, alpha=0.5, label="engine Nesterov (PyTorch form)")
        bx.plot(t, d["la0"], "k:", label=r"slide: $\theta_t - \mu m_{t-1}$")
        bx.plot(t, d["hb0"], "C3--", label="control: engine heavy ball")
        bx.set_xlabel("step $t$")
        bx.set_ylabel(r"coordinate 0, noisy path 0")
        bx.set_title("look-ahead form = PyTorch form")
        bx.legend(fontsize=7)
    return paths


FIGURES = {"D1": figure_d1, "D2": figure_d2, "D3": figure_d3, "D4": figure_d4, "D5": figure_d5}
