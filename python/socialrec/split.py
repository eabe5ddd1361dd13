"""Splitting a :class:`~socialrec.Dataset` into training and test parts.

Every splitter divides the *ratings* only. Each part keeps the dataset's whole index space (same
``n_users``, ``n_items``, ``user_ids``, ``item_ids``, ``rating_scale``) and the whole trust graph, so a
model fitted on the training part predicts the test part by index. Parts are built with
:meth:`Dataset.with_ratings`. The one exception: ``train_test_split(..., trust_test_size=f)`` also holds out
a fraction of the trust edges (link prediction), which then go to the test part's trust graph alone.

All randomness comes from ``numpy.random.default_rng(seed)``; the exact use of the generator is stated in
each function, so the splits can be reproduced outside socialrec.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

from .data import Dataset

__all__ = [
    "train_test_split",
    "kfold",
    "leave_k_out",
    "per_user_split",
    "ratio_split",
    "validation_split",
    "cold_start_users",
]


# --------------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------------


def _check_dataset(ds):
    if not isinstance(ds, Dataset):
        raise TypeError(f"expected a socialrec.Dataset, got {type(ds).__name__}")


def _check_fraction(x, name, zero=False):
    """``x`` as a float in (0, 1), or in [0, 1) with ``zero``."""
    low_ok = (lambda v: 0.0 <= v) if zero else (lambda v: 0.0 < v)
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not (low_ok(float(x)) and float(x) < 1.0):
        bounds = "in [0, 1)" if zero else "strictly between 0 and 1"
        raise ValueError(f"{name} must be a number {bounds}, got {x!r}")
    return float(x)


def _check_int(x, name, low):
    if isinstance(x, bool) or not isinstance(x, numbers.Integral) or int(x) < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {x!r}")
    return int(x)


def _row_counts(ds):
    return np.diff(ds.ratings.indptr.astype(np.int64))


def _part(ds, mask):
    """The dataset restricted to the ratings (in CSR order) selected by a boolean mask."""
    r = ds.ratings
    counts = np.bincount(np.repeat(np.arange(ds.n_users), _row_counts(ds))[mask], minlength=ds.n_users)
    indptr = np.zeros(ds.n_users + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    sub = sp.csr_matrix((r.data[mask], r.indices[mask], indptr), shape=r.shape)
    return ds.with_ratings(sub)


def _rank_within_users(ds, rng):
    """A uniformly random rank (0-based) of each rating among its user's ratings, in CSR order.

    Draws ``keys = rng.random(nnz)`` once; the rank of a rating is the position of its key among the keys
    of the same user, ascending (keys compared on their first 32 bits, ties in CSR order).
    """
    counts = _row_counts(ds)
    rows = np.repeat(np.arange(ds.n_users, dtype=np.int64), counts)
    keys = rng.random(ds.nnz)
    # one integer sort on (user, key) is several times faster than lexsort
    order = np.argsort((rows << 32) | (keys * 2.0**32).astype(np.int64), kind="stable")
    starts = np.repeat(ds.ratings.indptr[:-1].astype(np.int64), counts)
    rank = np.empty(ds.nnz, dtype=np.int64)
    rank[order] = np.arange(ds.nnz) - starts
    return rank, rows, counts


def _round_half_even(x):
    """``round`` as Python and NumPy do it (half to even), elementwise, as int64."""
    return np.round(np.asarray(x, dtype=np.float64)).astype(np.int64)


# --------------------------------------------------------------------------------------------------------
# splitters
# --------------------------------------------------------------------------------------------------------


def train_test_split(ds, test_size=0.2, seed=0, *, trust_test_size=0.0):
    """Random split of the ratings, and optionally of the trust edges (held-out links).

    ``rng = numpy.random.default_rng(seed)``. Ratings: ``perm = rng.permutation(ds.nnz)`` indexes the ratings
    in CSR order; the first ``round(test_size * nnz)`` of ``perm`` go to test, the rest to training (no draw
    when ``test_size`` is 0). Trust, with ``trust_test_size > 0``: the units are the stored edges in CSR order,
    or, when the graph is symmetric (friendship data stored both ways, LastFM), the pairs ``u < v`` with both
    directions held out together (keeping ``v → u`` would give ``u → v`` away); ``perm = rng.permutation(units)``
    drawn after the ratings', and the first ``round(trust_test_size * units)`` go to test.

    Parameters
    ----------
    ds : Dataset
    test_size : float
        Fraction of the ratings in the test part, in [0, 1); 0 only with ``trust_test_size > 0`` (every
        rating trains: a link-prediction split).
    seed : int
    trust_test_size : float, default 0.0
        Fraction of the trust edges held out, in [0, 1). 0 keeps the whole graph in both parts.

    Returns
    -------
    train, test : Dataset
        Same index space as ``ds``. With ``trust_test_size`` 0 both parts keep the whole trust graph; else
        ``train.trust`` holds the kept edges and ``test.trust`` the held-out ones (what
        ``metrics.link_prediction`` scores).

    Raises
    ------
    ValueError
        If a fraction is out of range, nothing is held out, or a part would be left empty.
    """
    _check_dataset(ds)
    trust_test_size = _check_fraction(trust_test_size, "trust_test_size", zero=True)
    test_size = _check_fraction(test_size, "test_size", zero=trust_test_size > 0)
    rng = np.random.default_rng(seed)
    test = np.zeros(ds.nnz, dtype=bool)
    if test_size > 0:
        n_test = round(test_size * ds.nnz)
        if n_test == 0 or n_test == ds.nnz:
            raise ValueError(
                f"test_size={test_size} of {ds.nnz} ratings leaves an empty "
                f"{'test' if n_test == 0 else 'training'} part"
            )
        perm = rng.permutation(ds.nnz)
        test[perm[:n_test]] = True
    train_part, test_part = _part(ds, ~test), _part(ds, test)
    if trust_test_size > 0:
        kept, held = _trust_split(ds.trust, trust_test_size, rng)
        train_part, test_part = _with_trust(train_part, kept), _with_trust(test_part, held)
    return train_part, test_part


def _trust_split(trust, fraction, rng):
    """(kept, held-out) CSR parts of ``trust`` (train_test_split's trust rule)."""
    t = trust.tocsr(copy=True)
    t.sum_duplicates()  # canonical: sorted column indices, no repeats (the reverse-edge lookup below needs it)
    rows = np.repeat(np.arange(t.shape[0], dtype=np.int64), np.diff(t.indptr))
    cols = t.indices.astype(np.int64)
    structure = sp.csr_matrix((np.ones(t.nnz, np.int8), t.indices, t.indptr), shape=t.shape)
    # a friendship graph is symmetric in its edges, whatever their weights: both directions go together
    symmetric = t.nnz > 0 and (structure != structure.T).nnz == 0
    units = np.flatnonzero(rows < cols) if symmetric else np.arange(t.nnz)
    n_held = round(fraction * len(units))
    if n_held == 0 or n_held == len(units):
        raise ValueError(f"trust_test_size={fraction} of {len(units)} {'pairs' if symmetric else 'edges'} "
                         f"leaves an empty {'test' if n_held == 0 else 'training'} trust graph")
    chosen = units[rng.permutation(len(units))[:n_held]]
    held = np.zeros(t.nnz, dtype=bool)
    held[chosen] = True
    if symmetric:  # the reverse of every chosen pair u < v: v -> u, found by its key in the sorted CSR order
        keys = rows * t.shape[0] + cols
        held[np.searchsorted(keys, cols[chosen] * t.shape[0] + rows[chosen])] = True
    part = lambda mask: sp.csr_matrix((t.data[mask], (rows[mask], cols[mask])), shape=t.shape)  # noqa: E731
    return part(~held), part(held)


def _with_trust(ds, trust):
    """``ds`` with another trust graph (a canonical CSR of its shape)."""
    trust = trust.tocsr()
    trust.sort_indices()
    return Dataset._new(ds.ratings, trust, ds.user_ids, ds.item_ids, ds.rating_scale)


def kfold(ds, k=5, seed=0):
    """K-fold cross-validation over the ratings.

    ``perm = numpy.random.default_rng(seed).permutation(ds.nnz)``; ``folds = numpy.array_split(perm, k)``;
    fold ``f`` is the test part of the ``f``-th split (the FilmTrust protocol of PEERS.md). Every rating is
    in exactly one test fold.

    Parameters
    ----------
    ds : Dataset
    k : int
        Number of folds, ``2 <= k <= ds.nnz``.
    seed : int

    Yields
    ------
    train, test : Dataset
        Same index space and trust graph as ``ds``.
    """
    _check_dataset(ds)
    k = _check_int(k, "k", 2)
    if k > ds.nnz:
        raise ValueError(f"k={k} folds need at least {k} ratings, the dataset has {ds.nnz}")
    perm = np.random.default_rng(seed).permutation(ds.nnz)
    folds = np.array_split(perm, k)

    def generate():
        for fold in folds:
            test = np.zeros(ds.nnz, dtype=bool)
            test[fold] = True
            yield _part(ds, ~test), _part(ds, test)

    return generate()


def leave_k_out(ds, k=1, seed=0):
    """Hold out ``k`` random ratings of every user.

    Users with ``k`` ratings or fewer keep all of them in training (they have no test ratings). The choice
    draws ``numpy.random.default_rng(seed).random(nnz)`` once: a user's ``k`` ratings with the smallest
    keys go to test.

    Parameters
    ----------
    ds : Dataset
    k : int
        Ratings held out per user, ``k >= 1``.
    seed : int

    Returns
    -------
    train, test : Dataset
    """
    _check_dataset(ds)
    k = _check_int(k, "k", 1)
    rank, rows, counts = _rank_within_users(ds, np.random.default_rng(seed))
    test = (rank < k) & (counts[rows] > k)
    return _part(ds, ~test), _part(ds, test)


def per_user_split(ds, test_size=0.2, min_ratings=5, seed=0, drop_unseen_items=True):
    """Per-user random split: the LastFM protocol of PEERS.md.

    Users are visited in ascending index, each user's ratings in ascending item index (CSR order). One
    ``rng = numpy.random.default_rng(seed)`` draws ``rng.permutation(n_u)`` for each user with at least
    ``min_ratings`` ratings (users with fewer keep all their ratings in training and draw nothing); the
    ratings at the first ``round(test_size * n_u)`` positions of the permutation go to test. With
    ``drop_unseen_items`` test ratings of items that have no training rating are then removed.

    Datasets loaded from raw ids number users and items in ascending raw id (see
    :meth:`Dataset.from_raw`), so "ascending index" is "ascending id" for the loaders of
    :mod:`socialrec.datasets`.

    Parameters
    ----------
    ds : Dataset
    test_size : float
        Fraction of each user's ratings held out, strictly between 0 and 1.
    min_ratings : int
        Users with fewer ratings than this are not split.
    seed : int
    drop_unseen_items : bool
        Remove test ratings on items never seen in training (default, as the protocol says).

    Returns
    -------
    train, test : Dataset
    """
    _check_dataset(ds)
    test_size = _check_fraction(test_size, "test_size")
    min_ratings = _check_int(min_ratings, "min_ratings", 0)
    rng = np.random.default_rng(seed)
    indptr = ds.ratings.indptr.astype(np.int64)
    counts = np.diff(indptr)
    test = np.zeros(ds.nnz, dtype=bool)
    for u in np.flatnonzero(counts >= max(min_ratings, 1)):  # one permutation per user: a loop over users
        n_u = int(counts[u])
        perm = rng.permutation(n_u)
        test[indptr[u] + perm[: round(test_size * n_u)]] = True
    for_test = test
    if drop_unseen_items:
        items = ds.ratings.indices
        seen = np.zeros(ds.n_items, dtype=bool)
        seen[items[~test]] = True
        for_test = test & seen[items]
    return _part(ds, ~test), _part(ds, for_test)


def validation_split(ds, fraction=0.1, seed=0, per_user=False):
    """A validation part carved out of training data: what ``fit(..., validation=0.1)`` and ``sr.tune`` use.

    Rating models hold out random ratings (:func:`train_test_split`); ranking models a per-user part
    (:func:`per_user_split`, the LastFM protocol: users with fewer than 5 interactions stay whole, items
    unseen in the rest are dropped from the validation part).

    Parameters
    ----------
    ds : Dataset
    fraction : float
        Share held out, strictly between 0 and 1.
    seed : int
    per_user : bool
        Split each user's interactions (ranking models) rather than the ratings at random.

    Returns
    -------
    rest, validation : Dataset
        Same index space and trust graph as ``ds``.
    """
    if per_user:
        return per_user_split(ds, test_size=fraction, seed=seed)
    return train_test_split(ds, test_size=fraction, seed=seed)


def ratio_split(ds, ratios=(0.8, 0.1, 0.1), seed=0, per_user=True):
    """Split the ratings into training, validation and test parts by ratio (the 8:1:1 protocol).

    With ``per_user=True`` each user's ratings are shuffled (one ``default_rng(seed).random(nnz)`` draw of
    keys, ascending key order) and cut: the first ``round(r_test * n_u)`` go to test, the next
    ``round(r_valid * n_u)`` to validation, the rest (at least one rating) to training. With
    ``per_user=False`` the same cut is made once over ``default_rng(seed).permutation(nnz)``.

    Parameters
    ----------
    ds : Dataset
    ratios : tuple of 3 floats
        ``(train, valid, test)`` proportions, non-negative with a positive training share; they are
        normalised to sum to 1.
    seed : int
    per_user : bool
        Cut each user's ratings separately (default) or all ratings at once.

    Returns
    -------
    train, valid, test : Dataset

    Notes
    -----
    When a model fitted on ``train`` alone is scored on ``test``, the validation items are still among its
    candidates unless they are excluded too:
    ``metrics.ranking(model, test, train=train.ratings + valid.ratings)`` ranks each user's items outside
    both parts, as the literature's 8:1:1 protocol does.
    """
    _check_dataset(ds)
    try:
        r = np.asarray(ratios, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"ratios must be three numbers (train, valid, test), got {ratios!r}") from None
    if r.shape != (3,) or not np.all(np.isfinite(r)) or np.any(r < 0) or r[0] <= 0:
        raise ValueError(
            f"ratios must be three non-negative numbers (train, valid, test) with train > 0, got {ratios!r}"
        )
    r = r / r.sum()
    rng = np.random.default_rng(seed)
    if per_user:
        rank, rows, counts = _rank_within_users(ds, rng)
        n = counts[rows]
    else:
        rank = np.empty(ds.nnz, dtype=np.int64)
        rank[rng.permutation(ds.nnz)] = np.arange(ds.nnz)
        n = np.full(ds.nnz, ds.nnz, dtype=np.int64)
    n_test = _round_half_even(r[2] * n)
    n_valid = _round_half_even(r[1] * n)
    # keep at least one rating of each user (or of the whole set) for training
    n_test = np.minimum(n_test, n - 1)
    n_valid = np.minimum(n_valid, n - 1 - n_test)
    test = rank < n_test
    valid = ~test & (rank < n_test + n_valid)
    return _part(ds, ~(test | valid)), _part(ds, valid), _part(ds, test)


def cold_start_users(train, max_ratings=5):
    """Users with fewer than ``max_ratings`` ratings in ``train`` (users with none included).

    Parameters
    ----------
    train : Dataset
    max_ratings : int
        Threshold, ``>= 1``.

    Returns
    -------
    numpy.ndarray of int64
        Ascending user indices.
    """
    _check_dataset(train)
    max_ratings = _check_int(max_ratings, "max_ratings", 1)
    return np.flatnonzero(_row_counts(train) < max_ratings).astype(np.int64)
