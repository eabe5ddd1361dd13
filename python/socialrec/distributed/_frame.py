"""``dask.dataframe`` input of ``socialrec.distributed.fit``: ratings (and trust edges) as Dask DataFrames, e.g.
``dd.read_parquet(...)`` or ``dd.read_csv(...)`` over files partitioned by users, become the Dataset of the
same rows, numbered as ``Dataset.from_pandas`` numbers them.

The id maps are built without the rows meeting on one machine: each partition's distinct ids are found on its
worker (``drop_duplicates`` per partition), only those come here, where
``_ids.map_ids`` orders them exactly as the in-memory path does (rated users ascending, then the users found
only in the trust graph, ascending; items ascending). The id arrays then go back to the workers, which turn
their partitions into integer codes (int32 users and items, float64 values) — the only per-rating data that
reaches this process, because the fitted model is an ordinary socialrec model: it keeps which items each user
rated (for ``recommend``'s exclusion) and the engines cut their blocks here.
"""
from __future__ import annotations

import numpy as np

from .._ids import IdIndex, map_ids, raw_array, string_array
from ..data import Dataset

RATING_COLUMNS = ("user", "item", "rating")
TRUST_COLUMNS = ("truster", "trustee")


def is_dask_frame(obj):
    """True for a ``dask.dataframe`` DataFrame (checked without importing Dask)."""
    return type(obj).__module__.split(".")[0] == "dask" and hasattr(obj, "map_partitions") and \
        hasattr(obj, "columns")


def dataset(client, ratings, trust=None):
    """The Dataset of the Dask DataFrame ``ratings`` (columns ``user``, ``item``, ``rating``) and ``trust``
    (``truster``, ``trustee``; a Dask or pandas DataFrame, or None), built as the module docstring says."""
    _check_columns(ratings, RATING_COLUMNS, "ratings")
    if trust is not None:
        if not is_dask_frame(trust):
            trust = _from_pandas(trust)
        _check_columns(trust, TRUST_COLUMNS, "trust")
    columns = [ratings["user"], ratings["item"]] + ([trust["truster"], trust["trustee"]] if trust is not None else [])
    found = client.gather(client.compute([c.map_partitions(_distinct, meta=c._meta) for c in columns]))
    distinct = [_id_array(s, name) for s, name in zip(found, ("user", "item", "truster", "trustee"))]
    user_ids, _ = map_ids([[distinct[0]], distinct[2:]])
    item_ids, _ = map_ids([[distinct[1]]])
    users, items = IdIndex(user_ids, "user"), IdIndex(item_ids, "item")
    rows = client.compute(ratings.map_partitions(_rating_codes, users, items, meta=_CODE_META))
    codes = client.gather(rows)
    u, i, v = (codes[c].to_numpy() for c in ("u", "i", "v"))
    groups = [[u]]
    if trust is not None:
        edges = client.gather(client.compute(trust.map_partitions(_trust_codes, users, meta=_EDGE_META)))
        groups.append([edges["src"].to_numpy(), edges["dst"].to_numpy()])
    return Dataset._from_numbered(user_ids, groups, item_ids, i, v, None, "error", None)


_CODE_META = {"u": np.int32, "i": np.int32, "v": np.float64}
_EDGE_META = {"src": np.int32, "dst": np.int32}


def _distinct(column):
    """One partition's distinct ids (on its worker)."""
    return column.drop_duplicates()


def _id_array(column, what):
    """The ids of a pandas Series as ``from_pandas`` holds them: strings as a NumPy string array."""
    a = raw_array(column.to_numpy(), f"{what} ids")
    if a.dtype == object and len(a) and all(isinstance(x, str) for x in a):
        strings = string_array(a.tolist())  # None where NumPy would drop a trailing NUL
        a = a if strings is None else strings
    return a


def _codes(index, values, what):
    """The codes of a partition's id column (every id is in ``index``: the maps were made from these rows)."""
    return index.find(_id_array(values, what)).astype(np.int32)


def _rating_codes(part, users, items):
    """One partition's ratings as codes (on its worker)."""
    return type(part)({"u": _codes(users, part["user"], "user"), "i": _codes(items, part["item"], "item"),
                       "v": part["rating"].to_numpy(dtype=np.float64)})


def _trust_codes(part, users):
    """One partition's trust edges as user codes (on its worker)."""
    return type(part)({"src": _codes(users, part["truster"], "truster"),
                       "dst": _codes(users, part["trustee"], "trustee")})


def _check_columns(frame, names, what):
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise ValueError(f"the {what} Dask DataFrame has no column {missing[0]!r} (columns: "
                         f"{list(frame.columns)}); socialrec.distributed reads {', '.join(map(repr, names))}")


def _from_pandas(frame):
    """A pandas trust DataFrame as a one-partition Dask one."""
    import dask.dataframe as dd  # noqa: PLC0415 (Dask is optional: imported when a frame is given)

    return dd.from_pandas(frame, npartitions=1)
