"""Figure A6 (fig_a6_gradient_flow.png|pdf): claim A6 of CLAIMS.md, code in sgdtheory/claims/gradient_flow.py.

Usage: python experiments/fig_a6_gradient_flow.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

import sgdtheory.claims.gradient_flow  # noqa: F401  (registers A6 if the registry does not import it yet)
from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("A6", __doc__)
