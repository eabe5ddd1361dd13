"""Faults (issue 7): sizes that cannot be allocated raise MemoryError, never crash, and leave no half-fitted
model. Divergence, Ctrl-C and saving from a callback are tested in tests/test_engine.py."""
from __future__ import annotations

import os

import numpy as np
import pytest

import socialrec as sr
from socialrec import _core
from socialrec.models.ranking import RankingModel

MODELS = [m.cls for m in sr.models.registry()]  # every model class (the model registry)

# Beyond 2^48 bytes: more than any x86-64 / arm64 address space, so the allocation fails whatever the
# machine's memory and overcommit policy (a smaller "absurd" size could be granted lazily and then OOM-kill).
UNALLOCATABLE = 1 << 49


def test_synthetic_with_absurd_factor_count_is_a_memory_error():
    with pytest.raises(MemoryError):
        sr.datasets.synthetic(n_users=2, n_items=1, factors=UNALLOCATABLE // 8, n_communities=1)
    with pytest.raises(MemoryError):
        sr.datasets.synthetic(n_users=10, n_items=UNALLOCATABLE // 8, factors=2, n_communities=1)


@pytest.fixture(scope="module")
def many_users():
    # 20,000 users x (2^31 - 1) factors x 8 bytes (the float64 draws) is about 2^48 bytes: cannot be allocated.
    return sr.datasets.synthetic(n_users=20_000, n_items=20, density=0.1, seed=0)


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_fit_with_unallocatable_factors_is_a_memory_error_and_leaves_the_model_unfitted(cls, many_users):
    data = many_users
    if issubclass(cls, RankingModel):
        r = data.ratings.copy()
        r.data[:] = 1
        data = data.with_ratings(r)
    model = cls(factors=4, epochs=1, num_threads=1)
    model.fit(data)
    assert model.fitted
    model.set_params(factors=2**31 - 1)
    with pytest.raises(MemoryError):
        model.fit(data)
    assert not model.fitted, "a fit that ran out of memory must not leave a half-built model"
    with pytest.raises(sr.NotFittedError):
        model.predict([0], [0])
    # and the same object trains normally afterwards
    model.set_params(factors=4).fit(data)
    assert model.fitted and np.all(np.isfinite(model.predict([0, 1], [0, 1])))


@pytest.mark.skipif(os.environ.get("SOCIALREC_SANITIZED") == "1",
                    reason="under ASan a failed operator new is reported and aborts by design "
                           "(allocator_may_return_null covers malloc only)")
def test_cpp_bad_alloc_becomes_memory_error():
    assert _core._allocate(1 << 20) == 1 << 20
    with pytest.raises(MemoryError):
        _core._allocate(1 << 62)
    with pytest.raises(ValueError, match="bytes must be >= 0"):
        _core._allocate(-1)
    assert _core._allocate(16) == 16  # the module still works afterwards


def _data_for(cls):
    ds = sr.datasets.synthetic(n_users=60, n_items=40, seed=0)
    if issubclass(cls, RankingModel):
        r = ds.ratings.copy()
        r.data[:] = 1
        ds = ds.with_ratings(r)
    return ds


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_non_finite_parameters_after_the_last_epoch_are_a_divergence(cls, monkeypatch):
    """The loss of an epoch is evaluated before each update, so a blow-up in the final epoch's updates shows
    in no loss: fit must still notice it, raise DivergenceError and keep the last finite epoch."""
    model = cls(factors=4, epochs=3, num_threads=1)
    real = model._run_epoch

    def run_epoch(state, settings):
        loss = real(state, settings)
        if settings["epoch"] == 2:
            big = max(model.parameters_.values(), key=np.size)
            big.flat[big.size // 2] = np.inf
        return loss

    monkeypatch.setattr(model, "_run_epoch", run_epoch)
    advice = "dtype='float64'" if issubclass(cls, sr.ALS) else "learning_rate"  # ALS has no learning rate
    with pytest.raises(sr.DivergenceError, match=rf"epoch 2 .*non-finite.*{advice}") as info:
        model.fit(_data_for(cls))
    assert info.value.epoch == 2 and len(model.history) == 2
    assert all(np.all(np.isfinite(v)) for v in model.parameters_.values())
    assert np.all(np.isfinite(model.predict([0, 1], [0, 1])))


def test_huge_ratings_that_blow_up_in_the_last_updates_are_a_divergence():
    # found by tests/test_fuzz.py: two finite epoch losses, then NaN predictions
    ds = sr.Dataset.from_arrays([0, 0, 0], [5, 0, 3], np.array([0, -7640656, -7640656], np.int32),
                                rating_scale=(1, 5))
    model = sr.BiasedMF(factors=2, epochs=2, num_threads=1)
    with pytest.raises(sr.DivergenceError, match="epoch 1"):
        model.fit(ds)
    assert np.all(np.isfinite(model.predict([0], [0])))


@pytest.mark.parametrize("fault", ["interrupt", "divergence", "non-finite parameters"])
@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_a_first_epoch_that_fails_leaves_no_fit_and_a_later_one_keeps_the_last(cls, fault, monkeypatch):
    """Ctrl-C or a divergence restore the last finished epoch; in the first epoch there is none, and the
    initial parameters are not a model: the model must be left unfitted, not answer from them."""
    for failing_epoch in (0, 1):
        model = cls(factors=4, epochs=3, num_threads=1)
        real = model._run_epoch

        def run_epoch(state, settings, failing_epoch=failing_epoch, model=model, real=real):
            loss = real(state, settings)
            if settings["epoch"] == failing_epoch:
                if fault == "interrupt":
                    raise KeyboardInterrupt
                if fault == "divergence":
                    return float("nan")
                big = max(model.parameters_.values(), key=np.size)
                big.flat[0] = np.inf
            return loss

        monkeypatch.setattr(model, "_run_epoch", run_epoch)
        if fault == "non-finite parameters":
            model.set_params(epochs=failing_epoch + 1)  # a blow-up in the last epoch's updates
        with pytest.raises(KeyboardInterrupt if fault == "interrupt" else sr.DivergenceError):
            model.fit(_data_for(cls))
        assert len(model.history) == failing_epoch
        if failing_epoch == 0:
            assert not model.fitted
            with pytest.raises(sr.NotFittedError):
                model.predict([0], [0])
        else:
            assert model.fitted and np.all(np.isfinite(model.predict([0, 1], [0, 1])))
