"""Anonymisation helpers: keyed hashing of ids and suppression of rare items.

These are **pre-processing**, not a privacy guarantee. Keyed hashing hides the raw ids from whoever holds the
data set but not the key (anyone with the key re-identifies every id, and the rating pattern itself can
re-identify a user: Narayanan & Shmatikov, "Robust de-anonymization of large sparse datasets", S&P 2008);
suppressing items with fewer than ``k`` raters removes the rarest, most identifying ratings (a k-anonymity
style rule on items), without bounding what a model trained on the rest reveals. The guarantee socialrec
states is differential privacy (:class:`socialrec.privacy.PrivacyBudget`), with its unit and accountant.
"""
from __future__ import annotations

import hashlib
import hmac

import numpy as np

from ..data import Dataset


def hash_ids(ids, key, digest_size=16):
    """Keyed hashes of ``ids``: BLAKE2b with ``key`` (the same id and key give the same hash).

    Parameters
    ----------
    ids : iterable
        Raw ids; each is hashed as ``str(id)`` in UTF-8.
    key : bytes or str
        Secret key (at most 64 bytes); keep it out of the data set. A str is encoded in UTF-8.
    digest_size : int, default 16
        Bytes of each hash (hex strings of twice that length).

    Returns
    -------
    numpy.ndarray of str
    """
    key = key.encode() if isinstance(key, str) else bytes(key)
    if not key:
        raise ValueError("hash_ids: key must be non-empty (unkeyed hashes of small id spaces are reversible)")
    if len(key) > hashlib.blake2b.MAX_KEY_SIZE:
        key = hmac.new(key, b"socialrec.hash_ids", hashlib.sha256).digest()  # long keys: folded to 32 bytes
    return np.array([hashlib.blake2b(str(i).encode(), key=key, digest_size=digest_size).hexdigest()
                     for i in ids], dtype=object).astype(str)


def anonymize_ids(data, key):
    """``data`` with its user and item ids replaced by :func:`hash_ids` (users and items hashed apart, so a
    user and an item with the same raw id get different hashes)."""
    key = key.encode() if isinstance(key, str) else bytes(key)
    users = hash_ids(data.user_ids, key + b"/user")
    items = hash_ids(data.item_ids, key + b"/item")
    return Dataset._new(data.ratings.copy(), data.trust.copy(), users, items, data.rating_scale)


def suppress_rare_items(data, k):
    """``data`` without the ratings of items that fewer than ``k`` users rated (their columns stay, empty).

    Returns
    -------
    Dataset
        Same id space; the suppressed items have no ratings.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"suppress_rare_items: k={k!r} must be a positive integer")
    raters = np.bincount(data.ratings.indices, minlength=data.n_items)
    r = data.ratings.tocoo()
    keep = raters[r.col] >= k
    kept = type(r)((r.data[keep], (r.row[keep], r.col[keep])), shape=r.shape).tocsr()
    return data.with_ratings(kept)
