"""Figure E3 (fig_e3_extrapolation_sign.png|pdf): claim E3 of CLAIMS.md, code in sgdtheory/claims/quadratic_basin.py.

Usage: python experiments/fig_e3_extrapolation_sign.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("E3", __doc__)
