"""Who to follow and why (issue 24): link prediction of the trust-learning models against common neighbours
and Adamic–Adar, and how often an explanation names a friend.

    python bench/link_prediction.py            # FilmTrust, LastFM, Epinions (~15 min on 2 busy cores)
    python bench/link_prediction.py --quick    # FilmTrust only, short fits (< 60 s)
    python bench/link_prediction.py --part links      # the link-prediction table only (--part explain: the shares)

Link prediction. Each data set is split by ``sr.split.train_test_split(ds, test_size=0.0, trust_test_size=0.1,
seed=0)``: every rating trains, 10% of the trust edges are held out (LastFM's friendships, stored both ways, as
pairs). The trust-learning models are the three with a trust predictor (``recommend_users``): SoRec
``g(U_u·Z_v)``, TrustMF (the mean of its two models' logits), TrustSVD ``p_u·w_v``. Each is chosen from a small
grid (its defaults; the trust weight x10; the trust weight x10 with 32 factors) by NDCG@10 on a validation
split of the *training* edges (``train_test_split(train, test_size=0.0, trust_test_size=0.1, seed=1)``), then
refitted on the whole training part and scored once on the test edges. ``sr.metrics.link_prediction``: AUC and
NDCG@10 over every user except the truster and his training trustees (no negative sampling). Epinions: the
models fit 20 epochs (time) and the metrics score 1,000 trusters drawn with seed 0 (``max_users``); the
validation step scores 500. LastFM's ratings are listening counts: the rating models take ``log(1 + count)``.

Explanations. SocialMF, TrustSVD, SoRec and TrustMF (defaults; LastFM: log counts) and SBPR (defaults; the binarised listens
or ratings) fit on the whole data set; for 300 users drawn with seed 0 among those with a trustee, each of
their top-10 recommendations is explained (``model.explain(u, i)``, n=5 parts). Reported: the share of those
recommendations whose explanation names at least one friend (a ``"trustee"`` part among the five), and among
all parts (``n=None``).
"""
from __future__ import annotations

import time

import numpy as np

import _common

K = 10
# model -> the grid (its defaults first); the trust weight's name differs per model
GRID = {
    "SoRec": [{}, {"social_regularization": 10.0}, {"social_regularization": 10.0, "factors": 32}],
    "TrustMF": [{}, {"trust_regularization": 10.0}, {"trust_regularization": 10.0, "factors": 32}],
    "TrustSVD": [{}, {"social_regularization": 1.0}, {"social_regularization": 1.0, "factors": 32}],
}
# recommend_users' closure= weights tried on the validation edges (0: the trust predictor alone)
CLOSURES = (0.0, 0.1, 1.0, 1000.0)
EXPLAINED = ("SocialMF", "TrustSVD", "SBPR", "SoRec", "TrustMF")


def load(sr, name, binary=False):
    if name == "filmtrust":
        return sr.datasets.load_filmtrust(_common.data_folder("filmtrust"))
    if name == "epinions":
        ds = sr.datasets.load_tang(_common.data_folder("epinions"))
    else:
        ds = sr.datasets.load_lastfm(_common.data_folder("lastfm"))
    r = ds.ratings.copy()
    if binary:
        r.data[:] = 1.0
    elif name == "lastfm":
        r.data = np.log1p(r.data)  # listening counts -> a rating-like scale for the rating models
    return ds.with_ratings(r)


def scored(sr, model, test, train, max_users, closure=0.0):
    start = time.perf_counter()
    out = sr.metrics.link_prediction(model, test, train=train, k=K, closure=closure, max_users=max_users, seed=0)
    out["score_s"] = round(time.perf_counter() - start, 1)
    return out


def link_rows(sr, name, quick):
    ds = load(sr, name)
    train, test = sr.split.train_test_split(ds, test_size=0.0, trust_test_size=0.1, seed=0)
    fit_train, val = sr.split.train_test_split(train, test_size=0.0, trust_test_size=0.1, seed=1)
    big = name == "epinions"
    test_users, val_users = (1000, 500) if big else (None, None)
    extra = {"epochs": 20} if big else ({"epochs": 10} if quick else {})
    rows = []
    for cls in (sr.baselines.CommonNeighbours, sr.baselines.AdamicAdar):
        rows.append({"data": name, "model": cls.__name__, "setting": "–",
                     **scored(sr, cls().fit(train), test, train, test_users)})
    for model_name, grid in GRID.items():
        cls = getattr(sr, model_name)
        grid = grid[:1] if quick else grid
        # every (setting, closure) scored on the validation edges of a fit on the rest of the training part
        tried = []
        for setting in grid:
            m = cls(seed=0, num_threads=2, **extra, **setting).fit(fit_train)
            for closure in CLOSURES:
                v = scored(sr, m, val, fit_train, val_users, closure)
                tried.append({"setting": setting, "closure": closure, "val_ndcg": round(v["ndcg"], 4),
                              "val_auc": round(v["auc"], 4)})
        alone = max((t for t in tried if t["closure"] == 0.0), key=lambda t: (t["val_ndcg"], t["val_auc"]))
        blend = max(tried, key=lambda t: (t["val_ndcg"], t["val_auc"]))
        fitted = {}
        for label, choice in ((model_name, alone), (f"{model_name} + closure", blend)):
            key = repr(sorted(choice["setting"].items()))
            start = time.perf_counter()
            if key not in fitted:
                fitted[key] = cls(seed=0, num_threads=2, **extra, **choice["setting"]).fit(train)
            fit_s = round(time.perf_counter() - start, 1)
            setting = ", ".join(f"{k}={v}" for k, v in choice["setting"].items()) or "defaults"
            rows.append({"data": name, "model": label, "setting": setting, "closure": choice["closure"],
                         **scored(sr, fitted[key], test, train, test_users, choice["closure"]), "fit_s": fit_s,
                         "validation": tried})
    return rows


def explain_rows(sr, name, quick):
    rows = []
    users_n = 60 if quick else 300
    for model_name in EXPLAINED:
        ds = load(sr, name, binary=model_name == "SBPR")
        trusting = np.flatnonzero((np.diff(ds.trust.indptr) > 0) & (np.diff(ds.ratings.indptr) > 0))
        users = np.sort(np.random.default_rng(0).choice(trusting, min(users_n, len(trusting)), replace=False))
        params = {"epochs": 10} if quick else ({"epochs": 20} if name == "epinions" else {})
        start = time.perf_counter()
        model = getattr(sr, model_name)(seed=0, num_threads=2, **params).fit(ds)
        fit_s = round(time.perf_counter() - start, 1)
        top, _ = model.recommend(users, n=10, ids="index")
        top5 = any_part = total = 0
        for u, row in zip(users, top):
            for i in row[row >= 0]:
                total += 1
                top5 += any(e["kind"] == "trustee" for e in model.explain(u, i, ids="index"))
                any_part += any(e["kind"] == "trustee" for e in model.explain(u, i, n=None, ids="index"))
        rows.append({"data": name, "model": model_name, "users": len(users), "recommendations": total,
                     "friend_in_top5_parts": round(top5 / total, 4), "friend_in_any_part": round(any_part / total, 4),
                     "fit_s": fit_s})
    return rows


def run(args):
    import socialrec as sr

    names = ["filmtrust"] if args.quick else ["filmtrust", "lastfm", "epinions"]
    links, explanations = [], []
    with _common.blas_one_thread():
        for name in names if args.part in ("all", "links") else []:
            links += link_rows(sr, name, args.quick)
        # --quick: a smoke run of the explanation share on FilmTrust (LastFM's fits would not fit the limit)
        for name in (["filmtrust"] if args.quick else ["lastfm", "epinions"]) if args.part != "links" else []:
            explanations += explain_rows(sr, name, args.quick)
    targets = []
    for name in names:
        here = [r for r in links if r["data"] == name]
        if not here:
            continue
        base = max(r["ndcg"] for r in here if r["model"] in ("CommonNeighbours", "AdamicAdar"))
        base_auc = max(r["auc"] for r in here if r["model"] in ("CommonNeighbours", "AdamicAdar"))
        models = [r for r in here if r["model"] not in ("CommonNeighbours", "AdamicAdar")]
        best = max(models, key=lambda r: r["ndcg"])
        best_auc = max(models, key=lambda r: r["auc"])
        for metric, row, bound in (("NDCG@10", best, base), ("AUC", best_auc, base_auc)):
            value = row["ndcg" if metric == "NDCG@10" else "auc"]
            t = _common.target(f"{name}: best model {metric} ({row['model']}) / best baseline's", "best baseline",
                               value / bound if bound else None, 1.0, kind="quality")
            t["met"] = bool(bound and value > bound)
            targets.append(t)
    return {"rows": links, "columns": ["data", "model", "setting", "closure", "auc", "ndcg", "users", "fit_s", "score_s"],
            "explanations": explanations, "targets": targets,
            "settings": {"split": "train_test_split(ds, test_size=0.0, trust_test_size=0.1, seed=0)", "k": K,
                         "grid": GRID, "closures": CLOSURES,
                         "part": args.part, "quick": bool(args.quick)}}


def print_explanations(record):
    print()
    print(_common.table(record["explanations"], ["data", "model", "users", "recommendations",
                                                 "friend_in_top5_parts", "friend_in_any_part", "fit_s"]))


def arguments(ap):
    ap.add_argument("--part", choices=("all", "links", "explain"), default="all",
                    help="run the link-prediction table, the explanation shares, or both (default)")


if __name__ == "__main__":
    print_explanations(_common.main("link_prediction", run, arguments, __doc__))
