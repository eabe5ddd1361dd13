"""Does the penalty's count scaling pay? ``regularization_scaling`` tuned on Epinions validation (issue 15).

    PYTHONPATH=python SOCIALREC_DATA=/path/to/data python bench/penalty_scaling.py --trials 12
    PYTHONPATH=python python bench/penalty_scaling.py --quick          # FilmTrust, 2 trials each (developers)

Protocol: the judged Epinions split (80/20 ``train_test_split(seed=0)``); only its training part is read. For
each ``regularization_scaling`` of BiasedMF (``"occurrence"``: every rating carries λ; ``"sqrt_count"``: λ |I_u|^-½
per rating, TrustSVD's weighted λ; ``"count"``: λ / |I_u| per rating, one penalty per parameter), ``sr.tune``
searches the learning rate and both penalties (the weighted forms over a wider range, ``WEIGHTED_SPACE``) with the
same budget (``--trials``, TPE, seed 0, factors 10, at most
``--max-epochs`` epochs with early stopping on the validation part: 10% of the training part). The row of a
scaling is its best validation RMSE, its parameters and the fit's time. No test rating is read.

Writes bench/results/penalty_scaling.json and prints the table.
"""
from __future__ import annotations

import time

import _common  # socialrec on the path (the installed package, else the checkout) and the data folder
import socialrec as sr

SCALINGS = ("occurrence", "sqrt_count", "count")
# A rating carries λ c^-½ or λ / c under the weighted forms, so the same shrinkage takes a larger λ: their penalties
# are searched over a wider range (BiasedMF's default space, 1e-3 to .5, is for "occurrence").
WEIGHTED_SPACE = {"regularization": ("log", 0.01, 30.0), "bias_regularization": ("log", 0.01, 30.0)}
# "occurrence" keeps the ranges BiasedMF searched before its default space took regularization_scaling
OCCURRENCE_SPACE = {"regularization": ("log", 1e-3, 0.5), "bias_regularization": ("log", 1e-3, 0.5)}


def add_arguments(ap):
    ap.add_argument("--trials", type=int, default=12, help="tuning trials per scaling (the same for each)")
    ap.add_argument("--max-epochs", type=int, default=60)
    ap.add_argument("--factors", type=int, default=10)
    ap.add_argument("--scalings", nargs="+", default=list(SCALINGS), choices=SCALINGS)


def run(args):
    if args.quick:
        ds = sr.datasets.load_filmtrust(_common.data_folder("filmtrust"), duplicates="mean")
        args.trials, args.max_epochs = 2, 15
    else:
        ds = sr.datasets.load_tang(_common.data_folder("epinions"))
    train, _ = sr.split.train_test_split(ds, test_size=0.2, seed=0)  # the test part is never read
    rows = []
    for scaling in args.scalings:
        start = time.perf_counter()
        res = sr.tune(sr.BiasedMF, train, n_trials=args.trials, seed=0, refit=False,
                      search_space=OCCURRENCE_SPACE if scaling == "occurrence" else WEIGHTED_SPACE,
                      params={"factors": args.factors, "epochs": args.max_epochs, "regularization_scaling": scaling})
        p = res.best_params
        rows.append({"scaling": scaling, "validation_rmse": round(res.best_value, 4), "epochs": p["epochs"],
                     "learning_rate": round(p["learning_rate"], 5), "regularization": round(p["regularization"], 4),
                     "bias_regularization": round(p["bias_regularization"], 4),
                     "seconds": round(time.perf_counter() - start, 1)})
        print(rows[-1], flush=True)
    return {"dataset": "filmtrust" if args.quick else "epinions", "trials": args.trials, "rows": rows,
            "columns": list(rows[0])}


if __name__ == "__main__":
    _common.main("penalty_scaling", run, add_arguments, doc=__doc__)
