"""FilmTrust rating accuracy: 5-fold CV, d = 10, every socialrec rating model with its DEFAULT parameters
and the peers on the same folds, next to the published numbers (Guo, Zhang, Yorke-Smith AAAI 2015, Table 2;
DESIGN §10).

    python bench/accuracy_filmtrust.py [--quick] [--only BiasedMF,TrustSVD] [--no-peers]

Protocol (PEERS.md): the 3 repeated (user, item) rows keep the last (35,494 ratings); ``split.kfold(ds, 5,
seed=0)``; predictions clipped to [0.5, 4.0]; cold start = test users with fewer than 5 training ratings.
--quick: fold 0 only. PMF is ``BiasedMF(biased=False, learning_rate=.02, regularization=.1, epochs=100)``
(BiasedMF's defaults are tuned for the biased model). Peers with their defaults (PEERS.md): Surprise SVD
and SVDpp, Cornac MF (biased), Cornac PMF, Cornac SoRec (lambda_C = 1, its best on validation).
"""
from __future__ import annotations

import time

import numpy as np

import _common
import _peers

PUBLISHED = {"PMF": .968, "RSTE": .835, "SoRec": .831, "SoReg": .875, "SocialMF": .844, "TrustMF": .819,
             "SVDpp": .802, "TrustSVD": .787, "BiasedMF": .802}
PUBLISHED_COLD = {"TrustSVD": .853}
# issue 3: "RMSE at or below the published value ... (±.005)"; the best model must still beat .787 outright
TOLERANCE = 0.005
# measured on a machine like this one with the same protocol (PEERS.md / DESIGN §10)
PEERS_MEASURED = {"Surprise SVD": .7993, "Surprise SVDpp": .7981, "Cornac MF": .7996, "Cornac PMF": .8206,
                  "Cornac SoRec": .8184}


def make(sr, name):
    if name == "PMF":
        return sr.BiasedMF(biased=False, learning_rate=0.02, regularization=0.1, epochs=100, seed=0)
    return getattr(sr, name)(seed=0)


def peer_models():
    """name -> fit(train) returning predict(test) -> clipped predictions; only the peers that import."""
    out = {}
    surprise, cornac = _common.peer("surprise"), _common.peer("cornac")
    if surprise:
        for name, cls in (("Surprise SVD", surprise.SVD), ("Surprise SVDpp", surprise.SVDpp)):
            def fit(train, cls=cls):
                algo = cls(random_state=0)
                algo.fit(_peers.surprise_trainset(train))
                return lambda test: _peers.surprise_predict(algo, test)
            out[name] = fit
    if cornac:
        for name, make_model, social in (
                ("Cornac MF", lambda: cornac.models.MF(seed=0), False),
                ("Cornac PMF", lambda: cornac.models.PMF(seed=0), False),
                ("Cornac SoRec", lambda: cornac.models.SoRec(lambda_c=1.0, seed=0), True)):
            def fit(train, make_model=make_model, social=social):
                data = _peers.cornac_dataset(train, social=social)
                model = make_model().fit(data)
                mean = float(train.ratings.data.mean())
                return lambda test: _peers.cornac_predict(model, data, test, mean)
            out[name] = fit
    return out


def run(args):
    import socialrec as sr

    ds = _common.filmtrust()
    lo, hi = ds.rating_scale
    folds = list(sr.split.kfold(ds, k=5, seed=0))[:1 if args.quick else 5]
    # PMF (BiasedMF with biased=False, see make) and every rating model of socialrec.models.registry()
    names = args.only.split(",") if args.only else ["PMF", *_common.model_names("rating")]
    candidates = [(n, "socialrec") for n in names]
    peers = {} if args.no_peers or args.only else peer_models()
    candidates += [(n, "peer") for n in peers]
    rows = []
    with _common.blas_one_thread():
        for name, kind in candidates:
            rmse, mae, cold, seconds = [], [], [], []
            for train, test in folds:
                start = time.perf_counter()
                if kind == "socialrec":
                    model = make(sr, name).fit(train)
                    predict = model.predict
                    errs = lambda t, m=model: sr.metrics.errors(m, t)  # noqa: E731
                else:
                    predict = peers[name](train)
                    errs = lambda t, p=predict: np.clip(p(t), lo, hi) - t.user_item_arrays()[2]  # noqa: E731
                seconds.append(time.perf_counter() - start)
                e = np.asarray(errs(test), np.float64)
                rmse.append(float(np.sqrt(np.mean(e * e))))
                mae.append(float(np.mean(np.abs(e))))
                users = sr.split.cold_start_users(train, max_ratings=5)
                mask = np.isin(test.user_item_arrays()[0], users)
                if mask.any():
                    cold.append(e[mask])
            cold_e = np.concatenate(cold) if cold else np.array([])
            row = {"model": name if kind == "socialrec" else name, "library": kind,
                   "rmse": float(np.mean(rmse)), "rmse_sd": float(np.std(rmse)), "mae": float(np.mean(mae)),
                   "cold_rmse": float(np.sqrt(np.mean(cold_e ** 2))) if cold_e.size else None,
                   "published_rmse": PUBLISHED.get(name), "published_cold": PUBLISHED_COLD.get(name),
                   "peer_measured_before": PEERS_MEASURED.get(name), "fit_s": float(np.median(seconds)),
                   "folds": len(folds)}
            if kind == "socialrec" and row["published_rmse"] is not None:
                row["met"] = row["rmse"] <= row["published_rmse"] + TOLERANCE
            rows.append(row)
            print(f"# {name}: RMSE {row['rmse']:.4f}", flush=True)
    targets = []
    for r in rows:
        if r["library"] == "socialrec" and r["published_rmse"] is not None:
            targets.append(_common.target(f"FilmTrust RMSE {r['model']} (≤ published + {TOLERANCE})",
                                          "Guo et al. 2015", r["rmse"], r["published_rmse"], kind="accuracy",
                                          quality=f"MAE {r['mae']:.4f}") | {"met": r["met"]})
    ours = [r for r in rows if r["library"] == "socialrec"]
    if ours:
        best = min(ours, key=lambda r: r["rmse"])
        targets.append(_common.target(f"FilmTrust best socialrec model ({best['model']}) < .787", "TrustSVD paper",
                                      best["rmse"], 0.787, kind="accuracy") | {"met": best["rmse"] < 0.787})
        svd = next((r for r in rows if r["model"] == "Surprise SVD"), None)
        if svd and "TrustSVD" in names:
            ts = next(r for r in ours if r["model"] == "TrustSVD")
            targets.append(_common.target("FilmTrust TrustSVD below Surprise SVD (same folds)", "Surprise SVD",
                                          ts["rmse"], svd["rmse"], kind="accuracy")
                           | {"met": ts["rmse"] < svd["rmse"]})
    return {"rows": rows, "targets": targets,
            "columns": ["model", "library", "rmse", "rmse_sd", "mae", "cold_rmse", "published_rmse",
                        "published_cold", "peer_measured_before", "met", "fit_s"],
            "protocol": f"FilmTrust, {len(folds)} of 5 folds (kfold seed 0), d=10, default parameters"}


def add_arguments(ap):
    ap.add_argument("--only", help="comma-separated socialrec models (peers skipped)")
    ap.add_argument("--no-peers", action="store_true")


if __name__ == "__main__":
    _common.main("accuracy_filmtrust", run, add_arguments, __doc__)
