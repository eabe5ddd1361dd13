"""Epoch cost of SoRec and SocialMF against BiasedMF on the same ratings plus a trust graph with about
ratings/4 edges (issue 3 target: within 3x), at 1 and 2 threads.

    PYTHONPATH=python python bench/social_epoch_cost.py [--repeats 5]

Data: ``synthetic(n_users=50000, n_items=20000, density=0.001, trust_per_user=5)``: ~0.97M ratings and
~0.25M trust edges. k = 10, float32. Epoch time is the kernel call of one epoch (``history[e]["seconds"]``);
each figure is the best of ``--repeats`` fits of the median over 5 epochs. SocialMF runs its default
parallel (Hogwild) user pass; ``deterministic=True`` is also shown. Prints a table and JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import machine, one_thread  # noqa: E402

import socialrec as sr  # noqa: E402

MODELS = [("BiasedMF", sr.BiasedMF, {}), ("SoRec", sr.SoRec, {}), ("SocialMF", sr.SocialMF, {}),
          ("SocialMF deterministic", sr.SocialMF, {"deterministic": True})]


def epoch_seconds(cls, params, ds, threads, repeats):
    best = np.inf
    for _ in range(repeats):
        model = cls(factors=10, epochs=5, num_threads=threads, **params).fit(ds)
        best = min(best, float(np.median([h["seconds"] for h in model.history])))
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    ds = sr.datasets.synthetic(n_users=50000, n_items=20000, density=0.001, trust_per_user=5, seed=0)
    rows = []
    with one_thread():  # BLAS pools only; our own threads are set per model
        for threads in (1, 2):
            base = None
            for name, cls, params in MODELS:
                seconds = epoch_seconds(cls, params, ds, threads, args.repeats)
                base = seconds if base is None else base
                rows.append({"model": name, "threads": threads, "epoch_s": seconds, "vs_biased_mf": seconds / base,
                             "ratings_per_s": ds.nnz / seconds})
    out = {"bench": "social_epoch_cost", "machine": machine(), "ratings": ds.nnz, "edges": ds.n_trust,
           "factors": 10, "results": rows}
    print(f"ratings {ds.nnz}, trust edges {ds.n_trust} (ratio {ds.nnz / ds.n_trust:.2f}), k = 10, float32")
    print(f"{'model':24} {'threads':>7} {'epoch ms':>9} {'vs BiasedMF':>11}")
    for r in rows:
        print(f"{r['model']:24} {r['threads']:7d} {1e3 * r['epoch_s']:9.1f} {r['vs_biased_mf']:10.2f}x")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
