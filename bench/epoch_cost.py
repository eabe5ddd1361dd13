"""Epoch cost of every rating model against BiasedMF's on the same ratings plus a trust graph with
edges = ratings / 4 (the model issues' target: each social model within 3x of BiasedMF's epoch).

    python bench/epoch_cost.py [--quick] [--repeat 3]

Data: ``_common.uniform_ratings`` with 1M ratings on 50,000 users x 20,000 items and 250,000 random
directed trust edges (--quick: 200k ratings, 10,000 users x 5,000 items, 50k edges); k = 10, float32, each
model's defaults otherwise (SoReg with ``similarity=None``: its similarity is computed once per fit, not per
epoch), except ``deterministic=False`` where a model has the switch: the parallel mode these targets were set
for (deterministic=True became the default in issue 16; bench/deterministic_cost.py gives its cost). Epoch = the fastest per-epoch kernel time (``history[e]["seconds"]``) over --repeat fits of 4
epochs, the models interleaved (the minimum, because on a shared machine other processes only ever add
time); 1 and 2 threads; training RMSE after the 4 epochs next to it.
"""
from __future__ import annotations

import _common


def run(args):
    import socialrec as sr

    models = _common.model_names("rating")  # every rating model, BiasedMF among them

    n, users, items = (200_000, 10_000, 5_000) if args.quick else (1_000_000, 50_000, 20_000)
    ds = _common.uniform_ratings(n, users, items, n_edges=n // 4, seed=0)
    repeat = args.repeat or (1 if args.quick else 3)
    rows, targets = [], []
    with _common.blas_one_thread():
        for threads in (1, 2):
            best, rmse = {m: float("inf") for m in models}, {}
            for _ in range(repeat):
                for name in models:
                    params = {"factors": 10, "epochs": 4, "dtype": "float32", "num_threads": threads, "seed": 0}
                    if name == "SoReg":
                        params["similarity"] = None
                    params.update(_common.parallel_mode(getattr(sr, name)))
                    model = getattr(sr, name)(**params).fit(ds)
                    best[name] = min(best[name], min(h["seconds"] for h in model.history))
                    rmse[name] = sr.metrics.rmse(model, ds)
            for name in models:
                ratio = best[name] / best["BiasedMF"]
                rows.append({"model": name, "threads": threads, "epoch_s": best[name],
                             "M_ratings_s": ds.nnz / best[name] / 1e6, "x_biasedmf": ratio, "train_rmse": rmse[name]})
                if name != "BiasedMF":
                    targets.append(_common.target(f"{name} epoch / BiasedMF epoch, {threads} thread(s)", "BiasedMF",
                                                  ratio, 3.0, kind="cost") | {"met": ratio <= 3.0})
            print(f"# {threads} thread(s) done", flush=True)
    return {"rows": rows, "targets": targets,
            "columns": ["model", "threads", "epoch_s", "M_ratings_s", "x_biasedmf", "train_rmse"],
            "data": {"ratings": ds.nnz, "trust_edges": ds.n_trust, "users": users, "items": items},
            "settings": {"factors": 10, "dtype": "float32", "epochs": 4, "repeat": repeat}}


def add_arguments(ap):
    ap.add_argument("--repeat", type=int, default=0, help="interleaved fits (default 3, --quick 1)")


if __name__ == "__main__":
    _common.main("epoch_cost", run, add_arguments, __doc__)
