"""SoRec epoch time: socialrec vs Cornac's SoRec, one thread, same k, same data (DESIGN §9: target >= 20x).

    PYTHONPATH=python python bench/sorec_vs_cornac.py [--filmtrust PATH] [--repeats 5]

Data: FilmTrust (35k ratings, 1.9k trust edges) and a synthetic set with ~1M ratings and ~250k trust edges.
Both libraries get the same ratings, mapped to [0, 1] the same way, and the same weighted edges c*_uk.
Cornac's trainer (``cornac.models.sorec.sorec.sorec``, Cython, full-batch gradient with momentum) is called
directly so that its Python preprocessing (a per-edge Python loop for the weights) is not counted; socialrec's
epoch time is the kernel call of each epoch (``model.history[e]["seconds"]``), fitting and data packing
excluded. Each figure is the best of ``--repeats`` runs of the median epoch. Prints a table and JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import machine, one_thread  # noqa: E402

import socialrec as sr  # noqa: E402
from socialrec.models._social import unit_values  # noqa: E402
from socialrec.models.sorec import link_targets  # noqa: E402


def ours(ds, k, epochs, repeats):
    best = np.inf
    for _ in range(repeats):
        model = sr.SoRec(factors=k, epochs=epochs, num_threads=1).fit(ds)
        best = min(best, float(np.median([h["seconds"] for h in model.history])))
    return best


def cornac_epoch(ds, k, epochs, repeats):
    from cornac.models.sorec import sorec as cornac_sorec

    u, i, r = ds.user_item_arrays()
    values = unit_values(r, ds.rating_scale)
    src, dst, c = link_targets(ds.trust)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        cornac_sorec.sorec(u, i, values, src, dst, c.astype(np.float32), k=k, n_users=ds.n_users,
                           n_items=ds.n_items, n_ratings=len(values), n_edges=len(src), n_epochs=epochs,
                           lambda_c=1.0, lambda_reg=0.001, learning_rate=0.001, gamma=0.9,
                           init_params={"U": None, "V": None, "Z": None}, verbose=False, seed=0)
        best = min(best, (time.perf_counter() - start) / epochs)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--filmtrust", default="/work/shared/data/filmtrust")
    ap.add_argument("--factors", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    import cornac

    sets = []
    if os.path.isdir(args.filmtrust):
        sets.append(("FilmTrust", sr.datasets.load_filmtrust(args.filmtrust), 50, 20))
    sets.append(("synthetic 50k x 20k", sr.datasets.synthetic(n_users=50000, n_items=20000, density=0.001,
                                                               trust_per_user=5, seed=0), 10, 3))
    rows = []
    with one_thread():
        for name, ds, epochs, cornac_epochs in sets:
            a = ours(ds, args.factors, epochs, args.repeats)
            b = cornac_epoch(ds, args.factors, cornac_epochs, max(1, args.repeats // 2))
            updates = ds.nnz + ds.n_trust
            rows.append({"data": name, "ratings": ds.nnz, "edges": ds.n_trust, "factors": args.factors,
                         "socialrec_epoch_s": a, "cornac_epoch_s": b, "speedup": b / a,
                         "socialrec_updates_per_s": updates / a, "cornac_updates_per_s": updates / b})
    out = {"bench": "sorec_vs_cornac", "machine": machine(), "cornac": cornac.__version__, "threads": 1,
           "results": rows}
    print(f"{'data':22} {'ratings':>9} {'edges':>8} {'socialrec ms':>13} {'cornac ms':>10} {'speedup':>8}"
          f" {'socialrec M/s':>14} {'cornac M/s':>11}")
    for r in rows:
        print(f"{r['data']:22} {r['ratings']:9d} {r['edges']:8d} {1e3 * r['socialrec_epoch_s']:13.3f}"
              f" {1e3 * r['cornac_epoch_s']:10.2f} {r['speedup']:7.1f}x {r['socialrec_updates_per_s'] / 1e6:14.1f}"
              f" {r['cornac_updates_per_s'] / 1e6:11.1f}")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
