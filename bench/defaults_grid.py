"""A small grid around the two data sets' optima for one model (issue 15 item 2; bench/README.md "Defaults protocol").

    PYTHONPATH=python python bench/defaults_grid.py --model TrustSVD --grid '{"learning_rate": [0.007, 0.011], ...}'

Each setting is fitted on every data set's inner part (defaults_protocol.splits: the judged split's training part
less 10% validation) with the validation RMSE recorded per epoch; its value is the smallest, over epoch counts e,
of the worst gap max_D (val_D(e) - best_D), best_D the best validation RMSE known on D (the tune phase's or any
candidate's). Prints one row per setting, sorted, and writes bench/results/defaults_grid_<model>.json."""
import argparse
import itertools
import json
import os

import _common
import defaults_protocol as dp
import socialrec as sr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--grid", required=True, help="JSON: parameter -> list of values")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--datasets", nargs="+", default=["filmtrust", "epinions"])
    a = ap.parse_args()
    cls = getattr(sr, a.model)
    best = {}
    for d in a.datasets:
        with open(os.path.join(_common.RESULTS, f"defaults_protocol_tune_{d}.json")) as f:
            best[d] = next(t["tuned_val_rmse"] for t in json.load(f)["rows"] if t["model"] == a.model)
    path = os.path.join(_common.RESULTS, "defaults_protocol_defaults_round1.json")
    if os.path.exists(path):
        with open(path) as f:
            for c in json.load(f)["rows"]:
                if c["model"] == a.model:
                    for d in a.datasets:
                        best[d] = min(best[d], c[d]["val_rmse"])
    data = {d: dp.splits(d)[1:] for d in a.datasets}
    grid = json.loads(a.grid)
    rows = []
    for values in itertools.product(*grid.values()):
        params = dict(zip(grid, values))
        curves = {}
        for d, (inner, val) in data.items():
            m = cls(factors=dp.FACTORS, seed=0, epochs=a.epochs, **params)
            try:
                m.fit(inner, validation=val)
                curves[d] = [h["val_rmse"] for h in m.history]
            except sr.DivergenceError:
                curves[d] = [float("inf")]
        e, worst, gaps = dp.best_common_epoch(curves, best)
        row = {"params": {**params, "epochs": e + 1}, "worst_gap": worst, "gaps": gaps,
               "val": {d: c[e] for d, c in curves.items()}}
        rows.append(row)
        print(json.dumps(row), flush=True)
    rows.sort(key=lambda r: r["worst_gap"])
    with open(os.path.join(_common.RESULTS, f"defaults_grid_{a.model}.json"), "w") as f:
        json.dump({"machine": _common.machine(), "best": best, "grid": grid, "rows": rows}, f, indent=1)
    print("best:", json.dumps(rows[0]))


if __name__ == "__main__":
    main()
