"""Figure A1 (fig_a1_minibatch_covariance.png|pdf): claim A1 of CLAIMS.md, code in sgdtheory/claims/minibatch.py.

Usage: python experiments/fig_a1_minibatch_covariance.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("A1", __doc__)
