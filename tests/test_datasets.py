"""Tests of socialrec.datasets: real-data loaders, load_files, load_tang, synthetic."""

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import socialrec as sr
from socialrec.datasets import load_files, load_filmtrust, load_lastfm, load_tang, synthetic

# ------------------------------------------------------------------------------------------------------
# real data (counts from ../shared/data/*/SOURCE.md)
# ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def filmtrust(shared_data):
    return load_filmtrust(shared_data("filmtrust"))


@pytest.fixture(scope="module")
def lastfm(shared_data):
    return load_lastfm(shared_data("lastfm"))


def test_filmtrust_counts(filmtrust):
    ds = filmtrust
    assert ds.nnz == 35494  # 35,497 rows, 3 repeated (user, item) pairs, the later row kept
    assert ds.n_trust == 1853
    assert ds.n_users == 1508 + 134 and ds.n_items == 2071
    assert ds.rating_scale == (0.5, 4.0)
    counts = np.diff(ds.ratings.indptr)
    assert (counts > 0).sum() == 1508
    no_ratings = np.flatnonzero(counts == 0)
    assert len(no_ratings) == 134
    # the users without ratings are exactly those seen only in the trust graph, and they come last
    np.testing.assert_array_equal(no_ratings, np.arange(1508, 1642))
    in_graph = (np.diff(ds.trust.indptr) > 0) | (np.diff(ds.trust.tocsc().indptr) > 0)
    assert in_graph.sum() == 874 and in_graph[no_ratings].all()
    assert (ds.trust.data == 1).all() and ds.trust.diagonal().sum() == 0
    reciprocated = ds.trust.multiply(ds.trust.T).nnz
    assert reciprocated == 1088
    values, freq = np.unique(ds.ratings.data, return_counts=True)
    np.testing.assert_array_equal(values, np.arange(1, 9) / 2)
    assert freq.sum() == 35494
    # raw ids are the file's integers, ascending among rated users
    assert ds.user_ids[0] == 1 and ds.user_index(1508) == 1507 and ds.item_index(2071) == 2070
    assert ds.user_ids.dtype.kind == "i"


def test_filmtrust_duplicates(filmtrust, shared_data):
    ds = filmtrust
    u = ds.user_index(308)
    # lines 7412 "308 235 4" and 7468 "308 235 1.5": the later one is kept
    assert ds.ratings[u, ds.item_index(235)] == 1.5
    assert ds.ratings[u, ds.item_index(207)] == 3.0
    mean = load_filmtrust(shared_data("filmtrust"), duplicates="mean")
    assert mean.nnz == 35494 and mean.ratings[u, mean.item_index(235)] == 2.75
    with pytest.raises(ValueError, match=r"duplicate \(user, item\) pair \(308, "):
        load_filmtrust(shared_data("filmtrust"), duplicates="error")


def test_lastfm_counts(lastfm):
    ds = lastfm
    assert (ds.n_users, ds.n_items, ds.nnz) == (1892, 17632, 92834)
    assert ds.n_trust == 25434
    assert (ds.trust != ds.trust.T).nnz == 0, "friendship stored in both directions"
    assert ds.trust.diagonal().sum() == 0
    assert ds.ratings.data.min() == 1 and ds.ratings.data.max() == 352698
    assert ds.rating_scale == (1.0, 352698.0)
    assert len(np.unique(ds.ratings.data)) == 5436
    assert (np.diff(ds.ratings.indptr) > 0).all()
    assert ds.user_ids[0] == 2 and ds.user_ids[-1] == 2100
    assert ds.item_ids[0] == 1 and ds.item_ids[-1] == 18745
    assert np.all(np.diff(ds.user_ids) > 0) and np.all(np.diff(ds.item_ids) > 0)
    u = ds.user_index(2)
    assert ds.ratings[u, ds.item_index(51)] == 13883
    assert ds.trust[u, ds.user_index(275)] == 1 and ds.trust[ds.user_index(275), u] == 1


def test_missing_folder_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_filmtrust(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="user_artists.dat"):
        load_lastfm(tmp_path)


# ------------------------------------------------------------------------------------------------------
# load_files
# ------------------------------------------------------------------------------------------------------


def write(path, text):
    path.write_text(text)
    return path


def test_load_files_whitespace_with_trust(tmp_path):
    r = write(tmp_path / "r.txt", "1 10 3\n1  11\t4.5\n\n2 10 1\n")
    t = write(tmp_path / "t.txt", "1 2\n3 1\n")
    ds = load_files(r, t)
    assert ds.user_ids.tolist() == [1, 2, 3] and ds.item_ids.tolist() == [10, 11]
    np.testing.assert_array_equal(ds.ratings.toarray(), [[3, 4.5], [1, 0], [0, 0]])
    assert ds.trust[0, 1] == 1 and ds.trust[2, 0] == 1 and ds.n_trust == 2
    assert ds.rating_scale == (1.0, 4.5)


def test_load_files_csv_header_autodetect_and_string_ids(tmp_path):
    r = write(tmp_path / "ratings.csv", "user,item,rating\nalice,m1,4\nbob,m2,5\nalice,m2,\"3\"\n")
    ds = load_files(r, rating_scale=(1, 5))
    assert ds.user_ids.tolist() == ["alice", "bob"] and ds.item_ids.tolist() == ["m1", "m2"]
    assert ds.ratings[ds.user_index("alice"), ds.item_index("m2")] == 3
    assert ds.rating_scale == (1.0, 5.0)


def test_load_files_tsv_columns_and_implicit(tmp_path):
    r = write(tmp_path / "r.tsv", "ts\tuser\titem\n100\t7\t1\n101\t8\t1\n102\t7\t2\n")
    ds = load_files(r, sep="\t", columns=(1, 2), header=True)
    assert ds.nnz == 3 and (ds.ratings.data == 1).all()
    assert ds.user_ids.tolist() == [7, 8]
    ds2 = load_files(r, sep="\t", columns=(1, 2, 0))
    assert ds2.ratings[ds2.user_index(7), ds2.item_index(2)] == 102
    # implicit two-column file, header detected because the ids of line 1 are not numbers
    r2 = write(tmp_path / "r2.tsv", "user\titem\n1\t5\n2\t6\n")
    ds3 = load_files(r2, sep="\t")
    assert ds3.nnz == 2 and ds3.user_ids.tolist() == [1, 2]
    # no header in a numeric file
    r3 = write(tmp_path / "r3.tsv", "1\t5\n2\t6\n")
    assert load_files(r3).nnz == 2


def test_load_files_default_columns_come_from_the_data_below_a_header(tmp_path):
    # a two-field header (or comment) line above user-item-rating rows: the ratings are not replaced by 1.0
    for first in ("user item", "# exported"):
        ds = load_files(write(tmp_path / "r.txt", f"{first}\n1 10 3\n2 10 4.5\n"))
        assert ds.nnz == 2 and ds.rating_scale == (3.0, 4.5)
        assert ds.ratings[ds.user_index(2), ds.item_index(10)] == 4.5
    ds = load_files(write(tmp_path / "r.csv", "user,item\n1,10,3\n"), header=True)
    assert ds.ratings.data.tolist() == [3.0]
    # a two-column file is still implicit, with or without its header
    assert load_files(write(tmp_path / "i.txt", "user item\n1 10\n2 10\n")).ratings.data.tolist() == [1, 1]
    assert load_files(write(tmp_path / "i.txt", "1 10\n2 10\n")).ratings.data.tolist() == [1, 1]


def test_load_files_columns_as_numpy_integers(tmp_path):
    r = write(tmp_path / "r.tsv", "ts\tuser\titem\trating\n100\t7\t1\t4\n")
    ds = load_files(r, sep="\t", columns=np.array([1, 2, 3]), trust_columns=None)
    assert ds.ratings[ds.user_index(7), ds.item_index(1)] == 4
    with pytest.raises(ValueError, match="columns must be"):
        load_files(r, sep="\t", columns=(True, 2, 3))  # a boolean is not a column position


def test_load_files_leading_zero_ids_stay_strings(tmp_path):
    r = write(tmp_path / "r.txt", "007 1 2\n7 1 3\n")
    ds = load_files(r)
    assert ds.user_ids.tolist() == ["007", "7"]


@pytest.mark.parametrize(
    "text, kw, pattern",
    [
        ("1 1 2\n2 2 3\n3 3 3\n4 4 1\n5 5 1\n6 6 1\n7 7\n", {}, r"ratings\.csv line 7: expected 3 columns, got 2"),
        ("u,i,r\n1,1,2\n\n2,2,3\n3,3,3\n4,4,4\n5,5,5\n6,6,6\n7,7,abc\n", {},
         r"ratings\.csv line 9: rating 'abc' is not a number"),
        ("1 1 2\n2 2 nan\n", {}, r"ratings\.csv line 2: rating 'nan' is not finite"),
        ("1 1 2\n2 2 3\n", dict(columns=(0, 1, 5)), r"ratings\.csv line 1: expected 6 columns, got 3"),
        ("", {}, r"ratings\.csv: no data"),
        ("u i r\n", {}, r"ratings\.csv: no data rows"),
        ("1 1 2\n1 1 3\n", {}, r"duplicate \(user, item\) pair \(1, 1\) at positions 0 and 1"),
        ("1 1 2\n", dict(columns=(0,)), r"columns must be"),
    ],
)
def test_load_files_errors(tmp_path, text, kw, pattern):
    r = write(tmp_path / "ratings.csv", text)
    with pytest.raises(ValueError, match=pattern):
        load_files(r, **kw)


def test_load_files_unterminated_quote_raises(tmp_path):
    # an opening quote that never closes swallowed the rest of the file into one id
    r = write(tmp_path / "r.csv", '1,10,3\n2,"10,4\n3,11,5\n4,11,2\n')
    with pytest.raises(ValueError, match=r"r\.csv line 2: unexpected end of data"):
        load_files(r)
    # a quote after the first character of a field is an ordinary character, as in the csv module
    ds = load_files(write(tmp_path / "q.csv", 'o\'neil,the "big" one,3\n'))
    assert ds.user_ids.tolist() == ["o'neil"] and ds.item_ids.tolist() == ['the "big" one']


def test_load_files_trust_errors_and_missing_file(tmp_path):
    r = write(tmp_path / "r.txt", "1 1 2\n")
    t = write(tmp_path / "trust.txt", "1 2 1\n2 1 x\n")
    with pytest.raises(ValueError, match=r"trust\.txt line 2: trust value 'x' is not a number"):
        load_files(r, t, header=False)
    with pytest.raises(FileNotFoundError, match="nothing.txt"):
        load_files(tmp_path / "nothing.txt")


def test_load_files_duplicate_error_names_the_file_and_lines(tmp_path):
    # positions count data rows from 0; with a header and blank lines they were far from the file's lines
    r = write(tmp_path / "ratings.csv", "user,item,rating\n1,1,2\n\n2,1,3\n1,1,4\n")
    with pytest.raises(ValueError, match=r"duplicate \(user, item\) pair \(1, 1\) at positions 0 and 2 "
                                         r"\(.*ratings\.csv lines 2 and 5\)"):
        load_files(r)


def test_load_files_duplicates_policy(tmp_path):
    r = write(tmp_path / "r.txt", "1 1 2\n1 1 4\n")
    assert load_files(r, duplicates="mean").ratings[0, 0] == 3
    assert load_files(r, duplicates="last").ratings[0, 0] == 4


def test_load_files_utf8_byte_order_mark(tmp_path):
    # Windows tools (Excel, Notepad) start UTF-8 files with a byte-order mark; it is not part of the first id
    bom = b"\xef\xbb\xbf"
    (tmp_path / "r.txt").write_bytes(bom + b"1 10 3\n2 10 4\n")
    (tmp_path / "t.txt").write_bytes(bom + b"1 3\n")
    (tmp_path / "r.csv").write_bytes(bom + b"1,10,3\n2,10,4\n")
    for ratings in ("r.txt", "r.csv"):
        ds = load_files(tmp_path / ratings, tmp_path / "t.txt")
        assert ds.user_ids.tolist() == [1, 2, 3] and ds.user_ids.dtype.kind == "i"
        assert ds.ratings[ds.user_index(1), ds.item_index(10)] == 3
        assert ds.trust[ds.user_index(1), ds.user_index(3)] == 1
    (tmp_path / "h.csv").write_bytes(bom + b"user,item,rating\nalice,m1,4\n")
    assert load_files(tmp_path / "h.csv").user_ids.tolist() == ["alice"]


@settings(deadline=None, max_examples=15)
@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20), st.integers(1, 10)), min_size=1, max_size=30,
                unique_by=lambda r: r[:2]),
       st.sampled_from([" ", ",", "\t"]))
def test_load_files_round_trip(tmp_path_factory, rows, sep):
    path = tmp_path_factory.mktemp("lf") / "r.txt"
    path.write_text("".join(f"{u}{sep}{i}{sep}{v / 2}\n" for u, i, v in rows))
    ds = load_files(path, sep=None if sep == " " else sep)
    assert ds.nnz == len(rows)
    for u, i, v in rows:
        assert ds.ratings[ds.user_index(u), ds.item_index(i)] == v / 2


# ------------------------------------------------------------------------------------------------------
# load_tang
# ------------------------------------------------------------------------------------------------------


def test_load_tang(tmp_path):
    rating = np.array([[1, 10, 3, 4, 1], [2, 10, 3, 5, 2], [1, 11, 2, 2, 1], [1, 10, 5, 3, 1]], dtype=float)
    trust = np.array([[1, 2], [2, 1], [3, 1]], dtype=float)
    scipy.io.savemat(tmp_path / "rating.mat", {"rating": rating})
    scipy.io.savemat(tmp_path / "trustnetwork.mat", {"trustnetwork": trust})
    ds = load_tang(tmp_path)
    assert ds.user_ids.tolist() == [1, 2, 3] and ds.item_ids.tolist() == [10, 11]
    assert ds.ratings[0, 0] == 3, "repeated (user, item): later row kept"
    assert ds.nnz == 3 and ds.n_trust == 3 and ds.rating_scale == (1.0, 5.0)
    assert ds.trust[2, 0] == 1 and ds.ratings[2].nnz == 0
    with pytest.raises(ValueError, match="duplicate"):
        load_tang(tmp_path, duplicates="error")


def test_load_tang_other_variable_names_and_errors(tmp_path):
    scipy.io.savemat(tmp_path / "rating.mat", {"rating_with_timestamp": np.array([[1, 1, 1, 5, 0, 99.0]])})
    scipy.io.savemat(tmp_path / "trustnetwork.mat", {"trust": np.array([[1, 2]])})
    ds = load_tang(tmp_path)
    assert ds.nnz == 1 and ds.n_trust == 1 and ds.ratings[0, 0] == 5
    scipy.io.savemat(tmp_path / "rating.mat", {"a": np.ones((2, 4)), "b": np.ones((2, 4))})
    with pytest.raises(ValueError, match="expected a variable named 'rating'"):
        load_tang(tmp_path)
    scipy.io.savemat(tmp_path / "rating.mat", {"rating": np.ones((2, 3))})
    with pytest.raises(ValueError, match="at least 4 columns"):
        load_tang(tmp_path)
    scipy.io.savemat(tmp_path / "rating.mat", {"rating": np.array([[1.5, 1, 1, 5]])})
    with pytest.raises(ValueError, match="row 1: user id 1.5 is not an integer"):
        load_tang(tmp_path)


# ------------------------------------------------------------------------------------------------------
# synthetic
# ------------------------------------------------------------------------------------------------------


def same(a, b):
    return (a.ratings != b.ratings).nnz == 0 and (a.trust != b.trust).nnz == 0


def test_synthetic_deterministic():
    a, b = synthetic(seed=3), synthetic(seed=3)
    assert same(a, b)
    assert not same(a, synthetic(seed=4))


def test_synthetic_contract_call_and_shapes():
    ds = synthetic(n_users=120, n_items=80, seed=1)
    assert ds.ratings.shape == (120, 80) and ds.trust.shape == (120, 120)
    assert len(ds.user_ids) == 120 and len(ds.item_ids) == 80
    assert ds.rating_scale == (1.0, 5.0)
    tr, te = sr.split.train_test_split(ds, test_size=0.2, seed=0)
    assert tr.ratings.shape == ds.ratings.shape and te.nnz > 0


def test_synthetic_properties():
    ds, truth = synthetic(return_truth=True)
    assert (ds.n_users, ds.n_items) == (1000, 500)
    counts = np.diff(ds.ratings.indptr)
    assert counts.min() >= 1, "every user has a rating"
    assert 0.02 < ds.nnz / (1000 * 500) < 0.04
    # skewed: many users with few ratings, a long tail
    assert np.median(counts) < counts.mean()
    assert (counts <= 5).mean() > 0.25 and counts.max() > 5 * counts.mean()
    # values on the 0.5 grid inside the scale, using most of it
    v = ds.ratings.data
    assert v.min() >= 1 and v.max() <= 5 and np.all(v * 2 == np.round(v * 2))
    assert len(np.unique(v)) >= 7
    # trust: directed, no self loops, no duplicates (canonical), values 1
    assert ds.trust.diagonal().sum() == 0 and (ds.trust.data == 1).all()
    assert (ds.trust != ds.trust.T).nnz > 0
    assert 6 < ds.n_trust / ds.n_users <= 8
    assert truth["user_factors"].shape == (1000, 5) and truth["item_factors"].shape == (500, 5)


@pytest.mark.parametrize("homophily", [0.0, 0.5, 0.9, 1.0])
def test_synthetic_homophily_fraction(homophily):
    ds, truth = synthetic(homophily=homophily, seed=2, return_truth=True)
    src, dst, _ = ds.trust_arrays()
    c = truth["communities"]
    inside = np.mean(c[src] == c[dst])
    expected = homophily + (1 - homophily) / 10
    assert abs(inside - expected) < 0.03


def taste_similarity(truth, src, dst):
    p = truth["user_factors"]
    p = p / np.linalg.norm(p, axis=1, keepdims=True)
    return float(np.mean(np.sum(p[src] * p[dst], axis=1)))


def test_synthetic_homophily_zero_has_no_social_signal():
    rng = np.random.default_rng(0)
    strong, t_strong = synthetic(homophily=0.9, return_truth=True)
    none, t_none = synthetic(homophily=0.0, return_truth=True)
    a = rng.integers(0, 1000, 20000); b = rng.integers(0, 1000, 20000)
    keep = a != b
    base = taste_similarity(t_none, a[keep], b[keep])
    s_none = taste_similarity(t_none, *none.trust_arrays()[:2])
    s_strong = taste_similarity(t_strong, *strong.trust_arrays()[:2])
    assert abs(s_none - base) < 0.05
    assert s_strong > base + 0.4
    # homophily only changes the trust graph, not the ratings
    assert (strong.ratings != none.ratings).nnz == 0
    assert (synthetic(trust_per_user=3).ratings != strong.ratings).nnz == 0


def agreement(ds, src, dst):
    """Mean product of item-centred ratings over co-rated items of the pairs (src, dst)."""
    r = ds.ratings.tocsc(copy=True)
    item_mean = np.asarray(r.sum(0)).ravel() / np.maximum(np.diff(r.indptr), 1)
    r.data -= np.repeat(item_mean, np.diff(r.indptr)).astype(np.float32)
    r = r.tocsr()
    b = r.copy(); b.data[:] = 1
    prod = np.asarray((r[src].multiply(r[dst])).sum(1)).ravel()
    co = np.asarray((b[src].multiply(b[dst])).sum(1)).ravel()
    return prod.sum() / co.sum()


def test_synthetic_social_signal_is_visible_in_ratings():
    strong = synthetic(homophily=0.9, density=0.1)
    none = synthetic(homophily=0.0, density=0.1)
    rng = np.random.default_rng(1)
    a = rng.integers(0, 1000, 20000); b = rng.integers(0, 1000, 20000)
    random_pairs = agreement(strong, a[a != b], b[a != b])
    linked = agreement(strong, *strong.trust_arrays()[:2])
    unlinked = agreement(none, *none.trust_arrays()[:2])
    assert linked > 3 * max(random_pairs, 0.05)
    assert abs(unlinked - random_pairs) < 0.1


@pytest.mark.parametrize(
    "kw, pattern",
    [
        (dict(n_users=1), "n_users"),
        (dict(n_items=0), "n_items"),
        (dict(density=0), "density"),
        (dict(density=1.5), "density"),
        (dict(homophily=1.2), "homophily"),
        (dict(n_communities=0), "n_communities"),
        (dict(n_users=5, n_communities=6), "n_communities"),
        (dict(trust_per_user=0.5), "trust_per_user"),
        (dict(noise=-1), "noise"),
        (dict(rating_scale=(5, 1)), "rating_scale"),
        (dict(factors=0), "factors"),
    ],
)
def test_synthetic_validation(kw, pattern):
    with pytest.raises(ValueError, match=pattern):
        synthetic(**kw)


@settings(deadline=None, max_examples=15)
@given(st.integers(2, 40), st.integers(1, 30), st.integers(1, 5), st.floats(0, 1), st.integers(0, 2**32))
def test_synthetic_small_shapes(n_users, n_items, n_communities, homophily, seed):
    n_communities = min(n_communities, n_users)
    ds = synthetic(n_users=n_users, n_items=n_items, n_communities=n_communities, homophily=homophily,
                   trust_per_user=3, seed=seed)
    assert ds.ratings.shape == (n_users, n_items) and ds.trust.shape == (n_users, n_users)
    assert (np.diff(ds.ratings.indptr) >= 1).all()
    assert ds.trust.diagonal().sum() == 0 and (np.diff(ds.trust.indptr) >= 1).all()
    assert isinstance(ds.ratings, sp.csr_matrix)


def test_load_files_refuses_to_guess_among_more_than_three_columns(tmp_path):
    # issue 16, trap 1: the third of six columns (a genre id) was taken for the rating, silently
    r = tmp_path / "movie-ratings.txt"
    r.write_text("userID,movieID,genreID,reviewID,rating,date\n1,5274,17,100,4,2011-01-02\n"
                 "2,5275,3,101,5,2011-01-03\n")
    with pytest.raises(ValueError) as info:
        load_files(r)
    message = str(info.value)
    assert message.startswith(f"{r} has 6 columns; say which hold (user, item[, rating]) with columns=(u, i, r)")
    assert message.splitlines()[1:] == ["  0: 'userID' | '1' | '2'", "  1: 'movieID' | '5274' | '5275'",
                                        "  2: 'genreID' | '17' | '3'", "  3: 'reviewID' | '100' | '101'",
                                        "  4: 'rating' | '4' | '5'", "  5: 'date' | '2011-01-02' | '2011-01-03'"]
    ds = load_files(r, columns=(0, 1, 4))
    assert ds.rating_scale == (4.0, 5.0) and ds.item_ids.tolist() == [5274, 5275]
    t = tmp_path / "trust.txt"
    t.write_text("1 2 1.0 2019\n")
    with pytest.raises(ValueError, match=r"trust\.txt has 4 columns; say which hold \(trustor, trustee\[, value\]\) "
                                         r"with trust_columns="):
        load_files(r, trust=t, columns=(0, 1, 4))
    assert load_files(r, trust=t, columns=(0, 1, 4), trust_columns=(0, 1)).n_trust == 1
