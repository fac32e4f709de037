"""The package's kernels are cached by content (``sgdtheory._kernels.cache``), not by checkout."""

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from sgdtheory._kernels import cache, rng


def _locator(dispatcher):
    return dispatcher._cache._impl.locator


def test_package_kernels_are_cached_in_the_content_directory():
    loc = _locator(rng.fill_below)
    assert type(loc).__name__ == "PackageCacheLocator"
    assert Path(loc.get_cache_path()) == cache.package_cache_dir() / "_kernels"
    assert loc.get_source_stamp() == cache.SOURCES_DIGEST
    from sgdtheory.optimizers import adam

    assert Path(_locator(adam.step).get_cache_path()) == cache.package_cache_dir() / "optimizers"


def test_functions_outside_the_package_keep_numbas_locators(tmp_path, monkeypatch):
    (tmp_path / "userkernel.py").write_text("from numba import njit\n\n@njit(cache=True)\ndef f(x):\n    return x + 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import userkernel

    loc = _locator(userkernel.f)
    assert type(loc).__name__ != "PackageCacheLocator"
    assert Path(loc.get_cache_path()) == tmp_path / "__pycache__"


def test_digest_covers_exactly_the_kernel_modules(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "kern.py").write_text("from numba import njit\n\n@njit(cache=True)\ndef f(x):\n    return x\n")
    (tmp_path / "sub" / "helper.py").write_text("import numba\n\n\n@numba.njit\ndef g(x):\n    return x\n")
    (tmp_path / "driver.py").write_text("import numba\nnumba.set_num_threads(1)\n")  # uses Numba, defines nothing
    (tmp_path / "paper.py").write_text("TITLE = 'a'\n")
    assert [p.relative_to(tmp_path).as_posix() for p in cache.kernel_sources(tmp_path)] == ["kern.py",
                                                                                          "sub/helper.py"]
    before = cache.sources_digest(tmp_path)
    (tmp_path / "paper.py").write_text("TITLE = 'b'\n")
    (tmp_path / "driver.py").write_text("import numba\nnumba.set_num_threads(2)\n")
    assert cache.sources_digest(tmp_path) == before  # modules without kernels do not count
    os.utime(tmp_path / "kern.py", (0, 0))
    assert cache.sources_digest(tmp_path) == before  # a new checkout's timestamps do not matter
    (tmp_path / "sub" / "helper.py").write_text("import numba\n\n\n@numba.njit\ndef g(x):\n    return 2 * x\n")
    assert cache.sources_digest(tmp_path) != before  # any kernel source does


def test_the_package_digest_covers_its_kernel_modules():
    names = {p.relative_to(cache.PACKAGE_ROOT).as_posix() for p in cache.kernel_sources()}
    assert {"_kernels/rng.py", "_kernels/engine.py", "problems/base.py", "optimizers/adam.py",
            "theory/sgd_moments.py"} <= names
    assert not names & {"simulate.py", "distributed.py", "paper.py", "cli.py"}


def test_prune_keeps_the_most_recent_directories(tmp_path):
    for i in range(5):
        (tmp_path / f"package-{i}").mkdir()
        os.utime(tmp_path / f"package-{i}", (1000 + i, 1000 + i))
    (tmp_path / "sgdtheory_k_engine_x.py").write_text("")
    (tmp_path / "sgdtheory_k_engine_old.py").write_text("")  # a composed kernel of the earlier layout
    os.utime(tmp_path / "sgdtheory_k_engine_old.py", (1000, 1000))
    removed = cache.prune(tmp_path, keep=2)
    assert sorted(p.name for p in removed) == ["package-0", "package-1", "package-2"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["package-3", "package-4", "sgdtheory_k_engine_x.py"]


def test_composed_kernels_live_in_the_content_directory():
    from sgdtheory._kernels import compose

    fn = compose.kernel("lanes", "run_gaussian_lanes")
    assert Path(fn.py_func.__code__.co_filename).parent == cache.package_cache_dir() / "composed"


_PROBE = textwrap.dedent("""
    import sys
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    from sgdtheory._kernels import rng
    assert rng.__file__.startswith(sys.argv[1]), rng.__file__
    S = np.arange(4, dtype=np.uint64).reshape(1, 4) + np.uint64(1)
    buf = np.zeros(5, dtype=np.int64)
    rng.fill_below(S, 0, 7, buf, 5)
    print(rng.fill_below.stats.cache_hits.most_common(1)[0][1] if rng.fill_below.stats.cache_hits else 0,
          rng.fill_below.stats.cache_misses.most_common(1)[0][1] if rng.fill_below.stats.cache_misses else 0,
          *buf)
""")


def test_a_fresh_checkout_loads_the_compiled_kernels(tmp_path):
    """A copy of the package elsewhere with new timestamps (a CI clone) loads what this checkout compiled."""
    root = Path(rng.__file__).resolve().parents[2]
    first, second = tmp_path / "first", tmp_path / "second"
    for where in (first, second):
        shutil.copytree(root / "sgdtheory", where / "sgdtheory", ignore=shutil.ignore_patterns("__pycache__"))
    now = time.time() + 100
    for p in (second / "sgdtheory").rglob("*.py"):
        os.utime(p, (now, now))
    env = dict(os.environ, SGDTHEORY_KERNEL_DIR=str(tmp_path / "kernels"))
    env.pop("NUMBA_CACHE_DIR", None)
    runs = [subprocess.run([sys.executable, "-c", _PROBE, str(where)], env=env, capture_output=True, text=True,
                           check=True).stdout.split() for where in (first, second)]
    assert runs[0][:2] == ["0", "1"]  # compiled and written
    assert runs[1][:2] == ["1", "0"]  # loaded, not compiled
    assert runs[0][2:] == runs[1][2:]
    assert not list((second / "sgdtheory").rglob("*.nbi"))  # nothing written into the checkout
    assert len(list((tmp_path / "kernels").glob("package-*"))) == 1
