"""A Ctrl-C recorded while Numba compiles is raised by simulate at its next chunk, not lost."""

import numpy as np
import pytest

from sgdtheory import interrupts
from sgdtheory.problems import LinearRegression
from sgdtheory.simulate import simulate


def test_request_is_raised_once_by_check():
    interrupts.reset()
    interrupts.check()  # nothing pending: no exception
    interrupts.request()
    assert interrupts.pending()
    with pytest.raises(KeyboardInterrupt):
        interrupts.check()
    assert not interrupts.pending()


def test_simulate_raises_a_pending_interrupt_after_its_chunk():
    problem = LinearRegression.example()
    interrupts.request()
    try:
        with pytest.raises(KeyboardInterrupt):
            simulate(problem, 0.01, n_steps=5, n_paths=2, record=())
    finally:
        interrupts.reset()
    simulate(problem, 0.01, n_steps=5, n_paths=2, record=())  # and the next run is not interrupted


def test_not_compiling_outside_numba():
    assert interrupts.compiling() is False
