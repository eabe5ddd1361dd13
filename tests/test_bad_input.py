"""The bad-input catalogue (issue 7): every wrong call of the public API raises a clear ValueError,
TypeError or IndexError that names the problem, and leaves the caller's inputs and the model alone.

Everything model-related runs for every model class that exists (new models are covered when they land).
Covered elsewhere, not repeated here: Dataset.from_arrays / from_raw / from_sparse validation
(tests/test_data.py), predict / recommend / save before fit and set_params (tests/test_models.py), missing
data folders (tests/test_datasets.py), early_stopping without validation (tests/test_engine.py).
"""
from __future__ import annotations

import errno
import json
import os
import warnings
import zipfile

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import socialrec as sr
from model_suite import tiny_data
from socialrec.models.ranking import RankingModel

MODELS = [m.cls for m in sr.models.registry()]  # every model class (the model registry)
N_USERS, N_ITEMS = 40, 30  # model_suite.tiny_data's shape


def make(cls, **kw):
    return cls(**{"factors": 4, "epochs": 2, "seed": 0, "num_threads": 1, **kw})


def data_for(cls):
    return tiny_data(ranking=issubclass(cls, RankingModel))


@pytest.fixture(scope="module", params=MODELS, ids=lambda c: c.__name__)
def fitted(request):
    cls = request.param
    data = data_for(cls)
    return make(cls).fit(data), data


def snapshot(model):
    return {k: v.copy() for k, v in model.parameters_.items()}


def assert_unchanged(model, before):
    assert set(model.parameters_) == set(before)
    for k, v in before.items():
        assert np.array_equal(model.parameters_[k], v), f"{k} changed"


# ----------------------------------------------------------------------------------------------------------
# predict / recommend / similar_* / loss / metrics on a fitted model
# ----------------------------------------------------------------------------------------------------------
U, I = N_USERS, N_ITEMS
CALLS = [
    # (id, call(model, data), exception, message pattern)
    ("predict-negative-user", lambda m, d: m.predict([-1], [0]), IndexError, r"users\[0\] = -1 is out of range"),
    ("predict-user-too-large", lambda m, d: m.predict([0, U], [0, 0]), IndexError,
     rf"users\[1\] = {U} is out of range \[0, {U}\)"),
    ("predict-item-too-large", lambda m, d: m.predict([0], [I]), IndexError, rf"items\[0\] = {I} is out of range"),
    ("predict-negative-item", lambda m, d: m.predict([0], [-5]), IndexError, r"items\[0\] = -5"),
    ("predict-uint64-beyond-int64", lambda m, d: m.predict(np.array([2**63 + 1], np.uint64), [0]), IndexError,
     r"users\[0\] = 9223372036854775809 is out of range"),
    ("predict-python-int-beyond-int64", lambda m, d: m.predict([2**70], [0]), IndexError,
     r"users\[0\] = 1180591620717411303424 is out of range"),
    ("predict-fractional", lambda m, d: m.predict([0, 1.5], [0, 0]), TypeError,
     r"users\[1\] = 1.5 is not an integer index"),
    ("predict-nan", lambda m, d: m.predict([0], [np.nan]), ValueError, r"items\[0\] is nan"),
    ("predict-inf", lambda m, d: m.predict([np.inf], [0]), ValueError, r"users\[0\] is inf"),
    ("predict-strings", lambda m, d: m.predict(["a"], [0]), TypeError, r"users must be integer indices"),
    ("predict-a-string", lambda m, d: m.predict("0", [0]), TypeError, r"users must be integer indices"),
    ("predict-booleans", lambda m, d: m.predict([True], [0]), TypeError, r"users is boolean"),
    ("predict-none", lambda m, d: m.predict(None, [0]), TypeError, r"users\[0\] = None is not an integer"),
    ("predict-object-mix", lambda m, d: m.predict(np.array([0, "x"], dtype=object), [0, 0]), TypeError,
     r"users\[1\] = 'x' is not an integer index"),
    ("predict-complex", lambda m, d: m.predict(np.array([1j]), [0]), TypeError, r"dtype complex128"),
    ("predict-2d-users", lambda m, d: m.predict([[0, 1]], [[0, 1]]), ValueError, r"users must be one-dimensional"),
    ("predict-2d-items", lambda m, d: m.predict([0], np.zeros((1, 1), int)), ValueError,
     r"items must be one-dimensional"),
    ("predict-length-mismatch", lambda m, d: m.predict([0, 1, 2], [0, 1]), ValueError,
     r"same length \(3 != 2\)"),
    ("recommend-negative-user", lambda m, d: m.recommend([0, -1]), IndexError, r"users\[1\] = -1 is out of range"),
    ("recommend-user-too-large", lambda m, d: m.recommend([U]), IndexError, rf"users\[0\] = {U} is out of range"),
    ("recommend-fractional-user", lambda m, d: m.recommend([0.25]), TypeError, r"users\[0\] = 0.25"),
    ("recommend-2d-users", lambda m, d: m.recommend(np.zeros((2, 2), int)), ValueError, r"one-dimensional"),
    ("recommend-n-zero", lambda m, d: m.recommend([0], n=0), ValueError, r"n=0 must be a positive integer"),
    ("recommend-n-negative", lambda m, d: m.recommend([0], n=-3), ValueError, r"n=-3 must be a positive integer"),
    ("recommend-n-float", lambda m, d: m.recommend([0], n=2.5), ValueError, r"n=2.5 must be a positive integer"),
    ("recommend-n-bool", lambda m, d: m.recommend([0], n=True), ValueError, r"n=True must be a positive"),
    ("recommend-n-string", lambda m, d: m.recommend([0], n="3"), ValueError, r"n='3' must be a positive"),
    ("recommend-n-none", lambda m, d: m.recommend([0], n=None), ValueError, r"n=None must be a positive"),
    ("recommend-candidate-too-large", lambda m, d: m.recommend([0], items=[0, I]), IndexError,
     rf"items\[1\] = {I} is out of range"),
    ("recommend-candidates-2d", lambda m, d: m.recommend([0], items=[[0]]), ValueError,
     r"items must be one-dimensional"),
    ("recommend-batch-size-zero", lambda m, d: m.recommend([0], batch_size=0), ValueError,
     r"batch_size=0 must be a positive integer"),
    ("recommend-batch-size-float", lambda m, d: m.recommend([0], batch_size=1.5), ValueError, r"batch_size=1.5"),
    ("recommend-exclude-seen-string", lambda m, d: m.recommend([0], exclude_seen="no"), TypeError,
     r"exclude_seen must be True or False"),
    ("recommend-unknown-id", lambda m, d: m.recommend(["no such user"]), KeyError,
     r"unknown user id 'no such user'"),
    ("recommend-raw-unknown-id", lambda m, d: m.recommend_raw(["no such user"]), KeyError,
     r"unknown user id 'no such user'"),
    ("similar-items-too-large", lambda m, d: m.similar_items([I]), IndexError, rf"items\[0\] = {I} is out of range"),
    ("similar-items-negative", lambda m, d: m.similar_items([-1]), IndexError, r"items\[0\] = -1"),
    ("similar-items-n-zero", lambda m, d: m.similar_items([0], n=0), ValueError, r"n=0 must be a positive"),
    ("similar-items-n-bool", lambda m, d: m.similar_items([0], n=True), ValueError, r"n=True must be a positive"),
    ("similar-items-2d", lambda m, d: m.similar_items([[0]]), ValueError, r"items must be one-dimensional"),
    ("similar-users-too-large", lambda m, d: m.similar_users([U]), IndexError, rf"users\[0\] = {U} is out of range"),
    ("similar-users-fractional", lambda m, d: m.similar_users([0.5]), TypeError, r"users\[0\] = 0.5"),
    ("similar-users-n-float", lambda m, d: m.similar_users([0], n=0.5), ValueError, r"n=0.5 must be a positive"),
    ("loss-other-shape", lambda m, d: m.loss(sr.datasets.synthetic(n_users=12, n_items=9, seed=0)), ValueError,
     rf"data has shape \(12, 9\), the model was fitted on \({U}, {I}\)"),
    ("loss-not-a-dataset", lambda m, d: m.loss([1, 2, 3]), TypeError, r"expected a socialrec.Dataset"),
    ("rmse-other-shape", lambda m, d: sr.metrics.rmse(m, sr.datasets.synthetic(n_users=12, n_items=9, seed=0)),
     ValueError, r"data has shape \(12, 9\)"),
    ("rmse-not-a-dataset", lambda m, d: sr.metrics.rmse(m, d.ratings), TypeError, r"must be a socialrec.Dataset"),
]


@pytest.mark.parametrize("call, exc, pattern", [c[1:] for c in CALLS], ids=[c[0] for c in CALLS])
def test_bad_call_on_fitted_model(fitted, call, exc, pattern):
    model, data = fitted
    before = snapshot(model)
    with pytest.raises(exc, match=pattern):
        call(model, data)
    assert_unchanged(model, before)


UNFITTED = [
    ("similar_items", lambda m, d: m.similar_items([0])),
    ("similar_users", lambda m, d: m.similar_users([0])),
    ("loss", lambda m, d: m.loss(d)),
    ("recommend_raw", lambda m, d: m.recommend_raw([0])),
    ("rmse", lambda m, d: sr.metrics.rmse(m, d)),
    ("evaluate", lambda m, d: sr.evaluate(m, d)),
]


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("call", [c[1] for c in UNFITTED], ids=[c[0] for c in UNFITTED])
def test_unfitted_model_raises_not_fitted(cls, call):
    with pytest.raises(sr.NotFittedError, match="not fitted yet; call fit"):
        call(make(cls), data_for(cls))


# ----------------------------------------------------------------------------------------------------------
# fit with bad data
# ----------------------------------------------------------------------------------------------------------
def _ratings_with(value):
    r = sp.random(N_USERS, N_ITEMS, density=0.2, format="csr", random_state=0, dtype=np.float64)
    r.data[:] = 3.0
    r.data[5] = value
    return r


def _fit_args(*args, **kwargs):
    return args, kwargs


FITS = [  # (id, data -> (args, kwargs) of fit, exception, message pattern)
    ("list", lambda d: _fit_args([[1, 2], [3, 4]]), TypeError, r"expected a socialrec.Dataset, a scipy.sparse matrix or a pandas"),
    ("none", lambda d: _fit_args(None), TypeError, r"got NoneType"),
    ("path-string", lambda d: _fit_args("ratings.txt"), TypeError, r"got str"),
    ("dense-2d", lambda d: _fit_args(d.ratings.toarray()), TypeError, r"must be a scipy sparse matrix"),
    ("dense-1d", lambda d: _fit_args(np.ones(5)), TypeError, r"must be a scipy sparse matrix"),
    ("dense-3d", lambda d: _fit_args(np.ones((2, 2, 2))), TypeError, r"must be a scipy sparse matrix"),
    ("empty-matrix", lambda d: _fit_args(sp.csr_matrix((5, 4))), ValueError, r"no ratings"),
    ("zero-by-zero", lambda d: _fit_args(sp.csr_matrix((0, 0))), ValueError, r"no ratings"),
    ("nan-rating", lambda d: _fit_args(_ratings_with(np.nan)), ValueError, r"ratings\[\d+, \d+\] is nan"),
    ("inf-rating", lambda d: _fit_args(_ratings_with(np.inf)), ValueError, r"ratings\[\d+, \d+\] is inf"),
    ("minus-inf-rating", lambda d: _fit_args(_ratings_with(-np.inf)), ValueError, r"is -inf"),
    ("rating-beyond-float32", lambda d: _fit_args(_ratings_with(1e39)), ValueError, r"does not fit float32"),
    ("complex-ratings", lambda d: _fit_args(sp.csr_matrix(np.array([[1j, 1]]))), TypeError, r"complex128"),
    ("trust-wrong-size", lambda d: _fit_args(d.ratings, trust=sp.csr_matrix((3, 3))), ValueError,
     rf"trust has shape \(3, 3\) but ratings have {N_USERS} users"),
    ("trust-not-square", lambda d: _fit_args(d.ratings, trust=sp.csr_matrix((N_USERS, N_USERS - 1))), ValueError,
     r"trust must be square"),
    ("trust-dense", lambda d: _fit_args(d.ratings, trust=np.zeros((N_USERS, N_USERS))), TypeError,
     r"trust must be a scipy sparse matrix"),
    ("trust-list", lambda d: _fit_args(d.ratings, trust=[[0, 1]]), TypeError, r"trust must be a scipy sparse"),
    ("trust-nan", lambda d: _fit_args(d.ratings, trust=sp.csr_matrix(([np.nan], ([0], [1])), (N_USERS, N_USERS))),
     ValueError, r"trust\[0, 1\] is nan"),
    ("dataset-and-trust", lambda d: _fit_args(d, trust=d.trust), ValueError, r"a Dataset carries its own trust"),
    ("validation-other-shape", lambda d: _fit_args(d, validation=sr.datasets.synthetic(n_users=12, n_items=9)),
     ValueError, r"validation has shape \(12, 9\).*one index space"),
    ("validation-list", lambda d: _fit_args(d, validation=[1, 2]), TypeError, r"got list"),
    ("early-stopping-zero", lambda d: _fit_args(d, validation=d, early_stopping=0), ValueError,
     r"early_stopping=0 must be a positive integer"),
    ("early-stopping-float", lambda d: _fit_args(d, validation=d, early_stopping=1.5), ValueError,
     r"early_stopping=1.5"),
    ("callback-not-callable", lambda d: _fit_args(d, callback=3), TypeError, r"callback must be callable"),
]


@pytest.mark.parametrize("call, exc, pattern", [f[1:] for f in FITS], ids=[f[0] for f in FITS])
def test_bad_fit_raises_and_leaves_a_fitted_model_as_it_was(fitted, call, exc, pattern):
    model, data = fitted
    before, history = snapshot(model), list(model.history)
    args, kwargs = call(data)
    with pytest.raises(exc, match=pattern):
        model.fit(*args, **kwargs)
    assert model.fitted and model.history == history
    assert_unchanged(model, before)


LOGISTIC = [cls for cls in MODELS if cls._link == "logistic"]


@pytest.mark.parametrize("cls", LOGISTIC, ids=lambda c: c.__name__)
@pytest.mark.parametrize("data", [
    pytest.param(lambda: sr.Dataset.from_arrays([0], [0], [3.0]), id="single-rating"),
    pytest.param(lambda: sr.Dataset.from_arrays([0, 1, 2], [0, 1, 2], [4.0, 4.0, 4.0]), id="all-equal"),
    pytest.param(lambda: tiny_data().binarized(), id="binarized"),
])
def test_logistic_models_refuse_a_rating_scale_without_width(cls, data):
    """The [0, 1] mapping divides by r_max - r_min: a zero-width scale is a clear ValueError, not a NaN loss
    reported as a divergence that a smaller learning_rate would cure."""
    data = data()
    lo, hi = data.rating_scale
    assert lo == hi
    model = make(cls)
    with pytest.raises(ValueError, match=r"rating_scale .* r_max > r_min"):
        model.fit(data)
    assert not model.fitted
    # a declared scale with width trains
    wide = sr.Dataset.from_sparse(data.ratings, trust=data.trust, rating_scale=(lo - 1, hi + 1))
    assert np.all(np.isfinite(make(cls).fit(wide).predict([0], [0])))


# ----------------------------------------------------------------------------------------------------------
# hyper-parameters, for every model class
# ----------------------------------------------------------------------------------------------------------
HYPER = [
    ("factors", 0), ("factors", -1), ("factors", 2.5), ("factors", 4.0), ("factors", True), ("factors", None),
    ("factors", "8"), ("factors", 2**31),
    ("learning_rate", 0.0), ("learning_rate", -0.01), ("learning_rate", float("nan")),
    ("learning_rate", float("inf")), ("learning_rate", "0.1"),
    ("regularization", -0.1), ("regularization", float("nan")), ("regularization", float("inf")),
    ("epochs", -1), ("epochs", 2.5), ("epochs", None),
    ("num_threads", -1), ("num_threads", 1.5), ("num_threads", "4"),
    ("seed", -1), ("seed", 0.5), ("seed", "0"),
    ("dtype", "int8"), ("dtype", "float"), ("dtype", "double"), ("dtype", None),
    ("device", "tpu"), ("device", "gpu"), ("device", None), ("device", "CPU"),
    ("progress", "yes"), ("progress", None),
]


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name, value", HYPER, ids=[f"{n}={v!r}" for n, v in HYPER])
def test_bad_hyper_parameter_named_in_the_error(cls, name, value):
    if name not in cls._defaults:
        pytest.skip(f"{cls.__name__} has no {name}")
    with pytest.raises(ValueError, match=rf"{name}={value!r} is invalid".replace("(", r"\(").replace(")", r"\)")):
        cls(**{name: value})
    model = cls()
    with pytest.raises(ValueError, match=name):
        model.set_params(**{name: value})
    assert getattr(model, name) == cls._defaults[name]


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_float16_is_refused_on_the_cpu(cls):
    with pytest.raises(ValueError, match="float16.*cuda"):
        cls(dtype="float16", device="cpu")


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_unknown_and_positional_parameters_are_type_errors(cls):
    with pytest.raises(TypeError, match=r"unexpected parameter\(s\) \['lr'\]"):
        cls(lr=0.1)
    with pytest.raises(TypeError):
        cls(10)


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_every_hyper_parameter_has_a_rule_that_refuses_nonsense(cls):
    """A new hyper-parameter without a _checks rule fails here; each rule refuses a string and NaN."""
    unchecked = sorted(set(cls._defaults) - set(cls._all_checks))
    assert not unchecked, f"{cls.__name__}: no validation rule for {unchecked} (add them to _checks)"
    for name, default in cls._defaults.items():
        bad = ["nonsense"] + ([float("nan")] if isinstance(default, float) else [])
        if isinstance(default, str):  # string choices: refuse a number instead
            bad = [3.5]
        for value in bad:
            with pytest.raises(ValueError, match=name):
                cls(**{name: value})


# ----------------------------------------------------------------------------------------------------------
# persistence
# ----------------------------------------------------------------------------------------------------------
def _rewrite(src, dst, edit):
    with np.load(src) as f:
        files = {k: f[k] for k in f.files}
    meta = json.loads(str(files["meta"]))
    edit(files, meta)
    files["meta"] = np.array(json.dumps(meta))
    np.savez(dst, **files)


def _first_param(files):
    """The largest parameter array (a factor matrix)."""
    return max((k for k in files if k.startswith("param/")), key=lambda k: (files[k].size, k))


CORRUPTIONS = [
    ("newer-format", lambda f, m: m.update(format_version=m["format_version"] + 1),
     r"saved by a newer socialrec \(format 2; this version reads up to 1\)"),
    ("format-version-not-int", lambda f, m: m.update(format_version="1"), r"no valid metadata"),
    ("no-format-version", lambda f, m: m.pop("format_version"), r"no valid metadata"),
    ("other-format", lambda f, m: m.update(format="something-else"), r"no valid metadata"),
    ("unknown-class", lambda f, m: m.update({"class": "NoSuchModel"}), r"unknown model class 'NoSuchModel'"),
    ("unknown-parameter", lambda f, m: m["params"].update(no_such_parameter=1), r"inconsistent .*no_such_parameter"),
    ("invalid-parameter", lambda f, m: m["params"].update(factors=-1), r"inconsistent .*factors=-1"),
    ("no-fit-record", lambda f, m: m.pop("fit"), r"inconsistent .*'fit'"),
    ("parameter-array-missing", lambda f, m: f.pop(_first_param(f)), r"inconsistent"),
    ("parameter-array-short", lambda f, m: f.update({_first_param(f): f[_first_param(f)][:2]}), r"inconsistent"),
    ("parameter-array-other-dtype", lambda f, m: f.update({_first_param(f): f[_first_param(f)].astype(np.float16)}),
     r"inconsistent .*dtype float16, the model was saved as float(32|64)"),
    ("seen-items-missing", lambda f, m: f.pop("seen/indptr"), r"inconsistent .*seen/indptr"),
    ("user-ids-short", lambda f, m: f.update({"ids/user_ids_": f["ids/user_ids_"][:3]}),
     r"inconsistent .*user_ids_ has shape \(3,\)"),
    ("seen-items-out-of-range", lambda f, m: f.update({"seen/indices": f["seen/indices"] + 10**6}),
     r"inconsistent .*seen-items"),
    ("rating-scale-short", lambda f, m: m["fit"].update(rating_scale_=[1]), r"inconsistent .*rating_scale_"),
    ("rating-scale-not-numbers", lambda f, m: m["fit"].update(rating_scale_="ab"), r"inconsistent .*rating_scale_"),
    ("rating-scale-reversed", lambda f, m: m["fit"].update(rating_scale_=[5, 1]), r"inconsistent .*rating_scale_"),
    ("rating-scale-nan", lambda f, m: m["fit"].update(rating_scale_=[1, float("nan")]),
     r"inconsistent .*rating_scale_"),
]


@pytest.mark.parametrize("edit, pattern", [c[1:] for c in CORRUPTIONS], ids=[c[0] for c in CORRUPTIONS])
def test_load_rejects_inconsistent_files_naming_the_path(fitted, tmp_path, edit, pattern):
    model, _ = fitted
    good, bad = tmp_path / "good.npz", tmp_path / "bad.npz"
    model.save(good)
    _rewrite(good, bad, edit)
    with pytest.raises(ValueError, match=pattern) as info:
        sr.load(bad)
    assert str(bad) in str(info.value)


def test_load_sets_only_the_fitted_attributes_it_knows(fitted, tmp_path):
    """load set every entry of the file's "fit" record as an attribute: a hand-made entry such as
    ``"_link": "score"`` silently changed how the loaded model predicts (or replaced a method)."""
    model, _ = fitted
    good, bad = tmp_path / "good.npz", tmp_path / "bad.npz"
    model.save(good)
    _rewrite(good, bad, lambda f, m: m["fit"].update(_link="other", predict=1, parameters_=None, future_attr_=3))
    loaded = sr.load(bad)
    assert loaded._link == model._link and not hasattr(loaded, "future_attr_")
    users = np.arange(5)
    assert np.array_equal(loaded.predict(users, users), model.predict(users, users))


WITH_TRUST_ARRAYS = [c for c in MODELS if "trust_indices_" in c._FIT_ARRAYS]


@pytest.mark.parametrize("cls", WITH_TRUST_ARRAYS, ids=lambda c: c.__name__)
def test_load_rejects_a_corrupted_trust_structure(tmp_path, cls):
    make(cls).fit(data_for(cls)).save(tmp_path / "m.npz")
    for name, edit in (("out-of-range", lambda a: a + 10**6), ("short", lambda a: a[:-1])):
        _rewrite(tmp_path / "m.npz", tmp_path / f"{name}.npz",
                 lambda f, m: f.update({"fit/trust_indices_": edit(f["fit/trust_indices_"])}))
        with pytest.raises(ValueError, match="inconsistent .*the trust (matrix|weights)"):
            sr.load(tmp_path / f"{name}.npz")


def test_load_rejects_truncated_and_corrupted_files(fitted, tmp_path):
    model, _ = fitted
    good = tmp_path / "good.npz"
    model.save(good)
    raw = good.read_bytes()
    cases = {f"cut{n}": raw[:n] for n in (0, 1, 30, len(raw) // 3, len(raw) // 2, len(raw) - 22, len(raw) - 1)}
    with zipfile.ZipFile(good) as z:  # a byte inside the largest member's data: its CRC no longer matches
        info = max(z.infolist(), key=lambda i: i.compress_size)
    data_start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    flipped = bytearray(raw)
    flipped[data_start + info.compress_size // 2] ^= 0xFF
    cases["bit-flip"] = bytes(flipped)
    cases["text"] = b"user item rating\n1 2 3\n"
    cases["random"] = np.random.default_rng(0).bytes(4096)
    for name, content in cases.items():
        path = tmp_path / f"{name}.npz"
        path.write_bytes(content)
        with pytest.raises(ValueError, match="not a socialrec model file") as info:
            sr.load(path)
        assert str(path) in str(info.value), name
        assert "allow_pickle" not in str(info.value), name  # NumPy's advice for pickles is not the answer


def test_load_of_a_text_file_says_what_it_is_not(tmp_path):
    # issue 16: a text file loaded as a model repeated NumPy's "allow_pickle=True" advice
    path = tmp_path / "ratings.txt"
    path.write_text("user item rating\n1 2 3\n")
    with pytest.raises(ValueError) as info:
        sr.load(path)
    assert str(info.value) == f"{path}: not a socialrec model file (not an .npz archive)"


def test_load_rejects_missing_paths_directories_and_plain_arrays(tmp_path):
    # a missing file is a FileNotFoundError, as open() and numpy.load raise (issue 16)
    with pytest.raises(FileNotFoundError, match="missing.npz") as info:
        sr.load(tmp_path / "missing.npz")
    assert info.value.errno == errno.ENOENT and info.value.filename == str(tmp_path / "missing.npz")
    with pytest.raises(ValueError, match="not a socialrec model file"):
        sr.load(tmp_path)
    np.save(tmp_path / "array.npy", np.arange(3))
    with pytest.raises(ValueError, match=r"not an \.npz archive"):
        sr.load(tmp_path / "array.npy")
    with pytest.raises(TypeError):
        sr.load(None)


def test_class_load_refuses_a_file_of_another_class(fitted, tmp_path):
    model, _ = fitted
    path = tmp_path / "m.npz"
    model.save(path)
    assert type(type(model).load(path)) is type(model)

    class Other(type(model)):
        """A subclass: the file holds its base class, so Other.load must refuse it."""

    with pytest.raises(TypeError, match=rf"holds a {type(model).__name__}, not a Other"):
        Other.load(path)
    for cls in MODELS:
        if not isinstance(model, cls):
            with pytest.raises(TypeError, match=rf"holds a {type(model).__name__}, not a {cls.__name__}"):
                cls.load(path)


# a file whose hyper-parameters the claimed class does not accept (a class accepting them all, e.g. SocialALS
# for an ALS file, reads it with its own defaults for the rest: nothing to reject)
PAIRS = [(a, b) for a in MODELS for b in MODELS if a is not b and set(a._defaults) - set(b._defaults)]


@pytest.mark.parametrize("saved, claimed", PAIRS, ids=[f"{a.__name__}-as-{b.__name__}" for a, b in PAIRS])
def test_file_relabelled_as_another_class_is_rejected(tmp_path, saved, claimed):
    model = make(saved).fit(data_for(saved))
    model.save(tmp_path / "m.npz")
    _rewrite(tmp_path / "m.npz", tmp_path / "x.npz", lambda f, m: m.update({"class": claimed.__name__}))
    with pytest.raises(ValueError, match=rf"inconsistent {claimed.__name__} model file"):
        sr.load(tmp_path / "x.npz")


def test_save_to_a_directory_or_missing_folder_is_an_os_error(fitted, tmp_path):
    model, _ = fitted
    with pytest.raises(IsADirectoryError):
        model.save(tmp_path)
    with pytest.raises(FileNotFoundError):
        model.save(tmp_path / "no" / "such" / "folder" / "m.npz")


def test_a_failed_save_keeps_the_file_it_would_replace_and_leaves_nothing_behind(fitted, tmp_path, monkeypatch):
    """A save that fails while writing (disk full, file size limit, Ctrl-C) used to leave a truncated file at
    ``path``, destroying the model saved there before; it now writes a temporary file and renames it."""
    model, _ = fitted
    path = tmp_path / "m.npz"
    model.save(path)
    before = path.read_bytes()
    savez = np.savez

    def disk_full(file, *args, **kwargs):
        file.write(b"PK\x03\x04 half a model")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", disk_full)
    with pytest.raises(OSError, match="No space left"):
        model.save(path)
    with pytest.raises(OSError, match="No space left"):
        model.save(tmp_path / "new.npz")
    monkeypatch.setattr(np, "savez", savez)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]
    assert path.read_bytes() == before
    users = np.arange(5)
    assert np.array_equal(sr.load(path).predict(users, users), model.predict(users, users))
    model.save(str(tmp_path / "fresh.npz"))  # a str path; the file gets the permissions open() gives
    (tmp_path / "plain").write_bytes(b"")
    assert (tmp_path / "fresh.npz").stat().st_mode & 0o777 == (tmp_path / "plain").stat().st_mode & 0o777


# ----------------------------------------------------------------------------------------------------------
# malformed text files: the error names the file and the line
# ----------------------------------------------------------------------------------------------------------
TEXTS = [
    ("too-few-columns", b"1 1 2\n2 2 3\n3 3\n", {}, r"line 3: expected 3 columns, got 2"),
    ("too-few-columns-crlf", b"1,1,2\r\n2,2,3\r\n3,3\r\n", {}, r"line 3: expected 3 columns, got 2"),
    ("rating-not-a-number", b"1 1 2\n\n2 2 abc\n", {}, r"line 3: rating 'abc' is not a number"),
    ("rating-nan", b"1 1 2\n2 2 NaN\n", {}, r"line 2: rating 'NaN' is not finite"),
    ("rating-infinity", b"1 1 -Infinity\n", {}, r"line 1: rating '-Infinity' is not finite"),
    ("rating-overflows-float64", b"1 1 2\n2 2 1e400\n", {}, r"line 2: rating '1e400' is not finite"),
    ("rating-overflows-float32", b"1 1 2\n2 2 3\n3 3 1e39\n", {}, r"line 3: rating '1e39' does not fit float32"),
    ("invalid-utf8", b"1 1 2\n2 2 3\n\xff\xfe 3 3\n", {}, r"line 3: not valid utf-8"),
    ("invalid-utf8-csv", b"1,1,2\n2,\xc3,3\n", {"sep": ","}, r"line 2: not valid utf-8"),
    ("csv-field-too-large", b"1,1,2\n2,2," + b"9" * 200_000 + b"\n", {}, r"line 2: field larger than field limit"),
    ("value-column-beyond-the-line", b"1 1 2 7\n1 2 3\n", {"columns": (0, 1, 3)}, r"line 2: expected 4 columns"),
    ("empty", b"", {}, r"no data \(the file is empty\)"),
    ("blank-lines-only", b"\n \n\t\n", {}, r"no data"),
    ("header-only", b"user,item,rating\n", {}, r"no data rows"),
    ("sep-two-characters", b"1::1::2\n", {"sep": "::"}, r"sep must be a single character"),
    ("sep-empty", b"1 1 2\n", {"sep": ""}, r"sep must be a single character"),
    ("columns-negative", b"1 1 2\n", {"columns": (0, -1, 2)}, r"columns must be 2 or 3 non-negative"),
    ("rating-scale-reversed", b"1 1 2\n", {"rating_scale": (5, 1)}, r"rating_scale min 5.0 is larger than max"),
]


@pytest.mark.parametrize("content, kw, pattern", [t[1:] for t in TEXTS], ids=[t[0] for t in TEXTS])
def test_malformed_ratings_file(tmp_path, content, kw, pattern):
    path = tmp_path / "ratings.txt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=pattern):
        sr.datasets.load_files(path, **kw)


def test_malformed_trust_file_names_its_line(tmp_path):
    (tmp_path / "r.txt").write_bytes(b"1 1 2\n2 2 3\n")
    (tmp_path / "t.txt").write_bytes(b"1 2\n2 1\n\xff 1\n")
    with pytest.raises(ValueError, match=r"t\.txt line 3: not valid utf-8"):
        sr.datasets.load_files(tmp_path / "r.txt", tmp_path / "t.txt")
    (tmp_path / "t.txt").write_bytes(b"1 2 1\n2 1 inf\n")
    with pytest.raises(ValueError, match=r"t\.txt line 2: trust value 'inf' is not finite"):
        sr.datasets.load_files(tmp_path / "r.txt", tmp_path / "t.txt")


def test_integer_ids_beyond_int64_stay_strings(tmp_path):
    path = tmp_path / "r.txt"
    path.write_bytes(b"99999999999999999999999 1 2\n2 1 3\n")
    ds = sr.datasets.load_files(path)
    assert sorted(ds.user_ids.tolist()) == ["2", "99999999999999999999999"]


@pytest.mark.parametrize("kind", ["mixed", "bytes"])
def test_raw_ids_that_save_cannot_store_as_they_are_are_kept_or_refused(tmp_path, kind):
    """save wrote every id array that was not numeric as str: mixed int / str ids came back as strings
    ('3' for 3) and bytes ids decoded, so the loaded model's recommend_raw raised KeyError for the ids it was
    fitted on and returned other ids. Mixed numbers and strings now go into the JSON metadata as they are;
    ids JSON cannot hold (bytes) make save raise, naming the id, before anything is written."""
    users = [3, "a", 7, "b", 3, "a", 7, "b"] if kind == "mixed" else [b"u3", b"ua", b"u7", b"ub"] * 2
    ds = sr.Dataset.from_raw(users, [1, 1, 2, 2, 3, 3, 4, 4], [1.0, 2, 3, 4, 5, 4, 3, 2])
    model = sr.BiasedMF(factors=2, epochs=2).fit(ds)
    path = tmp_path / "m.npz"
    if kind == "bytes":
        with pytest.raises(TypeError, match=r"user id b'u3' \(bytes\)"):
            model.save(path)
        assert list(tmp_path.iterdir()) == []
        return
    model.save(path)
    loaded = sr.load(path)
    assert loaded.user_ids_.tolist() == model.user_ids_.tolist()
    assert [type(v) for v in loaded.user_ids_.tolist()] == [type(v) for v in model.user_ids_.tolist()]
    for raw in ([3, "b"], 7, "a"):
        for a, b in zip(model.recommend(raw, n=2), loaded.recommend(raw, n=2)):
            assert np.array_equal(a, b)


def test_crlf_files_load_like_lf_files(tmp_path):
    lf, crlf = tmp_path / "lf.txt", tmp_path / "crlf.txt"
    lf.write_bytes(b"1 1 2\n2 2 3.5\n")
    crlf.write_bytes(b"1 1 2\r\n2 2 3.5\r\n")
    a, b = sr.datasets.load_files(lf), sr.datasets.load_files(crlf)
    assert (a.ratings != b.ratings).nnz == 0 and a.user_ids.tolist() == b.user_ids.tolist()


# ----------------------------------------------------------------------------------------------------------
# inputs are never modified; strided, non-contiguous and small-integer arrays work
# ----------------------------------------------------------------------------------------------------------
def test_fit_does_not_modify_sparse_inputs(fitted):
    model, data = fitted
    ratings = sp.csr_matrix(data.ratings, dtype=np.float64, copy=True)
    ratings.indices = ratings.indices[::-1].copy()  # unsorted indices: scipy would sort them in place
    ratings = sp.csr_matrix((ratings.data, ratings.indices, ratings.indptr), shape=ratings.shape)
    ratings.has_sorted_indices = False
    trust = sp.coo_matrix(data.trust)
    before = (ratings.data.copy(), ratings.indices.copy(), ratings.indptr.copy(), trust.row.copy(),
              trust.col.copy(), trust.data.copy())
    for a in (ratings.data, ratings.indices, ratings.indptr, trust.row, trust.col, trust.data):
        a.flags.writeable = False  # a write would raise
    make(type(model)).fit(ratings, trust=trust)
    after = (ratings.data, ratings.indices, ratings.indptr, trust.row, trust.col, trust.data)
    for x, y in zip(before, after):
        assert np.array_equal(x, y)


def test_prediction_inputs_are_not_modified_and_read_only_inputs_work(fitted):
    model, _ = fitted
    users = np.array([3, 1, 4, 1, 5], dtype=np.int64)
    items = np.array([2, 7, 1, 8, 2], dtype=np.int64)
    copies = users.copy(), items.copy()
    users.flags.writeable = items.flags.writeable = False
    model.predict(users, items)
    model.recommend(users, n=3, items=items)
    model.similar_users(users, n=2)
    model.similar_items(items, n=2)
    assert np.array_equal(users, copies[0]) and np.array_equal(items, copies[1])


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64,
                                   np.uint64, np.float32, np.float64, object])
def test_any_integer_like_dtype_gives_the_same_answers(fitted, dtype):
    model, _ = fitted
    users, items = np.arange(25) % N_USERS, (np.arange(25) * 7) % N_ITEMS
    expected = model.predict(users, items)
    top = model.recommend(users[:6], n=4)
    np.testing.assert_array_equal(model.predict(users.astype(dtype), items.astype(dtype)), expected)
    got = model.recommend(users[:6].astype(dtype), n=4)
    np.testing.assert_array_equal(got[0], top[0])
    np.testing.assert_array_equal(got[1], top[1])


def test_strided_and_non_contiguous_arrays(fitted):
    model, _ = fitted
    users, items = np.arange(24) % N_USERS, (np.arange(24) * 5) % N_ITEMS
    expected = model.predict(users, items)
    pairs = np.asfortranarray(np.stack([users, items], axis=1))  # columns of a Fortran array: contiguous
    rows = np.ascontiguousarray(np.stack([users, items], axis=1))  # columns of a C array: strided
    np.testing.assert_array_equal(model.predict(pairs[:, 0], pairs[:, 1]), expected)
    np.testing.assert_array_equal(model.predict(rows[:, 0], rows[:, 1]), expected)
    np.testing.assert_array_equal(model.predict(users[::2], items[::2]), expected[::2])
    np.testing.assert_array_equal(model.predict(users[::-1], items[::-1]), expected[::-1])
    np.testing.assert_array_equal(model.recommend(users[::3], n=5)[0], model.recommend(users[::3].copy(), n=5)[0])
    np.testing.assert_array_equal(model.recommend(rows[:, 0], n=2, items=rows[::2, 1])[0],
                                  model.recommend(users, n=2, items=items[::2].copy())[0])
    np.testing.assert_array_equal(model.similar_items(rows[::5, 1], n=3)[0],
                                  model.similar_items(items[::5].copy(), n=3)[0])
    scalar = model.predict(np.int16(users[4]), np.uint8(items[4]))
    assert scalar.shape == (1,) and scalar[0] == expected[4]


def test_empty_queries_give_empty_answers(fitted):
    model, _ = fitted
    assert model.predict([], []).shape == (0,)
    ids, scores = model.recommend([], n=4)
    assert ids.shape == scores.shape == (0, 4)
    assert model.similar_items(np.array([], dtype=np.int64), n=2)[0].shape == (0, 2)
    ids, scores = model.recommend([0, 1], n=3, items=[])  # no candidates: all padding (tests/test_topn.py)
    assert (ids == -1).all() and np.isneginf(scores).all()


@settings(deadline=None, max_examples=int(os.environ.get("SOCIALREC_FUZZ_EXAMPLES", 40)))
@given(st.lists(st.integers(-2**63, 2**64 - 1) | st.floats(allow_nan=True, allow_infinity=True)
                | st.booleans() | st.text(max_size=3) | st.none(), min_size=1, max_size=6))
def test_predict_accepts_exactly_the_valid_indices(values):
    """Whatever the ids, predict either answers (all valid indices) or raises one of the documented errors."""
    model = _HYPO_MODEL()
    users = np.zeros(len(values), dtype=np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        valid = all(isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and abs(v) != float("inf")
                    and float(v).is_integer() and 0 <= v < model.n_items_ for v in values)
    try:
        out = model.predict(users, values)
    except (TypeError, ValueError, IndexError) as e:
        assert not valid, f"valid indices {values} refused: {e}"
        assert "items" in str(e)
    else:
        assert valid, f"invalid indices {values} accepted"
        assert out.shape == (len(values),) and np.all(np.isfinite(out))


_HYPO = {}


def _HYPO_MODEL():
    if "model" not in _HYPO:
        _HYPO["model"] = make(MODELS[0]).fit(data_for(MODELS[0]))
    return _HYPO["model"]
