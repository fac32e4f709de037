"""Figure D3 (fig_d3_narrow_valley.png|pdf): claim D3 of CLAIMS.md, code in sgdtheory/claims/d3_narrow_valley.py.

Usage: python experiments/fig_d3_narrow_valley.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("D3", __doc__)
