"""Fold-in (DESIGN §2b): new users or new items join a fitted model without retraining.

``model.fold_in_users(new)`` gives every user of ``new`` a parameter row that minimises the model's own
objective over that row with every other parameter fixed (models/_fold_in_models.py: each model's terms;
socialrec/reference/fold_in.py: the solver, and its C++ twin through models/_fold_in_kernel.py); ``fold_in_items`` likewise for items. Afterwards ``predict``,
``recommend``, ``similar_*``, ``save``/``load`` and pickling treat them as any fitted id.

This module is the generic part: reading ``new`` in its accepted forms, checking all of it before anything
changes, growing the id maps, the parameter arrays, the seen-items CSR (so ``recommend(exclude_seen=True)``
and the ``unknown="popular"`` counts see the new ratings) and the fitted trust CSR of the models that keep
one, and committing all of it at once. Accepted forms of ``new`` (all ids raw, as the model's id maps):

* a ``Dataset``: its ratings and trust graph, read in its own raw ids;
* a pandas ``DataFrame`` of ratings with the columns ``user``, ``item``, ``rating`` (other names: the
  ``user=``, ``item=``, ``rating=`` arguments; ``rating=None``: implicit feedback, every row 1.0), and
  ``trust=`` a DataFrame with ``truster``, ``trustee`` (and ``weight=`` a column of edge values, else 1.0);
* a tuple ``(users, items, ratings)`` of equal-length array-likes, with ``trust=`` a tuple
  ``(trusters, trustees[, weights])`` -- the only form that can carry no rating at all (friends-only users:
  ``(users=[], items=[], ratings=[])`` plus edges).

Which rows are folded. ``fold_in_users``: every user in the ratings, and every unknown user at either end of
an edge (a user with trust edges and no rating). Trust edges must have a folded user at one end at least;
the other end a known or folded user. Every rated item must be known (``UnknownIdError`` naming each
unknown one). ``fold_in_items``: every item in the ratings; every rater must be known; ``new`` must hold no
trust edge. A known id among the folded ones is an error unless ``known="refit"``, which re-solves its row
from the ratings given (pass all of that user's ratings: the model keeps no rating values) and adds them to
its seen items.

Edges from a known user to a folded one enter the folded user's objective where the model has such a term
(SoRec's link factor, TrustMF's trustee rows, SoReg's and SocialALS's symmetric terms), but they are not
added to what known users' predictions read (TrustSVD's and RSTE's stored trust rows): fold-in never changes
a known user's predictions (except SVD++/TrustSVD's implicit sum of a known user who rated a folded item,
whose ``|N(u)|^-½`` now counts that item; the item's implicit factor y stays 0).

A model whose parameters live on a CUDA device is refused with a ``ValueError``: load it to the host first
(``sr.load(path, device="cpu")``) and fold in there.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Optional, TypeVar

import numpy as np
import scipy.sparse as sp

from .. import _frames, _gpu
from .._ids import unknown_ids
from .._typing import Data
from ..data import Dataset
from . import _features, _fold_in_kernel, _fold_in_models
from ._follow import host_graph
from ._queries import id_space

_F = TypeVar("_F")  # fold_in_* return the model itself

KNOWN = ("error", "refit")
SIDES = {"user": "item", "item": "user"}


@dataclass
class Observations:
    """``new`` read into raw-id arrays: ratings (users, items, values) and edges (src, dst, weights)."""

    users: np.ndarray
    items: np.ndarray
    values: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    weights: np.ndarray


@dataclass
class Fold:
    """What the model functions (models/_fold_in_models.py) see: the folded rows of ``side`` in the grown index
    space and their observations there.

    ``rows``: indices of the folded rows; ``ratings``: CSR, row j = the ratings of ``rows[j]`` (columns: the
    other side's indices; values as given); ``src``/``dst``/``weights``: the edges touching a folded user
    (user side), in user indices; ``seen``: the grown seen-items CSR (indptr, indices); ``n_users``,
    ``n_items``: the grown sizes; ``fitted``: the model's other fitted arrays, grown ({attribute: value});
    ``cache``: what the model functions compute once per fold-in from fixed parameters (ALS's Gramian)."""

    side: str
    rows: np.ndarray
    ratings: sp.csr_matrix
    src: np.ndarray
    dst: np.ndarray
    weights: np.ndarray
    seen: tuple
    n_users: int
    n_items: int
    fitted: Optional[dict] = None
    cache: dict = field(default_factory=dict)

    def __post_init__(self):
        self.folded = np.zeros(self.n_users if self.side == "user" else self.n_items, bool)
        self.folded[self.rows] = True
        self._by_src = np.argsort(self.src, kind="stable")  # edges grouped by truster, then by trustee
        self._by_dst = np.argsort(self.dst, kind="stable")
        self._src_sorted, self._dst_sorted = self.src[self._by_src], self.dst[self._by_dst]

    @staticmethod
    def _edges(sorted_keys, order, u):
        lo, hi = np.searchsorted(sorted_keys, [u, u + 1])
        return order[lo:hi]

    def out_edges(self, u):
        """(trustees, weights) of the edges u -> v among the given edges."""
        e = self._edges(self._src_sorted, self._by_src, u)
        return self.dst[e], self.weights[e]

    def in_edges(self, u):
        """(trusters, weights) of the edges v -> u among the given edges."""
        e = self._edges(self._dst_sorted, self._by_dst, u)
        return self.src[e], self.weights[e]

    def seen_items(self, u):
        indptr, indices = self.seen
        return indices[indptr[u]:indptr[u + 1]]


# --------------------------------------------------------------------------------------------------------
# reading ``new``
# --------------------------------------------------------------------------------------------------------
def read(new, trust, columns, implicit):
    """``new`` (and ``trust``) in one of the accepted forms (module docstring) as ``Observations``."""
    if isinstance(new, Dataset):
        if trust is not None:
            raise TypeError("pass trust= only with a DataFrame or arrays; a Dataset carries its own trust graph")
        users, items, values = new.user_item_arrays()
        src, dst, weights = new.trust_arrays()
        return Observations(new.user_ids[users], new.item_ids[items], values.astype(np.float64),
                            new.user_ids[src], new.user_ids[dst], weights.astype(np.float64))
    if _frames.is_frame(new):
        users = _frames.column(new, columns["user"], "users", "ratings", "user").to_numpy()
        items = _frames.column(new, columns["item"], "items", "ratings", "item").to_numpy()
        if columns["rating"] is None:
            values = np.ones(len(new))
        else:
            values = _values(_frames.column(new, columns["rating"], "ratings", "ratings", "rating").to_numpy(),
                             "ratings")
        edges = _frame_edges(trust, columns) if trust is not None else None
    elif isinstance(new, tuple) and len(new) == 3:
        users, items, values = (np.asarray(a) for a in new)
        values = _values(values, "ratings")
        if not users.shape == items.shape == values.shape or users.ndim != 1:
            raise ValueError(f"users, items and ratings must be 1-D of one length, got shapes {users.shape}, "
                             f"{items.shape}, {values.shape}")
        edges = _tuple_edges(trust) if trust is not None else None
    else:
        raise TypeError(f"new must be a socialrec.Dataset, a pandas DataFrame of ratings or a tuple (users, "
                        f"items, ratings), got {type(new).__name__}")
    if implicit and columns["rating"] is not None and len(values) and np.any(values < 0):
        raise ValueError("interactions must be non-negative")
    src, dst, weights = edges if edges is not None else (np.array([], users.dtype), np.array([], users.dtype),
                                                         np.array([]))
    return Observations(users, items, values, src, dst, weights)


def _values(a, what):
    a = np.asarray(a)
    if a.dtype.kind not in "iuf" or a.dtype.kind == "b":
        raise TypeError(f"{what} must be numbers, got dtype {a.dtype}")
    a = a.astype(np.float64)
    bad = ~np.isfinite(a)
    if bad.any():
        raise ValueError(f"{what} must be finite: {a[bad][0]} at position {int(np.argmax(bad))}")
    return a


def _frame_edges(trust, columns):
    src = _frames.column(trust, columns["truster"], "trusters", "trust", "truster").to_numpy()
    dst = _frames.column(trust, columns["trustee"], "trustees", "trust", "trustee").to_numpy()
    if columns["weight"] is None:
        return src, dst, np.ones(len(src))
    return src, dst, _values(_frames.column(trust, columns["weight"], "weights", "trust", "weight").to_numpy(),
                             "trust weights")


def _tuple_edges(trust):
    if not isinstance(trust, tuple) or len(trust) not in (2, 3):
        raise TypeError("trust must be a tuple (trusters, trustees[, weights]) with arrays new, or a DataFrame "
                        f"with a DataFrame new; got {type(trust).__name__}")
    src, dst = np.asarray(trust[0]), np.asarray(trust[1])
    weights = np.ones(len(src)) if len(trust) == 2 else _values(trust[2], "trust weights")
    if not src.shape == dst.shape == weights.shape or src.ndim != 1:
        raise ValueError("trusters, trustees and weights must be 1-D of one length")
    return src, dst, weights


# --------------------------------------------------------------------------------------------------------
# planning: every check before anything changes
# --------------------------------------------------------------------------------------------------------
def _unique_in_order(a):
    """The distinct values of ``a`` in order of first appearance."""
    return np.array(list(dict.fromkeys(a.tolist())), dtype=a.dtype) if len(a) else a[:0]


def _grown_ids(space, new_ids, what):
    """The id map of ``space`` with ``new_ids`` appended, refusing ids of another kind (numbers vs text)."""
    old = np.arange(space.n) if space.ids is None else space.ids
    if not len(new_ids):
        return old
    numeric = lambda a: a.dtype.kind in "iuf" or (a.dtype.kind == "O" and all(  # noqa: E731
        isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in a.tolist()))
    if len(old) and numeric(old) != numeric(new_ids):
        raise TypeError(f"new {what} ids {new_ids[:3].tolist()} are not of the kind of the model's {what} ids "
                        f"({old.dtype}: {'numbers' if numeric(old) else 'text'})")
    if old.dtype.kind in "iu" and new_ids.dtype.kind == "f":
        if not np.all(new_ids == np.round(new_ids)):
            raise TypeError(f"new {what} ids must be integers like the model's, got {new_ids[:3].tolist()}")
        new_ids = new_ids.astype(old.dtype)
    return np.concatenate([old, new_ids]) if old.dtype.kind != "O" else np.concatenate(
        [old, np.array(new_ids.tolist(), dtype=object)])


def _indices(space, values, name, unknown_ok=True):
    return space.to_index(values, name, "raw", unknown_ok=unknown_ok)


def plan(model, side, obs, known, extra=None):
    """Check ``obs`` against the model and work out the grown index space: returns (Fold, the grown id map of
    ``side``) without touching the model. ``extra``: raw ids of ``side`` folded even without a rating (items
    with a feature row: ``fold_in_items(item_features=)``); the known ones among them are left alone."""
    extra = np.asarray([] if extra is None else extra)
    if known not in KNOWN:
        raise ValueError(f"known={known!r} must be 'error' (a known id is refused) or 'refit' (its row is "
                         "re-solved from the ratings given)")
    if not len(obs.values) and not len(obs.src) and not len(extra):
        raise ValueError("nothing to fold in: new holds no rating and no trust edge")
    if side == "item" and len(obs.src):
        raise ValueError("fold_in_items takes ratings only; new holds trust edges (fold users in with "
                         "fold_in_users)")
    users_space, items_space = id_space(model, "user"), id_space(model, "item")
    folded_space, other_space = (users_space, items_space) if side == "user" else (items_space, users_space)
    folded_raw, other_raw = (obs.users, obs.items) if side == "user" else (obs.items, obs.users)
    other_name = SIDES[side]
    other = _indices(other_space, other_raw, f"{other_name}s", unknown_ok=True)
    if other.known is not None:  # ratings on unknown items (fold_in_users) / by unknown users (fold_in_items)
        bad = np.flatnonzero(~other.known)
        raise unknown_ids(other_name, f"{other_name}s", other_raw[bad], bad,
                          prefix=f"fold_in_{side}s needs known {other_name}s; unknown {other_name} id(s)")
    candidates = np.concatenate([folded_raw, obs.src, obs.dst]) if side == "user" else folded_raw
    if len(extra):
        candidates = np.array(candidates.tolist() + extra.tolist(), dtype=object)
    if candidates.dtype.kind == "O" or folded_raw.dtype != candidates.dtype:
        candidates = np.array(candidates.tolist(), dtype=object) if len(candidates) else candidates
    candidates = _unique_in_order(candidates)
    q = _indices(folded_space, candidates, f"{side}s")
    is_known = np.ones(len(candidates), bool) if q.known is None else q.known
    rated = set(folded_raw.tolist())
    # folded: every id in the ratings, and unknown edge ends (users with edges only)
    folded_mask = np.array([(c in rated) or (not k) for c, k in zip(candidates.tolist(), is_known)], bool)
    known_folded = candidates[folded_mask & is_known]
    if len(known_folded) and known == "error":
        raise ValueError(f"{side} id(s) {known_folded[:10].tolist()} already known to the model; fold_in_{side}s "
                         f"adds new {side}s (known='refit' re-solves their rows from the ratings given)")
    new_ids = candidates[~is_known]
    n_old = folded_space.n
    grown = _grown_ids(folded_space, new_ids, side)
    index_of = {c: int(i) for c, i, k in zip(candidates.tolist(), q.indices.tolist(), is_known) if k}
    index_of.update({c: n_old + j for j, c in enumerate(new_ids.tolist())})
    rows = np.array([index_of[c] for c in candidates[folded_mask].tolist()], dtype=np.int64)
    n_grown = n_old + len(new_ids)
    folded = np.zeros(n_grown, bool)
    folded[rows] = True

    rating_rows = np.array([index_of[c] for c in folded_raw.tolist()], dtype=np.int64)
    pairs = rating_rows * max(other_space.n, 1) + other.indices
    if len(np.unique(pairs)) != len(pairs):
        _, first, counts = np.unique(pairs, return_index=True, return_counts=True)
        pos = int(np.sort(first[counts > 1])[0])
        raise ValueError(f"duplicate ({side}, {other_name}) pair ({folded_raw[pos]!r}, {other_raw[pos]!r}) in "
                         "new: each pair must be rated once")
    src = np.array([index_of.get(c, -1) for c in obs.src.tolist()], dtype=np.int64)
    dst = np.array([index_of.get(c, -1) for c in obs.dst.tolist()], dtype=np.int64)
    weights = obs.weights
    if side == "user" and len(src):
        src, dst, weights = _checked_edges(model, obs, src, dst, weights, folded)
    slot = np.full(n_grown, -1, np.int64)
    slot[rows] = np.arange(len(rows))
    ratings = sp.csr_matrix((obs.values, (slot[rating_rows], other.indices)),
                            shape=(len(rows), other_space.n))
    ratings.sort_indices()
    n_users, n_items = (n_grown, items_space.n) if side == "user" else (users_space.n, n_grown)
    seen = _grown_seen(model, side, rows, ratings, n_users, n_items)
    fold = Fold(side, rows, ratings, src, dst, weights.astype(np.float64), seen, n_users, n_items)
    return fold, grown


def _checked_edges(model, obs, src, dst, weights, folded):
    """Edge indices in the grown user space: unknown ends were folded (so every end has an index); an edge
    with no folded end is refused; self-loops are dropped with a warning (DESIGN §3)."""
    loose = ~(folded[src] | folded[dst])
    if loose.any():
        pos = int(np.argmax(loose))
        raise ValueError(f"trust edge {obs.src[pos]!r} -> {obs.dst[pos]!r} (position {pos}) joins two known users: "
                         "fold-in adds edges of the folded users only (refit the model to change known users)")
    loops = src == dst
    if loops.any():
        warnings.warn(f"{int(loops.sum())} self-loop trust edge(s) dropped", stacklevel=4)
    keep = ~loops
    src, dst, weights = src[keep], dst[keep], weights[keep]
    key = src * len(folded) + dst
    if len(np.unique(key)) != len(key):
        raise ValueError("duplicate trust edge in new: each (truster, trustee) pair must appear once")
    return src, dst, weights


def _grown_seen(model, side, rows, ratings, n_users, n_items):
    """The seen-items CSR grown to the new sizes, plus the given (user, item) pairs (union)."""
    indptr, indices = np.asarray(model.seen_indptr_, np.int64), np.asarray(model.seen_indices_, np.int32)
    if side == "user" and np.all(rows >= model.n_users_):  # new users only: rows appended (no merge)
        order = np.argsort(rows, kind="stable")
        added = [ratings.indices[ratings.indptr[j]:ratings.indptr[j + 1]] for j in order]
        counts = np.array([len(a) for a in added], np.int64)
        return (np.concatenate([indptr, indptr[-1] + np.cumsum(counts)]),
                np.concatenate([indices] + [a.astype(np.int32) for a in added]))
    old = sp.csr_matrix((np.ones(len(model.seen_indices_)), np.asarray(model.seen_indices_),
                         np.asarray(model.seen_indptr_)), shape=(model.n_users_, model.n_items_))
    old.resize((n_users, n_items))
    coo = ratings.tocoo()
    r, c = (rows[coo.row], coo.col) if side == "user" else (coo.col, rows[coo.row])
    given = sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(n_users, n_items))
    seen = (old + given).tocsr()
    seen.sort_indices()
    return np.asarray(seen.indptr, np.int64), np.asarray(seen.indices, np.int32)


# --------------------------------------------------------------------------------------------------------
# solving and committing
# --------------------------------------------------------------------------------------------------------
def _grown_parameters(model, side, n_grown):
    """The parameters for the solves: the arrays indexed by ``side`` as float64 copies grown with zero rows to
    ``n_grown`` (the solves write into them), every other array as the model holds it (read only; not copied,
    so a fold-in costs little more than the folded rows' own data)."""
    for name, value in model.parameters_.items():
        if _gpu.is_cupy(value):
            raise ValueError(f"fold-in runs on the host and this {type(model).__name__}'s parameters are on the "
                             "CUDA device; save it and load it with sr.load(path, device='cpu') to fold in")
    params = dict(model.parameters_)
    for name in _fold_in_models.row_arrays(model, side):
        a = np.asarray(params[name], dtype=np.float64)
        params[name] = np.concatenate([a, np.zeros((n_grown - len(a),) + a.shape[1:])])
    return params


def prepare(model, side, new, trust=None, known="error", columns=None, features=None):
    """Everything a fold-in needs, checked, without touching the model: (fold, grown ids, grown params,
    priors: None, or (prior rows, has) of the folded rows from ``features``, ``_features.fold_in_priors``)."""
    model._require_fitted()
    columns = {"user": "user", "item": "item", "rating": "rating", "truster": "truster", "trustee": "trustee",
               "weight": None, **(columns or {})}
    obs = read((np.array([]), np.array([]), np.array([])) if new is None else new, trust, columns,
               implicit=model._link == "score")
    features = _features.as_features(features, f"{side}_features")
    fold, grown = plan(model, side, obs, known, None if features is None else features.ids)
    params = _grown_parameters(model, side, fold.n_users if side == "user" else fold.n_items)
    fold.fitted = _fold_in_models.grown_fitted(model, fold)
    priors = _features.fold_in_priors(model, side, grown[fold.rows], features)
    return fold, grown, params, priors


def blocks(model, fold, params):
    """Every row problem of the fold, in order: a list of ``(RowProblem, slots)``, slots mapping the
    problem's coordinates to parameter entries (models/_fold_in_models.py)."""
    out = []
    for j, row in enumerate(fold.rows):
        out.extend(_fold_in_models.row_blocks(model, fold, params, j, int(row)))
    return out


def read_slots(params, slots):
    return np.concatenate([np.atleast_1d(params[name][row, coords]) if coords is not None
                           else np.atleast_1d(params[name][row]) for name, row, coords in slots])


def write_slots(params, slots, theta):
    at = 0
    for name, row, coords in slots:
        if coords is None:
            params[name][row] = theta[at]
            at += 1
        else:
            width = len(np.arange(params[name].shape[1])[coords])
            params[name][row, coords] = theta[at:at + width]
            at += width


def _centred(model, side, built, fold, params, priors):
    """The blocks of rows with a feature prior centred on it (``RowProblem.centred``); those rows' parameter
    entries start at the prior (entries no block solves keep it: SVD++'s implicit factor of a new item)."""
    if priors is None:
        return built
    rows, has = priors
    at, layout = 0, {}
    for name in _fold_in_models.row_arrays(model, side):
        width = int(np.prod(params[name].shape[1:], dtype=np.int64))
        layout[name] = (at, width)
        at += width
    slot_of = {int(r): j for j, r in enumerate(fold.rows)}
    for j in np.flatnonzero(has):
        for name, (start, width) in layout.items():
            params[name][fold.rows[j]] = rows[j, start:start + width].reshape(params[name].shape[1:])
    out = []
    for problem, slots in built:
        j = slot_of[int(slots[0][1])]
        if has[j]:
            prior = read_slots(params, slots)  # the prior just written
            problem = problem.centred(prior)
            slots = [("+prior", prior)] + slots
        out.append((problem, slots))
    return out


def fold_in(model, side, new, trust=None, known="error", columns=None, backend="auto", features=None):
    """``model.fold_in_users`` / ``fold_in_items`` (module docstring); returns each solved block's objective
    trace (last sweep) with ``backend="reference"`` (the NumPy solver, for the tests), else None.

    Every row problem of a sweep is built from the parameters as they stood before it and solved in one
    batch (``_fold_in_kernel.solve_all``: the C++ kernel on the model's ``num_threads``, the reference for
    BPR/SBPR rows over thousands of item pairs, or, ``backend="reference"``, the reference for all).
    Rows linked to each other by edges among the folded users are solved in three such sweeps (Jacobi: each
    sweep reads the others' values of the sweep before); otherwise one sweep, exact per row."""
    fold, grown, params, priors = prepare(model, side, new, trust, known, columns, features)
    linked = side == "user" and len(fold.src) and np.any(np.isin(fold.src, fold.rows) & np.isin(fold.dst, fold.rows))
    traces = None
    for _ in range(3 if linked else 1):
        built = _centred(model, side, blocks(model, fold, params), fold, params, priors)
        thetas, traces = _fold_in_kernel.solve_all([problem for problem, _ in built], backend,
                                                   getattr(model, "num_threads", 0))
        for (_, slots), theta in zip(built, thetas):
            if slots[0][0] == "+prior":  # a centred block solved for ε = θ − prior
                theta, slots = slots[0][1] + theta, slots[1:]
            write_slots(params, slots, theta)
    _commit(model, side, fold, grown, params)
    return traces


def _commit(model, side, fold, grown, params):
    """Install everything at once (each value computed before the first assignment)."""
    solved = set(_fold_in_models.row_arrays(model, side))
    graph = _grown_trust(model, fold) if side == "user" else getattr(model, "trust_graph_", None)
    model.trust_graph_ = graph
    model.parameters_ = {k: np.ascontiguousarray(v.astype(model.parameters_[k].dtype)) if k in solved else v
                         for k, v in params.items()}
    setattr(model, f"{side}_ids_", grown)
    model.n_users_, model.n_items_ = fold.n_users, fold.n_items
    model.seen_indptr_, model.seen_indices_ = fold.seen
    for name, value in fold.fitted.items():
        setattr(model, name, value)
    model._invalidate()


def _grown_trust(model, fold):
    """The kept training trust graph (explain, recommend_users) grown to the folded users, with their own
    out-edges (the other known users' rows stay as fitted; ``known="refit"`` replaces a refitted user's)."""
    graph = host_graph(getattr(model, "trust_graph_", None))
    if graph is None:
        return None
    n_old = graph.shape[0]
    mine = fold.folded[fold.src]
    if np.all(fold.rows >= n_old):  # new users only: their rows appended, the fitted rows untouched (O(new))
        src, dst, w = fold.src[mine], fold.dst[mine], fold.weights[mine]
        order = np.lexsort((dst, src))
        counts = np.bincount(src - n_old, minlength=fold.n_users - n_old)
        indptr = np.asarray(graph.indptr, np.int64)
        return sp.csr_matrix((np.concatenate([graph.data, w[order].astype(graph.data.dtype)]),
                              np.concatenate([graph.indices, dst[order].astype(graph.indices.dtype)]),
                              np.concatenate([indptr, indptr[-1] + np.cumsum(counts)])),
                             shape=(fold.n_users, fold.n_users))
    old = graph.tocoo()
    keep, mine = ~fold.folded[old.row], fold.folded[fold.src]  # a refitted known user's row is replaced
    rows = np.concatenate([old.row[keep], fold.src[mine]])
    cols = np.concatenate([old.col[keep], fold.dst[mine]])
    data = np.concatenate([old.data[keep], fold.weights[mine].astype(old.data.dtype)])
    return sp.csr_matrix((data, (rows, cols)), shape=(fold.n_users, fold.n_users))


class FoldInMixin:
    """``fold_in_users`` and ``fold_in_items`` of every model (module docstring)."""

    def fold_in_users(self: _F, new: Data, trust: Any = None, *, known: str = "error", user: str = "user",
                      item: str = "item", rating: Optional[str] = "rating", truster: str = "truster",
                      trustee: str = "trustee", weight: Optional[str] = None) -> _F:
        """Add the users of ``new`` without retraining; returns ``self``.

        Each folded user gets the row that minimises this model's own objective over that user's parameters
        with every other parameter fixed: one exact solve where the objective is quadratic in the row
        (BiasedMF, SVD++, TrustSVD, SoReg, ALS, SocialALS), at most 50 damped Newton steps, each lowering the
        objective, where it is not (SoRec, SocialMF, RSTE, TrustMF, BPR, SBPR). Trust edges between a folded
        user and known users count in both directions where the model's objective has such a term, so a user
        with trustees and no rating gets a personalised row from the social term. Then ``predict``,
        ``recommend`` (``exclude_seen`` leaves out the folded users' given items), ``similar_users``,
        ``save`` and pickling treat the folded users as any other.

        Parameters
        ----------
        new : Dataset, pandas.DataFrame, or tuple (users, items, ratings)
            The new users' ratings (and, for a Dataset, trust edges), in raw ids. A DataFrame has the columns
            named by ``user``, ``item``, ``rating`` (``rating=None``: every row 1.0).
        trust : pandas.DataFrame or tuple (trusters, trustees[, weights]), optional
            Trust edges with a folded user at one end at least (with a DataFrame or tuple ``new``); a DataFrame
            with the columns named by ``truster``, ``trustee`` (and ``weight``). An unknown user at an edge end
            is folded in too (a user with edges only).
        known : {"error", "refit"}
            A user the model knows: refused, or ``"refit"``: its row is re-solved from the ratings given (pass
            all of its ratings; the model keeps no rating values), which join its seen items.

        Raises
        ------
        UnknownIdError
            Naming every rated item the model does not know.
        ValueError, TypeError
            Empty input, non-numeric or non-finite ratings, duplicate (user, item) pairs or edges, an edge
            between two known users, a known user under ``known="error"``, ids of another kind than the
            model's, parameters on a CUDA device. Nothing changes on an error.

        See ``models/_fold_in.py`` (accepted forms, policies) and ``models/_fold_in_models.py`` (each model's
        terms and what fold-in counts where the fitted model keeps no data).
        """
        fold_in(self, "user", new, trust, known, {"user": user, "item": item, "rating": rating,
                                                  "truster": truster, "trustee": trustee, "weight": weight})
        return self

    def fold_in_items(self: _F, new: Optional[Data] = None, *, known: str = "error", user: str = "user",
                      item: str = "item", rating: Optional[str] = "rating", item_features: Any = None) -> _F:
        """Add the items of ``new`` (their ratings by known users, raw ids) without retraining; returns ``self``.

        Each item gets the row [q_i, b_i] minimising the model's own objective with every user parameter fixed
        (the trust graph touches items only through the users' factors): closed form for the identity-link and
        ALS models, at most 50 damped Newton steps for the logistic-link and BPR models. The raters' seen
        items gain the new items. ``new`` as in ``fold_in_users`` (no trust edges); unknown raters raise
        ``UnknownIdError`` naming each; ``known="refit"`` re-solves a known item's row from the ratings given.

        ``item_features`` (``sr.features.Features`` or a DataFrame indexed by raw id; the columns the model was
        fitted with, ``fit(..., item_features=)``): a new item with a non-zero feature row starts from the
        fitted feature map's prior ``c + W^T x`` (models/_features.py) and its fold-in centres the row's L2
        penalties there, so an item with no rating keeps the prior (every unknown id of ``item_features`` is
        folded in, rated or not; ``new`` may then be None) and each rating moves it from there. A zero
        feature row is the plain fold-in, exactly.
        A privately trained model (``privacy_``) refuses: item rows are what it released under its budget.
        """
        if getattr(self, "privacy_", None) is not None:
            raise ValueError(f"{type(self).__name__}: fold_in_items would write item rows computed without "
                             "privacy into the parameters this private fit released (privacy_); refit instead")
        fold_in(self, "item", new, None, known, {"user": user, "item": item, "rating": rating},
                features=item_features)
        return self
