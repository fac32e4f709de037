"""Ctrl-C that is answered at a safe point when it arrives inside Numba's compiler.

``sgdtheory`` (the CLI) installs a SIGINT handler that raises ``KeyboardInterrupt`` at once, except while this
thread holds Numba's compiler lock: an exception raised there lands in an llvmlite ctypes callback, which prints
"Exception ignored ... Traceback" and swallows it, so the run would go on.  Then the handler only calls
``request()``, and ``check()`` -- which ``simulate`` calls after every chunk of paths -- raises it once the
compilation is over (a few seconds later).
"""

from __future__ import annotations

_pending: list[int] = []


def compiling() -> bool:
    """True while this thread is inside Numba's compiler."""
    try:
        from numba.core.compiler_lock import global_compiler_lock
    except ImportError:  # pragma: no cover
        return False
    return bool(global_compiler_lock.is_locked())


def request(signum: int = 2) -> None:
    """Record an interrupt to be raised at the next ``check()``."""
    _pending.append(signum)


def pending() -> bool:
    return bool(_pending)


def check() -> None:
    """Raise ``KeyboardInterrupt`` if an interrupt was requested (and forget the request)."""
    if _pending:
        _pending.clear()
        raise KeyboardInterrupt


def reset() -> None:
    """Forget any request (the CLI calls this when a command ends)."""
    _pending.clear()
