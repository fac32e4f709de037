"""Figure B1 (fig_b1_boltzmann_1d.png|pdf): claim B1 of CLAIMS.md, code in sgdtheory/claims/boltzmann_1d.py.

Usage: python experiments/fig_b1_boltzmann_1d.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

import sgdtheory.claims.boltzmann_1d  # noqa: F401  (registers B1 even before the registry imports it)
from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("B1", __doc__)
