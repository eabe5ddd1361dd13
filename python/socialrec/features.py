"""Side features of users or items (DESIGN §2b): a matrix whose rows carry raw ids.

``Features(matrix, ids)`` holds any dense or sparse matrix (one row per raw id); a pandas DataFrame indexed
by raw id works too. ``tags(item_ids, tag_ids)`` builds a sparse item x tag matrix from (item, tag)
assignments; ``text_embeddings(texts, ids)`` turns texts into dense float32 vectors with WordLlama, whose
wheel ships its weights (optional extra ``socialrec[text]``; nothing is downloaded at run time).

A model fitted with ``item_features=F`` (or ``user_features=``) reads ``F.rows_for(its ids)``: the feature
row of every id, zeros for an id without one (models/_features.py).
"""
from __future__ import annotations

import functools
import pathlib

import numpy as np
import scipy.sparse as sp

from . import _frames

__all__ = ["Features", "tags", "text_embeddings"]

TEXT_EXTRA = 'pip install "socialrec[text]" (or pip install wordllama)'


def _float_matrix(matrix):
    """``matrix`` as a float CSR (sparse input) or a 2-D float ndarray (float32 kept, other numbers float64)."""
    if sp.issparse(matrix):
        m = sp.csr_matrix(matrix)
        if m.dtype.kind not in "biuf":
            raise TypeError(f"features must be numbers, got dtype {m.dtype}")
        m = m.astype(m.dtype if m.dtype in (np.float32, np.float64) else np.float64)
        values = m.data
    else:
        m = np.asarray(matrix)
        if m.dtype.kind not in "biuf":
            raise TypeError(f"features must be numbers, got dtype {m.dtype}")
        if m.ndim != 2:
            raise ValueError(f"features must be a 2-D matrix (one row per id), got shape {m.shape}")
        m = np.ascontiguousarray(m, dtype=m.dtype if m.dtype in (np.float32, np.float64) else np.float64)
        values = m
    bad = ~np.isfinite(values)
    if bad.any():
        raise ValueError(f"features must be finite; found {values[bad][0]} (row {_bad_row(m, bad)})")
    return m


def _bad_row(m, bad):
    if sp.issparse(m):
        return int(np.searchsorted(m.indptr, int(np.argmax(bad)), side="right") - 1)
    return int(np.argmax(bad.any(axis=1)))


class Features:
    """Feature rows keyed by raw id.

    Parameters
    ----------
    matrix : array-like, scipy.sparse matrix or pandas.DataFrame
        One row per id. A DataFrame gives its index as the ids (``ids`` left out) and its columns as
        ``columns``.
    ids : array-like, optional
        The raw id of each row (distinct), of the kind the Dataset uses (ints, strings...).
    columns : array-like, optional
        A name per column (tags, embedding dimensions...), for display.

    Attributes
    ----------
    ids : numpy.ndarray
        Raw ids, row order.
    matrix : numpy.ndarray or scipy.sparse.csr_matrix
        ``len(ids) x n_features``, float (float32 kept).
    """

    def __init__(self, matrix, ids=None, columns=None):
        if _frames.is_frame(matrix):
            if ids is not None:
                raise TypeError("a DataFrame carries its ids in its index; leave ids out")
            ids = matrix.index.to_numpy()
            columns = matrix.columns.to_numpy() if columns is None else columns
            matrix = matrix.to_numpy()
        if ids is None:
            raise TypeError("Features(matrix, ids): ids (the raw id of each row) are required")
        self.matrix = _float_matrix(matrix)
        ids = np.asarray(ids)
        if ids.ndim != 1 or len(ids) != self.matrix.shape[0]:
            raise ValueError(f"ids must be 1-D with one id per row: {ids.shape} ids for {self.matrix.shape[0]} rows")
        position = {}
        for j, raw in enumerate(ids.tolist()):
            if raw in position:
                raise ValueError(f"duplicate id {raw!r} in features (rows {position[raw]} and {j}); one row per id")
            position[raw] = j
        self.ids = ids
        self._position = position
        self.columns = None if columns is None else np.asarray(columns)
        if self.columns is not None and len(self.columns) != self.matrix.shape[1]:
            raise ValueError(f"{len(self.columns)} column names for {self.matrix.shape[1]} columns")

    @property
    def n_features(self):
        return int(self.matrix.shape[1])

    def __len__(self):
        return len(self.ids)

    def __repr__(self):
        kind = "sparse" if sp.issparse(self.matrix) else "dense"
        return f"Features({len(self)} ids x {self.n_features} features, {kind} {self.matrix.dtype})"

    def positions(self, ids):
        """Row of each raw id in ``ids`` (-1 where this has no row for it)."""
        return np.array([self._position.get(raw, -1) for raw in np.asarray(ids).tolist()], dtype=np.int64)

    def rows_for(self, ids):
        """The feature rows of ``ids`` (raw ids) as float64, in that order: zeros for an id without a row.
        Sparse features give a CSR matrix, dense ones an ndarray."""
        pos = self.positions(ids)
        have = pos >= 0
        if sp.issparse(self.matrix):
            # a selection matrix S (len(ids) x len(self)) with one 1 per id that has a row: S @ matrix
            select = sp.csr_matrix((np.ones(int(have.sum())), (np.flatnonzero(have), pos[have])),
                                   shape=(len(pos), len(self)))
            return sp.csr_matrix(select @ self.matrix.astype(np.float64))
        out = np.zeros((len(pos), self.n_features))
        out[have] = self.matrix[pos[have]]
        return out


def tags(item_ids, tag_ids, *, normalize=True):
    """Features from (item, tag) assignments: a sparse ``items x tags`` matrix.

    Parameters
    ----------
    item_ids, tag_ids : array-like
        One assignment per position (an item may get a tag many times, e.g. from several users).
    normalize : bool
        True (default): each entry is ``1 + log(count)`` and each row has unit length, so heavily tagged items
        do not dominate a ridge fit; False: the raw counts.

    Returns
    -------
    Features
        Rows: the distinct items (sorted), ``columns``: the distinct tags (sorted).
    """
    items, tag = np.asarray(item_ids), np.asarray(tag_ids)
    if items.ndim != 1 or items.shape != tag.shape:
        raise ValueError(f"item_ids and tag_ids must be 1-D of one length, got shapes {items.shape}, {tag.shape}")
    if not len(items):
        raise ValueError("no (item, tag) assignment given")
    ids, rows = np.unique(items, return_inverse=True)
    columns, cols = np.unique(tag, return_inverse=True)
    m = sp.csr_matrix((np.ones(len(rows)), (rows.ravel(), cols.ravel())), shape=(len(ids), len(columns)))
    m.sum_duplicates()
    if normalize:
        m.data = 1.0 + np.log(m.data)
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        m = sp.csr_matrix(sp.diags(1.0 / norms) @ m)
    return Features(m, ids, columns)


@functools.lru_cache(maxsize=4)
def _wordllama(dim):
    """WordLlama from the weights and tokenizer its wheel ships, with downloads disabled. Its own lookup finds
    the shipped tokenizer under ``<package>/tokenizers/`` only as a cache folder, so the package folder is
    passed as ``cache_dir`` (weights ``<package>/weights/``, tokenizer ``<package>/tokenizers/``)."""
    try:
        import wordllama
    except ImportError as exc:
        raise ImportError(f"sr.features.text_embeddings needs the optional package wordllama: {TEXT_EXTRA}") \
            from exc
    try:
        return wordllama.WordLlama.load(dim=dim, cache_dir=pathlib.Path(wordllama.__file__).parent,
                                        disable_download=True)
    except FileNotFoundError as exc:
        raise ImportError(f"wordllama is installed but its shipped {dim}-d weights or tokenizer were not found "
                          f"({exc}); socialrec never downloads them: reinstall with {TEXT_EXTRA}") from exc


def text_embeddings(texts, ids, *, dim=256, batch_size=64):
    """Dense float32 Features: one unit-length WordLlama embedding per text (mean of its token vectors),
    computed offline (the weights ship with the ``wordllama`` wheel; optional extra ``socialrec[text]``).

    Parameters
    ----------
    texts : sequence of str
        Item descriptions, names, user profiles...; an empty text gives a zero row.
    ids : array-like
        The raw id of each text.
    dim : int
        Embedding size (the wheel ships 256).
    """
    if isinstance(texts, str):
        raise TypeError("texts must be a sequence of strings, not one string")
    texts = list(texts)
    bad = [j for j, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        raise TypeError(f"texts must be strings; position {bad[0]} holds {type(texts[bad[0]]).__name__}")
    if len(np.asarray(ids)) != len(texts):
        raise ValueError(f"{len(texts)} texts for {len(np.asarray(ids))} ids; give one id per text")
    model = _wordllama(dim)
    out = np.zeros((len(texts), dim), dtype=np.float32)
    filled = [j for j, t in enumerate(texts) if t.strip()]
    if filled:
        vectors = np.asarray(model.embed([texts[j] for j in filled], norm=True, batch_size=batch_size),
                             dtype=np.float32)
        out[filled] = np.nan_to_num(vectors, nan=0.0, posinf=0.0, neginf=0.0)
    return Features(out, ids)
