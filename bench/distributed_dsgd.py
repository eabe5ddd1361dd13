"""DSGD (socialrec.distributed) for SocialMF: test RMSE with d = 1, 2, 4 blocks a side against the
single-machine fit, on FilmTrust and Epinions (80/20, ``train_test_split(seed=0)``), and the CPU seconds of
each fit.

    python bench/distributed_dsgd.py [--quick] [--datasets filmtrust epinions] [--blocks 1 2 4] [--dask]

The DSGD fits run their block tasks in this process (``_dask.InProcess``: the same tasks, in dependency order,
with the same results as on a cluster: every task is a deterministic function of its inputs), so that the
figures are the algorithm's, not the scheduler's on this shared machine; ``--dask`` adds the d = 2 fit of the
first data set on a ``LocalCluster`` of 2 worker processes (same RMSE, checked) with its wall seconds.
CPU seconds (``time.process_time``, this process's threads) are reported instead of wall time: the machine is
shared. Rating-updates per CPU second = training ratings x epochs / CPU seconds.
--quick: FilmTrust only, 10 epochs (under 60 s).
"""
from __future__ import annotations

import os
import sys
import time

# This file's folder goes to the end of the path (bench/distributed.py shares the Dask package's name).
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != HERE] + [HERE]

import _common  # noqa: E402


def load(name):
    import socialrec as sr

    if name == "filmtrust":
        return _common.filmtrust()
    return sr.datasets.load_tang(_common.data_folder("epinions"))


def fit(model, train, d):
    """``model`` fitted on ``train`` (single machine when d is None, else DSGD with d blocks, in process);
    returns (model, CPU seconds)."""
    import socialrec as sr
    from socialrec.distributed import _checkpoint, _dask, _social_dsgd

    start = time.process_time()
    if d is None:
        model.fit(train)
    else:
        engine = _social_dsgd.SocialDSGD(model, _dask.InProcess(), d, False, _checkpoint.Checkpoints(None, 1))
        with sr.distributed._hooked(model, engine):
            model.fit(train)
    return model, time.process_time() - start


def fit_on_cluster(params, train, d):
    from distributed import Client, LocalCluster

    import socialrec as sr

    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        start = time.perf_counter()
        model = sr.distributed.fit(sr.SocialMF(**params), train, client=client, blocks=d)
        return model, time.perf_counter() - start


def run(args):
    import numpy as np

    import socialrec as sr

    epochs = 10 if args.quick else args.epochs
    names = ["filmtrust"] if args.quick else args.datasets
    rows = []
    for name in names:
        train, test = sr.split.train_test_split(load(name), test_size=0.2, seed=0)
        params = dict(epochs=epochs, seed=0)
        n = train.ratings.nnz
        single, cpu = fit(sr.SocialMF(**params), train, None)
        base = sr.metrics.rmse(single, test)
        rows.append({"dataset": name, "model": "SocialMF", "fit": "single machine", "d": "-", "rmse": round(base, 4),
                     "rmse_vs_single_pct": 0.0, "cpu_s": round(cpu, 2),
                     "updates_per_cpu_s": round(n * epochs / cpu), "same_as_single": True})
        for d in args.blocks:
            model, cpu = fit(sr.SocialMF(**params), train, d)
            rmse = sr.metrics.rmse(model, test)
            same = all(np.array_equal(model.parameters_[k], v) for k, v in single.parameters_.items())
            rows.append({"dataset": name, "model": "SocialMF", "fit": "DSGD in process", "d": d,
                         "rmse": round(rmse, 4), "rmse_vs_single_pct": round(100 * (rmse / base - 1), 3),
                         "cpu_s": round(cpu, 2), "updates_per_cpu_s": round(n * epochs / cpu),
                         "same_as_single": same})
        if args.dask and name == names[0]:
            model, wall = fit_on_cluster(params, train, 2)
            rmse = sr.metrics.rmse(model, test)
            rows.append({"dataset": name, "model": "SocialMF", "fit": "DSGD, LocalCluster 2 processes (wall s)",
                         "d": 2, "rmse": round(rmse, 4), "rmse_vs_single_pct": round(100 * (rmse / base - 1), 3),
                         "cpu_s": f"{wall:.1f} wall", "updates_per_cpu_s": "-", "same_as_single": False})
    return {"rows": rows, "epochs": epochs,
            "columns": ["dataset", "model", "fit", "d", "rmse", "rmse_vs_single_pct", "cpu_s", "updates_per_cpu_s",
                        "same_as_single"]}


def add_arguments(ap):
    ap.add_argument("--datasets", nargs="+", default=["filmtrust", "epinions"])
    ap.add_argument("--blocks", nargs="+", type=int, default=[1, 2, 4])
    ap.add_argument("--epochs", type=int, default=100, help="SocialMF's default")
    ap.add_argument("--dask", action="store_true", help="also the d = 2 fit on a LocalCluster (first data set)")


if __name__ == "__main__":
    _common.main("distributed_dsgd", run, add_arguments, __doc__)
