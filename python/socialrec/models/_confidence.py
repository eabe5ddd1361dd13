"""ALS / SocialALS confidence rules: how a stored interaction value r (a listen count, a click count, 1 for
binarised data) becomes the weight w that the row solves take, with confidence ``c = 1 + α·w``.

``confidence="linear"`` (Hu, Koren, Volinsky, ICDM 2008, the c_ui of eq. 3)::

    w = r                                   c = 1 + α r

``confidence="log"`` (their §4, ``1 + α log(1 + r/ε)``, in base 2)::

    w = log2(1 + r/ε)                       c = 1 + α log2(1 + r/ε)

with ``ε`` the ``epsilon`` hyper-parameter, or, when it is None, the mean of the matrix's stored values
(the sum exactly rounded, ``math.fsum``, over their number; 1 where that mean is 0). Base 2 and that ε make an
entry at the average count weigh ``w = 1``, the weight of every entry of 0/1 data under ``"linear"``: on 0/1
data both rules give the same ``w = 1`` bit for bit (ε = 1, log2(2) = 1), so α means the same for both, while
on heavy-tailed counts (LastFM listens up to 352,698, mean 739) the log keeps the largest confidence within a
small multiple of the average one instead of ~500 times it.

The rule is a weighting of the interaction matrix it is applied to, as BM25 is: the training matrix for the
fit, the given data for ``loss(data)``. ``w`` is rounded to float32, the precision the kernels store it in;
``socialrec.reference.als`` implements the same rule independently.
"""
from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import scipy.sparse as sp

from .._arrays import ENTRIES_PER_CHUNK, map_chunks

CONFIDENCES = ("log", "linear")

# confidence="linear" warns when the largest confidence is this many times the confidence of an entry at the
# mean value: the heavy tail that makes WRMF collapse (LastFM raw counts: ~480 at alpha 40)
HEAVY_TAIL_RATIO = 100.0


def log_scale(values, epsilon, xp=np):
    """ε of the log rule for the stored ``values``: ``epsilon`` when given, else their mean (on the host the
    exactly rounded ``math.fsum``; on the device, ``xp`` CuPy, a float64 sum), 1 where that mean is 0."""
    if epsilon is not None:
        return float(epsilon)
    n = int(values.size)
    if n == 0:
        return 1.0
    if xp is np:  # fsum is exact whatever the grouping: fed by chunks, not one Python float per value at once
        step = ENTRIES_PER_CHUNK
        total = math.fsum(itertools.chain.from_iterable(values[s:s + step].tolist() for s in range(0, n, step)))
    else:
        total = float(xp.sum(values.astype(xp.float64)))
    return total / n if total > 0 else 1.0


def weights(values, confidence, epsilon, xp=np):
    """The float32 weights ``w`` (confidence ``1 + α w``) of the stored ``values`` (NumPy, or CuPy with
    ``xp``) under ``confidence`` ("log" or "linear"); see the module docstring."""
    if confidence == "linear":
        return xp.asarray(values).astype(xp.float32)
    eps = log_scale(values, epsilon, xp)
    if xp is np:  # on the host chunk by chunk: no float64 temporaries of every value at once
        values = np.asarray(values)
        return map_chunks(lambda v: np.log2(1.0 + v.astype(np.float64) / eps), values,
                          np.empty(len(values), dtype=np.float32))
    return xp.log2(1.0 + xp.asarray(values).astype(xp.float64) / eps).astype(xp.float32)


def weighted_matrix(matrix, confidence, epsilon):
    """The scipy CSR ``matrix`` with its stored values replaced by their weights (float32): new values, the
    structure (indices, indptr) shared with ``matrix``, not copied."""
    m = matrix.tocsr()
    return sp.csr_matrix((weights(m.data, confidence, epsilon), m.indices, m.indptr), shape=m.shape)


def warn_if_heavy_tailed(values, alpha, name):
    """Warns when ``confidence="linear"`` on ``values`` gives a largest confidence over ``HEAVY_TAIL_RATIO``
    times that of an entry at the mean (``values``: NumPy or CuPy; only scalars come to the host)."""
    if int(values.size) == 0 or alpha <= 0:
        return
    largest, mean = float(values.max()), float(values.astype("float64").mean())
    ratio = (1.0 + alpha * largest) / (1.0 + alpha * mean)
    if ratio > HEAVY_TAIL_RATIO:
        warnings.warn(
            f"{name}(confidence='linear') on values up to {largest:g} (mean {mean:g}): the largest confidence "
            f"1 + alpha*r is {ratio:.0f} times that of an average entry, and WRMF tends to collapse on such "
            "heavy-tailed counts (LastFM listens: NDCG@10 .014 instead of .20); use confidence='log' (the "
            "default) or binarise the data (Dataset.binarized())", RuntimeWarning, stacklevel=4)
