"""The training structures of a CUDA fit, built the way the code did before they were built on the device: on
the host, from the ``Dataset``, with the CPU path's helpers (``link_targets``, ``normalised_trust``,
``trust_csr``, the C++ ``edge_similarity``, ``interaction_arrays``, ``social_matrix``, ``csr_arrays``, ...),
then uploaded and shuffled by the same device helpers (``models.device.records`` / ``shuffled``).

``host_built_state(model, train)`` is that reference for a model that has been fitted on the device (it
reads ``seed_`` and ``global_bias``); ``captured_state(model, ...)`` fits the model with ``epochs=0`` and keeps
the state its ``_prepare_cuda`` built; ``assert_same_state`` compares the two: integer arrays (indices,
offsets, orders) exactly, float arrays to float64 rounding (a float64 sum on the device may add in another
order; a float32 value may then round one ulp apart). Used by tests/test_cuda_fake_device.py (NumPy as CuPy)
and tests/gpu/test_cuda_social.py (real CuPy).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

import socialrec as sr
from socialrec import _gpu
from socialrec.models import bpr, device, social_mf, sorec, svdpp, trustmf
from socialrec.models._social import row_normalised, trust_csr, unit_values
from socialrec.models.als import csr_arrays


def cuda_models(kind=None):
    """The registered model classes with CUDA kernels, by class name: the ``@register`` registry
    (``socialrec.models.base._REGISTRY``) filtered by ``DeviceMixin``. Every CUDA suite takes its model list
    from here, so that a model registered with CUDA kernels enters each of them. ``kind``: None (all), "sgd"
    (the SGD epochs of cuda/bind_<model>.cpp), "rating" (SGD on ratings), "ranking" (SGD on implicit
    feedback) or "als" (the conjugate-gradient row solves)."""
    from socialrec.models.base import _REGISTRY
    from socialrec.models.device import DeviceMixin
    from socialrec.models.ranking import RankingModel
    from socialrec.models.sgd import SGDModel

    def keep(cls):
        if not (issubclass(cls, DeviceMixin) and cls._cuda_kernels):
            return False
        sgd, ranking = issubclass(cls, SGDModel), issubclass(cls, RankingModel)
        return {None: True, "sgd": sgd, "rating": sgd and not ranking, "ranking": sgd and ranking,
                "als": not sgd}[kind]

    return {name: cls for name, cls in sorted(_REGISTRY.items()) if keep(cls)}


# The variants whose structures differ, by model (a model not listed runs once with its defaults).
VARIANTS = {
    # the social models' biased defaults and the papers' unbiased form (same structures, other hyper entries)
    "SoRec": {"SoRec": {}, "SoRec-unbiased": {"biased": False}},
    "SocialMF": {"SocialMF": {}, "SocialMF-unbiased": {"biased": False}},
    "TrustMF": {"TrustMF": {}, "TrustMF-unbiased": {"biased": False}},
    "SoReg": {"SoReg-SR2-pcc": {}, "SoReg-SR2-vss": {"similarity": "vss"}, "SoReg-SR2-none": {"similarity": None},
              "SoReg-SR1-pcc": {"regularizer": "SR1"}, "SoReg-SR2-unbiased": {"biased": False}},
    "RSTE": {"RSTE": {}, "RSTE-unbiased": {"biased": False}},
    "ALS": {"ALS": {"alpha": 4.0}},
    "SocialALS": {"SocialALS": {"alpha": 4.0}, "SocialALS-normalized": {"alpha": 4.0, "similarity": "normalized"}},
}
# Every model with CUDA kernels and its variants: (class, settings).
MODELS = {variant: (cls, params) for name, cls in cuda_models().items()
          for variant, params in VARIANTS.get(name, {name: {}}).items()}
IMPLICIT = {name: cls not in cuda_models("rating").values() for name, (cls, _) in MODELS.items()}


def with_split_rating(ratings):
    """``ratings`` as a scipy COO matrix (float64) with its first rating stored as two halves: device input
    whose duplicates the fit must sum, as scipy sums COO duplicates."""
    r = ratings.tocoo()
    rows, cols = np.append(r.row, r.row[0]), np.append(r.col, r.col[0])
    values = np.append(r.data, r.data[0] / 2).astype(np.float64)
    values[0] /= 2
    return sp.coo_matrix((values, (rows, cols)), shape=r.shape)


ANY = object()  # a value assert_same_state does not compare (uninitialised scratch)


def _host(x):
    return x.get() if hasattr(x, "get") else np.asarray(x)


def assert_same_state(got, expected, path="state"):
    """``got`` (device-built) equals ``expected`` (host-built): same keys, shapes and dtypes; integers exactly,
    floats to rtol 1e-12 (float64) / 2.4e-7 (float32, one ulp)."""
    if expected is ANY:
        return
    if isinstance(expected, dict):
        assert set(got) == set(expected), (path, sorted(got), sorted(expected))
        for key in expected:
            assert_same_state(got[key], expected[key], f"{path}[{key!r}]")
        return
    if not hasattr(expected, "dtype") or np.ndim(expected) == 0:
        assert got == expected, (path, got, expected)
        return
    g, e = _host(got), _host(expected)
    assert g.dtype == e.dtype and g.shape == e.shape, (path, g.dtype, e.dtype, g.shape, e.shape)
    if e.dtype.kind == "f":
        rtol = 1e-12 if e.dtype == np.float64 else 2.4e-7
        np.testing.assert_allclose(g, e, rtol=rtol, atol=0, err_msg=path)
    else:
        np.testing.assert_array_equal(g, e, err_msg=path)


def captured_state(model, ratings, trust=None):
    """Fit ``model`` (device="cuda") with epochs=0 on ``ratings`` (and ``trust``) and return the state its
    ``_prepare_cuda`` built."""
    captured = {}
    prepare = model._prepare_cuda

    def keep(train):
        captured["state"] = prepare(train)
        return captured["state"]

    model._prepare_cuda = keep
    try:
        model.set_params(epochs=0).fit(ratings, trust=trust)
    finally:
        del model._prepare_cuda
    return captured["state"]


def _ratings(model, train, salt=0):
    users, items, values = train.user_item_arrays()
    return device.records(model.seed_, salt, users, items, unit_values(values, train.rating_scale))


def _groups(model, train):
    """SVD++'s user groups; the old code built them on the device already, from the uploaded ratings."""
    return svdpp.SVDpp._group_state(model, _gpu.DeviceRatings.from_dataset(train))


def host_built_state(model, train):
    """The ``_prepare_cuda`` state of the fitted CUDA ``model`` as built on the host from the Dataset ``train``."""
    cp = _gpu.cupy_module()
    name, seed = type(model).__name__, model.seed_
    loss = {"SoRec": 2, "SocialMF": 2, "TrustMF": 2, "SoReg": 2, "TrustSVD": 2}.get(name, 1)
    state = {} if name in ("ALS", "SocialALS") else {"loss": cp.zeros(loss, dtype=cp.float64)}
    if name in ("SoRec", "SocialMF", "SoReg", "TrustSVD", "TrustMF", "RSTE"):
        state["hyper"] = model._hyper()
    if name == "SoRec":
        src, dst, target = sorec.link_targets(train.trust)
        state.update(ratings=_ratings(model, train), links=device.records(seed, 1, src, dst, target.astype(np.float32)))
    elif name == "SocialMF":
        offsets, trustees, weights = social_mf.normalised_trust(train.trust)
        state.update(ratings=_ratings(model, train), trust=device.mean_pull_state(seed, 2, offsets, trustees, weights))
    elif name == "TrustMF":
        src, dst, t = train.trust_arrays()
        state.update(ratings=_ratings(model, train), trust=device.records(seed, 1, src, dst, trustmf.trust_targets(t)))
    elif name == "SoReg":
        sim = model._edge_similarity(train)  # the C++ kernel
        users, items, values = train.user_item_arrays()
        mu = float(model.parameters_["global_bias"])
        state["ratings"] = device.records(seed, 0, users, items, (values.astype(np.float64) - mu).astype(np.float32))
        keep = sim > 0
        if model.regularizer == "SR2":
            src, dst, _ = train.trust_arrays()
            state["edges"] = device.records(seed, 1, src[keep], dst[keep], sim[keep].astype(np.float32))
        else:
            offsets, trust_dst, trust_sim = trust_csr(train.trust, keep=keep, weights=sim)
            state["users"] = device.mean_pull_state(seed, 2, offsets, trust_dst, row_normalised(offsets, trust_sim))
    elif name == "RSTE":
        offsets, dst, weight = trust_csr(train.trust)
        weight = row_normalised(offsets, weight)
        groups = _groups(model, train)  # RSTE's groups are SVD++'s (same salts), with r~ for r
        groups["values"] = cp.asarray(unit_values(_host(groups["values"]), train.rating_scale))
        state.update(groups, trust_offsets=cp.asarray(offsets), trustees=cp.asarray(dst),
                     trust_weights=cp.asarray(weight.astype(np.float32)))
    elif name == "SVDpp":
        state.update(groups=_groups(model, train), hyper=model._hyper())
    elif name == "TrustSVD":
        trust = model._trust_state(train)
        src, dst, values = train.trust_arrays()
        rng = np.random.default_rng([int(seed) % (1 << 63), 5])
        order = np.lexsort((rng.random(len(src)), src))
        (trusters,) = device.shuffled(seed, 4, trust["trusters"])
        state.update(groups=_groups(model, train), trust={
            "offsets": cp.asarray(trust["trust_offsets"]), "trustees": cp.asarray(trust["trustees"]),
            "item_weight": cp.asarray(trust["item_weight"].astype(np.float32)),
            "trustee_weight": cp.asarray(trust["trustee_weight"].astype(np.float32)), "trusters": trusters,
            "link_trustees": cp.asarray(dst[order]), "link_values": cp.asarray(values[order].astype(np.float32))})
    elif name in ("BPR", "SBPR"):
        arrays = bpr.interaction_arrays(train.ratings)
        if name == "SBPR":
            arrays.update(model._social_arrays(train))
        state.update(arrays={k: cp.asarray(v) for k, v in arrays.items()}, n_pool=int(len(arrays["pool_users"])),
                     hyper=model._hyper())
    elif name in ("ALS", "SocialALS"):
        def csr(matrix):
            a = csr_arrays(matrix, "m")
            rows = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(a["m_indptr"]))
            return {"indptr": cp.asarray(a["m_indptr"]), "indices": cp.asarray(a["m_indices"]),
                    "values": cp.asarray(a["m_values"]), "rows": cp.asarray(rows)}

        state.update(user_items=csr(train.ratings), item_users=csr(train.ratings.T.tocsr()),
                     row_loss=ANY, graph=None, hyper=model._hyper())
        if name == "SocialALS":
            state["graph"] = csr(model._similarity(train.trust))
    else:
        raise ValueError(f"no host reference for {name}")
    return state
