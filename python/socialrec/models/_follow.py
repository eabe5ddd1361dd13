"""``model.recommend_users(users, n=10, exclude_known=True)``: who to follow (DESIGN §2b, issue 24).

The models that learn a trust predictor score every user as a trustee with it (their ``_link_scores`` hook, in
their own files: SoRec ``g(U_u·Z_v)``, TrustMF the two models' ``g`` of the mean truster·trustee logit,
TrustSVD ``p_u·w_v``). Every other model uses the fallback here: the cosine of the user vectors ``z_u``,
``z_v`` (the vectors ``predict`` multiplies), over the users within two trust hops of ``u`` (his trustees and
their trustees) only. ``closure=w`` adds ``w`` times the Adamic–Adar score of the training graph (triadic
closure, which the trust predictors do not learn: bench/README.md, issue 24). The shared selection and exclusion rules are in ``socialrec/_links.py``; the training
trust graph is the model's ``trust_graph_`` (kept by ``fit``; fold-in adds the folded users' out-edges).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .. import _gpu, _links
from .._validate import is_int
from ._explain import host64
from ._queries import check_ids, id_space


def host_graph(t):
    """A trust graph as a host scipy CSR: itself, or a host copy of a CUDA fit's ``DeviceTrust``; None stays
    None."""
    if t is None or sp.issparse(t):
        return t
    return sp.csr_matrix(tuple(np.asarray(_gpu.to_host(a)) for a in (t.data, t.indices, t.indptr)), shape=t.shape)


def kept_trust(model):
    """The training trust graph a model keeps, as a host CSR of ``n_users_`` square (rows past its own size,
    if any, empty), or None when it keeps none. A CUDA fit's graph is copied to the host here, once."""
    t = host_graph(getattr(model, "trust_graph_", None))
    model.trust_graph_ = t
    n = model.n_users_
    if t is not None and t.shape[0] < n:
        indptr = np.concatenate([t.indptr, np.full(n - t.shape[0], t.indptr[-1])])
        t = model.trust_graph_ = sp.csr_matrix((t.data, t.indices, indptr), shape=(n, n))
    return t


def fitted_trust(model):
    """``kept_trust``, or a ``ValueError`` saying to refit when the model keeps no trust graph (a file saved
    before socialrec kept it)."""
    t = kept_trust(model)
    if t is None:
        raise ValueError(f"this {type(model).__name__} holds no training trust graph (a file saved before "
                         "socialrec kept it); fit it again to recommend users or explain by trustee")
    return t


class FollowMixin:
    """``recommend_users`` of every model and baseline; ``_link_scores`` is the fallback (friends of
    friends by user-vector cosine) unless the model's file overrides it with its trust predictor."""

    def _known_trust(self):
        """The training trust graph on the host (a CUDA fit's too), or the ``ValueError`` of ``fitted_trust``."""
        return fitted_trust(self)

    def recommend_users(self, users, n=10, exclude_known=True, *, closure=0.0, ids="raw"):
        """Who each user should trust or follow next: the ``n`` users this model scores highest as trustees.

        Models with a trust predictor rank every user by it (SoRec ``g(U_u·Z_v)``; TrustMF ``g`` of the mean of
        its truster and trustee models' logits ``(B_u·W_v + B'_u·W'_v)/2``; TrustSVD ``p_u·w_v``). Every other
        model (and the link-prediction baselines, by their own scores) falls back to the cosine of the user
        vectors ``z_u``, ``z_v`` over the users within two trust hops of ``u`` (his trustees and their
        trustees): users further away are never listed.

        Parameters
        ----------
        users : array-like, or one id
            Raw ids of the data the model was fitted on, or indices with ``ids="index"``; unknown ids raise
            ``UnknownIdError`` naming each. One id gives one row.
        n : int
            Users per row.
        exclude_known : bool, default True
            Leave out each user's trustees in the training trust graph. The user himself is never listed.
        closure : float, default 0.0
            Weight ``w >= 0`` of triadic closure: each candidate's score becomes ``s(u, v) + w · AA(u, v)``,
            ``s`` the score above and ``AA`` the Adamic–Adar score of ``u`` and ``v`` on the undirected
            training trust graph (``sr.baselines.AdamicAdar``: ``Σ 1 / log |Γ(x)|`` over their shared
            neighbours ``x``). 0 ranks by ``s`` alone; a large ``w`` (1000) ranks friends of friends first by
            Adamic–Adar and lets ``s`` order their ties and everyone else. The trust predictors learn whom users
            trust in general (popular trustees), not closure: with ``w`` chosen on validation edges the best of
            SoRec, TrustMF and TrustSVD beats common neighbours and Adamic–Adar on AUC and NDCG@10 on FilmTrust
            and LastFM, on AUC only on Epinions (bench/README.md, where a popularity tie-break does about as
            well).
        ids : {"raw", "index"}
            How users are given and returned.

        Returns
        -------
        (user_ids, scores) : arrays of shape (len(users), n)
            Best first, ties to the lower index; ids typed as the model's id map (int64 indices with
            ``ids="index"``), scores float64. A row with fewer than ``n`` candidates is padded with score
            ``-inf`` and the padding id of ``recommend``.
        """
        self._require_fitted()
        check_ids(ids)
        if not (is_int(n) and n > 0):
            raise ValueError(f"n={n!r} must be a positive integer")
        space = id_space(self, "user")
        one = np.ndim(users) == 0 and not isinstance(users, (list, tuple))
        idx = space.to_index([users] if one else users, "users", ids).indices
        known = fitted_trust(self)
        scorer = _links.with_closure(self._link_scores, closure, known)
        tops, values = [], []
        for start in range(0, len(idx), _links.BATCH):
            block = idx[start:start + _links.BATCH]
            scores = _links.excluded(scorer(block), block, known, exclude_known)
            top, value = _links.top_k(scores, int(n))
            tops.append(top)
            values.append(value)
        top = np.concatenate(tops) if tops else np.zeros((0, n), np.int64)
        value = np.concatenate(values) if values else np.zeros((0, n))
        return space.to_raw(top, ids), value

    def _link_scorer(self, closure=0.0):
        """``_links.with_closure`` of this model's ``_link_scores`` over its training graph."""
        return _links.with_closure(self._link_scores, closure, lambda: fitted_trust(self))

    def _link_scores(self, users):
        """The fallback: cosine of the scoring user vectors over the friends of friends (``-inf`` beyond)."""
        vectors = host64(self._scoring()["user_vectors"])
        return _links.cosine_on(_links.friends_of_friends(fitted_trust(self), users), vectors, users)
