"""The judged per-segment table (../shared/checks/social_signal.py: defaults, factors 10, seed 0) pooled over five
folds, so that the cold-start-with-trustees segment holds enough test ratings to resolve .01 (DESIGN §10).

    PYTHONPATH=python python bench/social_signal_folds.py --dataset epinions

``split.kfold(ds, 5, seed=0)``; every model fitted with its defaults on each fold's training part; each test
rating's squared error goes to the segments of its user (cold: < 5 training ratings in that fold; with trustees:
at least one trust edge in that fold's training data); RMSE over the pooled errors. Writes
bench/results/social_signal_folds_<dataset>.json."""
import argparse
import json
import os
import time

import numpy as np

import _common
import socialrec as sr

PLAIN = ["BiasedMF", "SVDpp"]
SOCIAL = ["SoRec", "SocialMF", "SoReg", "RSTE", "TrustMF", "TrustSVD"]
SEGMENTS = ["all", "cold", "with_trustees", "cold_with_trustees"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="epinions", choices=["epinions", "filmtrust"])
    ap.add_argument("--factors", type=int, default=10)
    a = ap.parse_args()
    path = _common.data_folder(a.dataset)
    ds = sr.datasets.load_tang(path) if a.dataset == "epinions" else sr.datasets.load_filmtrust(path, duplicates="mean")
    errors = {m: {s: [] for s in SEGMENTS} for m in PLAIN + SOCIAL}
    seconds = {m: 0.0 for m in PLAIN + SOCIAL}
    for train, test in sr.split.kfold(ds, k=5, seed=0):
        coo = test.ratings.tocoo()
        cnt = np.diff(train.ratings.tocsr().indptr)
        deg = np.diff(train.trust.tocsr().indptr)
        cold, soc = cnt[coo.row] < 5, deg[coo.row] > 0
        masks = {"all": np.ones_like(cold), "cold": cold, "with_trustees": soc, "cold_with_trustees": cold & soc}
        for name in PLAIN + SOCIAL:
            start = time.perf_counter()
            m = getattr(sr, name)(factors=a.factors, seed=0).fit(train)
            seconds[name] += time.perf_counter() - start
            err = (np.asarray(m.predict(coo.row, coo.col, ids="index"), float) - coo.data) ** 2
            for s, mask in masks.items():
                errors[name][s].append(err[mask])
    rows = []
    for name in PLAIN + SOCIAL:
        row = {"model": name, "social": name in SOCIAL, "fit_seconds": seconds[name]}
        for s in SEGMENTS:
            e = np.concatenate(errors[name][s])
            row[s] = {"rmse": float(np.sqrt(e.mean())) if e.size else float("nan"), "n": int(e.size)}
        rows.append(row)
    print(f"{a.dataset}, 5 folds pooled: n per segment " + ", ".join(f"{s} {rows[0][s]['n']}" for s in SEGMENTS))
    print(f"{'model':10s}" + "".join(f"{s:>20s}" for s in SEGMENTS))
    for r in rows:
        print(f"{r['model']:10s}" + "".join(f"{r[s]['rmse']:20.4f}" for s in SEGMENTS))
    summary = {}
    for s in SEGMENTS:
        bs = min((r for r in rows if r["social"]), key=lambda r: r[s]["rmse"])
        bp = min((r for r in rows if not r["social"]), key=lambda r: r[s]["rmse"])
        summary[s] = {"social": bs["model"], "social_rmse": bs[s]["rmse"], "plain": bp["model"],
                      "plain_rmse": bp[s]["rmse"], "difference": bs[s]["rmse"] - bp[s]["rmse"], "n": bs[s]["n"]}
        print(f"{s:>19s}: best social {bs['model']} {bs[s]['rmse']:.4f} vs best plain {bp['model']} "
              f"{bp[s]['rmse']:.4f} ({summary[s]['difference']:+.4f}), n={bs[s]['n']}")
    os.makedirs(_common.RESULTS, exist_ok=True)
    with open(os.path.join(_common.RESULTS, f"social_signal_folds_{a.dataset}.json"), "w") as f:
        json.dump({"machine": _common.machine(), "command": f"bench/social_signal_folds.py --dataset {a.dataset}",
                   "rows": rows, "summary": summary}, f, indent=1)


if __name__ == "__main__":
    main()
