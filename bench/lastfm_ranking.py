#!/usr/bin/env python
"""LastFM-2k top-N ranking: socialrec BPR / SBPR side by side with implicit BPR, Cornac BPR / SBPR and
most-popular, on the per-user 80/20 protocol of PEERS.md; then BPR epoch speed against implicit.

Protocol (PEERS.md): listens binarised; ``sr.split.per_user_split(ds, 0.2, seed=0)`` gives train/test
(test items never seen in training dropped); hyper-parameters are chosen on a validation split carved from
train with the same rule (seed 1), never on test; the chosen setting is refitted on the whole train split.
k = 64 factors for every model. Ranking over all items seen in training, training items excluded, ties to
the lower item index; NDCG@10 (IDCG over min(10, |T_u|) hits), P@10, R@10 = hits / |T_u|, averaged over the
users with test items.

Speed: one BPR epoch (float32, k = 64, the whole train split, nnz samples) against implicit's CPU BPR
(factors = 64, i.e. 64 + 1 bias columns like ours), 1 and 2 threads, BLAS pinned to 1 thread (threadpoolctl);
each side is timed as fit(E epochs) / E, repeated and interleaved, medians compared.

Usage::

    python bench/lastfm_ranking.py [--data /work/shared/data/lastfm] [--quick] [--skip-peers]
                                   [--skip-speed] [--json results.json]

Prints one JSON document and a table.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import sys
import time

import numpy as np

import socialrec as sr

K = 10
FACTORS = 64


# --------------------------------------------------------------------------------------------------------
# protocol
# --------------------------------------------------------------------------------------------------------
def binarise(ds):
    r = ds.ratings.copy()
    r.data[:] = 1.0
    return ds.with_ratings(r)


def evaluate(user_vectors, item_vectors, item_bias, train, test, k=K, batch=256):
    """NDCG/P/R@k of the scores user_vectors @ item_vectors.T + item_bias (float64), ranking the items seen
    in train, training items excluded, ties to the lower item index."""
    t, tr = test.ratings.tocsr(), train.ratings.tocsr()
    users = np.flatnonzero(np.diff(t.indptr) > 0)
    unseen = np.diff(tr.tocsc().indptr) == 0
    U = np.asarray(user_vectors, np.float64)
    V = np.asarray(item_vectors, np.float64)
    b = np.zeros(V.shape[0]) if item_bias is None else np.asarray(item_bias, np.float64)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    ndcg, prec, rec = [], [], []
    for start in range(0, len(users), batch):
        us = users[start:start + batch]
        scores = U[us] @ V.T + b
        scores[:, unseen] = -np.inf
        counts = np.diff(tr.indptr)[us]
        rows = np.repeat(np.arange(len(us)), counts)
        cols = np.concatenate([tr.indices[tr.indptr[u]:tr.indptr[u + 1]] for u in us])
        scores[rows, cols] = -np.inf
        top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        for row, u in zip(top, us):
            truth = t.indices[t.indptr[u]:t.indptr[u + 1]]
            hits = np.isin(row, truth)
            ndcg.append((hits * discount).sum() / discount[:min(k, len(truth))].sum())
            prec.append(hits.sum() / k)
            rec.append(hits.sum() / len(truth))
    return {"ndcg": float(np.mean(ndcg)), "precision": float(np.mean(prec)), "recall": float(np.mean(rec)),
            "users": int(len(users))}


# --------------------------------------------------------------------------------------------------------
# socialrec models: grid on validation, epochs chosen at checkpoints through the fit callback
# --------------------------------------------------------------------------------------------------------
def socialrec_vectors(model):
    p = model.parameters_
    return p["user_factors"], p["item_factors"], p["item_bias"]


def tune_socialrec(cls, grid, checkpoints, fit_train, val, threads):
    best, trials = None, []
    for params in grid:
        scores = {}

        def callback(model, record):
            if record["epoch"] + 1 in checkpoints:
                scores[record["epoch"] + 1] = evaluate(*socialrec_vectors(model), fit_train, val)["ndcg"]

        cls(factors=FACTORS, epochs=max(checkpoints), num_threads=threads, seed=0, **params).fit(
            fit_train, callback=callback)
        for epochs, score in scores.items():
            trials.append({**params, "epochs": epochs, "val_ndcg": score})
            if best is None or score > best["val_ndcg"]:
                best = trials[-1]
    return best, trials


def run_socialrec(cls, chosen, train, test, threads):
    params = {k: v for k, v in chosen.items() if k != "val_ndcg"}
    start = time.perf_counter()
    model = cls(factors=FACTORS, num_threads=threads, seed=0, **params).fit(train)
    seconds = time.perf_counter() - start
    return {**evaluate(*socialrec_vectors(model), train, test), "fit_s": seconds, "params": params}


# --------------------------------------------------------------------------------------------------------
# peers
# --------------------------------------------------------------------------------------------------------
def implicit_bpr(train, threads, **params):
    import implicit

    x = train.ratings.tocsr().astype(np.float32)
    model = implicit.cpu.bpr.BayesianPersonalizedRanking(factors=FACTORS, num_threads=threads, random_state=0,
                                                         **params)
    model.fit(x, show_progress=False)
    return model.user_factors, model.item_factors, None


def _cornac_dataset(train, social):
    import cornac
    from cornac.data import GraphModality

    u, i, _ = train.user_item_arrays()
    data = cornac.data.Dataset.from_uir(list(zip(u.astype(str), i.astype(str), np.ones(len(u)))), seed=0)
    if social:
        src, dst, _ = train.trust_arrays()
        graph = GraphModality(data=list(zip(src.astype(str), dst.astype(str), np.ones(len(src)))))
        graph.build(id_map=data.uid_map)
        data.add_modalities(user_graph=graph)
    return data


def _cornac_sbpr_class():
    """Cornac 3.0.1's SBPR.fit() fails as shipped (PEERS.md): it calls _prepare_data() and
    _prepare_social_data() without the training set, and the latter uses np.in1d (gone in NumPy 2.4)."""
    import cornac
    from scipy.sparse import csr_matrix

    class PatchedSBPR(cornac.models.SBPR):
        def _prepare_data(self, train_set=None):
            return super()._prepare_data(train_set if train_set is not None else self.train_set)

        def _prepare_social_data(self, train_set=None):
            train_set = train_set if train_set is not None else self.train_set
            X = train_set.matrix
            n_users = train_set.num_users
            users = set(train_set.uir_tuple[0])
            rid, cid, val = train_set.user_graph.get_train_triplet(users, users)
            Y = csr_matrix((val, (rid, cid)), shape=(n_users, n_users))
            ids, counts, indptr = [], [], [0]
            for uid in range(n_users):
                own = np.unique(X[uid].indices)
                items, c = np.unique(X[Y[uid].indices].indices, return_counts=True)
                mask = np.isin(items, own, assume_unique=True)
                ids.extend(items[~mask])
                counts.extend(c[~mask])
                indptr.append(len(ids))
            dt = X.indices.dtype
            return np.asarray(ids).astype(dt), np.asarray(counts).astype(dt), np.asarray(indptr).astype(dt)

    return PatchedSBPR


def cornac_model(train, social, **params):
    import cornac

    data = _cornac_dataset(train, social)
    cls = _cornac_sbpr_class() if social else cornac.models.BPR
    model = cls(k=FACTORS, seed=0, verbose=False, **params).fit(data)
    U = np.zeros((train.n_users, FACTORS))
    V = np.zeros((train.n_items, FACTORS))
    b = np.zeros(train.n_items)
    users = np.array([int(x) for x in data.uid_map], dtype=np.int64)
    items = np.array([int(x) for x in data.iid_map], dtype=np.int64)
    U[users] = model.u_factors[[data.uid_map[str(x)] for x in users]]
    V[items] = model.i_factors[[data.iid_map[str(x)] for x in items]]
    b[items] = model.i_biases[[data.iid_map[str(x)] for x in items]]
    return U, V, b


def tune_peer(name, fit_fn, grid, fit_train, val, train, test):
    best, trials = None, []
    for params in grid:
        score = evaluate(*fit_fn(fit_train, **params), fit_train, val)["ndcg"]
        trials.append({**params, "val_ndcg": score})
        if best is None or score > best["val_ndcg"]:
            best = trials[-1]
    params = {k: v for k, v in best.items() if k != "val_ndcg"}
    start = time.perf_counter()
    vectors = fit_fn(train, **params)
    seconds = time.perf_counter() - start
    return {**evaluate(*vectors, train, test), "fit_s": seconds, "params": params}, trials


def most_popular(train, test):
    counts = np.diff(train.ratings.tocsc().indptr).astype(np.float64)
    return {**evaluate(np.zeros((train.n_users, 1)), np.zeros((train.n_items, 1)), counts, train, test),
            "fit_s": 0.0, "params": {}}


# --------------------------------------------------------------------------------------------------------
# speed
# --------------------------------------------------------------------------------------------------------
def bpr_speed(train, threads, epochs, repeats):
    import implicit

    x = train.ratings.tocsr().astype(np.float32)
    ours, theirs, kernel = [], [], []
    for _ in range(repeats):  # interleaved, so both see the same machine load
        m = implicit.cpu.bpr.BayesianPersonalizedRanking(factors=FACTORS, iterations=epochs, num_threads=threads,
                                                         random_state=0)
        start = time.perf_counter()
        m.fit(x, show_progress=False)
        theirs.append((time.perf_counter() - start) / epochs)
        model = sr.BPR(factors=FACTORS, epochs=epochs, num_threads=threads, dtype="float32", seed=0)
        start = time.perf_counter()
        model.fit(train)
        ours.append((time.perf_counter() - start) / epochs)
        kernel.append(float(np.median([h["seconds"] for h in model.history])))
    o, t = float(np.median(ours)), float(np.median(theirs))
    return {"threads": threads, "samples_per_epoch": int(train.nnz), "socialrec_epoch_s": o,
            "socialrec_kernel_epoch_s": float(np.median(kernel)), "implicit_epoch_s": t, "speedup": t / o,
            "socialrec_samples_per_s": train.nnz / o, "implicit_samples_per_s": train.nnz / t,
            "all_socialrec_s": ours, "all_implicit_s": theirs}


def sbpr_speed(train, epochs):
    """SBPR epoch vs Cornac SBPR (one thread: Cornac forces one when seeded)."""
    start = time.perf_counter()
    cornac_model(train, True, max_iter=epochs, learning_rate=0.05)
    theirs = (time.perf_counter() - start) / epochs
    start = time.perf_counter()
    sr.SBPR(factors=FACTORS, epochs=epochs, num_threads=1, seed=0).fit(train)
    ours = (time.perf_counter() - start) / epochs
    return {"threads": 1, "socialrec_epoch_s": ours, "cornac_epoch_s": theirs, "speedup": theirs / ours,
            "note": "both timed as fit/epochs, Cornac's including its Python-loop social-data preparation"}


# --------------------------------------------------------------------------------------------------------
def machine():
    info = {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "numpy": np.__version__, "socialrec": sr.__version__, "build": sr.build_info()}
    try:
        with open("/proc/cpuinfo") as fh:
            info["cpu"] = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    for name in ("implicit", "cornac", "threadpoolctl"):
        try:
            info[name] = __import__(name).__version__
        except ImportError:
            info[name] = None
    return info


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="/work/shared/data/lastfm")
    ap.add_argument("--quick", action="store_true", help="a smaller grid and fewer speed repeats")
    ap.add_argument("--skip-peers", action="store_true")
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--threads", type=int, default=0, help="threads of the quality fits (0 = all)")
    ap.add_argument("--json", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results",
                                                   "lastfm_ranking.json"),
                    help="where to write the JSON (default bench/results/lastfm_ranking.json)")
    args = ap.parse_args(argv)

    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")  # BLAS pinned alike; OpenMP left alone (every library sets its threads)
    threads = sr._engine.resolve_threads(args.threads)
    out = {"machine": machine(), "load_average_start": os.getloadavg(),
           "protocol": "LastFM-2k binarised, per_user_split(0.2, seed=0); validation per_user_split(train, 0.2, "
                       "seed=1); k=64; top-10 over items seen in training, training items excluded",
           "command": "python " + " ".join([sys.argv[0]] + (argv if argv is not None else sys.argv[1:]))}
    ds = binarise(sr.datasets.load_lastfm(args.data))
    train, test = sr.split.per_user_split(ds, 0.2, seed=0)
    fit_train, val = sr.split.per_user_split(train, 0.2, seed=1)
    out["data"] = {"users": ds.n_users, "items": ds.n_items, "train": train.nnz, "test": test.nnz,
                   "validation_train": fit_train.nnz, "validation": val.nnz, "friend_edges": ds.n_trust}

    if args.quick:
        grid = [{"learning_rate": 0.05, "regularization": r, "bias_regularization": r, "init_std": 0.01}
                for r in (0.003, 0.01)]
        checkpoints = (50, 100)
        peer_lrs = (0.05,)
    else:
        grid = [{"learning_rate": lr, "regularization": r, "bias_regularization": r, "init_std": 0.01}
                for lr, r in itertools.product((0.05,), (0.01, 0.03))]
        checkpoints = (50, 100, 200, 400)
        peer_lrs = (0.01, 0.05, 0.1)

    results, selection = {}, {}
    for name, cls in (("socialrec BPR", sr.BPR), ("socialrec SBPR", sr.SBPR)):
        best, trials = tune_socialrec(cls, grid, checkpoints, fit_train, val, threads)
        selection[name] = trials
        results[name] = run_socialrec(cls, best, train, test, threads)
        print(f"# {name}: {results[name]}", file=sys.stderr, flush=True)
    results["most popular"] = most_popular(train, test)
    if not args.skip_peers:
        peers = [
            ("implicit BPR", lambda d, **p: implicit_bpr(d, threads, **p),
             [{"learning_rate": lr, "regularization": 0.01, "iterations": 100} for lr in peer_lrs]),
            ("Cornac BPR", lambda d, **p: cornac_model(d, False, **p),
             [{"learning_rate": lr, "lambda_reg": 0.01, "max_iter": 100} for lr in peer_lrs]),
            ("Cornac SBPR", lambda d, **p: cornac_model(d, True, **p),
             [{"learning_rate": lr, "lambda_u": 0.01, "lambda_v": 0.01, "lambda_b": 0.01, "max_iter": 100}
              for lr in peer_lrs]),
        ]
        for name, fn, peer_grid in peers:
            try:
                results[name], selection[name] = tune_peer(name, fn, peer_grid, fit_train, val, train, test)
            except Exception as e:  # a peer that does not install or run is reported, not fatal
                results[name] = {"error": f"{type(e).__name__}: {e}"}
            print(f"# {name}: {results[name]}", file=sys.stderr, flush=True)
    out["results"], out["validation_trials"] = results, selection

    if not args.skip_speed:
        repeats, epochs = (2, 10) if args.quick else (5, 20)
        out["speed"] = {"bpr_vs_implicit": [bpr_speed(train, t, epochs, repeats) for t in (1, 2)]}
        if not args.skip_peers:
            try:
                out["speed"]["sbpr_vs_cornac"] = sbpr_speed(train, 5)
            except Exception as e:
                out["speed"]["sbpr_vs_cornac"] = {"error": f"{type(e).__name__}: {e}"}
    out["load_average_end"] = os.getloadavg()

    text = json.dumps(out, indent=1, default=float)
    print(text)
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as fh:
            fh.write(text)
    print(f"\nLastFM-2k, per-user 80/20, k={FACTORS}, top-{K} over all training items "
          f"({results['socialrec BPR']['users']} users)")
    print(f"{'model':<16} {'NDCG@10':>8} {'P@10':>7} {'R@10':>7} {'fit s':>7}  chosen on validation")
    for name, r in results.items():
        if "error" in r:
            print(f"{name:<16} failed: {r['error']}")
            continue
        print(f"{name:<16} {r['ndcg']:8.4f} {r['precision']:7.4f} {r['recall']:7.4f} {r['fit_s']:7.2f}  {r['params']}")
    if "speed" in out:
        print("\nBPR epoch (k=64, float32) vs implicit, medians of interleaved runs")
        print(f"{'threads':>7} {'socialrec s':>12} {'implicit s':>11} {'speed-up':>9}")
        for s in out["speed"]["bpr_vs_implicit"]:
            print(f"{s['threads']:>7} {s['socialrec_epoch_s']:12.4f} {s['implicit_epoch_s']:11.4f} {s['speedup']:8.2f}x")
        s = out["speed"].get("sbpr_vs_cornac")
        if s and "error" not in s:
            print(f"SBPR epoch vs Cornac SBPR (1 thread): {s['socialrec_epoch_s']:.4f} s vs "
                  f"{s['cornac_epoch_s']:.4f} s = {s['speedup']:.1f}x")
    print(f"load average start {out['load_average_start']}, end {out['load_average_end']}")


if __name__ == "__main__":
    main()
