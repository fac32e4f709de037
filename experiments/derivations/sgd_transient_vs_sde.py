"""SGD's expected loss after t steps from w0 on a noisy quadratic: the exact discrete transient, and the
stochastic differential equation (continuous-time Ornstein-Uhlenbeck, Li, Tai & E 2017) as the control.

w_t = (1 - eta h)^t w0 + noise, so with T = eta t fixed

    E L(w_t) = h/2 [ (1 - eta h)^(2T/eta) w0^2 + eta sigma2 (1 - (1 - eta h)^(2T/eta)) / (B h (2 - eta h)) ],

while the SDE dW = -h W dT + sqrt(eta sigma2 / B) dB_T predicts e^(-2hT) for (1 - eta h)^(2T/eta) and 2h for
h (2 - eta h): right as eta -> 0, detectably wrong at finite eta.
"""

import sympy as sp

from sgdtheory import Derivation, Measure
from sgdtheory.problems import GaussianNoiseQuadratic

eta, h, sigma2, B, w0, T = sp.symbols("eta h sigma2 B w0 T", positive=True)
decay = (1 - eta * h) ** (2 * T / eta)

CLAIM = Derivation(
    id="SGD-transient",
    title="SGD: exact E L(w_t) at t = T / eta from w0 on a noisy quadratic",
    source="the AR(1) chain solved exactly (this file); SDE of Li, Tai & E 2017 as the control",
    prediction=h / 2 * (decay * w0**2 + eta * sigma2 * (1 - decay) / (B * h * (2 - eta * h))),
    controls={"SDE (continuous-time OU at time T)":
              h / 2 * (sp.exp(-2 * h * T) * w0**2 + eta * sigma2 * (1 - sp.exp(-2 * h * T)) / (2 * B * h))},
    automatic_controls=True,
    measure=Measure(problem=lambda p: GaussianNoiseQuadratic(H=[[p["h"]]], C=[[p["sigma2"]]]),
                    w0=lambda p: [p["w0"]], observable="excess_loss", at=lambda p: round(p["T"] / p["eta"])),
    grid={"eta": [0.05, 0.1, 0.2], "T": 1.0, "w0": 1.0, "h": 1.0, "sigma2": 1.0, "B": 1},
)
