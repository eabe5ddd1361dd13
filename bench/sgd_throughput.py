"""SGD throughput: PMF vs LIBMF (release build) and BiasedMF vs Surprise SVD, same data, k, epochs.

    python bench/sgd_throughput.py            # 1.8M ratings, 50k users x 20k items, k=32, 1 and 2 threads
    python bench/sgd_throughput.py --quick    # 300k ratings

Updates/s = epochs x training ratings / fit seconds (whole fit: data packing, initialisation and epochs, for
every library). Median of --repeat runs. Test RMSE on a 10% hold-out next to every timing, so speed is never
bought with accuracy. Ratios are peer time / socialrec time (> 1: socialrec faster).
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

import socialrec as sr
from _peers import emit, load_libmf


def rmse_of(pred, values):
    return float(np.sqrt(np.mean((values - pred) ** 2)))


def timed(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def run_socialrec(train, test, threads, args, biased, lr):
    def fit():
        return sr.BiasedMF(factors=args.factors, epochs=args.epochs, learning_rate=lr,
                           regularization=args.reg, bias_regularization=args.reg, biased=biased, init_std=0.1,
                           num_threads=threads, seed=0).fit(train)

    seconds, model = timed(fit, args.repeat)
    kernel = sum(h["seconds"] for h in model.history)
    return seconds, sr.metrics.rmse(model, test), kernel


def run_libmf(mf, train_triples, test_triples, threads, args):
    def fit():
        model = mf.MF(fun=0, k=args.factors, nr_threads=threads, nr_bins=args.libmf_bins, nr_iters=args.epochs,
                      lambda_p1=0.0, lambda_q1=0.0, lambda_p2=args.reg, lambda_q2=args.reg, eta=args.libmf_eta,
                      do_nmf=False, quiet=True, copy_data=True)
        model.fit(train_triples)
        return model

    seconds, model = timed(fit, args.repeat)
    # The binding's predict() is wrong (PEERS.md): score from the factors.
    P, Q = model.p_factors(), model.q_factors()
    u, i = test_triples[:, 0].astype(int), test_triples[:, 1].astype(int)
    ok = (u < len(P)) & (i < len(Q))
    pred = np.full(len(u), float(np.mean(train_triples[:, 2])))
    pred[ok] = np.einsum("ij,ij->i", P[u[ok]], Q[i[ok]])
    pred[~np.isfinite(pred)] = float(np.mean(train_triples[:, 2]))  # LIBMF marks rows it never saw with NaN
    return seconds, rmse_of(np.clip(pred, 1, 5), test_triples[:, 2])


def run_surprise(train, test, args, k, epochs):
    import surprise

    u, i, v = train.user_item_arrays()
    reader = surprise.Reader(rating_scale=train.rating_scale)
    import pandas as pd

    frame = pd.DataFrame({"u": u, "i": i, "r": v})
    trainset = surprise.Dataset.load_from_df(frame, reader).build_full_trainset()

    def fit():
        algo = surprise.SVD(n_factors=k, n_epochs=epochs, lr_all=0.005, reg_all=0.02, random_state=0)
        algo.fit(trainset)
        return algo

    seconds, algo = timed(fit, 1)
    tu, ti, tv = test.user_item_arrays()
    pred = np.array([algo.predict(a, b).est for a, b in zip(tu, ti)])
    return seconds, rmse_of(pred, tv)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--users", type=int, default=50_000)
    ap.add_argument("--items", type=int, default=20_000)
    ap.add_argument("--ratings", type=int, default=1_800_000)
    ap.add_argument("--factors", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--reg", type=float, default=0.05)
    ap.add_argument("--lr", type=float, default=0.01, help="socialrec's SGD step (LIBMF adapts its own)")
    ap.add_argument("--libmf-eta", type=float, default=0.1)
    ap.add_argument("--libmf-bins", type=int, default=0, help="LIBMF grid (0: its rule, 2*threads+1... )")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--surprise-ratings", type=int, default=300_000)
    ap.add_argument("--surprise-epochs", type=int, default=20)
    ap.add_argument("--no-surprise", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.users, args.items, args.ratings, args.repeat = 10_000, 5_000, 300_000, 1
        args.surprise_ratings = 100_000

    density = args.ratings / (args.users * args.items)
    ds = sr.datasets.synthetic(n_users=args.users, n_items=args.items, density=density, trust_per_user=1, seed=0)
    train, test = sr.split.train_test_split(ds, test_size=0.1, seed=0)
    u, i, v = train.user_item_arrays()
    train_triples = np.column_stack([u, i, v]).astype(np.float32)
    tu, ti, tv = test.user_item_arrays()
    test_triples = np.column_stack([tu, ti, tv]).astype(np.float32)
    n = train.nnz
    mf = load_libmf()
    rows = []
    for threads in [int(t) for t in args.threads.split(",")]:
        if args.libmf_bins <= 0:
            args.libmf_bins = max(2 * threads + 1, 20)
        with threadpool_limits(1, user_api="blas"):
            ours_s, ours_rmse, kernel_s = run_socialrec(train, test, threads, args, biased=False, lr=args.lr)
            peer_s, peer_rmse = run_libmf(mf, train_triples, test_triples, threads, args)
        ratio = peer_s / ours_s
        rows.append({"case": "PMF vs LIBMF", "library": "socialrec", "threads": threads, "k": args.factors,
                     "epochs": args.epochs, "fit_s": ours_s, "M_updates_s": args.epochs * n / ours_s / 1e6,
                     "kernel_M_updates_s": args.epochs * n / kernel_s / 1e6, "rmse": ours_rmse, "ratio": ratio})
        rows.append({"case": "PMF vs LIBMF", "library": "LIBMF (release flags)", "threads": threads,
                     "k": args.factors, "epochs": args.epochs, "fit_s": peer_s,
                     "M_updates_s": args.epochs * n / peer_s / 1e6, "rmse": peer_rmse})
        args.libmf_bins = 0 if args.libmf_bins == max(2 * threads + 1, 20) else args.libmf_bins

    if not args.no_surprise:
        small = sr.datasets.synthetic(n_users=args.users // 4, n_items=args.items // 4,
                                      density=args.surprise_ratings / (args.users * args.items / 16),
                                      trust_per_user=1, seed=1)
        s_train, s_test = sr.split.train_test_split(small, test_size=0.1, seed=0)
        for k in (10, args.factors):
            a = argparse.Namespace(**{**vars(args), "factors": k, "epochs": args.surprise_epochs, "reg": 0.02,
                                      "repeat": args.repeat})
            ours_s, ours_rmse, _ = run_socialrec(s_train, s_test, 1, a, biased=True, lr=0.005)
            peer_s, peer_rmse = run_surprise(s_train, s_test, args, k, args.surprise_epochs)
            m = s_train.nnz * args.surprise_epochs
            rows.append({"case": "BiasedMF vs Surprise SVD", "library": "socialrec", "threads": 1, "k": k,
                         "epochs": args.surprise_epochs, "fit_s": ours_s, "M_updates_s": m / ours_s / 1e6,
                         "rmse": ours_rmse, "ratio": peer_s / ours_s})
            rows.append({"case": "BiasedMF vs Surprise SVD", "library": "Surprise SVD", "threads": 1, "k": k,
                         "epochs": args.surprise_epochs, "fit_s": peer_s, "M_updates_s": m / peer_s / 1e6,
                         "rmse": peer_rmse})

    emit("sgd_throughput", rows, ["case", "library", "threads", "k", "epochs", "fit_s", "M_updates_s",
                                  "kernel_M_updates_s", "rmse", "ratio"],
         extra={"train_ratings": n, "users": args.users, "items": args.items, "lr": args.lr, "reg": args.reg})


if __name__ == "__main__":
    main()
