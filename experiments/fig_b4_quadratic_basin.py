"""Figure B4 (fig_b4_quadratic_basin.png|pdf): claim B4 of CLAIMS.md, code in sgdtheory/claims/quadratic_basin.py.

Usage: python experiments/fig_b4_quadratic_basin.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("B4", __doc__)
