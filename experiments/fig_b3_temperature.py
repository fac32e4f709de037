"""Figure B3 (fig_b3_temperature.png|pdf): claim B3 of CLAIMS.md, code in sgdtheory/claims/quadratic_basin.py.

Usage: python experiments/fig_b3_temperature.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("B3", __doc__)
