"""Why the trust predictors barely move Adamic–Adar (issue 24): Adamic–Adar with its ties broken four ways.

    python bench/link_tiebreaks.py            # FilmTrust, LastFM, Epinions (~1 min on 2 busy cores)
    python bench/link_tiebreaks.py --quick    # FilmTrust only

The split and the metric are bench/link_prediction.py's (``train_test_split(ds, test_size=0.0,
trust_test_size=0.1, seed=0)``; ``sr.metrics.link_prediction``, Epinions on 1,000 trusters drawn with seed 0).
Adamic–Adar plus ``1e-9`` times a tie-breaker: none (ties stay ties: AUC counts them half, NDCG@10 takes the
lower index), uniform noise (seed 0), the lower index explicitly, and the trustee's in-degree in the training
graph (popularity, scaled to [0, 1]). Also: the share of held-out edges whose two users share a neighbour in
the training graph (Adamic–Adar > 0), the only edges Adamic–Adar can rank above the rest.
"""
from __future__ import annotations

import numpy as np

import _common
from link_prediction import load


def rows_for(sr, name):
    from socialrec import _links

    ds = load(sr, name)
    train, test = sr.split.train_test_split(ds, test_size=0.0, trust_test_size=0.1, seed=0)
    n = ds.n_users
    in_degree = np.asarray(train.trust.getnnz(axis=0), dtype=np.float64)
    breakers = {"none (as the baseline)": np.zeros(n), "uniform noise": np.random.default_rng(0).random(n),
                "lower index": -np.arange(n) / n, "in-degree (popularity)": in_degree / max(in_degree.max(), 1.0)}

    class TieBroken(sr.baselines.AdamicAdar):
        def __init__(self, tie):
            self.tie = tie

        def _link_scores(self, users):
            return super()._link_scores(users) + 1e-9 * self.tie[None, :]

    adjacency = _links.undirected(train.trust)
    held = _links.binary(test.trust).tocoo()
    shared = np.asarray((adjacency @ adjacency).tocsr()[held.row, held.col]).ravel() > 0
    rows = []
    for label, tie in breakers.items():
        got = sr.metrics.link_prediction(TieBroken(tie).fit(train), test, train=train, k=10,
                                         max_users=1000 if name == "epinions" else None, seed=0)
        rows.append({"data": name, "tie_break": label, "auc": got["auc"], "ndcg": got["ndcg"], "users": got["users"],
                     "held_out_with_shared_neighbour": round(float(shared.mean()), 4)})
    return rows


def run(args):
    import socialrec as sr

    rows = []
    with _common.blas_one_thread():
        for name in ["filmtrust"] if args.quick else ["filmtrust", "lastfm", "epinions"]:
            rows += rows_for(sr, name)
    return {"rows": rows, "columns": ["data", "tie_break", "auc", "ndcg", "users", "held_out_with_shared_neighbour"]}


if __name__ == "__main__":
    _common.main("link_tiebreaks", run, None, __doc__)
