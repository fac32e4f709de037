"""Figure E8 (fig_e8_adam_slide.png|pdf): claim E8 of CLAIMS.md, code in sgdtheory/claims/adaptive.py.

Usage: python experiments/fig_e8_adam_slide.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

import sgdtheory.claims.adaptive  # noqa: F401  (registers E8 even before the registry imports it)
from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("E8", __doc__)
