"""BiasedMF SGD on CUDA vs the CPU path on the same data: updates/s at k=32 and k=128 (float32, and float16
storage on CUDA), test RMSE next to every timing, and batched top-N (1,000 users x all items, k=64).

    python bench/gpu_sgd.py              # 20M ratings, 500k users x 100k items (about 1.5 GB on the device)
    python bench/gpu_sgd.py --quick      # 2M ratings

Updates/s = training ratings / median epoch seconds (epochs after the first; each epoch's time includes the
device synchronisation that reads its loss). Bytes/update counts the factor rows read and written
(4 k x itemsize) plus the record (12) and biases (16): the DESIGN §9 bandwidth bound is HBM bandwidth /
bytes per update. Ratios are CPU time / CUDA time (> 1: CUDA faster). Run by bench/gpu_check.sh.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

import socialrec as sr
from _peers import emit


def make_data(n_ratings, n_users, n_items, seed=0):
    """Random (user, item) pairs with low-rank ratings in [1, 5]; 5% held out."""
    rng = np.random.default_rng(seed)
    users = rng.integers(0, n_users, size=n_ratings, dtype=np.int64)
    items = rng.integers(0, n_items, size=n_ratings, dtype=np.int64)
    key = np.unique(users * n_items + items)  # drop repeated pairs
    users, items = key // n_items, key % n_items
    p = rng.normal(0, 0.5, size=(n_users, 8)).astype(np.float32)
    q = rng.normal(0, 0.5, size=(n_items, 8)).astype(np.float32)
    values = np.clip(3.0 + np.einsum("ij,ij->i", p[users], q[items]) + rng.normal(0, 0.3, len(users)), 1, 5)
    test = rng.random(len(users)) < 0.05
    mk = lambda m: sp.csr_matrix((values[m].astype(np.float32), (users[m], items[m])), shape=(n_users, n_items))
    return mk(~test), mk(test)


def rmse_on(model, test):
    coo = test.tocoo()
    pred = model.predict(coo.row, coo.col)
    return float(np.sqrt(np.mean((coo.data - pred) ** 2)))


def epoch_rate(model, nnz):
    seconds = [h["seconds"] for h in model.history[1:]] or [model.history[0]["seconds"]]
    return nnz / statistics.median(seconds), statistics.median(seconds)


def run(device, dtype, k, train, test, epochs, lr):
    start = time.perf_counter()
    model = sr.BiasedMF(factors=k, epochs=epochs, learning_rate=lr, regularization=0.02, device=device,
                        dtype=dtype, seed=0).fit(train)
    fit_seconds = time.perf_counter() - start
    rate, epoch_s = epoch_rate(model, train.nnz)
    itemsize = 2 if dtype == "float16" else 4
    bytes_per_update = 4 * k * itemsize + 12 + 16
    return model, {"device": device, "dtype": dtype, "factors": k, "epochs": epochs, "updates_per_s": rate,
                   "epoch_s": epoch_s, "fit_s": fit_seconds, "GB_per_s": rate * bytes_per_update / 1e9,
                   "test_rmse": rmse_on(model, test)}


def time_recommend(model, users, n, repeat=3):
    import cupy as cp

    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        out = model.recommend(users, n=n)
        if model.device_ == "cuda":
            cp.cuda.get_current_stream().synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ratings", type=int, default=20_000_000)
    ap.add_argument("--users", type=int, default=500_000)
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--factors", type=int, nargs="+", default=[32, 128])
    ap.add_argument("--epochs", type=int, default=6, help="CUDA epochs per run")
    ap.add_argument("--cpu-epochs", type=int, default=2)
    ap.add_argument("--learning-rate", type=float, default=0.005)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.ratings, args.users, args.items = 2_000_000, 100_000, 20_000

    t0 = time.perf_counter()
    train, test = make_data(args.ratings, args.users, args.items)
    print(f"data: {train.nnz} training ratings, {test.nnz} test, {args.users} x {args.items} "
          f"({time.perf_counter() - t0:.1f} s)", flush=True)
    rows = []
    with threadpool_limits(limits=1, user_api="blas"):  # the SGD kernels use OpenMP / CUDA, never BLAS
        for k in args.factors:
            _, cpu = run("cpu", "float32", k, train, test, args.cpu_epochs, args.learning_rate)
            rows.append(cpu)
            for dtype in ("float32", "float16"):
                _, gpu = run("cuda", dtype, k, train, test, args.epochs, args.learning_rate)
                gpu["speedup_vs_cpu"] = gpu["updates_per_s"] / cpu["updates_per_s"]
                rows.append(gpu)
            print(rows[-3:], flush=True)

    # Top-N: 1,000 users x all items, k=64, seen items excluded; the same parameters on both devices (the CPU
    # scores with its BLAS on every core, the GPU with cuBLAS through CuPy).
    import cupy as cp

    model, _ = run("cuda", "float32", 64, train, test, 1, args.learning_rate)
    users = np.arange(1000, dtype=np.int64)
    gpu_s, (gpu_ids, _) = time_recommend(model, cp.asarray(users), 10)
    model.to("cpu")
    cpu_s, (cpu_ids, _) = time_recommend(model, users, 10)
    same = float(np.mean(gpu_ids.get() == cpu_ids))
    topn = {"users": 1000, "items": args.items, "factors": 64, "n": 10, "cpu_s": cpu_s, "cuda_s": gpu_s,
            "speedup_vs_cpu": cpu_s / gpu_s, "ids_equal_fraction": same}
    print(topn, flush=True)
    extra = {"data": {"train": int(train.nnz), "test": int(test.nnz), "users": args.users, "items": args.items},
             "topn": topn}
    try:
        from socialrec import _backend

        extra["devices"] = _backend.cuda_module().device_info()
        extra["cupy"] = cp.__version__
    except Exception as e:  # noqa: BLE001
        extra["devices"] = str(e)
    emit("gpu_sgd", rows, ["device", "dtype", "factors", "updates_per_s", "GB_per_s", "epoch_s", "test_rmse",
                           "speedup_vs_cpu"], extra)


if __name__ == "__main__":
    main()
