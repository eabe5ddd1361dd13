"""The blocked engines of socialrec.distributed without Dask: their tasks run in this process through an
in-process submitter. Blocked ALS / SocialALS must equal the single-machine fit bit for bit (the C++ block solve
and the partial Gramians reproduce the half-step exactly), DSGD (BiasedMF, SocialMF) with one block too and
within 1% RMSE with more; the block kernels reject malformed blocks. None of this needs Dask installed."""
import builtins
import sys

import numpy as np
import pytest

import socialrec as sr
from socialrec import _core
from socialrec.distributed import _als, _blocks, _checkpoint, _dask, _dsgd, _social_dsgd


def _fit_in_process(model, data, blocks, engine=_als.BlockedALS):
    eng = engine(model, _dask.InProcess(), blocks, False, _checkpoint.Checkpoints(None, 1))
    model._prepare_on_device, model._run_epoch_on_device = eng.prepare, eng.run_epoch
    try:
        return model.fit(data)
    finally:
        del model._prepare_on_device, model._run_epoch_on_device


@pytest.fixture(scope="module")
def data():
    return sr.datasets.synthetic(n_users=1300, n_items=700, density=0.02, seed=3)


@pytest.mark.parametrize("blocks", [1, 2, 4, 6, 100])
@pytest.mark.parametrize("model_class, extra", [(sr.ALS, {}), (sr.SocialALS, {"social_regularization": 3.0}),
                                                (sr.SocialALS, {"social_regularization": 0.0})])
def test_blocked_fit_equals_single_machine(data, blocks, model_class, extra):
    params = dict(factors=10, epochs=2, seed=0, **extra)
    single = model_class(**params).fit(data)
    blocked = _fit_in_process(model_class(**params), data, blocks)
    for key, value in single.parameters_.items():
        np.testing.assert_array_equal(blocked.parameters_[key], value, err_msg=key)
    assert blocked.history[-1]["loss"] == pytest.approx(single.history[-1]["loss"], rel=1e-9)


def test_dsgd_one_block_equals_single_machine(data):
    single = sr.BiasedMF(factors=8, epochs=3, seed=2).fit(data)
    blocked = _fit_in_process(sr.BiasedMF(factors=8, epochs=3, seed=2), data, 1, engine=_dsgd.DSGD)
    for key, value in single.parameters_.items():
        np.testing.assert_array_equal(blocked.parameters_[key], value, err_msg=key)


def test_social_dsgd_one_block_equals_single_machine(data):
    params = dict(factors=8, epochs=3, seed=2)
    single = sr.SocialMF(**params).fit(data)
    blocked = _fit_in_process(sr.SocialMF(**params), data, 1, engine=_social_dsgd.SocialDSGD)
    for key, value in single.parameters_.items():
        np.testing.assert_array_equal(blocked.parameters_[key], value, err_msg=key)
    assert [h["loss"] for h in blocked.history] == [h["loss"] for h in single.history]


@pytest.mark.parametrize("d", [2, 4])
def test_social_dsgd_rmse_within_one_percent(data, d):
    train, test = sr.split.train_test_split(data, test_size=0.2, seed=0)
    params = dict(epochs=20, social_regularization=1.0, seed=0)
    single = sr.SocialMF(**params).fit(train)
    blocked = _fit_in_process(sr.SocialMF(**params), train, d, engine=_social_dsgd.SocialDSGD)
    a, b = sr.metrics.rmse(single, test), sr.metrics.rmse(blocked, test)
    assert abs(b - a) <= 0.01 * a, (a, b)
    assert not np.array_equal(blocked.parameters_["user_factors"], single.parameters_["user_factors"])


@pytest.mark.parametrize("d", [2, 4])
def test_social_dsgd_takes_every_trust_step(data, d):
    # One epoch with a small step: the blocked epoch differs from the single-machine one only by the order of
    # the steps and the one-sub-epoch-old foreign trustees (second order in the step), so far less than the
    # epoch moved the factors; dropping the steps on foreign trustees (the deltas) would leave a first-order gap.
    params = dict(factors=8, epochs=1, learning_rate=1e-3, social_regularization=10.0, seed=0)
    start = sr.SocialMF(**{**params, "learning_rate": 1e-12}).fit(data).parameters_["user_factors"]
    single = sr.SocialMF(**params).fit(data).parameters_["user_factors"]
    blocked = _fit_in_process(sr.SocialMF(**params), data, d, engine=_social_dsgd.SocialDSGD)
    gap = np.abs(blocked.parameters_["user_factors"] - single).max()
    assert gap < 0.02 * np.abs(single - start).max(), (gap, np.abs(single - start).max())


def test_social_block_local_ids():
    # 6 users in blocks [0, 3) and [3, 6); edges 0->1, 0->4, 2->5, 2->4, 4->0
    trust = sr.Dataset.from_arrays([0], [0], [1.0], [0, 0, 2, 2, 4], [1, 4, 5, 4, 0]).trust
    offsets, trustees, weights = sr.models.social_mf.normalised_trust(trust)
    arrays, needs = _social_dsgd.social_block((offsets, trustees, weights), (0, 3), np.array([0, 3, 6]))
    assert list(arrays["trusters"]) == [0, 2]
    assert list(arrays["trust_offsets"]) == [0, 2, 2, 4, 4, 4]  # 3 own rows, then 4 and 5 (foreign, no row)
    assert list(arrays["trustees"]) == [1, 3, 3, 4]  # 4 -> local 3, 5 -> local 4
    assert {c: list(v) for c, v in needs.items()} == {1: [1, 2]}
    arrays, needs = _social_dsgd.social_block((offsets, trustees, weights), (3, 6), np.array([0, 3, 6]))
    assert list(arrays["trusters"]) == [1] and list(arrays["trustees"]) == [3]
    assert {c: list(v) for c, v in needs.items()} == {0: [0]}


def test_in_process_fit_needs_no_dask(data, monkeypatch):
    real = builtins.__import__

    def no_dask(name, *args, **kwargs):
        if name.split(".")[0] in ("dask", "distributed"):
            raise ImportError("no dask here")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    for name in [m for m in sys.modules if m.split(".")[0] in ("dask", "distributed")]:
        monkeypatch.delitem(sys.modules, name)
    assert _dask.worker_threads() == 0
    single = sr.SocialALS(factors=6, epochs=1, seed=0).fit(data)
    blocked = _fit_in_process(sr.SocialALS(factors=6, epochs=1, seed=0), data, 3)
    np.testing.assert_array_equal(blocked.parameters_["user_factors"], single.parameters_["user_factors"])
    _fit_in_process(sr.SocialMF(factors=6, epochs=1, seed=0), data, 2, engine=_social_dsgd.SocialDSGD)


def test_block_bounds_follow_gramian_chunks():
    chunks = _core.gramian_chunk_bounds(1300)
    assert list(chunks) == [0, 216, 433, 650, 866, 1083, 1300]  # min(64, ceil(n/256)) chunks, n*c // chunks
    assert list(_blocks.block_bounds(chunks, 4)) == [0, 216, 650, 866, 1300]
    assert list(_blocks.block_bounds(chunks, 100)) == list(chunks)
    assert list(_core.gramian_chunk_bounds(0)) == [0, 0]


def _block_arrays(k=4, rows=3, fixed=5):
    rng = np.random.default_rng(0)
    return ({"rows_indptr": np.array([0, 2, 3, 5], np.int64), "rows_indices": np.array([0, 4, 1, 2, 3], np.int32),
             "rows_values": np.ones(5, np.float32), "block_factors": rng.random((rows, k), dtype=np.float32),
             "fixed_factors": rng.random((fixed, k), dtype=np.float32), "gramian": np.eye(k, dtype=np.float32)},
            {"factors": k, "alpha": 1.0, "regularization": 0.1, "cg_steps": 3, "cholesky": False, "want_loss": True,
             "social_regularization": 0.0})


def test_block_kernels_reject_malformed_blocks():
    arrays, hyper = _block_arrays()
    settings = sr._engine.pass_settings(0, 0, 1)
    _core.als_block_solve(dict(arrays), hyper, settings)  # well formed
    bad = {"rows_indices": np.array([0, 4, 1, 2, 5], np.int32),  # 5 is past the 5 fixed rows
           "block_factors": np.zeros((2, 4), np.float32), "gramian": np.eye(3, dtype=np.float32),
           "fixed_factors": np.zeros(19, np.float32), "rows_indptr": np.array([0, 2, 1, 5], np.int64)}
    for key, value in bad.items():
        with pytest.raises((ValueError, IndexError, TypeError)):
            _core.als_block_solve({**arrays, key: value}, hyper, settings)
    with pytest.raises(KeyError, match="neighbours"):
        _core.als_block_solve(arrays, {**hyper, "social_regularization": 1.0}, settings)
    X = np.ones((300, 4), np.float32)
    with pytest.raises(ValueError, match="chunk boundaries"):  # 1300 rows: chunks start at 0, 216, ...
        _core.als_gramian_partials({"block_factors": X, "partials": np.zeros((1, 4, 4), np.float32)},
                                   {"factors": 4, "first": 0, "total": 1300}, settings)
    with pytest.raises(ValueError, match="partials"):
        _core.als_gramian_partials({"block_factors": X[:216], "partials": np.zeros((2, 4, 4), np.float32)},
                                   {"factors": 4, "first": 0, "total": 1300}, settings)
