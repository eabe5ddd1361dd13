"""pandas input: the columns of ratings and trust DataFrames as the arrays ``Dataset`` builds from.

pandas is optional (``pip install "socialrec[pandas]"``): nothing here imports it; a DataFrame is recognised by
its type's module, and its own methods do the work. Id columns of any dtype become ``(codes, uniques)`` pairs
(``uniques[codes]`` is the column) without a Python loop: a categorical column gives its codes and the
categories it uses, any other column goes through ``_factorize.factorize`` (or ``pandas.factorize`` for dtypes
NumPy has no array for, such as pandas' string and nullable dtypes).
"""
from __future__ import annotations

import importlib.util
import sys

import numpy as np

from . import _core
from ._factorize import factorize

__all__ = ["is_frame", "is_series", "series_values", "id_column", "id_columns", "value_column", "column"]

# Below this many ids in all, the columns are numbered one after another (a thread pool costs more than it saves).
_THREADED_IDS = 200_000

PANDAS_EXTRA = 'pip install pandas (or pip install "socialrec[pandas]")'


def _type_is(obj, name):
    t = type(obj)
    return t.__name__ == name and t.__module__.split(".")[0] == "pandas"


def is_frame(obj):
    """True for a ``pandas.DataFrame`` (checked without importing pandas)."""
    return _type_is(obj, "DataFrame")


def is_series(obj):
    """True for a ``pandas.Series``."""
    return _type_is(obj, "Series")


def series_values(x):
    """A pandas Series of a NumPy dtype as its NumPy array (``from_raw`` on DataFrame columns: no per-element
    list); anything else unchanged (pandas' own dtypes would turn NA into NaN and integers into floats)."""
    return x.to_numpy() if is_series(x) and isinstance(x.dtype, np.dtype) else x


def column(frame, name, role, what, argument):
    """``frame[name]`` as a Series; a missing column is a ``ValueError`` that lists the frame's columns and the
    argument that names the column."""
    if not is_frame(frame):
        missing = "" if importlib.util.find_spec("pandas") else f" (pandas is not installed: {PANDAS_EXTRA})"
        raise TypeError(f"{what} must be a pandas DataFrame, got {type(frame).__name__}{missing}")
    try:
        present = name in frame.columns
    except TypeError:  # an unhashable name
        present = False
    if not present:
        have = ", ".join(repr(c) for c in frame.columns)
        raise ValueError(f"the {what} DataFrame has no column {name!r} for the {role} (its columns: {have}); "
                         f"name the column with {argument}=<column name>")
    s = frame[name]
    if is_frame(s):  # a column name that appears twice
        raise ValueError(f"the {what} DataFrame has {s.shape[1]} columns named {name!r}; {role} needs one")
    return s


def _first_missing(mask, series, label):
    pos = int(np.argmax(mask))
    at = series.index[pos]
    at = at.item() if isinstance(at, np.generic) else at  # 12, not np.int64(12)
    return ValueError(f"{label} is missing at row {pos} (index {at!r}); ids must not be missing")


def id_column(series, label):
    """``(codes, uniques)`` of an id column: int64 codes, a NumPy array of the distinct ids used.

    A categorical column gives its categories (those that occur, in category order; ``map_ids`` orders them
    as it orders any ids). Missing ids (NaN, None, NA, NaT) are a ``ValueError`` naming the row.
    """
    dtype = series.dtype
    if getattr(dtype, "name", "") == "category":
        codes = series.cat.codes.to_numpy()
        if len(codes) and codes.min() < 0:
            raise _first_missing(codes < 0, series, label)
        categories = series.cat.categories.to_numpy()
        used = np.bincount(codes, minlength=len(categories)) > 0
        renumber = np.cumsum(used, dtype=np.int64) - 1  # the index of a used category among the used ones
        return renumber[codes], _text_array(categories[used])
    if isinstance(dtype, np.dtype) and dtype.kind != "O":
        values = series.to_numpy()
        if dtype.kind in "fcmM" and len(values):
            bad = np.isnan(values)
            if bad.any():
                raise _first_missing(bad, series, label)
        out = factorize(values)
        if out is not None:
            return out
    arrow = _arrow_strings(series)
    if arrow is not None:
        return _arrow_codes(arrow, series, label)
    # object columns, pandas' own dtypes (string, nullable integers...): pandas' hash table
    pd = sys.modules["pandas"]
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    if len(codes) and codes.min() < 0:
        raise _first_missing(codes < 0, series, label)
    uniques = uniques.to_numpy() if hasattr(uniques, "to_numpy") else np.asarray(uniques)
    return codes.astype(np.int64, copy=False), _text_array(uniques)


def id_columns(columns):
    """``[id_column(series, label) for series, label in columns]``, with Arrow-backed string columns (pandas'
    default ``str`` dtype when pyarrow is installed) numbered in parallel threads: their C++ numbering
    (``_core.number_strings``) releases the GIL, so a user and an item column take the time of one on two
    cores. Other columns are numbered in the calling thread (pandas' hash table over Python objects holds the
    GIL)."""
    columns = list(columns)
    threaded = [k for k, (series, _) in enumerate(columns) if _arrow_strings(series) is not None]
    if len(threaded) < 2 or sum(len(columns[k][0]) for k in threaded) < _THREADED_IDS:
        return [id_column(series, label) for series, label in columns]
    from concurrent.futures import ThreadPoolExecutor

    out = [None] * len(columns)
    with ThreadPoolExecutor(max_workers=min(len(threaded), 4)) as pool:
        pending = {k: pool.submit(id_column, *columns[k]) for k in threaded}
        for k, (series, label) in enumerate(columns):
            if k not in pending:
                out[k] = id_column(series, label)
        for k, future in pending.items():
            out[k] = future.result()  # re-raises the column's error (a missing id names its row)
    return out


def _arrow_strings(series):
    """The ``pyarrow.ChunkedArray`` behind an Arrow-backed string column, or ``None`` for any other column."""
    pa = sys.modules.get("pyarrow")
    if pa is None or not hasattr(series.array, "__arrow_array__"):
        return None
    dtype = series.dtype
    if getattr(dtype, "storage", None) != "pyarrow" and "pyarrow" not in str(dtype):
        return None
    arr = series.array.__arrow_array__()  # the column's own buffers, no copy
    if not isinstance(arr, pa.ChunkedArray):
        arr = pa.chunked_array([arr])
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return None
    return arr


def _arrow_codes(arr, series, label):
    """``(codes, uniques)`` of an Arrow string column, in order of first appearance (as ``pandas.factorize``);
    a missing id is a ``ValueError`` naming its row.

    The strings are numbered in C++ straight from Arrow's offset and byte buffers (``_core.number_strings``,
    which releases the GIL): about six times faster than Arrow's own dictionary encoding on 3 million ids of
    100,000 distinct values (0.17 s against 1.0 s of CPU time, on a loaded machine).
    """
    if arr.null_count:
        valid = np.concatenate([c.is_valid().to_numpy(zero_copy_only=False) for c in arr.chunks])
        raise _first_missing(~valid, series, label)
    if len(arr) == 0:
        return np.empty(0, np.int64), np.empty(0, dtype=str)
    codes, first = _core.number_strings([_string_buffers(c) for c in arr.chunks if len(c)])
    uniques = arr.take(first).to_numpy(zero_copy_only=False)
    return codes, _text_array(uniques)


def _string_buffers(chunk):
    """``(offsets, data)`` of one Arrow string chunk as NumPy views of its buffers (no copy): string k is
    ``data[offsets[k]:offsets[k + 1]]``. A sliced chunk's offsets start at its ``offset``."""
    _, offsets, data = chunk.buffers()
    wide = chunk.type.id == sys.modules["pyarrow"].large_string().id
    offsets = np.frombuffer(offsets, dtype=np.int64 if wide else np.int32)[chunk.offset:chunk.offset + len(chunk) + 1]
    data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.empty(0, np.uint8)
    return offsets, data


def _text_array(ids):
    """Distinct string ids as a NumPy str array (as ``load_files`` gives them), which NumPy sorts, checks and
    looks up without a Python loop; kept as objects when they are not all str, or when one ends in a NUL
    character (a str array would drop it and merge two ids)."""
    if ids.dtype.kind != "O" or not len(ids):
        return ids
    values = ids.tolist()
    if all(type(v) is str for v in values) and not any(v.endswith("\x00") for v in values):
        return np.array(values, dtype=str)
    return ids


def value_column(series, label):
    """A numeric column as float64 (missing values become NaN, which the dataset's checks name)."""
    try:
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        raise TypeError(f"{label} has dtype {series.dtype}; expected numbers") from None
