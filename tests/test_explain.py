"""Explanations (``model.explain``) and who to follow (``model.recommend_users``), issue 24: the parts of every
model's score sum to it in float64, they are named by raw id, and who-to-follow never lists the user or a
known trustee."""
from __future__ import annotations

import json

import numpy as np
import pytest

import socialrec as sr
from socialrec import cli
from model_suite import CASES

# one case per model class (the suite's small hyper-parameters), fitted in float64
_CASES = {case.cls: case for case in reversed(CASES) if not str(case.ranking) == "counts"}
_CASES = [c for c in CASES if _CASES.get(c.cls) is c or c.name in ("PMF", "SoReg-SR1-vss", "RSTE-unbiased",
                                                                   "SocialALS-normalized", "SBPR-mixed")]
IDENTITY = {"BiasedMF", "SVDpp", "SoReg", "TrustSVD"}
LOGISTIC = {"SoRec", "SocialMF", "RSTE", "TrustMF"}


def _raw_data(ranking):
    """Synthetic data with raw ids that are not 0..n-1 (users "u<k>", items 1000 + k)."""
    ds = sr.datasets.synthetic(n_users=90, n_items=60, seed=3)
    if ranking:
        ds = ds.binarized(threshold=3.0)
    u, i, v = ds.user_item_arrays()
    s, d, t = ds.trust_arrays()
    return sr.Dataset.from_raw(np.array([f"u{k}" for k in u]), 1000 + i, v,
                               trust_src=np.array([f"u{k}" for k in s]), trust_dst=np.array([f"u{k}" for k in d]),
                               trust_values=t)


_FITTED = {}


def _fitted(case):
    if case.name not in _FITTED:
        ds = _raw_data(bool(case.ranking))
        _FITTED[case.name] = (case.make(dtype="float64").fit(ds), ds)
    return _FITTED[case.name]


def _pairs(model, ds, n=12):
    """Users with trustees first (so the trustee parts are exercised), each with a rated and an unrated item."""
    rng = np.random.default_rng(0)
    trusting = np.flatnonzero(np.diff(ds.trust.indptr) > 0)
    users = np.concatenate([trusting[:n // 2], rng.integers(0, ds.n_users, n // 2)])
    items = rng.integers(0, ds.n_items, len(users))
    return users, items


@pytest.mark.parametrize("case", _CASES, ids=lambda c: c.name)
def test_parts_sum_to_the_score(case):
    model, ds = _fitted(case)
    users, items = _pairs(model, ds)
    lo, hi = model.rating_scale_
    for u, i in zip(users, items):
        parts = model.explain(u, i, n=None, ids="index")
        total = sum(e["contribution"] for e in parts if e["part"])
        x = float(model._raw_scores(np.array([u]), np.array([i]))[0])
        assert abs(total - x) <= 1e-10, (case.name, u, i)
        predicted = float(model.predict([u], [i], ids="index")[0])
        if case.cls in LOGISTIC:  # the parts sum to the logit inside g
            assert abs(lo + (hi - lo) / (1 + np.exp(-total)) - predicted) <= 1e-10
        elif case.cls in IDENTITY and lo < total < hi or model._link == "score":
            assert abs(total - predicted) <= 1e-10
        # the largest |contribution| first, and n keeps the first n of them
        magnitudes = [abs(e["contribution"]) for e in parts if e["part"]]
        assert magnitudes == sorted(magnitudes, reverse=True)
        top = model.explain(u, i, n=2, ids="index")
        assert [e for e in top if e["part"]] == [e for e in parts if e["part"]][:2]


def test_every_social_model_names_trustees_and_svdpp_names_items():
    kinds = {}
    for case in _CASES:
        model, ds = _fitted(case)
        users, items = _pairs(model, ds)
        kinds[case.name] = {e["kind"] for u, i in zip(users, items) for e in model.explain(u, i, n=None,
                                                                                             ids="index")
                            if e["part"]}
    for name in ("TrustSVD", "SocialMF", "SoReg", "RSTE", "SocialALS", "SBPR", "SoRec", "TrustMF"):
        assert "trustee" in kinds[name], name
    for name in ("SVDpp", "TrustSVD"):
        assert "item" in kinds[name], name
    for name in ("BiasedMF", "BPR", "ALS"):
        assert kinds[name] <= {"bias", "user"}, name


@pytest.mark.parametrize("name", ["SoRec", "TrustMF"])
def test_sorec_and_trustmf_trustee_parts_are_the_link_terms_share_of_the_user_row(name):
    """SoRec's and TrustMF's trustee parts: the link terms' pull on the user row at the first-order condition,
    ``Σ_k β_k Z_k = (link terms' gradient on the row, penalty apart) / P_u``. Checked against the reference
    gradient: the full objective's gradient minus the ratings-only one is ``λ' |T_u| P_row − λ_w Σ_k e g' Z_k``
    (``λ'``: the link terms' penalty per edge, ``λ_w`` their weight)."""
    model, ds = _fitted(next(c for c in _CASES if c.name == name))
    u_, i_, v_ = ds.user_item_arrays()
    no_trust = sr.Dataset.from_arrays(u_, i_, v_, n_users=ds.n_users, n_items=ds.n_items)
    full = sr.reference.gradient(model, ds)["user_factors"]
    ratings_only = sr.reference.gradient(model, no_trust)["user_factors"]
    row = np.asarray(model.parameters_["user_factors"], dtype=np.float64)
    lam = model.regularization
    weight, per_edge = ((model.social_regularization, model.social_regularization * lam) if name == "SoRec"
                        else (model.trust_regularization, lam))
    assert model.regularization_scaling == "occurrence"  # P_u below: λ per rating
    checked = 0
    for u in np.flatnonzero(np.diff(ds.trust.indptr) > 0)[:10]:
        degree = ds.trust.indptr[u + 1] - ds.trust.indptr[u]
        penalty = lam * (ds.ratings.indptr[u + 1] - ds.ratings.indptr[u]) + per_edge * degree
        pull = (per_edge * degree * row[u] - (full[u] - ratings_only[u])) / penalty  # Σ_k β_k Z_k
        for i in range(0, ds.n_items, 7):
            q = np.asarray(model._scoring()["item_vectors"][i], dtype=np.float64)
            parts = model.explain(int(u), i, n=None, ids="index")
            trustees = sum(e["contribution"] for e in parts if e["kind"] == "trustee")
            expected = (pull @ q) / (1 if name == "SoRec" else 2)  # TrustMF's z_u = (B_u + W'_u)/2
            assert abs(trustees - expected) <= 1e-10 * max(1.0, abs(expected)), (u, i)
            assert weight > 0 and sum(e["kind"] == "trustee" for e in parts) == degree
            checked += 1
    assert checked


@pytest.mark.parametrize("name", ["TrustSVD", "SocialMF", "SBPR", "BiasedMF", "SoRec", "TrustMF"])
def test_explanations_speak_raw_ids(name):
    case = next(c for c in _CASES if c.name == name)
    model, ds = _fitted(case)
    trusting = np.flatnonzero(np.diff(ds.trust.indptr) > 0)
    for u in trusting[:10]:
        user = ds.user_ids[u]
        trustees = set(ds.user_ids[ds.trust.indices[ds.trust.indptr[u]:ds.trust.indptr[u + 1]]].tolist())
        rated = set(ds.item_ids[ds.ratings.indices[ds.ratings.indptr[u]:ds.ratings.indptr[u + 1]]].tolist())
        for item in ds.item_ids[:8]:
            raw = model.explain(user, item, n=None)
            index = model.explain(int(u), int(ds.item_index(item)), n=None, ids="index")
            assert [e["contribution"] for e in raw] == [e["contribution"] for e in index]
            for e in raw:
                if e["kind"] == "trustee":
                    assert e["id"] in trustees
                elif e["kind"] == "item":
                    assert e["id"] in rated and (e["part"] or e["id"] != item)  # similar items: never itself
                elif e["kind"] == "user":
                    assert e["id"] == user
                else:
                    assert e["id"] in ("global", "user", "item")


def test_unknown_ids_and_bad_n_raise():
    model, ds = _fitted(next(c for c in _CASES if c.name == "TrustSVD"))
    with pytest.raises(sr.UnknownIdError, match="nobody"):
        model.explain("nobody", 1000)
    with pytest.raises(sr.UnknownIdError, match="77"):
        model.explain("u1", 77)
    with pytest.raises(sr.UnknownIdError, match="ghost"):
        model.recommend_users(["u1", "ghost"])
    with pytest.raises(ValueError, match="n=0"):
        model.explain("u1", 1000, n=0)


def _scorers():
    for case in _CASES:
        yield case.name, _fitted(case)
    ds = _raw_data(False)
    for cls in (sr.baselines.CommonNeighbours, sr.baselines.AdamicAdar):
        yield cls.__name__, (cls().fit(ds), ds)


@pytest.mark.parametrize("name", [c.name for c in _CASES] + ["CommonNeighbours", "AdamicAdar"])
def test_recommend_users_never_lists_the_user_or_a_known_trustee(name):
    model, ds = dict(_scorers())[name]
    users = ds.user_ids[:40]
    ids, scores = model.recommend_users(users, n=15)
    assert ids.shape == scores.shape == (40, 15)
    for u, row, row_scores in zip(users, ids, scores):
        k = ds.user_index(u)
        known = set(ds.user_ids[ds.trust.indices[ds.trust.indptr[k]:ds.trust.indptr[k + 1]]].tolist())
        listed = [v for v, s in zip(row.tolist(), row_scores) if s > -np.inf]
        assert u not in listed and not known & set(listed), (name, u)
        assert all(v in set(ds.user_ids.tolist()) for v in listed)
        assert list(row_scores) == sorted(row_scores, reverse=True)
    # without exclude_known the known trustees may come back, the user never
    ids, _ = model.recommend_users(users, n=ds.n_users, exclude_known=False)
    assert not any(u in row.tolist() for u, row in zip(users, ids))


def test_learned_predictors_rank_every_user_and_known_trustees_without_exclusion():
    for name in ("SoRec", "TrustMF", "TrustSVD"):
        model, ds = _fitted(next(c for c in _CASES if c.name == name))
        ids, scores = model.recommend_users("u3", n=ds.n_users - 1, exclude_known=False)
        assert ids.shape == (1, ds.n_users - 1) and np.all(np.isfinite(scores))  # everyone but u3
        k = ds.user_index("u3")
        known = set(ds.user_ids[ds.trust.indices[ds.trust.indptr[k]:ds.trust.indptr[k + 1]]].tolist())
        assert known <= set(ids[0].tolist())


def test_the_trust_graph_survives_save_and_load(tmp_path):
    model, _ = _fitted(next(c for c in _CASES if c.name == "SocialMF"))
    model.save(tmp_path / "m.npz")
    loaded = sr.load(tmp_path / "m.npz")
    assert loaded.explain("u5", 1003, n=None) == model.explain("u5", 1003, n=None)
    for a, b in zip(loaded.recommend_users(["u1", "u2"]), model.recommend_users(["u1", "u2"])):
        np.testing.assert_array_equal(a, b)


def test_cli_recommend_explain(tmp_path, capsys):
    model, _ = _fitted(next(c for c in _CASES if c.name == "TrustSVD"))
    path = tmp_path / "m.npz"
    model.save(path)
    assert cli.main(["recommend", str(path), "u1", "-n", "2", "--explain", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for rec in out["u1"]:
        want = model.explain("u1", rec["item"], n=3)
        assert [e["id"] for e in rec["why"]] == [e["id"] for e in want]
    assert cli.main(["recommend", str(path), "u1", "-n", "2", "--explain"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("user u1:") and "bias" in text


def test_folded_users_keep_their_trustees():
    """fold_in_users adds the folded users' out-edges to the kept trust graph: explain names the trustee and
    recommend_users leaves it out."""
    ds = _raw_data(False)
    model = sr.SocialMF(factors=4, epochs=3, seed=0, dtype="float64").fit(ds)
    model.fold_in_users((np.array(["new", "new"]), np.array([1001, 1003]), np.array([4.0, 1.0])),
                        trust=(np.array(["new"]), np.array(["u3"])))
    parts = model.explain("new", 1005, n=None)
    assert [e["id"] for e in parts if e["kind"] == "trustee"] == ["u3"]
    assert abs(sum(e["contribution"] for e in parts if e["part"])
               - model._raw_scores(np.array([ds.n_users]), np.array([ds.item_index(1005)]))[0]) <= 1e-10
    ids, scores = model.recommend_users("new", n=5)
    assert "u3" not in ids[0].tolist() and "new" not in ids[0].tolist() and np.isfinite(scores[0, 0])
