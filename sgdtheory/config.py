"""User instances from TOML or JSON files.

Example (TOML) for the quadratic-basin claims B3, B4, B5, E3, E4::

    [problem]                     # per-example quadratics around an anchor (default 0)
    g = [[1.0, 0.0], [-1.0, 0.0], [0.0, 2.0], [0.0, -2.0]]         # n x d
    H = [[[1.0, 0.0], [0.0, 1.0]], [[2.0, 0.0], [0.0, 1.0]],
         [[1.0, 0.0], [0.0, 3.0]], [[1.0, 0.5], [0.5, 1.0]]]       # n x d x d, symmetric
    c = [1.0, 1.0, 0.5, 0.5]      # optional per-example losses at the anchor
    # or a linear regression:  X = [[...], ...]  and  y = [...]

    [experiment]
    batch_size = 1
    sampling = "with_replacement"  # or "without_replacement"
    eta = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32]   # optional learning-rate grid

Errors name the offending field (``problem.H: ...``).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from .errors import ConfigError


def load(path) -> dict:
    """Parse a .toml or .json config file into a dict; errors name the file and the problem."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config: file not found: {path}")
    text = path.read_bytes()
    try:
        if path.suffix.lower() == ".json":
            cfg = json.loads(text)
        elif path.suffix.lower() == ".toml":
            cfg = tomllib.loads(text.decode("utf-8"))
        else:
            raise ConfigError(f"config: {path.name}: expected a .toml or .json file")
    except (json.JSONDecodeError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config: {path.name} is not valid {path.suffix[1:].upper()}: {exc}") from None
    if not isinstance(cfg, dict):
        raise ConfigError(f"config: {path.name}: the top level must be a table/object")
    unknown = set(cfg) - {"problem", "experiment"}
    if unknown:
        raise ConfigError(f"config: unknown section(s) {', '.join(sorted(unknown))}; valid: problem, experiment")
    return cfg


def finite_sum_problem(cfg: dict):
    """The ``[problem]`` section as a ``LinearRegression`` (X, y) or a ``QuadraticFiniteSum`` (g, H, optional c,
    anchor); errors name the field (``problem.H: ...``)."""
    from .errors import SgdTheoryError
    from .problems import LinearRegression, QuadraticFiniteSum

    prob = cfg.get("problem")
    if not isinstance(prob, dict):
        raise ConfigError("problem: missing section [problem] (X and y, or g and H)")
    try:
        if "X" in prob:
            return LinearRegression(prob["X"], prob.get("y"), name=prob.get("name", "user linear regression"))
        return QuadraticFiniteSum(prob["g"], prob["H"], prob.get("c"), prob.get("anchor"),
                                  name=prob.get("name", "user quadratic"))
    except KeyError as exc:
        raise ConfigError(f"problem.{exc.args[0]}: required") from None
    except SgdTheoryError as exc:
        raise ConfigError(f"problem.{exc}") from None
