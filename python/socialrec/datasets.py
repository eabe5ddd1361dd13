"""Loaders for public social-recommendation data sets, a generic file loader, and synthetic data.

* :func:`load_filmtrust` -- FilmTrust (Guo, Zhang, Yorke-Smith 2013): ``ratings.txt`` + ``trust.txt``.
* :func:`load_lastfm` -- hetrec2011-lastfm-2k: ``user_artists.dat`` + ``user_friends.dat``.
* :func:`load_tang` -- Ciao / Epinions as released by Tang et al.: ``rating.mat`` + ``trustnetwork.mat``.
* :func:`load_files` -- any whitespace / CSV / TSV ratings file with an optional trust file.
* :func:`synthetic` -- planted-community data with tunable social homophily (the embedded demo data).

The loaders keep the raw ids (``Dataset.user_ids`` / ``item_ids``); integer ids stay integers. Indices
follow ascending raw id, users with ratings first, then users seen only in the trust graph (see
:meth:`socialrec.Dataset.from_raw`).
"""

from __future__ import annotations

import codecs
import csv
import itertools
import numbers
import os
from typing import NamedTuple

import numpy as np

from .data import Dataset
from .features import Features, tags

__all__ = ["LastFMArtists", "load_filmtrust", "load_lastfm", "load_tang", "load_files", "synthetic"]


# --------------------------------------------------------------------------------------------------------
# text files
# --------------------------------------------------------------------------------------------------------


def _is_number(s):
    try:
        float(s)
    except ValueError:
        return False
    return True


def _sniff_sep(first_line):
    if "," in first_line:
        return ","
    return None


def _reading_encoding(encoding):
    """The codec to open a text file with: UTF-8 as ``utf-8-sig``, which drops a leading byte-order mark
    (written by Windows tools) instead of gluing it to the first id; every other encoding unchanged."""
    try:
        return "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding
    except LookupError:  # an unknown codec: let open() report it
        return encoding


def _split_lines(path, sep, encoding):
    """Yield ``(line_number, fields)`` for every non-blank line of a text file (1-based numbers).

    Undecodable bytes and malformed CSV (a quote that never closes, a field over the csv module's size
    limit) raise a ``ValueError`` naming the file and the line.
    """
    no = 0
    with open(path, newline="", encoding=_reading_encoding(encoding)) as f:
        try:
            if sep is None:
                for no, line in enumerate(f, 1):
                    fields = line.split()
                    if fields:
                        yield no, fields
            else:
                reader = csv.reader(f, delimiter=sep, strict=True)  # an unclosed quote raises
                for fields in reader:
                    no = reader.line_num
                    fields = [x.strip() for x in fields]
                    if any(fields):
                        yield no, fields
        except UnicodeDecodeError as e:
            raise _decode_error(path, encoding, e) from None
        except csv.Error as e:
            raise ValueError(f"{path} line {no + 1}: {e}") from None


def _decode_error(path, encoding, e):
    line = _undecodable_line(path, encoding)
    where = f" line {line}" if line else ""
    return ValueError(f"{path}{where}: not valid {encoding} text ({e.reason})")


def _undecodable_line(path, encoding):
    """1-based number of the first line that does not decode (None if no single line is to blame)."""
    with open(path, "rb") as f:
        for no, raw in enumerate(f, 1):
            try:
                raw.decode(encoding)
            except UnicodeDecodeError:
                return no
    return None


def _first_line(path, encoding):
    with open(path, encoding=_reading_encoding(encoding)) as f:
        try:
            for line in f:
                if line.strip():
                    return line
        except UnicodeDecodeError as e:
            raise _decode_error(path, encoding, e) from None
    return ""


def _read_columns(path, sep, columns, header, what, value_name, encoding, argument="columns"):
    """Read two id columns and an optional value column of a delimited text file.

    With ``columns=None`` a file of more than three fields per line is refused (``argument`` names the
    parameter that chooses them in the message).

    Returns ``(col_a, col_b, values_or_None, line_numbers)`` with the id columns as lists of str and the
    values as a float64 array (``None`` for implicit data).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{what} file not found: {path}")
    if sep is None:
        sep = _sniff_sep(_first_line(path, encoding))
    rows = _split_lines(path, sep, encoding)
    first = next(rows, None)
    if first is None:
        raise ValueError(f"{path}: no data (the file is empty)")
    default_columns = columns is None
    if default_columns:
        if len(first[1]) > 3:  # which one is the rating? Guessing "the third" trained on genre ids (issue 16)
            raise ValueError(_which_columns(path, first, rows, what, argument))
        columns = (0, 1, 2) if len(first[1]) >= 3 else (0, 1)
    columns = tuple(columns)
    if len(columns) == 3 and columns[2] is None:
        columns = columns[:2]
    if len(columns) not in (2, 3) or not all(_is_position(c) for c in columns):
        raise ValueError(f"columns must be 2 or 3 non-negative column positions, got {columns!r}")
    columns = tuple(int(c) for c in columns)
    need = max(columns) + 1
    has_value = len(columns) == 3

    second = None
    if header is None:
        f0 = first[1]
        if has_value:
            header = len(f0) > columns[2] and not _is_number(f0[columns[2]])
        else:
            header = False
            second = next(rows, None)
            if second is not None:
                a0 = [f0[c] for c in columns if c < len(f0)]
                a1 = [second[1][c] for c in columns if c < len(second[1])]
                header = not all(map(_is_number, a0)) and all(map(_is_number, a1))
                rows = _chain(second, rows)
    if header and default_columns and not has_value:
        # a header's field count says nothing about the rows: "user item" above "1 10 3" has ratings
        if second is None:
            second = next(rows, None)
            if second is not None:
                rows = _chain(second, rows)
        if second is not None and len(second[1]) >= 3:
            columns, need, has_value = (0, 1, 2), 3, True
    data_rows = rows if header else _chain(first, rows)

    col_a, col_b, raw_values, lines = [], [], [], []
    for no, fields in data_rows:
        if len(fields) < need:
            raise ValueError(f"{path} line {no}: expected {need} columns, got {len(fields)}")
        col_a.append(fields[columns[0]])
        col_b.append(fields[columns[1]])
        if has_value:
            raw_values.append(fields[columns[2]])
        lines.append(no)
    if not lines:
        raise ValueError(f"{path}: no data rows")
    values = None
    if has_value:
        try:
            values = np.array(raw_values, dtype=np.float64)
        except ValueError:
            for no, s in zip(lines, raw_values):
                if not _is_number(s):
                    raise ValueError(f"{path} line {no}: {value_name} {s!r} is not a number") from None
            raise
        bad = ~np.isfinite(values)
        if bad.any():
            pos = int(np.argmax(bad))
            raise ValueError(f"{path} line {lines[pos]}: {value_name} {raw_values[pos]!r} is not finite")
        big = np.abs(values) > float(np.finfo(np.float32).max)
        if big.any():
            pos = int(np.argmax(big))
            raise ValueError(f"{path} line {lines[pos]}: {value_name} {raw_values[pos]!r} does not fit float32")
    return col_a, col_b, values, lines


def _which_columns(path, first, rows, what, argument):
    """The refusal of a file with more than three columns and no ``columns=``: its first lines, by column,
    so that the user sees which column holds the ids and which the value."""
    lines = [first[1]] + [fields for _, fields in itertools.islice(rows, 2)]
    width = max(len(f) for f in lines)
    roles = "(trustor, trustee[, value])" if what == "trust" else "(user, item[, rating])"
    shown = []
    for c in range(width):
        samples = " | ".join(repr(f[c]) if c < len(f) else "-" for f in lines)
        shown.append(f"  {c}: {samples}")
    return (f"{path} has {len(first[1])} columns; say which hold {roles} with {argument}=(u, i, r), "
            f"0-based positions (an implicit file: {argument}=(u, i)). Its first lines, by column:\n"
            + "\n".join(shown))


def _is_position(c):
    return isinstance(c, numbers.Integral) and not isinstance(c, (bool, np.bool_)) and c >= 0


def _chain(first, rest):
    yield first
    yield from rest


def _ids(*cols):
    """Convert id columns (lists of str) to int64 arrays when every id is a plain integer, else str.

    Ids holding a NUL character stay Python strings (object arrays): NumPy's fixed-width strings drop trailing
    NULs, which would merge "a\\0" into "a" (issue 22; ``Model.save`` keeps them in its metadata)."""
    if any("\0" in "".join(c) for c in cols):  # one C-level scan per column; the rare case only pays more
        return [np.array(c, dtype=object) for c in cols]
    arrays = [np.array(c, dtype=str) for c in cols]
    try:
        ints = [a.astype(np.int64) for a in arrays]
    except (ValueError, OverflowError):  # not integers, or integers beyond int64: keep the strings
        return arrays
    if all(np.array_equal(i.astype(str), a) for i, a in zip(ints, arrays)):
        return ints
    return arrays


def load_files(
    ratings,
    trust=None,
    sep=None,
    columns=None,
    rating_scale=None,
    header=None,
    duplicates="error",
    trust_columns=None,
    encoding="utf-8",
):
    """Load ratings (and a trust graph) from delimited text files.

    Parameters
    ----------
    ratings : str or os.PathLike
        The ratings file: one rating per line.
    trust : str or os.PathLike, optional
        The trust file: ``trustor trustee [value]`` per line (directed edges).
    sep : str, optional
        Field separator, e.g. ``","`` or ``"\\t"`` (read with the :mod:`csv` module, so quoted fields
        work). ``None`` (default): a comma if the first non-blank line has one, else any run of whitespace.
    columns : tuple of int, optional
        Positions (0-based) of the ``(user, item, value)`` columns; ``(user, item)`` or a ``None`` value
        position means implicit data (every value 1.0). Default: ``(0, 1, 2)``, or ``(0, 1)`` when the
        first line has only two fields (the first line below a header, when there is one). A file with
        more than three fields per line needs ``columns``: it is refused with a ``ValueError`` that lists
        its columns with sample values (so that no other column is taken for the rating).
    rating_scale : (float, float), optional
        Default: the range of the values.
    header : bool, optional
        Whether the first non-blank line is a header. ``None`` (default) detects it: with a value column,
        the first line is a header when its value field is not a number; without one, when its id fields
        are not all numbers but those of the second line are.
    duplicates : {"error", "mean", "last"}
        Policy for repeated (user, item) pairs, see :meth:`Dataset.from_arrays`.
    trust_columns : tuple of int, optional
        Positions of ``(trustor, trustee[, value])`` in the trust file; default ``(0, 1, 2)`` or ``(0, 1)``
        like ``columns`` (and required, like it, for a file of more than three fields per line). ``sep``
        and ``header`` apply to both files.
    encoding : str
        Text encoding of both files. With UTF-8 (the default) a leading byte-order mark is skipped.

    Returns
    -------
    Dataset
        Ids that are all plain integers are kept as int64 raw ids, other ids as strings.

    Raises
    ------
    ValueError
        Naming the file and the 1-based line: ``"ratings.csv line 7: expected 3 columns, got 2"``,
        ``"ratings.csv line 9: rating 'abc' is not a number"``.
    FileNotFoundError
        If a file does not exist.
    """
    if sep is not None and (not isinstance(sep, str) or len(sep) != 1):
        raise ValueError(f"sep must be a single character (or None for runs of whitespace), got {sep!r}")
    users, items, values, lines = _read_columns(ratings, sep, columns, header, "ratings", "rating", encoding)
    if values is None:
        values = np.ones(len(users), dtype=np.float64)
    src_a = dst_a = tvals = None
    if trust is not None:
        src, dst, tvals, _ = _read_columns(trust, sep, trust_columns, header, "trust", "trust value",
                                           encoding, argument="trust_columns")
        users_a, src_a, dst_a = _ids(users, src, dst)
    else:
        (users_a,) = _ids(users)
    (items_a,) = _ids(items)
    path = os.fspath(ratings)
    return Dataset._from_raw(users_a, items_a, values, src_a, dst_a, tvals, duplicates, rating_scale,
                             where=lambda i, j: f"{path} lines {lines[i]} and {lines[j]}")


# --------------------------------------------------------------------------------------------------------
# public data sets
# --------------------------------------------------------------------------------------------------------


def _need(folder, *names):
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"data folder not found: {folder}")
    paths = [os.path.join(folder, n) for n in names]
    missing = [n for n, p in zip(names, paths) if not os.path.isfile(p)]
    if missing:
        raise FileNotFoundError(f"{folder} lacks {', '.join(missing)}")
    return paths


def load_filmtrust(path, duplicates="last"):
    """Load FilmTrust (Guo, Zhang, Yorke-Smith, IJCAI 2013).

    Parameters
    ----------
    path : str or os.PathLike
        Folder with ``ratings.txt`` (``user item rating``) and ``trust.txt`` (``trustor trustee value``),
        space-separated, no header.
    duplicates : {"last", "mean", "error"}
        The file repeats 3 (user, item) pairs; the default keeps the later row, giving 35,494 ratings
        (the PEERS.md protocol).

    Returns
    -------
    Dataset
        1,642 users (the 134 users seen only in ``trust.txt`` have no ratings and come last), 2,071
        items, 35,494 ratings on the scale (0.5, 4.0), 1,853 directed trust edges. Raw ids are ints.
    """
    ratings, trust = _need(path, "ratings.txt", "trust.txt")
    return load_files(ratings, trust, sep=None, columns=(0, 1, 2), rating_scale=(0.5, 4.0), header=False,
                      duplicates=duplicates, trust_columns=(0, 1, 2))


class LastFMArtists(NamedTuple):
    """The side information of hetrec2011-lastfm-2k's artists (``load_lastfm(path, item_features=True)``).

    ``ids``: artist ids (those of the ratings, ascending); ``names``: each one's name (``artists.dat``; ``""``
    where the file has none), ready for ``sr.features.text_embeddings(names, ids)``; ``tags``: a sparse
    ``Features`` of the tagged artists x tag names (``user_taggedartists.dat`` with ``tags.dat``'s names, by
    ``sr.features.tags``: ``1 + log(count)`` per entry, unit rows)."""

    ids: np.ndarray
    names: list
    tags: Features


def load_lastfm(path, item_features=False):
    """Load hetrec2011-lastfm-2k (implicit feedback with a friendship graph).

    Parameters
    ----------
    path : str or os.PathLike
        Folder with ``user_artists.dat`` (header, tab-separated ``userID artistID weight``) and
        ``user_friends.dat`` (header, tab-separated ``userID friendID``); with ``item_features`` also
        ``artists.dat`` (``id name url pictureURL``, UTF-8), ``tags.dat`` (``tagID tagValue``, ISO-8859-1)
        and ``user_taggedartists.dat`` (``userID artistID tagID day month year``).
    item_features : bool
        Also return the artists' names and tags (``LastFMArtists``). Tag assignments of artists that have
        no listening record (390 artists in the release) are left out, so a model fitted with these tags
        knows the same artists as the ratings.

    Returns
    -------
    Dataset, or (Dataset, LastFMArtists) with ``item_features``
        1,892 users, 17,632 artists, 92,834 ratings whose value is the listening count (``weight``),
        and the friendship graph stored in both directions (25,434 directed edges). Binarise the values
        for one-class models if needed. Raw ids are ints. 12,133 of the artists have at least one tag
        (9,718 distinct tags used).
    """
    ratings, friends = _need(path, "user_artists.dat", "user_friends.dat")
    users, items, values, _ = _read_columns(ratings, "\t", (0, 1, 2), True, "ratings", "weight", "utf-8")
    src, dst, _, _ = _read_columns(friends, "\t", (0, 1), True, "trust", "value", "utf-8")
    users_a, src_a, dst_a = _ids(users, src, dst)
    (items_a,) = _ids(items)
    # friendship is symmetric: store both directions (Dataset.from_raw removes repeated edges)
    both_src = np.concatenate([src_a, dst_a])
    both_dst = np.concatenate([dst_a, src_a])
    ds = Dataset.from_raw(users_a, items_a, values, trust_src=both_src, trust_dst=both_dst, duplicates="error")
    if not item_features:
        return ds
    return ds, _lastfm_artists(path, ds.item_ids)


def _tab_rows(path, encoding, min_fields):
    """``(line number, fields)`` of a tab-separated file with a header (fields split on tabs only: artist
    names hold quotes and spaces), refusing a line of fewer than ``min_fields`` fields."""
    with open(path, encoding=encoding, newline="") as f:
        next(f, None)
        for no, line in enumerate(f, 2):
            line = line.rstrip("\r\n")
            if not line:
                continue
            fields = line.split("\t")
            if len(fields) < min_fields:
                raise ValueError(f"{path} line {no}: expected {min_fields} tab-separated fields, got {len(fields)}")
            yield no, fields


def _int_field(path, no, value, name):
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{path} line {no}: {name} {value!r} is not an integer") from None


def _lastfm_artists(path, artist_ids):
    """``LastFMArtists`` of the artists ``artist_ids`` (the dataset's, ascending ints)."""
    artists_path, tags_path, tagged_path = _need(path, "artists.dat", "tags.dat", "user_taggedartists.dat")
    names = {}
    for no, f in _tab_rows(artists_path, "utf-8", 2):
        names[_int_field(artists_path, no, f[0], "artist id")] = f[1]
    tag_names = {}
    for no, f in _tab_rows(tags_path, "iso-8859-1", 2):
        tag_names[_int_field(tags_path, no, f[0], "tag id")] = f[1]
    rows = [(_int_field(tagged_path, no, f[1], "artist id"), _int_field(tagged_path, no, f[2], "tag id"))
            for no, f in _tab_rows(tagged_path, "utf-8", 3)]
    tagged = np.array(rows, dtype=np.int64).reshape(-1, 2)
    known = np.isin(tagged[:, 0], artist_ids)
    unnamed = sorted(set(tagged[:, 1].tolist()) - set(tag_names))
    if unnamed:
        raise ValueError(f"{tagged_path}: tag id(s) {unnamed[:5]} are not in {tags_path}")
    tag_matrix = tags(tagged[known, 0], tagged[known, 1])
    tag_matrix.columns = np.array([tag_names[t] for t in tag_matrix.columns.tolist()], dtype=object)
    ids = np.asarray(artist_ids)
    return LastFMArtists(ids, [names.get(int(a), "") for a in ids.tolist()], tag_matrix)


def _mat_variable(path, preferred):
    from scipy.io import loadmat

    contents = loadmat(path)
    names = [k for k in contents if not k.startswith("__")]
    if preferred in contents:
        return contents[preferred]
    if len(names) == 1:
        return contents[names[0]]
    raise ValueError(f"{path}: expected a variable named {preferred!r}, found {names}")


def _integral_ids(col, path, name):
    col = np.asarray(col, dtype=np.float64)
    bad = ~np.isfinite(col) | (col != np.round(col))
    if bad.any():
        pos = int(np.argmax(bad))
        raise ValueError(f"{path} row {pos + 1}: {name} id {float(col[pos])!r} is not an integer")
    return col.astype(np.int64)


def load_tang(path, duplicates="last", rating_scale=(1.0, 5.0), rating_file="rating.mat",
              trust_file="trustnetwork.mat"):
    """Load Ciao or Epinions as released by Jiliang Tang et al. (MATLAB files).

    Parameters
    ----------
    path : str or os.PathLike
        Folder with ``rating.mat`` (variable ``rating``: columns user, item, category, rating
        [, helpfulness [, time]]) and ``trustnetwork.mat`` (variable ``trustnetwork``: columns trustor,
        trustee). When a file's expected variable is absent, its only non-``__`` variable is used.
    duplicates : {"last", "mean", "error"}
        The releases repeat some (user, item) pairs (one item in several categories); default: keep the
        later row.
    rating_scale : (float, float)
        Default ``(1, 5)``.
    rating_file, trust_file : str
        File names inside ``path``.

    Returns
    -------
    Dataset
        Directed trust; raw ids are ints.
    """
    rating_path, trust_path = _need(path, rating_file, trust_file)
    r = np.asarray(_mat_variable(rating_path, "rating"))
    if r.ndim != 2 or r.shape[1] < 4:
        raise ValueError(f"{rating_path}: expected a matrix with at least 4 columns "
                         f"(user, item, category, rating), got shape {r.shape}")
    t = np.asarray(_mat_variable(trust_path, "trustnetwork"))
    if t.ndim != 2 or t.shape[1] < 2:
        raise ValueError(f"{trust_path}: expected a matrix with 2 columns (trustor, trustee), got shape {t.shape}")
    return Dataset.from_raw(
        _integral_ids(r[:, 0], rating_path, "user"),
        _integral_ids(r[:, 1], rating_path, "item"),
        np.asarray(r[:, 3], dtype=np.float64),
        trust_src=_integral_ids(t[:, 0], trust_path, "user"),
        trust_dst=_integral_ids(t[:, 1], trust_path, "user"),
        duplicates=duplicates,
        rating_scale=rating_scale,
    )


# --------------------------------------------------------------------------------------------------------
# synthetic data
# --------------------------------------------------------------------------------------------------------


def synthetic(
    n_users=1000,
    n_items=500,
    factors=5,
    density=0.03,
    n_communities=10,
    homophily=0.9,
    trust_per_user=8,
    noise=0.3,
    rating_scale=(1.0, 5.0),
    seed=0,
    return_truth=False,
):
    """Ratings and a trust graph with planted communities and tunable social homophily.

    The generative model (all draws from ``numpy.random.default_rng(seed)``):

    * users are split evenly into ``n_communities`` communities (randomly assigned);
    * community ``c`` has a taste centroid ``m_c ~ N(0, I)``; user ``u``'s taste is
      ``p_u = m_c(u) + 0.3 * N(0, I)`` -- a small individual deviation;
    * item factors ``q_i ~ N(0, I / factors)`` (scaled by 0.9) and item bias ``b_i ~ N(0, 0.3^2)``;
    * each user rates ``n_u = max(1, round(LogNormal))`` items (median about 60% of the mean
      ``density * n_items``, heavy right tail, so many users have only a few ratings), drawn with
      replacement from a Zipf-like item popularity and then de-duplicated;
    * rating ``r_ui = clip(round_to_0.5(mid + p_u . q_i + b_i + noise * N(0, 1)), *rating_scale)``
      with ``mid`` the middle of the scale;
    * each user ``u`` trusts ``1 + Poisson(trust_per_user - 1)`` others: with probability ``homophily``
      a uniformly drawn member of ``u``'s community, otherwise a uniformly drawn user (any community).
      Directed, no self-loops, repeated edges removed, all values 1.

    So with high ``homophily`` the trusted users of a cold user share its taste and a social model can
    borrow from them, while ``homophily=0`` gives a trust graph drawn independently of the tastes: the
    tastes of trusting pairs are then no more alike than those of random pairs (no social signal).
    The trust graph is drawn last, so for one seed, changing ``homophily`` or ``trust_per_user`` changes
    the trust graph only: the ratings stay the same, which makes social vs. non-social comparisons clean.

    Parameters
    ----------
    n_users, n_items : int
        Sizes (``n_users >= 2``, ``n_items >= 1``).
    factors : int
        Dimension of the planted tastes.
    density : float
        Target mean fraction of items a user rates, in (0, 1].
    n_communities : int
        Number of planted communities, ``1 <= n_communities <= n_users``.
    homophily : float
        Probability in [0, 1] that a trust edge stays inside the truster's community.
    trust_per_user : float
        Mean out-degree of the trust graph (``>= 1``).
    noise : float
        Standard deviation of the rating noise (``>= 0``).
    rating_scale : (float, float)
        Ratings are rounded to steps of 0.5 and clipped into this range.
    seed : int
    return_truth : bool
        Also return the planted parameters.

    Returns
    -------
    Dataset
        Raw ids are ``arange``.
    truth : dict, only with ``return_truth=True``
        ``communities`` (int64, per user), ``user_factors`` (n_users x factors), ``item_factors``
        (n_items x factors), ``item_bias``, ``global_mean`` (the scale's middle).
    """
    n_users = _pos_int(n_users, "n_users", 2)
    n_items = _pos_int(n_items, "n_items", 1)
    factors = _pos_int(factors, "factors", 1)
    n_communities = _pos_int(n_communities, "n_communities", 1)
    if n_communities > n_users:
        raise ValueError(f"n_communities={n_communities} exceeds n_users={n_users}")
    if not 0.0 < float(density) <= 1.0:
        raise ValueError(f"density must be in (0, 1], got {density!r}")
    if not 0.0 <= float(homophily) <= 1.0:
        raise ValueError(f"homophily must be in [0, 1], got {homophily!r}")
    if not float(trust_per_user) >= 1.0:
        raise ValueError(f"trust_per_user must be >= 1, got {trust_per_user!r}")
    if not float(noise) >= 0.0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    lo, hi = float(rating_scale[0]), float(rating_scale[1])
    if not lo < hi:
        raise ValueError(f"rating_scale must be (min, max) with min < max, got {rating_scale!r}")
    rng = np.random.default_rng(seed)

    # planted tastes
    communities = rng.permutation(np.arange(n_users) % n_communities)
    centroids = rng.standard_normal((n_communities, factors))
    user_factors = centroids[communities] + 0.3 * rng.standard_normal((n_users, factors))
    item_factors = 0.9 / np.sqrt(factors) * rng.standard_normal((n_items, factors))
    item_bias = 0.3 * rng.standard_normal(n_items)

    # which items each user rates: skewed counts, Zipf-like popularity
    mean_count = float(density) * n_items
    sigma = 1.0
    counts = np.rint(rng.lognormal(np.log(mean_count) - sigma**2 / 2, sigma, n_users)).astype(np.int64)
    counts = np.clip(counts, 1, n_items)
    popularity = 1.0 / np.arange(1, n_items + 1) ** 0.8
    popularity = popularity[rng.permutation(n_items)]
    popularity /= popularity.sum()
    users = np.repeat(np.arange(n_users, dtype=np.int64), counts)
    items = rng.choice(n_items, size=len(users), p=popularity)
    pairs = np.unique(users * n_items + items)
    users, items = pairs // n_items, pairs % n_items

    mid = (lo + hi) / 2
    raw = (mid + np.einsum("ij,ij->i", user_factors[users], item_factors[items]) + item_bias[items]
           + float(noise) * rng.standard_normal(len(users)))
    values = np.clip(np.round(raw * 2) / 2, lo, hi)

    # trust: mostly inside the community
    degree = np.minimum(1 + rng.poisson(float(trust_per_user) - 1, n_users), n_users - 1)
    src = np.repeat(np.arange(n_users, dtype=np.int64), degree)
    inside = rng.random(len(src)) < float(homophily)
    # members of each community, grouped; each user's position inside its group
    by_comm = np.argsort(communities, kind="stable")
    comm_size = np.bincount(communities, minlength=n_communities)
    comm_start = np.concatenate(([0], np.cumsum(comm_size)[:-1]))
    position = np.empty(n_users, dtype=np.int64)
    position[by_comm] = np.arange(n_users) - comm_start[communities[by_comm]]
    c = communities[src]
    inside &= comm_size[c] > 1
    # a uniform other member: draw among size-1 slots and skip the truster's own slot
    slot = np.floor(rng.random(len(src)) * np.maximum(comm_size[c] - 1, 1)).astype(np.int64)
    slot += slot >= position[src]
    dst_inside = by_comm[np.minimum(comm_start[c] + slot, n_users - 1)]
    # a uniform other user
    other = rng.integers(0, n_users - 1, size=len(src))
    other += other >= src
    dst = np.where(inside, dst_inside, other)
    edges = np.unique(src * n_users + dst)
    src, dst = edges // n_users, edges % n_users

    ds = Dataset.from_arrays(users, items, values, trust_src=src, trust_dst=dst, n_users=n_users,
                             n_items=n_items, rating_scale=(lo, hi))
    if not return_truth:
        return ds
    truth = dict(communities=communities.astype(np.int64), user_factors=user_factors,
                 item_factors=item_factors, item_bias=item_bias, global_mean=mid)
    return ds, truth


def _pos_int(x, name, low):
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {x!r}")
    return int(x)
