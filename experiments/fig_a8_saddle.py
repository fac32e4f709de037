"""Figure A8 (fig_a8_saddle.png|pdf): claim A8 of CLAIMS.md, code in sgdtheory/claims/saddle.py.

Usage: python experiments/fig_a8_saddle.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

import sgdtheory.claims.saddle  # noqa: F401  (registers A8 until sgdtheory.claims imports it)
from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("A8", __doc__)
