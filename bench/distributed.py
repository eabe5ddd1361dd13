"""socialrec.distributed on this machine: blocked ALS throughput with 1 and 2 Dask worker processes (strong
scaling) against single-machine socialrec ALS and Spark MLlib ALS, the memory of each worker, and the
communication volume per iteration, projected to 16 nodes and 10^10 ratings.

    python bench/distributed.py [--quick] [--epochs 5] [--factors 10] [--users 60000] [--items 20000]
                                [--ratings 2000000] [--spark | --no-spark]

Data: ``--ratings`` distinct (user, item) pairs, users uniform and items Zipf-like (exponent 0.8), value 1
(implicit feedback). Rating-updates/s = ratings x epochs / seconds of the epochs (each epoch solves every
user row and every item row: each rating enters two row solves), the unit of the issue's Spark figure.
Distributed fits: a LocalCluster of n worker processes with 1 thread each, ``blocks`` = n; single-machine
fits with ``num_threads`` = 1 and 2. Epoch seconds are the median of the fit's epochs (building the blocks,
shipping them to the workers and gathering the factors are reported apart). Memory: the resident set
(psutil) of each worker process before the fit (socialrec imported) and after it (the blocks, factors and
links it holds, and what Dask keeps of the last epoch).
--quick: 120,000 ratings, 2 epochs, no Spark (under 60 s).
"""
from __future__ import annotations

import os
import sys
import time

# This file's name is the Dask package's: its folder goes to the end of the path (and so of the worker
# processes' path), after the installed packages, where _common is still found.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != HERE] + [HERE]

import numpy as np  # noqa: E402

import _common  # noqa: E402


def make_data(n_users, n_items, n, seed=0):
    import scipy.sparse as sp

    import socialrec as sr

    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, n_items + 1) ** 0.8
    keys = np.unique(rng.integers(0, n_users, size=int(n * 1.3)).astype(np.int64) * n_items
                     + rng.choice(n_items, size=int(n * 1.3), p=weights / weights.sum()))
    keys = rng.permutation(keys)[:n]
    m = sp.csr_matrix((np.ones(len(keys), np.float32), (keys // n_items, keys % n_items)), shape=(n_users, n_items))
    return sr.Dataset(m)


def rss_of_workers(client):
    import psutil

    return {w: int(v) for w, v in client.run(lambda: psutil.Process(os.getpid()).memory_info().rss).items()}


def fit_distributed(data, workers, factors, epochs):
    from distributed import Client, LocalCluster

    import socialrec as sr

    with LocalCluster(n_workers=workers, processes=True, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        client.run(lambda: __import__("socialrec"))  # the baseline holds socialrec's own import (NumPy, SciPy)
        before = rss_of_workers(client)
        start = time.perf_counter()
        model = sr.distributed.fit(sr.ALS(factors=factors, epochs=epochs, seed=0), data, client=client,
                                   blocks=workers)
        wall = time.perf_counter() - start
        after = rss_of_workers(client)
    epoch_s = _common.median([h["seconds"] for h in model.history])
    return model, {"epoch_s": epoch_s, "fit_wall_s": wall, "setup_and_gather_s": wall - epoch_s * epochs,
                   "worker_rss_before_mib": [round(before[w] / 2**20, 1) for w in sorted(before)],
                   "worker_rss_after_mib": [round(after[w] / 2**20, 1) for w in sorted(after)]}


def fit_single(data, threads, factors, epochs):
    import socialrec as sr

    start = time.perf_counter()
    model = sr.ALS(factors=factors, epochs=epochs, seed=0, num_threads=threads).fit(data)
    return model, {"epoch_s": _common.median([h["seconds"] for h in model.history]),
                   "fit_wall_s": time.perf_counter() - start}


def fit_spark(data, factors, epochs, alpha):
    """Spark MLlib ALS (implicitPrefs) in local[2] on the same pairs; None when pyspark cannot run here."""
    try:
        from pyspark.ml.recommendation import ALS as SparkALS
        from pyspark.sql import SparkSession
    except ImportError as e:
        return {"error": _common.error_text(e)}
    coo, nnz = data.ratings.tocoo(), data.ratings.nnz
    try:
        spark = (SparkSession.builder.master("local[2]").appName("socialrec-bench")
                 .config("spark.driver.memory", "4g").config("spark.ui.enabled", "false").getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        import pandas as pd

        frame = spark.createDataFrame(pd.DataFrame({"user": coo.row.astype(np.int32), "item": coo.col.astype(np.int32),
                                                    "rating": coo.data.astype(np.float32)})).cache()
        frame.count()
        times = {}
        # a first fit warms the JVM up (discarded); the difference of the next two removes Spark's set-up
        # (blocking, shuffles) from the per-iteration figure
        for iters in (1, 1, 1 + epochs):
            als = SparkALS(rank=factors, maxIter=iters, implicitPrefs=True, alpha=alpha, regParam=0.01,
                           userCol="user", itemCol="item", ratingCol="rating", numUserBlocks=2, numItemBlocks=2,
                           seed=0)
            start = time.perf_counter()
            model = als.fit(frame)
            model.userFactors.count()
            model.itemFactors.count()
            times[iters] = time.perf_counter() - start
        spark.stop()
        return {"epoch_s": (times[1 + epochs] - times[1]) / epochs, "fit_wall_s": times[1 + epochs],
                "one_iteration_fit_s": times[1], "whole_fit_rating_updates_per_s": nnz * epochs / times[1 + epochs],
                "version": _common.version("pyspark")}
    except Exception as e:  # noqa: BLE001  (no Java, a JVM that fails to start, ...)
        return {"error": _common.error_text(e)}


def link_volume(data, blocks, factors, itemsize=4):
    """Bytes shipped in one epoch of the blocked ALS with ``blocks`` blocks a side: the rows each block receives
    from the other side (its in-links, both half-steps), the Gramian partials, and the counts behind them."""
    import socialrec as sr
    from socialrec.distributed import _blocks

    r = data.ratings.tocsr()
    out = {}
    for side, m, other in (("users", r, r.shape[1]), ("items", r.T.tocsr(), r.shape[0])):
        bounds = _blocks.block_bounds(sr._core.gramian_chunk_bounds(m.shape[0]), blocks)
        other_bounds = _blocks.block_bounds(sr._core.gramian_chunk_bounds(other), blocks)
        rows = sum(sum(len(v) for v in _blocks.linked_rows(*_blocks.csr_block(m, a, b), other_bounds)[3].values())
                   for a, b in zip(bounds[:-1], bounds[1:]))
        out[f"rows_received_by_{side}"] = int(rows)
    gram = 2 * 64 * factors * factors * itemsize
    out["bytes_per_epoch"] = int((out["rows_received_by_users"] + out["rows_received_by_items"]) * factors * itemsize
                                 + gram)
    return out


def projection(per_core_updates, factors):
    """16 nodes, 10^10 ratings: compute and communication per iteration (a model, stated in its fields)."""
    n, users, items, nodes, cores = 1e10, 1e8, 1e7, 16, 16
    # worst case: every user block needs every item it could (each block's ratings reach nearly every item), and
    # every item block needs every user with a rating in it (10^10 / 10^8 = 100 ratings a user, spread
    # over 16 item blocks: nearly every user in each)
    rows_shipped = nodes * items + nodes * users
    bytes_shipped = rows_shipped * factors * 4
    compute_s = n / (per_core_updates * nodes * cores)
    network_s = bytes_shipped / nodes / 1.25e9  # 10 Gbit/s per node, all nodes sending at once
    return {"ratings": n, "users": users, "items": items, "nodes": nodes, "cores_per_node": cores,
            "factors": factors, "rows_shipped_per_iteration": rows_shipped, "gib_shipped_per_iteration":
            bytes_shipped / 2**30, "compute_s_per_iteration": compute_s,
            "network_s_per_iteration_10gbit": network_s,
            "factor_memory_gib_per_node": (users + items) * factors * 4 / nodes / 2**30,
            "ratings_memory_gib_per_node": n * 2 * 12 / nodes / 2**30}


def run(args):
    quick = args.quick
    n_users, n_items = (args.users or (8_000 if quick else 60_000)), (args.items or (3_000 if quick else 20_000))
    n = args.ratings or (120_000 if quick else 2_000_000)
    epochs = args.epochs or (2 if quick else 5)
    k = args.factors
    data = make_data(n_users, n_items, n)
    nnz = data.ratings.nnz
    rows, models = [], {}
    for threads in (1, 2):
        models[f"single{threads}"], r = fit_single(data, threads, k, epochs)
        rows.append({"what": f"socialrec ALS, one process, {threads} thread(s)", **r})
    for workers in (1, 2):
        models[f"dask{workers}"], r = fit_distributed(data, workers, k, epochs)
        rows.append({"what": f"socialrec.distributed ALS, {workers} worker process(es) x 1 thread", **r})
    same = all(np.array_equal(models["dask2"].parameters_[key], models["single1"].parameters_[key])
               for key in ("user_factors", "item_factors"))
    spark = None
    if args.spark and not quick:
        spark = fit_spark(data, k, epochs, models["single1"].alpha)
        rows.append({"what": "Spark MLlib ALS implicitPrefs, local[2]", **spark})
    for row in rows:
        if row.get("epoch_s") and row["epoch_s"] > 0:
            row["rating_updates_per_s"] = nnz / row["epoch_s"]
    base = rows[2]["rating_updates_per_s"]
    scaling = rows[3]["rating_updates_per_s"] / base
    per_core = rows[0]["rating_updates_per_s"]
    spark_rate = rows[-1].get("rating_updates_per_s") if spark else None
    spark_quoted = 1.5e5 * 2  # the figure: 1.0-1.5e5 rating-updates/s per core at rank 10, 2 cores
    targets = [_common.target("2 Dask workers vs Spark MLlib ALS local[2] (rating-updates/s)",
                              "Spark (measured)" if spark_rate else "Spark (issue's 1.5e5/core x 2, quoted)",
                              rows[3]["rating_updates_per_s"] / (spark_rate or spark_quoted), 10.0),
               _common.target("strong scaling 1 -> 2 worker processes", "1 worker", scaling, 1.6,
                              note="2 cores shared with other work: see load averages")]
    return {"rows": rows, "targets": targets,
            "columns": ["what", "epoch_s", "rating_updates_per_s", "fit_wall_s", "setup_and_gather_s",
                        "worker_rss_before_mib", "worker_rss_after_mib"],
            "data": {"users": n_users, "items": n_items, "ratings": nnz, "factors": k, "epochs": epochs},
            "identical_to_single_machine": same, "spark": spark,
            "factor_mib": (n_users + n_items) * k * 4 / 2**20, "ratings_mib": nnz * 2 * 12 / 2**20,
            "links_2_blocks": link_volume(data, 2, k), "projection_16_nodes": projection(per_core, k)}


def add_arguments(ap):
    ap.add_argument("--epochs", type=int, default=0, help="ALS epochs (default 5, --quick 2)")
    ap.add_argument("--factors", type=int, default=10, help="rank (default 10, the issue's Spark figure's)")
    ap.add_argument("--users", type=int, default=0)
    ap.add_argument("--items", type=int, default=0)
    ap.add_argument("--ratings", type=int, default=0, help="default 2,000,000 (--quick 120,000)")
    ap.add_argument("--spark", action=__import__("argparse").BooleanOptionalAction, default=True,
                    help="run Spark MLlib ALS too (full runs only)")


if __name__ == "__main__":
    _common.main("distributed", run, add_arguments, __doc__)
