"""Helpers shared by the bench scripts: machine/version record and one-thread pinning."""
from __future__ import annotations

import os
import platform


def machine():
    """Machine and versions, recorded next to every figure."""
    import numpy as np

    import socialrec as sr

    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    info = {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
            "socialrec": sr.__version__, "simd": sr.build_info().get("simd")}
    try:
        info["load_avg"] = os.getloadavg()[0]
    except OSError:
        pass
    return info


def one_thread():
    """Pin BLAS/OpenMP pools of every library to one thread (threadpoolctl), returning the context."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)
