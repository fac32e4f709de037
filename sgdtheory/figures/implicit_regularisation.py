"""Figures of claims C1 (Smith et al. 2021 modified loss of SGD with random shuffling) and C2 (implicit
gradient regularisation of GD): errors against eta on log-log axes, the settled fit ranges, the rounding
floor, and every slope with its interval."""

from __future__ import annotations

import numpy as np

from . import ci_label, legend_below, new_figure

_LABELS = {"sgd": r"$\tilde L_{SGD}$ (claim)", "plain": "plain flow", "gd": r"GD-only $L+\frac{\eta}{4}|\nabla L|^2$",
           "wrong": r"wrong coeff. $\frac{\eta}{2m}$", "composition": "composition-averaged (claim)",
           "no_fpc": "no finite-population factor"}
_MARK = {"sgd": "o", "plain": "s", "gd": "^", "wrong": "v", "composition": "o", "no_fpc": "s"}


def _error_panel(ax, block: dict, title: str, floor=None, leading=None, m=None, labels=None):
    labels = {**_LABELS, **(labels or {})}
    etas = np.array(block["etas"])
    for j, (kind, fit) in enumerate(block["fits"].items()):
        err = np.array(fit["errors"])
        ok = err > 0
        line, = ax.loglog(etas[ok], err[ok], marker=_MARK.get(kind, "o"), ms=3, linestyle="none",
                          label=f"{labels.get(kind, kind)}: slope {fit['slope']:.3f} ± {fit['spread']:.3f}")
        sel = (etas >= fit["lo"] * (1 - 1e-9)) & (etas <= fit["hi"] * (1 + 1e-9)) & ok
        if np.any(sel):
            xs = etas[sel]
            c = np.polyfit(np.log(xs), np.log(err[sel]), 1)
            ax.loglog(xs, np.exp(np.polyval(c, np.log(xs))), color=line.get_color(), linewidth=2.2, alpha=0.6)
        if leading is not None and kind in leading:
            p = 3 if kind in ("sgd",) else 2
            coef = leading[kind][p - 2]
            if coef > 0:
                ax.loglog(etas, coef * etas**p, color=line.get_color(), linewidth=0.7, linestyle=":")
    if floor is not None:
        ax.loglog(etas, 1e3 * np.array(floor), color="0.6", linewidth=0.8, linestyle="--",
                  label="1e3 x rounding floor (points below unused)")
    ax.set_xlabel(r"learning rate $\eta$")
    ax.set_ylabel(r"$|E[w_m] - w(m\eta)|$" if m is None or m > 1 else r"$|w_1 - w(\eta)|$")
    ax.set_title(title)
    legend_below(ax, fontsize=6)


_SETTINGS = (("fixed time", "(b) fixed T"), ("one step (quadratic)", "(a) one step"),
             ("one step (1-D quartic", "(c) quartic"), ("quadratic, exact", "quadratic"), ("1-D quartic", "quartic"),
             ("random composition", "composition"), ("Monte Carlo", "MC"))
_FLOWS = (("1/B instead", "1/B factor"), ("wrong coefficient", "wrong coeff."), ("GD-only", "GD-only flow"),
          ("plain flow", "plain flow"), ("Smith", "claim"), ("L~_SGD", "claim"), ("composition averaged", "claim"),
          ("Barrett", "claim"))


def _short_label(name: str) -> str:
    """A slope row's tick label: the setting and the flow, e.g. 'quartic: plain flow' (the full check name is in
    the paper's table)."""
    setting = next((short for key, short in _SETTINGS if key in name), name.split(":")[0][:14])
    flow = next((short for key, short in _FLOWS if key in name), name.rsplit(":", 1)[-1].strip()[:14])
    return f"{setting}: {flow}"


def _slope_panel(ax, result):
    rows = [c for c in result.checks if c.estimate.n > 0 and "slope" in c.estimate.method]
    seen, items = set(), []
    for c in rows:
        key = (c.estimate.value, c.estimate.low)
        if key in seen:
            continue
        seen.add(key)
        items.append(c)
    y = np.arange(len(items))[::-1]
    for yy, c in zip(y, items):
        e = c.estimate
        mc = e.level < 1.0
        ax.errorbar([e.value], [yy], xerr=[[e.value - e.low], [e.high - e.value]], fmt="o" if mc else "s",
                    color="C1" if mc else "k", mfc="white", ms=4, capsize=2)
    for v in sorted({c.prediction for c in items}):
        ax.axvline(v, color="0.6", linewidth=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels([_short_label(c.name) for c in items], fontsize=7)
    ax.errorbar([], [], xerr=[], fmt="s", color="k", mfc="white", label="exact (interval: local-slope spread)")
    if any(c.estimate.level < 1.0 for c in items):
        ax.errorbar([], [], xerr=[], fmt="o", color="C1", mfc="white", label=f"Monte Carlo ({ci_label(result)})")
    ax.set_xlabel("fitted log-log slope")
    ax.set_ylim(-0.8, len(items) - 0.2)
    legend_below(ax, fontsize=6.5)


def figure_c1(result, outdir) -> list[str]:
    """(a) quadratic batches, exact order average: errors of the four flows with fitted settled ranges,
    SymPy leading terms (dotted) and the rounding floor; (b) the 1-D quartic (mpmath); (c) Monte Carlo over
    orders: projected mean errors with intervals and the exact order average; (d) every slope with its
    interval and the predicted exponents."""
    d = result.data
    with new_figure(outdir, "fig_c1_modified_loss", ncols=4, figsize=(17.0, 4.2), row_height=3.0,
                    appendix_panels=2, appendix_row_height=3.4) as (fig, axes, paths):
        q = d["quadratic"]
        _error_panel(axes[0], q, f"(a) quadratic, m = {q['m']}, exact over orders", q["floor"], q["leading"], q["m"])
        if "polynomial" in d:
            _error_panel(axes[1], d["polynomial"], f"(b) 1-D quartic, m = {d['polynomial']['m']} (mpmath)")
        else:
            _error_panel(axes[1], d["composition"], "(b) random composition, exact")
        ax = axes[2]
        mc = d["monte_carlo"]
        etas = np.array(mc["etas"])
        for kind, row in mc["rows"].items():
            mean, lo, hi = (np.array(row[k]) for k in ("mean", "low", "high"))
            ok = mean > 0
            eb = ax.errorbar(etas[ok], mean[ok], yerr=[mean[ok] - lo[ok], hi[ok] - mean[ok]], fmt=_MARK[kind], ms=3,
                             mfc="white", label=f"{_LABELS[kind]}: slope {row['slope']['value']:.3f}")
            if row["exact"] is not None:
                ax.plot(etas, np.abs(row["exact"]), color=eb[0].get_color(), linewidth=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(r"learning rate $\eta$")
        ax.set_ylabel(r"$u\cdot(E[w_m] - w(m\eta))$")
        ax.set_title(f"(c) Monte Carlo over orders, m = {mc['m']} ({ci_label(result)}; lines: exact)")
        legend_below(ax, fontsize=6)  # inside, the rising curves ran through it
        _slope_panel(axes[3], result)
        axes[3].set_title("(d) slopes (predicted: vertical lines)")
    return paths


_C2_LABELS = {"gd": r"$L+\frac{\eta}{4}|\nabla L|^2$ (claim)"}


def figure_c2(result, outdir) -> list[str]:
    """(a) one GD step against the flows; (b) N = T/eta steps at fixed time; (c) the 1-D quartic; (d) slopes."""
    d = result.data
    with new_figure(outdir, "fig_c2_gd_modified_loss", ncols=4, figsize=(17.0, 4.2), row_height=3.0,
                    appendix_panels=2) as (fig, axes, paths):
        _error_panel(axes[0], d["one_step"], "(a) one GD step (quadratic)", d["one_step"]["floor"], None, 1, _C2_LABELS)
        _error_panel(axes[1], d["fixed_time"], f"(b) fixed time T = {d['fixed_time']['T']:g} (quadratic)",
                     d["fixed_time"]["floor"], None, 1, _C2_LABELS)
        axes[1].set_ylabel(r"$|w_N - w(T)|$, $\eta = T/N$")
        if "polynomial" in d:
            _error_panel(axes[2], d["polynomial"], "(c) one GD step (1-D quartic, mpmath)", None, None, 1, _C2_LABELS)
        else:
            axes[2].axis("off")
        _slope_panel(axes[3], result)
        axes[3].set_title("(d) slopes (predicted: vertical lines)")
    return paths


FIGURES = {"C1": figure_c1, "C2": figure_c2}
