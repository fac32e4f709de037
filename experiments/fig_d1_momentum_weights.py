"""Figure D1 (fig_d1_momentum_weights.png|pdf): claim D1 of CLAIMS.md, code in sgdtheory/claims/momentum.py.

Usage: python experiments/fig_d1_momentum_weights.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

import sgdtheory.claims.momentum  # noqa: F401  (registers D1 even before the registry imports it)
from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("D1", __doc__)
