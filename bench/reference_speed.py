"""Every model's C++ kernel against its NumPy reference (`socialrec.reference`, the executable
specification): time per epoch on the same small data, and the largest parameter difference after the same
epochs (the reference contract: float64, deterministic, one thread -> equal to ~1e-10). DESIGN §9: >= 100x.

    python bench/reference_speed.py [--quick]

Data: ``synthetic(n_users=600, n_items=300, density=.03, trust_per_user=5)`` (~4.6k ratings, ~2.9k trust
edges; --quick the same, fewer epochs). Each model with its default hyper-parameters, float64,
deterministic, 1 thread. Reference epoch = (fit(E) - fit(0)) / E, so its set-up (initialisation, packing)
is not counted; C++ epoch = median of ``history[e]["seconds"]`` over a separate fit (the kernel call and the
epoch loss; set-up not counted either). Same data, so the ratio of epoch times is the ratio of per-update
times.
"""
from __future__ import annotations

import time

import numpy as np

import _common


def make(sr, name, epochs):
    cls = getattr(sr, name)
    params = {"epochs": epochs, "dtype": "float64", "num_threads": 1, "seed": 0}
    if "deterministic" in cls._defaults:
        params["deterministic"] = True
    return cls(**params)


def run(args):
    import socialrec as sr

    ds = sr.datasets.synthetic(n_users=600, n_items=300, density=0.03, trust_per_user=5, seed=0)
    ref_epochs, cpp_epochs = (1, 10) if args.quick else (2, 30)
    rows, targets = [], []
    with _common.blas_one_thread():
        for name in args.models.split(",") if args.models else _common.model_names():
            model = make(sr, name, ref_epochs)
            model.fit(ds)
            start = time.perf_counter()
            params = sr.reference.fit(model, ds)
            ref_total = time.perf_counter() - start
            diff = max(float(np.max(np.abs(np.asarray(params[k], np.float64)
                                           - np.asarray(model.parameters_[k], np.float64)))) for k in params)
            zero = make(sr, name, 0)
            zero.fit(ds)
            start = time.perf_counter()
            sr.reference.fit(zero, ds)
            setup = time.perf_counter() - start
            ref_epoch = max(ref_total - setup, 1e-9) / ref_epochs
            timing = make(sr, name, cpp_epochs).fit(ds)
            cpp_epoch = _common.median([h["seconds"] for h in timing.history[1:]])
            ratio = ref_epoch / cpp_epoch
            rows.append({"model": name, "reference_epoch_s": ref_epoch, "cpp_epoch_s": cpp_epoch, "ratio": ratio,
                         "max_param_diff": diff, "equal_1e-10": diff <= 1e-10})
            targets.append(_common.target(f"{name} epoch vs its NumPy reference", "socialrec.reference", ratio,
                                          100.0, quality=f"max |Δparam| {diff:.1e}"))
            print(rows[-1], flush=True)
    return {"rows": rows, "targets": targets,
            "columns": ["model", "reference_epoch_s", "cpp_epoch_s", "ratio", "max_param_diff", "equal_1e-10"],
            "data": {"ratings": ds.nnz, "trust_edges": ds.n_trust, "users": ds.n_users, "items": ds.n_items},
            "settings": {"dtype": "float64", "threads": 1, "deterministic": True, "reference_epochs": ref_epochs,
                         "cpp_epochs": cpp_epochs, "hyper_parameters": "each model's defaults"}}


def add_arguments(ap):
    ap.add_argument("--models", help="comma-separated subset of the models (default: every model of "
                                     "socialrec.models.registry())")


if __name__ == "__main__":
    _common.main("reference_speed", run, add_arguments, __doc__)
