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
import warnings
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


# ----------------------------------------------------------------------------------------------------------
# edits drawn by strategies.model_file_edits
# ----------------------------------------------------------------------------------------------------------
ZIP_EDITS = {"zip"}


def apply_edits(data, edits):
    """``data`` (a model file's bytes) after ``edits``: the array and metadata edits first, then the file is
    packed again and the zip-level edits patch its bytes."""
    arrays, meta = unpack(data)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # casts that lose values are the point here
        for edit in edits:
            if edit[0] not in ZIP_EDITS:
                _EDIT[edit[0]](arrays, meta, *edit[1:])
    data = pack(arrays, meta)
    for edit in edits:
        if edit[0] in ZIP_EDITS:
            data = _zip_edit(data, *edit[1:])
    return data


def _member(arrays, k):
    names = sorted(arrays)
    return names[k % len(names)] if names else None


def _as_dtype(arrays, meta, k, dtype):
    name = _member(arrays, k)
    if name is not None:
        arrays[name] = arrays[name].astype(dtype) if dtype != "V8" else np.zeros(arrays[name].shape, "V8")


def _resize(arrays, meta, k, length):
    name = _member(arrays, k)
    if name is not None and arrays[name].ndim:
        a = arrays[name]
        arrays[name] = np.resize(a, (length,) + a.shape[1:]) if length else a[:0]


def _reshape(arrays, meta, k, how):
    name = _member(arrays, k)
    if name is None:
        return
    a = arrays[name]
    arrays[name] = {"flat": a.reshape(-1), "column": a.reshape(-1, 1), "transpose": a.T,
                    "scalar": a.reshape(-1)[:1].reshape(()) if a.size else a, "empty": a.reshape(-1)[:0]}[how]


def _set_value(arrays, meta, k, position, value):
    name = _member(arrays, k)
    if name is None or not arrays[name].size:
        return
    a = arrays[name].copy().reshape(-1)
    try:
        a[position % a.size] = value
    except (OverflowError, ValueError, TypeError):  # a value the dtype cannot hold: wrap it as C would
        a[position % a.size] = np.array(value).astype(a.dtype) if np.isfinite(float(value)) else 0
    arrays[name] = a.reshape(arrays[name].shape)


def _offsets(arrays, meta, name, how, position, value):
    if name not in arrays or arrays[name].ndim != 1 or not arrays[name].size:  # an earlier edit may reshape it
        return
    a = arrays[name].copy()
    if how == "reverse":
        a = a[::-1].copy()
    elif how == "shuffle":
        np.random.default_rng(position).shuffle(a)
    elif how == "wrap":  # one row goes backwards, as uint64 so that the step wraps around
        a = a.astype(np.uint64)
        a[position % len(a)] = a[-1] + np.uint64(position % 1000 + 1)
    elif how == "zero":
        a[:] = 0
    else:
        try:
            a[position % len(a)] = value
        except (OverflowError, ValueError, TypeError):
            a[position % len(a)] = -1
    arrays[name] = a


def _drop(arrays, meta, k):
    name = _member(arrays, k)
    if name is not None:
        del arrays[name]


def _add(arrays, meta, name, length):
    arrays[name] = np.zeros(length, np.float32) if name != "ids/item_ids_" else np.arange(length) % 7


def _meta(arrays, meta, field, value):
    section, key = field
    target = meta if not section else meta.setdefault(section, {})
    if isinstance(target, dict):
        target[key] = value


_EDIT = {"dtype": _as_dtype, "resize": _resize, "reshape": _reshape, "values": _set_value, "offsets": _offsets,
         "drop": _drop, "add": _add, "meta": _meta}


def _zip_edit(data, how, position, value):
    """Byte-level edits: a flipped byte, forged sizes in a central or local header, deflated members, a
    member stored twice."""
    data = bytearray(data)
    if how == "flip":
        data[position % len(data)] ^= 1 + value % 255
        return bytes(data)
    if how in ("deflate", "duplicate"):
        with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
            members = [(n, z.read(n)) for n in z.namelist()]
        if how == "duplicate":
            members.append(members[position % len(members)])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # zipfile's "Duplicate name"
            return zip_bytes(members, zipfile.ZIP_DEFLATED if how == "deflate" else zipfile.ZIP_STORED)
    signature, offset = {"central_size": (b"PK\x01\x02", 24), "compressed_size": (b"PK\x01\x02", 20),
                         "local_size": (b"PK\x03\x04", 22)}[how]
    starts, at = [], data.find(signature)
    while at != -1:
        starts.append(at)
        at = data.find(signature, at + 1)
    if starts:
        at = starts[position % len(starts)] + offset
        data[at:at + 4] = value.to_bytes(4, "little")
    return bytes(data)
