"""Heavy ball's stationary excess loss on a noisy quadratic, exactly (discrete time).

Polyak's heavy ball w_{t+1} = w_t - eta g_t + mu (w_t - w_{t-1}) on L(w) = h w^2 / 2 with gradient noise of
variance sigma2 / B is a stable AR(2) chain; solving its discrete Lyapunov equation (two lines of SymPy) gives

    E L = eta sigma2 (1 + mu) / (2 B (1 - mu) (2 (1 + mu) - eta h)),

whose eta -> 0 leading term eta sigma2 / (4 B (1 - mu)) (the "effective learning rate eta / (1 - mu)" rule,
e.g. Mandt, Hoffman & Blei 2017, Sec. 4) is posed automatically as the continuous-time negative control.
"""

import sympy as sp

from sgdtheory import Derivation, Measure
from sgdtheory.optimizers import HeavyBall
from sgdtheory.problems import GaussianNoiseQuadratic

eta, h, sigma2, B, mu = sp.symbols("eta h sigma2 B mu", positive=True)

CLAIM = Derivation(
    id="HB-exact",
    title="heavy ball: exact stationary excess loss on a noisy quadratic",
    source="discrete Lyapunov equation of the AR(2) chain (this file)",
    prediction=eta * sigma2 * (1 + mu) / (2 * B * (1 - mu) * (2 * (1 + mu) - eta * h)),
    measure=Measure(problem=lambda p: GaussianNoiseQuadratic(H=[[p["h"]]], C=[[p["sigma2"]]]),
                    optimizer=lambda p: HeavyBall(momentum=p["mu"]),
                    observable="excess_loss", steps=6000, burn_in=1000),
    grid={"eta": [0.1, 0.2, 0.4, 0.8], "mu": 0.5, "h": 1.0, "sigma2": 1.0, "B": 1},
)
