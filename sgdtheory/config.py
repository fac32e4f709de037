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


def _no_duplicate_keys(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise ConfigError(f"{k}: given twice in the JSON object (keys must be unique)")
        out[k] = v
    return out


def load(path) -> dict:
    """Parse a .toml or .json config file into a dict; errors name the file and the problem."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config: file not found: {path}")
    text = path.read_bytes()
    try:
        if path.suffix.lower() == ".json":
            cfg = json.loads(text, object_pairs_hook=_no_duplicate_keys)
        elif path.suffix.lower() == ".toml":
            cfg = tomllib.loads(text.decode("utf-8"))
        else:
            raise ConfigError(f"config: {path.name}: expected a .toml or .json file")
    except (json.JSONDecodeError, tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError) as exc:
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


# --------------------------------------------------------------------------------------------------
# One schema per instance family, checked before any instance is built (and so before any simulation).
#
# A schema maps a section ("problem", "experiment") to its fields; a field's spec is a string
#   [*]<kind>[[]...][!][~]
# with kind num (a finite float), int (an integer: 1.5 is an error, never truncated), str;
# one "[]" per array dimension (nested lists must be rectangular and non-empty); "*" marks a required
# field, "!" a grid whose entries must be distinct, "~" an array of int lists that may be ragged
# (minibatches).  A nested dict is a sub-table.  Booleans are never numbers (TOML ``true`` is not 1.0);
# strings are never numbers; NaN and inf are refused; magnitudes are bounded (below).
# --------------------------------------------------------------------------------------------------

#: largest magnitude of a number in a config; beyond it squared distances approach the engine's divergence
#: threshold (1e12 times the start's squared distance) and sums of squares lose all precision
MAX_ABS = 1e6
#: largest magnitude of an integer field (step counts, sizes); the run budget bounds the work separately
MAX_INT = 10**12
#: smallest non-zero magnitude; below it squares and cubes underflow to 0 (e.g. eta = 1e-300)
MIN_ABS = 1e-250

#: family label -> schema, filled by ``schema`` (used to name the family a misplaced config is meant for)
FAMILIES: dict[str, dict] = {}


def _parse_spec(spec: str):
    required = spec.startswith("*")
    spec = spec.lstrip("*")
    unique, ragged = spec.endswith("!"), spec.endswith("~")
    spec = spec.rstrip("!~")
    ndim = spec.count("[]")
    kind = spec.replace("[]", "")
    if kind not in ("num", "int", "str"):
        raise ValueError(f"bad schema spec {spec!r}")
    return required, kind, ndim, unique, ragged


def _fmt(x) -> str:
    return repr(x) if not isinstance(x, float) else f"{x:g}"


def _check_scalar(value, kind: str, where: str):
    if kind == "str":
        if not isinstance(value, str):
            raise ConfigError(f"{where} = {_fmt(value)}: expected a string")
        return value
    what = "an integer" if kind == "int" else "a number"
    if isinstance(value, bool):
        raise ConfigError(f"{where} = {str(value).lower()}: expected {what}, got a boolean")
    if isinstance(value, str):
        raise ConfigError(f"{where} = {value!r}: expected {what}, got a string")
    if isinstance(value, (list, dict)):
        raise ConfigError(f"{where}: expected {what}, got a {'list' if isinstance(value, list) else 'table'}")
    if kind == "int":
        if isinstance(value, float):
            raise ConfigError(f"{where} = {_fmt(value)}: expected an integer (it is never rounded), got a float")
        if not isinstance(value, int):
            raise ConfigError(f"{where} = {value!r}: expected an integer")
        if abs(value) > MAX_INT:
            raise ConfigError(f"{where} = {value} is out of range: valid range is [-{MAX_INT:.0e}, {MAX_INT:.0e}]")
        return value
    if not isinstance(value, (int, float)):
        raise ConfigError(f"{where} = {value!r}: expected a number")
    x = float(value)
    if x != x or x in (float("inf"), float("-inf")):
        raise ConfigError(f"{where} = {x}: must be finite (valid range is [-{MAX_ABS:g}, {MAX_ABS:g}])")
    if abs(x) > MAX_ABS or (x != 0.0 and abs(x) < MIN_ABS):
        raise ConfigError(f"{where} = {x:g} is out of range: valid range is 0 or {MIN_ABS:g} <= |x| <= {MAX_ABS:g} "
                          "(rescale the problem)")
    return value


def _check_array(value, kind: str, ndim: int, where: str, ragged: bool):
    """Walk nested lists: rectangular (unless ragged), non-empty, entries of ``kind``; returns the shape."""
    if not isinstance(value, list):
        shape = "[" * ndim + "..." + "]" * ndim
        raise ConfigError(f"{where}: expected a {ndim}-D array {shape} of {kind}s, got {_fmt(value)}")
    if not value:
        return (0,)  # the family states how many entries it needs
    if ndim == 1:
        for k, v in enumerate(value):
            _check_scalar(v, kind, f"{where}[{k}]")
        return (len(value),)
    shapes = [_check_array(v, kind, ndim - 1, f"{where}[{k}]", ragged) for k, v in enumerate(value)]
    if not ragged:
        for k, s in enumerate(shapes):
            if s != shapes[0]:
                raise ConfigError(f"{where}: rows of unequal shape ({where}[0] has shape {shapes[0]}, {where}[{k}] "
                                  f"has {s}); expected a rectangular {ndim}-D array")
    return (len(value),) + shapes[0]


def _depth(value) -> int:
    return 1 + _depth(value[0]) if isinstance(value, list) and value else int(isinstance(value, list))


def _check_value(value, spec: str, where: str):
    _, kind, ndim, unique, ragged = _parse_spec(spec)
    if ndim == 0:
        return _check_scalar(value, kind, where)
    depth = _depth(value)
    if isinstance(value, list) and value and depth != ndim:
        raise ConfigError(f"{where}: expected a {ndim}-D array of {kind}s, got a {depth}-D array")
    _check_array(value, kind, ndim, where, ragged)
    if unique and ndim == 1:
        seen = {}
        for k, v in enumerate(value):
            if v in seen:
                raise ConfigError(f"{where}: duplicate value {_fmt(v)} (entries {seen[v]} and {k}); "
                                  "the entries of a grid must be distinct")
            seen[v] = k
    return value


def _fields(schema: dict, prefix: str = "") -> set:
    out = set()
    for k, v in schema.items():
        out |= _fields(v, f"{prefix}{k}.") if isinstance(v, dict) else {prefix + k}
    return out


def _meant_for(cfg: dict, family: str) -> str:
    """' (this config looks meant for C3/C4/C5)' when another family's schema accepts every field of ``cfg``."""
    got = _fields({s: v for s, v in cfg.items() if isinstance(v, dict)})
    fits = [f for f, sch in FAMILIES.items() if f != family and got <= _fields(sch)]
    return f"; this config looks meant for {', '.join(fits)}" if fits else ""


def validate(cfg: dict, schema: dict, family: str, _path: str = "", _root=None) -> dict:
    """Check ``cfg`` against ``schema``: unknown sections/fields, missing required fields, types (no bool for a
    number, no float for an int, no string for a number), shapes, finiteness, magnitudes, duplicate grid entries.
    Raises ``ConfigError`` naming the field (``experiment.eta[2]``), the value and the valid range."""
    root = cfg if _root is None else _root
    if not isinstance(cfg, dict):
        raise ConfigError(f"{_path.rstrip('.') or 'config'}: expected a table, got {_fmt(cfg)}")
    for key, value in cfg.items():
        where = f"{_path}{key}"
        if value is None and not _path:
            continue  # a section passed on as absent by a family that reuses another's reader
        if key not in schema:
            valid = ", ".join(schema) or "none"
            what = "section" if not _path else "field"
            raise ConfigError(f"{where}: unknown {what} for {family}; valid: {valid}{_meant_for(root, family)}")
        spec = schema[key]
        if isinstance(spec, dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: expected a table [{where}], got {_fmt(value)}")
            validate(value, spec, family, where + ".", root)
        else:
            _check_value(value, spec, where)
    for key, spec in schema.items():
        if isinstance(spec, str) and spec.startswith("*") and key not in cfg:
            raise ConfigError(f"{_path}{key}: required for {family}")
    return cfg


def schema(family: str, spec: dict):
    """Decorator of an ``instance_from_config``: validate the config against ``spec`` (see ``validate``) first.

    ``family`` names the claims that share the instance (e.g. "A1", "C3/C4/C5"); the schema is registered so
    that a config meant for another family is rejected by name."""
    FAMILIES[family] = spec

    def wrap(fn):
        import functools

        @functools.wraps(fn)
        def checked(cfg: dict):
            validate(cfg, spec, family)
            return fn(cfg)

        checked.schema, checked.family = spec, family
        return checked

    return wrap


#: the [problem] section of a finite sum: per-example quadratics (g, H, c, anchor) or a linear regression (X, y)
FINITE_SUM = {"name": "str", "g": "num[][]", "H": "num[][][]", "c": "num[]", "anchor": "num[]",
              "X": "num[][]", "y": "num[]"}
