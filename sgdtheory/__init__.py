"""sgdtheory: check the theory of stochastic gradient descent by experiment.

Predictions are derived symbolically (``sgdtheory.theory``), measured with Numba Monte Carlo
simulators (``sgdtheory.simulate``), and judged with confidence intervals (``sgdtheory.stats``)
claim by claim (``sgdtheory.claims``, IDs from CLAIMS.md).  A researcher's own derivation is a
``Derivation`` with a ``Measure`` (``sgdtheory.derivations``), checked to the same standard.
"""

__version__ = "0.1.0"

__all__ = ["Derivation", "Measure", "__version__"]


def __getattr__(name):  # lazy: ``import sgdtheory`` stays light
    if name in ("Derivation", "Measure"):
        from . import derivations

        return getattr(derivations, name)
    raise AttributeError(f"module 'sgdtheory' has no attribute {name!r}")
