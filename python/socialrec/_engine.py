"""Training-state helpers of the C++ path (``socialrec.reference`` builds its own: reference/sgd.py).

The rating grid (DESIGN §5): users are cut into ``B`` contiguous blocks (``block(u) = u * B // n_users``) and
items likewise; the (user, item, value) records of each of the ``B x B`` blocks are stored together, block
``a * B + b`` at ``records[offsets[a*B + b] : offsets[a*B + b + 1]]``, in CSR order inside a block before the
first epoch. The C++ kernels shuffle those records in place. ``socialrec.reference.sgd`` specifies the same
layout with NumPy twins (``pack_grid``, ``pack_user_groups``) that tests/test_engine.py compares with these.
Also here: the settings every kernel call takes (threads, pass settings, the batch size of the dense top-N
scores).
"""
from __future__ import annotations

import math
import os

import numpy as np

from . import _core
from ._validate import check_n

RECORD_DTYPE = np.dtype([("user", "<i4"), ("item", "<i4"), ("value", "<f4")])
EDGE_DTYPE = np.dtype([("src", "<i4"), ("dst", "<i4"), ("value", "<f4")])

# A block's factor rows should stay in a core's L2 cache (DESIGN §9a). Each row is loaded once per block visit
# and touched only a few times there, so the loads are hidden by prefetching a few records ahead (sgd.hpp
# visit_records), and then smaller blocks cost nothing and more strata randomise the order better: measured at
# k=32 on 50k users x 20k items, 1.5M ratings, with prefetching: 8 blocks a side 44-54 M updates/s on one
# thread, 16-64 blocks 55-61 (2 threads: 94-102 vs 94-123). At least 8 blocks a side so that up to 8 threads
# find work in each stratum.
_BLOCK_BYTES = 256 * 1024
_MIN_BLOCKS, _MAX_BLOCKS = 8, 128


def grid_blocks(n_users, n_items, factors, itemsize):
    """Blocks per side of the rating grid: a function of the data shape only, never of the thread count,
    so that the stratified pass gives the same parameters on any number of threads."""
    rows = (n_users + n_items) * max(int(factors), 1) * int(itemsize)
    blocks = max(_MIN_BLOCKS, math.ceil(rows / _BLOCK_BYTES))
    return int(max(1, min(blocks, _MAX_BLOCKS, n_users, n_items)))


def pack_grid_csr(indptr, indices, values, n_cols, blocks, threads=0):
    """The rating grid (``records``, ``offsets``, ``blocks``) of the entries of a CSR matrix (rows = users, CSR
    order), packed in C++ by a counting sort (cpp/include/socialrec/pack.hpp): the records and offsets of
    ``socialrec.reference.sgd.pack_grid``, but the only new memory is the records (12 bytes per entry), where
    that argsort holds about 60 bytes per entry at its peak. The row blocks are packed ``threads`` at a time
    (0 = all cores); the result does not depend on it."""
    indptr = np.asarray(indptr, dtype=np.int64)
    records = np.empty(len(indices), dtype=RECORD_DTYPE)
    offsets = np.empty(blocks * blocks + 1, dtype=np.int64)
    _core.pack_grid_csr(indptr, indices, values, int(n_cols), int(blocks), records, offsets,
                        resolve_threads(threads))
    return {"records": records, "offsets": offsets, "blocks": int(blocks)}


def pack_user_groups_csr(indptr, indices, values):
    """Ratings grouped by user for the grouped passes of SVD++ and TrustSVD (the layout of
    ``socialrec.reference.sgd.pack_user_groups``) from the entries of a CSR matrix (rows = users): CSR order is
    already grouped by user, so the records are the entries in place and the offsets are ``indptr``; no sort,
    and no temporary beyond the records (12 bytes per entry) and one int32 row id per entry."""
    indptr = np.asarray(indptr, dtype=np.int64)
    counts = np.diff(indptr)
    records = np.empty(len(indices), dtype=RECORD_DTYPE)
    records["user"] = np.repeat(np.arange(len(counts), dtype=np.int32), counts)
    records["item"] = indices
    records["value"] = values
    return {"rating_records": records, "rating_offsets": indptr.copy(),
            "rating_users": np.flatnonzero(counts > 0).astype(np.int32)}


def pack_edges(src, dst, values):
    """Packs trust edges (or any pair list) into the record layout of a flat pass."""
    edges = np.empty(len(src), dtype=EDGE_DTYPE)
    edges["src"] = src
    edges["dst"] = dst
    edges["value"] = values
    return edges


TILE_BYTES = 64 << 20  # dense scores per block of users in top-N: at most 64 MiB (socialrec.topn, socialrec._gpu)


def score_batch_size(n_cols, batch_size):
    """Users per dense score block on the device path (``_gpu``): ``batch_size`` when given (a positive
    integer), else about ``TILE_BYTES`` of float32 scores (at most 4096 users)."""
    if batch_size is not None:
        return check_n(batch_size, "batch_size")
    return max(1, min(4096, TILE_BYTES // (4 * max(int(n_cols), 1))))


# The most threads a model may ask for (its ``num_threads`` check): the C++ side caps every parallel region at
# the same number (kMaxThreads, cpp/include/socialrec/parallel.hpp; tests/test_runtime_hardening.py checks
# that both agree). Beyond it an OpenMP runtime may fail to start the threads, and it ends the process then.
MAX_THREADS = 1024
# Threads actually started: at most this many per core this process may use (more only oversubscribes).
_THREADS_PER_CORE = 4

_parallel_ran = False    # this process has asked for a parallel region of more than one thread
_forked_child = False    # this process is a fork() child of one that had (see _after_fork_in_child)


def _after_fork_in_child():
    """GNU OpenMP keeps its thread pool across ``fork`` without the threads, so the child's next parallel
    region waits forever for them. A child forked after socialrec ran threads therefore runs single-threaded
    (resolve_threads), with a warning that names the start methods that avoid it."""
    global _forked_child
    _forked_child = _forked_child or _parallel_ran


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def resolve_threads(num_threads):
    """The threads a kernel call runs on: ``num_threads=0`` means every core this process may use; any count
    is capped at 4 per core and at ``MAX_THREADS``; 1 in a child forked after a multi-threaded call."""
    global _parallel_ran
    if num_threads is not None and num_threads < 0:
        raise ValueError(f"threads must be >= 0 (0 = all cores), got {num_threads}")
    cores = _cores()
    threads = int(num_threads) if num_threads and num_threads > 0 else cores
    threads = max(1, min(threads, _THREADS_PER_CORE * cores, MAX_THREADS))
    if threads > 1 and _forked_child:
        _warn_forked_child()
        return 1
    _parallel_ran = _parallel_ran or threads > 1
    return threads


_warned_fork = False


def _warn_forked_child():
    global _warned_fork
    if not _warned_fork:
        _warned_fork = True
        import warnings

        warnings.warn("socialrec: this process was forked after socialrec ran OpenMP threads, which GNU OpenMP "
                      "cannot start again in a forked child (the next parallel call would hang); socialrec runs "
                      "on one thread in this process. To train on several threads in worker processes, start "
                      "them with the 'spawn' or 'forkserver' method (multiprocessing.get_context('forkserver'),"
                      " concurrent.futures.ProcessPoolExecutor(mp_context=...)).", RuntimeWarning, stacklevel=3)


def pass_settings(seed, epoch, threads, deterministic=True, interruptible=False):
    """The settings dict every epoch kernel takes."""
    return {
        "seed": int(seed) & 0xFFFFFFFFFFFFFFFF,
        "epoch": int(epoch),
        "threads": int(threads),
        "deterministic": bool(deterministic),
        "interruptible": bool(interruptible),
    }
