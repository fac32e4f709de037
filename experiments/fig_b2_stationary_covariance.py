"""Figure B2 (fig_b2_stationary_covariance.png|pdf): claim B2 of CLAIMS.md, code in sgdtheory/claims/lyapunov.py.

Usage: python experiments/fig_b2_stationary_covariance.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

import sgdtheory.claims.lyapunov  # noqa: F401  (registers B2 even before the registry imports it)
from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("B2", __doc__)
