"""Where Numba caches the package's own kernels: one directory per content of the kernel sources.

Numba's default locator keeps a function's compiled code in the ``__pycache__`` next to its source file and
checks it against that one file.  Two consequences for this package: every fresh checkout (a CI clone, a new
virtual environment with the package installed from source) compiles every kernel again, although the sources
are the same; and a kernel that inlines a helper from another file (the engine inlines ``rng`` and ``steps``,
the problems inline ``steps``) would be loaded stale after only that helper changed.

``PackageCacheLocator`` serves every ``@njit(cache=True)`` function defined inside this package (and nothing
else: other functions go to Numba's own locators).  Its cache directory is
``<kernel_dir>/package-<digest>/<subpackage>``, where ``kernel_dir`` is the composed kernels' directory
(``SGDTHEORY_KERNEL_DIR``, default ``~/.cache/sgdtheory/kernels``) and the digest is a SHA-256 over every module
of the package that defines Numba functions (names and bytes), the Numba version and the Python version.  A checkout
with the same sources finds the kernels already compiled; a change to any kernel source gives a new
directory, so nothing stale can be loaded.  The kernels ``compose`` generates live in the same directory
(``composed/``).  Only the eight most recently used ``package-*`` directories are kept.  ``NUMBA_CACHE_DIR``,
when set, is left to Numba (the user then manages the cache).

``install()`` puts the locator first in Numba's list; it runs when ``sgdtheory._kernels`` is imported, which
every subpackage holding kernels (``problems``, ``optimizers``, ``theory``) does before defining any.  The
locator uses Numba's cache-locator interface (``numba.core.caching._CacheLocator``); where that interface is
missing the package falls back to Numba's default caching.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import time
from pathlib import Path

import numba

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
KEEP_DIGESTS = 8
# a line decorating a function for Numba: what a kernel can call is defined under one of these
_DEFINES_KERNEL = re.compile(rb"^\s*@(?:numba\.)?(?:njit|jit|intrinsic|overload\w*|generated_jit|vectorize|"
                             rb"guvectorize|stencil|cfunc)\b", re.MULTILINE)


def kernel_sources(root: Path = PACKAGE_ROOT) -> list[Path]:
    """The package's modules that define Numba functions (``@njit``, ``@intrinsic``, ...): every kernel, and every
    helper a kernel can call, lives in one."""
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts
                  and _DEFINES_KERNEL.search(p.read_bytes()))


def sources_digest(root: Path = PACKAGE_ROOT) -> str:
    """SHA-256 (hex) over the kernel sources (relative names and bytes), the Numba and the Python version."""
    digest = hashlib.sha256()
    for src in kernel_sources(root):
        digest.update(src.relative_to(root).as_posix().encode() + b"\0")
        digest.update(src.read_bytes())
    digest.update(f"numba {numba.__version__} python {sys.version_info[:3]}".encode())
    return digest.hexdigest()


SOURCES_DIGEST = sources_digest()


def package_cache_dir() -> Path:
    """This content's cache directory, ``<kernel_dir>/package-<digest[:16]>``."""
    from .compose import kernel_dir

    return kernel_dir() / f"package-{SOURCES_DIGEST[:16]}"


def prune(base: Path, keep: int = KEEP_DIGESTS, legacy_age: float = 86400.0) -> list[Path]:
    """Remove all but the ``keep`` most recently modified ``package-*`` directories of ``base`` (each holds one
    content's kernels, composed ones included); returns them.  Composed kernels of the earlier layout (files
    ``sgdtheory_k_*`` directly in ``base`` and its ``__pycache__``) untouched for ``legacy_age`` seconds go too."""
    dirs = sorted(base.glob("package-*"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in dirs[keep:]:
        shutil.rmtree(old, ignore_errors=True)
    cutoff = time.time() - legacy_age
    for old in [*base.glob("sgdtheory_k_*"), *base.glob("__pycache__/sgdtheory_k_*")]:
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass
    return dirs[keep:]


def _make_locator_class():
    from numba.core import caching

    base = getattr(caching, "_CacheLocator", None)
    if base is None:
        return None

    class PackageCacheLocator(base):
        """Numba cache locator for the functions of this package (see the module docstring)."""

        def __init__(self, py_func, py_file):
            self._lineno = py_func.__code__.co_firstlineno
            relative = Path(py_file).resolve().parent.relative_to(PACKAGE_ROOT)
            self._cache_path = str(package_cache_dir() / relative)

        def get_cache_path(self):
            return self._cache_path

        def get_source_stamp(self):
            return SOURCES_DIGEST

        def get_disambiguator(self):
            return str(self._lineno)

        @classmethod
        def from_function(cls, py_func, py_file):
            try:
                Path(py_file).resolve().relative_to(PACKAGE_ROOT)
            except ValueError:
                return None  # not ours: Numba's own locators decide
            self = cls(py_func, py_file)
            try:
                self.ensure_cache_path()
            except OSError:
                return None
            return self

    return PackageCacheLocator


_installed = False


def install() -> bool:
    """Put ``PackageCacheLocator`` first in Numba's locator list (idempotent); False when left to Numba."""
    global _installed
    if _installed:
        return True
    if os.environ.get("NUMBA_CACHE_DIR"):
        return False
    from numba.core import caching

    locator = _make_locator_class()
    impl = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl", None)  # public from Numba 0.6x
    if locator is None or not isinstance(getattr(impl, "_locator_classes", None), list):
        return False
    target = package_cache_dir()
    try:
        target.mkdir(parents=True, exist_ok=True)
        os.utime(target)  # most recently used: pruning keeps it
        prune(target.parent)
    except OSError:
        return False
    impl._locator_classes.insert(0, locator)
    _installed = True
    return True
