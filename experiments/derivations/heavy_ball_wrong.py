"""A deliberately wrong derivation, which sgdtheory must reject: heavy ball's stationary excess loss with the
momentum factor squared, eta sigma2 / (4 B (1 - mu)^2) -- the slip of applying the effective rate eta / (1 - mu)
to the noise variance as well as to the drift.  The exact value (heavy_ball_stationary.py) has 1 / (1 - mu).
Expected outcome: the claim checks are *rejected* and the claim is reported UNEXPECTED (exit code 1).
"""

import sympy as sp

from sgdtheory import Derivation, Measure
from sgdtheory.optimizers import HeavyBall
from sgdtheory.problems import GaussianNoiseQuadratic

eta, h, sigma2, B, mu = sp.symbols("eta h sigma2 B mu", positive=True)

CLAIM = Derivation(
    id="HB-wrong",
    title="heavy ball (WRONG on purpose): stationary excess loss = eta sigma2 / (4 B (1 - mu)^2)",
    source="a slip in the effective-learning-rate argument",
    prediction=eta * sigma2 / (4 * B * (1 - mu) ** 2),
    measure=Measure(problem=lambda p: GaussianNoiseQuadratic(H=[[p["h"]]], C=[[p["sigma2"]]]),
                    optimizer=lambda p: HeavyBall(momentum=p["mu"]),
                    observable="excess_loss", steps=6000, burn_in=1000),
    grid={"eta": [0.05, 0.1], "mu": 0.5, "h": 1.0, "sigma2": 1.0, "B": 1},
)
