"""Figure A2 (fig_a2_gradient_at_optimum.png|pdf): claim A2 of CLAIMS.md, code in sgdtheory/claims/a2_gradient_at_optimum.py.

Usage: python experiments/fig_a2_gradient_at_optimum.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("A2", __doc__)
