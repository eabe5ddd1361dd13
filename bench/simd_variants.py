"""Epoch time of each kernel variant this CPU runs (SOCIALREC_SIMD=baseline|avx2|avx512), and each one's
speed relative to the baseline: what a CPU without AVX2 (or a forced SOCIALREC_SIMD=baseline) gives up.

    python bench/simd_variants.py [--quick] [--repeat 3]

Data: ``_common.uniform_ratings`` with 500k ratings on 20,000 users x 10,000 items and 125k random directed
trust edges (--quick: 100k ratings, 5,000 x 2,000, 25k edges). Models: BiasedMF (rating SGD) and SoRec
(rating + trust SGD), k = 10 and k = 64, float32, one thread, 3 epochs each. Each variant runs in its own
process (the variant is chosen at import); epoch = the fastest per-epoch kernel time over --repeat fits, the
variants interleaved (the minimum: on a shared machine other processes only ever add time).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import _common

_CHILD = r"""
import json, sys
import socialrec as sr
sys.path.insert(0, sys.argv[1])
import _common
spec = json.loads(sys.argv[2])
ds = _common.uniform_ratings(spec["n"], spec["users"], spec["items"], n_edges=spec["n"] // 4, seed=0)
out = {"simd": sr.build_info()["simd"]}
with _common.blas_one_thread():
    for model in spec["models"]:
        for k in spec["factors"]:
            m = getattr(sr, model)(factors=k, epochs=3, dtype="float32", num_threads=1, seed=0,
                                   **_common.parallel_mode(getattr(sr, model))).fit(ds)
            out[f"{model}/{k}"] = min(h["seconds"] for h in m.history)
print(json.dumps(out))
"""


def _one_run(variant, spec):
    env = {**os.environ, "SOCIALREC_SIMD": variant}
    proc = subprocess.run([sys.executable, "-c", _CHILD, _common.HERE, json.dumps(spec)], capture_output=True,
                          text=True, env=env, check=True)
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out.pop("simd") == variant
    return out


def run(args):
    import socialrec as sr

    variants = sr.build_info()["simd_supported"]
    n, users, items = (100_000, 5_000, 2_000) if args.quick else (500_000, 20_000, 10_000)
    spec = {"n": n, "users": users, "items": items, "models": ["BiasedMF", "SoRec"],
            "factors": [10] if args.quick else [10, 64]}
    repeat = args.repeat or (1 if args.quick else 3)
    best = {}
    for _ in range(repeat):
        for variant in variants:
            for key, seconds in _one_run(variant, spec).items():
                best[(variant, key)] = min(best.get((variant, key), float("inf")), seconds)
    rows = []
    for variant in variants:
        for key in sorted({k for _, k in best}):
            model, k = key.split("/")
            base = best.get(("baseline", key))
            rows.append({"variant": variant, "model": model, "factors": int(k), "epoch_s": best[(variant, key)],
                         "M_ratings_s": n / best[(variant, key)] / 1e6,
                         "speed_vs_baseline": None if base is None else base / best[(variant, key)]})
    return {"rows": rows, "columns": ["variant", "model", "factors", "epoch_s", "M_ratings_s", "speed_vs_baseline"],
            "data": {"ratings": n, "trust_edges": n // 4, "users": users, "items": items},
            "settings": {"dtype": "float32", "threads": 1, "epochs": 3, "repeat": repeat,
                         "variants": variants, "compiled": sr.build_info()["simd_variants"]}}


def add_arguments(ap):
    ap.add_argument("--repeat", type=int, default=0, help="interleaved runs per variant (default 3, --quick 1)")


if __name__ == "__main__":
    _common.main("simd_variants", run, add_arguments, __doc__)
