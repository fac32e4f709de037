"""Figure C5 (fig_c5_batch_schedule.png|pdf): claim C5 of CLAIMS.md, code in sgdtheory/claims/batch_scaling.py.

Usage: python experiments/fig_c5_batch_schedule.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

import sgdtheory.claims.batch_scaling  # noqa: F401  (registers C5 even before the registry imports it)
from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("C5", __doc__)
