"""The data the reference reads: a duck-typed dataset, never ``socialrec.data``.

Anything with ``ratings`` (a scipy sparse ``n_users x n_items`` matrix), ``trust`` (``n_users x n_users``, or
None) and ``rating_scale`` (r_min, r_max) will do, as a ``socialrec.Dataset`` does; a bare scipy matrix is
taken as ratings without trust, with the scale (min, max) of its stored values.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp


class Data:
    """Ratings and trust as CSR matrices (in the caller's entry order: CSR order, sorted indices for a
    ``Dataset``), the rating scale and the shapes; and the two flat views every reference module uses."""

    def __init__(self, ratings, trust, rating_scale):
        self.ratings = sp.csr_matrix(ratings)
        self.n_users, self.n_items = self.ratings.shape
        self.trust = sp.csr_matrix((self.n_users, self.n_users), dtype=np.float32) if trust is None \
            else sp.csr_matrix(trust)
        self.rating_scale = (float(rating_scale[0]), float(rating_scale[1]))

    def user_item_arrays(self):
        """(users int32, items int32, values float32) of the ratings in CSR order."""
        return _entries(self.ratings)

    def trust_arrays(self):
        """(src int32, dst int32, values float32) of the trust edges in CSR order."""
        return _entries(self.trust)


def _entries(m):
    rows = np.repeat(np.arange(m.shape[0], dtype=np.int32), np.diff(m.indptr))
    return rows, m.indices.astype(np.int32), m.data.astype(np.float32)


def as_data(data):
    """A :class:`Data` view of a Dataset-like object or of a scipy sparse rating matrix."""
    if isinstance(data, Data):
        return data
    if sp.issparse(data):
        values = data.tocsr().data
        scale = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
        return Data(data, None, scale)
    return Data(data.ratings, getattr(data, "trust", None), data.rating_scale)
