"""Figure of claim A6 (gradient-flow limits): Euler O(1/N), SGD O(N^-1/2), the progress theorem,
and a flow whose loss converges while Phi goes to infinity."""

from __future__ import annotations

import numpy as np

from . import ci_label, legend_below, new_figure


def fig_a6_gradient_flow(result, outdir) -> list[str]:
    """Four panels.
    (a) Euler error e(N) = |Phi_N - Phi(t)| against N (exact, mpmath) with the SymPy asymptote C1/N and
        the Numba engine's full-batch GD at two N.
    (b) SGD with steps t/N: RMS error sqrt(E|w_N - Phi(t)|^2), Monte Carlo (points with intervals at the
        run's level, delta method for the square root) and exact moment recursion (line), the asymptote
        sqrt(t tr V(t)/N), the frozen-noise control's asymptote, and the Euler error for comparison.
    (c) Progress theorem: l(Phi(t)) along the flow against l(Phi(0)) + int_0^t dl/dt (SymPy chain rule),
        and the two controls (-int |grad l| and -int |grad l|^2/2).
    (d) l = e^-Phi: the flow Phi(t) = log(t + 1) (SymPy), gradient descent and the SGD mean with
        intervals (eta = 1/2), against t on a log axis; the loss on the right axis.
    """
    d = result.data
    with new_figure(outdir, "fig_a6_gradient_flow", ncols=4, figsize=(15.5, 3.5),
                    row_height=3.0,
                    appendix_panels=2, appendix_row_height=3.2) as (fig, axes, paths):
        # (a) Euler
        ax = axes[0]
        eu = d["euler"]
        N = np.array(eu["N"], dtype=float)
        ax.plot(N, eu["error"], color="C0", label="exact $e(N)$ (mpmath)")
        ax.plot(N, eu["C1"] / N, color="C2", linestyle="--",
                label=r"$C_1/N$, $C_1=\frac{t^2}{2}|\bar H^2e^{-t\bar H}\delta_0|$")
        ax.plot(N, eu["error"][0] * np.sqrt(N[0] / N), color="0.6", linestyle=":", label=r"slope $-1/2$ (control)")
        eng = np.array(eu["engine"], dtype=float)
        ax.plot(eng[:, 0], eng[:, 1], "s", mfc="white", color="C1", label="engine, full-batch GD")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("number of steps $N$ (step $t/N$)")
        ax.set_ylabel(r"$|\Phi_N - \Phi(t)|$")
        ax.set_title("(a) Euler / GD: error $O(1/N)$")
        legend_below(ax, fontsize=6.5)  # inside, the lines ran through it
        # (b) SGD
        ax = axes[1]
        sg = d["sgd"]
        cN = np.array(sg["curve_N"], dtype=float)
        ax.plot(cN, np.sqrt(sg["curve_mse"]), color="C0", label="exact moment recursion")
        ax.plot(cN, np.sqrt(sg["limit"] / cN), color="C2", linestyle="--", label=r"$\sqrt{t\,\mathrm{tr}V(t)/N}$")
        ax.plot(cN, np.sqrt(sg["limit_frozen"] / cN), color="C4", linestyle=":",
                label=r"frozen noise $\Sigma_0$ (control)")
        ax.plot(cN, np.sqrt(sg["curve_euler_sq"]), color="0.5", linestyle="-.", label="Euler error (no noise)")
        mN = np.array(sg["N"], dtype=float)
        mse = np.array(sg["mc_mse"])
        hw = np.array(sg["mc_halfwidth"])
        rms = np.sqrt(mse)
        lo, hi = np.sqrt(np.clip(mse - hw, 0.0, None)), np.sqrt(mse + hw)
        ax.errorbar(mN, rms, yerr=[rms - lo, hi - rms], fmt="o", mfc="white", color="C1",
                    label=f"Monte Carlo ({ci_label(result)})")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("number of steps $N$ (step $t/N$)")
        ax.set_ylabel(r"$\sqrt{E|w_N-\Phi(t)|^2}$")
        s = sg["slope"]
        ax.set_title(f"(b) SGD: RMS error $O(N^{{-1/2}})$ (MC slope {s['value']:.3f})")
        legend_below(ax, fontsize=6.5)
        # (c) progress theorem
        ax = axes[2]
        pr = d["progress"]
        tt = np.array(pr["times"])
        ax.plot(tt, pr["loss"], color="C0", label=r"$\ell(\Phi(t))$ (flow, DOP853)")
        ax.plot(tt[::8], np.array(pr["loss0_plus_cum"])[::8], "o", mfc="white", color="C1",
                label=r"$\ell(\Phi_0) - \int_0^t|\nabla\ell|^2$ (SymPy $d\ell/dt$)")
        ax.plot(tt, pr["loss0_minus_cum_norm"], color="C2", linestyle="--",
                label=r"$\ell(\Phi_0) - \int_0^t|\nabla\ell|$ (control)")
        ax.plot(tt, pr["loss0_minus_half_cum_sq"], color="C4", linestyle=":",
                label=r"$\ell(\Phi_0) - \frac{1}{2}\int_0^t|\nabla\ell|^2$ (control)")
        ax.set_ylim(min(-0.5, float(np.min(pr["loss"])) - 0.2), pr["l0"] + 0.3)
        ax.set_xlabel(r"flow time $t$;  $\ell(x,y) = \log(1+x^2) + (y-x^2)^2/2$")
        ax.set_ylabel(r"$\ell$")
        ax.set_title(r"(c) progress theorem: $d\ell/dt = -|\nabla\ell|^2$")
        legend_below(ax, fontsize=6.5)  # inside, it covered the control curves
        # (d) l = exp(-Phi)
        ax = axes[3]
        ex = d["exponential"]
        times = np.array(ex["times"])
        keep = times > 0
        tg = np.geomspace(times[keep][0], times[-1], 200)
        ax.plot(tg, np.log(tg + 1.0), color="C0", label=r"flow $\Phi(t) = \log(t+1)$ (SymPy)")
        ax.plot(times[keep], np.array(ex["gd"])[keep], "s", mfc="white", color="C2", ms=3.5, label=r"GD, $\eta = 1/2$")
        ax.errorbar(times[keep], np.array(ex["sgd_mean"])[keep], yerr=np.array(ex["sgd_halfwidth"])[keep], fmt="o",
                    mfc="white", color="C1", ms=3, label=f"SGD mean ({ci_label(result)})")
        ax.set_xscale("log")
        ax.set_xlabel(r"time $t = \eta k$")
        ax.set_ylabel(r"$\Phi$ (grows without bound)")
        ax.set_title(r"(d) $\ell = e^{-\Phi}$: $\ell \to 0$ but $\Phi \to \infty$")
        ax2 = ax.twinx()
        ax2.plot(tg, 1.0 / (tg + 1.0), color="C5", linestyle="-.", label=r"$\ell(\Phi(t)) = 1/(t+1)$")
        ax2.set_yscale("log")
        ax2.set_ylabel(r"$\ell$ (converges to 0)")
        ax2.grid(False)
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        # axis ranges that keep both curves in the lower ~55% of the panel, clear of the legend
        ax.set_ylim(0.0, 1.8 * float(np.log(tg[-1] + 1.0)))
        lmin, lmax = 0.5 / (tg[-1] + 1.0), 1.0 / (tg[0] + 1.0)
        ax2.set_ylim(lmin, lmin * (lmax / lmin) ** (1 / 0.5))
        legend_below(ax, handles=h1 + h2, labels=l1 + l2, fontsize=6.5)
    return paths
