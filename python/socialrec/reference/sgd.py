"""The visiting orders of the SGD engine (cpp/include/socialrec/sgd.hpp) and the record layouts they visit,
in plain Python.

Layouts (the C++ side builds the same arrays with ``socialrec._engine.pack_grid_csr`` /
``pack_user_groups_csr``; tests/test_engine.py compares them with the twins here):

* **Rating grid** (DESIGN §5). ``B = grid_blocks(n_users, n_items, factors, itemsize)`` blocks a side. Users
  are cut into ``B`` contiguous blocks, ``block(u) = u * B // n_users``, items likewise; the (user, item,
  value) records of block ``a * B + b`` lie at ``records[offsets[a*B + b] : offsets[a*B + b + 1]]``, in the
  input's (CSR) order inside a block before the first epoch. Passes shuffle the records in place.
* **User groups** (SVD++, TrustSVD): records sorted by user, stably (CSR input keeps its order);
  ``rating_offsets`` (``n_users + 1``) and ``rating_users`` (the users with a rating, ascending).
* **Edges**: a list of (src, dst, value) records for a flat pass.

Records are ``(int32 user, int32 item, float32 value)``, so a value is rounded to float32 when it is packed.
"""
from __future__ import annotations

import math

import numpy as np

from ._rng import SplitMix64, shuffle, stream_seed

RATING_PASS, LINK_PASS, USER_PASS, SAMPLE_PASS, TRUSTEE_PASS = 0, 1, 2, 3, 4
SAMPLE_CHUNK = 4096  # samples per chunk of a sampled pass (sgd.hpp kSampleChunk)

RECORD_DTYPE = np.dtype([("user", "<i4"), ("item", "<i4"), ("value", "<f4")])
EDGE_DTYPE = np.dtype([("src", "<i4"), ("dst", "<i4"), ("value", "<f4")])

BLOCK_BYTES = 256 * 1024          # factor bytes a grid block should hold (a core's L2)
MIN_BLOCKS, MAX_BLOCKS = 8, 128   # blocks a side: at least 8 (threads per stratum), at most 128


def grid_blocks(n_users, n_items, factors, itemsize):
    """Blocks a side of a grid: ``ceil((n_users + n_items) * max(factors, 1) * itemsize / BLOCK_BYTES)``,
    clipped to ``[MIN_BLOCKS, MAX_BLOCKS]`` and then to at most ``n_users`` and ``n_items`` (at least 1). A
    function of the shape only, never of the thread count."""
    need = math.ceil((n_users + n_items) * max(int(factors), 1) * int(itemsize) / BLOCK_BYTES)
    return int(max(1, min(max(MIN_BLOCKS, need), MAX_BLOCKS, n_users, n_items)))


def pack_grid(users, items, values, n_users, n_items, blocks):
    """Packs rating triples into the grid layout; returns a dict with ``records``, ``offsets``, ``blocks``."""
    users = np.asarray(users, dtype=np.int64)
    items = np.asarray(items, dtype=np.int64)
    key = (users * blocks // max(n_users, 1)) * blocks + items * blocks // max(n_items, 1)
    order = np.argsort(key, kind="stable")
    records = np.empty(len(order), dtype=RECORD_DTYPE)
    records["user"] = users[order]
    records["item"] = items[order]
    records["value"] = np.asarray(values, dtype=np.float32)[order]
    offsets = np.zeros(blocks * blocks + 1, dtype=np.int64)
    np.cumsum(np.bincount(key, minlength=blocks * blocks), out=offsets[1:])
    return {"records": records, "offsets": offsets, "blocks": int(blocks)}


def pack_user_groups(users, items, values, n_users):
    """Packs rating triples grouped by user for ``grouped_pass``: ``rating_records`` sorted by user (stable),
    ``rating_offsets`` (int64, ``n_users + 1``; user u's records at ``[off[u], off[u+1])``) and
    ``rating_users`` (int32, the users with at least one rating, ascending)."""
    users = np.asarray(users, dtype=np.int64)
    order = np.argsort(users, kind="stable")
    records = np.empty(len(order), dtype=RECORD_DTYPE)
    records["user"] = users[order]
    records["item"] = np.asarray(items)[order]
    records["value"] = np.asarray(values, dtype=np.float32)[order]
    counts = np.bincount(users, minlength=n_users)
    offsets = np.zeros(n_users + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return {"rating_records": records, "rating_offsets": offsets,
            "rating_users": np.flatnonzero(counts > 0).astype(np.int32)}


def pack_edges(src, dst, values):
    """Packs trust edges (or any pair list) into the record layout of a flat pass, one record per edge in the
    given order (the value rounded to float32)."""
    edges = np.empty(len(src), dtype=EDGE_DTYPE)
    for e in range(len(src)):
        edges[e] = (src[e], dst[e], values[e])
    return edges


def rating_grid(spec, data, values=None):
    """The rating grid of ``data`` for ``spec`` (its factors and dtype set the blocks), with ``values`` (one
    per rating, CSR order) in place of the ratings when given."""
    users, items, ratings = data.user_item_arrays()
    blocks = grid_blocks(data.n_users, data.n_items, spec.factors, spec.np_dtype.itemsize)
    return pack_grid(users, items, ratings if values is None else values, data.n_users, data.n_items, blocks)


def trust_grid(spec, data, values):
    """The trust edges of ``data`` with ``values`` (one per edge, CSR order) as a truster-block x
    trustee-block grid (``grid_blocks(n_users, n_users, ...)``), for passes whose step touches two matrices."""
    src, dst, _ = data.trust_arrays()
    blocks = grid_blocks(data.n_users, data.n_users, spec.factors, spec.np_dtype.itemsize)
    return pack_grid(src, dst, values, data.n_users, data.n_users, blocks)


def grid_pass(grid, seed, epoch, pass_id, step):
    """Stratified pass over a packed rating grid (see ``pack_grid``); ``step(user, item,
    value)`` applies one update. Strata in shuffled order; stratum s holds blocks (a, (a + s) mod B); each
    block's records shuffled in place just before it is visited."""
    records, offsets, B = grid["records"], grid["offsets"], grid["blocks"]
    strata = list(range(B))
    shuffle(strata, SplitMix64(stream_seed(seed, epoch, pass_id, B * B)))
    for s in strata:
        for a in range(B):
            block = a * B + (a + s) % B
            chunk = records[offsets[block]:offsets[block + 1]]  # a view: shuffled in place
            shuffle(chunk, SplitMix64(stream_seed(seed, epoch, pass_id, block)))
            for r in chunk:
                step(int(r[0]), int(r[1]), r[2])


def flat_pass(records, seed, epoch, pass_id, step):
    """Single-order pass: the whole list shuffled in place with stream (seed, epoch, pass, 0), then visited."""
    if len(records) == 0:
        return
    shuffle(records, SplitMix64(stream_seed(seed, epoch, pass_id, 0)))
    for r in records:
        step(r)


def grouped_pass(groups, members, offsets, seed, epoch, pass_id, step):
    """Groups visited as in flat_pass; group g's members shuffled with stream (seed, epoch, pass, g + 1)."""
    def visit(g):
        g = int(g)
        segment = members[offsets[g]:offsets[g + 1]]
        shuffle(segment, SplitMix64(stream_seed(seed, epoch, pass_id, g + 1)))
        step(g, segment)

    flat_pass(groups, seed, epoch, pass_id, visit)


def sampled_pass(n_samples, seed, epoch, pass_id, step):
    """Pass of ``n_samples`` drawn observations: chunk c (samples c*SAMPLE_CHUNK ...) draws from stream
    (seed, epoch, pass, c); ``step(gen)`` draws one observation from ``gen`` and applies its update. This is
    the deterministic order (chunks in order); the parallel mode runs the same chunks Hogwild."""
    for c in range(-(-n_samples // SAMPLE_CHUNK)):
        gen = SplitMix64(stream_seed(seed, epoch, pass_id, c))
        for _ in range(min(SAMPLE_CHUNK, n_samples - c * SAMPLE_CHUNK)):
            step(gen)

