"""Hostile versions of an epoch kernel's input dicts (issue 22 item 5), shared by the CPU check
(tests/test_runtime_hardening.py, socialrec._core) and the CUDA one (tests/test_cuda_binding_checks.py,
socialrec._cuda through the host replay): out-of-range ids, offsets that go back or start below 0, arrays one
row short, and a `factors` setting that no longer matches the matrices. ``refused_by(kernel, ...)`` runs every
mutation and exits the (sub)process naming the first one the kernel accepted.
"""
from __future__ import annotations

import copy

import numpy as np

REFUSALS = (ValueError, IndexError, TypeError, KeyError)


def mutations(d, path=()):
    """(description, mutate(root dict)) for each array of ``d`` (nested dicts included)."""
    for key, value in d.items():
        where = "/".join(path + (key,))
        if isinstance(value, dict):
            for what, fn in mutations(value, path + (key,)):
                yield what, (lambda root, key=key, fn=fn: fn(root[key]))
        elif isinstance(value, np.ndarray) and value.size > 1:
            if value.dtype.names:  # packed (id, id, value) records
                for field in value.dtype.names[:2]:
                    for bad in (-1, 2**31 - 1):
                        def fn(root, key=key, field=field, bad=bad):
                            root[key][field][len(root[key]) // 2] = bad
                        yield f"{where}.{field} = {bad}", fn
            elif value.dtype == np.int32:  # ids
                for bad in (-1, 2**31 - 1):
                    def fn(root, key=key, bad=bad):
                        root[key][len(root[key]) // 2] = bad
                    yield f"{where} = {bad}", fn
            elif value.dtype == np.int64:  # offsets
                def fn(root, key=key):
                    root[key][1] = root[key][-1] + 10**6
                yield f"{where} goes back", fn
                def fn(root, key=key):
                    root[key][0] = -10**6
                yield f"{where} starts below 0", fn
            if value.dtype.kind == "f":  # parameters, weights: one row (entry) short
                def fn(root, key=key):
                    root[key] = root[key][:-1].copy()  # .copy(): contiguous, and of the array's own class
                yield f"{where} one row short", fn


def refused_by(kernel, arrays, hyper, settings, name, accepted=()):
    """Calls ``kernel(arrays, hyper, settings)`` with each mutation (on copies) and raises SystemExit naming the
    first one that is not refused with one of REFUSALS; ``accepted``: descriptions that are not errors. Then
    runs the unchanged inputs once. Returns the number of refusals."""
    checked = 0
    for what, fn in [*mutations(arrays), ("factors + 1", None)]:
        if what in accepted:
            continue
        a, h = copy.deepcopy(arrays), copy.deepcopy(hyper)
        if fn is None:
            h["factors"] += 1
        else:
            fn(a)
        try:
            kernel(a, h, settings)
        except REFUSALS:
            checked += 1
            continue
        raise SystemExit(f"{name}: {what} was accepted")
    kernel(copy.deepcopy(arrays), hyper, settings)  # the unchanged inputs still run
    return checked
