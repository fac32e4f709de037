"""Paths in parallel: a serial ``nogil`` kernel over a range of paths, run on threads.

``over_paths(kernel, n_paths, *args)`` calls ``kernel(first, last, *args)`` on consecutive ranges of paths
covering 0 .. n_paths - 1, on ``numba.get_num_threads()`` threads (the count ``NUMBA_NUM_THREADS`` and
``numba.set_num_threads`` control, as for Numba's own parallel loops).  A path's numbers depend only on its
row of the inputs (its random stream) and each writes only its own rows of the outputs, so the result is
bitwise the same for any thread count and any split.  The engine uses this instead of ``prange`` because
Numba's cached code for a ``prange`` loop compiled with fastmath computed other bits than the freshly compiled
loop (see ``engine.run_paths``).  Ctrl-C cancels the ranges not yet started and is re-raised once the running
ones return (each range is a small share of a chunk, see ``simulate.CHUNK_PATH_STEPS``).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numba

_executors: dict[int, ThreadPoolExecutor] = {}

#: ranges per thread: small enough to balance paths that stop early (divergence), large enough to be cheap
RANGES_PER_THREAD = 4


def _executor(threads: int) -> ThreadPoolExecutor:
    ex = _executors.get(threads)
    if ex is None:
        ex = _executors[threads] = ThreadPoolExecutor(threads, thread_name_prefix="sgdtheory-paths")
    return ex


def over_paths(kernel, n_paths: int, *args) -> None:
    """``kernel(first, last, *args)`` for ranges covering paths 0 .. n_paths - 1, on Numba's thread count."""
    threads = max(1, min(numba.get_num_threads(), n_paths))
    if threads == 1:
        kernel(0, n_paths, *args)
        return
    pieces = min(n_paths, RANGES_PER_THREAD * threads)
    cuts = [n_paths * i // pieces for i in range(pieces + 1)]
    ex = _executor(threads)
    futures = [ex.submit(kernel, cuts[i], cuts[i + 1], *args) for i in range(pieces) if cuts[i] < cuts[i + 1]]
    try:
        for f in futures:
            f.result()
    except BaseException:
        for f in futures:
            f.cancel()
        raise
