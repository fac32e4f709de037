"""Figure D11 (fig_d11_wilson.png|pdf): claim D11 of CLAIMS.md, code in sgdtheory/claims/generalisation.py.

Usage: python experiments/fig_d11_wilson.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

import sgdtheory.claims.generalisation  # noqa: F401  (registers D11 even before the registry imports it)
from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("D11", __doc__)
