"""Private training (issue 19): test RMSE against the user-level privacy budget ε for BiasedMF and SoRec (the
social model with a private fit: a user's ratings *and* trust edges are one unit) trained by DP-SGD, next to
their non-private fits, and the training cost of the private fit against the non-private one.

    PYTHONPATH=python python bench/privacy.py [--quick] [--datasets filmtrust epinions]
        [--models BiasedMF SoRec] [--epsilons 1 10 inf]

Protocol: FilmTrust 5-fold (``split.kfold(ds, 5, seed=0)``; --quick: fold 0) and Epinions one 80/20 split
(``train_test_split(seed=0)``; --quick: the first 2,000 users and the items they rated); predictions clipped to the rating scale.
ε ∈ {0.5, 1, 2, 5, 10, ∞} at user level (a user's ratings; BiasedMF reads no trust edges), δ = 1e-5, the RDP
accountant. DP-SGD settings (one set for every ε and both data sets, chosen on FilmTrust fold 0's training
part only): sampling rate q = .05 (20 steps an epoch), clip norm C = .5, learning rate .01, 18 epochs (360
steps), at most 128 ratings per user; ε = ∞ is the same mechanism without noise (clipping and sampling kept).
SoRec's private fit: the same q, epochs and bounding (and at most 64 edges per user), its own clip norm C = .01
and learning rate .2 (its logistic link makes the per-user gradients far smaller than BiasedMF's, so a C that
fits them keeps the noise σ C small; chosen by a 21-point grid on a validation part of FilmTrust fold 0's
training part at ε = 1 and 10), link targets 1 and the offset from the private mean (docs/PRIVACY.md).
"non-private" is each model's default SGD fit. Cost: the private fit's wall time over the non-private fit's
(cost_ratio; the noise calibration, once per (ε, δ, q, steps), is timed apart: calibration_s). --quick: ε ∈ {1, ∞}, 10 epochs.
"""
from __future__ import annotations

import math
import os
import time

import numpy as np

import _common

EPSILONS = (0.5, 1.0, 2.0, 5.0, 10.0, math.inf)
DELTA = 1e-5
SETTINGS = {"sampling_rate": 0.05, "clip_norm": 0.5, "max_ratings": 128}
LEARNING_RATE, EPOCHS = 0.01, 18
SOREC_LEARNING_RATE, SOREC_CLIP_NORM = 0.2, 0.01
MODELS = ("BiasedMF", "SoRec")
GOAL = 0.06  # at ε = 10 within 6% relative of the non-private model (private ALS, Chien et al. ICML 2021)


def add_arguments(ap):
    ap.add_argument("--datasets", nargs="+", default=["filmtrust", "epinions"])
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    ap.add_argument("--epsilons", nargs="+", type=float, default=None, help="default: all (--quick: 1 inf)")


def make_model(sr, name, budget=None, epochs=EPOCHS):
    """``name``'s non-private default fit (``budget`` None) or its private fit with this bench's settings."""
    if budget is None:
        return getattr(sr, name)(seed=0)
    rate = SOREC_LEARNING_RATE if name == "SoRec" else LEARNING_RATE
    return getattr(sr, name)(seed=0, learning_rate=rate, epochs=epochs, privacy=budget)


def splits(sr, name, quick):
    if name == "filmtrust":
        ds = _common.filmtrust()
        return list(sr.split.kfold(ds, k=5, seed=0))[:1 if quick else 5]
    ds = sr.datasets.load_tang(_common.data_folder("epinions"))
    if quick:  # the first 2,000 users, the items they rated and the trust among them
        r = ds.ratings.tocsr()[:2000]
        r = r[:, np.flatnonzero(np.diff(r.tocsc().indptr))]
        ds = sr.Dataset.from_sparse(r, trust=ds.trust.tocsr()[:2000, :2000], rating_scale=ds.rating_scale)
    return [sr.split.train_test_split(ds, test_size=0.2, seed=0)]


def rmse(model, test):
    users, items, values = test.user_item_arrays()
    lo, hi = test.rating_scale
    p = np.clip(model.predict(users, items, ids="index"), lo, hi)
    return float(np.sqrt(np.mean((p - values) ** 2)))


def run(args):
    import socialrec as sr
    from socialrec.privacy import PrivacyBudget, calibrate_noise_multiplier
    from socialrec.privacy.dp_sgd import steps_per_epoch

    epsilons = tuple(args.epsilons) if args.epsilons else (1.0, math.inf) if args.quick else EPSILONS
    epochs = 10 if args.quick else EPOCHS
    rows, targets = [], []
    with _common.blas_one_thread():
        for name in args.datasets:
            parts = splits(sr, name, args.quick)
            for model_name in args.models:
                base_rmse, base_s = [], []
                for train, test in parts:
                    s, model = _common.timed(lambda: make_model(sr, model_name).fit(train))
                    base_rmse.append(rmse(model, test))
                    base_s.append(s)
                base = float(np.mean(base_rmse))
                rows.append({"dataset": name, "model": model_name, "epsilon": "non-private", "rmse": round(base, 4),
                             "relative": 0.0, "noise_multiplier": None, "fit_s": round(float(np.mean(base_s)), 2),
                             "cpu_s": None, "calibration_s": None, "cost_ratio": 1.0, "folds": len(parts)})
                print(rows[-1], flush=True)
                for eps in epsilons:
                    calibrate_noise_multiplier.cache_clear()
                    errors, seconds, cpu, calibration, sigma = [], [], [], None, None
                    for train, test in parts:
                        clip = SOREC_CLIP_NORM if model_name == "SoRec" else SETTINGS["clip_norm"]
                        budget = PrivacyBudget(eps, DELTA, "user", **{**SETTINGS, "clip_norm": clip}, max_edges=64)
                        if calibration is None:  # timed apart; every fit then finds it in the cache
                            c0 = time.perf_counter()
                            budget.noise_multiplier(epochs * steps_per_epoch(SETTINGS["sampling_rate"]))
                            calibration = time.perf_counter() - c0
                        c0 = time.process_time()
                        s, model = _common.timed(lambda: make_model(sr, model_name, budget, epochs).fit(train))
                        cpu.append(time.process_time() - c0)
                        errors.append(rmse(model, test))
                        seconds.append(s)
                        sigma = model.privacy_["noise_multiplier"]
                    value = float(np.mean(errors))
                    rows.append({"dataset": name, "model": f"{model_name} (DP-SGD)", "epsilon": eps,
                                 "rmse": round(value, 4), "relative": round(value / base - 1, 4),
                                 "noise_multiplier": round(sigma, 4), "fit_s": round(float(np.mean(seconds)), 2),
                                 "cpu_s": round(float(np.mean(cpu)), 2), "calibration_s": round(calibration, 2),
                                 "cost_ratio": round(float(np.mean(seconds)) / float(np.mean(base_s)), 1),
                                 "folds": len(parts)})
                    print(rows[-1], flush=True)
                    if eps == 10.0:
                        targets.append(_common.target(f"{name} {model_name} RMSE at user-level eps=10 within 6% of "
                                                      "non-private", f"non-private {model_name}",
                                                      round(value / base - 1, 4), f"<= {GOAL}", kind="accuracy")
                                       | {"met": value / base - 1 <= GOAL})
    return {"rows": rows, "targets": targets,
            "columns": ["dataset", "model", "epsilon", "rmse", "relative", "noise_multiplier", "fit_s", "cpu_s",
                        "calibration_s", "cost_ratio", "folds"],
            "settings": {**SETTINGS, "max_edges": 64, "delta": DELTA, "unit": "user", "accountant": "rdp",
                         "learning_rate": LEARNING_RATE, "sorec_learning_rate": SOREC_LEARNING_RATE,
                         "sorec_clip_norm": SOREC_CLIP_NORM,
                         "epochs": epochs}}


def plot(record, folder):
    """bench/results/privacy.png: test RMSE against ε (log axis; ∞ drawn at the right) per data set and model,
    each model's non-private RMSE as a dashed line. Skipped without matplotlib (socialrec[bench])."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    names = sorted({r["dataset"] for r in record["rows"]})
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 3.6), squeeze=False)
    for ax, name in zip(axes[0], names):
        rows = [r for r in record["rows"] if r["dataset"] == name]
        models = [r["model"] for r in rows if r["epsilon"] == "non-private"]
        finite_eps = [r["epsilon"] for r in rows if r["epsilon"] not in ("non-private", math.inf)]
        right = max(finite_eps) * 2 if finite_eps else 1.0  # where ε = ∞ is drawn
        for colour, model in enumerate(models):
            base = next(r["rmse"] for r in rows if r["model"] == model and r["epsilon"] == "non-private")
            private = [r for r in rows if r["model"] == f"{model} (DP-SGD)"]
            finite = [r for r in private if r["epsilon"] != math.inf]
            ax.plot([r["epsilon"] for r in finite], [r["rmse"] for r in finite], "o-", color=f"C{colour}",
                    label=f"{model}, DP-SGD (user level)")
            for r in private:
                if r["epsilon"] == math.inf:
                    ax.plot([right], [r["rmse"]], "s", color=f"C{colour}", label=f"{model}, no noise (ε = ∞)")
            ax.axhline(base, ls="--", color=f"C{colour}", alpha=0.6, label=f"non-private {model}")
        ax.set_xscale("log")
        ax.set_xlabel("ε (δ = 1e-5)")
        ax.set_ylabel("test RMSE")
        ax.set_title(name)
        ax.legend(fontsize=7)
    fig.tight_layout()
    path = os.path.join(folder, "privacy.png")
    fig.savefig(path, dpi=110)
    return path


if __name__ == "__main__":
    import sys

    out = sys.argv[sys.argv.index("--out") + 1] if "--out" in sys.argv else _common.RESULTS
    plot(_common.main("privacy", run, add_arguments, __doc__), out)
