"""Numba kernels: arrays and scalars in, no I/O, no SymPy, all ``@njit(cache=True)``.

Public code goes through ``sgdtheory.simulate``; tests call the single-step kernels directly to
compare them with their plain-numpy references.
"""
