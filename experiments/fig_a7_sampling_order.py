"""Figure A7 (fig_a7_sampling_order.png|pdf): claim A7 of CLAIMS.md, code in sgdtheory/claims/sampling_order.py.

Usage: python experiments/fig_a7_sampling_order.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("A7", __doc__)
