"""Exact (numeric and symbolic) predictions that the experiments are checked against.

* ``quadratic_basin`` -- ``QuadraticBasin``: the exact stationary second moment of minibatch SGD
  in a quadratic basin, L(eta), dL/deta at 0, the proof identity, series, stability limit
  (claims B3, B4, B5, E3, E4; seed 003).
* ``symbolic_basin`` -- the same in SymPy: exact rational L(eta), the derivations printed by
  ``sgdtheory derive``.
"""

from .. import _kernels  # noqa: F401  (first: installs the kernel cache locator for the njit helpers here)
