"""Heavy ball's stationary excess loss to first order in eta: eta sigma2 / (4 B (1 - mu)).

The classical reading of momentum as SGD with the effective learning rate eta / (1 - mu) predicts the stationary
excess loss eta sigma2 / (4 B (1 - mu)) of SGD's Langevin limit.  This is a leading-order claim (relative error
O(eta)), so sgdtheory judges each grid point as an *approximation* (adequate / detectably wrong) and the claim by
extrapolating measured / predicted to eta -> 0.  The researcher's control: momentum ignored, eta sigma2 / (4 B).
"""

import sympy as sp

from sgdtheory import Derivation, Measure
from sgdtheory.optimizers import HeavyBall
from sgdtheory.problems import GaussianNoiseQuadratic

eta, h, sigma2, B, mu = sp.symbols("eta h sigma2 B mu", positive=True)

CLAIM = Derivation(
    id="HB-first-order",
    title="heavy ball: stationary excess loss = eta sigma2 / (4 B (1 - mu)) + O(eta^2)",
    source="effective learning rate eta / (1 - mu); Mandt, Hoffman & Blei 2017, Sec. 4",
    prediction=eta * sigma2 / (4 * B * (1 - mu)),
    order=1,
    controls={"momentum ignored (SGD's eta sigma2 / 4B)": eta * sigma2 / (4 * B)},
    measure=Measure(problem=lambda p: GaussianNoiseQuadratic(H=[[p["h"]]], C=[[p["sigma2"]]]),
                    optimizer=lambda p: HeavyBall(momentum=p["mu"]),
                    observable="excess_loss", steps=6000, burn_in=1000),
    grid={"eta": [0.05, 0.1, 0.2], "mu": 0.5, "h": 1.0, "sigma2": 1.0, "B": 1},
)
