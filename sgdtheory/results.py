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
import re
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


#: temporary files of this process not yet moved into place (removed on Ctrl-C by ``remove_own_temp_files``)
LIVE_TEMP_FILES: set[str] = set()
#: ``.<final name>.<pid>.<token>.tmp``: the name of every temporary file sgdtheory writes
TEMP_RE = re.compile(r"^\..+\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.tmp$")


def temp_file(final) -> Path:
    """A new empty temporary file next to ``final`` named ``.<final name>.<pid>.<token>.tmp`` (registered as live,
    so an interrupt removes it, and carrying the pid, so the next run removes it if this process was killed)."""
    final = Path(final)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.{os.getpid()}.", suffix=".tmp", dir=final.parent)
    os.close(fd)
    LIVE_TEMP_FILES.add(tmp)
    return Path(tmp)


def commit_temp_file(tmp, final) -> None:
    """Move a finished temporary file into place (atomically)."""
    os.replace(tmp, final)
    LIVE_TEMP_FILES.discard(str(tmp))


def discard_temp_file(tmp) -> None:
    """Remove a temporary file (an interrupted or failed write)."""
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass
    LIVE_TEMP_FILES.discard(str(tmp))


def remove_own_temp_files() -> int:
    """Remove every live temporary file of this process; returns how many there were."""
    n = 0
    for tmp in list(LIVE_TEMP_FILES):
        discard_temp_file(tmp)
        n += 1
    return n


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temp_files(*dirs) -> list[str]:
    """Remove temporary files left in ``dirs`` by earlier runs that were killed (their pid is gone)."""
    removed = []
    for d in dirs:
        d = Path(d)
        if not d.is_dir():
            continue
        for f in d.iterdir():
            m = TEMP_RE.match(f.name)
            if m and f.is_file() and not _alive(int(m.group("pid"))):
                try:
                    f.unlink()
                    removed.append(str(f))
                except OSError:
                    pass
    return removed


def atomic_write_text(path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (temporary file in the same directory + os.replace)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_file(path)
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        commit_temp_file(tmp, path)
    except BaseException:
        discard_temp_file(tmp)
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
