"""The registries: every registered optimizer against its numpy reference, alone and inside the engine on every
registered problem with every sampler it accepts.

Adding an optimizer (or a problem) to ``sgdtheory.optimizers.REGISTRY`` (``sgdtheory.problems.REGISTRY``) puts
it in these tests with nothing else to write: its ``example`` instance is run step by step against its
``reference_step`` (bit for bit) and through ``simulate`` against the plain-Python engine twin
``reference_paths.reference_path`` (all observables, every path; the gradients' sums are reassociated in the
engine, so to 1e-10)."""

import importlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from reference_paths import compare_with_engine
from sgdtheory.errors import SgdTheoryError
from sgdtheory.optimizers import REGISTRY as OPTIMIZERS
from sgdtheory.optimizers import SAM, Optimizer
from sgdtheory.problems import REGISTRY as PROBLEMS
from sgdtheory.problems import GaussianNoiseQuadratic
from sgdtheory.sampling import SCHEMES, Sampler
from sgdtheory.schedules import Constant
from sgdtheory.simulate import simulate, stability_limit

finite = st.floats(-10.0, 10.0, allow_nan=False)


def _schemes(problem):
    """The samplers a problem accepts (a Gaussian-noise problem draws fresh noise each step: i.i.d. schemes only)."""
    if isinstance(problem, GaussianNoiseQuadratic):
        return ["with_replacement", "full"]
    return list(SCHEMES)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_module_declares_its_parts(name):
    """Record, Numba step, numpy reference, state size and stability limit live in the optimizer's own module."""
    cls = OPTIMIZERS[name]
    opt = cls.example(3)
    assert isinstance(opt, Optimizer)
    module = importlib.import_module(opt.kernel_module())
    assert callable(module.step) and module.step is opt.kernel_step()
    assert opt.hyperparameters().dtype == np.float64 and opt.hyperparameters().ndim == 1
    assert opt.state_size(3) >= 0 and opt.init_state(3).shape == (opt.state_size(3),)
    limit, how = stability_limit(PROBLEMS["gaussian_noise"].example(), opt, Sampler())
    assert limit > 0 and isinstance(how, str) and how


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_every_problem_module_declares_its_parts(name):
    problem = PROBLEMS[name].example()
    funcs = problem.kernel_functions()
    for part in ("gradient", "regradient", "excess_loss"):
        assert callable(getattr(funcs, part))
    kp = problem.kernel_data()
    assert kp.w_star.shape == (problem.d,) and kp.Hbar.shape == (problem.d, problem.d)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_every_optimizer_step_is_its_numpy_reference_bit_for_bit(name, data):
    """Five steps of the Numba ``step`` on generated gradients equal ``reference_step`` exactly (SAM: its base step,
    which is what the engine applies to the second gradient; the perturbation is tested in test_optimizers_d)."""
    d = data.draw(st.integers(1, 5))
    opt = OPTIMIZERS[name].example(d)
    if isinstance(opt, SAM):
        hp, opt = opt.hyperparameters()[1:], opt.base
    else:
        hp = opt.hyperparameters()
    w = data.draw(arrays(np.float64, d, elements=finite))
    lr = data.draw(st.floats(1e-4, 1.0))
    state = opt.init_state(d)
    w_k, s_k = w.copy(), state.copy()
    for _ in range(5):
        g = data.draw(arrays(np.float64, d, elements=finite))
        w, state = opt.reference_step(w, state, g, lr)
        opt.kernel_step()(hp, lr, w_k, s_k, g)
        assert np.array_equal(w_k, w) and np.array_equal(s_k, state)


CASES = [(p, o, s) for p in sorted(PROBLEMS) for o in sorted(OPTIMIZERS) for s in _schemes(PROBLEMS[p].example())]


@pytest.mark.parametrize("problem_name, optimizer_name, scheme", CASES)
def test_every_optimizer_on_every_problem_and_sampler_matches_the_python_engine(problem_name, optimizer_name, scheme):
    """simulate() = the plain-Python twin of the engine, on every path and observable (records, time averages,
    final iterate), for each registered (problem, optimizer, sampler)."""
    problem = PROBLEMS[problem_name].example()
    opt = OPTIMIZERS[optimizer_name].example(problem.d)
    batch = 2 if problem.n >= 2 else 1
    w0 = problem.kernel_data().w_star + np.linspace(-0.3, 0.4, problem.d)
    compare_with_engine(problem, Constant(0.02), opt, scheme, batch, w0, n_steps=30, n_paths=2, rec=(0, 9, 30))


def test_an_unregistered_optimizer_gets_a_clear_error():
    class Mystery(Optimizer):
        pass

    with pytest.raises(SgdTheoryError, match="no stability limit is known for Mystery"):
        simulate(PROBLEMS["gaussian_noise"].example(), 0.01, optimizer=Mystery(), n_steps=5, n_paths=2)
