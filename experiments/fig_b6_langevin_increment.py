"""Figure B6 (fig_b6_langevin_increment.png|pdf): claim B6 of CLAIMS.md, code in sgdtheory/claims/b6_langevin_increment.py.

Usage: python experiments/fig_b6_langevin_increment.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("B6", __doc__)
