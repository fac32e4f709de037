"""Figure B4: L(eta) - L(Phi*) against eta for the quadratic-basin theorem (seed 003).

Thin: runs claim B4 on its default instance and saves the figure and the result record.
Usage: python experiments/fig_b4_quadratic_basin.py [--quick] [--out DIR]
"""

import argparse
import time
from pathlib import Path

from sgdtheory.claims import REGISTRY, Settings
from sgdtheory.results import record, write_record


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "output")
    args = ap.parse_args()
    claim = REGISTRY["B4"]
    settings = Settings(quick=args.quick)
    t0 = time.perf_counter()
    result = claim.run(claim.default_instance(), settings)
    figures = claim.figure(result, args.out / "figures")
    write_record(args.out, record(claim, result, settings, time.perf_counter() - t0, figures))
    print(f"B4: {result.status}; figures: {', '.join(figures)}")


if __name__ == "__main__":
    main()
