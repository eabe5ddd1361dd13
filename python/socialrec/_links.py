"""Scoring users as trust links (who to follow, link prediction): the pieces that models, baselines and
``metrics.link_prediction`` share. Pure NumPy/SciPy over index space; a leaf module.

A link scorer is anything with ``_link_scores(users) -> (len(users), n_users) float64``: the score of every
candidate trustee for each truster of ``users`` (host int64 indices), ``-inf`` for users it does not
consider at all (the fallback scorers consider friends of friends only). ``known`` is the training trust
graph (host CSR); a user is never his own candidate, and his training trustees are no candidates with
``exclude_known``.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

BATCH = 256  # trusters scored per dense block (BATCH x n_users float64)


def binary(graph):
    """The CSR matrix of ``graph``'s stored entries, each 1.0 (float64), self-loops dropped."""
    g = sp.csr_matrix(graph, dtype=np.float64, copy=True)
    g.setdiag(0)
    g.eliminate_zeros()
    g.data[:] = 1.0
    return g


def excluded(scores, users, known, exclude_known):
    """Set ``scores[r, v] = -inf`` where ``v`` is the row's user ``users[r]`` and, with ``exclude_known``, where
    ``v`` is one of that user's trustees in ``known`` (host CSR). In place; returns ``scores``."""
    rows = np.arange(len(users))
    scores[rows, users] = -np.inf
    if exclude_known:
        sub = known[users].tocoo()
        scores[sub.row, sub.col] = -np.inf
    return scores


def top_k(scores, k):
    """Per row the ``k`` best columns, best first, ties to the lower index; ``-inf`` and NaN never listed
    (padding: index -1, score -inf). Returns (int64 indices, float64 scores) of shape (rows, k)."""
    rows, n = scores.shape
    top = np.full((rows, k), -1, dtype=np.int64)
    values = np.full((rows, k), -np.inf)
    for r in range(rows):
        s = scores[r]
        finite = np.flatnonzero(np.isfinite(s) | (s == np.inf))
        if len(finite) == 0:
            continue
        m = min(k, len(finite))
        cand = finite
        if len(finite) > m:  # the m-th largest value; everything above it, then ties by index
            t = np.partition(s[finite], len(finite) - m)[len(finite) - m]
            cand = finite[s[finite] >= t]
        order = np.lexsort((cand, -s[cand]))[:m]
        top[r, :m], values[r, :m] = cand[order], s[cand[order]]
    return top, values


def friends_of_friends(known, users):
    """CSR (len(users) x n_users) of the users within two out-link hops of each user (trustees and the
    trustees' trustees), the user himself included when a path leads back."""
    a = binary(known)
    first = a[users]
    return ((first + first @ a) > 0).tocsr()


def cosine_on(reach, vectors, users):
    """Dense scores (len(users) x n_users): the cosine of ``vectors[u]`` and ``vectors[v]`` where ``reach``
    (CSR over the rows of ``users``) has an entry, ``-inf`` elsewhere."""
    v = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(v, axis=1)
    out = np.full(reach.shape, -np.inf)
    coo = reach.tocoo()
    u = users[coo.row]
    dots = np.einsum("ij,ij->i", v[u], v[coo.col])
    denom = norms[u] * norms[coo.col]
    out[coo.row, coo.col] = np.divide(dots, denom, out=np.zeros(len(dots)), where=denom > 0)
    return out


def undirected(graph):
    """The binary undirected adjacency (CSR) of a trust graph: an edge either way makes two users neighbours."""
    a = binary(graph)
    return binary(a + a.T)


def adamic_adar_weights(adjacency):
    """Adamic–Adar's weight of each user as a shared neighbour, ``1 / log |Γ(w)|`` (0 below two neighbours: a
    shared neighbour has at least the two users it joins, so the logarithm is positive where it counts)."""
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    w = np.zeros(len(degree))
    w[degree > 1] = 1.0 / np.log(degree[degree > 1])
    return w


def neighbourhood_scores(adjacency, users, weights=None):
    """``A[users] @ diag(weights) @ A`` as a dense float64 block: common neighbours (``weights`` None) or any
    weighted count over the shared neighbours (Adamic–Adar: ``1 / log degree``) of an undirected
    ``adjacency`` (binary CSR)."""
    left = adjacency[users]
    if weights is not None:
        left = left @ sp.diags(weights)
    return np.asarray((left @ adjacency).todense(), dtype=np.float64)


def with_closure(link_scores, closure, graph):
    """A function ``users -> (len(users), n_users)`` float64 scores: ``link_scores(users)`` plus ``closure``
    times the Adamic–Adar score on the undirected ``graph`` (the training trust graph, or a function returning
    it, called only when ``closure`` is not 0): ``recommend_users``' and ``metrics.link_prediction``'s
    ``closure=`` option. A bad ``closure`` is a ``ValueError`` naming it."""
    if not (isinstance(closure, (int, float, np.integer, np.floating)) and not isinstance(closure, (bool, np.bool_))
            and np.isfinite(closure) and closure >= 0):
        raise ValueError(f"closure={closure!r} must be a finite number >= 0 (the weight of Adamic–Adar)")
    if closure == 0:
        return lambda users: np.array(link_scores(users), dtype=np.float64)
    adjacency = undirected(graph() if callable(graph) else graph)
    weights = adamic_adar_weights(adjacency)

    def scores(users):
        out = np.array(link_scores(users), dtype=np.float64)
        out += float(closure) * neighbourhood_scores(adjacency, users, weights)  # Adamic & Adar 2003
        return out
    return scores


def ranks_auc(scores, positives):
    """AUC of one truster: the share of (held-out trustee, other candidate) pairs that ``scores`` orders
    right, ties counted half. ``scores``: the candidates' scores (excluded users already dropped);
    ``positives``: boolean mask of the held-out trustees among them."""
    pos, neg = scores[positives], np.sort(scores[~positives])
    if len(pos) == 0 or len(neg) == 0:
        return np.nan
    below = np.searchsorted(neg, pos, side="left")
    ties = np.searchsorted(neg, pos, side="right") - below
    return float(np.sum(below + 0.5 * ties) / (len(pos) * len(neg)))


def ndcg_at(top, positives, k):
    """Binary NDCG@k of one ranked list ``top`` (indices, -1 padding) against the set ``positives``."""
    hits = np.isin(top[:k], positives) & (top[:k] >= 0)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = discounts[:min(len(positives), k)].sum()
    return float((hits * discounts[:len(hits)]).sum() / ideal) if ideal > 0 else np.nan
