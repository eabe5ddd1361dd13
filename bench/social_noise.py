"""How large is the noise on "best social minus best plain"? (issue 15, the conclusion's error bars)

    PYTHONPATH=python python bench/social_noise.py bench/results/penalty_social_filmtrust_searched.json
    PYTHONPATH=python python bench/social_noise.py bench/results/penalty_social_epinions_sqrt_all.json --seeds 3

Reads a ``bench/penalty_social.py`` result (its rows and, per fold, the best social and the best non-social
model chosen by validation RMSE; the choice is not redone here) and gives, per segment, the test-RMSE
difference social - plain with three noise estimates:

- ``folds``: mean and standard deviation over the folds of the per-fold difference (from the rows; FilmTrust's
  5 folds; nothing is refitted);
- ``seeds``: the two chosen settings refitted on the fold's training part with ``--seeds`` initialisation
  seeds (0, 1, ...; seed 0 is what the result file scored), mean and standard deviation of the difference;
- ``bootstrap``: the paired user bootstrap of the seed-0 difference (``--boot`` Poisson(1) weights per test
  user, both models resampled with the same users, as a segment is a set of users): its standard deviation,
  i.e. the test sample's noise at that n.

Only the test parts of the result file's own splits are read, after the choice was made from validation.
Writes bench/results/social_noise_<name of the result file>.json and prints a table.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics

import numpy as np

import _common  # socialrec on the path (the installed package, else the checkout) and the data folder
import penalty_social  # the same splits and the same per-fold choice
import socialrec as sr
from socialrec.evaluate import SEGMENTS, segment_users


def user_sums(errors, users, n_users):
    """Per user: the sum of squared errors and the count of test ratings."""
    return (np.bincount(users, weights=errors ** 2, minlength=n_users),
            np.bincount(users, minlength=n_users).astype(float))


def bootstrap_sd(sse_a, sse_b, count, mask, boot, rng):
    """Standard deviation over ``boot`` Poisson(1) user reweightings of RMSE_a - RMSE_b within ``mask``."""
    keep = mask & (count > 0)
    if keep.sum() < 2:
        return float("nan")
    a, b, c = sse_a[keep], sse_b[keep], count[keep]
    w = rng.poisson(1.0, size=(boot, keep.sum())).astype(np.float64)
    n = w @ c
    ok = n > 0
    diff = np.sqrt((w @ a)[ok] / n[ok]) - np.sqrt((w @ b)[ok] / n[ok])
    return float(diff.std(ddof=1))


def refit_errors(row, train, test, seed):
    cls = getattr(sr, row["model"])
    model = cls(**{**row["params"], "seed": seed}).fit(train)
    return sr.metrics.errors(model, test)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("result", help="a bench/penalty_social.py JSON")
    ap.add_argument("--seeds", type=int, default=0, help="refit the chosen pair with this many seeds (0: none)")
    ap.add_argument("--boot", type=int, default=500)
    a = ap.parse_args()
    with open(a.result) as fh:
        doc = json.load(fh)
    dataset = "epinions" if "--dataset epinions" in doc["command"] else "filmtrust"
    chosen = penalty_social.best_pairs(doc["rows"])
    out = {"result": os.path.basename(a.result), "dataset": dataset, "seeds": a.seeds, "boot": a.boot,
           "pairs": {f: (s["model"], p["model"]) for f, (s, p) in chosen.items()}, "segments": {}}
    per_fold = {seg: [s["test"][seg]["rmse"] - p["test"][seg]["rmse"] for s, p in chosen.values()
                      if s["test"][seg]["n"]] for seg in SEGMENTS}
    for seg, d in per_fold.items():
        out["segments"][seg] = {"folds": {"mean": statistics.fmean(d), "sd": statistics.stdev(d) if len(d) > 1
                                          else None, "k": len(d)}}
    if a.seeds:
        splits = penalty_social.load(dataset)
        rng = np.random.default_rng(0)
        diffs = {seg: [] for seg in SEGMENTS}
        boot = {seg: [] for seg in SEGMENTS}
        for f, (s_row, p_row) in chosen.items():
            train, test = splits[f]
            masks = segment_users(train)
            users, _, _ = test.user_item_arrays()
            n_users = train.ratings.shape[0]
            for seed in range(a.seeds):
                e_s, e_p = refit_errors(s_row, train, test, seed), refit_errors(p_row, train, test, seed)
                sums_s, sums_p = user_sums(e_s, users, n_users), user_sums(e_p, users, n_users)
                for seg in SEGMENTS:
                    m = masks[seg][users]
                    if not m.any():
                        continue
                    d = np.sqrt(np.mean(e_s[m] ** 2)) - np.sqrt(np.mean(e_p[m] ** 2))
                    diffs[seg].append({"fold": f, "seed": seed, "difference": float(d), "n": int(m.sum())})
                    if seed == 0:
                        boot[seg].append(bootstrap_sd(sums_s[0], sums_p[0], sums_s[1], masks[seg], a.boot, rng))
                print(f"fold {f} seed {seed}: " + " ".join(f"{seg} {diffs[seg][-1]['difference']:+.4f}"
                                                         for seg in SEGMENTS if diffs[seg]), flush=True)
        for seg in SEGMENTS:
            vals = [d["difference"] for d in diffs[seg]]
            # the seed spread within each fold, pooled over folds (fold-to-fold variation is in "folds")
            sds = [statistics.stdev([d["difference"] for d in diffs[seg] if d["fold"] == f])
                   for f in chosen if sum(d["fold"] == f for d in diffs[seg]) > 1]
            out["segments"][seg]["seeds"] = {"mean": statistics.fmean(vals) if vals else None,
                                             "sd_within_fold": statistics.fmean(sds) if sds else None,
                                             "rows": diffs[seg]}
            out["segments"][seg]["bootstrap_sd"] = statistics.fmean(boot[seg]) if boot[seg] else None
            out["segments"][seg]["n_per_fold"] = diffs[seg][0]["n"] if diffs[seg] else None
    name = os.path.splitext(os.path.basename(a.result))[0]
    path = os.path.join(_common.RESULTS, f"social_noise_{name}.json")
    with open(path, "w") as fh:
        json.dump({"machine": _common.machine(), "command": f"bench/social_noise.py {a.result} --seeds {a.seeds} "
                   f"--boot {a.boot}", **out}, fh, indent=1, default=str)
    print(f"{'segment':<20} {'folds mean':>10} {'folds sd':>9} {'seeds mean':>10} {'seed sd':>8} {'boot sd':>8}")
    for seg, d in out["segments"].items():
        diff = lambda v: f"{v:+.4f}" if isinstance(v, float) else "-"  # noqa: E731
        sd = lambda v: f"{v:.4f}" if isinstance(v, float) else "-"  # noqa: E731
        seeds = d.get("seeds", {})
        print(f"{seg:<20} {diff(d['folds']['mean']):>10} {sd(d['folds']['sd']):>9} {diff(seeds.get('mean')):>10} "
              f"{sd(seeds.get('sd_within_fold')):>8} {sd(d.get('bootstrap_sd')):>8}")
    print("wrote", path)


if __name__ == "__main__":
    main()
