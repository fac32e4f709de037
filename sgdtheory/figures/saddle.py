"""Figure of claim A8 (strict saddle escape): fig_a8_saddle.png|pdf."""

from __future__ import annotations

import numpy as np

from . import ci_label, legend_below, new_figure


def fig_a8_saddle(result, outdir) -> list[str]:
    """(a) E tau against log(1/sigma): Monte Carlo means with intervals, the exact finite-sigma values, the
    asymptotic line of slope 1/log(1 + eta lambda) and the gradient-flow slope 1/(eta lambda) (control);
    the fitted slope and intercept intervals in the legend.  (b) The same means minus the asymptotic line,
    with their intervals and the exact brackets (the scale where the checks are decided).  (c) The exit-time
    survival P(tau > k) at the middle sigma (Clopper-Pearson band) against the exact upper bound
    erf(R/(sqrt 2 s_k)); pooled Var tau with its interval.  (d) Paths in H's eigen-coordinates (u, v_1):
    GD on the stable manifold converges to the saddle, GD eps off it leaves at the predicted step, SGD
    paths from the saddle leave along the unstable direction."""
    d = result.data
    ci = ci_label(result)
    x = np.array(d["x"])
    mean, hw = np.array(d["mean"]), np.array(d["half_width"])
    ex, lo, hi, asym = (np.array(d[k]) for k in ("exact", "exact_low", "exact_high", "asymptotic"))
    f = d["fit"]
    with new_figure(outdir, "fig_a8_saddle", ncols=4, figsize=(15.0, 3.5), appendix_panels=2,
                    appendix_row_height=3.4) as (fig, axes, paths):
        ax = axes[0]
        xx = np.linspace(0.0, x.max() * 1.05, 50)
        ax.plot(xx, d["intercept_pred"] + d["slope_pred"] * xx, color="k",
                label=f"asymptotic: slope $1/\\log(1+\\eta\\lambda)$ = {d['slope_pred']:.4f}")
        xc = float(np.mean(x))
        yc = d["intercept_pred"] + d["slope_pred"] * xc
        ax.plot(xx, yc + d["slope_flow"] * (xx - xc), color="C2", linestyle="--",
                label=f"control: gradient flow $1/(\\eta\\lambda)$ = {d['slope_flow']:.4f}")
        ax.errorbar(x, mean, yerr=hw, fmt="o", mfc="white", color="C1",
                    label=f"Monte Carlo ({ci}); fit slope {f['slope']:.4f} [{f['slope_low']:.4f}, {f['slope_high']:.4f}]")
        ax.plot(x, ex, "x", color="k", label=f"exact; fit intercept {f['intercept']:.3f} "
                f"[{f['intercept_low']:.3f}, {f['intercept_high']:.3f}] vs {d['intercept_pred']:.3f}")
        ax.set_xlabel(r"$\log(1/\sigma)$")
        ax.set_ylabel(r"mean exit step $E\,\tau$")
        ax.set_title(r"(a) escape time $\approx \log(1/\sigma)/\log(1+\eta\lambda)$")
        ax.set_ylim(0.0, 2.1 * float(np.max(mean)))  # the legend above the last points
        ax.legend(fontsize=6, loc="upper left")

        ax = axes[1]
        ax.axhline(0.0, color="k", linewidth=0.8, label="asymptotic line")
        ax.errorbar(x, mean - asym, yerr=hw, fmt="o", mfc="white", color="C1", label=f"Monte Carlo - line ({ci})")
        ax.fill_between(x, lo - asym, hi - asym, color="0.6", alpha=0.6, label="exact bracket - line")
        ax.plot(x, ex - asym, "x", color="k", label="exact - line")
        ax.plot(x, np.full_like(x, -0.5), color="C2", linestyle="--", label="control: continuous first passage (-1/2)")
        ax.set_xlabel(r"$\log(1/\sigma)$")
        ax.set_ylabel(r"$E\,\tau$ - asymptotic line (steps)")
        ax.set_title("(b) residuals at the checks' resolution")
        ax.legend(fontsize=6)

        ax = axes[2]
        s = d["survival"]
        k = np.array(s["k"])
        ax.fill_between(k, np.maximum(s["low"], 1e-7), np.maximum(s["high"], 1e-7), step="mid", color="C1", alpha=0.35,
                        label=f"Monte Carlo $P(\\tau>k)$ ({ci})")
        ax.step(k, np.maximum(s["p"], 1e-7), where="mid", color="C1")
        ax.plot(k, s["exact_upper"], color="k", linestyle="-", label=r"exact: $\mathrm{erf}(R/\sqrt{2}s_k)$")
        v = d["var"]
        ax.plot([], [], " ", label=f"Var tau {v['value']:.3f} [{v['low']:.3f}, {v['high']:.3f}], exact {v['exact']:.3f}")
        ax.set_yscale("log")
        ax.set_ylim(1e-6, 1.5)
        ax.set_xlabel("step $k$")
        ax.set_ylabel(r"$P(\tau > k)$")
        ax.set_title(f"(c) exit-time law at $\\sigma$ = {s['sigma']:.3g}")
        ax.legend(fontsize=6, loc="lower left")

        ax = axes[3]
        R = d["radius"]
        th = np.linspace(0, 2 * np.pi, 200)
        ax.plot(R * np.cos(th), R * np.sin(th), color="0.5", linewidth=0.8, label=f"exit sphere |w - w_s| = {R:g}")
        g = d["gd"]
        st = np.array(g["stable_traj"])
        ax.plot(st[:, 0], st[:, 1], "o", color="C1", linestyle="-", linewidth=3.0, ms=5, mfc="white",
                label="GD on the stable manifold (-> saddle)")
        pt = np.array(g["perturbed_traj"])
        ok = np.all(np.isfinite(pt), axis=1)
        ax.plot(pt[ok, 0], pt[ok, 1], "s", color="C3", linestyle="--", ms=2.5,
                label=f"GD {result.parameters.get('gd_offset', 0):g} off it: exits at k = {g['k_exit']} "
                      f"(flow: {g['k_flow']})")
        for j, p in enumerate(np.array(d["sgd_traj"]["paths"], dtype=float)):
            ok = np.all(np.isfinite(p), axis=1)
            ax.plot(p[ok, 0], p[ok, 1], color="C2", linestyle="-", linewidth=0.8,
                    label=f"SGD from the saddle, sigma = {d['sgd_traj']['sigma']:.2g}" if j == 0 else None)
        ax.plot([0], [0], "k+", ms=9)
        ax.set_xlim(-1.15 * R, 1.15 * R)
        ax.set_ylim(-1.15 * R, 1.15 * R)
        ax.set_aspect("equal")
        ax.set_xlabel("unstable coordinate $u$")
        ax.set_ylabel("stable coordinate $v_1$")
        ax.set_title("(d) paths in H's eigen-coordinates")
        legend_below(ax, fontsize=6)  # inside, it covered the paths
    return paths
