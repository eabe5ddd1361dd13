"""Instructions per update of the social models' epochs, counted by callgrind (deterministic, unlike wall
time on a loaded machine).

    PYTHONPATH=python python bench/step_instructions.py [--data FOLDER | uniform] [--epochs 3]

For each model the script runs itself under ``valgrind --tool=callgrind`` with ``SOCIALREC_SIMD=avx2``
(valgrind cannot run AVX-512) and the real interpreter (``sys.executable``: a pyenv shim would be what
valgrind traces otherwise), collecting only inside the model's ``*_epoch`` kernel (``--toggle-collect``).
The child fits the model on the FilmTrust ratings (or, with ``--data uniform``, on epoch_cost.py's --quick
data, whose trust graph has ratings / 4 edges) (``--dtype``, default float32; one thread; defaults
otherwise) for ``--epochs`` epochs and prints its record counts. Reported: instructions per epoch, per
record visited (a rating, a trust edge, or a trusting user, whichever the model's passes visit) and per
rating.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from _common import SHARED_DATA  # noqa: E402

# model -> (epoch kernel name, extra parameters)
MODELS = {
    "BiasedMF": ("biased_mf", {}),
    "SoRec": ("sorec", {}),
    "SocialMF": ("social_mf", {"deterministic": True}),
    "TrustMF": ("trustmf", {}),
    "RSTE": ("rste", {"deterministic": True}),
    "SoReg": ("soreg", {"similarity": None}),
    "SVDpp": ("svdpp", {}),
    "TrustSVD": ("trustsvd", {}),
}


def social_records(name, model, train):
    """Records the model's social pass visits per epoch (0 for BiasedMF)."""
    state = model._prepare(train)
    if name == "SoRec":
        return len(state["link_grid"]["records"])
    if name == "SocialMF":
        return len(state["trust"]["trusters"])
    if name == "TrustMF":
        return len(state["arrays"]["trust_grid"]["records"])
    if name in ("SoReg", "TrustSVD"):
        return len(state["arrays"]["edges"])
    return 0


def load(data):
    """FilmTrust from its folder, or ``uniform``: epoch_cost.py's --quick data (200k ratings on 10,000 users x
    5,000 items, 50k random trust edges = ratings / 4)."""
    import socialrec as sr

    if data == "uniform":
        from _common import uniform_ratings

        return uniform_ratings(200_000, 10_000, 5_000, n_edges=50_000, seed=0)
    return sr.datasets.load_filmtrust(data)


def child(name, data, epochs, dtype):
    import socialrec as sr

    ds = load(data)
    params = {"epochs": epochs, "num_threads": 1, "dtype": dtype, **MODELS[name][1]}
    model = getattr(sr, name)(**params).fit(ds)
    print(json.dumps({"ratings": int(ds.ratings.nnz), "social": social_records(name, model, ds),
                      "simd": sr.build_info()["simd"]}))


def measure(name, data, epochs, dtype):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        kernel = f"double socialrec::isa_*::{MODELS[name][0]}_epoch<*"  # not the dispatch_dim lambda
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", f"--toggle-collect={kernel}",
               sys.executable, __file__, "--child", name, "--data", data, "--epochs", str(epochs),
               "--dtype", dtype]
        env = {**os.environ, "SOCIALREC_SIMD": "avx2", "OMP_NUM_THREADS": "1"}
        run = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        counts = json.loads(run.stdout.strip().splitlines()[-1])
        with open(glob.glob(out + "*")[0]) as fh:
            totals = [line for line in fh if line.startswith(("totals:", "summary:"))]
        instructions = int(re.split(r"\s+", totals[-1].strip())[1])
    per_epoch = instructions / epochs
    records = counts["ratings"] + counts["social"]
    return {"model": name, "dtype": dtype, "instructions": instructions, "epochs": epochs, **counts,
            "per_epoch": per_epoch, "per_record": per_epoch / records, "per_rating": per_epoch / counts["ratings"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(SHARED_DATA, "filmtrust"))
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--models", nargs="*", default=list(MODELS))
    ap.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    ap.add_argument("--child")
    args = ap.parse_args()
    if args.child:
        return child(args.child, args.data, args.epochs, args.dtype)
    from _common import machine

    rows = [measure(name, args.data, args.epochs, args.dtype) for name in args.models]
    data = "uniform (epoch_cost --quick)" if args.data == "uniform" else "FilmTrust"
    print(f"callgrind instructions, {data}, {args.dtype}, 1 thread, avx2 variant, {args.epochs} epochs")
    print(f"{'model':10} {'ratings':>8} {'social':>7} {'Ir/epoch':>12} {'Ir/record':>10} {'Ir/rating':>10}")
    for r in rows:
        print(f"{r['model']:10} {r['ratings']:8d} {r['social']:7d} {r['per_epoch']:12.0f} {r['per_record']:10.1f}"
              f" {r['per_rating']:10.1f}")
    print(json.dumps({"bench": "step_instructions", "machine": machine(), "results": rows}, indent=1))


if __name__ == "__main__":
    main()
