"""Erratum E1 -- seed 003 (McAllester), slide "Running Averages": the unrolled running average is printed as
mu_hat_t = (1/N) sum_s (1 - 1/N)^(-(t-s)) x_s; the recursion m_t = (1 - 1/N) m_{t-1} + x_t / N gives the
exponent +(t-s).  So E m_t = mu (1 - (1 - 1/N)^t), while the printed weights sum to
(N - 1)/N ((1 - 1/N)^(-t) - 1), which grows without bound.

Written with the public API of a researcher's own derivation (``sgdtheory.derivations``): the prediction
and the printed formula are SymPy expressions in (mu, N, t), the measurement is the running average m_t of
fresh minibatch gradient coordinates at a fixed point w on independent paths (``running_averages``'s
kernel), and the package plans the paths, poses the printed form as the *as printed* check, the
coefficient off by 5%, the small-t leading term mu t log(N/(N-1)) ~ (t/N) mu (the slide's own
approximation) and the exponent of t off by one.  At t = 10 (N = 100) the printed sum is 9% above the
true one: a near miss the interval must resolve.  The SymPy and exact checks of the unrolled formula
against the recursion are added unchanged.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..derivations import Derivation, Measure
from ..stats import exact
from ..theory import running_averages as ra
from .base import AS_PRINTED, CLAIM, Check, register
from .running_averages import _at_N, default_instance, instance_from_config, simulate_running_averages

mu, N, t = sp.symbols("mu N t", positive=True)


def _running_average_per_path(p, n_paths, seed_seq):
    """The plain running average m_t, one value per independent path."""
    return simulate_running_averages(p["instance"], [int(p["t"])], n_paths, seed_seq, ())[:, 0, 0]


def _exact_checks(inst, settings) -> list[Check]:
    """SymPy: the unrolled recursion has the +(t-s) weights; the printed ones differ already at t = 2; on one
    concrete sequence the corrected formula reproduces the recursion to rounding, the printed one does not."""
    der = ra.derive()
    n = inst.N
    checks = [
        Check("SymPy: unrolled recursion has weights (1/N)(1 - 1/N)^(+(t-s)) (corrected), t <= 6", CLAIM, 0.0,
              exact(0.0 if der.unrolled_matches_corrected else 1.0, "SymPy expand"), 1e-9, "symbolic x_s, N"),
        Check("SymPy as printed: weights (1/N)(1 - 1/N)^(-(t-s)); printed - true coefficient of x_1 at t = 2",
              AS_PRINTED, 0.0, exact(_at_N(der.printed_first_mismatch, n), "SymPy expand"), 1e-9,
              f"= {der.printed_first_mismatch} (here N = {n})"),
    ]
    rng = np.random.default_rng(np.random.SeedSequence(settings.seed, spawn_key=(0xE1,)))
    steps = 2 * n
    x = inst.mu + np.sqrt(inst.sigma2) * rng.standard_normal(steps)
    m = 0.0
    for xs in x:
        m = (1 - 1 / n) * m + xs / n
    for role, w, label in ((CLAIM, ra.weights("ema", n, steps), "corrected"),
                           (AS_PRINTED, ra.printed_weights(n, steps), "as printed")):
        val = float(w @ x)
        checks.append(Check(f"{label}: the unrolled formula reproduces the recursion on a sequence (t = 2N = {steps}); "
                            "relative difference", role, 0.0,
                            exact(abs(val - m) / max(abs(m), 1e-300), "float64, rounding allowance 1e-12", abs_tol=1e-12),
                            1e-9, f"formula {val:.6g} vs recursion {m:.6g}"))
    return checks


def _figure(result, outdir) -> list[str]:
    from ..figures.running_averages import figure_e1

    n = int(result.data["rows"][0]["params"]["N"])
    result.data.update({"N": n, "t": 2 * n, "weights": ra.weights("ema", n, 2 * n).tolist(),
                        "printed": ra.printed_weights(n, 2 * n).tolist()})
    return figure_e1(result, outdir)


E1 = Derivation(
    id="E1",
    title="Erratum: running-average weights printed with exponent -(t-s)",
    source="003, slides 'Digression on Running Averages' to 'Bias Correction of Running Averages'",
    statement="mu_hat_t = (1/N) sum_s (1 - 1/N)^(t-s) x_s (printed: ^-(t-s))",
    latex=r"$\hat\mu_t=\frac1N\sum_{s\le t}(1-\frac1N)^{t-s}x_s$ (printed: exponent $-(t-s)$)",
    kind="erratum",
    prediction=mu * (1 - (1 - 1 / N) ** t),
    as_printed={"weights (1/N)(1 - 1/N)^(-(t-s))": mu * (N - 1) / N * ((1 - 1 / N) ** (-t) - 1)},
    measure=Measure(statistic=_running_average_per_path),
    grid=lambda inst: {"t": [10, inst.N // 2, inst.N, 2 * inst.N], "N": inst.N, "mu": inst.mu},
    small="t",
    instance=default_instance,
    from_config=instance_from_config,
    extra_checks=_exact_checks,
    figure=_figure,
)

register(E1.to_claim())
