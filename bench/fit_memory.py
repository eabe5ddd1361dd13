"""Peak memory of fit / (data + parameters) for every model (DESIGN §9: <= 1.5x), one child process per model
and size, measured as bench/scaling.py measures it (its ``--child``: the child's peak resident size from the
kernel, reset just before fit; the data counted at its own size, the CSR bytes of ratings and trust).

    python bench/fit_memory.py [--quick] [--sizes 1000000,5000000] [--models BiasedMF,SoRec]

Data: bench/_common.uniform_ratings, n ratings on n/40 users x 20,000 items plus n/4 random trust edges
(--quick: 200k ratings on 5,000 items, four models: one of each training layout); the ranking models (BPR, SBPR, ALS, SocialALS) fit the same pairs
binarised. Every model: k = 32, float32, 2 epochs (ALS: alternations), 1 thread, its other defaults.
"""
from __future__ import annotations

import _common
import scaling

MODELS = ("BiasedMF", "SVDpp", "SoRec", "SocialMF", "SoReg", "RSTE", "TrustMF", "TrustSVD",
          "BPR", "SBPR", "ALS", "SocialALS")
RANKING = ("BPR", "SBPR", "ALS", "SocialALS")
QUICK_MODELS = ("BiasedMF", "SoRec", "TrustSVD", "ALS")  # --quick: one model of each training layout
K, EPOCHS = 32, 2


def run(args):
    sizes = [200_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    items = 5_000 if args.quick else 20_000
    models = args.models.split(",") if args.models else QUICK_MODELS if args.quick else MODELS
    rows, targets = [], []
    for model in models:
        worst = None
        for n in sizes:
            spec = {"curve": "models", "model": model, "k": K, "ratings": n, "users": max(n // 40, 5000),
                    "items": items, "edges": n // 4, "binarized": model in RANKING, "threads": [1],
                    "epochs": EPOCHS}
            p = scaling.measure(spec, timeout=args.timeout)
            if "error" in p:
                rows.append({"model": model, "ratings": n, "edges": n // 4, "note": p["error"]})
                continue
            used = p["peak_rss"] - p["rss_before_fit"] + p["data_bytes"] if p["peak_reset"] else None
            ratio = None if used is None else used / (p["data_bytes"] + p["param_bytes"])
            rows.append({"model": model, "ratings": p["ratings"], "edges": p["edges"],
                         "data_MiB": p["data_bytes"] / 2**20, "params_MiB": p["param_bytes"] / 2**20,
                         "fit_peak_MiB": None if used is None else used / 2**20, "memory_ratio": ratio})
            print(f"# {model} {n:,}: {ratio}", flush=True)
            if ratio is not None:
                worst = ratio if worst is None else max(worst, ratio)
        if worst is not None:
            targets.append(_common.target(f"{model} peak memory of fit / (data + parameters), worst over "
                                          f"{len(sizes)} size(s)", "itself", worst, 1.5, kind="memory")
                           | {"met": worst <= 1.5})
    return {"rows": rows, "targets": targets,
            "columns": ["model", "ratings", "edges", "data_MiB", "params_MiB", "fit_peak_MiB", "memory_ratio",
                        "note"],
            "settings": {"factors": K, "epochs": EPOCHS, "threads": 1, "dtype": "float32",
                         "data": "uniform random pairs, n/40 users, edges = ratings / 4; ranking models binarised"}}


def add_arguments(ap):
    ap.add_argument("--sizes", default="1000000,5000000", help="numbers of ratings, comma-separated")
    ap.add_argument("--models", default=None, help="comma-separated model names (default: all twelve)")
    ap.add_argument("--timeout", type=int, default=900, help="seconds per point")


if __name__ == "__main__":
    _common.main("fit_memory", run, add_arguments, __doc__)
