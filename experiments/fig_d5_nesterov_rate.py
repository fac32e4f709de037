"""Figure D5 (fig_d5_nesterov_rate.png|pdf): claim D5 of CLAIMS.md, code in sgdtheory/claims/momentum.py.

Usage: python experiments/fig_d5_nesterov_rate.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

import sgdtheory.claims.momentum  # noqa: F401  (registers D5 even before the registry imports it)
from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("D5", __doc__)
