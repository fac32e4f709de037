"""Figure C6 (fig_c6_sharp_minima.png|pdf): claim C6 of CLAIMS.md, code in sgdtheory/claims/sharp_minima.py.

Usage: python experiments/fig_c6_sharp_minima.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

import sgdtheory.claims.sharp_minima  # noqa: F401  (registers C6 even before the registry imports it)
from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("C6", __doc__)
