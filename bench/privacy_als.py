"""Private ALS and SocialALS (issue 19): LastFM NDCG@10 against the user-level privacy budget ε, next to the
non-private models, and the training cost of the private fits against the non-private ones.

    PYTHONPATH=python python bench/privacy_als.py [--quick]

Protocol: bench/accuracy_lastfm.py's (listens binarised; ``per_user_split(ds, 0.2, seed=0)``; NDCG@10 over the
items seen in training, the user's training items excluded). Non-private: ALS and SocialALS at that benchmark's
validated settings (k = 64, α = 9, λ = 50, 15 epochs; SocialALS β = 10, normalised similarity). Private
(``privacy=PrivacyBudget(ε, 1e-5, unit="user", clip_norm=B, max_ratings=m)``, docs/PRIVACY.md): the same α and λ,
``epsilon=1`` (the log rule's public scale; on 0/1 data w = 1), PRIVATE below (k, epochs, B, m: chosen a priori,
not tuned on the test part nor on any split of the data), RDP accountant, δ = 1e-5. After the fit every user
solves its row once more from the final released items (the user-side step of private ALS; SocialALS: with its
friends' local rows, as during training); the non-private models are scored as fitted. ε = ∞: the same
mechanism without noise (bounding and clipping kept). Cost: the private fit's seconds over the non-private fit's
(cost_ratio; the calibration is cached once per (ε, δ, epochs) and timed apart). --quick: ε ∈ {1, 10, ∞}, k = 16,
3 epochs for the private fits, 5 for the non-private ones.
"""
from __future__ import annotations

import math
import os
import time

import numpy as np

import _common

EPSILONS = (0.5, 1.0, 2.0, 5.0, 10.0, math.inf)
DELTA = 1e-5
BASE = {"factors": 64, "alpha": 9.0, "regularization": 50.0, "epsilon": 1.0, "epochs": 15, "cg_steps": 3}
SOCIAL = {"social_regularization": 10.0, "similarity": "normalized"}
PRIVATE = {"factors": 32, "epochs": 5}
BOUNDS = {"clip_norm": 1.0, "max_ratings": 50}
GOAL = 0.06  # at ε = 10 within 6% relative of the non-private model (private ALS, Chien et al. ICML 2021)


def user_side(model, train):
    """Every user's row solved from the model's (released) item factors and its own interactions (float64,
    exact): ALS's user equations, SocialALS's with the friends' local rows (models/_private_als.py)."""
    Y = np.asarray(model.parameters_["item_factors"], np.float64)
    k, a, lam = Y.shape[1], float(model.alpha), float(model.regularization)
    R = train.ratings.tocsr()
    G = Y.T @ Y
    eye = np.eye(k)
    systems = []
    for u in range(R.shape[0]):
        Yu = Y[R.indices[R.indptr[u]:R.indptr[u + 1]]]
        systems.append((G + a * Yu.T @ Yu + lam * eye, (1 + a) * Yu.sum(axis=0)))
    local = np.array([np.linalg.solve(A, b) for A, b in systems])
    beta = float(getattr(model, "social_regularization", 0.0))
    if beta == 0.0:
        return local
    S = model._similarity(train.trust).tocsr().astype(np.float64)
    pull, degree = S @ local, np.asarray(S.sum(axis=1)).ravel()
    return np.array([np.linalg.solve(A + beta * degree[u] * eye, b + beta * pull[u])
                     for u, (A, b) in enumerate(systems)])


def run(args):
    import socialrec as sr
    from socialrec.privacy import PrivacyBudget, calibrate_noise_multiplier

    epsilons = (1.0, 10.0, math.inf) if args.quick else EPSILONS
    private = {"factors": 16, "epochs": 3} if args.quick else PRIVATE
    base_settings = {**BASE, "epochs": 5} if args.quick else BASE
    ds = _common.lastfm_binary()
    train, test = sr.split.per_user_split(ds, 0.2, seed=0)
    rows, targets = [], []
    with _common.blas_one_thread():
        for cls, extra in ((sr.ALS, {}), (sr.SocialALS, SOCIAL)):
            name = cls.__name__
            s, model = _common.timed(lambda: cls(seed=0, **base_settings, **extra).fit(train))
            base = _common.ranking_quality(*_common.model_vectors(model), train, test)["ndcg"]
            base_s = s
            rows.append({"model": name, "epsilon": "non-private", "ndcg": round(base, 4), "relative": 0.0,
                         "noise_multiplier": None, "fit_s": round(s, 2), "cpu_s": None, "calibration_s": None,
                         "cost_ratio": 1.0, "factors": base_settings["factors"], "epochs": base_settings["epochs"]})
            print(rows[-1], flush=True)
            for eps in epsilons:
                calibrate_noise_multiplier.cache_clear()
                c0 = time.perf_counter()
                calibrate_noise_multiplier(eps, DELTA, 1.0, private["epochs"], "rdp", release_noise=0.0)
                calibration = time.perf_counter() - c0
                budget = PrivacyBudget(eps, DELTA, "user", **BOUNDS)
                cpu0 = time.process_time()
                s, model = _common.timed(lambda: cls(seed=0, **{**BASE, **private}, **extra,
                                                     privacy=budget).fit(train))
                cpu = time.process_time() - cpu0
                U = user_side(model, train)
                value = _common.ranking_quality(U, model.parameters_["item_factors"], None, train, test)["ndcg"]
                rows.append({"model": f"{name} (private)", "epsilon": eps, "ndcg": round(value, 4),
                             "relative": round(1 - value / base, 4),
                             "noise_multiplier": round(model.privacy_["noise_multiplier"], 4),
                             "fit_s": round(s, 2), "cpu_s": round(cpu, 2), "calibration_s": round(calibration, 2),
                             "cost_ratio": round(s / base_s, 2), "factors": private["factors"],
                             "epochs": private["epochs"]})
                print(rows[-1], flush=True)
                if eps == 10.0:
                    loss = 1 - value / base
                    targets.append(_common.target(f"LastFM {name} NDCG@10 at user-level eps=10 within 6% of "
                                                  "non-private", f"non-private {name}", round(loss, 4),
                                                  f"<= {GOAL}", kind="accuracy") | {"met": loss <= GOAL})
    return {"rows": rows, "targets": targets,
            "columns": ["model", "epsilon", "ndcg", "relative", "noise_multiplier", "fit_s", "cpu_s",
                        "calibration_s", "cost_ratio", "factors", "epochs"],
            "settings": {"base": BASE, "social": SOCIAL, "private": private, **BOUNDS, "delta": DELTA,
                         "unit": "user", "accountant": "rdp"}}


def plot(record, folder):
    """bench/results/privacy_als.png: NDCG@10 against ε (log axis; ∞ drawn at the right) for private ALS and
    SocialALS, the non-private NDCGs as dashed lines. Skipped without matplotlib (socialrec[bench])."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for n, name in enumerate(("ALS", "SocialALS")):
        private = [r for r in record["rows"] if r["model"] == f"{name} (private)"]
        finite = [r for r in private if r["epsilon"] != math.inf]
        if not finite:
            continue
        xs = [r["epsilon"] for r in finite]
        ax.plot(xs, [r["ndcg"] for r in finite], "o-", color=f"C{n}", label=f"private {name} (user level)")
        for r in private:
            if r["epsilon"] == math.inf:
                ax.plot([max(xs) * 2], [r["ndcg"]], "s", color=f"C{n}", label=f"{name}, same mechanism, ε = ∞")
        base = next(r["ndcg"] for r in record["rows"] if r["model"] == name)
        ax.axhline(base, ls="--", color=f"C{n}", label=f"non-private {name}")
    ax.set(xscale="log", xlabel="ε (δ = 1e-5)", ylabel="LastFM NDCG@10")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path := os.path.join(folder, "privacy_als.png"), dpi=110)
    return path


if __name__ == "__main__":
    import sys

    record = _common.main("privacy_als", run, None, __doc__)
    plot(record, sys.argv[sys.argv.index("--out") + 1] if "--out" in sys.argv else _common.RESULTS)
