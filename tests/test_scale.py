"""Scale (issue 7, DESIGN §3): counts and offsets of ratings and edges are 64-bit, user and item indices fit
int32, and index arithmetic at the 2^31 boundary does not wrap -- checked without allocating that much."""
from __future__ import annotations

import numpy as np
import pytest

import socialrec as sr
from socialrec import _core, _engine
from socialrec.reference import sgd as ref_sgd

INT32_MAX = 2**31 - 1


def test_grid_offsets_are_int64_and_record_indices_int32():
    grid = ref_sgd.pack_grid([0, 1], [1, 0], [1.0, 2.0], 2, 2, 2)
    assert grid["offsets"].dtype == np.int64
    assert _engine.RECORD_DTYPE["user"] == np.int32 and _engine.RECORD_DTYPE["item"] == np.int32
    assert _engine.RECORD_DTYPE.itemsize == _core.RATING_RECORD_SIZE == 12
    assert _engine.EDGE_DTYPE["src"] == np.int32 and _engine.EDGE_DTYPE["dst"] == np.int32


def test_grid_block_ids_at_the_int32_boundary():
    # users * blocks would overflow int32 here (2^31 * 128); the block id must be computed in int64.
    n = INT32_MAX
    users = np.array([n - 1, 0, n // 2, n - 1], dtype=np.int32)
    items = np.array([n - 1, n - 1, 0, 0], dtype=np.int32)
    blocks = 128
    grid = ref_sgd.pack_grid(users, items, [1.0, 2.0, 3.0, 4.0], n, n, blocks)
    offsets = grid["offsets"]
    assert offsets.dtype == np.int64 and offsets[-1] == 4 and np.all(np.diff(offsets) >= 0)

    def block_of(u, i):
        return (u * blocks // n) * blocks + i * blocks // n  # Python integers: exact

    for u, i in zip(users.tolist(), items.tolist()):
        b = block_of(u, i)
        rec = grid["records"][offsets[b]:offsets[b + 1]]
        assert ((rec["user"] == u) & (rec["item"] == i)).sum() == 1, (u, i, b)
    assert block_of(n - 1, n - 1) == blocks * blocks - 1


def test_cpp_grid_offsets_must_be_int64():
    grid = ref_sgd.pack_grid([0], [0], [1.0], 1, 1, 1)
    arrays = {"user_factors": np.zeros((1, 4), np.float32), "item_factors": np.zeros((1, 4), np.float32), **grid}
    hyper = {"factors": 4, "biased": False, "global_bias": 0.0, "learning_rate": 0.01, "regularization": 0.0,
             "bias_regularization": 0.0}
    settings = _engine.pass_settings(0, 0, 1)
    _core.biased_mf_epoch(arrays, hyper, settings)
    with pytest.raises(TypeError, match="offsets.*int64"):
        _core.biased_mf_epoch({**arrays, "offsets": grid["offsets"].astype(np.int32)}, hyper, settings)
    with pytest.raises(ValueError, match="blocks"):
        _core.biased_mf_epoch({**arrays, "blocks": -1}, hyper, settings)


def test_seen_items_offsets_are_int64_after_fit_and_load(tmp_path):
    ds = sr.datasets.synthetic(n_users=50, n_items=30, seed=0)
    model = sr.BiasedMF(epochs=1).fit(ds)
    assert model.seen_indptr_.dtype == np.int64 and model.seen_indices_.dtype == np.int32
    model.save(tmp_path / "m.npz")
    loaded = sr.load(tmp_path / "m.npz")
    assert loaded.seen_indptr_.dtype == np.int64 and loaded.seen_indices_.dtype == np.int32


def test_index_arrays_are_int64_and_beyond_int32_indices_are_refused():
    ds = sr.datasets.synthetic(n_users=50, n_items=30, seed=0)
    u, i, v = ds.user_item_arrays()
    assert u.dtype == i.dtype == np.int32
    from socialrec._validate import index_array as _index_array

    assert _index_array(np.array([1, 2], np.int16), 3, "users").dtype == np.int64
    assert _index_array(np.array([INT32_MAX], np.int64), 2**40, "users")[0] == INT32_MAX
    with pytest.raises(ValueError, match="does not fit an int32"):
        sr.Dataset.from_arrays([0, 2**31], [0, 0], [1.0, 2.0])


def test_cpp_factor_row_offset_beyond_2_31_elements():
    """user * factors = 2^31 elements: a 32-bit row offset would wrap to the front of (or before) the array.

    The 8 GiB factor matrix is only reserved (np.zeros maps untouched zero pages); the kernel touches one row.
    """
    k, user = 128, 2**24  # row offset k * user = 2^31 elements
    try:
        user_factors = np.zeros((user + 1, k), np.float32)
    except MemoryError:
        pytest.skip("this machine cannot reserve 8 GiB of address space")
    item_factors = np.ones((1, k), np.float32)
    grid = ref_sgd.pack_grid([user], [0], [2.0], user + 1, 1, 1)
    hyper = {"factors": k, "biased": False, "global_bias": 0.0, "learning_rate": 0.01, "regularization": 0.0,
             "bias_regularization": 0.0}
    _core.biased_mf_epoch({"user_factors": user_factors, "item_factors": item_factors, **grid}, hyper,
                          _engine.pass_settings(0, 0, 1))
    # e = 2 - 0, so p_u += 0.01 * 2 * q_i = 0.02 on the right row; q_i is unchanged (p_u was 0)
    np.testing.assert_allclose(user_factors[user], 0.02, rtol=1e-6)
    assert not user_factors[0].any() and not user_factors[user - 1].any()
    np.testing.assert_array_equal(item_factors, 1.0)


def test_csr_grid_packing_at_the_int32_boundary():
    # column ids near 2^31 times 128 blocks overflow int32: the C++ counting sort must use int64 like pack_grid
    n, blocks = INT32_MAX, 128
    indptr = np.arange(blocks + 1, dtype=np.int64)  # one entry per row, 128 rows
    indices = np.resize(np.array([n - 1, 0, n // 2, n - 2], dtype=np.int32), blocks)
    values = np.arange(blocks, dtype=np.float32)
    got = _engine.pack_grid_csr(indptr, indices, values, n, blocks)
    expected = ref_sgd.pack_grid(np.arange(blocks), indices, values, blocks, n, blocks)
    np.testing.assert_array_equal(got["offsets"], expected["offsets"])
    assert got["records"].tobytes() == expected["records"].tobytes()
    assert got["offsets"][-1] == blocks and (np.diff(got["offsets"]) > 0).sum() == blocks
