"""The epoch entry points of socialrec._core refuse bad dicts with an error that names the key.

Every `*_epoch` function of socialrec._core reads its argument struct from two dicts by key
(cpp/src/bind_args.hpp). Each is called here with the dicts its model passes, one key spoiled at a time:
a missing key raises KeyError, a wrong dtype TypeError (ValueError for packed records, checked by item size),
and a parameter array that the kernel would update in place raises ValueError when it is not C-contiguous or
not writeable; each message names the key. Every key that the models pass is read (so that a renamed C++
member cannot leave a key behind unread), except the documented optional ones.
"""
from __future__ import annotations

import numpy as np
import pytest

import socialrec as sr
from model_suite import tiny_data
from socialrec import _core, _engine
from socialrec.models.ranking import RankingModel

ENTRY_POINTS = sorted(n for n in dir(_core) if n.endswith("_epoch"))

# (model, constructor arguments): every entry point, and each branch that reads other keys
CASES = [
    ("BiasedMF", {}),
    ("BiasedMF", {"learning_rate_schedule": "adaptive"}),
    ("BiasedMF", {"regularization_scaling": "sqrt_count"}),
    ("SVDpp", {}),
    ("TrustSVD", {}),
    ("SoRec", {}),
    ("SocialMF", {}),
    ("SoReg", {"regularizer": "SR1"}),
    ("SoReg", {"regularizer": "SR2"}),
    ("RSTE", {}),
    ("TrustMF", {}),
    # regularization_scaling (issue 15): the branches that read user_weight / item_weight
    ("SVDpp", {"regularization_scaling": "count"}),
    ("SoRec", {"regularization_scaling": "sqrt_count"}),
    ("SocialMF", {"regularization_scaling": "sqrt_count"}),
    ("SoReg", {"regularizer": "SR2", "regularization_scaling": "sqrt_count"}),
    ("RSTE", {"regularization_scaling": "sqrt_count"}),
    ("TrustMF", {"regularization_scaling": "count"}),
    ("BPR", {}),
    ("SBPR", {}),
    ("ALS", {}),
    ("SocialALS", {}),
]


def _capture(name, kwargs, dtype):
    """The entry point, dicts and settings of one epoch of the model, as its _run_epoch passes them."""
    cls = getattr(sr, name)
    data = tiny_data(ranking=issubclass(cls, RankingModel))
    model = cls(factors=3, epochs=1, dtype=dtype, num_threads=1, seed=0, **kwargs).fit(data)
    state = model._prepare(data)
    calls = []
    real = {n: getattr(_core, n) for n in ENTRY_POINTS}

    def recorder(entry):
        def record(arrays, hyper, settings):
            calls.append((entry, arrays, hyper, settings))
            return real[entry](arrays, hyper, settings)
        return record

    with pytest.MonkeyPatch.context() as mp:
        for n in ENTRY_POINTS:
            mp.setattr(_core, n, recorder(n))
        model._run_epoch(state, _engine.pass_settings(0, 1, 1))
    assert len(calls) == 1, f"{name} made {len(calls)} kernel calls"
    # the arrays the kernel updates (a 0-d global_bias travels in hyper as a setting)
    return calls[0], {k for k, v in model.parameters_.items() if v.ndim > 0}


def _call(entry, arrays, hyper, settings):
    return getattr(_core, entry)(arrays, hyper, settings)


def _other_dtype(array):
    """An array of the same shape in a dtype that no entry point accepts for it."""
    if array.dtype.fields is not None:  # packed records: a different item size
        return np.zeros(array.shape, np.float64), ValueError
    if array.dtype.kind == "f":
        return np.zeros(array.shape, np.int64), TypeError
    return np.zeros(array.shape, np.float64), TypeError


def _strided(array):
    """The same values in a view that is not C-contiguous (None for fewer than two rows)."""
    if array.shape[0] < 2:
        return None
    wide = np.repeat(array, 2, axis=0)
    wide[::2] = array
    view = wide[::2]
    assert not view.flags.c_contiguous
    return view


def _expect(exc, key, call):
    """True when call() raises exc with key in its message, False when it returns; any other error fails."""
    try:
        call()
    except exc as e:
        assert key in str(e), f"{exc.__name__} does not name {key!r}: {e}"
        return True
    return False


@pytest.fixture(scope="module", params=["float32", "float64"])
def captured(request):
    return [(name, kwargs) + _capture(name, kwargs, request.param) for name, kwargs in CASES]


IDS = [name + "".join(f"-{v}" for v in kwargs.values()) for name, kwargs in CASES]
# BiasedMF: absent means the constant schedule / unweighted penalties (callers from before them)
OPTIONAL_SETTINGS = {"adaptive", "weighted"}


def test_every_epoch_entry_point_is_covered(captured):
    assert ENTRY_POINTS, "socialrec._core has no *_epoch function"
    assert {call[0] for _, _, call, _ in captured} == set(ENTRY_POINTS)


@pytest.mark.parametrize("case", range(len(CASES)), ids=IDS)
def test_a_missing_or_wrong_dtype_array_is_refused_naming_its_key(captured, case):
    _, _, (entry, arrays, hyper, settings), parameters = captured[case]
    assert np.isfinite(_call(entry, arrays, hyper, settings))
    for key, value in arrays.items():
        if isinstance(value, np.ndarray) and value.ndim == 0:
            continue  # global_bias: the kernel takes it from hyper
        missing = {k: v for k, v in arrays.items() if k != key}
        assert _expect(KeyError, key, lambda: _call(entry, missing, hyper, settings)), f"{entry} ran without {key}"
        if isinstance(value, np.ndarray):
            wrong, exc = _other_dtype(value)
            assert _expect(exc, key, lambda: _call(entry, {**arrays, key: wrong}, hyper, settings)), \
                f"{entry} ran with {key} of dtype {wrong.dtype}"
    assert parameters <= set(arrays)


@pytest.mark.parametrize("case", range(len(CASES)), ids=IDS)
def test_a_parameter_array_must_be_contiguous_and_writeable(captured, case):
    _, _, (entry, arrays, hyper, settings), parameters = captured[case]
    for key in sorted(parameters):
        strided = _strided(arrays[key])
        if strided is not None:
            assert _expect(ValueError, key, lambda: _call(entry, {**arrays, key: strided}, hyper, settings)), key
        frozen = arrays[key].copy()
        frozen.flags.writeable = False
        assert _expect(ValueError, key, lambda: _call(entry, {**arrays, key: frozen}, hyper, settings)), key


@pytest.mark.parametrize("case", range(len(CASES)), ids=IDS)
def test_a_missing_setting_is_refused_naming_its_key(captured, case):
    _, _, (entry, arrays, hyper, settings), _ = captured[case]
    for key in set(hyper) - OPTIONAL_SETTINGS:
        rest = {k: v for k, v in hyper.items() if k != key}
        assert _expect(KeyError, key, lambda: _call(entry, arrays, rest, settings)), f"{entry} ran without {key}"
