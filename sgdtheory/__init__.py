"""sgdtheory: check the theory of stochastic gradient descent by experiment.

Predictions are derived symbolically (``sgdtheory.theory``), measured with Numba Monte Carlo
simulators (``sgdtheory.simulate``), and judged with confidence intervals (``sgdtheory.stats``)
claim by claim (``sgdtheory.claims``, IDs from CLAIMS.md).
"""

__version__ = "0.1.0"
