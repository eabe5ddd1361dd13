"""What ``deterministic=True`` (the default since issue 16) costs: epoch time with deterministic True vs False
for every model that has the switch, on 1 and 2 threads.

    python bench/deterministic_cost.py [--quick] [--repeat 3]

Data: epoch_cost.py's (``_common.uniform_ratings``: 1M ratings on 50,000 users x 20,000 items and 250,000
random directed trust edges; --quick: 200k ratings, 10,000 users x 5,000 items, 50k edges); BPR and SBPR on
the same pairs binarised. k = 10, float32, each model's defaults otherwise (SoReg with ``similarity=None``, as
in epoch_cost). Epoch = the **median** per-epoch kernel time (``history[e]["seconds"]``) over --repeat fits of
4 epochs, the two modes interleaved fit by fit; ``x_det`` = deterministic epoch / parallel epoch (1.0 on one
thread, where both modes run one thread). Not part of run.py (it is an A/B of one switch, not a target).
"""
from __future__ import annotations

import _common

MODELS = ["SVDpp", "TrustSVD", "SocialMF", "SoReg", "RSTE", "BPR", "SBPR"]
RANKING = ("BPR", "SBPR")


def run(args):
    import numpy as np

    import socialrec as sr

    n, users, items = (200_000, 10_000, 5_000) if args.quick else (1_000_000, 50_000, 20_000)
    ds = _common.uniform_ratings(n, users, items, n_edges=n // 4, seed=0)
    binary = ds.with_ratings(ds.ratings.copy())
    binary.ratings.data[:] = 1.0
    repeat = args.repeat or (1 if args.quick else 3)
    rows = []
    with _common.blas_one_thread():
        for threads in (1, 2):
            seconds = {(m, d): [] for m in MODELS for d in (True, False)}
            for _ in range(repeat):
                for name in MODELS:
                    for det in (True, False):
                        params = {"factors": 10, "epochs": 4, "dtype": "float32", "num_threads": threads,
                                  "seed": 0, "deterministic": det}
                        if name == "SoReg":
                            params["similarity"] = None
                        model = getattr(sr, name)(**params).fit(binary if name in RANKING else ds)
                        seconds[name, det] += [h["seconds"] for h in model.history]
            for name in MODELS:
                det, par = float(np.median(seconds[name, True])), float(np.median(seconds[name, False]))
                rows.append({"model": name, "threads": threads, "deterministic_s": det, "parallel_s": par,
                             "x_det": det / par})
            print(f"# {threads} thread(s) done", flush=True)
    return {"rows": rows, "targets": [],
            "columns": ["model", "threads", "deterministic_s", "parallel_s", "x_det"],
            "data": {"ratings": ds.nnz, "trust_edges": ds.n_trust, "users": users, "items": items},
            "settings": {"factors": 10, "dtype": "float32", "epochs": 4, "repeat": repeat, "statistic": "median"}}


def add_arguments(ap):
    ap.add_argument("--repeat", type=int, default=0, help="fits per model and mode (default 3, --quick 1)")


if __name__ == "__main__":
    _common.main("deterministic_cost", run, add_arguments, __doc__)
