"""Figure D4 (fig_d4_lessard_cycle.png|pdf): claim D4 of CLAIMS.md, code in sgdtheory/claims/momentum.py.

Usage: python experiments/fig_d4_lessard_cycle.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

import sgdtheory.claims.momentum  # noqa: F401  (registers D4 even before the registry imports it)
from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("D4", __doc__)
