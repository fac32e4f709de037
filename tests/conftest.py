"""Test configuration: hypothesis profiles (JIT compilation makes first calls slow, so no deadline;
CI derandomizes so every run draws the same examples) and float64 everywhere."""

import contextlib
import os

import pytest

from hypothesis import HealthCheck, settings

settings.register_profile("ci", deadline=None, derandomize=True, max_examples=40,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# The CLI runs several claims on a local cluster of one process per core by default; the tests run on every core
# already (pytest-xdist), so a test's `sgdtheory verify` runs serially unless it asks for workers
# (tests/test_distributed.py does, and tests the default there).
os.environ["SGDTHEORY_WORKERS"] = "1"


#: the Monte Carlo entry points claims call (module, name): deterministic functions of their arguments (seeded from
#: numpy.random.SeedSequence; bitwise identical for any thread count), so a second call with the same arguments may
#: return the first call's result
MONTE_CARLO = (("sgdtheory.simulate", "simulate"), ("sgdtheory.gradient_noise", "sample_gradients"),
               ("sgdtheory.claims.noisy_minima", "run_basins"))
_MC_MEMO: dict = {}
_MC_HITS = [0]  # calls answered from the memo (for the test of the memo itself)


def _memo_key(args, kwargs):
    import hashlib
    import pickle

    try:
        return hashlib.sha256(pickle.dumps((args, sorted(kwargs.items())), protocol=5)).hexdigest()
    except Exception:  # an unpicklable argument (a callback): no reuse
        return None


@contextlib.contextmanager
def reusing_monte_carlo():
    """Within this block the Monte Carlo entry points (``MONTE_CARLO``) answer a call whose arguments (pickled,
    SHA-256) equal an earlier call's with a deep copy of that call's result, and record new calls.  Inside a budget
    or planning pass (``sgdtheory.budget``) every call goes to the engine.  Used where a test re-runs a claim with
    its *theory* perturbed: the simulations are then the same seeded computations, so the result is bitwise the one
    a fresh run would give, and only the predictions (and everything planned from them) differ -- a perturbation
    that changes a simulation's arguments (paths, steps, instance) misses the memo and runs the engine."""
    import copy
    import importlib
    import sys

    from sgdtheory import budget

    patched = []
    for mod_name, name in MONTE_CARLO:
        original = getattr(importlib.import_module(mod_name), name)

        def memo(*args, __original=original, __name=name, **kwargs):
            key = None if budget._ACTIVE.get() is not None else _memo_key(args, kwargs)
            if key is None:
                return __original(*args, **kwargs)
            key = (__name, key)
            if key not in _MC_MEMO:
                _MC_MEMO[key] = copy.deepcopy(__original(*args, **kwargs))
            else:
                _MC_HITS[0] += 1
            return copy.deepcopy(_MC_MEMO[key])

        for mod in list(sys.modules.values()):  # every module that imported the function by name
            if getattr(mod, "__name__", "").startswith("sgdtheory") and getattr(mod, name, None) is original:
                patched.append((mod, name, original))
                setattr(mod, name, memo)
    try:
        yield
    finally:
        for mod, name, original in reversed(patched):
            setattr(mod, name, original)


@pytest.fixture()
def reuse_monte_carlo():
    """``reusing_monte_carlo`` for one test (a claim re-run with a perturbed theory; see its docstring)."""
    with reusing_monte_carlo():
        yield


class _QuickClaims(dict):
    """claim ID -> its quick-mode ``ClaimResult`` on the default instance, run on first use and then shared.

    The same deterministic run (default seed) was repeated by ``test_claims`` and by each claim's own module; the
    tests only read the results (a test that needs a modified theory or instance runs the claim itself).

    Under pytest-xdist (``-n``) the worker processes of one run share the results through ``shared_dir``: the first
    worker to need a claim runs it (holding that claim's file lock) and pickles the result together with the
    Monte Carlo calls it recorded (``reusing_monte_carlo``); the others load both.  The directory is named by the
    run's ``PYTEST_XDIST_TESTRUNUID``, so nothing is reused from one run to the next."""

    def __init__(self, shared_dir=None):
        super().__init__()
        self.instances = {}
        self.shared_dir = shared_dir

    def instance(self, cid):
        from sgdtheory.claims import REGISTRY

        make = REGISTRY[cid].default_instance
        if make not in self.instances:  # claims of one family share their default instance (B1's takes seconds)
            self.instances[make] = make()
        return self.instances[make]

    def _run(self, cid):
        from sgdtheory.claims import REGISTRY, Settings

        with reusing_monte_carlo():  # recorded for the tests that re-run a claim with a perturbed theory
            return REGISTRY[cid].run(self.instance(cid), Settings(quick=True))

    def __missing__(self, cid):
        if self.shared_dir is None:
            result = self._run(cid)
        else:
            import pickle

            from filelock import FileLock

            path = self.shared_dir / f"{cid}.pickle"
            with FileLock(str(path) + ".lock"):
                if path.exists():
                    result, memo = pickle.loads(path.read_bytes())
                    _MC_MEMO.update(memo)
                else:
                    before = set(_MC_MEMO)
                    result = self._run(cid)
                    memo = {k: v for k, v in _MC_MEMO.items() if k not in before}
                    tmp = path.with_suffix(f".{os.getpid()}.tmp")
                    tmp.write_bytes(pickle.dumps((result, memo), protocol=5))
                    os.replace(tmp, path)
        self[cid] = result
        return result


@pytest.fixture(scope="session")
def quick_claims(tmp_path_factory):
    """Quick-mode results of the catalogue's claims on their default instances, once per session (``_QuickClaims``;
    once per run under pytest-xdist)."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if run is None:
        return _QuickClaims()
    shared = tmp_path_factory.getbasetemp().parent / f"quick-claims-{run}"  # the parent is common to the workers
    shared.mkdir(exist_ok=True)
    return _QuickClaims(shared)
