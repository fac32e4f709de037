"""Figure D10 (fig_d10_adam_nonconvergence.png|pdf): claim D10 of CLAIMS.md, code in sgdtheory/claims/adam_nonconvergence.py.

Usage: python experiments/fig_d10_adam_nonconvergence.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

import sgdtheory.claims.adam_nonconvergence  # noqa: F401  (registers D10 even before the registry imports it)
from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("D10", __doc__)
