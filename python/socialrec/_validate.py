"""Input validation shared by the whole package: index arrays, value arrays, counts, scales, sparse structures.

A leaf module (NumPy only): ``data`` (the ``Dataset`` builders), ``topn``, ``metrics``, the models and the
CUDA glue (``_gpu``) all check their inputs here, so that one rule gives one error everywhere.

Errors name the argument and the first offending position. Bad indices raise ``NotAnIndexError`` (a
``TypeError``) or ``IndexRangeError`` (an ``IndexError``); both are also ``ValueError``s, so that a caller
validating a whole table can catch ``(TypeError, ValueError)``. NaN or infinite values raise ``ValueError``.
"""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

INT32_MAX = int(np.iinfo(np.int32).max)
FLOAT32_MAX = float(np.finfo(np.float32).max)
_RAW_IDS_HINT = " (use Dataset.from_raw for raw ids)"


class IndexRangeError(IndexError, ValueError):
    """An index outside its allowed range (both an ``IndexError`` and a ``ValueError``)."""


class NotAnIndexError(TypeError, ValueError):
    """A value that is not an integer index (both a ``TypeError`` and a ``ValueError``)."""


def is_int(v):
    """An integer that is not a bool (Python or NumPy)."""
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def is_real(v):
    """A finite real number that is not a bool (Python or NumPy)."""
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)


def first(mask):
    """Position of the first True in a boolean array (NumPy or CuPy)."""
    return int(mask.argmax())


def plain(v):
    """A NumPy scalar as the matching Python object (for messages)."""
    return v.item() if isinstance(v, np.generic) else v


def one_d(x, name):
    """``x`` as a 1-D NumPy array: a column of a table, so a single value is a ``TypeError``."""
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be a 1-D array-like, got a single {type(x).__name__}")
    a = np.asarray(x)
    if a.ndim == 0:
        raise TypeError(f"{name} must be a 1-D array-like, got a scalar {a.item()!r}")
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {a.shape}")
    return a


def query_vector(a, name):
    """An array of query indices as 1-D: a single index is a list of one (NumPy or CuPy)."""
    if a.ndim == 0:
        a = a.reshape(1)
    if a.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {a.shape}")
    return a


# --------------------------------------------------------------------------------------------------------
# the index validator
# --------------------------------------------------------------------------------------------------------
def index_array(values, bound, name):
    """Validated 0-based integer indices as a fresh 1-D int64 array.

    Accepts integer arrays of any dtype, float arrays whose values are whole numbers, and lists or object
    arrays of Python numbers. Strings, booleans and fractional numbers raise ``NotAnIndexError``, NaN/inf a
    ``ValueError``, indices out of range ``IndexRangeError``.

    Two readings, by ``bound``:

    - ``bound`` an int: indices into an existing index space (a fitted model's users or items), which must
      lie in ``[0, bound)``; a single index is a list of one (``model.predict(3, 5)``).
    - ``bound=None``: a column of the ``Dataset`` builders, whose indices define the index space: a 1-D
      array-like (a single value is an error) of indices that fit int32; the builder checks them against
      ``n_users`` / ``n_items`` itself (``check_range``). Messages point strings to ``from_raw``.
    """
    if bound is None:
        a = one_d(values, name)
    else:
        if isinstance(values, (str, bytes)):
            raise NotAnIndexError(f"{name} must be integer indices, got a {type(values).__name__}")
        a = query_vector(np.asarray(values), name)
    if a.size == 0:  # an empty array of any dtype is an empty index list
        return np.empty(0, dtype=np.int64)
    hint = _RAW_IDS_HINT if bound is None else ""
    kind = a.dtype.kind
    if kind == "O":  # mixed Python objects, or integers beyond int64
        return _object_indices(a, bound, name, hint)
    if kind in "US":
        raise NotAnIndexError(f"{name} must be integer indices: {name}[0] = {plain(a[0])!r} is a string{hint}")
    if isinstance(values, (list, tuple)) and kind in "iuf":
        # NumPy turns [True, 2] into integers: a boolean inside a list is still not an index
        for pos, v in enumerate(values):
            if isinstance(v, (bool, np.bool_)):
                raise NotAnIndexError(f"{name}[{pos}] = {v!r} is a boolean, not an integer index")
    return integer_indices(a, bound, name)


def integer_indices(a, bound, name, xp=np):
    """The rules of ``index_array`` for a 1-D array of numbers, NumPy or CuPy (``xp``; the CUDA glue checks
    device input here without a host copy: only the position of an offending entry reaches the host).
    Returns a fresh int64 array of the same array module."""
    kind = a.dtype.kind
    if kind == "b":
        raise NotAnIndexError(f"{name} is boolean; expected 0-based integer indices "
                              "(np.flatnonzero turns a mask into indices)")
    if kind not in "iuf":
        raise NotAnIndexError(f"{name} must be integer indices, got dtype {a.dtype}")
    if kind == "f":
        bad = ~xp.isfinite(a)
        if bool(bad.any()):
            pos = first(bad)
            raise ValueError(f"{name}[{pos}] is {a[pos].item()}; expected integer indices")
        frac = a != xp.round(a)
        if bool(frac.any()):
            pos = first(frac)
            raise NotAnIndexError(f"{name}[{pos}] = {a[pos].item()} is not an integer index")
    # compare before any cast, so that uint64 or float values beyond int64 cannot wrap around
    limit = INT32_MAX + 1 if bound is None else bound
    bad = (a < 0) | (a >= limit)
    if bool(bad.any()):
        pos = first(bad)
        raise _range_error(name, pos, a[pos].item(), bound)
    return a.astype(xp.int64)


def _object_indices(a, bound, name, hint):
    """``index_array`` for an object array: each entry a Python (or NumPy) integer or whole number."""
    limit = INT32_MAX + 1 if bound is None else bound
    out = np.empty(len(a), dtype=np.int64)
    for pos, v in enumerate(a):
        if isinstance(v, (bool, np.bool_)):
            raise NotAnIndexError(f"{name}[{pos}] = {v!r} is a boolean, not an integer index")
        if isinstance(v, numbers.Real) and not isinstance(v, numbers.Integral):
            if not math.isfinite(v):
                raise ValueError(f"{name}[{pos}] is {v}; expected integer indices")
            if not float(v).is_integer():
                raise NotAnIndexError(f"{name}[{pos}] = {v!r} is not an integer index")
        elif not isinstance(v, numbers.Integral):
            raise NotAnIndexError(f"{name}[{pos}] = {v!r} is not an integer index{hint}")
        if not 0 <= v < limit:
            raise _range_error(name, pos, v, bound)
        out[pos] = int(v)
    return out


def _range_error(name, pos, value, bound):
    if bound is not None:
        return IndexRangeError(f"{name}[{pos}] = {value} is out of range [0, {bound})")
    if value < 0:
        return IndexRangeError(f"{name}[{pos}] = {value} is negative")
    return IndexRangeError(f"{name}[{pos}] = {value} does not fit an int32 index")


def check_n(n, name="n"):
    """``n`` (a list length, ``k``) as a positive int, or a ValueError naming it."""
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n <= 0:
        raise ValueError(f"{name}={n!r} must be a positive integer")
    return int(n)


def check_range(idx, n, name, count_name):
    """Raise ``IndexRangeError`` if any index of the validated array ``idx`` is >= n."""
    if len(idx):
        over = idx >= n
        if over.any():
            pos = first(over)
            raise IndexRangeError(f"{name}[{pos}] = {idx[pos]} is out of range for {count_name}={n}")


# --------------------------------------------------------------------------------------------------------
# values, counts, lengths, scales
# --------------------------------------------------------------------------------------------------------
def _parses_as_float(v):
    try:
        float(v)
    except ValueError:
        return False
    return True


def value_array(x, name):
    """Validate finite numeric values that fit float32 and return them as a new float64 array."""
    a = one_d(x, name)
    if len(a) == 0:
        return np.empty(0, dtype=np.float64)
    kind = a.dtype.kind
    if kind in "US":
        bad = [pos for pos, v in enumerate(a[:1000]) if not _parses_as_float(v)]
        pos = bad[0] if bad else 0
        raise TypeError(f"{name}[{pos}] = {plain(a[pos])!r} is not a number ({name} holds strings)")
    if kind == "c":
        raise TypeError(f"{name} is complex; expected real numbers")
    if kind == "O":
        for pos, v in enumerate(a):
            if isinstance(v, (str, bytes)) or not isinstance(v, numbers.Real):
                raise TypeError(f"{name}[{pos}] = {v!r} is not a number")
    elif kind not in "biuf":
        raise TypeError(f"{name} has dtype {a.dtype}; expected real numbers")
    out = a.astype(np.float64)
    bad = ~np.isfinite(out)
    if bad.any():
        pos = first(bad)
        raise ValueError(f"{name}[{pos}] is {out[pos]}")
    big = np.abs(out) > FLOAT32_MAX
    if big.any():
        pos = first(big)
        raise ValueError(f"{name}[{pos}] = {plain(out[pos])!r} does not fit float32")
    warn_float32_underflow(out, lambda pos: f"{name}[{pos}]")
    return out


def check_count(n, name):
    """Validate ``n_users`` / ``n_items``: a non-negative int that fits int32 indices."""
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {n!r}")
    n = int(n)
    if n < 0:
        raise ValueError(f"{name} must be >= 0, got {n}")
    if n > INT32_MAX + 1:
        raise ValueError(f"{name}={n} is too large: indices must fit int32")
    return n


def check_lengths(**arrays):
    """Raise unless the named arrays have one length."""
    names = list(arrays)
    head = names[0]
    for other in names[1:]:
        if len(arrays[other]) != len(arrays[head]):
            raise ValueError(f"{head} has {len(arrays[head])} entries but {other} has {len(arrays[other])}")


def check_scale(rating_scale):
    """Validate a user-given rating scale and return it as a tuple of two Python floats."""
    try:
        if isinstance(rating_scale, (str, bytes)):  # "15" would unpack into 1.0 and 5.0
            raise TypeError
        lo, hi = rating_scale
        if isinstance(lo, (str, bytes)) or isinstance(hi, (str, bytes)):
            raise TypeError
        lo, hi = float(lo), float(hi)
    except (TypeError, ValueError):
        raise ValueError(f"rating_scale must be a pair (min, max) of numbers, got {rating_scale!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError(f"rating_scale must be finite, got {rating_scale!r}")
    if lo > hi:
        raise ValueError(f"rating_scale min {lo} is larger than max {hi}")
    return (lo, hi)


# --------------------------------------------------------------------------------------------------------
# sparse structures
# --------------------------------------------------------------------------------------------------------
def warn_float32_underflow(values, describe):
    """Warns (RuntimeWarning) when nonzero ``values`` round to 0 in float32 (|v| <= 2**-150, half the smallest
    subnormal): such a rating or weight would silently become 0. ``describe(pos)`` names the first one."""
    lost = (np.abs(values) <= 2.0**-150) & (values != 0)
    if lost.any():
        pos = first(lost)
        warnings.warn(f"{describe(pos)} = {plain(values[pos])!r} underflows to 0 in float32 "
                      f"({int(lost.sum())} value(s) of this magnitude become 0)", RuntimeWarning, stacklevel=4)


def check_finite_sparse(m, name):
    """Raise unless every stored value of the CSR matrix ``m`` is finite and fits float32 (warn when one
    underflows to 0 there)."""
    bad = ~np.isfinite(m.data)
    if bad.any():
        pos = first(bad)
        row = int(np.searchsorted(m.indptr, pos, side="right") - 1)
        raise ValueError(f"{name}[{row}, {int(m.indices[pos])}] is {m.data[pos]}")
    big = np.abs(m.data) > FLOAT32_MAX
    if big.any():
        pos = first(big)
        row = int(np.searchsorted(m.indptr, pos, side="right") - 1)
        raise ValueError(f"{name}[{row}, {int(m.indices[pos])}] = {plain(m.data[pos])!r} does not fit float32")
    warn_float32_underflow(m.data, lambda pos: f"{name}[{int(np.searchsorted(m.indptr, pos, side='right') - 1)}, "
                                               f"{int(m.indices[pos])}]")


def check_trust_shape(shape, n_users):
    """A trust matrix must be n_users x n_users (the ratings' users)."""
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ValueError(f"trust must be square, got shape {shape}")
    if shape[0] != n_users:
        raise ValueError(f"trust has shape {shape} but ratings have {n_users} users; "
                         f"trust must be {n_users} x {n_users}")


def csr_offsets(indptr, n_rows, what):
    """The offsets of a loaded CSR structure as int64, checked: ``n_rows + 1`` integers from 0, non-decreasing.

    The differences are taken in int64 (an unsigned array that goes backwards would wrap around to a huge
    positive step in its own dtype), after checking that every offset fits int64."""
    indptr = np.asarray(indptr)
    bad = f"{what} is not a valid CSR structure of {n_rows} rows"
    if indptr.dtype.kind not in "iu" or indptr.shape != (n_rows + 1,):
        raise ValueError(f"{bad} (offsets of dtype {indptr.dtype} and shape {indptr.shape})")
    if indptr.dtype.kind == "u" and indptr.size and indptr.max() > np.iinfo(np.int64).max:
        raise ValueError(f"{bad} (an offset beyond int64)")
    indptr = indptr.astype(np.int64, copy=False)
    if indptr[0] != 0 or np.any(np.diff(indptr) < 0):
        raise ValueError(f"{bad} (offsets must start at 0 and never decrease)")
    return indptr


def check_csr(indptr, indices, n_rows, n_cols, what):
    """A loaded CSR structure: integer arrays, ``n_rows + 1`` non-decreasing offsets from 0 (``csr_offsets``),
    as many indices as the last offset, each in ``[0, n_cols)`` and strictly increasing within its row (scipy's
    canonical form: sorted, no duplicates). Returns ``(indptr, indices)`` as int64 and int32."""
    indptr, indices = csr_offsets(indptr, n_rows, what), np.asarray(indices)
    bad = f"{what} is not a valid CSR structure of shape {(n_rows, n_cols)}"
    if indices.dtype.kind not in "iu" or indices.shape != (int(indptr[-1]),):
        raise ValueError(f"{bad} ({int(indptr[-1])} entries expected, indices of dtype {indices.dtype} and "
                         f"shape {indices.shape})")
    if n_cols > INT32_MAX + 1:
        raise ValueError(f"{bad} (more than 2^31 columns)")
    if len(indices) and (indices.min() < 0 or indices.max() >= n_cols):
        raise ValueError(f"{bad} (an index outside [0, {n_cols}))")
    indices = indices.astype(np.int32, copy=False)
    # within a row each index must exceed the one before; a step across a row boundary may go down
    steps_up = np.diff(indices) > 0
    row_starts = indptr[1:-1]
    steps_up[row_starts[(row_starts > 0) & (row_starts < len(indices))] - 1] = True
    if not steps_up.all():
        raise ValueError(f"{bad} (the indices of a row are not strictly increasing)")
    return indptr, indices
