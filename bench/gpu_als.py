"""ALS / SocialALS iterations and ranking metrics on CUDA vs the CPU path, on the same implicit data.

    python bench/gpu_als.py            # 20M interactions, 500k users x 100k items, k=64, 3 CG steps
    python bench/gpu_als.py --quick    # 2M interactions, 100k users x 20k items

Rows: seconds per ALS iteration (the median over the epochs after the first; each epoch's time includes the
device synchronisation that reads its loss) on the CPU (every core) and on CUDA, from the same initial
factors and with the same CG steps, with NDCG@10 on held-out interactions of a fixed sample of users next to
every timing, and CUDA once more with dtype="float16" (half-precision factor storage); the same for
SocialALS (a random friendship graph, 10 friends per user). Metrics: the
per-user metric computation alone (socialrec._core.ranking_metrics vs the CUDA kernel, on the same top-10
lists) and ``socialrec.metrics.ranking_per_user`` end to end (top lists + metrics). Ratios are CPU time /
CUDA time (> 1: CUDA faster). Writes bench/results/gpu_als.json; run by bench/gpu_check.sh. Needs only
numpy, scipy, cupy and an installed socialrec (no bench/_common: it would import the source tree).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import numpy as np
import scipy.sparse as sp

import socialrec as sr

HERE = os.path.dirname(os.path.abspath(__file__))


def make_data(n, n_users, n_items, seed=0):
    """Binary interactions with a skewed item popularity (so item rows are unbalanced, as in real data), 5%
    held out, and a random friendship graph (10 per user, both directions)."""
    rng = np.random.default_rng(seed)
    users = rng.integers(0, n_users, size=n, dtype=np.int64)
    items = np.minimum((n_items * rng.random(n) ** 2).astype(np.int64), n_items - 1)
    key = np.unique(users * n_items + items)
    users, items = key // n_items, key % n_items
    test = rng.random(len(users)) < 0.05
    mk = lambda m: sp.csr_matrix((np.ones(int(m.sum()), np.float32), (users[m], items[m])), shape=(n_users, n_items))
    a = rng.integers(0, n_users, size=5 * n_users)
    b = rng.integers(0, n_users, size=5 * n_users)
    trust = sp.csr_matrix((np.ones(len(a), np.float32), (a, b)), shape=(n_users, n_users))
    trust = ((trust + trust.T) > 0).astype(np.float32)
    trust.setdiag(0)
    trust.eliminate_zeros()
    train = sr.Dataset.from_sparse(mk(~test), trust=trust)
    return train, sr.Dataset.from_sparse(mk(test))


def sync():
    import cupy as cp

    cp.cuda.get_current_stream().synchronize()


def fit_row(cls, device, train, test, eval_users, epochs, params):
    start = time.perf_counter()
    model = cls(device=device, epochs=epochs, **params).fit(train)
    fit_s = time.perf_counter() - start
    seconds = [h["seconds"] for h in model.history[1:]] or [model.history[0]["seconds"]]
    ndcg = sr.metrics.ranking(model, test, k=10, users=eval_users, ids="index")["ndcg"]
    return model, {"model": cls.__name__, "device": device, "dtype": params.get("dtype", "float32"),
                   "factors": params["factors"],
                   "cg_steps": params["cg_steps"], "epochs": epochs, "iteration_s": statistics.median(seconds),
                   "fit_s": fit_s, "loss": model.history[-1]["loss"], "ndcg@10": ndcg}


def best_of(fn, repeat, device):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        if device == "cuda":
            sync()
        times.append(time.perf_counter() - start)
    return min(times), out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--interactions", type=int, default=20_000_000)
    ap.add_argument("--users", type=int, default=500_000)
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--factors", type=int, default=64)
    ap.add_argument("--cg-steps", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=5, help="CUDA epochs per fit")
    ap.add_argument("--cpu-epochs", type=int, default=2)
    ap.add_argument("--eval-users", type=int, default=20_000, help="users sampled for NDCG and the metrics")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.interactions, args.users, args.items = 2_000_000, 100_000, 20_000
    import cupy as cp
    from socialrec import _core, _gpu

    t0 = time.perf_counter()
    train, test = make_data(args.interactions, args.users, args.items)
    print(f"data: {train.ratings.nnz} training interactions, {test.ratings.nnz} test, {args.users} x "
          f"{args.items}, {train.trust.nnz} trust entries ({time.perf_counter() - t0:.1f} s)", flush=True)
    rng = np.random.default_rng(1)
    held = np.flatnonzero(np.diff(test.ratings.indptr) > 0)
    eval_users = np.sort(rng.choice(held, size=min(args.eval_users, len(held)), replace=False))
    params = {"factors": args.factors, "cg_steps": args.cg_steps, "alpha": 5.0, "regularization": 1.0, "seed": 0}
    rows = []
    for cls, extra in ((sr.ALS, {}), (sr.SocialALS, {"social_regularization": 1.0})):
        _, cpu = fit_row(cls, "cpu", train, test, eval_users, args.cpu_epochs, {**params, **extra})
        gpu_model, gpu = fit_row(cls, "cuda", train, test, eval_users, args.epochs, {**params, **extra})
        _, half = fit_row(cls, "cuda", train, test, eval_users, args.epochs, {**params, **extra, "dtype": "float16"})
        for row in (gpu, half):
            row["speedup_vs_cpu"] = cpu["iteration_s"] / row["iteration_s"]
        rows += [cpu, gpu, half]
        print(rows[-3:], flush=True)

    # Metrics: the same top-10 lists of the evaluated users on both sides.
    model = gpu_model
    users_d = cp.asarray(eval_users)
    top_d, _ = model.recommend(users_d, n=10, ids="index")
    top = np.asarray(_gpu.to_host(top_d))
    top_d = cp.asarray(top_d)
    seen, held_csr = train.ratings.tocsr(), test.ratings.tocsr()
    host_args = (top, eval_users, held_csr.indptr.astype(np.int64), held_csr.indices.astype(np.int32))
    ex = {"exclude_indptr": seen.indptr.astype(np.int64), "exclude_indices": seen.indices.astype(np.int32)}
    cpu_s, ref = best_of(lambda: _core.ranking_metrics(*host_args, **ex, n_items=args.items, threads=0), 3, "cpu")
    dev_test = (cp.asarray(host_args[2]), cp.asarray(host_args[3]))
    dev_ex = (cp.asarray(ex["exclude_indptr"]), cp.asarray(ex["exclude_indices"]))
    _gpu.ranking_metrics(top_d, users_d, dev_test, dev_ex, args.items)  # warm-up (module load)
    gpu_s, got = best_of(lambda: _gpu.ranking_metrics(top_d, users_d, dev_test, dev_ex, args.items), 3, "cuda")
    got = np.asarray(_gpu.to_host(got))
    same = bool(np.array_equal(np.isnan(ref), np.isnan(got)) and np.allclose(got, ref, rtol=1e-12, atol=1e-12,
                                                                            equal_nan=True))
    kernel = {"what": "metrics kernel (6 metrics @10)", "users": len(eval_users), "cpu_s": cpu_s, "cuda_s": gpu_s,
              "speedup_vs_cpu": cpu_s / gpu_s, "equal_to_cpu": same}
    host_model = model._host_copy()
    e2e_cpu, _ = best_of(lambda: sr.metrics.ranking_per_user(host_model, test, k=10, users=eval_users,
                                                                           ids="index"), 2, "cpu")
    e2e_gpu, _ = best_of(lambda: sr.metrics.ranking_per_user(model, test, k=10, users=eval_users,
                                                                           ids="index"), 2, "cuda")
    end_to_end = {"what": "ranking_per_user @10 (top lists + metrics)", "users": len(eval_users), "cpu_s": e2e_cpu,
                  "cuda_s": e2e_gpu, "speedup_vs_cpu": e2e_cpu / e2e_gpu}
    print(kernel, end_to_end, sep="\n", flush=True)

    record = {"benchmark": "gpu_als", "quick": args.quick, "rows": rows, "metrics": [kernel, end_to_end],
              "data": {"train": int(train.ratings.nnz), "test": int(test.ratings.nnz), "users": args.users,
                       "items": args.items, "trust": int(train.trust.nnz)},
              "build_info": sr.build_info(), "cupy": cp.__version__}
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "gpu_als.json"), "w") as fh:
        json.dump(record, fh, indent=1, default=str)
    columns = ["model", "device", "dtype", "factors", "cg_steps", "iteration_s", "ndcg@10", "loss", "speedup_vs_cpu"]
    print("\n| " + " | ".join(columns) + " |\n|" + "---|" * len(columns))
    for r in rows:
        print("| " + " | ".join(f"{r.get(c):.4g}" if isinstance(r.get(c), float) else str(r.get(c, ""))
                                for c in columns) + " |")
    for m in (kernel, end_to_end):
        print(f"{m['what']}: {m['users']} users, CPU {m['cpu_s']:.4f} s, CUDA {m['cuda_s']:.4f} s "
              f"({m['speedup_vs_cpu']:.1f}x)" + (f", equal to the CPU: {m['equal_to_cpu']}" if "equal_to_cpu" in m
                                                 else ""))
    if not same:
        raise SystemExit("the CUDA metrics differ from the CPU's on the same lists")


if __name__ == "__main__":
    main()
