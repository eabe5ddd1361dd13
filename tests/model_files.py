"""Helpers for tests that take saved model files apart and put hand-edited ones together (issue 22).

``saved(case_name)`` fits one of model_suite's cases on ``tiny_data`` once per session and returns the bytes
of its saved file; ``unpack`` gives ``(arrays, meta)`` of a file; ``pack`` writes them back as an ``.npz``
(through ``numpy.savez``, as ``Model.save`` does), ``zip_bytes`` as a zip of raw ``.npy`` members.
"""
from __future__ import annotations

import functools
import io
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import zipfile

import numpy as np

import socialrec as sr
from model_suite import CASES, tiny_data

CASE = {c.name: c for c in CASES}


@functools.lru_cache(maxsize=None)
def saved(case_name):
    """The bytes of the model file of ``case_name`` (a model_suite case, two epochs on tiny_data)."""
    case = CASE[case_name]
    model = case.make(epochs=2).fit(tiny_data(ranking=case.ranking))
    with tempfile.TemporaryDirectory() as d:
        model.save(os.path.join(d, "m.npz"))
        with open(os.path.join(d, "m.npz"), "rb") as f:
            return f.read()


def unpack(data):
    """``(arrays, meta)`` of a model file's bytes: the members by name (without ``.npy``) and the metadata."""
    with np.load(io.BytesIO(data)) as f:
        arrays = {k: f[k] for k in f.files}
    return arrays, json.loads(str(arrays.pop("meta")))


def pack(arrays, meta):
    """An ``.npz`` file's bytes holding ``arrays`` and ``meta`` (what save writes)."""
    buf = io.BytesIO()
    np.savez(buf, meta=np.array(json.dumps(meta)), **arrays)
    return buf.getvalue()


def npy_bytes(array):
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=True)
    return buf.getvalue()


def zip_bytes(members, compression=zipfile.ZIP_STORED):
    """A zip archive of ``members`` (a list of ``(name, bytes)``; names may repeat)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, payload in members:
            z.writestr(name, payload)
    return buf.getvalue()


def run_python(code, *args, timeout=120):
    """Run ``code`` in a fresh interpreter that imports the socialrec under test (crash-class tests: a
    segfault there fails the test instead of killing the suite)."""
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(sr.__file__)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([package_root, os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=timeout)
