"""Figure D2 (fig_d2_parameterisations.png|pdf): claim D2 of CLAIMS.md, code in sgdtheory/claims/momentum.py.

Usage: python experiments/fig_d2_parameterisations.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

import sgdtheory.claims.momentum  # noqa: F401  (registers D2 even before the registry imports it)
from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("D2", __doc__)
