"""Figure D7 (fig_d7_rmsprop_second_moment.png|pdf): claim D7 of CLAIMS.md, code in sgdtheory/claims/adaptive.py.

Usage: python experiments/fig_d7_rmsprop_second_moment.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

import sgdtheory.claims.adaptive  # noqa: F401  (registers D7 even before the registry imports it)
from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("D7", __doc__)
