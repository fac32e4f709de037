"""Figure E2 (fig_e2_geometric_series.png|pdf): claim E2 of CLAIMS.md, code in sgdtheory/claims/running_averages.py.

Usage: python experiments/fig_e2_geometric_series.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("E2", __doc__)
