"""Figure D13 (fig_d13_sam.png|pdf): claim D13 of CLAIMS.md, code in sgdtheory/claims/sam.py.

Usage: python experiments/fig_d13_sam.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

import sgdtheory.claims.sam  # noqa: F401  (registers D13 even before the registry imports it)
from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("D13", __doc__)
