"""Results are bitwise identical for NUMBA_NUM_THREADS = 1 and 2 (run in fresh subprocesses)."""

import os
import subprocess
import sys

SCRIPT = r"""
import hashlib, numpy as np, numba
from sgdtheory.bench import w1_problem, w2_problem
from sgdtheory.sampling import Sampler
from sgdtheory.simulate import simulate
h = hashlib.sha256()
r = simulate(w1_problem(), 0.02, sampler=Sampler(8), n_steps=300, n_paths=37, seed=9, w0=np.zeros(16),
             record_steps=[150, 300], time_average=("batch_loss", "grad_sq"), burn_in=100, n_batches=10)
s = simulate(w2_problem(), 0.05, n_steps=300, n_paths=37, seed=9, time_average=("moments",), burn_in=100, n_batches=10)
for a in (r.record_values, r.batch_sums, r.final_params, s.batch_sums, s.final_params):
    h.update(a.tobytes())
print(numba.get_num_threads(), h.hexdigest())
"""


def _run(threads: int) -> tuple[str, str]:
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads))
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True)
    n, digest = out.stdout.split()
    return n, digest


def test_bitwise_identical_for_1_and_2_threads():
    n1, d1 = _run(1)
    n2, d2 = _run(2)
    assert (n1, n2) == ("1", "2")
    assert d1 == d2
