"""Figure D8 (fig_d8_running_averages.png|pdf): claim D8 of CLAIMS.md, code in sgdtheory/claims/running_averages.py.

Usage: python experiments/fig_d8_running_averages.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("D8", __doc__)
