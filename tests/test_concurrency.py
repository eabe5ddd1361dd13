"""Concurrency (issue 7): one fitted model serves several Python threads at once with the answers of
sequential calls, and models fitted in parallel threads (the kernels release the GIL) do not interfere."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import socialrec as sr
from socialrec.models.ranking import RankingModel

MODELS = [m.cls for m in sr.models.registry()]  # every model class (the model registry)
THREADS = 8


def data_for(cls, seed=0, n_users=300, n_items=200):
    ds = sr.datasets.synthetic(n_users=n_users, n_items=n_items, density=0.05, seed=seed)
    if issubclass(cls, RankingModel):
        r = ds.ratings.copy()
        r.data[:] = 1
        ds = ds.with_ratings(r)
    return ds


def make(cls, **kw):
    params = {"factors": 8, "epochs": 5, "seed": 0, "num_threads": 2, **kw}
    if "deterministic" in cls._defaults:  # Hogwild passes are not bit-reproducible, even run alone
        params["deterministic"] = True
    return cls(**params)


def _queries(n_users, n_items, k):
    rng = np.random.default_rng(k)
    users = rng.integers(0, n_users, 64)
    return users, rng.integers(0, n_items, 64)


def _answer(model, k):
    users, items = _queries(model.n_users_, model.n_items_, k)
    return (model.predict(users, items), *model.recommend(users[:16], n=7),
            *model.recommend(users[:8], n=3, items=items, exclude_seen=False),
            *model.similar_items(items[:8], n=4), *model.similar_users(users[:8], n=4))


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_queries_from_many_threads_equal_sequential_answers(cls):
    model = make(cls).fit(data_for(cls))
    jobs = list(range(4 * THREADS))
    expected = [_answer(model, k) for k in jobs]
    model._invalidate()  # threads also race to build the lazily cached scoring parts
    barrier = threading.Barrier(THREADS)

    def work(k):
        if k < THREADS:
            barrier.wait()  # the first wave starts together
        return _answer(model, k)

    with ThreadPoolExecutor(THREADS) as pool:
        got = list(pool.map(work, jobs))
    for k, (a, b) in enumerate(zip(expected, got)):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y, err_msg=f"query {k}")


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_models_fitted_in_parallel_threads_equal_models_fitted_alone(cls):
    datasets = [data_for(cls, seed=s, n_users=600, n_items=300) for s in range(4)]
    configs = [dict(seed=s, dtype=("float32", "float64")[s % 2]) for s in range(4)]
    alone = [make(cls, **c).fit(d) for c, d in zip(configs, datasets)]
    together = [make(cls, **c) for c in configs]
    barrier = threading.Barrier(len(together))
    errors = []

    def fit(k):
        try:
            barrier.wait()
            together[k].fit(datasets[k])
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=fit, args=(k,)) for k in range(len(together))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for a, b in zip(alone, together):
        assert [h["loss"] for h in a.history] == [h["loss"] for h in b.history]
        for key in a.parameters_:
            np.testing.assert_array_equal(a.parameters_[key], b.parameters_[key], err_msg=key)


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_queries_during_another_models_fit_are_unaffected(cls):
    served = make(cls).fit(data_for(cls))
    expected = [_answer(served, k) for k in range(6)]
    trainer = make(cls, epochs=20)
    done = threading.Event()

    def train():
        try:
            trainer.fit(data_for(cls, seed=1, n_users=800, n_items=400))
        finally:
            done.set()

    t = threading.Thread(target=train)
    t.start()
    rounds = 0
    while not done.is_set() or rounds == 0:
        for k, e in enumerate(expected):
            for x, y in zip(e, _answer(served, k)):
                np.testing.assert_array_equal(x, y)
        rounds += 1
    t.join()
    assert trainer.fitted and len(trainer.history) == 20


def test_overlapping_queries_leave_the_blas_thread_count_as_they_found_it():
    """topn pins BLAS to one thread around its products (threadpoolctl). Each call saved and restored the
    count on its own, so two overlapping calls (enter A, enter B, exit A, exit B) left the whole process's
    BLAS at one thread: B restored the 1 it had found. Reproduced with recommend from 8 threads."""
    from threadpoolctl import ThreadpoolController

    from socialrec import topn

    controller = ThreadpoolController()
    if not controller.select(user_api="blas").lib_controllers:
        pytest.skip("threadpoolctl finds no BLAS library")

    def blas():
        return [c.num_threads for c in ThreadpoolController().select(user_api="blas").lib_controllers]

    with controller.limit(limits=2, user_api="blas"):
        before = blas()
        a, b = topn.blas_threads(1), topn.blas_threads(1)
        a.__enter__()
        b.__enter__()
        assert set(blas()) == {1}
        a.__exit__(None, None, None)
        assert set(blas()) == {1}, "B still runs its products"
        b.__exit__(None, None, None)
        assert blas() == before
        model = make(sr.BiasedMF).fit(data_for(sr.BiasedMF))
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(lambda k: model.recommend(np.arange(k, model.n_users_, 7), n=5), range(4 * THREADS)))
        assert blas() == before
