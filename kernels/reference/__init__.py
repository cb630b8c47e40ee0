"""Brute-force reference implementations of the kernels: slow and obviously correct.

No numba and no fast kernel may be imported here; the tests compare the two.
"""
