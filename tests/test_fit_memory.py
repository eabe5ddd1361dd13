"""Memory of fit (issue 21): the training state holds no second copy of what the Dataset already holds, the
element-wise maps run chunk by chunk with the same numbers, and a Dataset over memory-mapped .npy files uses
the mapped arrays as they are. Peak memory is checked with tracemalloc (NumPy reports its allocations to it),
never by timing."""
from __future__ import annotations

import math
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import socialrec as sr
from socialrec import _arrays
from socialrec.models import _confidence, _social, bpr

MODELS = (sr.BiasedMF, sr.SVDpp, sr.SoRec, sr.SocialMF, sr.SoReg, sr.RSTE, sr.TrustMF, sr.TrustSVD, sr.BPR, sr.SBPR,
          sr.ALS, sr.SocialALS)


@pytest.fixture(scope="module")
def data():
    return sr.datasets.synthetic(n_users=300, n_items=200, seed=0)


def _traced_peak(fn):
    """(result, peak bytes above the start) of ``fn()`` under tracemalloc."""
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        out = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return out, peak - start


# -- what fit keeps ------------------------------------------------------------------------------------------
def test_the_kept_trust_graph_shares_the_datasets_arrays_read_only(data):
    model = sr.SocialMF(epochs=1).fit(data)
    kept = model.trust_graph_
    for name in ("data", "indices"):
        assert np.shares_memory(getattr(kept, name), getattr(data.trust, name)), name
        assert not getattr(kept, name).flags.writeable
    assert data.trust.data.flags.writeable  # the dataset's own arrays are left as they were
    assert (kept != data.trust).nnz == 0


def test_bpr_and_als_train_on_the_datasets_indices_without_a_copy(data):
    implicit = data.binarized()
    arrays = bpr.interaction_arrays(implicit.ratings)
    assert np.shares_memory(arrays["indices"], implicit.ratings.indices)
    assert arrays["pool_items"] is arrays["indices"] and arrays["pool_users"].dtype == np.int32
    weighted = sr.ALS()._weighted(implicit.ratings)
    assert np.shares_memory(weighted.indices, implicit.ratings.indices)


def test_a_pool_without_full_users_is_still_the_unsaturated_pairs():
    # user 0 consumed every item: its pairs are not in the pool (no negative to draw), as before
    r = sp.csr_matrix(np.array([[1, 1, 1], [0, 1, 0], [1, 0, 0]], dtype=np.float32))
    arrays = bpr.interaction_arrays(r)
    assert arrays["pool_users"].tolist() == [1, 2] and arrays["pool_items"].tolist() == [1, 0]


def test_the_logistic_grid_maps_its_values_in_place(data, monkeypatch):
    """SoRec's grid: packing holds the records and chunk-sized temporaries, not a float64 copy of every value
    on top (before: 12 bytes per rating more than the records)."""
    monkeypatch.setattr(_arrays, "ENTRIES_PER_CHUNK", 256)
    ds = sr.datasets.synthetic(n_users=3000, n_items=1000, seed=1)
    model = sr.SoRec(num_threads=1)
    grid, peak = _traced_peak(lambda: model._rating_grid(ds))
    records = grid["records"].nbytes + grid["offsets"].nbytes
    assert peak <= records * 1.1 + 64 * 1024, (peak, records)


def test_fit_holds_the_training_state_and_parameters_only(monkeypatch):
    """The traced peak of a SoRec fit: the two grids (12 bytes a rating and an edge), the parameters twice
    (the model's and the backup that a divergence restores) and the row offsets; no copy of the trust graph,
    no float64 copy of the values."""
    monkeypatch.setattr(_arrays, "ENTRIES_PER_CHUNK", 256)
    ds = sr.datasets.synthetic(n_users=3000, n_items=1000, seed=1)
    model = sr.SoRec(epochs=2, num_threads=1)
    _, peak = _traced_peak(lambda: model.fit(ds))
    params = sum(v.nbytes for v in model.parameters_.values())
    state = 12 * (ds.nnz + ds.n_trust) + 8 * 2 * (ds.n_users + 1) + 2 * params
    assert peak <= state * 1.1 + 256 * 1024, (peak, state)


# -- chunked maps give the same numbers ------------------------------------------------------------------------
def test_chunked_maps_equal_the_whole_array_maps(monkeypatch):
    rng = np.random.default_rng(0)
    values = (rng.integers(1, 11, size=1001) / 2).astype(np.float32)
    expected_unit = _social.unit_values(values, (0.5, 5.0))
    expected_w = np.log2(1.0 + values.astype(np.float64) / (math.fsum(values.tolist()) / len(values)))
    monkeypatch.setattr(_arrays, "ENTRIES_PER_CHUNK", 7)
    records = np.zeros(len(values), dtype=[("user", "<i4"), ("item", "<i4"), ("value", "<f4")])
    records["value"] = values
    _social.unit_values_in_place(records["value"], (0.5, 5.0))
    np.testing.assert_array_equal(records["value"], expected_unit)
    assert _confidence.log_scale(values, None) == math.fsum(values.tolist()) / len(values)
    np.testing.assert_array_equal(_confidence.weights(values, "log", None), expected_w.astype(np.float32))


def test_sbprs_social_items_by_runs_of_trusters_equal_one_product(data, monkeypatch):
    r, f = bpr.binary(data.ratings), bpr.binary(data.trust)
    s = (f @ r).tocsr()
    s = (s - s.multiply(r)).tocsr()
    s.eliminate_zeros()
    s.sort_indices()
    for limit in (1 << 22, 64, 1):
        monkeypatch.setattr(bpr, "SOCIAL_PAIRS_PER_RUN", limit)
        got = bpr.social_matrix(data.ratings, data.trust)
        np.testing.assert_array_equal(got.indptr, s.indptr)
        np.testing.assert_array_equal(got.indices, s.indices)
        np.testing.assert_array_equal(got.data, np.rint(s.data).astype(np.int32))


# -- memory-mapped input ---------------------------------------------------------------------------------------
def _save_csr(m, folder, prefix):
    for name in ("data", "indices", "indptr"):
        np.save(folder / f"{prefix}_{name}.npy", getattr(m, name))


def _load_csr(folder, prefix, shape):
    arrays = [np.load(folder / f"{prefix}_{name}.npy", mmap_mode="r") for name in ("data", "indices", "indptr")]
    return sp.csr_matrix(tuple(arrays), shape=shape), arrays


@pytest.fixture(scope="module")
def mapped(data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("npy")
    _save_csr(data.ratings, folder, "ratings")
    _save_csr(data.trust, folder, "trust")
    ratings, r_arrays = _load_csr(folder, "ratings", data.ratings.shape)
    trust, t_arrays = _load_csr(folder, "trust", data.trust.shape)
    ds = sr.Dataset.from_sparse(ratings, trust=trust, rating_scale=data.rating_scale)
    return ds, r_arrays, t_arrays


def test_a_dataset_over_memory_mapped_npy_files_is_not_a_copy(data, mapped):
    ds, r_arrays, t_arrays = mapped
    assert np.shares_memory(ds.ratings.data, r_arrays[0]) and np.shares_memory(ds.ratings.indices, r_arrays[1])
    assert np.shares_memory(ds.trust.data, t_arrays[0]) and np.shares_memory(ds.trust.indices, t_arrays[1])
    assert (ds.ratings != data.ratings).nnz == 0 and (ds.trust != data.trust).nnz == 0
    assert ds.rating_scale == data.rating_scale and ds.ratings.dtype == np.float32


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_memory_mapped_data_trains_the_same_model(data, mapped, cls):
    a = cls(epochs=2, seed=3).fit(data)
    b = cls(epochs=2, seed=3).fit(mapped[0])
    assert a.parameters_.keys() == b.parameters_.keys()
    for k in a.parameters_:
        np.testing.assert_array_equal(a.parameters_[k], b.parameters_[k], err_msg=k)


def test_writeable_or_unclean_input_is_still_copied_and_cleaned(data, tmp_path):
    ds = sr.Dataset.from_sparse(data.ratings, trust=data.trust)  # writeable arrays: copies, as documented
    assert not np.shares_memory(ds.ratings.data, data.ratings.data)
    assert not np.shares_memory(ds.trust.data, data.trust.data)
    # read-only but not canonical (a duplicate entry) or with a self-loop: copied, summed, cleaned
    data_ro = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    indices = np.array([1, 1, 0], dtype=np.int32)
    for a in (data_ro, indices):
        a.flags.writeable = False
    ratings = sp.csr_matrix((data_ro, indices, np.array([0, 2, 3])), shape=(2, 2))
    loops = sp.csr_matrix((data_ro[:2], np.array([0, 0], dtype=np.int32), np.array([0, 1, 2])), shape=(2, 2))
    loops.data.flags.writeable = False
    loops.indices.flags.writeable = False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = sr.Dataset.from_sparse(ratings, trust=loops)
    assert ds.ratings.toarray().tolist() == [[0.0, 3.0], [3.0, 0.0]]
    assert ds.trust.toarray().tolist() == [[0.0, 0.0], [2.0, 0.0]]
    assert any("self-loop" in str(w.message) for w in caught)


@pytest.mark.parametrize("read_only", [True, False])
def test_out_of_range_indices_are_refused(read_only):
    bad = np.array([0, 5], dtype=np.int32)  # column 5 of a 2-column matrix: scipy builds it without a word
    values = np.ones(2, dtype=np.float32)
    for a in (bad, values):
        a.flags.writeable = not read_only
    for fmt in (sp.csr_matrix, sp.csc_matrix):
        with pytest.raises(ValueError, match="indices"):
            sr.Dataset.from_sparse(fmt((values, bad, np.array([0, 1, 2])), shape=(2, 2)))


def test_bad_memory_mapped_input_is_refused():
    nan = np.array([np.nan, 1.0], dtype=np.float32)
    nan.flags.writeable = False
    ok = np.array([0, 1], dtype=np.int32)
    ok.flags.writeable = False
    with pytest.raises(ValueError, match="nan"):
        sr.Dataset.from_sparse(sp.csr_matrix((nan, ok, np.array([0, 1, 2])), shape=(2, 2)))
