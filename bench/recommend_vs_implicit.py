"""Batched top-N: socialrec ``model.recommend`` vs implicit's ``recommend`` (CPU), same factors, same lists.

Both get the same float32 factors (1,000 users x 100,000 items, k=64 by default), the same per-user
training items to exclude, N=64, and the same number of threads for their own code and for BLAS
(threadpoolctl); each call is timed end to end, alternating the two libraries, repeats interleaved.
Prints JSON (machine, versions, timings, ratios, list agreement) then a table, and writes
bench/results/recommend_vs_implicit.json.

    PYTHONPATH=python python bench/recommend_vs_implicit.py [--users 1000] [--items 100000] [--factors 64]
                                                            [--n 64] [--threads 1,2] [--repeats 7]
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

import socialrec as sr
from _peers import emit


def make_problem(n_users, n_items, factors, seen_per_user, seed):
    rng = np.random.default_rng(seed)
    user_factors = rng.standard_normal((n_users, factors), dtype=np.float32) * np.float32(0.3)
    item_factors = rng.standard_normal((n_items, factors), dtype=np.float32) * np.float32(0.3)
    users = np.repeat(np.arange(n_users), seen_per_user)
    items = np.concatenate([rng.choice(n_items, seen_per_user, replace=False) for _ in range(n_users)])
    train = sr.Dataset.from_arrays(users, items, np.ones(len(users), np.float32), n_users=n_users, n_items=n_items)
    return user_factors, item_factors, train


def socialrec_model(user_factors, item_factors, train, threads):
    # PMF scores are p_u . q_i, the same as implicit's; fit with 0 epochs, then install the shared factors.
    model = sr.BiasedMF(biased=False, factors=user_factors.shape[1], epochs=0, num_threads=threads).fit(train)
    np.copyto(model.parameters_["user_factors"], user_factors)
    np.copyto(model.parameters_["item_factors"], item_factors)
    return model


def implicit_model(user_factors, item_factors, threads):
    from implicit.cpu.als import AlternatingLeastSquares

    model = AlternatingLeastSquares(factors=user_factors.shape[1], num_threads=threads, random_state=0)
    model.user_factors, model.item_factors = user_factors.copy(), item_factors.copy()
    return model


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--users", type=int, default=1000)
    p.add_argument("--items", type=int, default=100_000)
    p.add_argument("--factors", type=int, default=64)
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--seen", type=int, default=50, help="training items per user (excluded from the lists)")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    import implicit

    U, V, train = make_problem(args.users, args.items, args.factors, args.seen, args.seed)
    user_ids = np.arange(args.users)
    liked = train.ratings.tocsr()
    results = []
    for threads in [int(t) for t in args.threads.split(",")]:
        ours = socialrec_model(U, V, train, threads)
        theirs = implicit_model(U, V, threads)
        for exclude in (True, False):
            def run_ours():
                return ours.recommend(user_ids, n=args.n, exclude_seen=exclude)

            def run_theirs():
                return theirs.recommend(user_ids, liked[user_ids], N=args.n, filter_already_liked_items=exclude)

            times = {"socialrec": [], "implicit": []}
            with threadpool_limits(limits=threads, user_api="blas"):
                out = {"socialrec": run_ours(), "implicit": run_theirs()}  # warm-up; kept for the comparison
                for _ in range(args.repeats):
                    for name, fn in (("socialrec", run_ours), ("implicit", run_theirs)):
                        start = time.perf_counter()
                        fn()
                        times[name].append(time.perf_counter() - start)
            ids_ours, scores_ours = out["socialrec"]
            ids_theirs, scores_theirs = out["implicit"]
            ours_med, theirs_med = statistics.median(times["socialrec"]), statistics.median(times["implicit"])
            results.append({
                "threads": threads, "exclude_seen": exclude,
                "socialrec_med_s": ours_med, "implicit_med_s": theirs_med,
                "socialrec_min_s": min(times["socialrec"]), "implicit_min_s": min(times["implicit"]),
                "speedup_med": theirs_med / ours_med,
                "speedup_min": min(times["implicit"]) / min(times["socialrec"]),
                "same_lists": float(np.mean(np.all(ids_ours == ids_theirs, axis=1))),
                "same_entries": float(np.mean(ids_ours == ids_theirs)),
                # rows whose lists differ only where scores tie (implicit does not break ties by item index)
                "differ_only_in_ties": int(np.sum(np.any(ids_ours != ids_theirs, axis=1)
                                                  & np.all(scores_ours == scores_theirs, axis=1))),
                "differ_otherwise": int(np.sum(np.any(ids_ours != ids_theirs, axis=1)
                                               & np.any(scores_ours != scores_theirs, axis=1))),
                "max_score_diff": float(np.max(np.abs(scores_ours - scores_theirs))),
                "times": times,
            })
    extra = {
        "setup": {"users": args.users, "items": args.items, "factors": args.factors, "n": args.n,
                  "seen_per_user": args.seen, "repeats": args.repeats, "seed": args.seed, "dtype": "float32"},
        "versions": {"implicit": implicit.__version__,
                     "blas": [f"{i['internal_api']} {i.get('version')} ({i.get('architecture')})"
                              for i in threadpool_info() if i["user_api"] == "blas"]},
        "note": "speedup = implicit seconds / socialrec seconds per call (> 1: socialrec faster); same_lists = "
                "fraction of users whose whole top-N list (ids, order) is identical in both libraries",
    }
    emit("recommend_vs_implicit", results,
         ["threads", "exclude_seen", "socialrec_med_s", "implicit_med_s", "speedup_med", "speedup_min",
          "same_lists", "differ_only_in_ties", "differ_otherwise", "max_score_diff"], extra)

if __name__ == "__main__":
    main()
