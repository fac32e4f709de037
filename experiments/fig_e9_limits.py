"""Figure E9 (fig_e9_limits.png|pdf): erratum E9 of CLAIMS.md, code in sgdtheory/claims/errata_a.py.

Usage: python experiments/fig_e9_limits.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("E9", __doc__)
