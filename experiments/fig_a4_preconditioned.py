"""Figure A4 (fig_a4_preconditioned.png|pdf): claim A4 of CLAIMS.md, code in sgdtheory/claims/preconditioned.py.

Usage: python experiments/fig_a4_preconditioned.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("A4", __doc__)
