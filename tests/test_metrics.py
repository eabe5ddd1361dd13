"""Ranking metrics: the C++ kernel equals its NumPy reference, the definitions hold on worked examples,
``metrics.ranking`` / ``evaluate`` / ``cross_validate`` / early stopping use them; rmse and mae unchanged."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import socialrec as sr
from socialrec import _core
from socialrec.models.biased_mf import BiasedMF
from socialrec.models.ranking import RankingModel
from socialrec.reference import ranking as ref
from strategies import datasets
from test_topn import integer_model

SETTINGS = settings(deadline=None, max_examples=40)


def csr_lists(lists):
    indptr = np.concatenate([[0], np.cumsum([len(x) for x in lists])]).astype(np.int64)
    indices = np.array([i for x in lists for i in x], dtype=np.int32)
    return indptr, indices


@st.composite
def ranking_problems(draw):
    """Top-k lists drawn from each user's candidates (items minus exclusions), test sets that may overlap
    the exclusions, users in any order (repeats allowed)."""
    n_items = draw(st.integers(1, 15))
    n_users = draw(st.integers(1, 6))
    k = draw(st.integers(1, 8))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    excluded = [sorted(set(rng.choice(n_items, size=rng.integers(0, n_items + 1)).tolist())) for _ in range(n_users)]
    tests = [sorted(set(rng.choice(n_items, size=rng.integers(1, n_items + 1)).tolist())) for _ in range(n_users)]
    if draw(st.booleans()):  # unsorted test rows: the kernel sorts a copy
        tests = [list(rng.permutation(t)) for t in tests]
    users = np.array(draw(st.lists(st.integers(0, n_users - 1), min_size=1, max_size=8)), dtype=np.int64)
    top = np.full((len(users), k), -1, dtype=np.int64)
    for r, u in enumerate(users):
        candidates = np.setdiff1d(np.arange(n_items), excluded[u])
        listed = rng.permutation(candidates)[: rng.integers(0, k + 1)] if len(candidates) else []
        if len(candidates) and len(listed) < min(k, len(candidates)) and draw(st.booleans()):
            listed = rng.permutation(candidates)[: min(k, len(candidates))]  # full lists are the usual case
        top[r, : len(listed)] = listed
    use_exclusion = draw(st.booleans())
    if not use_exclusion:
        top[:] = -1
        for r in range(len(users)):
            listed = rng.permutation(n_items)[: min(k, n_items)]
            top[r, : len(listed)] = listed
    return dict(top=top, users=users, test=csr_lists(tests), exclude=csr_lists(excluded) if use_exclusion else None,
                n_items=n_items)


@SETTINGS
@given(ranking_problems(), st.sampled_from([1, 2]))
def test_kernel_equals_reference(problem, threads):
    exclude = problem["exclude"] or (None, None)
    got = _core.ranking_metrics(problem["top"], problem["users"], *problem["test"], exclude_indptr=exclude[0],
                                exclude_indices=exclude[1], n_items=problem["n_items"], threads=threads)
    want = ref.ranking_metrics(problem["top"], problem["users"], problem["test"], problem["exclude"],
                               problem["n_items"])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    assert _core.RANKING_METRIC_NAMES == ref.METRICS == sr.metrics.RANKING_METRICS


def test_definitions_on_a_worked_example():
    # 10 items; user 0 has excluded items {0, 1}; test items {3, 5, 9, 1}; its top-4 list is [3, 4, 5, 6].
    top = np.array([[3, 4, 5, 6]])
    test = csr_lists([[1, 3, 5, 9]])
    exclude = csr_lists([[0, 1]])
    got = _core.ranking_metrics(top, np.array([0]), *test, exclude_indptr=exclude[0], exclude_indices=exclude[1],
                                n_items=10)[0]
    precision, recall, ndcg, ap, hit, auc = got
    assert precision == pytest.approx(2 / 4)
    assert recall == pytest.approx(2 / 4)                     # |T_u| = 4 (item 1 counts though excluded)
    dcg = 1 / math.log2(2) + 1 / math.log2(4)                 # hits at positions 0 and 2
    idcg = sum(1 / math.log2(j + 2) for j in range(4))        # min(k, |T_u|) = 4
    assert ndcg == pytest.approx(dcg / idcg)
    assert ap == pytest.approx((1 / 1 + 2 / 3) / 4)
    assert hit == 1.0
    # candidates: 8 items {2..9}; positives {3, 5, 9}; negatives {2, 4, 6, 7, 8} (5 of them).
    # 3 beats all 5; 5 beats 4 of them (4 ranks above it); 9 (unlisted) ties with the unlisted 2, 7, 8.
    assert auc == pytest.approx((5 + 4 + 0.5 * 3) / (3 * 5))


def test_auc_with_the_whole_list_is_the_exact_auc():
    rng = np.random.default_rng(0)
    n_items = 40
    scores = rng.permutation(n_items).astype(float)
    positives = rng.choice(n_items, size=7, replace=False)
    order = np.argsort(-scores, kind="stable")
    auc = _core.ranking_metrics(order[None, :], np.array([0]), *csr_lists([sorted(positives)]),
                                n_items=n_items)[0, 5]
    negatives = np.setdiff1d(np.arange(n_items), positives)
    exact = np.mean([scores[p] > scores[q] for p in positives for q in negatives])  # Mann-Whitney
    assert auc == pytest.approx(exact)
    # Truncated lists: unlisted pairs count 1/2, so an empty list scores 0.5.
    empty = _core.ranking_metrics(np.full((1, 3), -1), np.array([0]), *csr_lists([sorted(positives)]),
                                  n_items=n_items)[0]
    assert empty[5] == 0.5 and empty[:5].tolist() == [0, 0, 0, 0, 0]


def test_auc_undefined_without_negatives_is_left_out_of_the_mean():
    got = _core.ranking_metrics(np.array([[0, 1], [0, -1]]), np.array([0, 1]), *csr_lists([[0, 1], [0]]),
                                n_items=2)
    assert math.isnan(got[0, 5]) and got[1, 5] == 1.0


# ----------------------------------------------------------------------------------------------------------
# metrics.ranking end to end
# ----------------------------------------------------------------------------------------------------------
def split_model(seed=0, **kw):
    ds = sr.datasets.synthetic(n_users=60, n_items=40, seed=seed)
    train, test = sr.split.train_test_split(ds, test_size=0.3, seed=seed)
    return integer_model(train, seed, **kw), train, test


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_ranking_equals_reference(dtype):
    model, train, test = split_model(dtype=dtype)
    for k in (1, 5, 50):
        got = sr.metrics.ranking(model, test, k=k)
        want = ref.ranking(model, test, k=k)
        assert set(got) == set(sr.metrics.RANKING_METRICS)
        for name in got:
            assert got[name] == pytest.approx(want[name], rel=1e-12, abs=1e-15), name


@settings(deadline=None, max_examples=25)
@given(datasets(min_users=2, max_users=10, min_items=2, max_items=12, min_ratings=5, max_ratings=50),
       st.integers(0, 2**16), st.integers(1, 6), st.sampled_from([None, "all", 2.5]))
def test_ranking_equals_reference_on_random_splits(ds, seed, k, relevant):
    train, test = sr.split.train_test_split(ds, test_size=0.4, seed=seed % 7)
    model = integer_model(train, seed)
    if ref.relevant_entries(model, test.ratings.tocsr(), relevant).nnz == 0:
        with pytest.raises(ValueError, match="no user to evaluate: the test data has no relevant entries"):
            sr.metrics.ranking(model, test, k=k, relevant=relevant)
        return
    got, want = sr.metrics.ranking(model, test, k=k, relevant=relevant), ref.ranking(model, test, k=k,
                                                                                     relevant=relevant)
    for name in got:
        assert got[name] == pytest.approx(want[name], rel=1e-12, abs=1e-15, nan_ok=True), name


def test_k_beyond_the_item_count_needs_no_list_of_k_items():
    # A list never holds more than n_items items: k = 10**9 (e.g. "the exact AUC, whatever the catalogue")
    # must not allocate users x k entries, and gives the values of k = n_items except precision = hits / k.
    model, train, test = split_model(seed=4)
    n_items = model.n_items_
    users, whole = sr.metrics.ranking_per_user(model, test, train=train, k=n_items)
    for k in (n_items + 7, 10**9):
        same, values = sr.metrics.ranking_per_user(model, test, train=train, k=k)
        np.testing.assert_array_equal(same, users)
        np.testing.assert_array_equal(values[:, 1:], whole[:, 1:])
        np.testing.assert_array_equal(values[:, 0], np.rint(whole[:, 0] * n_items) / k)
    got, want = sr.metrics.ranking(model, test, k=n_items + 7), ref.ranking(model, test, k=n_items + 7)
    assert got == pytest.approx(want, rel=1e-12, abs=1e-15, nan_ok=True)


def test_train_argument_overrides_the_models_own_exclusions():
    model, train, test = split_model(seed=1)
    default = sr.metrics.ranking(model, test, k=10)
    assert sr.metrics.ranking(model, test, train=train, k=10) == default
    nothing = train.with_ratings(sp.csr_matrix(train.ratings.shape, dtype=np.float32))
    without = sr.metrics.ranking(model, test, train=nothing, k=10)
    assert without == ref.ranking(model, test, train=nothing, k=10)
    assert without != default


def test_users_subset_and_per_user_values():
    model, train, test = split_model(seed=2)
    users, values = sr.metrics.ranking_per_user(model, test, k=5)
    assert np.all(np.diff(test.ratings.indptr)[users] > 0)
    # the evaluated users: those with a relevant test item (a rating model on 1-5: 4 or 5 stars)
    assert len(users) == np.count_nonzero(np.diff(ref.relevant_entries(model, test.ratings.tocsr()).indptr))
    assert len(users) == np.count_nonzero(np.diff((test.ratings >= 3.4).tocsr().indptr))
    subset = users[::3]
    got = sr.metrics.ranking(model, test, k=5, users=np.concatenate([subset, subset]))
    assert got["ndcg"] == pytest.approx(values[::3, 2].mean())
    want = ref.ranking(model, test, k=5, users=subset)
    assert all(got[m] == pytest.approx(v, rel=1e-12, nan_ok=True) for m, v in want.items())


def test_bad_input_raises():
    model, train, test = split_model()
    for k in (0, -2, 1.5):
        with pytest.raises(ValueError, match="k="):
            sr.metrics.ranking(model, test, k=k)
    other = sr.datasets.synthetic(n_users=61, n_items=40, seed=0)
    with pytest.raises(ValueError, match="index space"):
        sr.metrics.ranking(model, other)
    with pytest.raises(ValueError, match="index space"):
        sr.metrics.ranking(model, test, train=other)
    empty = test.with_ratings(sp.csr_matrix(test.ratings.shape, dtype=np.float32))
    with pytest.raises(ValueError, match="no user to evaluate"):
        sr.metrics.ranking(model, empty)
    with pytest.raises(IndexError, match="users"):
        sr.metrics.ranking(model, test, users=[1000])


def test_rating_metrics_check_users_as_ranking_does():
    """rmse/mae/errors took ``users`` through np.isin without a check: a boolean mask selected users 0 and 1,
    fractional or out-of-range indices were ignored silently (or ended in 'no ratings to evaluate'), where
    ranking raises. Now the same TypeError / IndexError as ranking and predict."""
    model, train, test = split_model(seed=2)
    rated = np.flatnonzero(np.diff(test.ratings.indptr) > 0)
    u, _, _ = test.user_item_arrays()
    mask = np.zeros(test.n_users, dtype=bool)
    mask[rated[:5]] = True
    for bad, error in ((mask, TypeError), ([True, False], TypeError), ([rated[0], 0.5], TypeError),
                       (["a"], TypeError), ([rated[0], test.n_users], IndexError), ([-1], IndexError)):
        for metric in (sr.metrics.rmse, sr.metrics.mae, sr.metrics.errors):
            with pytest.raises(error, match="users"):
                metric(model, test, users=bad)
        with pytest.raises(error, match="users"):
            sr.evaluate(model, test, users=bad)
    subset = rated[:5]
    e = sr.metrics.errors(model, test, users=subset)
    assert len(e) == np.isin(u, subset).sum()
    assert sr.metrics.rmse(model, test, users=list(subset)) == pytest.approx(float(np.sqrt(np.mean(e * e))))
    assert sr.metrics.rmse(model, test, users=np.flatnonzero(mask)) == sr.metrics.rmse(model, test, users=subset)
    without = np.setdiff1d(np.arange(test.n_users), rated)[:3]
    with pytest.raises(ValueError, match="no ratings to evaluate"):
        sr.metrics.rmse(model, test, users=without)


# ----------------------------------------------------------------------------------------------------------
# evaluate, cross_validate, early stopping on NDCG
# ----------------------------------------------------------------------------------------------------------
def test_evaluate_reports_rating_and_ranking_metrics():
    model, train, test = split_model(seed=3)
    out = sr.evaluate(model, test, train=train, k=5)
    assert set(out) == {"rmse", "mae", "segments", *sr.metrics.RANKING_METRICS}
    assert out["rmse"] == sr.metrics.rmse(model, test)
    assert {k: out[k] for k in sr.metrics.RANKING_METRICS} == sr.metrics.ranking(model, test, train=train, k=5)
    assert set(sr.evaluate(model, test, ranking=False)) == {"rmse", "mae"}


def test_cross_validate_reports_ranking_metrics():
    ds = sr.datasets.synthetic(n_users=50, n_items=30, seed=4)
    out = sr.cross_validate(sr.BiasedMF, ds, folds=3, seed=0, k=5, factors=3, epochs=3)
    assert {"rmse", "mae", "ndcg", "precision", "recall", "map", "hit_rate", "auc", "fit_seconds"} <= set(out)
    assert len(out["ndcg"]["folds"]) == 3 and 0 <= out["ndcg"]["mean"] <= 1
    assert "ndcg" not in sr.cross_validate(sr.BiasedMF, ds, folds=2, ranking=False, factors=3, epochs=2)


class RankedMF(RankingModel, BiasedMF):
    """BiasedMF trained as usual but validated like a ranking model (NDCG@10), for the test below."""


def test_ranking_models_validate_and_stop_early_on_ndcg():
    ds = sr.datasets.synthetic(n_users=80, n_items=50, seed=5)
    train, val = sr.split.train_test_split(ds, test_size=0.2, seed=0)
    model = RankedMF(factors=4, epochs=12, learning_rate=0.02).fit(train, validation=val, early_stopping=2)
    record = model.history[-1]
    assert {f"val_{m}" for m in sr.metrics.RANKING_METRICS} <= set(record)
    best = max(r["val_ndcg"] for r in model.history)
    assert sr.metrics.ranking(model, val, k=10)["ndcg"] == pytest.approx(best)
    assert set(sr.evaluate(model, val)) == set(sr.metrics.RANKING_METRICS)  # ranking models predict no rating


def test_most_popular_on_lastfm_matches_the_peers_protocol(shared_data):
    """PEERS.md measured most-popular on LastFM (per-user 80/20, top-10 over all items seen in training,
    training items excluded, ties to the lower index): NDCG@10 .0836, P@10 .0702, R@10 .0767, 1,871 users."""
    ds = sr.datasets.load_lastfm(shared_data("lastfm"))
    listens = ds.ratings.copy()
    listens.data[:] = 1.0
    train, test = sr.split.per_user_split(ds.with_ratings(listens), test_size=0.2, min_ratings=5, seed=0)
    model = sr.BiasedMF(factors=1, epochs=0).fit(train)
    for name, value in model.parameters_.items():
        value[...] = 0.0
    model.parameters_["item_bias"][:] = np.diff(train.ratings.tocsc().indptr)  # popularity as the score
    users, _ = sr.metrics.ranking_per_user(model, test, k=10)
    got = sr.metrics.ranking(model, test, k=10)
    assert len(users) == 1871
    assert got["ndcg"] == pytest.approx(0.0836, abs=5e-5)
    assert got["precision"] == pytest.approx(0.0702, abs=5e-5)
    assert got["recall"] == pytest.approx(0.0767, abs=5e-5)


# ----------------------------------------------------------------------------------------------------------
# relevance: which test entries count (metrics.ranking's relevant=)
# ----------------------------------------------------------------------------------------------------------
def _ordered_model(cls):
    """A model fitted on 2 users x 4 items (item 3 seen by both, ratings 1 and 5: scale 1-5) whose scores rank
    the items 0 > 1 > 2 > 3 for both users."""
    model = cls(factors=1, epochs=0).fit(sp.csr_matrix(np.array([[0, 0, 0, 1.0], [0, 0, 0, 5.0]])))
    for value in model.parameters_.values():
        value[...] = 0
    model.parameters_["user_factors"][:] = 1
    model.parameters_["item_factors"][:, 0] = [4, 3, 2, 1]
    model._scoring_cache = None
    return model


def test_a_one_star_rating_is_not_relevant_by_default():
    """Hand-computed. Lists @2 are [0, 1] for both users. Test: user 0 rated item 0 one star and item 1 five,
    user 1 rated item 2 four. Default (a rating model on 1-5: relevant from 1 + 0.6 * 4 = 3.4): T_0 = {1},
    T_1 = {2}; user 0 hits item 1 at rank 2 (NDCG 1/log2(3), precision 1/2), user 1 hits nothing."""
    model = _ordered_model(sr.BiasedMF)
    test = sp.csr_matrix(np.array([[1.0, 5.0, 0, 0], [0, 0, 4.0, 0]]))
    assert sr.metrics.relevance_threshold(model) == pytest.approx(3.4)
    got = sr.metrics.ranking(model, test, k=2)
    assert got["ndcg"] == pytest.approx(0.5 / math.log2(3), rel=1e-12)
    assert (got["precision"], got["recall"], got["hit_rate"]) == (0.25, 0.5, 0.5)
    # every entry relevant (the old behaviour): user 0 hits both, the 1-star item first
    every = sr.metrics.ranking(model, test, k=2, relevant="all")
    assert (every["ndcg"], every["precision"]) == (0.5, 0.5)
    # relevant=5: user 1 has no relevant item and is not evaluated
    users, values = sr.metrics.ranking_per_user(model, test, k=2, relevant=5)
    assert users.tolist() == [0] and values[0, 2] == pytest.approx(1 / math.log2(3), rel=1e-12)
    for relevant in (None, "all", 5):
        assert sr.metrics.ranking(model, test, k=2, relevant=relevant) == pytest.approx(
            ref.ranking(model, sr.Dataset(test), k=2, relevant=relevant), nan_ok=True)
    # sr.evaluate passes it on
    assert sr.evaluate(model, sr.Dataset(test), k=2)["ndcg"] == pytest.approx(got["ndcg"])
    assert sr.evaluate(model, sr.Dataset(test), k=2, relevant="all")["ndcg"] == 0.5


def test_every_count_is_relevant_for_a_ranking_model():
    """BPR (implicit feedback): a count of 1 is an interaction like a count of 5, whatever the scale."""
    model = _ordered_model(sr.BPR)
    test = sp.csr_matrix(np.array([[1.0, 5.0, 0, 0], [0, 0, 4.0, 0]]))
    assert sr.metrics.relevance_threshold(model) is None
    assert sr.metrics.ranking(model, test, k=2)["ndcg"] == 0.5
    assert sr.metrics.ranking(model, test, k=2, relevant=3.4)["ndcg"] == pytest.approx(0.5 / math.log2(3))


def test_binarised_test_data_count_every_entry_for_a_rating_model():
    """0/1 test data (all values 1) on a rating model keep every entry, even with a 1-5 training scale."""
    model = _ordered_model(sr.BiasedMF)
    test = sp.csr_matrix(np.array([[1.0, 1.0, 0, 0], [0, 0, 1.0, 0]]))
    assert sr.metrics.relevance_threshold(model, values=test.data) is None
    assert sr.metrics.ranking(model, test, k=2)["ndcg"] == 0.5
    assert sr.metrics.ranking(model, test, k=2) == ref.ranking(model, sr.Dataset(test), k=2)


def test_bad_relevant_rejected():
    model = _ordered_model(sr.BiasedMF)
    test = sp.csr_matrix(np.array([[1.0, 5.0, 0, 0], [0, 0, 4.0, 0]]))
    for bad, error in (("some", ValueError), (True, TypeError), (float("nan"), TypeError), ([4], TypeError)):
        with pytest.raises(error, match="relevant"):
            sr.metrics.ranking(model, test, relevant=bad)
    with pytest.raises(ValueError, match=r"no relevant entries \(value >= 6\)"):
        sr.metrics.ranking(model, test, relevant=6)
