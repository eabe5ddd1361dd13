"""SoReg, RSTE and TrustMF: FilmTrust 5-fold accuracy with default parameters, and epoch cost against
BiasedMF on the same ratings plus a trust graph with edges = ratings / 4.

    PYTHONPATH=python python bench/social_rating.py [--data /work/shared/data/filmtrust] [--skip-cv]

Prints a table and one JSON object (machine, versions, figures). Accuracy: ``sr.cross_validate(cls, ds,
folds=5, seed=0)`` with the defaults, BiasedMF on the same folds for reference. Epoch cost: synthetic data
(default 1M ratings, 250k trust edges), the median of 5 timed epochs after one warm-up, per model, at
1 thread and at all threads, as a ratio to BiasedMF's epoch on the same data and thread count.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np

import socialrec as sr

MODELS = ("SoReg", "RSTE", "TrustMF")
PAPER = {"SoReg": 0.875, "RSTE": 0.835, "TrustMF": 0.819, "BiasedMF": 0.802}  # Guo et al. AAAI 2015, Table 2
TARGET = {"SoReg": 0.880, "RSTE": 0.840, "TrustMF": 0.824}


def filmtrust_cv(path):
    ds = sr.datasets.load_filmtrust(path)
    rows = {}
    for name in ("BiasedMF",) + MODELS:
        start = time.perf_counter()
        cv = sr.cross_validate(getattr(sr, name), ds, folds=5, seed=0)
        rows[name] = {"rmse": cv["rmse"]["mean"], "rmse_std": cv["rmse"]["std"], "mae": cv["mae"]["mean"],
                      "fit_seconds_per_fold": cv["fit_seconds"]["mean"], "paper_rmse": PAPER.get(name),
                      "target_rmse": TARGET.get(name), "wall_seconds": time.perf_counter() - start}
    return rows


def synthetic_with_trust(n_ratings, seed=0):
    """~n_ratings ratings on 50k users x 20k items and exactly n_ratings // 4 random directed trust edges."""
    n_users, n_items = 50_000, 20_000
    ds = sr.datasets.synthetic(n_users=n_users, n_items=n_items, density=n_ratings / (n_users * n_items),
                               trust_per_user=1, seed=seed)
    rng = np.random.default_rng(seed)
    n_edges = ds.nnz // 4
    pairs = np.unique(rng.integers(0, n_users, size=(int(n_edges * 1.1), 2)), axis=0)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    pairs = pairs[rng.permutation(len(pairs))[:n_edges]]
    u, i, v = ds.user_item_arrays()
    return sr.Dataset.from_arrays(u, i, v, trust_src=pairs[:, 0], trust_dst=pairs[:, 1], n_users=n_users,
                                  n_items=n_items, rating_scale=ds.rating_scale)


def epoch_seconds(name, ds, threads, epochs=6):
    params = {"epochs": epochs, "num_threads": threads, "seed": 0}
    if name == "SoReg":
        params["similarity"] = None  # the similarity is computed once before training, not per epoch
    model = getattr(sr, name)(**params).fit(ds)
    return float(np.median([r["seconds"] for r in model.history[1:]]))


def epoch_costs(n_ratings):
    ds = synthetic_with_trust(n_ratings)
    out = {"ratings": ds.nnz, "trust_edges": ds.n_trust, "threads": {}}
    for threads in sorted({1, sr._engine.resolve_threads(0)}):
        base = epoch_seconds("BiasedMF", ds, threads)
        row = {"BiasedMF": {"seconds": base, "ratio": 1.0}}
        for name in MODELS:
            s = epoch_seconds(name, ds, threads)
            row[name] = {"seconds": s, "ratio": s / base}
        out["threads"][threads] = row
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/work/shared/data/filmtrust")
    ap.add_argument("--ratings", type=int, default=1_000_000)
    ap.add_argument("--skip-cv", action="store_true")
    args = ap.parse_args()
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1, user_api="blas")  # our kernels use OpenMP: pin only BLAS
    except ImportError:  # pragma: no cover
        pass
    result = {"machine": {"platform": platform.platform(), "processor": platform.processor(),
                          "cpus": os.cpu_count(), "python": platform.python_version()},
              "versions": {"socialrec": sr.__version__, "numpy": np.__version__}, "build": sr.build_info()}
    if not args.skip_cv and os.path.isdir(args.data):
        cv = result["filmtrust_5fold"] = filmtrust_cv(args.data)
        print("FilmTrust 5-fold CV, default parameters (d=10)")
        print(f"{'model':10s} {'RMSE':>14s} {'MAE':>7s} {'paper':>6s} {'target':>7s} {'fit s/fold':>10s}")
        for name, r in cv.items():
            print(f"{name:10s} {r['rmse']:.4f} ± {r['rmse_std']:.4f} {r['mae']:.4f} {r['paper_rmse'] or '':>6} "
                  f"{r['target_rmse'] or '':>7} {r['fit_seconds_per_fold']:10.2f}")
    costs = result["epoch_cost"] = epoch_costs(args.ratings)
    print(f"\nEpoch cost vs BiasedMF: {costs['ratings']} ratings, {costs['trust_edges']} trust edges (k=10)")
    for threads, row in costs["threads"].items():
        print(f"  {threads} thread(s): " + ", ".join(f"{n} {r['seconds'] * 1e3:.1f} ms ({r['ratio']:.2f}x)"
                                                  for n, r in row.items()))
    result["command"] = "PYTHONPATH=python python bench/social_rating.py"
    text = json.dumps(result, default=str)
    print(text)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "social_rating.json"), "w") as fh:
        fh.write(text + "\n")


if __name__ == "__main__":
    main()
