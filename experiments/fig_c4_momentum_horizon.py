"""Figure C4 (fig_c4_momentum_horizon.png|pdf): claim C4 of CLAIMS.md, code in sgdtheory/claims/batch_scaling.py.

Usage: python experiments/fig_c4_momentum_horizon.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

import sgdtheory.claims.batch_scaling  # noqa: F401  (registers C4 even before the registry imports it)
from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("C4", __doc__)
