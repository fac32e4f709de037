"""Figure D9 (fig_d9_adam_forms.png|pdf): claim D9 of CLAIMS.md, code in sgdtheory/claims/adaptive.py.

Usage: python experiments/fig_d9_adam_forms.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

import sgdtheory.claims.adaptive  # noqa: F401  (registers D9 even before the registry imports it)
from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("D9", __doc__)
