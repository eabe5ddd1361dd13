"""A/B of the SGD models' epoch times between two checkouts, each with its own build (issue 22: the input checks
and the other changes since a commit must leave epoch times unchanged).

    PYTHONPATH=python python bench/epoch_ab.py OLD_TREE NEW_TREE [--rounds 7] [--quick]

Each round runs one subprocess per tree (order alternating between rounds, so drift hits both) that fits every
SGD rating model for 3 epochs, 1 thread, float32, factors 10, on uniform data (2M ratings, 50k users x 20k
items, 300k edges; --quick: 200k / 10k x 5k / 50k) and reports each model's fastest epoch (history seconds:
the binding's checks included). The models are fitted as the OLD tree defines them: the social rating models
without biases (biased=False where the new tree has that option) and non-deterministic schedules. Prints the
medians over rounds and their ratio, and the per-round ratios; writes bench/results/epoch_ab.json.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = r'''
import sys, json
sys.path.insert(0, sys.argv[1] + "/python"); sys.path.insert(0, sys.argv[1] + "/bench")
import socialrec as sr, _common
n, users, items, edges = map(int, sys.argv[2:6])
ds = _common.uniform_ratings(n, users, items, n_edges=edges, seed=0)
out = {}
for name in ["BiasedMF", "SVDpp", "SoRec", "SocialMF", "SoReg", "RSTE", "TrustMF", "TrustSVD"]:
    cls = getattr(sr, name)
    p = {"factors": 10, "epochs": 3, "dtype": "float32", "num_threads": 1, "seed": 0}
    if name == "SoReg": p["similarity"] = None
    if "deterministic" in cls._defaults: p["deterministic"] = False
    if name != "BiasedMF" and "biased" in cls._defaults: p["biased"] = False
    m = cls(**p).fit(ds)
    out[name] = min(h["seconds"] for h in m.history)
print(json.dumps(out))
'''


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "epoch_ab.json"))
    args = ap.parse_args(argv)
    size = ["200000", "10000", "5000", "50000"] if args.quick else ["2000000", "50000", "20000", "300000"]
    trees = {"old": os.path.abspath(args.old), "new": os.path.abspath(args.new)}
    env = {"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1", "HOME": os.environ.get("HOME", "/root")}
    res = {k: {} for k in trees}
    for r in range(1 if args.quick else args.rounds):
        order = list(trees.items()) if r % 2 == 0 else list(reversed(trees.items()))
        for k, tree in order:
            proc = subprocess.run([sys.executable, "-c", CHILD, tree, *size], capture_output=True, text=True, env=env)
            if proc.returncode:
                sys.exit(proc.stderr[-2000:])
            for m, s in json.loads(proc.stdout.strip().splitlines()[-1]).items():
                res[k].setdefault(m, []).append(s)
    rows = []
    print(f"{'model':10s} {'old ms':>8s} {'new ms':>8s} {'new/old':>8s}  per round")
    for m in res["old"]:
        a, b = statistics.median(res["old"][m]) * 1e3, statistics.median(res["new"][m]) * 1e3
        per_round = [round(n / o, 2) for o, n in zip(res["old"][m], res["new"][m])]
        rows.append({"model": m, "old_ms": a, "new_ms": b, "ratio": b / a, "per_round": per_round})
        print(f"{m:10s} {a:8.2f} {b:8.2f} {b / a:8.3f}  {per_round}")
    if not args.quick:
        with open(args.out, "w") as f:
            json.dump({"trees": trees, "size": size, "rounds": args.rounds, "rows": rows, "raw": res}, f, indent=1)


if __name__ == "__main__":
    main()
