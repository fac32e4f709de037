"""The contract between the kernel templates and the registered problems and optimizers.

A template (``engine``, ``basins``, ``gradient_noise``, ``running_average``, ``batch_scaling``) imports these
names with one line ``from .slots import ...``; ``compose.kernel`` replaces that line by imports of the chosen
problem's and optimizer's functions under the same names, so each composed kernel is specialised to one
(problem, optimizer).  The stand-ins below only document the signatures: calling a template's function
directly (not through ``compose``) fails at compile time on purpose.

Problem (module ``problem.kernel_module()``, e.g. ``sgdtheory.problems.linear_regression``):

* ``problem_gradient(A, Hs, v, noise_scale, idx, batch, delta, w, g, z, S, row, ki, wi, fi) -> float``:
  write the minibatch gradient at ``w`` (``delta`` = w - w*) for the indices ``idx[:batch]`` into ``g``, drawing
  any gradient noise (scaled by ``noise_scale``) from the generator S[row] into ``z``; return the minibatch loss.
* ``problem_regradient(A, Hs, v, idx, batch, delta, w, g, z)``: the gradient at another point on the same
  minibatch and the same noise ``z`` (nothing drawn).
* ``problem_excess(delta, Hbar, excess_poly) -> float``: L(w) - L(w*).

Optimizer (module ``optimizer.kernel_module()``, e.g. ``sgdtheory.optimizers.adam``):

* ``optimizer_step(hp, lr, w, state, g)``: one update of ``w`` and ``state`` in place with hyperparameters ``hp``.
* ``SECOND_GRADIENT``: True for SAM, whose composed loop perturbs w (``optimizers.sam.perturb``), takes
  ``problem_regradient`` there and applies the base optimizer's ``optimizer_step`` with ``hp[1:]``.
"""

from numba import njit

SECOND_GRADIENT = False


@njit
def problem_gradient(A, Hs, v, noise_scale, idx, batch, delta, w, g, z, S, row, ki, wi, fi):
    raise NotImplementedError("kernel templates run only through _kernels.compose.kernel")


@njit
def problem_regradient(A, Hs, v, idx, batch, delta, w, g, z):
    raise NotImplementedError("kernel templates run only through _kernels.compose.kernel")


@njit
def problem_excess(delta, Hbar, excess_poly):
    raise NotImplementedError("kernel templates run only through _kernels.compose.kernel")


@njit
def optimizer_step(hp, lr, w, state, g):
    raise NotImplementedError("kernel templates run only through _kernels.compose.kernel")
