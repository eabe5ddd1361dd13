"""Each model's fold-in terms: the part of its own objective (the class docstrings, DESIGN §4) that involves one
folded row, every other parameter fixed, written as ``reference.fold_in.RowProblem`` blocks.

One table, by model class name (a subclass finds its base's entry): ``USER[name](model, fold, params, j, u)`` and
``ITEM[name](...)`` return the blocks of folded row ``u`` (``j``: its position in ``fold.rows``), each a
``(RowProblem, slots)`` whose slots name the parameter entries its coordinates are (``(array, row, columns)``,
columns None for a bias). ``params`` holds the parameters as float64 arrays, grown with zero rows for the new ids.
A model's objective sums its L2 penalties over the observations that carry them (DESIGN §4): a row with n
ratings carries n·λ, so a row with no observation at all has a zero objective and stays 0 (its least-norm
minimiser) -- except where a social term gives it one.

What the fitted model does not keep, and how fold-in stands in for it (documented in the user guide):
SoReg's Sim of an edge to a known user is 1 (the model keeps no rating values to compute PCC/VSS from);
TrustMF's largest trust value, SocialALS's ``normalized``
degrees and ALS's ``epsilon=None`` scale are counted on the observations given; SocialMF's term of a known
truster (which needs its other trustees) is left out; SBPR's item fold-in uses BPR's item terms.
SoRec's link targets c* use the training degrees that fit keeps (``trust_degree_``) plus the given edges.
Imports: leaves only (the model modules import ``base``, which imports the fold-in machinery).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._arrays import inverse_sqrt
from . import _confidence
from ..reference.fold_in import RowProblem
from ._social import unit_values


# --------------------------------------------------------------------------------------------------------
# shared building blocks
# --------------------------------------------------------------------------------------------------------
def _ratings(fold, j):
    r = fold.ratings
    return r.indices[r.indptr[j]:r.indptr[j + 1]], r.data[r.indptr[j]:r.indptr[j + 1]]


def _with_bias(X, biased):
    return np.hstack([X, np.ones((len(X), 1))]) if biased else X


def _rating_block(factors, bias, u, X, offsets, targets, kind, lam_x, lam_b, k):
    """The rating part of a row: θ = [x (k), b] (b when ``bias`` names a bias array), rows ``ℓ(t, o + b + x·X_i)``,
    penalties ½ lam_x ‖x‖² + ½ lam_b b² (already summed over the observations)."""
    biased = bias is not None
    prob = RowProblem(k + biased)
    prob.add_rows(kind, _with_bias(X, biased), offsets, targets)
    prob.add_ridge(lam_x, slice(0, k))
    if biased:
        prob.add_ridge(lam_b, k)
    slots = [(factors, u, slice(None))] + ([(bias, u, None)] if biased else [])
    return prob, slots


def _link_rows(prob, Z, targets, weight, kind, k):
    """Edge rows ``weight ℓ(t, x·Z_e)`` on the factor coordinates (no bias: the link terms have none)."""
    A = np.zeros((len(Z), prob.dim))
    A[:, :k] = Z
    prob.add_rows(kind, A, 0.0, targets, weight)


def _biased(model, params):
    return bool(getattr(model, "biased", True)) and "user_bias" in params


def _mean_pull(prob, beta, trustees, weights, U, k):
    """½ β ‖x − Σ_v T_uv U_v‖² (T row-normalised ``weights``): SocialMF's term of u, SoReg SR1's."""
    if len(trustees):
        T = weights / weights.sum()
        prob.add_pull(beta, T @ U[trustees], slice(0, k))


def _truster_terms(prob, beta, fold, u, U, k):
    """The mean-pull terms of folded trusters v → u: ½ β ‖U_v − Σ_w T_vw U_w‖² holds x_u with coefficient T_vu,
    so it is ½ β T_vu² ‖x_u − (U_v − Σ_{w≠u} T_vw U_w) / T_vu‖². Only trusters that are folded too (a known
    truster's other trustees are not kept by the model)."""
    for v in fold.in_edges(u)[0]:
        if not fold.folded[v]:
            continue
        dst, w = fold.out_edges(v)
        T = w / w.sum()
        c = float(T[dst == u][0])
        rest = T[dst != u] @ U[dst[dst != u]] if np.any(dst != u) else np.zeros(k)
        prob.add_pull(beta * c * c, (U[v] - rest) / c, slice(0, k))


def _unit(model, values):
    return unit_values(values, model.rating_scale_).astype(np.float64)


# --------------------------------------------------------------------------------------------------------
# users
# --------------------------------------------------------------------------------------------------------
def _user_biased_mf(model, fold, params, j, u):
    """BiasedMF / PMF: ridge over [p_u, b_u] on r − μ − b_i (closed form)."""
    items, r = _ratings(fold, j)
    n, k, biased = len(items), model.factors, model.biased
    mu = float(params["global_bias"]) if biased else 0.0
    offsets = mu + (params["item_bias"][items] if biased else 0.0)
    scale = _penalty_total(model, n)
    return [_rating_block("user_factors", "user_bias" if biased else None, u, params["item_factors"][items], offsets,
                          r, "square", model.regularization * scale, model.bias_regularization * scale, k)]


def _penalty_total(model, n):
    """How many λ a row with n ratings carries in all: n (every rating carries λ), √n (TrustSVD's |·|^-½ per
    rating; BiasedMF's ``regularization_scaling="sqrt_count"``) or 1 (``"count"``: one penalty per row)."""
    scaling = getattr(model, "regularization_scaling", "sqrt_count" if type(model).__name__ == "TrustSVD"
                      else "occurrence")
    return {"occurrence": n, "sqrt_count": np.sqrt(n), "count": 1.0 if n else 0.0}[scaling]


def _implicit_sum(params, seen_items):
    return inverse_sqrt([len(seen_items)])[0] * params["implicit_factors"][seen_items].sum(axis=0)


def _trust_sum(params, trustees):
    return inverse_sqrt([len(trustees)])[0] * params["trustee_factors"][trustees].sum(axis=0)


def _user_svdpp(model, fold, params, j, u, trust=False):
    """SVD++ (and TrustSVD's rating part): p_u and b_u given the implicit sum |N(u)|^-½ Σ y_j over the user's
    seen items (and TrustSVD's |T_u|^-½ Σ w_v), a ridge (closed form). TrustSVD weighs the penalties by
    |I_u|^-½ per rating and adds λ_t Σ_v ½ (t_uv − p_u·w_v)² + ½ λ_t |T_u|^-½ ‖p_u‖² per edge."""
    items, r = _ratings(fold, j)
    n, k = len(items), model.factors
    z = _implicit_sum(params, fold.seen_items(u))
    trustees, t = fold.out_edges(u)
    if trust:
        z = z + _trust_sum(params, trustees)
    Q = params["item_factors"][items]
    offsets = float(params["global_bias"]) + params["item_bias"][items] + Q @ z
    scale = _penalty_total(model, n)  # Σ over the n ratings of the per-rating weight (|I_u|^-½ in TrustSVD)
    prob, slots = _rating_block("user_factors", "user_bias", u, Q, offsets, r, "square",
                                model.regularization * scale, model.bias_regularization * scale, k)
    if trust and len(trustees):
        lam_t = model.social_regularization
        _link_rows(prob, params["trustee_factors"][trustees], t, lam_t, "square", k)
        prob.add_ridge(lam_t * np.sqrt(len(trustees)), slice(0, k))
    return [(prob, slots)]


def _user_trustsvd(model, fold, params, j, u):
    return _user_svdpp(model, fold, params, j, u, trust=True)


def _logistic_rating_block(model, fold, params, j, u, factors="user_factors", items_name="item_factors",
                           bias="user_bias", item_bias="item_bias"):
    items, r = _ratings(fold, j)
    n, k = len(items), model.factors
    biased = _biased(model, params)
    offsets = float(params["global_bias"]) + (params[item_bias][items] if biased else 0.0)
    return _rating_block(factors, bias if biased else None, u, params[items_name][items], offsets, _unit(model, r),
                         "logistic", model.regularization * _penalty_total(model, n),
                         model.bias_regularization * _penalty_total(model, n), k)


def _link_target(model, fold, src, dst):
    """SoRec's c*_uk = sqrt(d⁻(k) / (d⁺(u) + d⁻(k))) (Ma et al. CIKM 2008 eq. 8): the training degrees
    (``trust_degree_``, kept by fit; a model loaded from an older file has none) plus the given edges. A
    private fit trained every edge to 1 (reference/dp_sorec.py) and kept no degrees: 1."""
    if getattr(model, "privacy_", None) is not None:
        return 1.0
    d_out = np.count_nonzero(fold.src == src)
    d_in = np.count_nonzero(fold.dst == dst)
    degree = getattr(model, "trust_degree_", None)
    if degree is not None:
        d_out += int(degree[0, src]) if src < degree.shape[1] else 0
        d_in += int(degree[1, dst]) if dst < degree.shape[1] else 0
    return np.sqrt(d_in / (d_out + d_in))


def _user_sorec(model, fold, params, j, u):
    """SoRec: U_u (and b_u) from the logistic ratings plus λ_c Σ_k ½ (c*_uk − g(U_u·Z_k))² + ½ λ_c λ ‖U_u‖² per
    out-edge; the link row Z_u from the in-edges likewise (damped Newton, at most MAX_STEPS)."""
    k, lam, lam_c = model.factors, model.regularization, model.social_regularization
    prob, slots = _logistic_rating_block(model, fold, params, j, u)
    trustees, _ = fold.out_edges(u)
    if len(trustees):
        targets = np.array([_link_target(model, fold, u, v) for v in trustees])
        _link_rows(prob, params["link_factors"][trustees], targets, lam_c, "logistic", k)
        prob.add_ridge(lam_c * lam * len(trustees), slice(0, k))
    blocks = [(prob, slots)]
    trusters, _ = fold.in_edges(u)
    if len(trusters):
        link = RowProblem(k)
        targets = np.array([_link_target(model, fold, v, u) for v in trusters])
        link.add_rows("logistic", params["user_factors"][trusters], 0.0, targets, lam_c)
        link.add_ridge(lam_c * lam * len(trusters), slice(None))
        blocks.append((link, [("link_factors", u, slice(None))]))
    return blocks


def _user_social_mf(model, fold, params, j, u):
    """SocialMF: the logistic ratings plus ½ β ‖U_u − Σ_v T_uv U_v‖² (Jamali & Ester 2010 eq. 6) and the terms
    of folded trusters (damped Newton, at most MAX_STEPS)."""
    prob, slots = _logistic_rating_block(model, fold, params, j, u)
    trustees, w = fold.out_edges(u)
    _mean_pull(prob, model.social_regularization, trustees, w, params["user_factors"], model.factors)
    _truster_terms(prob, model.social_regularization, fold, u, params["user_factors"], model.factors)
    return [(prob, slots)]


def _user_soreg(model, fold, params, j, u):
    """SoReg (Ma et al. WSDM 2011): ridge over [U_u, b_u] on r − μ − b_i plus SR2's ½ β Sim ‖U_u − U_f‖² for
    every edge of u in either direction (eq. 11), or SR1's ½ β ‖U_u − mean of u's friends‖² (eq. 6) and the
    terms of folded users who trust u; Sim = 1 (closed form)."""
    items, r = _ratings(fold, j)
    n, k, biased = len(items), model.factors, model.biased
    offsets = float(params["global_bias"]) + (params["item_bias"][items] if biased else 0.0)
    prob, slots = _rating_block("user_factors", "user_bias" if biased else None, u, params["item_factors"][items],
                                offsets, r, "square", model.regularization * _penalty_total(model, n),
                                model.bias_regularization * _penalty_total(model, n), k)
    U, beta = params["user_factors"], model.social_regularization
    if model.regularizer == "SR2":
        for f in np.concatenate([fold.out_edges(u)[0], fold.in_edges(u)[0]]):
            prob.add_pull(beta, U[f], slice(0, k))
    else:
        trustees, _ = fold.out_edges(u)
        _mean_pull(prob, beta, trustees, np.ones(len(trustees)), U, k)
        _truster_terms(prob, beta, fold, u, U, k)
    return [(prob, slots)]


def _user_rste(model, fold, params, j, u):
    """RSTE (Ma et al. SIGIR 2009): x_ui = b + b_u + b_i + (α U_u + (1 − α) Σ_v S_uv U_v)·V_i; U_u and b_u from
    the logistic ratings, ½ λ ‖U_u‖² + ½ λ_b b_u² per rating (damped Newton, at most MAX_STEPS). A user with
    trustees and no rating keeps U_u = 0 and is scored through the ensemble's trustee part."""
    items, r = _ratings(fold, j)
    n, k, biased = len(items), model.factors, _biased(model, params)
    V = params["item_factors"][items]
    trustees, w = fold.out_edges(u)
    alpha = float(model.alpha) if len(trustees) else 1.0
    social = (1.0 - alpha) * ((w / w.sum()) @ params["user_factors"][trustees]) if len(trustees) else np.zeros(k)
    offsets = float(params["global_bias"]) + (params["item_bias"][items] if biased else 0.0) + V @ social
    scale = _penalty_total(model, n)
    return [_rating_block("user_factors", "user_bias" if biased else None, u, alpha * V, offsets, _unit(model, r),
                          "logistic", model.regularization * scale, model.bias_regularization * scale, k)]


def _trust_values(fold, weights):
    """TrustMF's t = value / largest value (over the given edges)."""
    top = float(np.max(fold.weights)) if len(fold.weights) else 1.0
    return weights / (top if top > 0 else 1.0)


def _user_trustmf(model, fold, params, j, u):
    """TrustMF (Yang et al. IJCAI 2013): the four rows of u, each a logistic row problem with the others fixed:
    truster B_u (ratings with V, out-edges with W), trustee W'_u (ratings with V', in-edges with B'), W_u
    (in-edges with B) and B'_u (out-edges with W'); λ per observation, λ_T on the edge terms."""
    k, lam, lam_t = model.factors, model.regularization, model.trust_regularization
    trustees, wo = fold.out_edges(u)
    trusters, wi = fold.in_edges(u)
    to, ti = _trust_values(fold, wo), _trust_values(fold, wi)
    truster, s1 = _logistic_rating_block(model, fold, params, j, u)
    _link_rows(truster, params["trustee_factors"][trustees], to, lam_t, "logistic", k)
    truster.add_ridge(lam * len(trustees), slice(0, k))
    trustee, s2 = _logistic_rating_block(model, fold, params, j, u, "trustee_user_factors", "trustee_item_factors",
                                         "trustee_user_bias", "trustee_item_bias")
    _link_rows(trustee, params["trustee_truster_factors"][trusters], ti, lam_t, "logistic", k)
    trustee.add_ridge(lam * len(trusters), slice(0, k))
    blocks = [(truster, s1), (trustee, s2)]
    for name, others, t, rows in (("trustee_factors", "user_factors", ti, trusters),
                                  ("trustee_truster_factors", "trustee_user_factors", to, trustees)):
        if len(rows):
            prob = RowProblem(k)
            prob.add_rows("logistic", params[others][rows], 0.0, t, lam_t)
            prob.add_ridge(lam * len(rows), slice(None))
            blocks.append((prob, [(name, u, slice(None))]))
    return blocks


def _user_bpr(model, fold, params, j, u, social=False):
    """BPR (Rendle et al. 2009): p_u minimising the expected epoch objective over all (positive, negative)
    pairs, Σ_i 1/|J_u| Σ_j −ln σ(x_ui − x_uj) + ½ λ |P_u| ‖p_u‖² (the class's ``loss``), by damped Newton (at
    most MAX_STEPS). SBPR adds its social items SP_u (consumed by u's trustees, s_uk of them each, Zhao et
    al. 2014 eq. 7-8) mixed with weight α as in its class docstring."""
    k, n_items = model.factors, fold.n_items
    Q, b = params["item_factors"], params["item_bias"]
    own = np.unique(_ratings(fold, j)[0] if not len(fold.seen_items(u)) else fold.seen_items(u))
    prob = RowProblem(k)
    slots = [("user_factors", u, slice(None))]
    if not len(own) or len(own) >= n_items:
        return [(prob, slots)]
    prob.add_ridge(model.regularization * len(own), slice(None))
    rest = np.setdiff1d(np.arange(n_items), own)
    counts = np.zeros(n_items)
    if social:
        for f in fold.out_edges(u)[0]:
            counts[fold.seen_items(f)] += 1
        counts[own] = 0
    soc = np.flatnonzero(counts > 0)
    if not len(soc) or len(own) + len(soc) >= n_items:  # BPR's pair term
        prob.add_pairs(1.0 / len(rest), Q[own], b[own], Q[rest], b[rest])
        return [(prob, slots)]
    alpha = float(model.social_weight)
    neither = np.setdiff1d(rest, soc)
    prob.add_pairs(alpha / len(soc), Q[own], b[own], Q[soc], b[soc], 1.0 / (1.0 + counts[soc]))
    prob.add_pairs(alpha * len(own) / (len(soc) * len(neither)), Q[soc], b[soc], Q[neither], b[neither])
    prob.add_pairs((1.0 - alpha) / len(neither), Q[own], b[own], Q[neither], b[neither])
    return [(prob, slots)]


def _user_sbpr(model, fold, params, j, u):
    return _user_bpr(model, fold, params, j, u, social=True)


def _wrmf_block(model, fold, params, j, row, factors, others):
    """WRMF's row solve (Hu et al. 2008 eq. 4), in the ½-form of the objective: ½ Σ_j w_j (t_j − y_j·x)² over
    every row y_j of the other side, w_j = 2 c_j (c = 1 + α w on the given entries, 1 elsewhere), t = 1 on the
    given entries and 0 elsewhere, plus ½ 2λ ‖x‖². Written without a row per item (implicit's trick): the sum
    is xᵀ G x + Σ_given [(c − 1) z² − 2 c z + c] with z = y·x and G = YᵀY, the Gramian of the whole other side,
    computed once per fold-in (``fold.cache``). So a row costs O(k² |given|), not O(k² |items|)."""
    cols, values = _ratings(fold, j)
    key = ("float64", others)  # a float32 model's factors, cast once (the sums below are float64)
    if key not in fold.cache:
        fold.cache[key] = np.asarray(params[others], dtype=np.float64)
        fold.cache[("gramian", others)] = fold.cache[key].T @ fold.cache[key]
    Y = fold.cache[key]
    prob = RowProblem(model.factors)
    R = 2.0 * fold.cache[("gramian", others)]
    if len(cols):
        # c as the per-item form computed it (in the weights' dtype), then summed in float64
        c = np.asarray(1.0 + model.alpha * _confidence.weights(values, model.confidence, model.epsilon), np.float64)
        Yg = Y[cols]
        R = R + 2.0 * (Yg.T * (c - 1.0)) @ Yg
        prob.add_quadratic(R, 2.0 * Yg.T @ c)
        prob.const += float(np.sum(c))
    else:
        prob.add_quadratic(R)
    prob.add_ridge(2.0 * model.regularization, slice(None))
    return prob, [(factors, row, slice(None))]


def _user_als(model, fold, params, j, u):
    """ALS: the exact WRMF row solve with the items fixed (closed form)."""
    return [_wrmf_block(model, fold, params, j, u, "user_factors", "item_factors")]


def _user_social_als(model, fold, params, j, u):
    """SocialALS: the WRMF row solve plus β Σ_f S_uf ‖x_u − x_f‖² (its docstring's derivation), S = (B + Bᵀ)/2
    over the given edges (closed form)."""
    prob, slots = _wrmf_block(model, fold, params, j, u, "user_factors", "item_factors")
    friends = np.concatenate([fold.out_edges(u)[0], fold.in_edges(u)[0]])
    if model.similarity == "normalized":
        degree = lambda v: 0.5 * (np.count_nonzero(fold.src == v) + np.count_nonzero(fold.dst == v))  # noqa: E731
    for f in friends:  # each stored direction weighs ½ in S_uf
        s = 0.5 if model.similarity == "edges" else 0.5 / np.sqrt(degree(u) * degree(f))
        prob.add_pull(2.0 * model.social_regularization * s, params["user_factors"][f])
    return [(prob, slots)]


# --------------------------------------------------------------------------------------------------------
# items
# --------------------------------------------------------------------------------------------------------
def _item_rating(model, fold, params, j, i):
    """A rating model's item row: [q_i, b_i] from the item's ratings with the users' scoring vectors fixed
    (their implicit and trust sums included), the model's link and per-rating penalties (TrustSVD: |U_i|^-½
    per rating); closed form for identity links, damped Newton for the logistic ones. The trust graph does
    not touch items."""
    users, r = _ratings(fold, j)
    n, k = len(users), model.factors
    parts = model._scoring()
    U = np.asarray(parts["user_vectors"], dtype=np.float64)[users]
    bias = "item_bias" if ("item_bias" in params and getattr(model, "biased", True)) else None
    offsets = float(parts["global_bias"]) + np.asarray(parts["user_bias"], dtype=np.float64)[users]
    logistic = model._link == "logistic"
    scale = _penalty_total(model, n)
    return [_rating_block("item_factors", bias, i, U, offsets, _unit(model, r) if logistic else r,
                          "logistic" if logistic else "square", model.regularization * scale,
                          model.bias_regularization * scale, k)]


def _item_trustmf(model, fold, params, j, i):
    """TrustMF: V_i (+ c_i) with the trusters B fixed, V'_i (+ c'_i) with the trustees W' fixed."""
    users, r = _ratings(fold, j)
    n, k, biased = len(users), model.factors, _biased(model, params)
    out = []
    for factors, bias, users_name, user_bias in (("item_factors", "item_bias", "user_factors", "user_bias"),
                                                 ("trustee_item_factors", "trustee_item_bias",
                                                  "trustee_user_factors", "trustee_user_bias")):
        offsets = float(params["global_bias"]) + (params[user_bias][users] if biased else 0.0)
        out.append(_rating_block(factors, bias if biased else None, i, params[users_name][users], offsets,
                                 _unit(model, r), "logistic", model.regularization * _penalty_total(model, n),
                                 model.bias_regularization * _penalty_total(model, n), k))
    return out


def _item_bpr(model, fold, params, j, i):
    """BPR's item row [q_i, b_i]: the expected objective's terms holding item i, as a positive of its users
    (1/|J_u| Σ_j −ln σ(x_ui − x_uj)) and as a negative of every other user with positives
    (1/|J_u| Σ_{i'∈P_u} −ln σ(x_ui' − x_ui)), with their penalties (damped Newton, at most MAX_STEPS)."""
    k, n_items = model.factors, fold.n_items
    U, Q, b = params["user_factors"], params["item_factors"], params["item_bias"]
    indptr, indices = fold.seen
    n_own = np.diff(indptr)
    in_pool = (n_own > 0) & (n_own < n_items)
    owners = np.flatnonzero(in_pool & np.isin(np.arange(len(n_own)), _ratings(fold, j)[0]))
    prob = RowProblem(k + 1)
    lam, lam_b = model.regularization, model.bias_regularization
    for u in owners:  # i as a positive of u: against every item u did not consume
        neg = np.setdiff1d(np.arange(n_items), indices[indptr[u]:indptr[u + 1]])
        x = Q[neg] @ U[u] + b[neg]
        prob.add_rows("softplus", np.tile(np.append(U[u], 1.0), (len(neg), 1)), -x, 0.0, 1.0 / len(neg))
        prob.add_ridge(lam, slice(0, k))
        prob.add_ridge(lam_b, k)
    others = np.flatnonzero(in_pool & ~np.isin(np.arange(len(n_own)), owners))
    rows = np.repeat(others, n_own[others])
    pos = np.concatenate([indices[indptr[u]:indptr[u + 1]] for u in others]) if len(others) else np.zeros(0, int)
    n_neg = (n_items - n_own[rows]).astype(np.float64)
    x = np.einsum("ij,ij->i", U[rows], Q[pos]) + b[pos]
    prob.add_rows("softplus", -np.hstack([U[rows], np.ones((len(rows), 1))]), x, 0.0, 1.0 / n_neg)
    share = np.sum(1.0 / n_neg)  # i's penalty as a negative: 1/|J_u| per positive of u
    prob.add_ridge(lam * share, slice(0, k))
    prob.add_ridge(lam_b * share, k)
    return [(prob, [("item_factors", i, slice(None)), ("item_bias", i, None)])]


def _item_als(model, fold, params, j, i):
    """ALS / SocialALS item row: the exact WRMF solve with the users fixed (the graph term holds users only)."""
    return [_wrmf_block(model, fold, params, j, i, "item_factors", "user_factors")]


# --------------------------------------------------------------------------------------------------------
# the table
# --------------------------------------------------------------------------------------------------------
USER = {"BiasedMF": _user_biased_mf, "SVDpp": _user_svdpp, "TrustSVD": _user_trustsvd, "SoRec": _user_sorec,
        "SocialMF": _user_social_mf, "SoReg": _user_soreg, "RSTE": _user_rste, "TrustMF": _user_trustmf,
        "BPR": _user_bpr, "SBPR": _user_sbpr, "ALS": _user_als, "SocialALS": _user_social_als}
ITEM = {"BiasedMF": _item_rating, "SVDpp": _item_rating, "TrustSVD": _item_rating, "SoRec": _item_rating,
        "SocialMF": _item_rating, "SoReg": _item_rating, "RSTE": _item_rating, "TrustMF": _item_trustmf,
        "BPR": _item_bpr, "SBPR": _item_bpr, "ALS": _item_als, "SocialALS": _item_als}
# parameter arrays with one row per user / per item (grown by fold-in); everything else is per model
USER_ARRAYS = ("user_factors", "user_bias", "link_factors", "trustee_factors", "trustee_user_factors",
               "trustee_truster_factors", "trustee_user_bias")
ITEM_ARRAYS = ("item_factors", "item_bias", "implicit_factors", "trustee_item_factors", "trustee_item_bias")


def _entry(table, model):
    """The row-terms function of ``model`` for ``table``'s side: the class's own ``_fold_in_rows[side]`` when it
    defines one (a new model writes its fold-in terms in its own module), else this module's entry for the
    class or its nearest registered base."""
    own = getattr(type(model), "_fold_in_rows", None) or {}
    side = "user" if table is USER else "item"
    if side in own:
        return own[side]
    for cls in type(model).__mro__:
        if cls.__name__ in table:
            return table[cls.__name__]
    raise NotImplementedError(f"{type(model).__name__} has no fold-in (models/_fold_in_models.py)")


def row_arrays(model, side):
    """The names of the model's parameter arrays indexed by ``side``."""
    names = USER_ARRAYS if side == "user" else ITEM_ARRAYS
    return [n for n in names if n in model.parameters_]


def row_blocks(model, fold, params, j, row):
    """The blocks of folded row ``row`` (position ``j``)."""
    return _entry(USER if fold.side == "user" else ITEM, model)(model, fold, params, j, row)


def grown_fitted(model, fold):
    """The model's fitted non-parameter arrays grown by the fold, as {attribute: value}: the trust CSR of the
    models that keep one (TrustSVD, RSTE; ``_grown_trust``) and SoRec's trust degrees (given edges added)."""
    out = {}
    if "trust_indptr_" in model._FIT_ARRAYS:
        csr = _grown_trust(model, fold)
        out["trust_indptr_"] = np.asarray(csr.indptr, dtype=np.asarray(model.trust_indptr_).dtype)
        out["trust_indices_"] = np.asarray(csr.indices, dtype=np.asarray(model.trust_indices_).dtype)
        if "trust_weight_" in model._FIT_ARRAYS:
            out["trust_weight_"] = np.asarray(csr.data, dtype=np.asarray(model.trust_weight_).dtype)
    degree = getattr(model, "trust_degree_", None)
    if degree is not None:
        grown = np.zeros((2, fold.n_users), np.int64)
        grown[:, :degree.shape[1]] = degree
        np.add.at(grown[0], fold.src, 1)
        np.add.at(grown[1], fold.dst, 1)
        out["trust_degree_"] = grown
    return out


def _grown_trust(model, fold):
    """The fitted trust CSR grown to the new users: a folded user's stored out-edges are the given ones (RSTE:
    row-normalised weights); edges of known trusters are not stored (models/_fold_in.py)."""
    n_old, n = model.n_users_, fold.n_users
    weighted = "trust_weight_" in model._FIT_ARRAYS
    indptr, indices = np.asarray(model.trust_indptr_, np.int64), np.asarray(model.trust_indices_)
    old_w = np.asarray(model.trust_weight_, np.float64) if weighted else np.ones(len(indices))
    mine = np.isin(fold.src, fold.rows) if fold.side == "user" else np.zeros(0, bool)
    src, dst, w = fold.src[mine], fold.dst[mine], fold.weights[mine]
    if weighted and len(src):
        w = w / np.bincount(src, weights=w, minlength=n)[src]
    if fold.side != "user" or np.all(fold.rows >= n_old):  # new users only: their rows are appended
        order = np.lexsort((dst, src))
        counts = np.bincount(src - n_old, minlength=n - n_old) if len(src) else np.zeros(n - n_old, np.int64)
        return sp.csr_matrix((np.concatenate([old_w, w[order]]), np.concatenate([indices, dst[order]]),
                              np.concatenate([indptr, indptr[-1] + np.cumsum(counts)])), shape=(n, n))
    old = sp.csr_matrix((old_w, indices, indptr), shape=(n_old, n_old))
    old.resize((n, n))
    replaced = np.zeros(n)
    replaced[np.unique(src)] = 1.0
    keep = sp.diags(1.0 - replaced) @ old
    given = sp.csr_matrix((w if weighted else np.ones(len(src)), (src, dst)), shape=(n, n))
    out = (keep + given).tocsr()
    out.eliminate_zeros()
    out.sort_indices()
    return out
