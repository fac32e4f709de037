"""A batch-size scaling rule for an adaptive method: RMSProp's stationary excess loss ~ eta sigma / (4 sqrt(B)).

Near a minimum of L(w) = h w^2 / 2 with gradient noise of variance sigma2 / B, RMSProp's second moment settles at
v ~ sigma2 / B (to leading order in eta), so its step is SGD's with the effective rate eta sqrt(B) / sigma, and
the stationary excess loss is (eta sqrt(B) / sigma) (sigma2 / B) / 4 = eta sigma / (4 sqrt(B)): keeping the loss
fixed when B grows by k needs eta to grow by sqrt(k) -- the square-root scaling rule (Malladi et al. 2022) --
not by k as for SGD.  The researcher's control is the linear rule, eta sigma / (4 B).
"""

import sympy as sp

from sgdtheory import Derivation, Measure
from sgdtheory.optimizers import RMSProp
from sgdtheory.problems import GaussianNoiseQuadratic

eta, h, sigma2, B = sp.symbols("eta h sigma2 B", positive=True)

CLAIM = Derivation(
    id="RMSProp-sqrt-B",
    title="RMSProp: stationary excess loss = eta sigma / (4 sqrt(B)) + O(eta^2) (square-root scaling)",
    source="mean-field v = sigma2 / B; Malladi, Lyu, Panigrahi & Arora 2022",
    prediction=eta * sp.sqrt(sigma2) / (4 * sp.sqrt(B)),
    order=1,
    controls={"linear scaling rule eta sigma / (4 B)": eta * sp.sqrt(sigma2) / (4 * B)},
    measure=Measure(problem=lambda p: GaussianNoiseQuadratic(H=[[p["h"]]], C=[[p["sigma2"]]]),
                    optimizer=lambda p: RMSProp(beta=0.99), observable="excess_loss", steps=10000, burn_in=2000),
    grid={"eta": [0.01, 0.02, 0.04], "B": 4, "h": 1.0, "sigma2": 1.0},
)
