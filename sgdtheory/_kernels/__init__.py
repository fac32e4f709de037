"""Numba kernels: arrays and scalars in, no I/O, no SymPy, all ``@njit(cache=True)``.

Public code goes through ``sgdtheory.simulate``; tests call the single-step kernels directly to
compare them with their plain-numpy references.

Importing this package installs ``cache.PackageCacheLocator``: the package's kernels are cached in a
directory named by a hash of all kernel sources, so a fresh checkout with the same sources loads them
compiled, and a kernel that inlines a changed helper from another file is never loaded stale.  The
subpackages that define kernels (``problems``, ``optimizers``, ``theory``) import this package first.
"""

from . import cache

cache.install()
