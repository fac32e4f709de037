"""Test configuration: hypothesis profiles (JIT compilation makes first calls slow, so no deadline;
CI derandomizes so every run draws the same examples) and float64 everywhere."""

import os

import pytest

from hypothesis import HealthCheck, settings

settings.register_profile("ci", deadline=None, derandomize=True, max_examples=40,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "ci"))


class _QuickClaims(dict):
    """claim ID -> its quick-mode ``ClaimResult`` on the default instance, run on first use and then shared.

    The same deterministic run (default seed) was repeated by ``test_claims`` and by each claim's own module; the
    tests only read the results (a test that needs a modified theory or instance runs the claim itself)."""

    def __init__(self):
        super().__init__()
        self.instances = {}

    def instance(self, cid):
        from sgdtheory.claims import REGISTRY

        make = REGISTRY[cid].default_instance
        if make not in self.instances:  # claims of one family share their default instance (B1's takes seconds)
            self.instances[make] = make()
        return self.instances[make]

    def __missing__(self, cid):
        from sgdtheory.claims import REGISTRY, Settings

        result = REGISTRY[cid].run(self.instance(cid), Settings(quick=True))
        self[cid] = result
        return result


@pytest.fixture(scope="session")
def quick_claims():
    """Quick-mode results of the catalogue's claims on their default instances, once per session (``_QuickClaims``)."""
    return _QuickClaims()
