"""``sgdtheory new NAME``: a commented template of a researcher's own derivation, runnable as is."""

from __future__ import annotations

import re
from pathlib import Path

from .errors import SgdTheoryError

TEMPLATE = '''"""{name}: my derivation, checked by sgdtheory.

Run:  sgdtheory verify {name}.py --quick     (quick mode, seconds)
      sgdtheory verify {name}.py             (full mode: the planned resolution)

The example below is a true, exact result; replace it with yours.  SGD on the one-dimensional
noisy quadratic L(w) = h w^2 / 2 with gradient noise of variance sigma2 / B is the AR(1) chain
w <- (1 - eta h) w - eta xi, whose stationary variance is eta sigma2 / (B h (2 - eta h)), so the
stationary excess loss is E L = eta sigma2 / (2 B (2 - eta h)).
"""

import sympy as sp

from sgdtheory import Derivation, Measure
from sgdtheory.problems import GaussianNoiseQuadratic

# 1. The parameters of your instance, as SymPy symbols named like the grid's keys below.
eta, h, sigma2, B = sp.symbols("eta h sigma2 B", positive=True)

CLAIM = Derivation(
    id="{ident}",
    title="SGD's stationary excess loss on a noisy quadratic",
    source="my notes, eq. (1)",
    # 2. The prediction: a SymPy expression (or a function params -> float).  An exact discrete form
    #    gets its continuous-time limit (the leading term in eta) as an automatic negative control.
    prediction=eta * sigma2 / (2 * B * (2 - eta * h)),
    # 3. The measurement, in the engine's vocabulary: a problem (and optimizer, sampler, schedule) built
    #    from the parameters, the observable, and either at="stationary" (time average after burn_in)
    #    or at=t (the ensemble mean at step t).
    measure=Measure(
        problem=lambda p: GaussianNoiseQuadratic(H=[[p["h"]]], C=[[p["sigma2"]]]),
        observable="excess_loss", at="stationary", steps=3000, burn_in=500),
    # 4. The grid: lists are swept (Cartesian product); eta is the learning rate by default.
    grid={{"eta": [0.05, 0.1, 0.2, 0.4], "h": 1.0, "sigma2": 1.0, "B": 1}},
    # 5. Optional: the relative error the check must resolve (the power calculation aims at it),
    #    order=k for a claim true only to leading order (relative error O(eta^k)), and your own
    #    wrong answers as controls, e.g. controls={{"Langevin": eta * sigma2 / (4 * B)}}.
    resolution=0.05,
)
'''


def write_template(name: str, force: bool = False) -> Path:
    """Write ``NAME.py`` (a runnable, verified example to edit) and return its path."""
    path = Path(name if str(name).endswith(".py") else f"{name}.py")
    stem = path.stem
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_\-]*", stem):
        raise SgdTheoryError(f"name = {name!r}: expected a file name of letters, digits, '_' or '-' (e.g. my_claim)")
    if path.exists() and not force:
        raise SgdTheoryError(f"name: {path} exists; pass --force to overwrite it")
    if not path.parent.is_dir():
        raise SgdTheoryError(f"name: folder {path.parent} does not exist")
    ident = re.sub(r"[^A-Za-z0-9_\-]", "", stem)[:32]
    ident = ident if ident[:1].isalpha() else f"U{ident}"[:32]
    from .results import atomic_write_text

    return atomic_write_text(path, TEMPLATE.format(name=stem, ident=ident[:32]))
