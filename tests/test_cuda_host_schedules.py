"""Issue 25 on the host executor (no GPU needed): the raw CUDA epoch bindings with ``settings["executor"]`` set to
``"host"`` (one warp visiting the epoch's chunk order) or ``"host_interleaved"`` (two racing warps: the second
entry of each pair runs whole between the first one's loads and its first write; cuda/sgd.cuh run_on_host).

- item 5, no lost update: RSTE's user row and the mean-pull pass are written as increments, so an update another
  warp makes to a row while this warp holds it survives. Two users whose work is independent except for one row
  both write (each reads the other's rows only before either writes) must give exactly the sum of their changes.
- item 6, float16 stochastic rounding: steps far below half an ulp of float16 still move the rows, as much as in
  float32 on average (round-to-nearest kept every row unchanged).
- item 8, no hang: a positive pool whose user has consumed every item is refused with a ValueError, and the sampler
  returns -1 for such a user instead of looping; a user with one free item among 100,000 still gets it.
"""
from __future__ import annotations

import numpy as np
import pytest

from socialrec import _backend
from fake_cupy import wrap

MOD = _backend.cuda_module()
pytestmark = pytest.mark.skipif(MOD is None, reason="socialrec was built without CUDA (the host executor lives "
                                                    "in socialrec._cuda)")
K = 8


def run(epoch, arrays, hyper, executor, epoch_no=0):
    """One raw epoch on copies of `arrays` with the given executor; returns (the arrays after it, the loss)."""
    arrays = {key: ({k: wrap(np.array(v)) for k, v in value.items()} if isinstance(value, dict)
                    else wrap(np.array(value))) for key, value in arrays.items()}
    loss = getattr(MOD, epoch)(arrays, hyper, {"seed": 3, "epoch": epoch_no, "executor": executor})
    return arrays, loss


def factors(n, rng, dtype=np.float32):
    return (0.3 * rng.standard_normal((n, K))).astype(dtype)


def additive(epoch, arrays, hyper, owners, keys):
    """(the interleaved run, the start plus each owner's change run alone) for the matrices `keys`."""
    together, _ = run(epoch, arrays, hyper, "host_interleaved")
    expected = {key: np.array(arrays[key], dtype=np.float64) for key in keys}
    for users in owners:
        alone, _ = run(epoch, users(arrays), hyper, "host")
        for key in keys:
            expected[key] += np.asarray(alone[key], np.float64) - np.asarray(arrays[key], np.float64)
    return together, expected


def rste_arrays(rng, users):
    """Users 0 (A, no trustees) and 1 (B, trusting A), ratings on items 0 and 1; C (2) unused."""
    return {"users": np.array(users, np.int32), "offsets": np.array([0, 1, 2, 2], np.int64),
            "items": np.array([0, 1], np.int32), "values": np.array([0.9, 0.2], np.float32),
            "trust_offsets": np.array([0, 0, 1, 1], np.int64), "trustees": np.array([0], np.int32),
            "trust_weights": np.array([1.0], np.float32), "user_factors": factors(3, rng),
            "item_factors": factors(2, rng), "loss": np.zeros(1, np.float64)}


RSTE_HYPER = {"factors": K, "global_bias": 0.1, "alpha": 0.4, "learning_rate": 0.5, "regularization": 0.01,
              "biased": False}


def test_rste_keeps_the_updates_other_warps_make_to_a_user_row():
    arrays = rste_arrays(np.random.default_rng(0), [0, 1])
    only = [lambda a, u=u: {**a, "users": np.array([u], np.int32)} for u in (0, 1)]
    together, expected = additive("rste_epoch", arrays, RSTE_HYPER, only, ["user_factors", "item_factors"])
    # B's delayed step moved U_A while A held it; A's own change is added to it, not written over it.
    assert not np.allclose(expected["user_factors"][0], arrays["user_factors"][0], atol=1e-3)
    for key in ("user_factors", "item_factors"):
        np.testing.assert_allclose(together[key], expected[key], rtol=0, atol=2e-6, err_msg=key)


def mean_pull_arrays(rng, users, dtype=np.float32, n_users=3):
    """SocialMF's user pass alone (no ratings): A (0) trusts C (2), B (1) trusts A; so B pulls U_A while A
    holds it."""
    offsets = np.zeros(n_users + 1, np.int64)
    offsets[1:3] = [1, 2]
    offsets[3:] = 2
    return {"ratings": {"a": np.zeros(0, np.int32), "b": np.zeros(0, np.int32), "values": np.zeros(0, np.float32)},
            "trust": {"users": np.array(users, np.int32), "offsets": offsets, "neighbours": np.array([2, 0], np.int32),
                      "weights": np.ones(2, np.float32)},
            "user_factors": factors(n_users, rng, dtype), "item_factors": factors(1, rng, dtype),
            "loss": np.zeros(2, np.float64)}


MEAN_PULL_HYPER = {"factors": K, "learning_rate": 0.2, "global_bias": 0.0, "regularization": 0.01,
                   "social_regularization": 1.0, "biased": False}


def test_mean_pull_keeps_the_updates_other_warps_make_to_a_user_row():
    arrays = mean_pull_arrays(np.random.default_rng(1), [0, 1])
    only = [lambda a, u=u: {**a, "trust": {**a["trust"], "users": np.array([u], np.int32)}} for u in (0, 1)]
    together, expected = additive("social_mf_epoch", arrays, MEAN_PULL_HYPER, only, ["user_factors"])
    assert not np.allclose(expected["user_factors"][0], arrays["user_factors"][0], atol=1e-3)
    np.testing.assert_allclose(together["user_factors"], expected["user_factors"], rtol=0, atol=2e-6)


def test_an_interleaved_schedule_changes_nothing_without_a_shared_row():
    """A (0) trusts C (2), B (1) trusts D (3): no row in common, so the racing schedule gives the serial result
    (the schedule itself changes nothing but the order)."""
    arrays = mean_pull_arrays(np.random.default_rng(2), [0, 1], n_users=4)
    arrays["trust"]["offsets"] = np.array([0, 1, 2, 2, 2], np.int64)
    arrays["trust"]["neighbours"] = np.array([2, 3], np.int32)
    serial, loss_serial = run("social_mf_epoch", arrays, MEAN_PULL_HYPER, "host")
    racing, loss_racing = run("social_mf_epoch", arrays, MEAN_PULL_HYPER, "host_interleaved")
    np.testing.assert_array_equal(racing["user_factors"], serial["user_factors"])
    assert loss_racing == loss_serial
    assert not np.array_equal(serial["user_factors"], arrays["user_factors"])


def test_float16_rows_take_steps_below_half_an_ulp():
    """Mean-pull steps of about 2e-3 |D| ~ 2e-4 on rows in [1, 1.25] (a float16 ulp there is 2^-10 ~ 1e-3, so
    round-to-nearest drops every step: no row moved); with stochastic rounding the rows drift as in float32 on
    average. (A NumPy simulation of this ring gave float32 5.2e-3, stochastic 5.3e-3, nearest 0.)"""
    rng = np.random.default_rng(4)
    n = 64
    start = (1.0 + 0.25 * rng.random((n, K))).astype(np.float16).astype(np.float32)
    offsets = np.arange(n + 1, dtype=np.int64)
    trust = {"users": np.arange(n, dtype=np.int32), "offsets": offsets,
             "neighbours": ((np.arange(n) + 1) % n).astype(np.int32), "weights": np.ones(n, np.float32)}
    hyper = {**MEAN_PULL_HYPER, "learning_rate": 2e-3 / 0.25, "social_regularization": 0.25}
    moved = {}
    for dtype in (np.float32, np.float16):
        arrays = {"ratings": {"a": np.zeros(0, np.int32), "b": np.zeros(0, np.int32),
                              "values": np.zeros(0, np.float32)},
                  "trust": trust, "user_factors": start.astype(dtype), "item_factors": np.zeros((1, K), dtype),
                  "loss": np.zeros(2, np.float64)}
        for epoch in range(20):
            arrays, _ = run("social_mf_epoch", arrays, hyper, "host", epoch)
            arrays = {key: (value if isinstance(value, dict) else np.asarray(value)) for key, value in arrays.items()}
        moved[dtype] = np.asarray(arrays["user_factors"], np.float64) - start
    step32, step16 = np.abs(moved[np.float32]).mean(), np.abs(moved[np.float16]).mean()
    assert step32 > 2e-3  # the float32 rows moved by a few ulps of float16 in 20 epochs
    assert np.count_nonzero(moved[np.float16]) > 0.5 * moved[np.float16].size
    assert step16 == pytest.approx(step32, rel=0.15), (step16, step32)
    assert np.abs(moved[np.float16] - moved[np.float32]).mean() < 0.5 * step32


RANKING_HYPER = {"factors": 4, "learning_rate": 0.1, "regularization": 0.01, "bias_regularization": 0.01}


def test_a_pool_user_who_consumed_every_item_is_refused():
    """User 0 has consumed both items: no negative exists. The raw epoch raises instead of looping for ever, and
    nothing is stepped."""
    rng = np.random.default_rng(5)
    arrays = {"user_factors": factors(2, rng)[:, :4].copy(), "item_factors": factors(2, rng)[:, :4].copy(),
              "item_bias": np.zeros(2, np.float32), "indptr": np.array([0, 2, 3], np.int64),
              "indices": np.array([0, 1, 0], np.int32), "pool_users": np.array([1, 0], np.int32),
              "pool_items": np.array([0, 1], np.int32), "loss": np.zeros(1, np.float64)}
    wrapped = {key: wrap(value.copy()) for key, value in arrays.items()}
    with pytest.raises(ValueError, match=r"consumed every one of the 2 items \(user 0\)"):
        MOD.bpr_epoch(wrapped, RANKING_HYPER, {"seed": 0, "epoch": 0, "executor": "host"})
    for key in ("user_factors", "item_factors", "item_bias"):
        np.testing.assert_array_equal(wrapped[key], arrays[key])
    # Without that user the same pool trains.
    arrays["pool_users"][:] = 1
    arrays["pool_items"][:] = 0
    _, loss = run("bpr_epoch", arrays, RANKING_HYPER, "host")
    assert np.isfinite(loss) and loss > 0


def test_the_sampler_returns_minus_one_for_a_user_without_free_items():
    indptr = np.array([0, 3], np.int64)
    indices = np.array([0, 1, 2], np.int32)
    got = MOD.host_draw_samples(indptr, indices, np.zeros(1, np.int32), np.zeros(1, np.int32), 3, None, None,
                                None, 7, 0, 5)
    assert (got[3] == -1).all()


def test_the_sampler_finds_the_last_free_item():
    """One free item among 100,000: past the rejection cap the sampler picks it by rank (uniform all the same)."""
    n_items, free = 100_000, 73_411
    consumed = np.setdiff1d(np.arange(n_items), [free]).astype(np.int32)
    indptr = np.array([0, len(consumed)], np.int64)
    got = MOD.host_draw_samples(indptr, consumed, np.zeros(1, np.int32), np.zeros(1, np.int32), n_items, None,
                                None, None, 11, 0, 4)
    assert (got[3] == free).all()


# ------------------------------------------------------------------------------------------------------------
# item 3 without a GPU: the step templates on a full warp of 32 lanes (settings["executor"] = "host_warp")
# ------------------------------------------------------------------------------------------------------------
class WarpCheckKernels:
    """socialrec._cuda on a fake device (tests/fake_cupy.py) whose every epoch runs twice: on a copy with the
    team of one (executor "host"), and for real on 32 lane threads with the device's row layout and warp
    collectives (executor "host_warp", cuda/host_warp.hpp); the two must agree to float32 rounding (the only
    difference is the order of the sums). A lane indexing the wrong elements, a missing reduction or broadcast,
    or a bias written by every lane fails it."""

    archs, cuda_version, TOPK_MAX_N, SVDPP_MAX_FACTORS = ["fake"], 13000, 2048, 256

    def __init__(self):
        self.epochs = []

    def devices(self):
        return ["fake device (host warp)"]

    def shuffle_keys(self, keys, n, seed, stream):
        import fake_cupy

        fake_cupy.ARRAYS[keys][:] = np.random.default_rng(seed).permutation(n).astype(np.uint64)

    def sample_key(self, seed, epoch):
        return MOD.sample_key(seed, epoch)

    def __getattr__(self, name):
        if not name.endswith("_epoch"):
            raise AttributeError(name)
        real = getattr(MOD, name)

        def epoch(arrays, hyper, settings, stream=0):
            serial = {key: ({k: wrap(np.array(v)) for k, v in value.items()} if isinstance(value, dict)
                            else wrap(np.array(value))) for key, value in arrays.items()}
            want = real(serial, hyper, {**settings, "executor": "host"})
            got = real(arrays, hyper, {**settings, "executor": "host_warp"})
            for key, value in serial.items():
                if key.endswith("_factors") or key.endswith("_bias"):
                    a, b = np.asarray(arrays[key], np.float64), np.asarray(value, np.float64)
                    if value.dtype == np.float16:  # rounding decided on values that may differ in a last bit
                        ulp = np.spacing(np.abs(b).astype(np.float16)).astype(np.float64)
                        assert (np.abs(a - b) <= 2 * ulp + 1e-6).all(), (name, key)
                    else:
                        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6, err_msg=f"{name} {key}")
            assert got == pytest.approx(want, rel=1e-5), name
            self.epochs.append(name)
            return got

        return epoch


@pytest.fixture
def warp_device(monkeypatch):
    import fake_cupy

    kernels = WarpCheckKernels()
    fake_cupy.install(monkeypatch, kernels, kernels.devices())
    yield kernels
    fake_cupy.ARRAYS.clear()


@pytest.fixture(scope="module")
def small():
    import socialrec as sr

    return sr.datasets.synthetic(n_users=40, n_items=30, density=0.12, trust_per_user=3, seed=6)


def _warp_cases():
    import socialrec as sr
    from device_structures import cuda_models

    cases = []
    for name, cls in cuda_models("rating").items():
        for k in (8, 64, 300):
            if cls._cuda_max_factors and k > cls._cuda_max_factors:
                continue
            cases.append(pytest.param(cls, {"factors": k}, id=f"{name}-{k}"))
    cases.append(pytest.param(sr.SoReg, {"factors": 40, "regularizer": "SR1"}, id="SoReg-SR1-40"))
    cases.append(pytest.param(sr.RSTE, {"factors": 37, "dtype": "float16"}, id="RSTE-37-float16"))
    cases.append(pytest.param(sr.SocialMF, {"factors": 64, "dtype": "float16"}, id="SocialMF-64-float16"))
    for name, cls in cuda_models("ranking").items():
        cases.append(pytest.param(cls, {"factors": 33}, id=f"{name}-33"))
    return cases


@pytest.mark.parametrize("cls, params", _warp_cases())
def test_a_full_warp_team_on_the_host_equals_the_team_of_one(warp_device, small, cls, params):
    cls(device="cuda", epochs=2, seed=0, **params).fit(small)
    assert len(warp_device.epochs) == 2
