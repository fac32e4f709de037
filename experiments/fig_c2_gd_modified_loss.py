"""Figure C2 (fig_c2_gd_modified_loss.png|pdf): claim C2 of CLAIMS.md, code in sgdtheory/claims/implicit_regularisation.py.

Usage: python experiments/fig_c2_gd_modified_loss.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

import sgdtheory.claims.implicit_regularisation  # noqa: F401  (registers C2 even before the registry imports it)
from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("C2", __doc__)
