"""Figure B8 (fig_b8_bayesian_sgd.png|pdf): claim B8 of CLAIMS.md, code in sgdtheory/claims/bayesian_sgd.py.

Usage: python experiments/fig_b8_bayesian_sgd.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

import sgdtheory.claims.bayesian_sgd  # noqa: F401  (registers B8 even before the registry imports it)
from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("B8", __doc__)
