"""Figure E4 (fig_e4_quarter.png|pdf): claim E4 of CLAIMS.md, code in sgdtheory/claims/quadratic_basin.py.

Usage: python experiments/fig_e4_quarter.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("E4", __doc__)
