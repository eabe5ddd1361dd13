"""Does the friend graph carry signal on LastFM, and where does SBPR put it? (issue 4: "show that ours pay,
or report honestly that they do not and why").

    python bench/social_signal_lastfm.py

Same split as accuracy_lastfm.py (per_user_split(0.2, seed=0) of the binarised listens). For each test user
``u``, the social items ``SP_u`` are the artists some friend listened to in training and ``u`` did not. The
script prints (1) the share of test items that are social items against the share of candidate items that
are, (2) P(test | social) against P(test | not social) inside each popularity decile of the candidates (the
lift that popularity alone does not explain), and (3) for BPR, SBPR (its validation choice of
``social_weight``) and SBPR with the paper's objective, fitted with accuracy_lastfm.py's settings: the share
of their top-10 lists that are social items, their hits among social and other items, and NDCG@10.
"""
from __future__ import annotations

import numpy as np

import _common
from accuracy_lastfm import SETTINGS


def signal(S, R, T):
    """(share of test items in SP_u, share of candidates in SP_u, per-decile [P(test|social), P(test|not)])."""
    n_items = R.shape[1]
    pop = np.diff(R.tocsc().indptr)
    decile = np.minimum(np.argsort(np.argsort(-pop, kind="stable")) * 10 // n_items, 9)
    hits = {True: np.zeros(10), False: np.zeros(10)}
    total = {True: np.zeros(10), False: np.zeros(10)}
    test_share, cand_share = [], []
    for u in np.flatnonzero(np.diff(T.indptr) > 0):
        social = np.zeros(n_items, bool)
        social[S.indices[S.indptr[u]:S.indptr[u + 1]]] = True
        candidate = np.ones(n_items, bool)
        candidate[R.indices[R.indptr[u]:R.indptr[u + 1]]] = False
        held = np.zeros(n_items, bool)
        held[T.indices[T.indptr[u]:T.indptr[u + 1]]] = True
        test_share.append(social[held].mean())
        cand_share.append(social[candidate].mean())
        for flag in (True, False):
            m = candidate & (social == flag)
            np.add.at(total[flag], decile[m], 1)
            np.add.at(hits[flag], decile[m & held], 1)
    rates = [[hits[True][d] / max(total[True][d], 1), hits[False][d] / max(total[False][d], 1)] for d in range(10)]
    return float(np.mean(test_share)), float(np.mean(cand_share)), rates


def top10_use(sr, name, train, S, T, quick=False):
    cls = getattr(sr, name.split()[0])  # "SBPR (paper objective)" is SBPR with social_weight 1
    params = {"factors": 64, **SETTINGS[f"socialrec {name}"][0]}
    if quick:  # --quick (bench/run.py): a smoke run that must fit its time limit, not the measured figures
        params.update(factors=16, epochs=min(params.get("epochs", 10), 10))
    model = cls(num_threads=2, seed=0, **params).fit(train)
    users = np.flatnonzero(np.diff(T.indptr) > 0)
    ids, _ = model.recommend(users, n=10, ids="index")  # rows of S and T: indices
    share, social_hits, other_hits = [], 0, 0
    for row, u in zip(ids, users):
        social = set(S.indices[S.indptr[u]:S.indptr[u + 1]].tolist())
        held = set(T.indices[T.indptr[u]:T.indptr[u + 1]].tolist())
        share.append(np.mean([i in social for i in row]))
        social_hits += sum(1 for i in row if i in social and i in held)
        other_hits += sum(1 for i in row if i not in social and i in held)
    return model, float(np.mean(share)), social_hits, other_hits


def run(args):
    import socialrec as sr
    from socialrec.models.bpr import social_matrix

    ds = _common.lastfm_binary()
    train, test = sr.split.per_user_split(ds, 0.2, seed=0)
    S = social_matrix(train.ratings, train.trust).tocsr()
    R, T = train.ratings.tocsr(), test.ratings.tocsr()
    test_share, cand_share, rates = signal(S, R, T)
    rows = [{"what": "share of test items that are social items", "value": test_share},
            {"what": "share of candidate items that are social items", "value": cand_share}]
    for d in range(3):
        a, b = rates[d]
        rows.append({"what": f"popularity decile {d}: P(test | social) / P(test | not social)",
                     "value": a / b if b else None, "detail": f"{a:.4f} / {b:.4f}"})
    with _common.blas_one_thread():
        for name in ("BPR", "SBPR", "SBPR (paper objective)"):
            model, share, social_hits, other_hits = top10_use(sr, name, train, S, T, quick=args.quick)
            ndcg = _common.ranking_quality(*_common.model_vectors(model), train, test)["ndcg"]
            rows.append({"what": f"{name}: share of top-10 that are social items", "value": share,
                         "detail": f"hits: {social_hits} social, {other_hits} other; NDCG@10 {ndcg:.4f}"})
    return {"rows": rows, "columns": ["what", "value", "detail"],
            "settings": {"split": "per_user_split(0.2, seed=0)", "models": "accuracy_lastfm.py SETTINGS[0]"
                         + (" (--quick: factors 16, at most 10 epochs)" if args.quick else "")}}


if __name__ == "__main__":
    _common.main("social_signal_lastfm", run, None, __doc__)
