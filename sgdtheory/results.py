"""Result records: JSON files written atomically, with versions, seed and parameters.

A record holds everything needed to cite or re-run a verdict: the claim, its source, each check
(prediction, estimate, interval, verdict, expected verdict), the seed, the settings, the instance
and the package versions.  Files are written to a temporary file in the same directory and moved
into place with ``os.replace``, so an interrupted run never leaves a truncated record.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np

from . import __version__


def versions() -> dict:
    """Versions of sgdtheory, Python and the numerical dependencies."""
    out = {"sgdtheory": __version__, "python": platform.python_version()}
    for pkg in ("numpy", "scipy", "sympy", "numba", "matplotlib"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, (np.floating, float)):
        return float(x) if np.isfinite(x) else str(float(x))
    if isinstance(x, (np.integer,)):
        return int(x)
    return x


def atomic_write_text(path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (temporary file in the same directory + os.replace)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def record(claim, result, settings, elapsed: float, figures=()) -> dict:
    """The JSON-able record of one claim run."""
    return _jsonable({
        "claim": claim.id, "title": claim.title, "source": claim.source, "statement": claim.statement,
        "kind": claim.kind, "status": result.status, "expected_status": claim.expected,
        "diverged": result.diverged,
        "checks": [c.to_dict() for c in result.checks],
        "main_check": None if result.main_check is None else result.main_check.name,
        "settings": {"quick": settings.quick, "seed": settings.seed, "level": settings.level},
        "parameters": result.parameters, "data": result.data, "figures": list(figures),
        "elapsed_seconds": elapsed, "versions": versions(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    })


def write_record(outdir, rec: dict) -> Path:
    """Write ``<outdir>/<claim>.json`` atomically."""
    return atomic_write_text(Path(outdir) / f"{rec['claim']}.json", json.dumps(rec, indent=2, sort_keys=False) + "\n")
