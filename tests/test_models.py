"""Behaviour shared by every model: reference equality, objective and gradient, determinism, persistence,
hyper-parameter validation, and the social models' gain over their non-social bases. Cases live in
model_suite.CASES and model_suite.SOCIAL_GAINS, and the first tests check that every model of the registry
has them."""
from __future__ import annotations

import os
import pathlib
import pickle

import numpy as np
import pytest

import socialrec as sr
from model_suite import CASES, SOCIAL_GAINS, assert_params_close, tiny_data

ids = [c.name for c in CASES]
REGISTRY = sr.models.registry()


@pytest.mark.parametrize("model", REGISTRY, ids=[m.name for m in REGISTRY])
def test_every_registered_model_has_cases_and_a_test_module(model):
    """Registering a model puts it in every cross-cutting suite (they read ``sr.models.registry()``); this
    makes sure it also has its own cases here and its own test module."""
    cases = [c for c in CASES if c.cls == model.name]
    assert cases, f"{model.name}: add a Case to tests/model_suite.py CASES"
    assert all(bool(c.ranking) == (model.kind == "ranking") for c in cases), f"{model.name} is a {model.kind} model"
    in_gains = [g.name for g in SOCIAL_GAINS if model.name in {g.cls, *(b.cls for b in g.bases)}]
    assert in_gains, (f"{model.name}: add a SocialGain row to tests/model_suite.py SOCIAL_GAINS (as a social "
                      "model with its non-social bases, or as the base of one)")
    stem = model.cls.__module__.rsplit(".", 1)[-1]
    module = pathlib.Path(__file__).with_name(f"test_{stem}.py")
    assert module.is_file(), f"{model.name}: add tests/{module.name} (model-specific checks)"


def test_registry_lists_each_model_class_once_with_its_kind_and_back_end():
    from socialrec.models.device import DeviceMixin

    assert [m.name for m in REGISTRY] == [m.cls.__name__ for m in REGISTRY]
    assert len({m.name for m in REGISTRY}) == len(REGISTRY)
    assert all(getattr(sr, m.name) is m.cls for m in REGISTRY), "every registered model is socialrec.<name>"
    assert sr.models.registry("rating") + sr.models.registry("ranking") == REGISTRY  # rating models first
    for m in REGISTRY:
        assert (m.kind == "ranking") == (m.cls._link == "score"), m.name  # scores, not ratings
        # cuda: the class implements the mixin's device path (its own _prepare_cuda, not the abstract one)
        assert m.cuda == (getattr(m.cls, "_prepare_cuda", DeviceMixin._prepare_cuda) is not DeviceMixin._prepare_cuda)
    with pytest.raises(ValueError, match="kind"):
        sr.models.registry("implicit")


def test_registry_derives_kind_and_back_end_from_the_class():
    """A model registered without the CUDA mixin has no CUDA back-end; one on the ranking base is a ranking model."""
    from socialrec.models._registry import _REGISTRY, register
    from socialrec.models.ranking import RankingModel
    from socialrec.models.sgd import SGDModel

    try:
        register(type("CpuRating", (SGDModel,), {}))
        register(type("CpuRanking", (RankingModel,), {}))
        added = {m.name: m for m in sr.models.registry() if m.name in ("CpuRating", "CpuRanking")}
        assert [(m.kind, m.cuda) for m in added.values()] == [("rating", False), ("ranking", False)]
    finally:
        _REGISTRY.pop("CpuRating", None)
        _REGISTRY.pop("CpuRanking", None)
    assert sr.models.registry() == REGISTRY


def test_cases_name_registered_models():
    names = {m.name for m in REGISTRY}
    assert {c.cls for c in CASES} <= names
    assert {g.cls for g in SOCIAL_GAINS} | {b.cls for g in SOCIAL_GAINS for b in g.bases} <= names


def _fit(case, **overrides):
    data = tiny_data(ranking=case.ranking)
    return case.make(**overrides).fit(data), data


def _deterministic(case):
    return {"deterministic": True} if "deterministic" in getattr(sr, case.cls)._defaults else {}


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_cpp_equals_reference_float64(case):
    model, data = _fit(case, dtype="float64", epochs=case.reference_epochs, **_deterministic(case))
    ref = sr.reference.fit(model, data)
    assert_params_close(model.parameters_, ref, rtol=0, atol=1e-10, what=case.name)


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_cpp_float32_close_to_reference(case):
    model, data = _fit(case, dtype="float32", epochs=case.reference_epochs, **_deterministic(case))
    ref = sr.reference.fit(case.make(dtype="float64", epochs=case.reference_epochs, **_deterministic(case)), data)
    assert model.parameters_["user_factors"].dtype == np.float32
    scale = max(np.max(np.abs(v)) for v in ref.values() if np.size(v))
    assert_params_close(model.parameters_, ref, rtol=0, atol=case.float32_rtol * scale, what=case.name)


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_loss_matches_reference(case):
    model, data = _fit(case, dtype="float64")
    assert model.loss(data) == pytest.approx(sr.reference.loss(model, data), rel=1e-9)


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_gradient_matches_finite_differences(case):
    model, data = _fit(case, dtype="float64", epochs=2)
    grad = sr.reference.gradient(model, data)
    params = {k: np.array(v, dtype=np.float64) for k, v in model.parameters_.items()}
    rng = np.random.default_rng(0)
    h = 1e-6
    for name, g in grad.items():
        assert g.shape == params[name].shape, name
        flat = params[name].reshape(-1)
        for idx in rng.choice(flat.size, size=min(6, flat.size), replace=False):
            old = flat[idx]
            flat[idx] = old + h
            up = sr.reference.loss(model, data, params=params)
            flat[idx] = old - h
            down = sr.reference.loss(model, data, params=params)
            flat[idx] = old
            numeric = (up - down) / (2 * h)
            assert g.reshape(-1)[idx] == pytest.approx(numeric, rel=1e-5, abs=1e-6), f"{name}[{idx}]"


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_loss_decreases(case):
    data = tiny_data(ranking=case.ranking)
    short = case.make(epochs=1).fit(data)
    long = case.make(epochs=30).fit(data)
    assert long.loss(data) < short.loss(data)
    assert all(np.isfinite(r["loss"]) for r in long.history) and len(long.history) == 30


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_same_result_on_one_and_two_threads_with_the_default_settings(case):
    """Reproducible by default (issue 16): no ``deterministic`` argument, the same seed, the same model."""
    data = tiny_data(ranking=case.ranking)
    one = case.make(num_threads=1).fit(data)
    two = case.make(num_threads=2).fit(data)
    for k in one.parameters_:
        assert np.array_equal(one.parameters_[k], two.parameters_[k]), k


def test_every_model_is_deterministic_by_default():
    for name in sorted({c.cls for c in CASES}):
        assert getattr(sr, name)._defaults.get("deterministic", True) is True, name


_ONE_CASE_PER_CLASS = list({c.cls: c for c in reversed(CASES)}.values())  # the first case of each class


@pytest.fixture(scope="module")
def threaded_data():
    """Data on which every pass is long enough to run on two threads (a pass of n updates runs on about one
    thread per 4096 of them, sgd.hpp): TrustSVD's two fits with deterministic=False and 1 vs 2 threads differ
    here by up to 0.09, BPR's by 0.17 (2 epochs; measured on the shared 2-core machine)."""
    ds = sr.datasets.synthetic(n_users=3000, n_items=800, density=0.05, trust_per_user=10, seed=1)
    ranking = ds.with_ratings(ds.ratings.copy())
    ranking.ratings.data[:] = 1.0
    return {False: ds, True: ranking}


@pytest.mark.parametrize("case", _ONE_CASE_PER_CLASS, ids=lambda c: c.cls)
def test_default_settings_are_thread_count_independent_where_threads_would_run(case, threaded_data):
    data = threaded_data[case.ranking]
    one = case.make(num_threads=1, epochs=2).fit(data)
    two = case.make(num_threads=2, epochs=2).fit(data)
    for k in one.parameters_:
        assert np.array_equal(one.parameters_[k], two.parameters_[k]), k


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_same_seed_same_result_other_seed_differs(case):
    data = tiny_data(ranking=case.ranking)
    a, b, c = case.make(seed=5).fit(data), case.make(seed=5).fit(data), case.make(seed=6).fit(data)
    assert np.array_equal(a.parameters_["user_factors"], b.parameters_["user_factors"])
    assert not np.array_equal(a.parameters_["user_factors"], c.parameters_["user_factors"])


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_save_load_and_pickle_round_trip_bit_exact(case, tmp_path):
    model, data = _fit(case)
    path = os.path.join(tmp_path, "m.npz")
    model.save(path)
    for other in (sr.load(path), pickle.loads(pickle.dumps(model))):
        assert type(other) is type(model) and other.get_params() == model.get_params()
        for k, v in model.parameters_.items():
            assert other.parameters_[k].dtype == v.dtype and np.array_equal(other.parameters_[k], v), k
        users, items = np.arange(10), np.arange(10) % data.n_items
        assert np.array_equal(other.predict(users, items), model.predict(users, items))
        assert np.array_equal(other.recommend(users, n=5)[0], model.recommend(users, n=5)[0])
        assert other.history == model.history


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=ids)
def test_an_unpickled_model_answers_every_query_as_the_original(case, dtype):
    """Unpickled arrays carry a dtype object equal to, but not the same object as, NumPy's float32 / float64
    (pickle rebuilds the dtype); the C++ bindings compare dtypes by identity, so similar_items/similar_users
    of a model sent through pickle (multiprocessing, joblib) raised 'has dtype float32, expected float32'."""
    model, data = _fit(case, dtype=dtype)
    other = pickle.loads(pickle.dumps(model))
    users, items = np.arange(10), np.arange(10) % data.n_items
    for method, queries in (("similar_items", items), ("similar_users", users)):
        for a, b in zip(getattr(model, method)(queries, n=4), getattr(other, method)(queries, n=4)):
            assert a.dtype == b.dtype and np.array_equal(a, b), method
    for a, b in zip(model.recommend(users, n=5, items=items), other.recommend(users, n=5, items=items)):
        assert np.array_equal(a, b)
    assert sr.metrics.ranking(other, data, train=data, k=3) == sr.metrics.ranking(model, data, train=data, k=3)


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_predictions_finite_and_within_scale(case):
    model, data = _fit(case)
    lo, hi = data.rating_scale
    users = np.repeat(np.arange(data.n_users), 3)
    items = np.tile(np.arange(3), data.n_users)
    p = model.predict(users, items)
    assert p.shape == users.shape and np.all(np.isfinite(p))
    if case.ranking:  # ranking models predict the score x_ui (no rating scale): it must order like recommend
        top = model.recommend([0], n=data.n_items, exclude_seen=False)[0][0]
        scores = model.predict(np.zeros(data.n_items, dtype=np.int64), top)
        assert np.all(np.diff(scores) <= 1e-6 * np.max(np.abs(scores)))
    else:
        assert np.all((p >= lo) & (p <= hi))


@pytest.mark.parametrize("case", [c for c in CASES if not c.ranking], ids=[c.name for c in CASES if not c.ranking])
def test_loss_on_other_data_uses_the_training_rating_scale(case):
    """The objective is that of the fitted model: the logistic models map ratings to [0, 1] with the scale they
    were trained on (as predict does), not with the scale another Dataset infers from its own values. A
    held-out set with a single rating (inferred scale of width 0) gave NaN, one without the extreme ratings a
    different objective."""
    model, data = _fit(case, dtype="float64")
    users, items, values = data.user_item_arrays()
    lo, hi = data.rating_scale
    for keep in (np.arange(1), np.flatnonzero((values > lo) & (values < hi))[:20]):
        kwargs = dict(trust_src=data.trust.tocoo().row, trust_dst=data.trust.tocoo().col,
                      n_users=data.n_users, n_items=data.n_items)
        inferred = sr.Dataset.from_arrays(users[keep], items[keep], values[keep], **kwargs)
        declared = sr.Dataset.from_arrays(users[keep], items[keep], values[keep], rating_scale=(lo, hi), **kwargs)
        assert inferred.rating_scale != declared.rating_scale
        assert np.isfinite(model.loss(inferred))
        assert model.loss(inferred) == pytest.approx(model.loss(declared), rel=1e-12)
        assert sr.reference.loss(model, inferred) == pytest.approx(model.loss(declared), rel=1e-9)


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_bad_hyper_parameters_rejected(case):
    cls = getattr(sr, case.cls)
    for bad in ({"factors": 0}, {"factors": 2.5}, {"epochs": -1}, {"num_threads": -2}, {"dtype": "int8"},
                {"device": "tpu"}, {"seed": -1}, {"no_such_parameter": 1}):
        with pytest.raises((ValueError, TypeError)):
            cls(**bad)
    if "learning_rate" in cls._defaults:
        with pytest.raises(ValueError, match="learning_rate"):
            cls(learning_rate=-0.1)
    model = cls()
    with pytest.raises(ValueError):
        model.set_params(factors=-3)
    assert model.factors == cls._defaults["factors"], "a rejected set_params leaves the model unchanged"


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_unfitted_model_raises(case):
    model = case.make()
    with pytest.raises(sr.NotFittedError):
        model.predict([0], [0])
    with pytest.raises(sr.NotFittedError):
        model.recommend([0])
    with pytest.raises(sr.NotFittedError):
        model.save("never-written.npz")
    assert not os.path.exists("never-written.npz")


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_fit_accepts_sparse_matrices(case):
    data = tiny_data(ranking=case.ranking)
    a = case.make().fit(data)
    b = case.make().fit(data.ratings, trust=data.trust)
    for k in a.parameters_:
        np.testing.assert_array_equal(a.parameters_[k], b.parameters_[k])


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_get_set_params_round_trip(case):
    model = case.make()
    params = model.get_params()
    clone = getattr(sr, case.cls)(**params)
    assert clone.get_params() == params
    assert model.set_params(epochs=3) is model and model.epochs == 3


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_numpy_scalar_hyper_parameters_save_and_load(case, tmp_path):
    """Hyper-parameters from NumPy (np.arange, np.logspace, a grid in an array) pass validation, so save must
    write them too (JSON has no int64 / float32 / bool_)."""
    cls = getattr(sr, case.cls)
    numpy_params = {"factors": np.int64(4), "epochs": np.int32(2), "seed": np.uint16(3)}
    for name, default in cls._defaults.items():
        if name not in numpy_params and isinstance(default, float):
            numpy_params[name] = np.float32(case.params.get(name, default))
        elif isinstance(default, bool):
            numpy_params[name] = np.bool_(case.params.get(name, default))
    data = tiny_data(ranking=case.ranking)
    model = case.make(**numpy_params).fit(data)
    path = os.path.join(tmp_path, "m.npz")
    model.save(path)
    loaded = sr.load(path)
    assert loaded.get_params() == model.get_params()
    users, items = np.arange(10), np.arange(10) % data.n_items
    assert np.array_equal(loaded.predict(users, items), model.predict(users, items))


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_set_params_on_a_fitted_model_never_leaves_arrays_its_parameters_do_not_describe(case, tmp_path):
    """Changing a hyper-parameter that the fitted arrays depend on (their dtype and width, BiasedMF's
    ``biased``, RSTE's ``alpha``) discards the fit: before, save wrote a file that load refused (dtype) or that
    predicted otherwise (biased, alpha), and predict answered from a cache of the old setting. Any other
    change keeps the fit as it is."""
    model, data = _fit(case)
    users, items = np.arange(10), np.arange(10) % data.n_items
    before = model.predict(users, items)
    path = os.path.join(tmp_path, "m.npz")
    kept = {"epochs": model.epochs + 1, "num_threads": 2, "progress": True}
    model.set_params(**kept)
    assert model.fitted and np.array_equal(model.predict(users, items), before)
    model.save(path)
    assert np.array_equal(sr.load(path).predict(users, items), before)
    changes = [{"dtype": "float64"}, {"factors": model.factors + 1}]
    changes += [{"biased": not model.biased}] if "biased" in model.get_params() else []
    changes += [{"alpha": 0.9}] if case.cls == "RSTE" else []
    for change in changes:
        refit = case.make().fit(data)
        refit.set_params(**change)
        assert not refit.fitted, change
        with pytest.raises(sr.NotFittedError):
            refit.predict(users, items)
        with pytest.raises(sr.NotFittedError):
            refit.save(path)
        assert refit.fit(data).fitted and np.all(np.isfinite(refit.predict(users, items)))


# Factor counts that reach every tail of the vector helpers (cpp/include/socialrec/vec.hpp): rows run in
# full-width vectors (AVX-512: 16 float32 or 8 float64 lanes), then one half-width vector, then scalars.
# 3: scalars only; 10: the fixed-size step (half vector + 2 scalars in float32); 12: float64's full vector +
# half vector; 13: half vector + scalars; 37: full vectors, half vector and scalars (run-time size).
TAIL_FACTORS = [3, 10, 12, 13, 37]
TAIL_CASES = [c for c in CASES if c.name in {"BiasedMF", "BiasedMF-adaptive", "SVDpp", "TrustSVD", "SoReg",
                                             "SoReg-SR1-vss", "RSTE", "TrustMF", "SoRec", "SocialMF"}]


@pytest.mark.parametrize("factors", TAIL_FACTORS)
@pytest.mark.parametrize("case", TAIL_CASES, ids=[c.name for c in TAIL_CASES])
def test_cpp_equals_reference_for_every_row_tail(case, factors):
    model, data = _fit(case, dtype="float64", epochs=2, factors=factors, **_deterministic(case))
    ref = sr.reference.fit(model, data)
    assert_params_close(model.parameters_, ref, rtol=0, atol=1e-10, what=f"{case.name} k={factors}")
    model32 = case.make(dtype="float32", epochs=2, factors=factors, **_deterministic(case)).fit(data)
    scale = max(np.max(np.abs(v)) for v in ref.values() if np.size(v))
    assert_params_close(model32.parameters_, ref, rtol=0, atol=case.float32_rtol * scale,
                        what=f"{case.name} float32 k={factors}")


@pytest.mark.parametrize("gain", SOCIAL_GAINS, ids=[g.name for g in SOCIAL_GAINS])
def test_beats_its_base(gain):
    """DESIGN §7(4): on data with planted homophily the social model beats each non-social base it names."""
    train, test = gain.data()
    ranking = {m.name: m.kind for m in REGISTRY}[gain.cls] == "ranking"

    def quality(cls, params):  # held-out RMSE (lower is better) or NDCG@10 (higher is better)
        model = getattr(sr, cls)(**params).fit(train)
        return sr.metrics.ranking(model, test, k=10)["ndcg"] if ranking else sr.metrics.rmse(model, test)

    social = quality(gain.cls, gain.params)
    for base in gain.bases:
        other = quality(base.cls, base.params)
        what = f"{gain.cls} {social:.4f} vs {base.cls}({base.params}) {other:.4f}"
        if ranking:
            assert social > base.factor * other + base.margin, what
        else:
            assert base.margin == 0.0 and social < base.factor * other, what
