"""Figure of claim B2 (not Boltzmann in d > 1): covariance ellipses, every check at the main learning rate,
and the Langevin sweep."""

from __future__ import annotations

import numpy as np

from . import ci_label, legend_below, new_figure


def _ellipse(S2: np.ndarray, n: int = 200) -> np.ndarray:
    """Points of {x : x^T S^-1 x = 1} for a 2 x 2 covariance S (the 1-sigma ellipse)."""
    ev, V = np.linalg.eigh(0.5 * (S2 + S2.T))
    t = np.linspace(0.0, 2.0 * np.pi, n)
    circle = np.stack([np.cos(t), np.sin(t)])
    return (V @ (np.sqrt(np.clip(ev, 0.0, None))[:, None] * circle)).T


def fig_b2_stationary_covariance(result, outdir) -> list[str]:
    """(a) 1-sigma ellipses of the stationary law for the user's C at the main eta: Monte Carlo, exact discrete
    Lyapunov, Langevin and the best Boltzmann T* H^-1 (first two coordinates); (b) every Monte Carlo check at
    the main eta, dimensionless, with its interval, the exact value and the wrong (Boltzmann / detailed-balance)
    value; (c) the Langevin sweep: psi_MC - psi_Langevin against eta with intervals, the exact gap, and the
    exact half-width (the Langevin value is rejected where the gap exceeds it)."""
    d = result.data
    label = ci_label(result)
    n_rows = sum(len(d["cases"][k]["stats"]) for k in ("user", "prop_H", "isotropic"))
    height = max(4.8, 0.14 * n_rows + 1.2)
    with new_figure(outdir, "fig_b2_stationary_covariance", ncols=3, figsize=(14.0, height), row_height=3.3,
                    appendix_panels=1) as (fig, axes, paths):
        ax = axes[0]
        case = d["cases"]["user"]
        styles = (("S_mc", "Monte Carlo", "k", "-", 2.4), ("S_exact", "exact discrete Lyapunov", "C1", "--", 1.4),
                  ("S_continuous", "Langevin $HS+SH=\\eta C/B$", "C2", ":", 1.4),
                  ("boltzmann", "best Boltzmann $T^*H^{-1}$", "C3", "-.", 1.4))
        for key, lab, c, ls, lw in styles:
            pts = _ellipse(np.array(case[key])[:2, :2])
            ax.plot(pts[:, 0], pts[:, 1], color=c, linestyle=ls, linewidth=lw, label=lab)
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xlabel("$w_0 - w^*_0$")
        ax.set_ylabel("$w_1 - w^*_1$")
        cur = next(s for s in case["stats"] if s["name"].startswith("current"))
        ax.set_title(f"(a) {case['label']}, $\\eta$ = {d['eta']:g}: 1-$\\sigma$ ellipses")
        ax.text(0.02, 0.02, f"current {cur['est']['value']:.3f} (exact {cur['pred']:.3f})",
                transform=ax.transAxes, fontsize=6.5)
        legend_below(ax, fontsize=6.5)

        ax = axes[1]
        rows = []
        for key in ("user", "prop_H", "isotropic"):
            cd = d["cases"][key]
            for s in cd["stats"]:
                rows.append((f"{cd['label']}: {s['name']}", s))
        y = np.arange(len(rows))[::-1]
        ax.errorbar([], [], xerr=[], fmt="o", color="k", mfc="white", ms=4, capsize=2, label=f"Monte Carlo ({label})")
        ax.plot([], [], "x", color="C1", ms=7, label="exact discrete Lyapunov")
        ax.plot([], [], "d", color="C3", ms=5, mfc="none", label="Boltzmann / detailed balance (control)")
        for yy, (name, s) in zip(y, rows):
            sc = s["scale"]
            e = s["est"]
            ax.errorbar([e["value"] / sc], [yy], xerr=[[(e["value"] - e["low"]) / sc], [(e["high"] - e["value"]) / sc]],
                        fmt="o", color="k", mfc="white", ms=4, capsize=2)
            ax.plot([s["pred"] / sc], [yy], "x", color="C1", ms=7)
            if s.get("wrong") is not None:
                ax.plot([s["wrong"] / sc], [yy], "d", color="C3", ms=5, mfc="none")
        ax.set_yticks(y)
        ax.set_yticklabels([r[0] for r in rows], fontsize=6.5)
        ax.axvline(0.0, color="0.7", linewidth=0.8)
        ax.set_xlabel("value (S' entries in units of $\\sqrt{S'_{ii}S'_{jj}}$)")
        ax.set_title(f"(b) checks at $\\eta$ = {d['eta']:g}")
        legend_below(ax, fontsize=6.5)

        ax = axes[2]
        sw = d["sweep"]
        eta = np.array([r["eta"] for r in sw["rows"]])
        gap = np.array([r["gap"] for r in sw["rows"]])
        hw = np.array([r["half_width_exact"] for r in sw["rows"]])
        est = np.array([r["estimate"]["value"] - r["psi_c"] for r in sw["rows"]])
        lo = np.array([r["estimate"]["value"] - r["estimate"]["low"] for r in sw["rows"]])
        hi = np.array([r["estimate"]["high"] - r["estimate"]["value"] for r in sw["rows"]])
        ax.plot(eta, gap, "-", color="C1", label="exact discrete $-$ Langevin")
        ax.fill_between(eta, -hw, hw, color="C2", alpha=0.15, label="exact half-width (Langevin passes inside)")
        ax.axhline(0.0, color="C2", linestyle=":", label="Langevin")
        rej = np.array([r["langevin_rejected"] for r in sw["rows"]])
        ax.errorbar(eta[~rej], est[~rej], yerr=[lo[~rej], hi[~rej]], fmt="o", color="k", mfc="white", capsize=2,
                    label=f"Monte Carlo ({label}), Langevin not rejected")
        ax.errorbar(eta[rej], est[rej], yerr=[lo[rej], hi[rej]], fmt="s", color="C3", capsize=2,
                    label="Monte Carlo, Langevin rejected")
        if np.isfinite(sw["eta_detect_predicted"]):
            ax.axvline(sw["eta_detect_predicted"], color="C5", linestyle="--",
                       label=f"power 1/2 (predicted): $\\eta$ = {sw['eta_detect_predicted']:.3g}")
        ax.set_xscale("log")
        ax.set_yscale("symlog", linthresh=float(np.min(hw)))
        ax.set_xlabel("learning rate $\\eta$")
        ax.set_ylabel(r"$\psi - \psi_{\rm Langevin}$")
        ax.set_title(f"(c) Langevin sweep, {sw['paths']} paths per $\\eta$; " + r"$\psi = \langle S, D\rangle/(|D|\,|S|)$")
        legend_below(ax, fontsize=6.5, ncol=2)
    return paths
