"""The claim registry, keyed by the stable IDs of CLAIMS.md.

Each family lives in its own module and registers its claims on import:

* ``minibatch`` -- A1 (seeds 000/001/002: minibatch gradient noise) and A2's instance;
* ``a2_gradient_at_optimum`` -- A2 (seed 003), written with the public API of a researcher's own
  derivation (``sgdtheory.derivations``): one claim per file, the shape the catalogue moves to;
* ``preconditioned`` -- A4 (seed 000, second-order SGD);
* ``schedules`` -- D12 (seed 001: learning-rate schedules, exact formulas and their effect on a noisy quadratic);
* ``sharp_minima`` -- C6 (seeds 000/004, Keskar et al. 2017: large batches and sharp minima);
* ``supermartingale`` -- A3 (seeds 000/002: the loss as a supermartingale, Robbins-Siegmund);
* ``robbins_monro`` -- A5 (seeds 003/000: Robbins-Monro step conditions and rates);
* ``generalisation`` -- D11 (Wilson et al. 2017: adaptive methods generalise worse on a constructed least-squares problem);
* ``gradient_flow`` -- A6 (seed 003: Euler and SGD converge to gradient flow; the progress theorem);
* ``sampling_order`` -- A7 (seed 004: cyclic order, random reshuffling, with replacement);
* ``sam`` -- D13 (seed 000, Foret et al. 2021: sharpness-aware minimisation);
* ``saddle`` -- A8 (seed 004, Ge et al. 2015: escaping a strict saddle);
* ``adam_nonconvergence`` -- D10 (Reddi, Kale & Kumar 2018: Adam fails on an online convex problem, AMSGrad converges);
* ``adaptive`` -- D6, D7, D9 and errata E7, E8 (seeds 000/001/003: AdaGrad, RMSProp, the forms of Adam and EMA momentum);
* ``batch_scaling`` -- C3, C4, C5 (seeds 003/001, Smith et al. 2018: linear scaling, momentum/second-moment horizons, decay eta = grow B);
* ``bayesian_sgd`` -- B8 (seed 004, Mandt, Hoffman & Blei 2017: SGD as approximate Bayesian inference);
* ``boltzmann_1d`` -- B1 (seed 003: one-dimensional Boltzmann / Fokker-Planck law, exact discrete variance);
* ``errata_a`` -- errata E6 (000) and E9 (003) of family A;
* ``langevin_increment`` -- erratum E5 and B6's instance (seed 003: the Langevin increment over dt = k eta);
* ``b6_langevin_increment`` -- B6, on the public API (one claim per file);
* ``implicit_regularisation`` -- C2 and C1's instance (seed 002, Smith et al. 2021; Barrett & Dherin 2021: modified losses);
* ``c1_modified_loss`` -- C1, on the public API (one claim per file);
* ``lyapunov`` -- B2 (seed 003: the stationary law is not Boltzmann in d > 1);
* ``momentum`` -- D1, D2, D4, D5 (seeds 000/001/003: momentum, Lessard et al.'s cycle, Nesterov);
* ``d3_narrow_valley`` -- D3 (Polyak's tuning in a narrow valley), on the public API (one claim per file);
* ``noisy_minima`` -- B7 (seeds 000/002: SGD prefers the minimum whose minibatch gradients agree);
* ``e1_running_average_weights`` -- erratum E1, on the public API (one claim per file);
* ``running_averages`` -- D8 and erratum E2 (seed 003: running averages and bias correction);
* ``quadratic_basin`` -- B3, B4, B5 and errata E3, E4 (seed 003, the quadratic-basin theorem);
  their instance, config format and learning-rate sweep are in ``basin_sweep``.
"""

from . import (  # noqa: F401  (register the claims)
    a2_gradient_at_optimum,
    adam_nonconvergence,
    adaptive,
    b6_langevin_increment,
    batch_scaling,
    bayesian_sgd,
    boltzmann_1d,
    c1_modified_loss,
    d3_narrow_valley,
    e1_running_average_weights,
    errata_a,
    generalisation,
    gradient_flow,
    implicit_regularisation,
    langevin_increment,
    lyapunov,
    minibatch,
    momentum,
    noisy_minima,
    preconditioned,
    quadratic_basin,
    robbins_monro,
    running_averages,
    saddle,
    sam,
    sampling_order,
    schedules,
    sharp_minima,
    supermartingale,
)
from .base import REGISTRY, Check, Claim, ClaimResult, Settings

__all__ = ["REGISTRY", "Check", "Claim", "ClaimResult", "Settings", "get"]


def get(claim_id: str) -> Claim:
    """The claim with this ID, or a ValueError listing the known IDs."""
    from ..errors import SgdTheoryError

    key = claim_id.strip().upper()
    if key not in REGISTRY:
        raise SgdTheoryError(f"claim {claim_id!r} is not implemented; known: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[key]
