"""Figure E7 (fig_e7_adam_indexing.png|pdf): claim E7 of CLAIMS.md, code in sgdtheory/claims/adaptive.py.

Usage: python experiments/fig_e7_adam_indexing.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

import sgdtheory.claims.adaptive  # noqa: F401  (registers E7 even before the registry imports it)
from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("E7", __doc__)
