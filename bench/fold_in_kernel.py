"""The C++ fold-in solver against its NumPy reference, A/B in one run (issue 17 item 1): the same fitted model,
the same users, folded with ``backend="cpp"`` (``_core.fold_in_solve``) and ``backend="reference"``
(``socialrec.reference.fold_in.solve``), alternating, so that both see the same machine load.

    PYTHONPATH=python python bench/fold_in_kernel.py            # LastFM: BPR, SBPR, ALS, SocialALS
    PYTHONPATH=python python bench/fold_in_kernel.py --quick    # BPR and ALS, fewer users
    PYTHONPATH=python python bench/fold_in_kernel.py --dataset filmtrust   # BiasedMF, SoReg, SocialMF, SoRec, TrustSVD

Protocol: bench/fold_in.py's LastFM (or FilmTrust, every eligible user in the batch) split (10% of the users held out, m = 3 of their artists given plus their
friend edges), the models at bench/fold_in.py's settings except ``--epochs`` (default 20: the solve's cost
does not depend on how long the model trained). For each model: ``users`` held-out users folded one at a time
(single-user latency, median) and all of them at once (per-user batch time), each by both back-ends; the
largest parameter difference between the back-ends is reported too (float64 models: C++ == reference).
CPU seconds (``time.process_time``, both cores counted) next to wall time: the machine is shared.
"""
from __future__ import annotations

import pickle
import time
import warnings

import numpy as np

import _common
import fold_in as protocol
from socialrec.models import _fold_in

MODELS = {"lastfm": ["BPR", "SBPR", "ALS", "SocialALS"],
          "filmtrust": ["BiasedMF", "SoReg", "SocialMF", "SoRec", "TrustSVD"]}


def _timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def _fold(fitted, given, edges, backend):
    model = pickle.loads(pickle.dumps(fitted))
    times = _timed(lambda: _fold_in.fold_in(model, "user", given, edges, backend=backend))
    return model, times


def run(args):
    warnings.simplefilter("ignore")
    ds = protocol.load(args)
    held = protocol.split_users(ds)
    train, given, edges, _, eligible = protocol.pieces(ds, held, args.m)
    n = 4 if args.quick else (args.users if args.dataset == "lastfm" else 10 ** 6)
    eligible, given, edges, _ = protocol.first_users(ds, eligible, given, edges, given, n)
    users = ds.user_ids[eligible]
    singles = users[:args.users]
    rows = []
    with _common.blas_one_thread():
        for name in (["BPR", "ALS"] if args.quick else MODELS[args.dataset]):
            make = protocol.factory(name, args)
            fitted = make().set_params(dtype="float64").fit(train)
            out = {}
            for backend in ("cpp", "reference"):
                model, batch = _fold(fitted, given, edges, backend)
                single = []
                for one in singles:
                    mine = given[0] == one
                    own = (edges[0] == one) & ~np.isin(edges[1], users) | (edges[1] == one) & ~np.isin(edges[0], users)
                    single.append(_fold(fitted, tuple(a[mine] for a in given), (edges[0][own], edges[1][own]),
                                        backend)[1])
                out[backend] = (model, batch, np.median(np.array(single), axis=0))
            diff = max(float(np.max(np.abs(np.asarray(out["cpp"][0].parameters_[k], float)
                                           - np.asarray(out["reference"][0].parameters_[k], float)), initial=0))
                       for k in fitted.parameters_)
            row = {"model": name, "m": args.m, "users": int(len(users)), "singles": int(len(singles)),
                   "max_abs_diff": diff}
            for backend, (_, batch, single) in out.items():
                row[f"{backend}_batch_ms_per_user"] = round(1000 * batch[0] / len(users), 2)
                row[f"{backend}_batch_cpu_ms_per_user"] = round(1000 * batch[1] / len(users), 2)
                row[f"{backend}_single_ms"] = round(1000 * single[0], 2)
            row["speedup_single"] = round(row["reference_single_ms"] / row["cpp_single_ms"], 1)
            rows.append(row)
            print(row, flush=True)
    columns = ["model", "m", "users", "singles", "cpp_single_ms", "reference_single_ms", "speedup_single",
               "cpp_batch_ms_per_user", "reference_batch_ms_per_user", "cpp_batch_cpu_ms_per_user",
               "reference_batch_cpu_ms_per_user", "max_abs_diff"]
    return {"rows": rows, "columns": columns}


def add_arguments(ap):
    ap.add_argument("--dataset", choices=["lastfm", "filmtrust"], default="lastfm")
    ap.add_argument("--epochs", type=int, default=20, help="training epochs of BPR/SBPR (the solve does not "
                                                          "depend on them)")
    ap.add_argument("--users", type=int, default=6, help="held-out users folded one at a time (LastFM: also "
                                                          "the batch; FilmTrust batches every eligible user)")
    ap.add_argument("--m", type=int, default=3, help="artists given per user")


if __name__ == "__main__":
    import sys

    _common.main("fold_in_kernel_filmtrust" if "filmtrust" in sys.argv else "fold_in_kernel", run, add_arguments,
                 doc=__doc__)
