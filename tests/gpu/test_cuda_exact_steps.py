"""Exact device tests of the SGD kernels (issue 25, item 3): with at most 32 records (or users, or edges) in every
pass, one warp does every update of a pass, in the epoch's chunk order, so the device's epoch must equal the host
executor's replay of the same epoch (``settings["executor"] = "host"``: the same binding, pass list and step
templates, run serially on host copies) to float32 rounding -- the only difference is the order of the warp's
sums. The models' own fits produce the epoch dicts: every ``device.run_epoch`` call is intercepted, replayed on
host copies first, then run on the device, and the two results compared epoch by epoch (each replay starts from
the device's current state, so differences do not compound).

BPR/SBPR draw their samples warp by warp (sample s on warp s mod warps), so only a pool of one sample a epoch is
one warp's work: those cases call the raw epoch binding with such a pool.

Tolerance: parameters rtol 1e-4 / atol 1e-6 (float32, a few updates an epoch), the loss rel 1e-5; float16 rows
(stochastic rounding decided on values that may differ in their last float32 bit) within 2 half ulps."""
from __future__ import annotations

import numpy as np
import pytest

import socialrec as sr
from socialrec import _backend
from cuda_marks import requires_cuda
from device_structures import cuda_models
from fake_cupy import wrap
from socialrec.models import device

pytestmark = requires_cuda

RATING = cuda_models("rating")
VARIANTS = {"SoReg-SR1": ("SoReg", {"regularizer": "SR1", "similarity": None})}


@pytest.fixture(scope="module")
def tiny():
    """About 24 ratings and 16 trust links: every pass of every model has at most 32 entries."""
    ds = sr.datasets.synthetic(n_users=8, n_items=6, density=0.5, trust_per_user=2, n_communities=2, seed=4)
    assert ds.nnz <= 32 and ds.n_trust <= 32
    return ds


def host_copy(cp, value):
    if isinstance(value, dict):
        return {k: host_copy(cp, v) for k, v in value.items()}
    if isinstance(value, cp.ndarray):
        return wrap(np.ascontiguousarray(cp.asnumpy(value)))
    return value


def compare(cp, device_arrays, host_arrays):
    for key, value in host_arrays.items():
        if isinstance(value, dict) or key == "loss" or not (key.endswith("_factors") or key.endswith("_bias")):
            continue
        got = cp.asnumpy(device_arrays[key]).astype(np.float64)
        want = np.asarray(value, dtype=np.float64)
        if value.dtype == np.float16:
            ulp = np.spacing(np.abs(want).astype(np.float16)).astype(np.float64)
            assert (np.abs(got - want) <= 2 * ulp + 1e-6).all(), key
        else:
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6, err_msg=key)


@pytest.fixture
def exact(cp, monkeypatch):
    """Replaces device.run_epoch by: host replay on copies, device epoch, comparison; counts the epochs."""
    real = device.run_epoch
    seen = []

    def checked(kernel, arrays, hyper, settings):
        host_arrays = host_copy(cp, arrays)
        host_loss = getattr(_backend.cuda_module(), kernel)(host_arrays, hyper, {**settings, "executor": "host"})
        loss = real(kernel, arrays, hyper, settings)
        compare(cp, arrays, host_arrays)
        assert float(loss) == pytest.approx(host_loss, rel=1e-5), kernel
        seen.append(kernel)
        return loss

    monkeypatch.setattr(device, "run_epoch", checked)
    return seen


@pytest.mark.parametrize("name", list(RATING) + list(VARIANTS))
@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("factors", [8, 64])
def test_one_warp_epochs_equal_the_host_replay(exact, tiny, name, dtype, factors):
    base, extra = VARIANTS.get(name, (name, {}))
    cls = RATING[base]
    cls(device="cuda", dtype=dtype, factors=factors, epochs=3, seed=0, **extra).fit(tiny)
    assert len(exact) == 3


@pytest.mark.parametrize("social", [False, True])
def test_one_sample_ranking_epochs_equal_the_host_replay(cp, social):
    """A pool of one positive pair: one sample an epoch, on one warp."""
    rng = np.random.default_rng(0)
    k = 32
    arrays = {"user_factors": (0.3 * rng.standard_normal((3, k))).astype(np.float32),
              "item_factors": (0.3 * rng.standard_normal((6, k))).astype(np.float32),
              "item_bias": (0.1 * rng.standard_normal(6)).astype(np.float32),
              "indptr": np.array([0, 2, 3, 4], np.int64), "indices": np.array([0, 1, 2, 3], np.int32),
              "pool_users": np.array([0], np.int32), "pool_items": np.array([1], np.int32),
              "loss": np.zeros(1, np.float64)}
    kernel = "bpr_epoch"
    hyper = {"factors": k, "learning_rate": 0.1, "regularization": 0.01, "bias_regularization": 0.01}
    if social:
        kernel = "sbpr_epoch"
        arrays.update(social_indptr=np.array([0, 1, 1, 1], np.int64), social_items=np.array([4], np.int32),
                      social_counts=np.array([2], np.int32))
        hyper["social_weight"] = 0.7
    mod = _backend.cuda_module()
    on_device = {key: cp.asarray(value) for key, value in arrays.items()}
    for epoch in range(5):
        on_host = {key: wrap(cp.asnumpy(value)) for key, value in on_device.items()}
        host_loss = getattr(mod, kernel)(on_host, hyper, {"seed": 1, "epoch": epoch, "executor": "host"})
        loss = getattr(mod, kernel)(on_device, hyper, {"seed": 1, "epoch": epoch},
                                    cp.cuda.get_current_stream().ptr)
        compare(cp, on_device, on_host)
        assert loss == pytest.approx(host_loss, rel=1e-5)


def test_a_saturated_pool_user_is_refused_on_the_device(cp):
    """Issue 25, item 8 on the device: the pool check runs before any sample, and nothing changes."""

    arrays = {"user_factors": cp.ones((2, 4), cp.float32), "item_factors": cp.ones((2, 4), cp.float32),
              "item_bias": cp.zeros(2, cp.float32), "indptr": cp.asarray([0, 2, 3], cp.int64),
              "indices": cp.asarray([0, 1, 0], cp.int32), "pool_users": cp.asarray([1, 0], cp.int32),
              "pool_items": cp.asarray([0, 1], cp.int32), "loss": cp.zeros(1, cp.float64)}
    with pytest.raises(ValueError, match="consumed every one of the 2 items"):
        _backend.cuda_module().bpr_epoch(arrays, {"factors": 4, "learning_rate": 0.1, "regularization": 0.01,
                                                  "bias_regularization": 0.01}, {"seed": 0, "epoch": 0},
                                         cp.cuda.get_current_stream().ptr)
    assert float(arrays["user_factors"].sum()) == 8.0


def test_interleaving_warps_keep_every_rste_update(cp):
    """Issue 25, item 5 on the device: 4096 users, each with a rating of its own item, all trust user 0 with a
    tiny weight, and many warps step them at once; each adds its delayed step to U_0 atomically, so U_0's change
    is the sum of the trusters' steps, as in the host replay. (The weight is tiny so that a truster's own step
    hardly depends on U_0, which the others are moving: the sum is the same in any order to float rounding.) With
    the old read-modify-write of U_0, concurrent steps overwrote each other and most were lost."""

    rng = np.random.default_rng(1)
    n, k = 4096, 32
    arrays = {"users": np.arange(1, n + 1, dtype=np.int32),
              "offsets": np.concatenate([[0, 0], np.arange(1, n + 1)]).astype(np.int64),
              "items": np.arange(n, dtype=np.int32), "values": rng.random(n).astype(np.float32),
              "trust_offsets": np.concatenate([[0, 0], np.arange(1, n + 1)]).astype(np.int64),
              "trustees": np.zeros(n, np.int32), "trust_weights": np.full(n, 1e-3, np.float32),
              "user_factors": (0.3 * rng.standard_normal((n + 1, k))).astype(np.float32),
              "item_factors": (0.3 * rng.standard_normal((n, k))).astype(np.float32),
              "loss": np.zeros(1, np.float64)}
    hyper = {"factors": k, "global_bias": 0.0, "alpha": 0.5, "learning_rate": 0.5, "regularization": 0.01,
             "biased": False}
    mod = _backend.cuda_module()
    on_host = {key: wrap(value.copy()) for key, value in arrays.items()}
    mod.rste_epoch(on_host, hyper, {"seed": 0, "epoch": 0, "executor": "host"})
    on_device = {key: cp.asarray(value) for key, value in arrays.items()}
    mod.rste_epoch(on_device, hyper, {"seed": 0, "epoch": 0}, cp.cuda.get_current_stream().ptr)
    start = arrays["user_factors"][0].astype(np.float64)
    want = np.asarray(on_host["user_factors"])[0] - start
    got = cp.asnumpy(on_device["user_factors"])[0] - start
    assert np.abs(want).max() > 1e-3  # the trusters' steps add up to a visible change
    # 4096 float32 additions onto a row of ~0.3 in another order: rounding differences of ~3e-8 each, ~2e-6 in all
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(cp.asnumpy(on_device["user_factors"])[1:], np.asarray(on_host["user_factors"])[1:],
                               rtol=1e-4, atol=1e-6)
