"""LastFM implicit feedback: socialrec ALS and SocialALS against implicit's ALS, quality and speed.

Protocol (../shared/PEERS.md, "LastFM ranking"): listens binarised; ``sr.split.per_user_split(ds, 0.2,
seed=0)`` (per user 80/20, users with < 5 artists keep all in training, test items unseen in training
dropped); every model ranks all items seen in training, the user's training items excluded, ties to the
lower item index; NDCG@10 (IDCG over min(10, |T_u|)), P@10, R@10 (hits / |T_u|), mean over the users with
test items. k = 64. Hyper-parameters are chosen on a validation split carved from the training part with
the same rule (seed 1), never on test; the chosen setting is then refitted on the whole training part.
Grids: implicit alpha x lambda; socialrec ALS the same objectives (alpha - 1, see ALS's docstring);
SocialALS: ALS's alpha, lambda at ALS's choice and its grid neighbours, beta, similarity.

Speed: one ALS iteration (user solves + item solves) on the whole training part, k = 64, 3 CG steps, float32,
BLAS pinned to one thread for both libraries (threadpoolctl), 1 and 2 solver threads; the libraries run
interleaved, ``--rounds`` times, and the median iteration time of each run is reported (median over runs).

Usage: python bench/lastfm_als.py [--data PATH] [--rounds 3] [--json results.json]
Prints a JSON document and a table. Needs ``implicit`` (pip install implicit) and threadpoolctl.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # BLAS pinned alike for both libraries
import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import socialrec as sr  # noqa: E402

K = 64
ITERATIONS = 15
CG_STEPS = 3
# validation grids: implicit's alpha a is socialrec's alpha a - 1 on binary data (c = a vs c = 1 + (a - 1))
ALPHAS_IMPLICIT = (5.0, 10.0, 20.0)
REGULARIZATIONS = (0.01, 1.0, 10.0, 30.0, 50.0, 70.0)
BETAS = (0.3, 1.0, 3.0, 10.0, 30.0)
SIMILARITIES = ("edges", "normalized")


# ------------------------------------------------------------------------------------------------------
# evaluation (plain NumPy; the protocol above)
# ------------------------------------------------------------------------------------------------------
def evaluate(user_factors, item_factors, train, test, k=10, batch=256):
    """NDCG@k, P@k, R@k of the scores user_factors @ item_factors.T (float32, as the models score)."""
    seen = train.ratings.tocsr()
    held = test.ratings.tocsr()
    candidates = np.bincount(seen.indices, minlength=train.n_items) > 0
    users = np.flatnonzero(np.diff(held.indptr) > 0)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    ndcg, precision, recall = [], [], []
    U = np.asarray(user_factors, dtype=np.float32)
    V = np.asarray(item_factors, dtype=np.float32)
    for start in range(0, len(users), batch):
        block = users[start:start + batch]
        scores = U[block] @ V.T
        scores[:, ~candidates] = -np.inf
        for row, u in enumerate(block):
            scores[row, seen.indices[seen.indptr[u]:seen.indptr[u + 1]]] = -np.inf
        top = np.argsort(-scores, axis=1, kind="stable")[:, :k]  # stable: ties to the lower index
        for row, u in enumerate(block):
            truth = held.indices[held.indptr[u]:held.indptr[u + 1]]
            hits = np.isin(top[row], truth)
            ndcg.append(np.sum(hits * discount) / np.sum(discount[:min(k, truth.size)]))
            precision.append(hits.sum() / k)
            recall.append(hits.sum() / truth.size)
    return {"ndcg": float(np.mean(ndcg)), "precision": float(np.mean(precision)),
            "recall": float(np.mean(recall)), "users": int(len(users))}


# ------------------------------------------------------------------------------------------------------
# the three models, each as fit(train, threads, **params) -> (user_factors, item_factors, iteration seconds)
# ------------------------------------------------------------------------------------------------------
def fit_implicit(train, threads=1, alpha=10.0, regularization=0.01, seed=0):
    from implicit.cpu.als import AlternatingLeastSquares

    times = []
    model = AlternatingLeastSquares(factors=K, regularization=regularization, alpha=alpha, iterations=ITERATIONS,
                                    use_cg=True, num_threads=threads, random_state=seed,
                                    calculate_training_loss=False)
    model.cg_steps = CG_STEPS
    model.fit(train.ratings.tocsr(), show_progress=False, callback=lambda it, seconds, loss: times.append(seconds))
    return model.user_factors, model.item_factors, times


def fit_socialrec(cls, train, threads=1, **params):
    model = cls(factors=K, epochs=ITERATIONS, cg_steps=CG_STEPS, num_threads=threads, seed=0, **params).fit(train)
    return model.parameters_["user_factors"], model.parameters_["item_factors"], [h["seconds"] for h in model.history]


def fit_als(train, threads=1, **params):
    return fit_socialrec(sr.ALS, train, threads, **params)


def fit_social_als(train, threads=1, **params):
    return fit_socialrec(sr.SocialALS, train, threads, **params)


def validate(fit, fit_part, val, grid, log):
    """Fits every setting of ``grid`` on fit_part, scores NDCG@10 on val; returns (best setting, table)."""
    rows = []
    for params in grid:
        U, V, _ = fit(fit_part, **params)
        score = evaluate(U, V, fit_part, val)["ndcg"]
        rows.append({**params, "val_ndcg": score})
        log(f"    {params} -> val NDCG@10 {score:.4f}")
    best = max(rows, key=lambda r: r["val_ndcg"])
    return {k: v for k, v in best.items() if k != "val_ndcg"}, rows


def machine():
    info = {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as fh:
            info["cpu"] = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        info["load_average"] = os.getloadavg()
    except OSError:
        pass
    from importlib.metadata import version

    for name in ("numpy", "scipy", "implicit", "threadpoolctl"):
        try:
            info[name] = version(name)
        except Exception:  # noqa: BLE001
            info[name] = None
    info["socialrec"] = sr.__version__
    info["socialrec_build"] = sr.build_info()
    return info


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                                       "shared", "data", "lastfm"))
    parser.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds per thread count")
    parser.add_argument("--json", help="also write the JSON document to this file")
    args = parser.parse_args(argv)

    def log(message):
        print(message, file=sys.stderr, flush=True)

    ds = sr.datasets.load_lastfm(args.data)
    r = ds.ratings.copy()
    r.data[:] = 1.0
    ds = ds.with_ratings(r)
    train, test = sr.split.per_user_split(ds, 0.2, seed=0)
    fit_part, val = sr.split.per_user_split(train, 0.2, seed=1)
    out = {"machine": machine(), "protocol": {"k": K, "iterations": ITERATIONS, "cg_steps": CG_STEPS,
                                              "train": train.nnz, "test": test.nnz, "validation": val.nnz}}

    with threadpool_limits(limits=1, user_api="blas"):
        # -- hyper-parameters on the validation split ------------------------------------------------------
        log("validation: implicit ALS")
        grid = [{"alpha": a, "regularization": g} for a in ALPHAS_IMPLICIT for g in REGULARIZATIONS]
        best_implicit, rows_implicit = validate(fit_implicit, fit_part, val, grid, log)
        log("validation: socialrec ALS")
        grid = [{"alpha": a - 1.0, "regularization": g} for a in ALPHAS_IMPLICIT for g in REGULARIZATIONS]
        best_als, rows_als = validate(fit_als, fit_part, val, grid, log)
        log("validation: socialrec SocialALS (ALS's alpha; lambda re-chosen around ALS's; beta; similarity)")
        at = REGULARIZATIONS.index(best_als["regularization"])
        near = REGULARIZATIONS[max(0, at - 1):at + 2]
        grid = [{"alpha": best_als["alpha"], "regularization": g, "social_regularization": b, "similarity": s}
                for s in SIMILARITIES for g in near for b in BETAS]
        best_social, rows_social = validate(fit_social_als, fit_part, val, grid, log)
        out["validation"] = {"implicit_als": rows_implicit, "als": rows_als, "social_als": rows_social}

        # -- test: refit the chosen settings on the whole training part ----------------------------------
        runs = [
            ("implicit ALS (best on validation)", fit_implicit, best_implicit),
            ("implicit ALS (PEERS.md: alpha 10, reg .01)", fit_implicit, {"alpha": 10.0, "regularization": 0.01}),
            ("socialrec ALS (same objective as implicit alpha 10: alpha 9, reg .01)", fit_als,
             {"alpha": 9.0, "regularization": 0.01}),
            ("socialrec ALS (best on validation)", fit_als, best_als),
            ("socialrec SocialALS (best on validation)", fit_social_als, best_social),
        ]
        out["test"] = []
        for name, fit, params in runs:
            start = time.perf_counter()
            U, V, _ = fit(train, **params)
            seconds = time.perf_counter() - start
            scores = evaluate(U, V, train, test)
            out["test"].append({"model": name, "params": params, **scores, "fit_seconds": seconds})
            log(f"test: {name} {params}: NDCG@10 {scores['ndcg']:.4f}")

        # -- speed: iteration time, same data, k, CG steps, objective (implicit alpha 10 = ours alpha 9) ---
        out["speed"] = []
        for threads in (1, 2):
            ours, theirs = [], []
            for _ in range(args.rounds):
                ours.append(float(np.median(fit_als(train, threads, alpha=9.0, regularization=0.01)[2])))
                theirs.append(float(np.median(fit_implicit(train, threads, alpha=10.0, regularization=0.01)[2])))
            row = {"threads": threads, "socialrec_s": float(np.median(ours)), "implicit_s": float(np.median(theirs)),
                   "socialrec_runs": ours, "implicit_runs": theirs}
            row["speedup"] = row["implicit_s"] / row["socialrec_s"]
            out["speed"].append(row)
            log(f"speed, {threads} thread(s): socialrec {row['socialrec_s'] * 1e3:.1f} ms, implicit "
                f"{row['implicit_s'] * 1e3:.1f} ms per iteration ({row['speedup']:.2f}x)")
    out["machine"]["load_average_end"] = os.getloadavg()

    text = json.dumps(out, indent=1)
    print(text)
    if args.json:
        with open(args.json, "w") as fh:
            fh.write(text + "\n")
    print()
    print(f"LastFM, per-user 80/20 (seed 0), k={K}, {ITERATIONS} iterations, {out['test'][0]['users']} users")
    print(f"{'model':<72} {'NDCG@10':>8} {'P@10':>7} {'R@10':>7} {'fit s':>6}")
    for row in out["test"]:
        print(f"{row['model']:<72} {row['ndcg']:8.4f} {row['precision']:7.4f} {row['recall']:7.4f} "
              f"{row['fit_seconds']:6.2f}")
    print()
    print(f"{'ALS iteration (k=64, 3 CG steps, BLAS 1 thread)':<52} {'socialrec':>10} {'implicit':>10} {'ratio':>7}")
    for row in out["speed"]:
        print(f"{str(row['threads']) + ' thread(s)':<52} {row['socialrec_s'] * 1e3:8.1f}ms {row['implicit_s'] * 1e3:8.1f}ms "
              f"{row['speedup']:6.2f}x")


if __name__ == "__main__":
    main()
