"""Figure D6 (fig_d6_adagrad_step.png|pdf): claim D6 of CLAIMS.md, code in sgdtheory/claims/adaptive.py.

Usage: python experiments/fig_d6_adagrad_step.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

import sgdtheory.claims.adaptive  # noqa: F401  (registers D6 even before the registry imports it)
from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("D6", __doc__)
