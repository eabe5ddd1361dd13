"""Ranking models against their peers, NDCG@10 next to every timing (LastFM-2k, PEERS.md protocol):

- BPR epoch vs implicit BPR (CPU), k=64, float32, 1 and 2 threads (target >= 1.0x at equal quality);
- SBPR epoch vs Cornac SBPR (patched, PEERS.md), k=64, 1 thread (target >= 20x);
- ALS iteration vs implicit ALS (CG, 3 steps), k=64, 1 and 2 threads, same objective (>= 1.0x);
- batched top-N: ``model.recommend`` vs implicit ``recommend``, 1,000 users x 100,000 items, k=64, N=64,
  training items excluded, 1 and 2 threads (>= 1.0x, identical lists).

    python bench/speed_ranking.py [--quick] [--repeat 3]

Data: LastFM binarised, ``per_user_split(ds, 0.2, seed=0)``; quality = NDCG@10 over the items seen in
training (training items excluded, ties to the lower index) of the very fits that were timed. Each side's
settings are the ones chosen on a validation split (bench/accuracy_lastfm.py). Epoch = whole fit / epochs
for BPR (implicit offers nothing finer), (fit(E) - fit(1)) / (E - 1) for SBPR (Cornac's per-user Python
preparation of the social data is then not counted), the median iteration of each library's own per-
iteration record for ALS. Repeats interleaved, medians compared. BLAS pinned alike (threadpoolctl).
"""
from __future__ import annotations

import numpy as np

import _common
import _peers

K = 64


def bpr_vs_implicit(sr, train, test, rows, targets, args):
    implicit = _common.peer("implicit")
    epochs = 20 if args.quick else 100
    for threads in (1, 2):
        times = {"socialrec": [], "implicit": []}
        for _ in range(args.repeat):
            seconds, ours = _common.timed(lambda: sr.BPR(factors=K, epochs=epochs, learning_rate=0.05,
                                                         regularization=0.01, bias_regularization=0.01,
                                                         init_std=0.01, dtype="float32", num_threads=threads,
                                                         seed=0, **_common.parallel_mode(sr.BPR)).fit(train))
            times["socialrec"].append(seconds / epochs)
            if implicit:
                seconds, theirs = _common.timed(lambda: _peers.implicit_bpr(train, K, threads, epochs))
                times["implicit"].append(seconds / epochs)
        q_ours = _common.ranking_quality(*_common.model_vectors(ours), train, test)["ndcg"]
        o = _common.median(times["socialrec"])
        rows.append({"case": "BPR epoch", "library": "socialrec BPR", "threads": threads, "epochs": epochs,
                     "epoch_s": o, "M_samples_s": train.nnz / o / 1e6, "ndcg@10": q_ours})
        if not implicit:
            rows.append({"case": "BPR epoch", "library": "implicit BPR", "note": "not installed"})
            continue
        q_theirs = _common.ranking_quality(theirs.user_factors, theirs.item_factors, None, train, test)["ndcg"]
        t = _common.median(times["implicit"])
        rows[-1]["ratio"] = t / o
        rows.append({"case": "BPR epoch", "library": "implicit BPR", "threads": threads, "epochs": epochs,
                     "epoch_s": t, "M_samples_s": train.nnz / t / 1e6, "ndcg@10": q_theirs})
        targets.append(_common.target(f"BPR epoch, k={K}, {threads} thread(s)", "implicit BPR", t / o, 1.0,
                                      quality=f"NDCG@10 {q_ours:.4f} vs {q_theirs:.4f} ({epochs} epochs; "
                                              "lr .05 vs implicit's .01, each best on validation)"))


def sbpr_vs_cornac(sr, train, test, rows, targets, args):
    if not _common.peer("cornac"):
        rows.append({"case": "SBPR epoch", "library": "Cornac SBPR", "note": "not installed"})
        return
    epochs = 5 if args.quick else 20
    cls = _peers.cornac_sbpr_class()
    data = _peers.cornac_dataset(train, social=True, values=False)

    def cornac_fit(e):
        return cls(k=K, max_iter=e, learning_rate=0.05, lambda_u=0.01, lambda_v=0.01, lambda_b=0.01, seed=0,
                   verbose=False).fit(data)

    def ours_fit(e):
        return sr.SBPR(factors=K, epochs=e, learning_rate=0.05, regularization=0.03, bias_regularization=0.03,
                       init_std=0.01, num_threads=1, seed=0).fit(train)

    ours_t, theirs_t = [], []
    for _ in range(max(1, args.repeat // 2)):
        one, _m = _common.timed(lambda: ours_fit(1))
        full, ours = _common.timed(lambda: ours_fit(epochs))
        ours_t.append((full - one) / (epochs - 1))
        one, _m = _common.timed(lambda: cornac_fit(1))
        full, theirs = _common.timed(lambda: cornac_fit(epochs))
        theirs_t.append((full - one) / (epochs - 1))
    o, t = _common.median(ours_t), _common.median(theirs_t)
    q_ours = _common.ranking_quality(*_common.model_vectors(ours), train, test)["ndcg"]
    q_theirs = _common.ranking_quality(*_peers.cornac_vectors(theirs, data, train.n_users, train.n_items, K),
                                       train, test)["ndcg"]
    rows.append({"case": "SBPR epoch", "library": "socialrec SBPR", "threads": 1, "epochs": epochs, "epoch_s": o,
                 "M_samples_s": train.nnz / o / 1e6, "ndcg@10": q_ours, "ratio": t / o})
    rows.append({"case": "SBPR epoch", "library": "Cornac SBPR (patched)", "threads": 1, "epochs": epochs,
                 "epoch_s": t, "M_samples_s": train.nnz / t / 1e6, "ndcg@10": q_theirs})
    targets.append(_common.target(f"SBPR epoch, k={K}, 1 thread", "Cornac SBPR", t / o, 20.0,
                                  quality=f"NDCG@10 {q_ours:.4f} vs {q_theirs:.4f} ({epochs} epochs)"))


def als_vs_implicit(sr, train, test, rows, targets, args):
    """Same objective: implicit's confidence alpha * r = 10 on a listen is our 1 + alpha r with alpha = 9."""
    implicit = _common.peer("implicit")
    iterations = 15
    for threads in (1, 2):
        ours_t, theirs_t = [], []
        for _ in range(args.repeat):
            ours = sr.ALS(factors=K, epochs=iterations, cg_steps=3, alpha=9.0, regularization=50.0,
                          num_threads=threads, seed=0).fit(train)
            ours_t.append(_common.median([h["seconds"] for h in ours.history]))
            if implicit:
                theirs, its = _peers.implicit_als(train, K, threads, iterations, alpha=10.0, regularization=50.0)
                theirs_t.append(_common.median(its))
        o = _common.median(ours_t)
        q_ours = _common.ranking_quality(*_common.model_vectors(ours), train, test)["ndcg"]
        rows.append({"case": "ALS iteration", "library": "socialrec ALS", "threads": threads, "epochs": iterations,
                     "epoch_s": o, "ndcg@10": q_ours})
        if not implicit:
            rows.append({"case": "ALS iteration", "library": "implicit ALS", "note": "not installed"})
            continue
        t = _common.median(theirs_t)
        q_theirs = _common.ranking_quality(theirs.user_factors, theirs.item_factors, None, train, test)["ndcg"]
        rows[-1]["ratio"] = t / o
        rows.append({"case": "ALS iteration", "library": "implicit ALS", "threads": threads, "epochs": iterations,
                     "epoch_s": t, "ndcg@10": q_theirs})
        targets.append(_common.target(f"ALS iteration, k={K}, 3 CG steps, {threads} thread(s)", "implicit ALS",
                                      t / o, 1.0, quality=f"NDCG@10 {q_ours:.4f} vs {q_theirs:.4f}"))


def recommend_vs_implicit(sr, rows, targets, args):
    """Both libraries get the same float32 factors and the same training items to exclude."""
    from threadpoolctl import threadpool_limits

    implicit = _common.peer("implicit")
    n_users, n_items, n, seen = 1000, (20_000 if args.quick else 100_000), 64, 50
    rng = np.random.default_rng(0)
    U = rng.standard_normal((n_users, K), dtype=np.float32) * np.float32(0.3)
    V = rng.standard_normal((n_items, K), dtype=np.float32) * np.float32(0.3)
    users = np.repeat(np.arange(n_users), seen)
    items = np.concatenate([rng.choice(n_items, seen, replace=False) for _ in range(n_users)])
    train = sr.Dataset.from_arrays(users, items, np.ones(len(users), np.float32), n_users=n_users,
                                   n_items=n_items)
    liked = train.ratings.tocsr()
    ids = np.arange(n_users)
    case = f"top-{n}, {n_users:,} users x {n_items:,} items"
    for threads in (1, 2):
        ours = sr.BiasedMF(biased=False, factors=K, epochs=0, num_threads=threads).fit(train)
        np.copyto(ours.parameters_["user_factors"], U)
        np.copyto(ours.parameters_["item_factors"], V)
        fns = {"socialrec": lambda: ours.recommend(ids, n=n, exclude_seen=True, ids="index")}
        if implicit:
            from implicit.cpu.als import AlternatingLeastSquares

            theirs = AlternatingLeastSquares(factors=K, num_threads=threads, random_state=0)
            theirs.user_factors, theirs.item_factors = U.copy(), V.copy()
            fns["implicit"] = lambda: theirs.recommend(ids, liked[ids], N=n, filter_already_liked_items=True)
        times, out = {k: [] for k in fns}, {}
        with threadpool_limits(limits=threads, user_api="blas"):
            for name, fn in fns.items():
                out[name] = fn()  # warm-up
            for _ in range(3 if args.quick else 7):
                for name, fn in fns.items():
                    seconds, _r = _common.timed(fn)
                    times[name].append(seconds)
        o = _common.median(times["socialrec"])
        rows.append({"case": case, "library": "socialrec recommend", "threads": threads, "epoch_s": o})
        if not implicit:
            rows.append({"case": case, "library": "implicit recommend", "note": "not installed"})
            continue
        t = _common.median(times["implicit"])
        same = float(np.mean(np.all(out["socialrec"][0] == out["implicit"][0], axis=1)))
        rows[-1].update(ratio=t / o, same_lists=same)
        rows.append({"case": case, "library": "implicit recommend", "threads": threads, "epoch_s": t})
        targets.append(_common.target(f"batched top-{n}, {n_users:,} users x {n_items:,} items, k={K}, "
                                      f"{threads} thread(s)", "implicit recommend", t / o, 1.0,
                                      quality=f"identical lists {same:.1%}"))


def run(args):
    import socialrec as sr

    args.repeat = args.repeat or (1 if args.quick else 3)
    ds = _common.lastfm_binary()
    train, test = sr.split.per_user_split(ds, 0.2, seed=0)
    rows, targets = [], []
    steps = [("bpr", lambda: bpr_vs_implicit(sr, train, test, rows, targets, args)),
             ("sbpr", lambda: sbpr_vs_cornac(sr, train, test, rows, targets, args)),
             ("als", lambda: als_vs_implicit(sr, train, test, rows, targets, args)),
             ("recommend", lambda: recommend_vs_implicit(sr, rows, targets, args))]
    with _common.blas_one_thread():
        for name, step in steps:
            if args.sections and name not in args.sections.split(","):
                continue
            try:
                step()
            except Exception as e:  # noqa: BLE001
                rows.append({"case": name, "library": "-", "note": _common.error_text(e)})
            print(f"# {name} done", flush=True)
    return {"rows": rows, "targets": targets,
            "columns": ["case", "library", "threads", "epochs", "epoch_s", "M_samples_s", "ndcg@10", "ratio",
                        "same_lists", "note"],
            "data": {"train": train.nnz, "test": test.nnz, "users": ds.n_users, "items": ds.n_items},
            "settings": {"repeat": args.repeat,
                         "socialrec BPR": "lr .05, lambda .01, init .01, float32",
                         "implicit BPR": "lr .01, reg .01 (its defaults), factors 64 (+1 bias column)",
                         "socialrec SBPR": "lr .05, lambda .03, init .01", "Cornac SBPR": "lr .05, lambda .01",
                         "ALS": "socialrec alpha 9 = implicit alpha 10 (c = 1 + alpha r vs alpha r), lambda 50, "
                                "3 CG steps, 15 iterations"}}


def add_arguments(ap):
    ap.add_argument("--repeat", type=int, default=0, help="interleaved repeats (default 3, --quick 1)")
    ap.add_argument("--sections", help="comma-separated subset of bpr, sbpr, als, recommend")


if __name__ == "__main__":
    _common.main("speed_ranking", run, add_arguments, __doc__)
