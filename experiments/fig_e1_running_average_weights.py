"""Figure E1 (fig_e1_running_average_weights.png|pdf): claim E1 of CLAIMS.md, code in sgdtheory/claims/running_averages.py.

Usage: python experiments/fig_e1_running_average_weights.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("E1", __doc__)
