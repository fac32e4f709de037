"""Numba kernels: arrays and scalars in, no I/O, no SymPy, all ``@njit(cache=True)``.

Public code goes through ``sgdtheory.simulate``; tests call the single-step kernels directly to
compare them with their plain-numpy references.

Numba's on-disk cache is keyed on the source file of the cached function only, so a kernel that
inlines helpers from another file (the engine inlines ``steps`` and ``rng``) would be loaded stale
after those helpers change.  On import this package therefore hashes all its sources and, when
the hash differs from the one stamped in the cache directory, removes the cached kernels so that
they are recompiled.
"""

import hashlib
import os
from pathlib import Path


def _drop_stale_cache(here: Path = Path(__file__).resolve().parent) -> None:
    """Remove Numba cache files in ``here/__pycache__`` unless they were built from these sources."""
    if os.environ.get("NUMBA_CACHE_DIR") or os.environ.get("NUMBA_DISABLE_JIT") == "1":
        return  # a custom cache location is the user's to manage
    digest = hashlib.sha256()
    for src in sorted(here.glob("*.py")):
        digest.update(src.name.encode())
        digest.update(src.read_bytes())
    cache = here / "__pycache__"
    stamp = cache / "sgdtheory-kernels.sha256"
    try:
        if stamp.is_file() and stamp.read_text().strip() == digest.hexdigest():
            return
        # kernels compiled elsewhere that inline these (theory/sgd_moments.py inlines steps.learning_rate)
        theory_cache = here.parent / "theory" / "__pycache__"
        for stale in [*cache.glob("*.nbi"), *cache.glob("*.nbc"), *theory_cache.glob("*.nbi"), *theory_cache.glob("*.nbc")]:
            stale.unlink(missing_ok=True)
        cache.mkdir(exist_ok=True)
        stamp.write_text(digest.hexdigest() + "\n")
    except OSError:
        pass  # read-only installation: numba then compiles in memory or uses its own fallback


_drop_stale_cache()
