"""Model files written by older versions still load as the model they hold (review of issue 15): the social
rating models gained ``biased`` (default True); a file saved before that has no ``biased`` entry and no bias
arrays, and is the unbiased model."""
from __future__ import annotations

import json

import numpy as np
import pytest

import socialrec as sr

SOCIAL_WITH_BIASES = [sr.SoRec, sr.SocialMF, sr.TrustMF, sr.SoReg, sr.RSTE]


def _as_before_biases(path, out):
    """A copy of the model file ``path`` at ``out`` whose metadata lacks ``biased``, as files saved before the
    biases existed did (their arrays were those of ``biased=False``)."""
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(str(arrays["meta"]))
    del meta["params"]["biased"]
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(out, **arrays)


@pytest.mark.parametrize("cls", SOCIAL_WITH_BIASES, ids=lambda c: c.__name__)
def test_a_file_saved_before_biases_loads_unbiased(cls, tmp_path):
    ds = sr.datasets.synthetic(n_users=40, n_items=30, seed=1)
    model = cls(factors=3, epochs=2, seed=0, biased=False, num_threads=1).fit(ds)
    model.save(tmp_path / "new.npz")
    _as_before_biases(tmp_path / "new.npz", tmp_path / "old.npz")
    old = sr.load(tmp_path / "old.npz")
    assert type(old) is cls and old.biased is False
    users, items = np.arange(40) % 40, np.arange(40) % 30
    assert np.array_equal(old.predict(users, items), model.predict(users, items))
