"""Held-out trust edges (``split.train_test_split(trust_test_size=)``), ``metrics.link_prediction`` and the
neighbourhood baselines (issue 24)."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import socialrec as sr


def _edges(m):
    m = m.tocoo()
    return set(zip(m.row.tolist(), m.col.tolist()))


def test_trust_split_partitions_the_edges_and_keeps_the_rating_split():
    ds = sr.datasets.synthetic(n_users=150, n_items=60, seed=2)
    train, test = sr.split.train_test_split(ds, test_size=0.2, seed=5, trust_test_size=0.25)
    kept, held = _edges(train.trust), _edges(test.trust)
    assert not kept & held and kept | held == _edges(ds.trust)
    assert len(held) == round(0.25 * ds.trust.nnz)
    plain_train, plain_test = sr.split.train_test_split(ds, test_size=0.2, seed=5)
    assert (plain_test.ratings != test.ratings).nnz == 0 and (plain_train.ratings != train.ratings).nnz == 0
    # test_size=0: every rating trains
    train, test = sr.split.train_test_split(ds, test_size=0.0, trust_test_size=0.1, seed=0)
    assert train.ratings.nnz == ds.nnz and test.ratings.nnz == 0 and test.trust.nnz == round(0.1 * ds.trust.nnz)


def test_symmetric_graphs_hold_out_both_directions_of_a_pair():
    ds = sr.datasets.synthetic(n_users=120, n_items=40, seed=1)
    t = ((ds.trust + ds.trust.T) > 0).astype(np.float32).tocsr()
    sym = sr.Dataset.from_sparse(ds.ratings, trust=t)
    train, test = sr.split.train_test_split(sym, test_size=0.0, trust_test_size=0.2, seed=3)
    held, kept = _edges(test.trust), _edges(train.trust)
    assert all((v, u) in held for u, v in held) and all((v, u) in kept for u, v in kept)
    assert len(held) == 2 * round(0.2 * (t.nnz // 2))
    # a friendship graph stored both ways with unequal weights is symmetric too: pairs still go together
    w = t.copy()
    w.data = np.random.default_rng(0).uniform(0.5, 1.0, w.nnz).astype(np.float32)
    train, test = sr.split.train_test_split(sr.Dataset.from_sparse(ds.ratings, trust=w), test_size=0.0,
                                            trust_test_size=0.2, seed=3)
    held = _edges(test.trust)
    assert all((v, u) in held for u, v in held) and len(held) == 2 * round(0.2 * (t.nnz // 2))


@pytest.mark.parametrize("bad", [{"trust_test_size": 1.0}, {"trust_test_size": -0.1}, {"test_size": 0.0},
                                 {"trust_test_size": 1e-9}])
def test_bad_fractions_raise(bad):
    ds = sr.datasets.synthetic(n_users=50, n_items=30, seed=0)
    with pytest.raises(ValueError, match="size"):
        sr.split.train_test_split(ds, **{"test_size": 0.2, **bad})


class _Oracle:
    """A scorer that knows the held-out edges (score 1, else 0) or scores at random."""

    def __init__(self, train, held, random=False):
        self.n_users_, self.n_items_ = train.ratings.shape
        self.user_ids_, self.item_ids_ = train.user_ids, train.item_ids
        self.trust_graph_, self.held, self.random = train.trust, held.tocsr(), random

    def _require_fitted(self):
        pass

    def _link_scores(self, users):
        if self.random:
            return np.random.default_rng(int(users[0])).random((len(users), self.n_users_))
        return np.asarray(self.held[users].todense(), dtype=np.float64)


def test_link_prediction_of_a_perfect_and_a_random_scorer():
    ds = sr.datasets.synthetic(n_users=300, n_items=40, seed=4)
    train, test = sr.split.train_test_split(ds, test_size=0.0, trust_test_size=0.2, seed=0)
    perfect = sr.metrics.link_prediction(_Oracle(train, test.trust), test, train=train)
    assert perfect["auc"] == 1.0 and perfect["ndcg"] == 1.0
    assert perfect["users"] == int(np.sum(np.diff(test.trust.indptr) > 0))
    rand = sr.metrics.link_prediction(_Oracle(train, test.trust, random=True), test, train=train)
    assert abs(rand["auc"] - 0.5) < 0.06 and rand["ndcg"] < 0.2
    few = sr.metrics.link_prediction(_Oracle(train, test.trust), test, train=train, max_users=5)
    assert few["users"] == 5


def test_baselines_count_shared_neighbours():
    # 0 - 1, 0 - 2, 3 - 1, 3 - 2 (directions mixed), 3 - 4, 4 - 5: 0 and 3 share {1, 2}, 0 and 4 none
    src, dst = [0, 2, 1, 3, 4, 5], [1, 0, 3, 2, 3, 4]
    trust = sp.csr_matrix((np.ones(6), (src, dst)), shape=(6, 6))
    ds = sr.Dataset.from_sparse(sp.csr_matrix(np.eye(6, 2)), trust=trust)
    cn = sr.baselines.CommonNeighbours().fit(ds)
    scores = cn._link_scores(np.array([0]))[0]
    np.testing.assert_array_equal(scores, [2, 0, 0, 2, 0, 0])  # itself: 2 (excluded by the callers)
    aa = sr.baselines.AdamicAdar().fit(ds)
    # 1 has neighbours {0, 3}, 2 has {0, 3}: each counts 1 / log 2
    assert aa._link_scores(np.array([0]))[0][3] == pytest.approx(2 / np.log(2))
    ids, scores = cn.recommend_users([0], n=2)
    assert ids[0, 0] == 3 and scores[0, 0] == 2
    # ties at 0 go to the lower index: 0 itself and its trustee 1 are excluded, 2 (who trusts 0) is not
    assert ids[0, 1] == 2 and scores[0, 1] == 0


def test_the_best_link_predictor_beats_random_on_planted_data():
    ds = sr.datasets.synthetic(n_users=300, n_items=80, seed=6)
    train, test = sr.split.train_test_split(ds, test_size=0.0, trust_test_size=0.1, seed=0)
    aa = sr.metrics.link_prediction(sr.baselines.AdamicAdar().fit(train), test, train=train)
    model = sr.TrustMF(factors=8, epochs=30, seed=0, num_threads=1).fit(train)
    got = sr.metrics.link_prediction(model, test, train=train)
    assert 0.0 <= got["ndcg"] <= 1.0 and got["auc"] > 0.55 and aa["auc"] > 0.5


def test_link_prediction_needs_held_out_edges():
    ds = sr.datasets.synthetic(n_users=60, n_items=30, seed=0)
    train, test = sr.split.train_test_split(ds, test_size=0.2, seed=0)
    model = sr.baselines.CommonNeighbours().fit(train)
    with pytest.raises(ValueError, match="held-out trust edge"):
        sr.metrics.link_prediction(model, _no_trust(test), train=train)
    with pytest.raises(ValueError, match="k=0"):
        sr.metrics.link_prediction(model, test, train=train, k=0)


def _no_trust(ds):
    return sr.Dataset.from_sparse(ds.ratings, trust=sp.csr_matrix(ds.trust.shape), rating_scale=ds.rating_scale)


def test_link_prediction_without_train_uses_the_models_own_graph_and_checks_max_users():
    ds = sr.datasets.synthetic(n_users=80, n_items=30, seed=4)
    train, test = sr.split.train_test_split(ds, test_size=0.0, trust_test_size=0.2, seed=1)
    model = sr.TrustMF(epochs=2, seed=0).fit(train)
    assert sr.metrics.link_prediction(model, test) == sr.metrics.link_prediction(model, test, train=train)
    with pytest.raises(ValueError, match="max_users=0"):
        sr.metrics.link_prediction(model, test, max_users=0)
    del model.trust_graph_  # as a file saved before models kept their graph: the refit message, not scipy's
    model.trust_graph_ = None
    with pytest.raises(ValueError, match="fit it again"):
        sr.metrics.link_prediction(model, test)


def test_closure_adds_adamic_adar_and_a_large_weight_ranks_by_it_first():
    """``recommend_users(closure=w)``: the trust predictor plus ``w`` times Adamic–Adar of the training graph;
    a large ``w`` lists users in Adamic–Adar order and lets the predictor order the ties."""
    ds = sr.datasets.synthetic(n_users=200, n_items=40, seed=6)
    train, test = sr.split.train_test_split(ds, test_size=0.0, trust_test_size=0.1, seed=0)
    model = sr.TrustMF(factors=8, epochs=10, seed=0, num_threads=1).fit(train)
    users = np.arange(0, 200, 7, dtype=np.int64)
    own = model._link_scores(users)
    aa = sr.baselines.AdamicAdar().fit(train)._link_scores(users)
    np.testing.assert_allclose(model._link_scorer(0.5)(users), own + 0.5 * aa, rtol=0, atol=1e-12)
    plain = model.recommend_users(users, n=12, ids="index")
    same = model.recommend_users(users, n=12, closure=0.0, ids="index")
    assert all(np.array_equal(a, b) for a, b in zip(plain, same))
    ids, _ = model.recommend_users(users, n=30, closure=1e6, ids="index")
    assert np.any(ids != model.recommend_users(users, n=30, ids="index")[0])
    for r in range(len(users)):
        a, s = aa[r][ids[r]], own[r][ids[r]]
        assert np.all(np.diff(a) <= 1e-9), r  # Adamic-Adar first
        tied = np.diff(a) == 0
        assert np.all(np.diff(s)[tied] <= 1e-9), r  # its ties by the trust predictor
    # link_prediction scores the same option under the same protocol
    got = sr.metrics.link_prediction(model, test, train=train, closure=1e6)
    assert got != sr.metrics.link_prediction(model, test, train=train)
    baseline = sr.baselines.AdamicAdar().fit(train)  # (1 + w) AA ranks as AA does
    assert (sr.metrics.link_prediction(baseline, test, train=train, closure=3.0)
            == sr.metrics.link_prediction(baseline, test, train=train))


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), "1", True, None])
def test_bad_closure_raises(bad):
    ds = sr.datasets.synthetic(n_users=60, n_items=30, seed=0)
    train, test = sr.split.train_test_split(ds, test_size=0.0, trust_test_size=0.2, seed=0)
    model = sr.baselines.CommonNeighbours().fit(train)
    with pytest.raises(ValueError, match="closure="):
        model.recommend_users([0], n=3, closure=bad)
    with pytest.raises(ValueError, match="closure="):
        sr.metrics.link_prediction(model, test, train=train, closure=bad)
