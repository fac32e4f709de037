"""Run budgets: the Monte Carlo work of a claim is planned and bounded before it runs.

The unit of work is the *path-step* (one optimizer update on one path); ``simulate`` charges
n_paths x n_steps to the active ``Ledger`` before it starts the engine, and refuses a simulation whose
output arrays would not fit in memory.  A claim is planned before it runs (``sgdtheory.runner``):
``claim.run`` is executed once with the engine replaced by a recorder (``planning``), which returns
empty results of the right shapes at no cost, so the total work of every engine call is known before
the first path is simulated.  A plan over the budget is refused with the reason, the most expensive
runs and the cheapest plan that fits (the same runs without the ones over the budget).  The real run
charges the same ledger, so no claim can exceed its budget even where planning could not see all of it.

Default budget: 2e9 path-steps, sized for a 2-core machine (about a minute of engine time for the small
problems of the catalogue).  The largest full-mode plan of the catalogue's default instances is B1's, 1.6e9
path-steps (then B2 1.4e9, C3 1.3e9); user instances (``--config``) are planned against this default,
``--budget`` sets another.  Without a ledger (the default instances' fixed plans, API calls) each single
``simulate`` call is still held to the default.
"""

from __future__ import annotations

import contextvars
from contextlib import contextmanager
from dataclasses import dataclass, field

from .errors import SgdTheoryError, check_float

#: default work per claim, in path-steps (the largest full-mode claim of the catalogue plans well below it)
DEFAULT_PATH_STEPS = 2e9
#: default memory for the output arrays of one simulation
DEFAULT_MEMORY_BYTES = 2.0 * 2**30


class BudgetError(SgdTheoryError):
    """A planned run exceeds the work or memory budget; nothing was simulated."""


class PlanningStop(Exception):
    """Raised inside a planning pass where the remaining work cannot be recorded (not an error)."""


@dataclass(frozen=True)
class Budget:
    """Bounds on a claim's work: ``path_steps`` (engine updates, summed over all runs) and ``memory_bytes``."""

    path_steps: float = DEFAULT_PATH_STEPS
    memory_bytes: float = DEFAULT_MEMORY_BYTES

    def __post_init__(self):
        check_float(self.path_steps, "budget", 0.0, None)
        check_float(self.memory_bytes, "memory budget", 0.0, None)


@dataclass
class Ledger:
    """Work charged so far (``runs``: (description, lr, n_paths, n_steps, path_steps)) against a budget."""

    budget: Budget
    planning: bool = False
    what: str = "this run"
    runs: list = field(default_factory=list)
    complete: bool = True

    @property
    def used(self) -> float:
        return float(sum(r[-1] for r in self.runs))

    def refusal(self, extra: tuple | None = None) -> str:
        """The reason a plan is refused, the most expensive runs and the cheapest plan that fits."""
        runs = self.runs + ([extra] if extra else [])
        total = sum(r[-1] for r in runs)
        cap = self.budget.path_steps
        top = sorted(runs, key=lambda r: -r[-1])[:4]
        lines = ", ".join(f"lr = {r[1]:.4g}: {r[2]} paths x {r[3]} steps = {r[4]:.3g}" for r in top)
        fit = [r for r in runs if r[-1] <= cap]
        over = sorted({f"{r[1]:.4g}" for r in runs if r[-1] > cap})
        if over:
            cheapest = (f"without the learning rate(s) {', '.join(over)} the plan needs "
                        f"{sum(r[-1] for r in fit):.3g} path-steps")
        else:
            cheapest = "every single run fits, but not all of them together: use fewer learning rates"
        return (f"budget: {self.what} needs {total:.3g} path-steps (paths x steps), over the budget of {cap:.3g} "
                f"(valid range of the plan: <= {cap:.3g}; change it with --budget); most expensive runs: {lines}; "
                f"{cheapest} (learning rates near 0 or near the stability limit need many steps: each run lasts "
                f"a fixed number of relaxation times)")


_ACTIVE: contextvars.ContextVar[Ledger | None] = contextvars.ContextVar("sgdtheory_budget", default=None)


@contextmanager
def active(budget: Budget | None = None, planning: bool = False, what: str = "this run"):
    """Charge the simulations in this block to a new ledger (``planning``: record them without running)."""
    ledger = Ledger(Budget() if budget is None else budget, planning, what)
    token = _ACTIVE.set(ledger)
    try:
        yield ledger
    finally:
        _ACTIVE.reset(token)


def planning() -> bool:
    """True inside a planning pass (the engine is not run)."""
    led = _ACTIVE.get()
    return led is not None and led.planning


def charge(lr: float, n_paths: int, n_steps: int, memory_bytes: float) -> bool:
    """Charge one engine call; raise ``BudgetError`` if it would exceed the budget.  Returns True when planning
    (the caller must then return an empty result instead of running the engine)."""
    led = _ACTIVE.get()
    budget = Budget() if led is None else led.budget
    if memory_bytes > budget.memory_bytes:
        raise BudgetError(f"n_paths = {n_paths}: the output arrays need {memory_bytes / 2**30:.3g} GiB, over the memory "
                          f"budget of {budget.memory_bytes / 2**30:.3g} GiB; valid range is n_paths <= "
                          f"{int(n_paths * budget.memory_bytes / memory_bytes)} here")
    cost = float(n_paths) * float(n_steps)
    run = ("simulate", float(lr), int(n_paths), int(n_steps), cost)
    if led is None:
        if cost > budget.path_steps:
            raise BudgetError(Ledger(budget, what="this simulation").refusal(run))
        return False
    if led.planning:
        led.runs.append(run)
        return True
    if led.used + cost > budget.path_steps:
        raise BudgetError(led.refusal(run))
    led.runs.append(run)
    return False


def stop_planning(what: str) -> None:
    """Called by Monte Carlo code outside ``simulate`` (direct kernel calls): a planning pass stops here."""
    led = _ACTIVE.get()
    if led is not None and led.planning:
        led.complete = False
        raise PlanningStop(what)
