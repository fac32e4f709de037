"""Figure C1 (fig_c1_modified_loss.png|pdf): claim C1 of CLAIMS.md, code in sgdtheory/claims/c1_modified_loss.py.

Usage: python experiments/fig_c1_modified_loss.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("C1", __doc__)
