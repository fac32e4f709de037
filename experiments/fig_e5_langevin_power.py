"""Figure E5 (fig_e5_langevin_power.png|pdf): claim E5 of CLAIMS.md, code in sgdtheory/claims/langevin_increment.py.

Usage: python experiments/fig_e5_langevin_power.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

import sgdtheory.claims.langevin_increment  # noqa: F401  (registers E5 even before the registry imports it)
from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("E5", __doc__)
