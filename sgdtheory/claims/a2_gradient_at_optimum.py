"""Claim A2 -- seed 003 (McAllester), the slide with loss(beta, y) = (beta - y)^2/2: at the optimum
beta* = mean y the batch gradient g_B = beta* - mean_B y is not zero; with replacement E g_B = 0 and
Var g_B = Var(y)/B (Var the population variance of the n values y_i).

This claim is written with the public API a researcher uses for their own derivation
(``sgdtheory.derivations``): the prediction is a function of the instance and the grid point, the
measurement is the second moment of g_B about 0 per independent path (``gradient_noise.sample_gradients``),
the budget is planned by the package's power calculation, and the controls are

* the sample variance Var_s(y)/B = n Var(y)/((n - 1) B) -- the plausible wrong constant;
* the coefficient off by the resolution (5%, automatic) and the exponent of B off by one (automatic rate
  fit over the batch sizes: the "no 1/B" reading Var(y) is the exponent-0 control);
* g_B = 0 at the optimum -- the reading the slide corrects.

The exact checks come from enumerating every batch: no batch mean equals mean y for these y, so
P(g_B = 0) = 0, and the Monte Carlo count of such draws must be 0 too.
"""

from __future__ import annotations

import numpy as np

from ..derivations import Derivation, Measure
from ..gradient_noise import sample_gradients
from ..sampling import Sampler
from ..stats import exact
from ..theory.minibatch import MAX_ENUMERATION, enumerate_batch_moments
from .base import CLAIM, Check, register
from .minibatch import _a2_from_config, default_a2

DRAWS_PER_PATH = 64


def _second_moment_per_path(p, n_paths, seed_seq):
    """Mean of g_B^2 over DRAWS_PER_PATH draws, one value per independent path (E g_B = 0 at beta*)."""
    inst = p["instance"]
    res = sample_gradients(inst.problem, inst.w, Sampler(int(p["B"])), n_draws=DRAWS_PER_PATH, n_paths=n_paths,
                           seed=seed_seq, center=np.zeros(1))
    return res.second[:, 0, 0] / res.n_draws


def _var_y(p) -> float:
    return float(p["instance"].sigma[0, 0])


def _exact_checks(inst, settings) -> list[Check]:
    """Enumeration over every batch (when there are at most MAX_ENUMERATION): P(g_B = 0) = 0 exactly."""
    if inst.problem.d != 1 or not np.allclose(inst.gradients.mean(axis=0), 0.0, atol=1e-12):
        from ..errors import SgdTheoryError

        raise SgdTheoryError("A2 is the one-dimensional example at the optimum: give y values ([problem] y = [...])")
    n = inst.problem.n
    small = [b for b in inst.batch_sizes if n**b <= MAX_ENUMERATION]
    if not small:
        return []
    B = max(small)
    mean, cov, zero = enumerate_batch_moments(inst.gradients, B, "with_replacement")
    var_y = float(inst.sigma[0, 0])
    return [Check(f"enumeration: P(g_B = 0) = 0 (B={B})", CLAIM, 0.0, exact(zero, "exact enumeration"), 1e-12),
            Check(f"enumeration: Var g_B = Var(y)/B (B={B})", CLAIM, var_y / B,
                  exact(float(cov[0, 0]), "exact enumeration of every batch"), 1e-9 * var_y / B)]


A2 = Derivation(
    id="A2",
    title="One-dimensional example: the batch gradient at the optimum is not zero",
    source="003, slide 'loss(beta, y) = (beta - y)^2/2'",
    statement="at beta* = E y, g_B = beta* - mean_B y != 0, Var g_B = Var(y)/B",
    latex=r"at $\beta^*=\bar y$, $\hat g_B=\beta^*-\bar y_B\neq 0$ and $\operatorname{Var}\hat g_B=\operatorname{Var}(y)/B$",
    prediction=lambda p: _var_y(p) / p["B"],
    measure=Measure(statistic=_second_moment_per_path),
    grid=lambda inst: {"B": list(inst.batch_sizes)},
    small="B",
    controls={"Var_s(y)/B, the sample variance n Var(y)/(n-1)":
              lambda p: p["instance"].problem.n / (p["instance"].problem.n - 1) * _var_y(p) / p["B"],
              "g_B = 0 at the optimum": lambda p: 0.0},
    instance=default_a2,
    from_config=_a2_from_config,
    extra_checks=_exact_checks,
    figure_name="fig_a2_gradient_at_optimum",
)

register(A2.to_claim())
