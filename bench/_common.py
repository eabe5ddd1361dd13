"""What every benchmark script shares: the machine record, timing helpers, targets and the JSON/table output.

A benchmark is a script ``bench/<name>.py`` whose ``run(args) -> dict`` returns ``{"rows": [...], "columns":
[...], "targets": [...], ...}``; ``main(name, run, add_arguments)`` parses the command line (``--quick`` is
always there), runs it, writes ``bench/results/<name>.json`` with the machine and the command, and prints the
JSON and a table. ``bench/run.py`` runs every script and ``bench/report.py`` turns the JSON into
``bench/results/summary.md`` and the plots. Nothing here is collected by pytest.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
# The public data sets (filmtrust/, lastfm/): $SOCIALREC_DATA, else ../shared/data next to the repository.
SHARED_DATA = os.environ.get("SOCIALREC_DATA") or os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data"))
SKIPPED = 3  # the exit status of a benchmark that cannot run here (its data is missing); bench/run.py reports it
CHECKOUT_PYTHON = os.path.normpath(os.path.join(HERE, "..", "python"))


def _socialrec_from_checkout():
    """Put this checkout's ``python/`` first on ``sys.path`` only when no socialrec is importable otherwise.

    An installed socialrec (``pip install ".[bench]"``, or PYTHONPATH=python) is used as it is: the checkout's
    ``python/`` has no compiled ``_core`` unless tools/dev_build.sh put one there, so putting it first broke
    installed runs (``ImportError: cannot import name '_core'``). SOCIALREC_BENCH_INSTALLED=1 (bench/gpu_check.sh)
    never uses the checkout. Returns whether the checkout is used (bench/run.py passes it to each benchmark)."""
    if os.environ.get("SOCIALREC_BENCH_INSTALLED") == "1" or importlib.util.find_spec("socialrec") is not None:
        return False
    sys.path.insert(0, CHECKOUT_PYTHON)
    return True


USES_CHECKOUT = _socialrec_from_checkout()


class MissingData(RuntimeError):
    """A data set a benchmark needs is not on this machine (the benchmark is skipped, with this message)."""


def data_folder(name):
    """``SHARED_DATA/<name>``, or ``MissingData`` saying where it was looked for and how to point at it."""
    path = os.path.join(SHARED_DATA, name)
    if not os.path.isdir(path):
        raise MissingData(f"the {name} data set is not at {path}; set SOCIALREC_DATA to the folder that holds "
                          f"{name}/ (see bench/README.md)")
    return path

# peers by import name -> distribution name (for the version)
PEERS = {"libmf": "libmf", "surprise": "scikit-surprise", "cornac": "cornac", "implicit": "implicit"}


def version(distribution):
    try:
        from importlib.metadata import version as v

        return v(distribution)
    except Exception:  # noqa: BLE001
        return None


def peer(name):
    """The peer module, or None when it does not import (reported as "not installed", never fatal)."""
    try:
        return __import__(name)
    except Exception:  # noqa: BLE001  (ImportError, or a binary built against another NumPy)
        return None


def load_average():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def machine():
    """CPU model, cores, BLAS, versions of socialrec and of every peer, and the load average right now."""
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    info = {"cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "load_average": load_average()}
    try:
        with open("/proc/meminfo") as fh:
            info["memory_gib"] = round(int(fh.readline().split()[1]) / 2**20, 1)
    except (OSError, ValueError, IndexError):
        pass
    for dist in ("numpy", "scipy", "threadpoolctl"):
        info[dist] = version(dist)
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = sorted({f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture')})"
                               for p in threadpool_info() if p.get("user_api") == "blas"})
    except Exception:  # noqa: BLE001
        info["blas"] = None
    try:
        import socialrec

        info["socialrec"] = {"version": socialrec.__version__, "build": socialrec.build_info()}
    except Exception as e:  # noqa: BLE001
        info["socialrec"] = f"import failed: {e}"
    info["peers"] = {}
    for module, dist in PEERS.items():
        v = version(dist)
        info["peers"][dist] = v if v and peer(module) is not None else "not installed"
    return info


def blas_one_thread():
    """Pin the BLAS pools to one thread (threadpoolctl), the same for socialrec and every peer. Our kernels
    set their own thread counts (num_threads); peers get theirs explicitly."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def model_names(kind=None):
    """The names of socialrec's models from its registry (``socialrec.models.registry()``): every model, or
    those of one ``kind`` ("rating" or "ranking"), rating models first, in the registry's order."""
    import socialrec as sr

    return [m.name for m in sr.models.registry(kind)]


def timed(fn):
    """(seconds, result) of one call."""
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def median(xs):
    return float(statistics.median(xs))


def target(what, peer, ratio, goal, quality=None, note=None, kind="speed"):
    """One row of the targets table: ``ratio`` measured (peer time / socialrec time, or for accuracy the
    metric), ``goal`` the DESIGN §9/§10 bound; ``met`` is ratio >= goal (speed) or the ``met`` given."""
    row = {"kind": kind, "what": what, "peer": peer, "ratio": ratio, "goal": goal, "quality": quality,
           "note": note}
    if kind == "speed":
        row["met"] = None if ratio is None or goal is None else bool(ratio >= goal)
    return row


def error_text(e):
    return f"{type(e).__name__}: {e}".splitlines()[0][:300]


def main(name, run, add_arguments=None, doc=None):
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller data and fewer repeats (developers)")
    ap.add_argument("--out", default=RESULTS, help="folder of the JSON record (default bench/results)")
    if add_arguments:
        add_arguments(ap)
    args = ap.parse_args()
    start, load_start = time.perf_counter(), load_average()
    try:
        record = run(args)
    except MissingData as e:
        print(f"{name}: skipped: {e}", file=sys.stderr)
        sys.exit(SKIPPED)
    record = {"benchmark": name, "quick": bool(args.quick),
              "command": " ".join(["python", os.path.relpath(sys.argv[0], os.path.join(HERE, ".."))]
                                  + sys.argv[1:]),
              "machine": machine(), "load_average_start": load_start, "load_average_end": load_average(),
              "wall_s": round(time.perf_counter() - start, 1), **record}
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, f"{name}.json"), "w") as fh:
        json.dump(record, fh, indent=1, default=_json_default)
        fh.write("\n")
    print(json.dumps(record, default=_json_default))
    print()
    print(table(record.get("rows", []), record.get("columns")))
    if record.get("targets"):
        print()
        print(table(record["targets"], ["what", "peer", "ratio", "goal", "met", "quality"]))
    return record


def _json_default(v):
    try:
        return v.item()  # NumPy scalars
    except AttributeError:
        return str(v)


def fmt(v):
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "**no**"
    if isinstance(v, float):
        if v != v:
            return "–"
        if abs(v) >= 100:
            return f"{v:,.0f}"
        return f"{v:.4g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.2e}"
    return str(v)


def table(rows, columns=None, markdown=False):
    """Plain-text (or markdown) table of ``rows`` (dicts) over ``columns``."""
    if not rows:
        return "(no rows)"
    columns = columns or list(rows[0])
    cells = [[fmt(r.get(c)) for c in columns] for r in rows]
    if markdown:
        out = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells]
        return "\n".join(out)
    widths = [max(len(c), *(len(row[j]) for row in cells)) for j, c in enumerate(columns)]
    out = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)), "  ".join("-" * w for w in widths)]
    out += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(out)


def filmtrust():
    import socialrec as sr

    return sr.datasets.load_filmtrust(data_folder("filmtrust"))


def lastfm_binary():
    """LastFM-2k with every listen count set to 1 (PEERS.md)."""
    import socialrec as sr

    ds = sr.datasets.load_lastfm(data_folder("lastfm"))
    r = ds.ratings.copy()
    r.data[:] = 1.0
    return ds.with_ratings(r)


def parallel_mode(cls):
    """``{"deterministic": False}`` for a model class that has the switch, else ``{}``: the speed benchmarks
    time the parallel (Hogwild) mode, as the peers run, since ``deterministic=True`` became the default (issue
    16); bench/deterministic_cost.py measures what the default costs."""
    return {"deterministic": False} if "deterministic" in cls._defaults else {}


def uniform_ratings(n_ratings, n_users, n_items, n_edges=0, seed=0, scale=(1.0, 5.0)):
    """A dataset of ~n_ratings distinct (user, item) pairs drawn uniformly, ratings from a rank-5 model plus
    noise on the 1-5 half-star scale, and exactly ``n_edges`` distinct random directed trust edges. Fast
    enough for 20M ratings (one sort of int64 keys), for the scaling curves."""
    import numpy as np

    import socialrec as sr

    rng = np.random.default_rng(seed)
    keys = np.unique(rng.integers(0, n_users * n_items, size=int(n_ratings * 1.001) + 16, dtype=np.int64))
    keys = keys[np.sort(rng.permutation(len(keys))[:n_ratings])] if len(keys) > n_ratings else keys
    users, items = (keys // n_items).astype(np.int32), (keys % n_items).astype(np.int32)
    del keys
    p = rng.standard_normal((n_users, 5), dtype=np.float32) * np.float32(0.5)
    q = rng.standard_normal((n_items, 5), dtype=np.float32) * np.float32(0.5)
    values = np.einsum("ij,ij->i", p[users], q[items]) + np.float32(3.0)
    values += rng.standard_normal(len(values), dtype=np.float32) * np.float32(0.3)
    values = np.clip(np.round(values * 2) / 2, *scale).astype(np.float32)
    trust = {}
    if n_edges:
        e = np.unique(rng.integers(0, n_users * n_users, size=int(n_edges * 1.01) + 16, dtype=np.int64))
        e = e[e // n_users != e % n_users]
        e = e[rng.permutation(len(e))[:n_edges]]
        trust = {"trust_src": (e // n_users).astype(np.int32), "trust_dst": (e % n_users).astype(np.int32)}
    return sr.Dataset.from_arrays(users, items, values, n_users=n_users, n_items=n_items, rating_scale=scale,
                                  **trust)


def ranking_quality(user_vectors, item_vectors, item_bias, train, test, k=10, batch=256):
    """PEERS.md LastFM protocol: NDCG/P/R@k of the scores U V^T + b (float64), ranking the items seen in
    train, the user's training items excluded, ties to the lower item index; mean over users with test
    items (NDCG's IDCG over min(k, |T_u|) positions, recall = hits / |T_u|)."""
    import numpy as np

    t, tr = test.ratings.tocsr(), train.ratings.tocsr()
    users = np.flatnonzero(np.diff(t.indptr) > 0)
    unseen = np.diff(tr.tocsc().indptr) == 0
    U = np.asarray(user_vectors, np.float64)
    V = np.asarray(item_vectors, np.float64)
    b = np.zeros(V.shape[0]) if item_bias is None else np.asarray(item_bias, np.float64)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    ndcg, prec, rec = [], [], []
    for start in range(0, len(users), batch):
        us = users[start:start + batch]
        scores = U[us] @ V.T + b
        scores[:, unseen] = -np.inf
        counts = np.diff(tr.indptr)[us]
        rows = np.repeat(np.arange(len(us)), counts)
        cols = np.concatenate([tr.indices[tr.indptr[u]:tr.indptr[u + 1]] for u in us])
        scores[rows, cols] = -np.inf
        top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        for row, u in zip(top, us):
            truth = t.indices[t.indptr[u]:t.indptr[u + 1]]
            hits = np.isin(row, truth)
            ndcg.append((hits * discount).sum() / discount[:min(k, len(truth))].sum())
            prec.append(hits.sum() / k)
            rec.append(hits.sum() / len(truth))
    return {"ndcg": float(np.mean(ndcg)), "precision": float(np.mean(prec)), "recall": float(np.mean(rec)),
            "users": int(len(users))}


def model_vectors(model):
    """(U, V, item_bias or None) of a fitted socialrec ranking model (BPR/SBPR have item biases)."""
    p = model.parameters_
    return p["user_factors"], p["item_factors"], p.get("item_bias")
