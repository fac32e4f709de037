"""Figure B5 (fig_b5_extrapolation.png|pdf): claim B5 of CLAIMS.md, code in sgdtheory/claims/quadratic_basin.py.

Usage: python experiments/fig_b5_extrapolation.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("B5", __doc__)
