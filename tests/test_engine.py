"""The training engine: visiting orders, kernel variants, Ctrl-C, divergence, early stopping, callbacks."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import socialrec as sr
from socialrec import _core, _engine
from socialrec.reference import _rng
from socialrec.reference import sgd as ref_sgd

import strategies


def test_splitmix_and_shuffle_match_cpp_spec():
    # Known SplitMix64 outputs for seed 0 (Steele et al.'s reference sequence).
    g = _rng.SplitMix64(0)
    assert [g.next() for _ in range(3)] == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]
    values = list(range(10))
    arr = np.arange(10)
    _rng.shuffle(arr, _rng.SplitMix64(7))
    assert sorted(arr.tolist()) == values and arr.tolist() != values


def test_grid_blocks_do_not_depend_on_threads_and_cover_every_rating():
    ds = sr.datasets.synthetic(n_users=300, n_items=200, seed=1)
    u, i, v = ds.user_item_arrays()
    B = _engine.grid_blocks(ds.n_users, ds.n_items, 8, 4)
    grid = ref_sgd.pack_grid(u, i, v, ds.n_users, ds.n_items, B)
    assert grid["offsets"][-1] == len(u) and np.all(np.diff(grid["offsets"]) >= 0)
    for block in range(B * B):
        rec = grid["records"][grid["offsets"][block]:grid["offsets"][block + 1]]
        assert np.all(rec["user"] * B // ds.n_users == block // B)
        assert np.all(rec["item"] * B // ds.n_items == block % B)
    packed = sorted(zip(grid["records"]["user"].tolist(), grid["records"]["item"].tolist()))
    assert packed == sorted(zip(u.tolist(), i.tolist()))


@given(n_users=st.integers(1, 10**7), n_items=st.integers(1, 10**7), factors=st.integers(0, 300),
       itemsize=st.sampled_from([4, 8]))
def test_grid_block_rule_of_the_reference_is_the_one_the_models_use(n_users, n_items, factors, itemsize):
    assert (ref_sgd.grid_blocks(n_users, n_items, factors, itemsize)
            == _engine.grid_blocks(n_users, n_items, factors, itemsize))


@settings(max_examples=60, deadline=None)
@given(ds=strategies.datasets(max_users=40, max_items=30, max_ratings=300), blocks=st.integers(1, 9),
       factors=st.sampled_from([None, 4]), threads=st.sampled_from([0, 1, 2, 3]))
def test_csr_packing_in_cpp_matches_the_numpy_packing(ds, blocks, factors, threads):
    # The C++ counting sort (pack_grid_csr) must give exactly the records and offsets of the stable argsort, on
    # any number of threads (row blocks are packed in parallel; more blocks than rows leaves some empty).
    if factors is not None:  # the block count the models use
        blocks = _engine.grid_blocks(ds.n_users, ds.n_items, factors, 4)
    u, i, v = ds.user_item_arrays()
    expected = ref_sgd.pack_grid(u, i, v, ds.n_users, ds.n_items, blocks)
    r = ds.ratings
    got = _engine.pack_grid_csr(r.indptr, r.indices, r.data, ds.n_items, blocks, threads)
    assert got["blocks"] == expected["blocks"]
    np.testing.assert_array_equal(got["offsets"], expected["offsets"])
    assert got["records"].tobytes() == expected["records"].tobytes()


@settings(max_examples=40, deadline=None)
@given(ds=strategies.datasets(max_users=30, max_items=20, max_ratings=200))
def test_user_groups_from_csr_match_the_sorting_packer(ds):
    u, i, v = ds.user_item_arrays()
    expected = ref_sgd.pack_user_groups(u, i, v, ds.n_users)
    r = ds.ratings
    got = _engine.pack_user_groups_csr(r.indptr, r.indices, r.data)
    assert got.keys() == expected.keys()
    for key in expected:
        assert got[key].dtype == expected[key].dtype
        assert got[key].tobytes() == expected[key].tobytes(), key


@pytest.mark.parametrize("indptr, indices, values, n_cols, blocks, match", [
    ([0, 2], [0, 5], [1.0, 2.0], 5, 1, r"indices\[1\] = 5 is outside \[0, 5\)"),
    ([0, 2], [0, -1], [1.0, 2.0], 5, 1, "outside"),
    ([0, 3], [0, 1], [1.0, 2.0], 5, 1, "end at the number of indices"),
    ([1, 2], [0, 1], [1.0, 2.0], 5, 1, "start at 0"),
    ([0, 2, 1, 2], [0, 1], [1.0, 2.0], 5, 1, "decreases at row 1"),
    ([0, 2], [0, 1], [1.0], 5, 1, "differ in length"),
    ([0, 2], [0, 1], [1.0, 2.0], 5, 0, "at least 1"),
    ([0, 2], [0, 1], [1.0, 2.0], 5, (1, -1), "threads must be >= 0"),
])
def test_csr_packing_rejects_malformed_input(indptr, indices, values, n_cols, blocks, match):
    blocks, threads = blocks if isinstance(blocks, tuple) else (blocks, 0)
    with pytest.raises(ValueError, match=match):
        _engine.pack_grid_csr(np.array(indptr), np.array(indices, np.int32), np.array(values, np.float32), n_cols,
                              blocks, threads)


def _run_in_subprocess(code, env=None, timeout=120):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout)


@pytest.mark.skipif(len(_core.build_info["simd_supported"]) < 2, reason="this CPU runs only one compiled variant")
def test_kernel_variants_agree(tmp_path):
    code = """
        import os, numpy as np, socialrec as sr
        out = os.environ["VARIANT_OUT"]
        ds = sr.datasets.synthetic(n_users=200, n_items=100, seed=2)
        for dtype in ("float64", "float32"):
            m = sr.BiasedMF(factors=32, epochs=5, dtype=dtype, seed=0).fit(ds)
            np.save(out + "_" + dtype + ".npy", m.parameters_["user_factors"])
        print(sr.build_info()["simd"])
    """
    results = {}
    for variant in _core.build_info["simd_supported"]:  # the compiled variants this CPU can run
        out = str(tmp_path / variant)
        proc = _run_in_subprocess(code, env={"SOCIALREC_SIMD": variant, "VARIANT_OUT": out})
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == variant
        results[variant] = {d: np.load(f"{out}_{d}.npy") for d in ("float64", "float32")}
    base = next(iter(results.values()))
    for other in results.values():
        np.testing.assert_allclose(other["float64"], base["float64"], rtol=0, atol=1e-10)
        np.testing.assert_allclose(other["float32"], base["float32"], rtol=0, atol=1e-4)


def test_ctrl_c_stops_within_a_second_and_keeps_last_finished_epoch(tmp_path):
    flag = tmp_path / "started"
    # The child installs Python's own SIGINT handler: a process started in the background by a
    # non-interactive shell (CI) inherits SIGINT as ignored, and Python keeps an inherited SIG_IGN.
    code = f"""
        import signal, sys, time, numpy as np, socialrec as sr
        signal.signal(signal.SIGINT, signal.default_int_handler)
        ds = sr.datasets.synthetic(n_users=40000, n_items=20000, density=0.002, seed=0)
        model = sr.BiasedMF(factors=128, epochs=10000, num_threads=1)
        def callback(m, record):
            if record["epoch"] == 0:
                open({str(flag)!r}, "w").close()
        try:
            model.fit(ds, callback=callback)
        except KeyboardInterrupt:
            done = len(model.history)
            ok = all(np.isfinite(v).all() for v in model.parameters_.values())
            print("interrupted", done, ok, time.time(), flush=True)
            sys.exit(0)
        print("not interrupted")
    """
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while not flag.exists() and time.time() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert flag.exists(), proc.stderr.read() if proc.poll() is not None else "first epoch never finished"
        time.sleep(0.3)
        sent = time.time()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:  # never leave a 10,000-epoch fit running
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    word, epochs, ok, stopped = out.split()
    assert word == "interrupted" and int(epochs) >= 1 and ok == "True"
    assert float(stopped) - sent < 2.0, "fit did not return within about a second of Ctrl-C"


def test_divergence_raises_naming_the_epoch_and_keeps_finite_parameters():
    ds = sr.datasets.synthetic(n_users=200, n_items=100, seed=0)
    model = sr.BiasedMF(learning_rate=50.0, epochs=50)
    with pytest.raises(sr.DivergenceError, match=r"epoch \d+.*learning_rate") as info:
        model.fit(ds)
    assert info.value.epoch >= 0
    assert len(model.history) == info.value.epoch
    if info.value.epoch == 0:  # no finished epoch to keep (tests/test_faults.py checks both cases)
        assert not model.fitted
    else:
        assert all(np.all(np.isfinite(v)) for v in model.parameters_.values())


def test_divergence_from_a_large_regularization_does_not_advise_a_larger_one():
    """Each SGD step scales the factors by 1 - learning_rate * regularization: at regularization=1e3 with
    learning_rate=0.005 that is -4, so the fit blows up because of the regularization, and "a larger
    regularization" is the wrong advice."""
    ds = sr.datasets.synthetic(n_users=100, n_items=50, seed=0)
    model = sr.BiasedMF(learning_rate=0.005, regularization=1e3, epochs=3)
    with pytest.raises(sr.DivergenceError, match=r"learning_rate \* regularization = 5") as info:
        model.fit(ds)
    assert "or a larger regularization" not in str(info.value) and "smaller learning_rate" in str(info.value)
    assert not model.fitted


@pytest.mark.parametrize("cls", [sr.ALS, sr.SocialALS], ids=lambda c: c.__name__)
@pytest.mark.parametrize("fault", ["nan loss", "non-finite parameters"])
def test_als_divergence_names_what_an_als_model_can_change(cls, fault, monkeypatch):
    """ALS has no learning rate: a NaN there comes from a row solve (float32 Cholesky on large confidences
    1 + alpha * r, e.g. raw listen counts), so the advice must name ALS's own settings."""
    ds = sr.datasets.synthetic(n_users=60, n_items=40, seed=0).binarized()
    model = cls(factors=4, epochs=2, solver="cholesky", num_threads=1)
    real = model._run_epoch

    def run_epoch(state, settings):
        loss = real(state, settings)
        if settings["epoch"] == 1:
            if fault == "nan loss":
                return float("nan")
            model.parameters_["user_factors"][0, 0] = np.nan
        return loss

    monkeypatch.setattr(model, "_run_epoch", run_epoch)
    with pytest.raises(sr.DivergenceError, match="epoch 1") as info:
        model.fit(ds)
    message = str(info.value)
    assert "learning_rate" not in message, message
    assert "dtype='float64'" in message and "solver='cg'" in message and "alpha" in message, message
    assert len(model.history) == 1 and all(np.all(np.isfinite(v)) for v in model.parameters_.values())


def test_early_stopping_keeps_the_best_epoch():
    ds = sr.datasets.synthetic(n_users=400, n_items=200, seed=0)
    train, valid = sr.split.train_test_split(ds, test_size=0.2, seed=0)
    model = sr.BiasedMF(epochs=300, learning_rate=0.05, regularization=0.0).fit(
        train, validation=valid, early_stopping=3)
    scores = [h["val_rmse"] for h in model.history]
    assert len(scores) < 300, "over-fitting without regularisation should trigger early stopping"
    best = int(np.argmin(scores))
    assert model.best_epoch_ == best
    assert sr.metrics.rmse(model, valid) == pytest.approx(scores[best], rel=1e-6)


def test_best_epoch_belongs_to_the_latest_fit():
    ds = sr.datasets.synthetic(n_users=400, n_items=200, seed=0)
    train, valid = sr.split.train_test_split(ds, test_size=0.2, seed=0)
    model = sr.BiasedMF(epochs=300, learning_rate=0.05, regularization=0.0)
    model.fit(train, validation=valid, early_stopping=3)
    assert model.best_epoch_ < len(model.history) - 1
    model.fit(train)  # no early stopping: no best epoch, the model holds the last one
    assert getattr(model, "best_epoch_", None) is None


def test_best_epoch_survives_save_load_and_pickle(tmp_path):
    """best_epoch_ is a fitted attribute like seed_: a loaded early-stopped model lost it (AttributeError),
    and a file written before it was saved loads with None, as a fit without early stopping has."""
    import json
    import pickle

    ds = sr.datasets.synthetic(n_users=400, n_items=200, seed=0)
    train, valid = sr.split.train_test_split(ds, test_size=0.2, seed=0)
    model = sr.BiasedMF(epochs=300, learning_rate=0.05, regularization=0.0).fit(
        train, validation=valid, early_stopping=3)
    assert model.best_epoch_ is not None
    model.save(tmp_path / "m.npz")
    for other in (sr.load(tmp_path / "m.npz"), pickle.loads(pickle.dumps(model))):
        assert other.best_epoch_ == model.best_epoch_
    sr.BiasedMF(epochs=2).fit(train).save(tmp_path / "plain.npz")
    assert sr.load(tmp_path / "plain.npz").best_epoch_ is None
    with np.load(tmp_path / "m.npz") as f:  # as written before best_epoch_ was saved
        files = {k: f[k] for k in f.files}
    meta = json.loads(str(files["meta"]))
    meta["fit"].pop("best_epoch_", None)
    files["meta"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "old.npz", **files)
    assert sr.load(tmp_path / "old.npz").best_epoch_ is None


def test_early_stopping_without_validation_holds_out_a_tenth():
    """scikit-learn's convention: early_stopping=True holds out validation_fraction=0.1 of the training data
    (split.validation_split with the model's seed), stops after 5 epochs without improvement, keeps the best
    epoch, and never trains on the held-out part."""
    ds = sr.datasets.synthetic(n_users=400, n_items=200, seed=0)
    params = dict(epochs=300, learning_rate=0.05, regularization=0.0, seed=3)
    model = sr.BiasedMF(**params).fit(ds, early_stopping=True)
    rest, held = sr.split.validation_split(ds, 0.1, seed=3)
    scores = [h["val_rmse"] for h in model.history]
    assert len(scores) == model.best_epoch_ + 1 + 5 < 300
    assert sr.metrics.rmse(model, held) == pytest.approx(min(scores), rel=1e-6)
    same = sr.BiasedMF(**params).fit(rest, validation=held, early_stopping=5)
    np.testing.assert_array_equal(same.parameters_["user_factors"], model.parameters_["user_factors"])
    # validation=<fraction> alone records the curve without stopping
    curve = sr.BiasedMF(epochs=4, seed=3).fit(ds, validation=0.2)
    assert len(curve.history) == 4 and "val_rmse" in curve.history[0]
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="fraction"):
            sr.BiasedMF(epochs=2).fit(ds, validation=bad)


def test_early_stopping_on_a_ranking_model_holds_out_per_user():
    ds = sr.datasets.synthetic(n_users=200, n_items=100, density=0.1, seed=1).binarized(3.5)
    model = sr.BPR(factors=4, epochs=40, seed=2).fit(ds, early_stopping=2)
    rest, held = sr.split.validation_split(ds, 0.1, seed=2, per_user=True)
    assert model.best_epoch_ is not None and "val_ndcg" in model.history[0]
    assert model.seen_indptr_[-1] == rest.nnz  # the held-out interactions were not trained on


def test_callback_can_stop_and_save_mid_training(tmp_path):
    ds = sr.datasets.synthetic(n_users=100, n_items=60, seed=0)
    path = tmp_path / "mid.npz"

    def callback(model, record):
        if record["epoch"] == 2:
            model.save(path)
            return True
        return False

    model = sr.BiasedMF(epochs=10).fit(ds, callback=callback)
    assert len(model.history) == 3
    loaded = sr.load(path)
    assert np.array_equal(loaded.parameters_["user_factors"], model.parameters_["user_factors"])
    assert len(loaded.history) == 3


def test_load_rejects_missing_corrupted_and_foreign_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        sr.load(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError, match="not a socialrec model"):
        sr.load(bad)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, a=np.arange(3))
    with pytest.raises(ValueError, match="not a socialrec model"):
        sr.load(foreign)


def test_build_info_keys_and_types():
    info = sr.build_info()
    for key in ("version", "compiler", "openmp", "simd", "cuda_built", "cuda_archs", "cuda_devices"):
        assert key in info
    assert info["version"] == sr.__version__
    assert info["simd"] in info["simd_variants"]
    assert isinstance(info["cuda_built"], bool) and isinstance(info["cuda_devices"], list)


def test_device_cuda_without_cuda_build_is_a_clear_error():
    if sr.build_info()["cuda_built"] and sr.build_info()["cuda_devices"]:
        pytest.skip("a CUDA device is present")
    ds = sr.datasets.synthetic(n_users=30, n_items=20, seed=0)
    with pytest.raises(RuntimeError, match="CUDA"):
        sr.BiasedMF(device="cuda").fit(ds)


def test_inputs_are_not_modified():
    ds = sr.datasets.synthetic(n_users=60, n_items=40, seed=0)
    before = ds.ratings.copy(), ds.trust.copy()
    sr.BiasedMF(epochs=3).fit(ds)
    assert (ds.ratings != before[0]).nnz == 0 and (ds.trust != before[1]).nnz == 0
    assert np.array_equal(ds.ratings.indices, before[0].indices)


def test_shuffle_takes_two_32_bit_draws_per_splitmix_output():
    """The documented in-block order (rng.hpp shuffle): positions n-1, n-2, ... take the low word of an output,
    then its high word, and swap with (d * (i + 1)) >> 32."""
    from socialrec.reference import _rng

    w0, w1 = (lambda g: (g.next(), g.next()))(_rng.SplitMix64(12345))
    swaps = list(_rng.swap_positions(4, _rng.SplitMix64(12345)))
    assert swaps == [(3, ((w0 & 0xFFFFFFFF) * 4) >> 32), (2, ((w0 >> 32) * 3) >> 32),
                     (1, ((w1 & 0xFFFFFFFF) * 2) >> 32)]


def test_shuffle_is_uniform_over_permutations():
    """All 24 orders of 4 values, each about 1/24 of the time over 24,000 streams (chi-square, 23 degrees of
    freedom: 49.7 is the 0.1% point)."""
    import itertools

    from socialrec.reference import _rng

    counts = dict.fromkeys(itertools.permutations(range(4)), 0)
    n = 24_000
    for s in range(n):
        values = list(range(4))
        _rng.shuffle(values, _rng.SplitMix64(_rng.stream_seed(7, s, 0, 0)))
        counts[tuple(values)] += 1
    expected = n / 24
    chi2 = sum((c - expected) ** 2 / expected for c in counts.values())
    assert chi2 < 49.7, counts


@pytest.mark.parametrize("name", ["BiasedMF", "SBPR", "TrustSVD", "ALS", "SoReg"])
def test_kernels_take_unpickled_arrays(name):
    """pickle rebuilds an array's dtype as an equal copy of NumPy's own object; the bindings must compare
    dtypes by equality (a model sent through multiprocessing or joblib hands such arrays to the kernels)."""
    import pickle

    data = sr.datasets.synthetic(n_users=60, n_items=40, seed=0)
    if name in ("SBPR", "ALS"):
        data = data.binarized()
    model = getattr(sr, name)(factors=4, epochs=1, num_threads=1, seed=0).fit(data)
    state = model._prepare(data)
    start = {k: v.copy() for k, v in model.parameters_.items()}
    copied_state, copied_start = pickle.loads(pickle.dumps((state, start)))
    assert any(v.dtype is not start[k].dtype for k, v in copied_start.items()), "pickle kept the dtype objects"
    settings = sr._engine.pass_settings(0, 1, 1)
    model.parameters_ = start
    a = model._run_epoch(state, settings)
    model.parameters_ = copied_start
    b = model._run_epoch(copied_state, settings)
    assert a == b
    for k in start:
        np.testing.assert_array_equal(start[k], copied_start[k])
