"""The CUDA kernels' per-update math, checked on the CPU (no GPU needed): ``socialrec._cuda.host_*`` replay a
list of updates serially with exactly the functions the kernels call (cuda/steps.hpp, ``__host__
__device__``), and each replay is compared with the CPU model's own kernel (``socialrec._core``) on the same
records in the same order, in float32. The CPU epoch runs deterministically on single-block grids, whose
passes shuffle their record lists in place, so after the epoch those lists hold the order it visited.

Tolerance: the replays reduce dot products serially, the CPU kernels with SIMD lanes (and FMA contraction
may differ), so parameters agree to float32 rounding accumulated over one epoch: rtol 2e-4, atol 2e-6 on
the parameters and rtol 1e-5 on the epoch loss. A wrong coefficient, sign or term is off by orders of
magnitude more. The device sampler (counter-based streams, rejection against sorted rows) is checked
against a plain-Python re-implementation and for the sampling rules.
"""
from __future__ import annotations

import numpy as np
import pytest

import socialrec as sr
from socialrec import _backend, _core, _engine
from socialrec.models import _social
from socialrec.reference import _rng
from socialrec.reference import bpr as ref_bpr
from socialrec.reference import sgd as ref_sgd
from device_structures import cuda_models
from fake_cupy import wrap

pytestmark = pytest.mark.skipif(_backend.cuda_module() is None, reason="socialrec was built without CUDA")

RTOL, ATOL, LOSS_RTOL = 2e-4, 2e-6, 1e-5
SEED = 5


@pytest.fixture(scope="module")
def mod():
    return _backend.cuda_module()


@pytest.fixture(scope="module")
def data():
    return sr.datasets.synthetic(n_users=120, n_items=80, density=0.08, trust_per_user=5, seed=3)


def one_block(grid):
    """The grid's records as one block: the pass shuffles them in place and visits them in that order."""
    records = np.ascontiguousarray(grid["records"]).copy()
    return {"records": records, "offsets": np.array([0, len(records)], dtype=np.int64), "blocks": 1}


def cpu_epoch(model, train, regrid):
    """Initial parameters (a copy), the state after one deterministic CPU epoch (its record lists now in
    visiting order), the epoch loss, and the parameters after it."""
    model.fit(train)  # epochs=0: the initial parameters only
    start = {k: np.array(v, copy=True) for k, v in model.parameters_.items()}
    state = model._prepare(train)
    regrid(state)
    loss = model._run_epoch(state, _engine.pass_settings(SEED, 0, 1, deterministic=True))
    return start, state, loss, model.parameters_


def assert_same(replayed, cpu, loss_replayed, loss_cpu):
    for key, value in cpu.items():
        np.testing.assert_allclose(replayed[key], value, rtol=RTOL, atol=ATOL, err_msg=key)
    assert loss_replayed == pytest.approx(loss_cpu, rel=LOSS_RTOL)


def fields(records):
    names = records.dtype.names
    return (np.ascontiguousarray(records[names[0]]), np.ascontiguousarray(records[names[1]]),
            np.ascontiguousarray(records[names[2]]))


@pytest.mark.parametrize("factors", [8, 37])
@pytest.mark.parametrize("biased", [True, False])
def test_biased_mf_step(mod, data, factors, biased):
    model = sr.BiasedMF(factors=factors, epochs=0, seed=SEED, biased=biased, learning_rate=0.02, device="cpu")

    def regrid(state):
        state["grid"] = one_block(state["grid"])

    start, state, loss, cpu = cpu_epoch(model, data, regrid)
    p = start
    h = state["hyper"]
    users, items, values = fields(state["grid"]["records"])
    replay = mod.host_mf_steps(p["user_factors"], p["item_factors"], p.get("user_bias"), p.get("item_bias"),
                               users, items, values, h["global_bias"], h["learning_rate"], h["regularization"],
                               h["bias_regularization"])
    assert_same(p, cpu, replay, loss)


def rating_biases(p, hyper, prefix=""):
    """The bias arguments of host_logistic_steps for a logistic rating side: (b_u, b_i, lambda_b) of
    ``{prefix}user_bias`` / ``{prefix}item_bias`` with biased=True, (None, None, 0) without."""
    if not hyper["biased"]:
        return None, None, 0.0
    return p[f"{prefix}user_bias"], p[f"{prefix}item_bias"], hyper["bias_regularization"]


@pytest.mark.parametrize("factors", [8, 37])
@pytest.mark.parametrize("offset", [True, False])
@pytest.mark.parametrize("biased", [True, False])
def test_sorec_steps(mod, data, factors, offset, biased):
    model = sr.SoRec(factors=factors, epochs=0, seed=SEED, offset=offset, social_regularization=0.7,
                     device="cpu", biased=biased, bias_regularization=0.03)

    def regrid(state):
        state["grid"], state["link_grid"] = one_block(state["grid"]), one_block(state["link_grid"])

    start, state, loss, cpu = cpu_epoch(model, data, regrid)
    p, h = start, state["hyper"]
    gamma, lam, lam_c = h["learning_rate"], h["regularization"], h["social_regularization"]
    replay = mod.host_logistic_steps(p["user_factors"], p["item_factors"], *fields(state["grid"]["records"]),
                                     gamma, lam, 1.0, 1.0, h["global_bias"], *rating_biases(p, h))
    replay += mod.host_logistic_steps(p["user_factors"], p["link_factors"], *fields(state["link_grid"]["records"]),
                                      gamma, lam, lam_c, lam_c, 0.0)
    assert_same(p, cpu, replay, loss)


@pytest.mark.parametrize("factors", [8, 40])
@pytest.mark.parametrize("biased", [True, False])
def test_socialmf_steps(mod, data, factors, biased):
    model = sr.SocialMF(factors=factors, epochs=0, seed=SEED, social_regularization=0.4, device="cpu",
                        biased=biased, bias_regularization=0.03)

    def regrid(state):
        state["grid"] = one_block(state["grid"])

    start, state, loss, cpu = cpu_epoch(model, data, regrid)
    p, h, t = start, state["hyper"], state["trust"]
    gamma = h["learning_rate"]
    replay = mod.host_logistic_steps(p["user_factors"], p["item_factors"], *fields(state["grid"]["records"]),
                                     gamma, h["regularization"], 1.0, 1.0, h["global_bias"], *rating_biases(p, h))
    assert len(t["trusters"]) > 10
    replay += mod.host_mean_pull_steps(p["user_factors"], t["trusters"], t["trust_offsets"], t["trustees"],
                                       t["trust_weights"], gamma, h["social_regularization"])
    assert_same(p, cpu, replay, loss)


@pytest.mark.parametrize("factors", [8, 33])
@pytest.mark.parametrize("biased", [True, False])
def test_trustmf_steps(mod, data, factors, biased):
    model = sr.TrustMF(factors=factors, epochs=0, seed=SEED, trust_regularization=0.8, device="cpu",
                       biased=biased, bias_regularization=0.03)

    def regrid(state):
        arrays = state["arrays"]
        grid = one_block(arrays)
        arrays.update(records=grid["records"], offsets=grid["offsets"], blocks=1)
        arrays["trust_grid"] = one_block(arrays["trust_grid"])

    start, state, loss, cpu = cpu_epoch(model, data, regrid)
    p, h = start, state["hyper"]
    gamma, lam, lam_t, b = h["learning_rate"], h["regularization"], h["trust_regularization"], h["global_bias"]
    ratings, trust = fields(state["arrays"]["records"]), fields(state["arrays"]["trust_grid"]["records"])
    # The truster model (B, V, W) and the trustee model (W', V', B') share no matrix, so the replay may run one
    # model's steps after the other's; within a model the rating pass precedes the trust pass, as on the CPU.
    replay = mod.host_logistic_steps(p["user_factors"], p["item_factors"], *ratings, gamma, lam, 1.0, 1.0, b,
                                     *rating_biases(p, h))
    replay += mod.host_logistic_steps(p["trustee_user_factors"], p["trustee_item_factors"], *ratings, gamma, lam,
                                      1.0, 1.0, b, *rating_biases(p, h, "trustee_"))
    replay += mod.host_logistic_steps(p["user_factors"], p["trustee_factors"], *trust, gamma, lam, lam_t, 1.0, 0.0)
    replay += mod.host_logistic_steps(p["trustee_truster_factors"], p["trustee_user_factors"], *trust, gamma, lam,
                                      lam_t, 1.0, 0.0)
    assert_same(p, cpu, replay, loss)


@pytest.mark.parametrize("regularizer", ["SR2", "SR1"])
@pytest.mark.parametrize("similarity", ["pcc", None])
@pytest.mark.parametrize("biased", [True, False])
def test_soreg_steps(mod, data, regularizer, similarity, biased):
    model = sr.SoReg(factors=12, epochs=0, seed=SEED, regularizer=regularizer, similarity=similarity,
                     social_regularization=0.5, biased=biased, device="cpu")

    def regrid(state):
        arrays = state["arrays"]
        grid = one_block(arrays)
        arrays.update(records=grid["records"], offsets=grid["offsets"], blocks=1)

    start, state, loss, cpu = cpu_epoch(model, data, regrid)
    p, h, a = start, state["hyper"], state["arrays"]
    gamma, lam, beta = h["learning_rate"], h["regularization"], h["social_regularization"]
    replay = mod.host_mf_steps(p["user_factors"], p["item_factors"], p.get("user_bias"), p.get("item_bias"),
                               *fields(a["records"]), 0.0, gamma, lam, h["bias_regularization"])
    if regularizer == "SR2":
        assert len(a["edges"]) > 10
        replay += mod.host_edge_steps(p["user_factors"], *fields(a["edges"]), gamma, beta)
    else:
        # The device takes each user's weights normalised (Sim / sum Sim): the CPU divides the weighted sum.
        weights = _social.row_normalised(a["trust_offsets"], a["trust_sim"])
        replay += mod.host_mean_pull_steps(p["user_factors"], a["social_users"], a["trust_offsets"], a["trust_dst"],
                                           weights.astype(np.float32), gamma, beta)
    assert_same(p, cpu, replay, loss)


@pytest.mark.parametrize("factors", [8, 37])
def test_svdpp_group_step(mod, data, factors):
    model = sr.SVDpp(factors=factors, epochs=0, seed=SEED, learning_rate=0.02, device="cpu")
    start, state, loss, cpu = cpu_epoch(model, data, lambda state: None)
    p, h, a = start, state["hyper"], state["arrays"]
    items, values = (np.ascontiguousarray(a["rating_records"][f]) for f in ("item", "value"))
    replay = mod.host_svdpp_steps(p["user_factors"], p["item_factors"], p["implicit_factors"], p["user_bias"],
                                  p["item_bias"], a["rating_users"], a["rating_offsets"], items, values,
                                  h["global_bias"], h["learning_rate"], h["regularization"],
                                  h["bias_regularization"])
    assert_same(p, cpu, replay, loss)


@pytest.mark.parametrize("factors", [8, 37])
def test_trustsvd_steps(mod, data, factors):
    model = sr.TrustSVD(factors=factors, epochs=0, seed=SEED, learning_rate=0.01, device="cpu")
    start, state, loss, cpu = cpu_epoch(model, data, lambda state: None)
    p, h, a = start, state["hyper"], state["arrays"]
    items, values = (np.ascontiguousarray(a["rating_records"][f]) for f in ("item", "value"))
    f32 = lambda x: np.asarray(x, dtype=np.float32)  # noqa: E731 - the device takes the weights in float32
    replay = mod.host_svdpp_steps(p["user_factors"], p["item_factors"], p["implicit_factors"], p["user_bias"],
                                  p["item_bias"], a["rating_users"], a["rating_offsets"], items, values,
                                  h["global_bias"], h["learning_rate"], h["regularization"],
                                  h["bias_regularization"], W=p["trustee_factors"], trust_offsets=a["trust_offsets"],
                                  trustees=a["trustees"], item_weight=f32(a["item_weight"]),
                                  trustee_weight=f32(a["trustee_weight"]))
    assert len(a["trusters"]) > 10
    edges = a["edges"]  # each truster's edges, shuffled in place by the CPU's link pass
    replay += mod.host_trust_link_steps(p["user_factors"], p["trustee_factors"], a["trusters"], a["trust_offsets"],
                                        np.ascontiguousarray(edges["dst"]), np.ascontiguousarray(edges["value"]),
                                        f32(a["trustee_weight"]), h["learning_rate"], h["regularization"],
                                        h["social_regularization"])
    assert_same(p, cpu, replay, loss)


@pytest.mark.parametrize("factors", [8, 37])
@pytest.mark.parametrize("alpha", [0.4, 1.0])
@pytest.mark.parametrize("biased", [True, False])
def test_rste_group_step(mod, data, factors, alpha, biased):
    model = sr.RSTE(factors=factors, epochs=0, seed=SEED, alpha=alpha, biased=biased, bias_regularization=0.03,
                    device="cpu")
    start, state, loss, cpu = cpu_epoch(model, data, lambda state: None)
    p, h, a = start, state["hyper"], state["arrays"]
    items, values = (np.ascontiguousarray(a["ratings"][f]) for f in ("item", "value"))
    replay = mod.host_rste_steps(p["user_factors"], p["item_factors"], a["rating_users"], a["rating_offsets"],
                                 items, values, a["trust_offsets"], a["trust_dst"],
                                 np.asarray(a["trust_weight"], dtype=np.float32), h["global_bias"], h["alpha"],
                                 h["learning_rate"], h["regularization"], *rating_biases(p, h))
    assert_same(p, cpu, replay, loss)


def cpu_samples(train, social):
    """The CPU's samples of epoch 0 in its deterministic order (socialrec.reference's sampling spec)."""
    spec = ref_bpr.Interactions(train, social)
    out = []

    def draw(gen):
        u, i = spec.pool[gen.below(len(spec.pool))]
        if social and spec.is_social(u):
            k = spec.social[u][gen.below(len(spec.social[u]))]
            j = ref_bpr.draw_outside(gen, spec.n_items, spec.own_sets[u], spec.social_sets[u])
            out.append((u, i, k, j, spec.counts[u][k]))
        else:
            out.append((u, i, -1, ref_bpr.draw_outside(gen, spec.n_items, spec.own_sets[u]), 0))

    ref_sgd.sampled_pass(len(spec.pool), SEED, 0, ref_sgd.SAMPLE_PASS, draw)
    return [np.ascontiguousarray(c, dtype=np.int32) for c in np.array(out, dtype=np.int64).T]


@pytest.fixture(scope="module")
def implicit():
    return sr.datasets.synthetic(n_users=60, n_items=50, density=0.12, trust_per_user=4, seed=7)


@pytest.mark.parametrize("cls, extra", [(sr.BPR, {}), (sr.SBPR, {}), (sr.SBPR, {"social_weight": 0.3})],
                         ids=["BPR", "SBPR", "SBPR-mixed"])
@pytest.mark.parametrize("factors", [8, 35])
def test_bpr_and_sbpr_steps(mod, implicit, cls, extra, factors):
    model = cls(factors=factors, epochs=0, seed=SEED, learning_rate=0.05, device="cpu", **extra)
    start, state, loss, cpu = cpu_epoch(model, implicit, lambda state: None)
    social = cls is sr.SBPR
    users, items, socials, negatives, counts = cpu_samples(implicit, social)
    assert len(users) == len(state["arrays"]["pool_users"])
    if social:
        assert (socials >= 0).sum() > 10
    p, h = start, state["hyper"]
    replay = mod.host_ranking_steps(p["user_factors"], p["item_factors"], p["item_bias"], users, items, socials,
                                    negatives, counts, h["learning_rate"], h["regularization"],
                                    h["bias_regularization"], h.get("social_weight", 1.0))
    assert_same(p, cpu, replay, loss)


# ------------------------------------------------------------------------------------------------------------
# the device sampler
# ------------------------------------------------------------------------------------------------------------
def python_samples(arrays, n_items, key, n, social):
    """The device sampler's rules in plain Python: sample s draws from SplitMix64(mix(key + (s + 1) gamma))."""
    indptr, indices = arrays["indptr"], arrays["indices"]
    out = []
    for s in range(n):
        gen = _rng.SplitMix64(_rng.mix((key + (s + 1) * _rng.GOLDEN_GAMMA) & _rng.MASK))
        r = gen.below(len(arrays["pool_users"]))
        u, i = int(arrays["pool_users"][r]), int(arrays["pool_items"][r])
        own = set(indices[indptr[u]:indptr[u + 1]].tolist())
        if social:
            lo, hi = arrays["social_indptr"][u], arrays["social_indptr"][u + 1]
            items = arrays["social_items"][lo:hi].tolist()
            if items and len(own) + len(items) < n_items:
                t = gen.below(len(items))
                j = ref_bpr.draw_outside(gen, n_items, own, set(items))
                out.append((u, i, items[t], j, int(arrays["social_counts"][lo + t])))
                continue
        out.append((u, i, -1, ref_bpr.draw_outside(gen, n_items, own), 0))
    return out


@pytest.mark.parametrize("social", [False, True])
def test_device_sampler_follows_its_spec(mod, implicit, social):
    model = (sr.SBPR if social else sr.BPR)(factors=4, epochs=0, seed=SEED, device="cpu").fit(implicit)
    arrays = model._prepare(implicit)["arrays"]
    key = mod.sample_key(SEED, 3)
    assert key == _rng.stream_seed(SEED, 3, ref_sgd.SAMPLE_PASS, 0)
    n_items = implicit.n_items
    got = mod.host_draw_samples(arrays["indptr"], arrays["indices"], arrays["pool_users"], arrays["pool_items"],
                                n_items, arrays.get("social_indptr"), arrays.get("social_items"),
                                arrays.get("social_counts"), key, 0, 400)
    expected = python_samples(arrays, n_items, key, 400, social)
    assert [tuple(int(c[s]) for c in got) for s in range(400)] == expected
    # A window of the stream equals the same samples drawn from the start (counter-based: any warp, any order).
    window = mod.host_draw_samples(arrays["indptr"], arrays["indices"], arrays["pool_users"], arrays["pool_items"],
                                   n_items, arrays.get("social_indptr"), arrays.get("social_items"),
                                   arrays.get("social_counts"), key, 123, 50)
    for a, b in zip(window, got):
        np.testing.assert_array_equal(a, b[123:173])


def test_device_sampler_rules_and_uniformity(mod, implicit):
    model = sr.SBPR(factors=4, epochs=0, seed=SEED, device="cpu").fit(implicit)
    a = model._prepare(implicit)["arrays"]
    n, n_items = 60_000, implicit.n_items
    users, items, socials, negatives, counts = mod.host_draw_samples(
        a["indptr"], a["indices"], a["pool_users"], a["pool_items"], n_items, a["social_indptr"],
        a["social_items"], a["social_counts"], mod.sample_key(1, 0), 0, n)
    pool = set(zip(a["pool_users"].tolist(), a["pool_items"].tolist()))
    for s in range(0, n, 97):
        u, i, k, j = int(users[s]), int(items[s]), int(socials[s]), int(negatives[s])
        own = set(a["indices"][a["indptr"][u]:a["indptr"][u + 1]].tolist())
        lo, hi = a["social_indptr"][u], a["social_indptr"][u + 1]
        soc = a["social_items"][lo:hi].tolist()
        assert (u, i) in pool and j not in own
        if k >= 0:
            assert k in soc and j not in soc and counts[s] == a["social_counts"][lo + soc.index(k)]
    # Negatives of one busy user: uniform over the items outside P_u and SP_u (chi-square, 1e-4 level).
    u = int(np.bincount(users).argmax())
    mine = (users == u) & (socials >= 0)
    allowed = np.setdiff1d(np.arange(n_items), np.concatenate([a["indices"][a["indptr"][u]:a["indptr"][u + 1]],
                                                              a["social_items"][a["social_indptr"][u]:
                                                                                a["social_indptr"][u + 1]]]))
    hist = np.bincount(negatives[mine], minlength=n_items)
    assert hist[np.setdiff1d(np.arange(n_items), allowed)].sum() == 0
    observed = hist[allowed]
    expected = observed.sum() / len(allowed)
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    dof = len(allowed) - 1
    assert chi2 < dof + 4.5 * np.sqrt(2 * dof), (chi2, dof)


def test_host_replays_check_their_inputs(mod):
    P = np.zeros((3, 4), np.float32)
    Q = np.zeros((2, 4), np.float32)
    with pytest.raises(IndexError, match="out of range"):
        mod.host_mf_steps(P, Q, None, None, [0, 3], [0, 1], [1.0, 2.0], 0.0, 0.1, 0.1, 0.0)
    with pytest.raises(TypeError, match="float32"):
        mod.host_logistic_steps(P.astype(np.float64), Q, [0], [0], [1.0], 0.1, 0.1, 1.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="columns"):
        mod.host_logistic_steps(P, np.zeros((2, 5), np.float32), [0], [0], [1.0], 0.1, 0.1, 1.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="offsets"):
        mod.host_mean_pull_steps(P, [0], np.array([0, 1], np.int64), [1], [1.0], 0.1, 0.1)
    bias = np.zeros(3, np.float32)  # the biases: both or neither, one per row
    with pytest.raises(ValueError, match="a_bias and b_bias go together"):
        mod.host_logistic_steps(P, Q, [0], [0], [1.0], 0.1, 0.1, 1.0, 1.0, 0.0, bias, None, 0.1)
    with pytest.raises(ValueError, match="b_bias has 3 entries, expected 2"):
        mod.host_logistic_steps(P, Q, [0], [0], [1.0], 0.1, 0.1, 1.0, 1.0, 0.0, bias, bias, 0.1)


# The socialrec._cuda epoch of each registered CUDA SGD model: the name of its CPU binding (_core.<stem>_epoch).
EPOCH_STEMS = {"BiasedMF": "biased_mf", "BPR": "bpr", "RSTE": "rste", "SBPR": "sbpr", "SVDpp": "svdpp",
               "SoRec": "sorec", "SoReg": "soreg", "SocialMF": "social_mf", "TrustMF": "trustmf",
               "TrustSVD": "trustsvd"}


def test_kernel_entry_points_are_bound(mod):
    stems = [EPOCH_STEMS[name] for name in cuda_models("sgd")]  # a new CUDA model needs its stem here
    for name in [f"{stem}_epoch" for stem in stems] + ["shuffle_keys", "epoch_chunk_order", "sample_key",
                                                        "topk_select"]:
        assert callable(getattr(mod, name)), name
        if name.endswith("_epoch"):
            assert callable(getattr(_core, name)), name  # the CUDA epoch has the CPU binding's name
    assert mod.SVDPP_MAX_FACTORS == 256
    # Bad sizes are ValueErrors before anything touches the driver (host arrays stand in for CuPy ones).
    k = 300
    groups = {"users": np.zeros(1, np.int32), "offsets": np.array([0, 1, 1], np.int64), "items": np.zeros(1, np.int32),
              "values": np.ones(1, np.float32)}
    arrays = {**{key: np.zeros((2, k), np.float32) for key in ("user_factors", "item_factors", "implicit_factors")},
              "user_bias": np.zeros(2, np.float32), "item_bias": np.zeros(2, np.float32),
              "loss": np.zeros(1, np.float64)}
    arrays = {key: wrap(v) for key, v in arrays.items()}
    hyper = {"factors": k, "global_bias": 3.0, "learning_rate": 0.01, "regularization": 0.01,
             "bias_regularization": 0.01}
    with pytest.raises(ValueError, match="at most 256 factors"):
        mod.svdpp_epoch({**arrays, "groups": {key: wrap(v) for key, v in groups.items()}}, hyper, {"seed": 0, "epoch": 0})
    ranking = {"user_factors": np.zeros((2, 4), np.float32), "item_factors": np.zeros((1, 4), np.float32),
               "item_bias": np.zeros(1, np.float32), "indptr": np.array([0, 1, 1], np.int64),
               "indices": np.zeros(1, np.int32), "pool_users": np.zeros(1, np.int32),
               "pool_items": np.zeros(1, np.int32), "loss": np.zeros(1, np.float64)}
    with pytest.raises(ValueError, match="at least 2 items"):
        mod.bpr_epoch({key: wrap(v) for key, v in ranking.items()},
                      {"factors": 4, "learning_rate": 0.1, "regularization": 0.1, "bias_regularization": 0.1},
                      {"seed": 0, "epoch": 0})
    # Rating and link passes of one epoch visit their chunks in different orders.
    assert mod.epoch_chunk_order(10_000, 1, 0, 0) != mod.epoch_chunk_order(10_000, 1, 0, 1)
