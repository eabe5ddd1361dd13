"""Scaling: epoch time against the number of ratings and against the number of trust edges, 1 and 2
threads, and peak memory during fit against the size of data + parameters (DESIGN §9: linear within 1.2x of
proportional; peak memory <= 1.5x data + parameters).

    python bench/scaling.py [--quick] [--max-ratings 20000000]

- ratings: BiasedMF, k=32, float32, uniform random ratings on n/40 users x 20,000 items, n = 1M, 2M, 5M, 10M,
  20M (--quick: 250k, 500k, 1M on 5,000 items);
- trust edges: SoRec and SocialMF, k=10, float32, 1M ratings on 25,000 users x 20,000 items plus 0.25M-4M
  random directed edges (--quick: 200k ratings, 50k-400k edges).

Every point runs in its own child process (``python bench/scaling.py --child ...``): it builds the data,
records its resident size, resets the peak (/proc/self/clear_refs, 5), fits with 1 thread then with 2
threads (4 epochs each; epoch time = median of epochs 2-4 in ``history``). The parent reads the child's
peak resident size from the kernel when it exits (``os.wait4``: the child's ``ru_maxrss``, the per-child
form of ``getrusage(RUSAGE_CHILDREN)``). Peak memory of fit = the data's own bytes + (that peak - the
child's resident size just before fit), i.e. the data counted at its true size (not the allocator's leftovers
from building it) plus everything fit added; the ratio divides it by the bytes of the dataset's CSR matrices
(ratings and trust) + the model's parameters. Cost ratio = (epoch s / updates) / the same at the smallest
point (1 = exactly proportional).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

import _common

EPOCHS = 4


def rss_bytes():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def child(spec):
    """One point: build the data, fit with 1 and 2 threads, print a JSON line."""
    base = rss_bytes()
    import numpy as np

    import socialrec as sr

    base_libs = rss_bytes()
    ds = _common.uniform_ratings(spec["ratings"], spec["users"], spec["items"], n_edges=spec.get("edges", 0))
    if spec.get("binarized"):  # the ranking models' implicit data (every rating an interaction of value 1)
        ds = ds.binarized()
    mats = [ds.ratings] + ([ds.trust] if ds.n_trust else [])
    data_bytes = sum(m.data.nbytes + m.indices.nbytes + m.indptr.nbytes for m in mats)
    try:  # hand the heap freed while building the data back to the system, so that it is not counted
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    before_fit = rss_bytes()
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # reset the peak resident size: the parent's ru_maxrss is then the peak of fit
        reset = True
    except OSError:
        reset = False
    out = {**spec, "ratings": ds.nnz, "edges": ds.n_trust, "rss_start": base, "rss_libraries": base_libs,
           "rss_before_fit": before_fit, "data_bytes": data_bytes, "peak_reset": reset, "epoch_s": {}}
    with _common.blas_one_thread():
        for threads in spec.get("threads", (1, 2)):
            cls = getattr(sr, spec["model"])
            model = cls(factors=spec["k"], epochs=spec.get("epochs", EPOCHS), dtype="float32", num_threads=threads,
                        seed=0, **_common.parallel_mode(cls)).fit(ds)
            out["epoch_s"][str(threads)] = float(np.median([h["seconds"] for h in model.history[1:]]))
            out["param_bytes"] = int(sum(np.asarray(v).nbytes for v in model.parameters_.values()))
            del model
    print(json.dumps(out), flush=True)


def measure(spec, timeout):
    """Runs one point in a child process and adds the child's own peak resident size, which the kernel
    returns when the child is reaped (os.wait4: its ru_maxrss, in KiB on Linux)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--child", json.dumps(spec)],
                                stdout=out, stderr=err, text=True)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                return {**spec, "error": f"timed out after {timeout} s"}
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: keep Popen from waiting again
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        return {**spec, "error": (stderr.strip().splitlines() or ["?"])[-1][:300]}
    record = json.loads(stdout.strip().splitlines()[-1])
    record["peak_rss"] = usage.ru_maxrss * 1024
    return record


def run(args):
    if args.quick:
        ratings_sizes, items = [250_000, 500_000, 1_000_000], 5_000
        edge_ratings, edge_sizes = 200_000, [50_000, 100_000, 200_000, 400_000]
    else:
        ratings_sizes, items = [s for s in (1_000_000, 2_000_000, 5_000_000, 10_000_000, 20_000_000)
                                if s <= args.max_ratings], 20_000
        edge_ratings, edge_sizes = 1_000_000, [250_000, 500_000, 1_000_000, 2_000_000, 4_000_000]
    specs = [{"curve": "ratings", "model": "BiasedMF", "k": 32, "ratings": n, "users": max(n // 40, 5000),
              "items": items} for n in ratings_sizes]
    specs += [{"curve": "edges", "model": model, "k": 10, "ratings": edge_ratings, "users": 25_000 if not args.quick
               else 5_000, "items": 20_000 if not args.quick else 5_000, "edges": e}
              for model in ("SoRec", "SocialMF") for e in edge_sizes]
    points = []
    for spec in specs:
        point = measure(spec, timeout=args.timeout)
        if "error" not in point:
            point["updates"] = point["ratings"] + point["edges"]
            used = (point["peak_rss"] - point["rss_before_fit"] + point["data_bytes"]) if point["peak_reset"] else None
            point["fit_peak_bytes"] = used
            point["memory_ratio"] = None if used is None else used / (point["data_bytes"] + point["param_bytes"])
        points.append(point)
        print(f"# {json.dumps({k: point.get(k) for k in ('model', 'ratings', 'edges', 'epoch_s', 'memory_ratio', 'error')})}",
              flush=True)
    rows, targets = [], []
    for curve, model in (("ratings", "BiasedMF"), ("edges", "SoRec"), ("edges", "SocialMF")):
        pts = [p for p in points if p["curve"] == curve and p["model"] == model and "error" not in p]
        for threads in ("1", "2"):
            base = None
            worst = 0.0
            for p in pts:
                cost = p["epoch_s"][threads] / p["updates"]
                base = base or cost
                worst = max(worst, cost / base)
                rows.append({"curve": curve, "model": model, "threads": int(threads), "ratings": p["ratings"],
                             "edges": p["edges"], "epoch_s": p["epoch_s"][threads],
                             "M_updates_s": p["updates"] / p["epoch_s"][threads] / 1e6, "cost_ratio": cost / base,
                             "data_MiB": p["data_bytes"] / 2**20, "params_MiB": p["param_bytes"] / 2**20,
                             "fit_peak_MiB": None if p["fit_peak_bytes"] is None else p["fit_peak_bytes"] / 2**20,
                             "memory_ratio": p["memory_ratio"]})
            if len(pts) >= 2:
                span = f"{pts[0][curve]:,} → {pts[-1][curve]:,} {curve}"
                targets.append(_common.target(f"{model} epoch time vs {curve}, {threads} thread(s): worst cost "
                                              f"per update / smallest point's ({span})", "itself", worst, 1.2,
                                              kind="scaling") | {"met": worst <= 1.2})
        if pts and all(p["memory_ratio"] is not None for p in pts):
            worst = max(p["memory_ratio"] for p in pts)
            targets.append(_common.target(f"{model} peak memory of fit / (data + parameters), worst over "
                                          f"the {curve} curve", "itself", worst, 1.5, kind="memory")
                           | {"met": worst <= 1.5})
    for p in points:
        if "error" in p:
            rows.append({"curve": p["curve"], "model": p["model"], "ratings": p["ratings"], "edges": p.get("edges"),
                         "note": p["error"]})
    return {"rows": rows, "targets": targets, "points": points,
            "columns": ["curve", "model", "threads", "ratings", "edges", "epoch_s", "M_updates_s", "cost_ratio",
                        "data_MiB", "params_MiB", "fit_peak_MiB", "memory_ratio", "note"],
            "settings": {"epochs": EPOCHS, "epoch": "median of epochs 2-4", "dtype": "float32",
                         "data": "uniform random (user, item) pairs, rank-5 ratings + noise; random edges"}}


def add_arguments(ap):
    ap.add_argument("--max-ratings", type=int, default=20_000_000)
    ap.add_argument("--timeout", type=int, default=900, help="seconds per point")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(json.loads(sys.argv[2]))
    else:
        _common.main("scaling", run, add_arguments, __doc__)
