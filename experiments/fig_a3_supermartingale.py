"""Figure A3 (fig_a3_supermartingale.png|pdf): claim A3 of CLAIMS.md, code in sgdtheory/claims/supermartingale.py.

Usage: python experiments/fig_a3_supermartingale.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("A3", __doc__)
