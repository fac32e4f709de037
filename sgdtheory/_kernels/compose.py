"""Kernels specialised to one problem and one optimizer, composed from a template and the registered parts.

A Monte Carlo loop (``engine.run_paths``, ``basins.basin_paths``, ...) is written once as a *template*: a module
whose problem- and optimizer-specific calls go through the names of ``slots`` (``problem_gradient``,
``optimizer_step``, ...).  ``kernel(template, function, problem=..., optimizer=...)`` writes a copy of the
template's source in which the one line ``from .slots import ...`` is replaced by imports of the chosen parts,
under those names, from the modules that define them (``sgdtheory.problems.<problem>`` and
``sgdtheory.optimizers.<optimizer>``; ``slots`` documents what each part must provide), imports it, and returns
the requested ``@njit`` function.  Numba then compiles one loop per (problem, optimizer): the optimizer's
step is inlined, there is no dispatch on integer codes inside the loop, and each such loop is as specific as a
hand-written kernel for that pair.  (Passing the step functions as arguments would do the same in memory, but
Numba cannot cache a function that takes another dispatcher as an argument: every process would recompile.)

The generated files live in ``<kernel_dir>/package-<digest>/composed`` (``kernel_dir``: ``SGDTHEORY_KERNEL_DIR``,
default ``$XDG_CACHE_HOME/sgdtheory/kernels``, i.e. ``~/.cache/sgdtheory/kernels``; a temporary directory when
that is not writable), beside the package's own cached kernels (``cache``), and are pruned with them.  A file's name carries a hash
of every source it depends on (the template, the part modules, every kernel source of the package, the Numba
version: ``cache.SOURCES_DIGEST``), so a changed source gives a new file and Numba's cache, which is keyed on
the file, can never load a stale kernel.
A file is written once, atomically (``os.replace``), so concurrent processes (Dask workers) agree.

A template without slots (``lanes``: SGD on Gaussian noise only) is copied as it is, for the same reason: Numba
keys a package module's cache on the module's path and timestamp, so every fresh checkout (a CI clone) compiled
the lane kernel again (35 s); the hash-named copy is compiled once per content.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import re
import sys
import tempfile
from pathlib import Path

from .cache import SOURCES_DIGEST, package_cache_dir

_HERE = Path(__file__).resolve().parent
_SLOT_LINE = re.compile(r"^from \.slots import .*$", re.MULTILINE)
_RELATIVE = re.compile(r"^from \.(\w+) import", re.MULTILINE)
_loaded: dict[tuple, object] = {}


def kernel_dir() -> Path:
    """Where the composed kernel modules are written (created on first use)."""
    env = os.environ.get("SGDTHEORY_KERNEL_DIR")
    if env:
        base = Path(env)
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sgdtheory" / "kernels"
    try:
        base.mkdir(parents=True, exist_ok=True)
        probe = base / ".writable"
        probe.touch()
        return base
    except OSError:
        fallback = Path(tempfile.gettempdir()) / f"sgdtheory-kernels-{os.getuid() if hasattr(os, 'getuid') else 0}"
        fallback.mkdir(parents=True, exist_ok=True)
        return fallback


def _source(module_name: str) -> bytes:
    spec = importlib.util.find_spec(module_name)
    return Path(spec.origin).read_bytes()




def _bindings(problem, optimizer) -> tuple[list[str], list[str]]:
    """The import lines that fill the slots, and the modules they come from."""
    lines, modules = [], []
    if problem is not None:
        mod = problem.kernel_module()
        modules.append(mod)
        lines.append(f"from {mod} import excess_loss as problem_excess, gradient as problem_gradient, "
                     "regradient as problem_regradient")
    if optimizer is not None:
        mod, second = optimizer.kernel_module(), optimizer.kernel_second_gradient()
        modules.append(mod)
        lines.append(f"from {mod} import step as optimizer_step")
        lines.append(f"SECOND_GRADIENT = {bool(second)}")
    return lines, modules


def kernel(template: str, function: str, problem=None, optimizer=None):
    """The ``@njit`` function ``function`` of ``sgdtheory._kernels.<template>`` specialised to the problem
    class ``problem`` and the optimizer class (or instance) ``optimizer`` (either may be None when the template
    does not use that slot)."""
    problem = None if problem is None else (problem if isinstance(problem, type) else type(problem))
    opt_key = None
    if optimizer is not None:
        opt_key = (optimizer.kernel_module(), optimizer.kernel_second_gradient())
    key = (template, function, None if problem is None else problem.kernel_module(), opt_key)
    if key in _loaded:
        return _loaded[key]
    text = (_HERE / f"{template}.py").read_text()
    slotted = _SLOT_LINE.search(text) is not None
    if not slotted and (problem is not None or optimizer is not None):
        raise ValueError(f"_kernels/{template}.py has no 'from .slots import ...' line to fill")
    lines, modules = _bindings(problem, optimizer)
    digest = hashlib.sha256(SOURCES_DIGEST.encode())
    for mod in modules:
        digest.update(mod.encode())
        digest.update(_source(mod))
    for line in lines:
        digest.update(line.encode())
    body = _SLOT_LINE.sub("\n".join(lines), text, count=1) if slotted else text
    body = _RELATIVE.sub(r"from sgdtheory._kernels.\1 import", body)
    tag = "_".join(m.rsplit(".", 1)[-1] for m in modules) or "plain"
    name = f"sgdtheory_k_{template}_{tag}{'_sam' if opt_key and opt_key[1] else ''}_{digest.hexdigest()[:16]}"
    header = (f'"""Generated by sgdtheory._kernels.compose from _kernels/{template}.py for {", ".join(modules)}; '
              'do not edit."""\n')
    path = package_cache_dir() / "composed" / f"{name}.py"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            fh.write(header + body)
        os.replace(tmp, path)
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    fn = getattr(module, function)
    _loaded[key] = fn
    return fn
