"""Figure B7 (fig_b7_noisy_minima.png|pdf): claim B7 of CLAIMS.md, code in sgdtheory/claims/noisy_minima.py.

Usage: python experiments/fig_b7_noisy_minima.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

import sgdtheory.claims.noisy_minima  # noqa: F401  (registers B7 even before the registry imports it)
from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("B7", __doc__)
