"""``model.explain(user, item, n=5)``: the parts of one score, named by raw id (DESIGN §2b, issue 24).

Every socialrec model scores a pair as ``x_ui = global_bias + user_bias[u] + item_bias[i] + z_u·q_i``
(models/base.py); ``explain`` splits that sum into named parts, each ``{"kind", "id", "contribution",
"part": True}``:

* ``"bias"``: ``id`` is ``"global"``, ``"user"`` or ``"item"`` (the terms the model has);
* ``"user"``: the user's own factors' term (``id``: the user); what is left of ``z_u·q_i`` once the item and
  trustee terms are taken out;
* ``"item"``: a rated item's term where the model sums over the user's items (SVD++, TrustSVD:
  ``|I_u|^-½ y_j·q_i``);
* ``"trustee"``: a trustee's term where the model sums over, or pulls towards, the user's trustees.

The parts of the full list (``n=None``) add up to ``x_ui`` exactly (to float64 rounding): ``predict`` itself for
the identity-link rating models inside the rating scale (BiasedMF, SVD++, SoReg, TrustSVD), the logit
``x`` of ``predict = r_min + g(x)(r_max − r_min)`` for the logistic ones (SoRec, SocialMF, RSTE, TrustMF), and
the ranking score for BPR, SBPR, ALS, SocialALS. Each model's ``_explain_parts`` hook (in its own file) says
how it splits ``z_u·q_i``; the shared ``pull_parts`` below is the split of the social models whose user vector
is pulled towards a weighted mean of neighbours rather than summed over them.

Models whose score has no item terms also list up to ``n`` of the user's rated (training) items most similar to
the candidate: ``{"kind": "item", "id", "contribution": cosine of the two item vectors, "part": False}``. They
are a similarity, not a term of the sum, and come after the parts.
"""
from __future__ import annotations

import numpy as np

from .. import _gpu
from .._validate import is_int
from ._queries import check_ids, id_space

KINDS = ("bias", "user", "item", "trustee")


def host64(a):
    """A host float64 copy of a NumPy or CuPy array (or a scalar)."""
    return np.asarray(_gpu.to_host(a), dtype=np.float64)


def csr_row(indptr, indices, u):
    """Row ``u`` of a CSR structure (host int64 indices); empty past its last row (users folded in later)."""
    indptr = _gpu.to_host(indptr)
    if u + 1 >= len(indptr):
        return np.zeros(0, dtype=np.int64)
    return np.asarray(_gpu.to_host(indices)[indptr[u]:indptr[u + 1]], dtype=np.int64)


def bias_parts(model, u, i):
    """The bias parts of ``x_ui``: the global bias, then the user and item biases (those the model has)."""
    s = model._scoring()
    parts = []
    if float(s["global_bias"]) != 0.0 or "global_bias" in model.parameters_:
        parts.append(("bias", "global", float(s["global_bias"])))
    for side, index in (("user", u), ("item", i)):
        if f"{side}_bias" in model.parameters_:
            parts.append(("bias", side, float(host64(s[f"{side}_bias"][index]))))
    return parts


def scoring_vectors(model, u, i):
    """``(z_u, q_i)``: the user and item vectors that ``predict`` multiplies, float64 on the host."""
    s = model._scoring()
    return host64(s["user_vectors"][u]), host64(s["item_vectors"][i])


def pull_parts(u, own, neighbours, weights, vectors, q):
    """The split of ``own·q`` for a user vector pulled towards the weighted mean ``m_u = Σ_v w_v U_v`` of its
    neighbours (``weights`` summing to 1): ``own·q = (own − m_u)·q + Σ_v w_v U_v·q``. The trustee part of
    ``v`` is ``w_v U_v·q`` (its share of the mean the model pulls ``U_u`` to), the user part the user's own
    deviation from that mean along ``q``. Exact for any weights; without neighbours the user part is
    ``own·q``."""
    if len(neighbours) == 0:
        return [("user", u, float(own @ q))]
    shares = weights * (host64(vectors[neighbours]) @ q)
    own_part = float(own @ q) - float(np.sum(shares))
    return [("user", u, own_part)] + [("trustee", int(v), float(c)) for v, c in zip(neighbours, shares)]


def link_shares(own, link_vectors, targets, weight, penalty):
    """The weights ``β_k`` with which a logistic link term writes a user's factor row at its first-order
    condition (SoRec's and TrustMF's social attribution).

    The user's row ``P_u`` takes part in rating terms and in link terms ``weight · ½ (t_uk − g(P_u·Z_k))²``, one
    per trustee ``k``, and carries the L2 penalty ``½ penalty ‖P_u‖²`` in all (``penalty``: λ summed over
    those terms). Where the gradient vanishes, ``penalty · P_u = (rating terms' pulls) + Σ_k weight e_uk
    g'(x_uk) Z_k`` with ``e_uk = t_uk − g(x_uk)``, ``x_uk = P_u·Z_k``, ``g' = g (1 − g)``: trustee ``k``'s share
    of ``P_u`` is ``β_k Z_k``, ``β_k = weight e_uk g'(x_uk) / penalty``. ``own``: ``P_u``; ``link_vectors``:
    the rows ``Z_k``; ``targets``: ``t_uk`` (float64). Zeros when ``penalty`` is not positive."""
    if not penalty > 0:
        return np.zeros(len(targets))
    x = link_vectors @ own
    g = 1.0 / (1.0 + np.exp(-x))
    return weight * (targets - g) * g * (1.0 - g) / penalty


class ExplainMixin:
    """``explain`` of every model; the model's file supplies ``_explain_parts`` where the default (biases plus
    ``z_u·q_i`` as one user part) is not its split."""

    # False where the score sums over the user's rated items (SVD++, TrustSVD): no similarity entries then
    _explain_similar_items = True

    def explain(self, user, item, n=5, *, ids="raw"):
        """Why this model scores ``item`` for ``user`` as it does: the parts its score adds up, largest first.

        The score is ``x_ui = global_bias + user_bias[u] + item_bias[i] + z_u·q_i`` (``predict`` for the
        identity-link rating models inside the rating scale; the logit inside ``g`` for SoRec, SocialMF, RSTE
        and TrustMF; the ranking score for BPR, SBPR, ALS and SocialALS). Each model's docstring (section
        "Explanations") says how it splits ``z_u·q_i`` into parts named by raw id and whether the parts sum to
        ``x_ui`` (they do for all twelve models, to float64 rounding: the social models' splits of a pull
        towards trustees are defined there).

        Parameters
        ----------
        user, item : one id each
            Raw ids of the data the model was fitted on, or indices with ``ids="index"``; an unknown id raises
            ``UnknownIdError`` naming it.
        n : int or None, default 5
            How many parts to list (the ``n`` of largest ``|contribution|``); ``None`` lists every part, and
            those sum to ``x_ui``. Models whose score has no item terms then list up to ``n`` (``None``: 5)
            similar rated items as well.
        ids : {"raw", "index"}
            How ``user`` and ``item`` are given and the ``id`` of every entry returned.

        Returns
        -------
        list of dict
            First the parts, by ``|contribution|`` descending (ties: the order ``bias``, ``user``, ``item``,
            ``trustee``, then by index): ``{"kind": "bias" | "user" | "item" | "trustee", "id", "contribution":
            float, "part": True}``. A bias part's ``id`` is ``"global"``, ``"user"`` or ``"item"``; a
            ``"user"`` part's is the user's id (the user's own factors' term); ``"item"`` and ``"trustee"``
            parts name the rated item or the trustee. Then, for models whose score has no item terms, the
            user's training items most similar to ``item`` (cosine of the item vectors, ``item`` itself left
            out), most similar first: ``{"kind": "item", "id", "contribution": cosine, "part": False}`` -- a
            similarity, not a part of the sum.
        """
        self._require_fitted()
        check_ids(ids)
        if n is not None and not (is_int(n) and n > 0):
            raise ValueError(f"n={n!r} must be a positive integer or None (every part)")
        u = int(self._query("user", [user], "user", ids)[0])
        i = int(self._query("item", [item], "item", ids)[0])
        parts = self._explain_parts(u, i)
        order = sorted(range(len(parts)), key=lambda k: (-abs(parts[k][2]), KINDS.index(parts[k][0]),
                                                          str(parts[k][1])))
        chosen = [parts[k] for k in (order if n is None else order[:n])]
        out = [self._entry(kind, key, value, True, ids) for kind, key, value in chosen]
        if self._explain_similar_items:
            out += [self._entry("item", j, cos, False, ids) for j, cos in self._similar_rated(u, i, n or 5)]
        return out

    def _entry(self, kind, key, value, part, ids):
        if kind == "bias":
            name = key
        else:
            side = "item" if kind == "item" else "user"
            name = id_space(self, side).to_raw(np.array([key], dtype=np.int64), ids)[0]
            name = name.item() if isinstance(name, np.generic) else name
        return {"kind": kind, "id": name, "contribution": float(value), "part": part}

    def _explain_parts(self, u, i):
        """Parts ``(kind, index or bias name, contribution)`` of ``x_ui`` in index space (the default: the
        biases and ``z_u·q_i`` as the user's part)."""
        z, q = scoring_vectors(self, u, i)
        return bias_parts(self, u, i) + [("user", u, float(z @ q))]

    def _similar_rated(self, u, i, n):
        """Up to ``n`` (item index, cosine) of u's training items most similar to ``i`` (``i`` left out)."""
        rated = csr_row(self.seen_indptr_, self.seen_indices_, u)
        rated = rated[rated != i]
        if len(rated) == 0:
            return []
        vectors = self._scoring()["item_vectors"]
        q = host64(vectors[i])
        rows = host64(vectors[rated])
        norms = np.linalg.norm(rows, axis=1) * np.linalg.norm(q)
        cos = np.divide(rows @ q, norms, out=np.zeros(len(rated)), where=norms > 0)
        top = np.lexsort((rated, -cos))[:n]
        return [(int(rated[k]), float(cos[k])) for k in top]


def format_explanation(entries):
    """A short text form of ``explain``'s list (the CLI's ``recommend --explain``): the parts with signed
    contributions, then the similar rated items with their cosines, e.g. ``"trustee 42 +0.310, item bias +0.120;
    similar to rated 7 (0.61)"``."""
    words = {"bias": lambda e: f"{e['id']} bias", "user": lambda e: "own taste",
             "item": lambda e: f"rated item {e['id']}", "trustee": lambda e: f"trustee {e['id']}"}
    parts = [f"{words[e['kind']](e)} {e['contribution']:+.3f}" for e in entries if e["part"]]
    similar = [f"{e['id']} ({e['contribution']:.2f})" for e in entries if not e["part"]]
    text = ", ".join(parts)
    if similar:
        text += ("; " if text else "") + "similar to rated " + ", ".join(similar)
    return text


def sum_parts(kind, members, vectors, q):
    """Parts ``(kind, j, |N|^-½ v_j·q)`` of a normalised sum ``|N|^-½ Σ_{j∈N} v_j`` multiplied by ``q`` (SVD++'s
    rated items, TrustSVD's trustees)."""
    if len(members) == 0:
        return []
    values = (host64(vectors[members]) @ q) / np.sqrt(len(members))
    return [(kind, int(j), float(c)) for j, c in zip(members, values)]


def row_weights(graph, u, weights=None):
    """Row ``u`` of a host CSR ``graph`` as (neighbour indices, weights summing to 1): the stored values, or
    ``weights`` (one per stored entry of the row) when given; empty when they sum to nothing positive."""
    start, end = graph.indptr[u], graph.indptr[u + 1]
    neighbours = np.asarray(graph.indices[start:end], dtype=np.int64)
    w = np.asarray(graph.data[start:end] if weights is None else weights, dtype=np.float64)
    total = w.sum()
    if len(w) == 0 or not total > 0:
        return neighbours[:0], w[:0]
    return neighbours, w / total
