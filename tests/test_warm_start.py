"""fit(data, warm_start=True): known raw ids keep their rows, new ids start as in a fresh fit, an unfitted model
fits normally, and a fit of other widths is refused with the model left as it was."""
import numpy as np
import pytest

import socialrec as sr

MODELS = [info.cls for info in sr.models.registry()]


def _datasets():
    """(old, grown): ``grown`` adds users, items, ratings and edges to ``old``; raw ids are not 0..n-1 and new
    ids fall between old ones, so the index of a raw id changes between the two."""
    ds = sr.datasets.synthetic(n_users=120, n_items=60, seed=3)
    u, i, v = ds.user_item_arrays()
    s, d, w = ds.trust_arrays()
    rng = np.random.default_rng(0)
    new_users = rng.choice(ds.n_users, 12, replace=False)
    new_items = rng.choice(ds.n_items, 6, replace=False)
    extra = rng.random(len(u)) < 0.1  # 10% more ratings among old ids too
    keep = ~np.isin(u, new_users) & ~np.isin(i, new_items) & ~extra
    keep_edges = ~np.isin(s, new_users) & ~np.isin(d, new_users)
    raw_u, raw_i = lambda x: 3 * x + 11, lambda x: 5 * x + 2  # noqa: E731

    def build(r, e):
        return sr.Dataset.from_arrays(raw_u(u[r]), raw_i(i[r]), v[r], trust_src=raw_u(s[e]), trust_dst=raw_u(d[e]),
                                      rating_scale=ds.rating_scale)

    return build(keep, keep_edges), build(np.ones(len(u), bool), np.ones(len(s), bool))


OLD, GROWN = _datasets()


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_known_rows_carried_and_new_rows_fresh(cls):
    model = cls(factors=4, epochs=2, seed=1).fit(OLD)
    before = {k: np.array(v) for k, v in model.parameters_.items()}
    old_users, old_items = list(model.user_ids_), list(model.item_ids_)
    model.set_params(epochs=0)
    model.fit(GROWN, warm_start=True)  # no epoch: the starting point itself
    fresh = cls(factors=4, epochs=0, seed=1).fit(GROWN).parameters_
    assert model.n_users_ == GROWN.n_users and model.n_items_ == GROWN.n_items
    sides = {"user": (list(GROWN.user_ids), old_users), "item": (list(GROWN.item_ids), old_items)}
    from socialrec.models._warm import SIDE_ARRAYS
    for key, value in model.parameters_.items():
        side = next((s for s, names in SIDE_ARRAYS.items() if key in names), None)
        if side is None:
            np.testing.assert_array_equal(value, before[key], err_msg=key)
            continue
        new_ids, old_ids = sides[side]
        for row, raw in enumerate(new_ids):
            expected = before[key][old_ids.index(raw)] if raw in old_ids else fresh[key][row]
            np.testing.assert_array_equal(value[row], expected, err_msg=f"{key} {side} {raw}")


def test_warm_start_on_unfitted_model_is_a_plain_fit():
    a = sr.TrustSVD(factors=4, epochs=3, seed=2).fit(GROWN, warm_start=True)
    b = sr.TrustSVD(factors=4, epochs=3, seed=2).fit(GROWN)
    for k in b.parameters_:
        np.testing.assert_array_equal(a.parameters_[k], b.parameters_[k])


def test_warm_start_continues_training():
    """More epochs from the carried parameters lower the training loss below where the previous fit ended."""
    model = sr.BiasedMF(factors=4, epochs=5, seed=0).fit(GROWN)
    end = model.loss(GROWN)
    model.fit(GROWN, warm_start=True)
    assert model.loss(GROWN) < end
    cold = sr.BiasedMF(factors=4, epochs=5, seed=0).fit(GROWN)
    assert model.loss(GROWN) < cold.loss(GROWN)


def test_mismatched_factors_refused_and_model_kept():
    model = sr.BiasedMF(factors=4, epochs=2, seed=0).fit(OLD)
    before = {k: np.array(v) for k, v in model.parameters_.items()}
    model.factors = 6  # set directly: set_params would discard the fit
    with pytest.raises(ValueError, match=r"warm_start=True.*user_factors.*factors=6"):
        model.fit(GROWN, warm_start=True)
    assert model.n_users_ == OLD.n_users
    for k, v in before.items():
        np.testing.assert_array_equal(model.parameters_[k], v)
    model.fit(GROWN)  # a plain fit of the new width works
    assert model.parameters_["user_factors"].shape == (GROWN.n_users, 6)


def test_changed_arrays_refused():
    model = sr.BiasedMF(factors=4, epochs=1, seed=0).fit(OLD)
    model.biased = False  # set directly: the previous fit has bias arrays this configuration lacks
    with pytest.raises(ValueError, match="arrays"):
        model.fit(OLD, warm_start=True)
