"""Figure E6 (fig_e6_supermartingale.png|pdf): erratum E6 of CLAIMS.md, code in sgdtheory/claims/errata_a.py.

Usage: python experiments/fig_e6_supermartingale.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("E6", __doc__)
