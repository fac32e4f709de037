"""Validation helpers: every bad input gets an error that names the parameter and the valid range."""

import numpy as np


class SgdTheoryError(ValueError):
    """Base class of sgdtheory's input errors (a ``ValueError``)."""


class ConfigError(SgdTheoryError):
    """A configuration file is malformed; the message names the offending field."""


def as_float_array(value, name: str, ndim: int) -> np.ndarray:
    """``value`` as a finite float64 array with ``ndim`` dimensions, or a ValueError naming ``name``.

    Booleans, strings and complex numbers are refused (never read as 1.0, parsed, or cut to their real part)."""
    if isinstance(value, (str, bytes)):
        raise SgdTheoryError(f"{name} = {value!r}: expected a numeric array, got a string")
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise SgdTheoryError(f"{name}: expected a numeric array, got {type(value).__name__} ({exc})") from None
    if raw.dtype.kind in "bUSOcV" and not (raw.dtype.kind == "O" and _all_real(raw)):
        kind = {"b": "booleans", "U": "strings", "S": "bytes", "c": "complex numbers"}.get(raw.dtype.kind,
                                                                                          "non-numbers")
        raise SgdTheoryError(f"{name}: expected a real numeric array, got {kind}")
    try:
        arr = np.array(value, dtype=np.float64, order="C")
    except (TypeError, ValueError) as exc:
        raise SgdTheoryError(f"{name}: expected a numeric array, got {type(value).__name__} ({exc})") from None
    if arr.ndim != ndim:
        raise SgdTheoryError(f"{name}: expected a {ndim}-D array, got shape {arr.shape}")
    if arr.size == 0:
        raise SgdTheoryError(f"{name}: must not be empty, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise SgdTheoryError(f"{name}: all entries must be finite (found NaN or inf)")
    return arr


def _all_real(raw: np.ndarray) -> bool:
    return all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
               for v in raw.ravel())


def check_int(value, name: str, low: int, high: int | None = None) -> int:
    """``value`` as an int in [low, high], or a ValueError naming ``name`` and the range."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise SgdTheoryError(f"{name}: expected an integer, got {value!r}")
    value = int(value)
    if value < low or (high is not None and value > high):
        rng = f"[{low}, {high}]" if high is not None else f">= {low}"
        raise SgdTheoryError(f"{name} = {value} is out of range: valid range is {rng}")
    return value


def check_float(value, name: str, low: float | None = None, high: float | None = None,
                low_open: bool = True, high_open: bool = True) -> float:
    """``value`` as a finite float in the stated interval, or a ValueError naming ``name``."""
    if isinstance(value, (bool, np.bool_, str, bytes, complex, np.complexfloating)):
        raise SgdTheoryError(f"{name}: expected a number, got {value!r}")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise SgdTheoryError(f"{name}: expected a number, got {value!r}") from None
    if not np.isfinite(x):
        raise SgdTheoryError(f"{name}: must be finite, got {x}")
    bad_low = low is not None and (x <= low if low_open else x < low)
    bad_high = high is not None and (x >= high if high_open else x > high)
    if bad_low or bad_high:
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        raise SgdTheoryError(
            f"{name} = {x:g} is out of range: valid range is {lo}{'-inf' if low is None else f'{low:g}'}, "
            f"{'inf' if high is None else f'{high:g}'}{hi}"
        )
    return x


def check_symmetric(M: np.ndarray, name: str, rtol: float = 1e-12) -> None:
    """Raise unless the last two axes of ``M`` are symmetric to ``rtol`` of its largest entry."""
    scale = max(np.max(np.abs(M)), 1e-300)
    asym = np.max(np.abs(M - np.swapaxes(M, -1, -2)))
    if asym > rtol * scale:
        raise SgdTheoryError(f"{name}: must be symmetric (max |M - M^T| = {asym:.3g})")
