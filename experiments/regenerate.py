"""Regenerate every figure, table and number of the paper, then build paper/main.pdf.

The single entry point over the per-figure scripts in this directory (each `fig_<id>_<name>.py` runs one
claim): it runs every claim whose cached record is missing or stale (results keyed by claim, mode, seed,
level, package version and source hash), with progress, then writes paper/generated/ and runs latexmk.

Usage: python experiments/regenerate.py [--quick] [--force] [--no-build]   (same as `sgdtheory paper ...`)
"""

import sys

from sgdtheory.cli import main

if __name__ == "__main__":
    sys.exit(main(["paper", *sys.argv[1:]]))
