"""Figure C3 (fig_c3_linear_scaling.png|pdf): claim C3 of CLAIMS.md, code in sgdtheory/claims/batch_scaling.py.

Usage: python experiments/fig_c3_linear_scaling.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

import sgdtheory.claims.batch_scaling  # noqa: F401  (registers C3 even before the registry imports it)
from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("C3", __doc__)
