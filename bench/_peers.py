"""Peer libraries for the benchmarks: build/load them the same way every script does, and describe the
machine. Nothing here is collected by pytest."""
from __future__ import annotations

import glob
import json
import os
import platform
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = os.path.join(HERE, "_peers")

# LIBMF's own Makefile flags (DESIGN §9a): the PyPI binding compiles without them and is ~6x slower.
LIBMF_FLAGS = ["-O3", "-march=native", "-pthread", "-DUSEAVX", "-mavx", "-DUSEOMP", "-fopenmp", "-std=c++11"]


def libmf_release_library():
    """Path of LIBMF compiled from the `libmf` sdist's src_cpp/ with its release flags (built once)."""
    target = os.path.join(PEERS, "libmf_release.so")
    if os.path.exists(target):
        return target
    os.makedirs(PEERS, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                        "libmf", "-d", tmp], check=True)
        sdist = glob.glob(os.path.join(tmp, "libmf-*.tar.gz"))[0]
        with tarfile.open(sdist) as tar:
            tar.extractall(tmp)
        src = glob.glob(os.path.join(tmp, "libmf-*", "src_cpp"))[0]
        subprocess.run(["g++", *LIBMF_FLAGS, "-shared", "-fPIC", os.path.join(src, "libmf_interface.cpp"),
                        os.path.join(src, "mf.cpp"), "-o", target], check=True)
    return target


def load_libmf():
    """The PyPI `libmf` binding, pointed at the release build through LIBMF_OBJ (its documented hook)."""
    os.environ["LIBMF_OBJ"] = libmf_release_library()
    import contextlib
    import io
    import warnings

    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from libmf import mf
    return mf


def version(name):
    try:
        from importlib.metadata import version as v

        return v(name)
    except Exception:  # noqa: BLE001
        return None


def machine():
    """CPU model, cores, BLAS and versions, recorded in every result."""
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version()}
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = [f"{p.get('internal_api')} {p.get('version')}" for p in threadpool_info()]
    except Exception:  # noqa: BLE001
        pass
    import socialrec

    info["socialrec"] = socialrec.build_info()
    for peer in ("numpy", "scipy", "libmf", "scikit-surprise", "cornac", "implicit"):
        info[peer] = version(peer)
    return info


def emit(name, rows, columns, extra=None):
    """Print the JSON record and a table, and write bench/results/<name>.json."""
    record = {"benchmark": name, "command": " ".join([os.path.basename(sys.executable)] + sys.argv),
              "machine": machine(), "rows": rows, **(extra or {})}
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", f"{name}.json"), "w") as fh:
        json.dump(record, fh, indent=2, default=str)
    print(json.dumps(record, default=str))
    print()
    widths = [max(len(c), *(len(_fmt(r.get(c))) for r in rows)) for c in columns]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(_fmt(r.get(c)).ljust(w) for c, w in zip(columns, widths)))


def _fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)
