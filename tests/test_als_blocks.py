"""The blocked ALS / SocialALS of socialrec.distributed without Dask: its tasks run in this process through an
in-process submitter, and the result must equal the single-machine fit bit for bit (the C++ block solve and
the partial Gramians reproduce the half-step exactly); the block kernels reject malformed blocks."""
import importlib.util

import numpy as np
import pytest

import socialrec as sr
from socialrec import _core
from socialrec.distributed import _als, _blocks, _checkpoint, _dsgd


# The engines ask dask.distributed whether they run inside a worker (_dask.worker_threads), so the fits need the
# extra even in process; the block kernels' tests below do not.
needs_dask = pytest.mark.skipif(importlib.util.find_spec("distributed") is None,
                                reason='the blocked engines import dask.distributed: pip install "socialrec[dask]"')


class Done:
    """A finished 'future'."""

    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


def _resolve(x):
    if isinstance(x, Done):
        return x.value
    if isinstance(x, list):
        return [_resolve(v) for v in x]
    return x


class InProcess:
    """Submitter's interface, running every task at once here."""

    def __init__(self):
        self.client = self
        self.calls = 0

    def __call__(self, fn, *args, block=None):
        self.calls += 1
        return Done(fn(*[_resolve(a) for a in args]))

    def data(self, value, block=None):
        return Done(value)

    def gather(self, futures):
        return [f.value for f in futures]


def _fit_in_process(model, data, blocks, engine=_als.BlockedALS):
    eng = engine(model, InProcess(), blocks, False, _checkpoint.Checkpoints(None, 1))
    model._prepare_on_device, model._run_epoch_on_device = eng.prepare, eng.run_epoch
    try:
        return model.fit(data)
    finally:
        del model._prepare_on_device, model._run_epoch_on_device


@pytest.fixture(scope="module")
def data():
    return sr.datasets.synthetic(n_users=1300, n_items=700, density=0.02, seed=3)


@needs_dask
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


@needs_dask
def test_dsgd_one_block_equals_single_machine(data):
    single = sr.BiasedMF(factors=8, epochs=3, seed=2).fit(data)
    blocked = _fit_in_process(sr.BiasedMF(factors=8, epochs=3, seed=2), data, 1, engine=_dsgd.DSGD)
    for key, value in single.parameters_.items():
        np.testing.assert_array_equal(blocked.parameters_[key], value, err_msg=key)


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
