"""Figure of claim B8 (constant SGD as approximate Bayesian inference, Mandt et al. 2017): the KL curve with Monte
Carlo points and eps*, and the stationary covariance against the posterior (ellipses)."""

from __future__ import annotations

import matplotlib.ticker
import numpy as np

from ..theory import bayesian_sgd as tb
from . import ci_label, legend_below, new_figure


def _ellipse(S2: np.ndarray, n: int = 200) -> np.ndarray:
    """Points of {x : x^T S^-1 x = 1} for a 2 x 2 covariance (the 1-sigma ellipse)."""
    ev, V = np.linalg.eigh(0.5 * (S2 + S2.T))
    t = np.linspace(0.0, 2.0 * np.pi, n)
    return (V @ (np.sqrt(np.clip(ev, 0.0, None))[:, None] * np.stack([np.cos(t), np.sin(t)]))).T


def fig_b8_bayesian_sgd(result, outdir) -> list[str]:
    """(a) KL(q || posterior) against eps for the user's noise: exact discrete chain (discrete Lyapunov), the
    continuous OU closed form, Monte Carlo with intervals at the grid and at the wrong-formula rates, eps* and the
    exact discrete argmin marked; (b) 1-sigma ellipses at eps* for the user's C: posterior (N A)^-1, OU, exact
    discrete, Monte Carlo; (c) the same in whitened coordinates P^1/2 theta for all noise cases (the posterior is
    the unit circle), plus the small-step group (N -> k N) where C ∝ I lands on the posterior and the user's C
    does not."""
    p = result.parameters
    d = result.data
    label = ci_label(result)
    A, C, N, S = np.array(p["A"]), np.array(p["C"]), p["N"], p["batch_size"]
    curve = tb.KLCurve(A, C, N, S)
    e = d["eps_star"]
    with new_figure(outdir, "fig_b8_bayesian_sgd", ncols=3, figsize=(14.0, 4.6), row_height=3.3,
                    appendix_panels=1) as (fig, axes, paths):
        ax = axes[0]
        ms = np.array([r["m"] for r in d["sweep"]])
        hi = min(1.25 * ms.max(), 0.98 * curve.stability_limit / e)
        grid = np.geomspace(0.8 * ms.min(), hi, 200)
        ax.plot(grid * e, [curve.kl(g * e) for g in grid], "-", color="C1", label="exact discrete chain")
        ax.plot(grid * e, curve.kl_closed_form(grid * e), "--", color="C2",
                label=r"OU closed form $\frac{1}{2}[\frac{\epsilon N\,{\rm tr}BB^T}{2S} - d - d\log\epsilon - L]$")
        for on, fmt, lab in ((True, "o", f"Monte Carlo, grid ({label})"),
                             (False, "s", "Monte Carlo, wrong-formula rates")):
            rows = [r for r in d["sweep"] if r["on_grid"] == on]
            if not rows:
                continue
            x = np.array([r["eps"] for r in rows])
            v = np.array([r["kl_est"]["value"] for r in rows])
            lo = v - np.array([r["kl_est"]["low"] for r in rows])
            up = np.array([r["kl_est"]["high"] for r in rows]) - v
            ax.errorbar(x, v, yerr=[lo, up], fmt=fmt, color="k" if on else "C3", mfc="white", ms=5, capsize=2,
                        label=lab)
        ax.axvline(e, color="C0", linestyle=":", label=f"$\\epsilon^* = 2dS/(N\\,{{\\rm tr}}BB^T)$ = {e:.3g}")
        ax.axvline(d["discrete_argmin"], color="C1", linestyle="-.", linewidth=0.9,
                   label=f"exact discrete argmin {d['discrete_argmin']:.3g}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        lo_, hi_ = ax.get_ylim()
        ax.set_ylim(lo_, hi_ * 6.0)  # room for the legend above the curves
        ax.set_xlabel(r"learning rate $\epsilon$")
        ax.set_ylabel(r"KL$(q_\epsilon\,\|\,$posterior$)$ (nats)")
        ax.set_title("(a) KL of the stationary law to the posterior")
        legend_below(ax, fontsize=6.5)

        ax = axes[1]
        case = d["cases"]["user"]
        for key, lab, c, ls, lw in (("Sigma_posterior", "posterior $(NA)^{-1}$", "0.6", "-", 3.0),
                                    ("Sigma_mc", f"Monte Carlo ({case['plan']['paths']} paths)", "k", "-", 2.4),
                                    ("Sigma_discrete", "exact discrete Lyapunov", "C1", "--", 1.4),
                                    ("Sigma_continuous", r"OU: $A\Sigma+\Sigma A=(\epsilon/S)BB^T$", "C2", ":", 1.4)):
            pts = _ellipse(np.array(case[key])[:2, :2])
            ax.plot(pts[:, 0], pts[:, 1], color=c, linestyle=ls, linewidth=lw, label=lab)
        ax.set_aspect("equal", adjustable="datalim")
        # the equal aspect widens x: fewer labels, clear of each other
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=5))
        ax.set_xlabel(r"$\theta_0 - \theta^*_0$")
        ax.set_ylabel(r"$\theta_1 - \theta^*_1$")
        ax.set_title(f"(b) {case['label']} at $\\epsilon^*$: 1-$\\sigma$ ellipses")
        legend_below(ax, fontsize=6.5)

        ax = axes[2]
        R = tb.whitening(np.array(p["A"]) * N)
        t = np.linspace(0, 2 * np.pi, 200)
        ax.plot(np.cos(t), np.sin(t), "-", color="0.6", linewidth=3.0, label="posterior (unit circle)")
        styles = {"user": ("k", "-"), "isotropic": ("C1", "--"), "prop_A": ("C2", "-."),
                  "preconditioned": ("C4", ":")}
        for key, cd in d["cases"].items():
            c, ls = styles[key]
            W = R @ np.array(cd["Sigma_mc"]) @ R
            pts = _ellipse(W[:2, :2])
            Wd = R @ np.array(cd["Sigma_discrete"]) @ R
            pd_ = _ellipse(Wd[:2, :2])
            ax.plot(pts[:, 0], pts[:, 1], color=c, linestyle=ls, linewidth=1.6, label=f"{cd['label']}: Monte Carlo")
            ax.plot(pd_[::10, 0], pd_[::10, 1], "x", color=c, ms=3.5)
        small = d.get("small_step")
        if small:
            Rs = tb.whitening(np.array(p["A"]) * small["N"])
            for key, c in (("isotropic", "C1"), ("user", "0.35")):
                cd = small["cases"].get(key)
                if cd is None:
                    continue
                pts = _ellipse((Rs @ np.array(cd["Sigma_mc"]) @ Rs)[:2, :2])
                ax.plot(pts[:, 0], pts[:, 1], color=c, linestyle=(0, (1, 1)), linewidth=1.6,
                        label=f"{cd['label']}, $\\epsilon^*/{small['k']}$ ($N \\to {small['k']}N$): Monte Carlo")
        ax.plot([], [], "x", color="0.3", ms=4, label="x: exact discrete Lyapunov")
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xlabel(r"$(P^{1/2}\theta)_0$")
        ax.set_ylabel(r"$(P^{1/2}\theta)_1$")
        ax.set_title(r"(c) whitened by the posterior precision $P = NA$, at $\epsilon^*$")
        legend_below(ax, fontsize=6.5, ncol=2)
    return paths
