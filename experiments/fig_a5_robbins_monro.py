"""Figure A5 (fig_a5_robbins_monro.png|pdf): claim A5 of CLAIMS.md, code in sgdtheory/claims/robbins_monro.py.

Usage: python experiments/fig_a5_robbins_monro.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("A5", __doc__)
