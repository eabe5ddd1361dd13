"""Epoch cost of SVD++ and TrustSVD against BiasedMF on the same ratings plus a trust graph with as many edges
as ratings / 4 (issue "Social rating models on CPU": each social model within 3x of BiasedMF's epoch).

    python bench/epoch_svdpp_trustsvd.py             # ~1M ratings, 20k users x 10k items, ~250k edges, k=10
    python bench/epoch_svdpp_trustsvd.py --quick     # ~200k ratings

Epoch seconds are the fastest per-epoch time in `model.history` over --repeat fits, the three models
interleaved (the kernel call only: packing and initialisation excluded, the same for every model; the minimum
because on a shared machine other processes only ever add time); ratio = model epoch / BiasedMF epoch
(< 3 is the target).
Both threads counts are run; SVD++/TrustSVD with deterministic=False (their Hogwild default) and, on one
thread, that is the same single order as deterministic=True. Test RMSE on a 10% hold-out next to each timing.
"""
from __future__ import annotations

import argparse

import numpy as np
from threadpoolctl import threadpool_limits

import socialrec as sr
from _peers import emit


def trust_with_edges(ds, n_edges, seed):
    """Replace ds's trust graph by a synthetic one with exactly n_edges distinct directed edges."""
    rng = np.random.default_rng(seed)
    n = ds.n_users
    keys = np.unique(rng.integers(0, n, size=2 * n_edges) * n + rng.integers(0, n, size=2 * n_edges))
    keys = keys[keys // n != keys % n]
    keys = rng.permutation(keys)[:n_edges]
    users, items, values = ds.user_item_arrays()
    return sr.Dataset.from_arrays(users, items, values, trust_src=keys // n, trust_dst=keys % n, n_users=n,
                                  n_items=ds.n_items, rating_scale=ds.rating_scale)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--factors", type=int, default=10)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    n_users, n_items = (4000, 2000) if args.quick else (20000, 10000)
    base = sr.datasets.synthetic(n_users=n_users, n_items=n_items, density=0.005 if not args.quick else 0.025,
                                 seed=0)
    train, test = sr.split.train_test_split(base, test_size=0.1, seed=0)
    train = trust_with_edges(train, train.nnz // 4, seed=1)  # edges = training ratings / 4
    rows = []
    names = ("BiasedMF", "SVDpp", "TrustSVD")
    for threads in [int(t) for t in args.threads.split(",")]:
        best, rmse = {n: float("inf") for n in names}, {}
        for _ in range(args.repeat):
            for name in names:
                model = getattr(sr, name)(factors=args.factors, epochs=args.epochs, learning_rate=0.005,
                                          num_threads=threads, seed=0)
                with threadpool_limits(1):
                    model.fit(train)
                best[name] = min(best[name], min(h["seconds"] for h in model.history))
                rmse[name] = sr.metrics.rmse(model, test)
        for name in names:
            rows.append({"model": name, "threads": threads, "ratings": train.nnz, "edges": train.n_trust,
                         "epoch_s": best[name], "M_ratings_per_s": train.nnz / best[name] / 1e6,
                         "ratio_vs_biasedmf": best[name] / best["BiasedMF"], "test_rmse": rmse[name]})
    emit("epoch_svdpp_trustsvd", rows, ["model", "threads", "ratings", "edges", "epoch_s", "M_ratings_per_s",
                                        "ratio_vs_biasedmf", "test_rmse"],
         extra={"factors": args.factors, "epochs": args.epochs})


if __name__ == "__main__":
    main()
