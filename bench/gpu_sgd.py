"""SGD on CUDA vs the CPU path on the same data: BiasedMF updates/s at k=32 and k=128 (float32, and float16
storage), the other models with CUDA kernels (SoRec, SocialMF, TrustMF, SoReg SR2/SR1, SVD++, TrustSVD,
RSTE, BPR, SBPR) at k=32 and k=128, test quality next to every timing, and batched top-N (1,000 users x all items, k=64).

    python bench/gpu_sgd.py              # BiasedMF on 20M ratings (500k x 100k); social models on 4M ratings
                                         # (200k users x 40k items, 5 trust links a user)
    python bench/gpu_sgd.py --quick      # 2M and 1M ratings

Rates are observations per second: an epoch's observations / its median time (epochs after the first; each
epoch's time includes the device synchronisation that reads its loss). An epoch's observations: BiasedMF
ratings; SoRec ratings + trust edges; SocialMF ratings + trusting users (each pulls 1 + out-degree rows);
TrustMF 2 x (ratings + edges) (each record steps two models); SoReg ratings + edges with Sim > 0 (SR2) or +
users (SR1); SVD++ ratings (each also moves y of the user's items once per user); TrustSVD ratings + edges;
RSTE ratings (each user also moves its trustees once); BPR and SBPR the sampled pairs (= interactions). Bytes/update (BiasedMF) counts the factor rows
read and written (4 k x itemsize) plus the record (12) and biases (16): the DESIGN §9 bandwidth bound is HBM
bandwidth / bytes per update. speedup_vs_cpu = CPU epoch time / CUDA epoch time on the same data, the CPU on
every core (num_threads=0). Run by bench/gpu_check.sh; writes bench/results/gpu_sgd.json.
"""
from __future__ import annotations

import contextlib
import statistics
import time

import numpy as np

from _common import main, uniform_ratings

import socialrec as sr  # noqa: E402  (bench/_common puts the checkout's python/ on sys.path)


def blas_one_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # not on the GPU image: the SGD kernels use OpenMP / CUDA, never BLAS
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def epoch_seconds(model):
    seconds = [h["seconds"] for h in model.history[1:]] or [model.history[0]["seconds"]]
    return statistics.median(seconds)


def observations(model, train):
    """Observations of one epoch (see the module docstring)."""
    n_ratings, n_edges = train.nnz, train.n_trust
    name = type(model).__name__
    if name == "BiasedMF":
        return n_ratings
    if name == "SoRec":
        return n_ratings + n_edges
    if name == "SocialMF":
        return n_ratings + int(np.count_nonzero(np.diff(train.trust.indptr)))
    if name == "TrustMF":
        return 2 * (n_ratings + n_edges)
    if name == "SoReg":
        sim = model._edge_similarity(train)
        if model.regularizer == "SR2":
            return n_ratings + int(np.count_nonzero(sim > 0))
        src, _, _ = train.trust_arrays()
        return n_ratings + len(np.unique(src[sim > 0]))
    if name in ("BPR", "SBPR", "SVDpp", "RSTE"):
        return n_ratings
    if name == "TrustSVD":
        return n_ratings + n_edges
    raise ValueError(name)


def quality(model, test, ranking_users):
    if type(model).__name__ in ("BPR", "SBPR"):
        return "ndcg@10", float(sr.metrics.ranking(model, test, k=10, users=ranking_users, ids="index")["ndcg"])
    return "test_rmse", float(sr.metrics.rmse(model, test))


def timed_fit(cls, params, device, dtype, train, test, ranking_users, epochs):
    start = time.perf_counter()
    model = cls(**params, epochs=epochs, device=device, dtype=dtype, seed=0).fit(train)
    fit_s = time.perf_counter() - start
    metric, value = quality(model, test, ranking_users)
    n = observations(model, train)
    seconds = epoch_seconds(model)
    row = {"model": cls.__name__ + (f"-{params['regularizer']}" if "regularizer" in params else ""),
           "device": model.device_, "dtype": dtype, "factors": params["factors"], "epochs": epochs,
           "observations": n, "updates_per_s": n / seconds, "epoch_s": seconds, "fit_s": fit_s, metric: value}
    if cls is sr.BiasedMF:
        itemsize = 2 if dtype == "float16" else 4
        row["GB_per_s"] = row["updates_per_s"] * (4 * params["factors"] * itemsize + 12 + 16) / 1e9
    return model, row


def compare(cls, params, train, test, ranking_users, args, dtypes=("float32",)):
    """CPU then CUDA on the same data; each CUDA row gets its speedup over the CPU row."""
    _, cpu = timed_fit(cls, params, "cpu", "float32", train, test, ranking_users, args.cpu_epochs)
    rows = [cpu]
    for dtype in dtypes:
        _, gpu = timed_fit(cls, params, "cuda", dtype, train, test, ranking_users, args.epochs)
        gpu["speedup_vs_cpu"] = cpu["epoch_s"] / gpu["epoch_s"]
        rows.append(gpu)
    print(rows, flush=True)
    return rows


def time_recommend(model, users, n, repeat=3):
    import cupy as cp

    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        out = model.recommend(users, n=n, ids="index")
        if model.device_ == "cuda":
            cp.cuda.get_current_stream().synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def add_arguments(ap):
    ap.add_argument("--ratings", type=int, default=20_000_000, help="BiasedMF data")
    ap.add_argument("--users", type=int, default=500_000)
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--social-ratings", type=int, default=4_000_000, help="data of the social/ranking models")
    ap.add_argument("--social-users", type=int, default=200_000)
    ap.add_argument("--social-items", type=int, default=40_000)
    ap.add_argument("--links-per-user", type=int, default=5)
    ap.add_argument("--factors", type=int, nargs="+", default=[32, 128])
    ap.add_argument("--epochs", type=int, default=4, help="CUDA epochs per run")
    ap.add_argument("--cpu-epochs", type=int, default=2)
    ap.add_argument("--models", default="BiasedMF,SoRec,SocialMF,TrustMF,SoReg-SR2,SoReg-SR1,SVDpp,TrustSVD,RSTE,BPR,SBPR")


SOCIAL = {
    "SoRec": (sr.SoRec, {}),
    "SocialMF": (sr.SocialMF, {}),
    "TrustMF": (sr.TrustMF, {}),
    # similarity=None: on uniform random ratings almost no trust pair co-rates an item, so PCC would drop
    # nearly every edge; Sim = 1 keeps the social pass at its full size.
    "SoReg-SR2": (sr.SoReg, {"regularizer": "SR2", "similarity": None, "biased": False}),  # biased: CPU only
    "SoReg-SR1": (sr.SoReg, {"regularizer": "SR1", "similarity": None, "biased": False}),
    "SVDpp": (sr.SVDpp, {}),
    "TrustSVD": (sr.TrustSVD, {}),
    "RSTE": (sr.RSTE, {"biased": False}),
    "BPR": (sr.BPR, {}),
    "SBPR": (sr.SBPR, {}),
}


def run(args):
    if args.quick:
        args.ratings, args.users, args.items = 2_000_000, 100_000, 20_000
        args.social_ratings, args.social_users, args.social_items = 1_000_000, 50_000, 10_000
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    rows = []
    extra = {}
    with blas_one_thread():
        if "BiasedMF" in models:
            t0 = time.perf_counter()
            ds = uniform_ratings(args.ratings, args.users, args.items)
            train, test = sr.split.train_test_split(ds, test_size=0.05, seed=0)
            print(f"BiasedMF data: {train.nnz} training ratings, {test.nnz} test ({time.perf_counter() - t0:.1f} s)",
                  flush=True)
            extra["data_biased_mf"] = {"train": int(train.nnz), "test": int(test.nnz), "users": args.users,
                                       "items": args.items}
            for k in args.factors:
                rows += compare(sr.BiasedMF, {"factors": k, "learning_rate": 0.005, "regularization": 0.02}, train,
                                test, None, args, dtypes=("float32", "float16"))
            extra["topn"] = topn(train, test, args)
            del ds, train, test
        social = [m for m in models if m in SOCIAL]
        if social:
            t0 = time.perf_counter()
            ds = uniform_ratings(args.social_ratings, args.social_users, args.social_items,
                                 n_edges=args.links_per_user * args.social_users, seed=1)
            train, test = sr.split.train_test_split(ds, test_size=0.05, seed=0)
            rng = np.random.default_rng(0)
            test_users = np.flatnonzero(np.diff(test.ratings.indptr) > 0)
            ranking_users = np.sort(rng.choice(test_users, size=min(2000, len(test_users)), replace=False))
            print(f"social data: {train.nnz} training ratings, {train.n_trust} trust edges "
                  f"({time.perf_counter() - t0:.1f} s)", flush=True)
            extra["data_social"] = {"train": int(train.nnz), "test": int(test.nnz), "edges": int(train.n_trust),
                                    "users": args.social_users, "items": args.social_items}
            for name in social:
                cls, params = SOCIAL[name]
                for k in args.factors:
                    try:
                        rows += compare(cls, {**params, "factors": k}, train, test, ranking_users, args)
                    except Exception as e:  # noqa: BLE001 - one model's failure must not lose the others' figures
                        rows.append({"model": name, "factors": k, "error": f"{type(e).__name__}: {e}"[:300]})
                        print(rows[-1], flush=True)
    try:
        from socialrec import _backend

        extra["devices"] = _backend.cuda_module().device_info()
        import cupy as cp

        extra["cupy"] = cp.__version__
    except Exception as e:  # noqa: BLE001
        extra["devices"] = str(e)
    columns = ["model", "device", "dtype", "factors", "observations", "updates_per_s", "epoch_s", "speedup_vs_cpu",
               "GB_per_s", "test_rmse", "ndcg@10", "error"]
    return {"rows": rows, "columns": columns, **extra}


def topn(train, test, args):
    """1,000 users x all items, k=64, seen items excluded; the same parameters on both devices (the CPU
    scores with its BLAS on every core, the GPU with cuBLAS through CuPy)."""
    import cupy as cp

    model = sr.BiasedMF(factors=64, epochs=1, device="cuda", seed=0).fit(train)
    users = np.arange(1000, dtype=np.int64)
    gpu_s, (gpu_ids, _) = time_recommend(model, cp.asarray(users), 10)
    model.to("cpu")
    cpu_s, (cpu_ids, _) = time_recommend(model, users, 10)
    out = {"users": 1000, "items": args.items, "factors": 64, "n": 10, "cpu_s": cpu_s, "cuda_s": gpu_s,
           "speedup_vs_cpu": cpu_s / gpu_s, "ids_equal_fraction": float(np.mean(gpu_ids.get() == cpu_ids))}
    print(out, flush=True)
    return out


if __name__ == "__main__":
    main("gpu_sgd", run, add_arguments, doc=__doc__)
