"""sr.features: Features (ids x matrix), tags, text_embeddings (optional wordllama), and the LastFM artists'
names and tags (load_lastfm(item_features=True))."""
import importlib.util

import numpy as np
import pytest
import scipy.sparse as sp

import socialrec as sr
from socialrec.features import TEXT_EXTRA, Features, tags, text_embeddings

HAS_WORDLLAMA = importlib.util.find_spec("wordllama") is not None
needs_text = pytest.mark.skipif(not HAS_WORDLLAMA, reason=f"needs the extra socialrec[text]: {TEXT_EXTRA}")


def test_features_rows_for_aligns_and_zero_fills():
    f = Features(np.array([[1.0, 2.0], [3.0, 4.0]]), ids=["b", "a"])
    rows = f.rows_for(["a", "c", "b"])
    np.testing.assert_array_equal(rows, [[3.0, 4.0], [0.0, 0.0], [1.0, 2.0]])
    s = Features(sp.csr_matrix([[1.0, 0.0], [0.0, 5.0]]), ids=[10, 20])
    rows = s.rows_for([20, 30, 10])
    assert sp.issparse(rows)
    np.testing.assert_array_equal(rows.toarray(), [[0.0, 5.0], [0.0, 0.0], [1.0, 0.0]])


def test_features_from_dataframe():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"x": [1.0, 2.0], "y": [0.5, 0.0]}, index=[7, 3])
    f = Features(df)
    assert f.ids.tolist() == [7, 3] and f.columns.tolist() == ["x", "y"]
    np.testing.assert_array_equal(f.rows_for([3]), [[2.0, 0.0]])


@pytest.mark.parametrize("matrix, ids, error, text", [
    (np.ones((2, 2)), [1, 1], ValueError, "duplicate id 1"),
    (np.ones((2, 2)), [1], ValueError, "one id per row"),
    (np.array([[1.0, np.nan]]), [1], ValueError, "finite"),
    (sp.csr_matrix(np.array([[0.0, 0.0], [np.inf, 0.0]])), [1, 2], ValueError, "row 1"),
    (np.array([["a"]]), [1], TypeError, "numbers"),
    (np.ones(3), [1, 2, 3], ValueError, "2-D"),
    (np.ones((1, 1)), None, TypeError, "ids"),
])
def test_features_bad_input(matrix, ids, error, text):
    with pytest.raises(error, match=text):
        Features(matrix, ids)


def test_tags_counts_and_normalisation():
    f = tags([5, 5, 5, 2], ["rock", "rock", "pop", "rock"], normalize=False)
    assert f.ids.tolist() == [2, 5] and f.columns.tolist() == ["pop", "rock"]
    np.testing.assert_array_equal(f.matrix.toarray(), [[0, 1], [1, 2]])
    g = tags([5, 5, 5, 2], ["rock", "rock", "pop", "rock"])
    row = np.array([1.0, 1.0 + np.log(2.0)])
    np.testing.assert_allclose(g.matrix.toarray(), [[0, 1], row / np.linalg.norm(row)])
    with pytest.raises(ValueError, match="one length"):
        tags([1, 2], ["a"])


def test_text_embeddings_without_wordllama_names_the_extra(monkeypatch):
    import builtins

    from socialrec import features

    features._wordllama.cache_clear()
    real_import = builtins.__import__

    def no_wordllama(name, *args, **kwargs):
        if name == "wordllama":
            raise ImportError("No module named 'wordllama'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_wordllama)
    with pytest.raises(ImportError, match=r"socialrec\[text\]"):
        text_embeddings(["a"], [1])
    features._wordllama.cache_clear()


@needs_text
def test_text_embeddings_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # any download attempt fails
    f = text_embeddings(["heavy metal band", "death metal band", "pop singer", ""], ids=[1, 2, 3, 4])
    assert f.matrix.dtype == np.float32 and f.matrix.shape == (4, 256)
    norms = np.linalg.norm(f.matrix, axis=1)
    np.testing.assert_allclose(norms[:3], 1.0, rtol=1e-5)
    assert norms[3] == 0.0  # an empty text gives a zero row
    sim = f.matrix @ f.matrix.T
    assert sim[0, 1] > sim[0, 2]  # the two metal bands are closer than metal and pop
    with pytest.raises(ValueError, match="one id per text"):
        text_embeddings(["a", "b"], ids=[1])
    with pytest.raises(TypeError, match="strings"):
        text_embeddings(["a", 3], ids=[1, 2])


def test_lastfm_artists(shared_data):
    ds, artists = sr.datasets.load_lastfm(shared_data("lastfm"), item_features=True)
    assert list(artists.ids) == list(ds.item_ids)
    assert artists.names[0] == "MALICE MIZER" and all(isinstance(n, str) for n in artists.names)
    assert len(artists.tags) == 12133 and artists.tags.n_features == 9718
    assert set(artists.tags.ids.tolist()) <= set(ds.item_ids.tolist())
    assert "metal" in set(artists.tags.columns.tolist())
    np.testing.assert_allclose(sp.linalg.norm(artists.tags.matrix, axis=1), 1.0)
