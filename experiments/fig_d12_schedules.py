"""Figure D12 (fig_d12_schedules.png|pdf): claim D12 of CLAIMS.md, code in sgdtheory/claims/schedules.py.

Usage: python experiments/fig_d12_schedules.py [--quick] [--out DIR]   (default DIR: experiments/output)
"""

import sgdtheory.claims.schedules  # noqa: F401  (registers D12 even before the registry imports it)
from sgdtheory.runner import experiment_main

if __name__ == "__main__":
    experiment_main("D12", __doc__)
