"""Hostile model files and paths (issue 22, the model-file half): ``sr.load`` validates every array of a file
before using it and never inflates more than the model's parameters imply; ``save`` writes through symlinks,
replaces regular files only and keeps their mode. Crash-class cases run in a subprocess (model_files.run_python),
so a regression fails its test instead of killing the suite. The Hypothesis fuzz of ``sr.load`` is at the end.
"""
from __future__ import annotations

import io
import os
import stat
import struct
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import socialrec as sr
from model_files import apply_edits, npy_bytes, pack, run_python, saved, unpack, zip_bytes
from model_suite import CASES, tiny_data
from strategies import model_file_edits

# A child that loads the file at argv[1] and, if it loads, queries it: prints REFUSED or LOADED, never crashes.
LOAD_AND_QUERY = """
    import sys, numpy as np, socialrec as sr
    try:
        model = sr.load(sys.argv[1])
    except ValueError as e:
        print("REFUSED", e)
        sys.exit(0)
    users = np.arange(model.n_users_)
    model.recommend(users, n=5, ids="index")
    print("LOADED", np.isfinite(model.predict(users, users % model.n_items_, ids="index")).all())
"""


def write(tmp_path, data, name="m.npz"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def edited(case_name, edit):
    """The bytes of ``case_name``'s file after ``edit(arrays, meta)``."""
    arrays, meta = unpack(saved(case_name))
    edit(arrays, meta)
    return pack(arrays, meta)


def refused(path, match):
    with pytest.raises(ValueError, match=match) as info:
        sr.load(path)
    assert str(path) in str(info.value)


# ----------------------------------------------------------------------------------------------------------
# 1. crafted arrays that crashed load or the first query
# ----------------------------------------------------------------------------------------------------------
def backwards_unsigned(offsets):
    """Offsets as uint64 that go backwards in one row while the first and last stay right: in uint64 the
    backward step wraps around to a huge positive difference (np.diff in the file's dtype missed it)."""
    bad = offsets.astype(np.uint64)
    k = len(bad) // 2
    bad[k] = bad[-1] + np.uint64(1000)
    return bad


@pytest.mark.parametrize("case_name, member", [("BiasedMF", "seen/indptr"), ("BPR", "seen/indptr"),
                                               ("RSTE", "fit/trust_indptr_"), ("TrustSVD", "fit/trust_indptr_")])
def test_offsets_that_wrap_around_in_their_dtype_are_refused_without_a_crash(tmp_path, case_name, member):
    path = write(tmp_path, edited(case_name, lambda a, m: a.update({member: backwards_unsigned(a[member])})))
    proc = run_python(LOAD_AND_QUERY, path)
    assert proc.returncode == 0, f"the child died ({proc.returncode}): {proc.stderr[-2000:]}"
    assert proc.stdout.startswith("REFUSED") and "not a valid CSR structure" in proc.stdout, proc.stdout


@pytest.mark.parametrize("edit, match", [
    ("unsorted", r"not strictly increasing"),
    ("duplicate", r"not strictly increasing"),
    ("negative", r"outside \[0, 30\)"),
    ("offset-beyond-int64", r"beyond int64"),
], ids=lambda x: x if isinstance(x, str) and " " not in x and "\\" not in x else "")
def test_seen_items_must_be_a_canonical_csr_structure(tmp_path, edit, match):
    def change(arrays, meta):
        indptr, indices = arrays["seen/indptr"], arrays["seen/indices"].copy()
        row = int(np.argmax(np.diff(indptr) >= 2))  # a row with two items at least
        a, b = indptr[row], indptr[row + 1]
        if edit == "unsorted":
            indices[a:b] = indices[a:b][::-1]
        elif edit == "duplicate":
            indices[a + 1] = indices[a]
        elif edit == "negative":
            indices[a] = -1
        else:
            indptr = indptr.astype(np.uint64)
            indptr[1] = np.uint64(2**63)
        arrays["seen/indptr"], arrays["seen/indices"] = indptr, indices
    refused(write(tmp_path, edited("BiasedMF", change)), f"inconsistent BiasedMF model file .*{match}")


def test_unknown_members_are_refused(tmp_path):
    path = write(tmp_path, edited("BiasedMF", lambda a, m: a.update({"param/extra_factors": np.zeros((3, 4))})))
    refused(path, r"unknown archive members \['param/extra_factors'\]")
    # a bias array of a model saved with biased=False is unknown too
    path = write(tmp_path, edited("PMF", lambda a, m: a.update({"param/user_bias": np.zeros(40, np.float32)})))
    refused(path, r"unknown archive members \['param/user_bias'\]")
    path = write(tmp_path, zip_bytes([(n, npy_bytes(v)) for n, v in _members("BiasedMF")] + [("notes.txt", b"x")]))
    refused(path, r"not a socialrec model file \(unexpected archive member 'notes.txt'")


def test_duplicate_and_encrypted_members_are_refused(tmp_path):
    members = [(n, npy_bytes(v)) for n, v in _members("BiasedMF")]
    with pytest.warns(UserWarning, match="Duplicate name"):
        data = zip_bytes(members + [members[-1]])
    refused(write(tmp_path, data), r"not a socialrec model file \(archive member .* appears twice")
    data = bytearray(zip_bytes(members))
    central = data.index(b"PK\x01\x02")  # the first central directory entry: set its "encrypted" flag
    data[central + 8] |= 1
    refused(write(tmp_path, bytes(data), "enc.npz"), r"not a socialrec model file \(archive member .* is encrypted")


def _members(case_name):
    """The ``(name.npy, array)`` members of a saved file, metadata first."""
    with zipfile.ZipFile(io.BytesIO(saved(case_name))) as z:
        return [(n, np.load(io.BytesIO(z.read(n)))) for n in z.namelist()]


# ----------------------------------------------------------------------------------------------------------
# 12 (model-file part). values and sizes that disagree with the hyper-parameters
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("case_name", ["BiasedMF", "SVDpp", "RSTE", "ALS"])
def test_non_finite_parameters_are_refused(tmp_path, case_name, value):
    def change(arrays, meta):
        arrays["param/item_factors"] = arrays["param/item_factors"].copy()
        arrays["param/item_factors"][3, 1] = value
    refused(write(tmp_path, edited(case_name, change)), r"'item_factors' holds NaN or infinite values")


def test_non_finite_trust_weights_are_refused(tmp_path):
    def change(arrays, meta):
        arrays["fit/trust_weight_"] = arrays["fit/trust_weight_"].copy()
        arrays["fit/trust_weight_"][0] = np.nan
    refused(write(tmp_path, edited("RSTE", change)), "trust weights hold NaN")


def test_parameters_large_enough_to_overflow_the_scores_are_refused(tmp_path):
    """Finite float32 factors of 1e20 give dot products of 4e40: inf in float32."""
    def change(arrays, meta):
        for k in ("param/user_factors", "param/item_factors"):
            arrays[k] = np.full_like(arrays[k], 1e20)
    refused(write(tmp_path, edited("ALS", change)), "scores overflow float32")


@pytest.mark.parametrize("case_name", ["BiasedMF", "TrustMF", "SoRec"])
def test_factors_must_match_the_arrays(tmp_path, case_name):
    path = write(tmp_path, edited(case_name, lambda a, m: m["params"].update(factors=m["params"]["factors"] + 1)))
    refused(path, r"param/user_factors has shape \(40, 4\), expected \(40, 5\)")


@pytest.mark.parametrize("n", [0, -1, 2**31, 2.5, True, "40"])
def test_user_and_item_counts_must_be_valid(tmp_path, n):
    refused(write(tmp_path, edited("BiasedMF", lambda a, m: m["fit"].update(n_items_=n))), "n_items_ = .* is not a count")


def test_fortran_ordered_and_big_endian_members_load_as_native_c_arrays():
    """A file written elsewhere may hold big-endian or Fortran-ordered arrays: the same model, in the layout the
    kernels expect."""
    def change(arrays, meta):
        arrays["param/user_factors"] = np.asfortranarray(arrays["param/user_factors"])
        arrays["param/item_factors"] = arrays["param/item_factors"].astype(">f4")
    model, reference = sr.load(io.BytesIO(edited("BiasedMF", change))), sr.load(io.BytesIO(saved("BiasedMF")))
    for k, v in model.parameters_.items():
        assert v.flags["C_CONTIGUOUS"] and v.dtype == np.float32 and v.dtype.isnative, k
        assert np.array_equal(v, reference.parameters_[k]), k


def test_every_model_declares_the_parameter_arrays_it_holds():
    """``_parameter_shapes`` (what load reads a file against) equals what a fit produces, for every case."""
    for case in CASES:
        model = case.make(epochs=1).fit(tiny_data(ranking=case.ranking))
        expected = {k: v.shape for k, v in model.parameters_.items()}
        assert model._parameter_shapes() == expected, case.name


# ----------------------------------------------------------------------------------------------------------
# 10. decompression bombs: declared sizes are checked before anything is inflated
# ----------------------------------------------------------------------------------------------------------
class Opened:
    """Records the members zipfile inflates (ZipFile.open), to show that a refused one never was."""

    def __init__(self, monkeypatch):
        self.names = []
        real = zipfile.ZipFile.open

        def spy(zf, name, *args, **kwargs):
            self.names.append(getattr(name, "filename", name))
            return real(zf, name, *args, **kwargs)

        monkeypatch.setattr(zipfile.ZipFile, "open", spy)


def test_an_unknown_member_is_refused_without_being_inflated(tmp_path, monkeypatch):
    bomb = b"\0" * (64 << 20)  # 64 MiB of zeros: 64 KiB deflated
    members = [(n, npy_bytes(v)) for n, v in _members("BiasedMF")] + [("junk.npy", bomb)]
    path = write(tmp_path, zip_bytes(members, zipfile.ZIP_DEFLATED))
    assert path.stat().st_size < 1 << 20
    opened = Opened(monkeypatch)
    refused(path, r"unknown archive members \['junk'\]")
    assert "junk.npy" not in opened.names


def test_a_known_member_larger_than_the_parameters_imply_is_refused_before_inflating(tmp_path, monkeypatch):
    members = [(n, npy_bytes(np.zeros((40, 4 << 16), np.float32)) if n == "param/user_factors.npy" else npy_bytes(v))
               for n, v in _members("BiasedMF")]
    path = write(tmp_path, zip_bytes(members, zipfile.ZIP_DEFLATED))
    opened = Opened(monkeypatch)
    refused(path, r"param/user_factors declares \d+ bytes where the model's parameters allow at most \d+")
    assert "param/user_factors.npy" not in opened.names


def test_an_npy_header_claiming_a_huge_array_is_a_value_error_not_a_memory_error(tmp_path):
    """numpy's read_array allocates the header's shape before reading: a 9 KB file raised MemoryError."""
    header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (40, 1000000000000), }"
    header += b" " * (-(len(header) + 11) % 64) + b"\n"
    fake = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + b"\0" * 64
    members = [(n, fake if n == "param/user_factors.npy" else npy_bytes(v)) for n, v in _members("BiasedMF")]
    refused(write(tmp_path, zip_bytes(members)), r"param/user_factors has shape \(40, 1000000000000\), "
                                                 r"expected \(40, 4\)")


def test_a_member_claiming_to_inflate_beyond_deflate_is_refused(tmp_path):
    data = bytearray(zip_bytes([(n, npy_bytes(v)) for n, v in _members("BiasedMF")], zipfile.ZIP_DEFLATED))
    central = data.index(b"PK\x01\x02")  # the first member's uncompressed size in the central directory
    data[central + 24:central + 28] = struct.pack("<I", 0xFFFFFFF0)
    refused(write(tmp_path, bytes(data)), r"claims to inflate .* \(more than deflate can")


# ----------------------------------------------------------------------------------------------------------
# 7. load of what is not a regular file
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_load_of_a_fifo_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe.npz")
    proc = run_python(LOAD_AND_QUERY, tmp_path / "pipe.npz", timeout=60)  # the old load blocked here forever
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith(f"REFUSED {tmp_path / 'pipe.npz'}: not a socialrec model file (a FIFO (named pipe), "
                                  "not a regular file)"), proc.stdout


@pytest.mark.parametrize("target, kind", [("dir", "a directory"), ("/dev/zero", "a character device")])
def test_load_of_a_directory_or_device_says_what_it_is(tmp_path, target, kind):
    path = tmp_path if target == "dir" else target
    if not os.path.exists(path):
        pytest.skip(f"no {path} here")
    refused(path, rf"not a socialrec model file \({kind}")


def test_load_from_a_binary_file_object(tmp_path):
    model = sr.load(io.BytesIO(saved("BiasedMF")))
    assert model.fitted and model.n_users_ == 40
    with pytest.raises(TypeError, match="a path or a binary file object"):
        sr.load(3)


# ----------------------------------------------------------------------------------------------------------
# 8. what save replaces
# ----------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def model():
    return sr.load(io.BytesIO(saved("BiasedMF")))


def test_save_writes_through_a_symlink(tmp_path, model):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "model.npz"
    target.write_bytes(b"old")
    link = tmp_path / "link.npz"
    link.symlink_to(target)
    model.save(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert sr.load(target).n_users_ == 40
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.npz", "real"]
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["model.npz"]  # no temporary file left
    dangling = tmp_path / "dangling.npz"
    dangling.symlink_to(tmp_path / "real" / "new.npz")
    model.save(dangling)
    assert dangling.is_symlink() and sr.load(tmp_path / "real" / "new.npz").fitted


def test_save_keeps_the_mode_of_the_file_it_replaces(tmp_path, model):
    path = tmp_path / "m.npz"
    path.write_bytes(b"old")
    os.chmod(path, 0o600)
    model.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    os.chmod(path, 0o640)
    model.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640 and sr.load(path).fitted


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_save_refuses_to_replace_what_is_not_a_regular_file(tmp_path, model):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(FileExistsError, match="a FIFO .*not a regular file"):
        model.save(fifo)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    (tmp_path / "link").symlink_to(fifo)  # nor through a symlink
    with pytest.raises(FileExistsError, match="not a regular file"):
        model.save(tmp_path / "link")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and sorted(p.name for p in tmp_path.iterdir()) == ["link", "pipe"]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write any file")
def test_save_refuses_a_file_it_may_not_write(tmp_path, model):
    path = tmp_path / "m.npz"
    path.write_bytes(b"read-only")
    os.chmod(path, 0o444)
    with pytest.raises(PermissionError):
        model.save(path)
    assert path.read_bytes() == b"read-only"


# ----------------------------------------------------------------------------------------------------------
# 11. ids that differ only by a trailing NUL stay distinct
# ----------------------------------------------------------------------------------------------------------
def test_ids_differing_by_a_trailing_nul_stay_distinct_through_load_files_save_and_load(tmp_path):
    (tmp_path / "r.txt").write_text("a\0 x 1\na y 2\nb x 3\nb y 4\n")
    (tmp_path / "t.txt").write_text("a b 1\n")
    ds = sr.datasets.load_files(tmp_path / "r.txt", tmp_path / "t.txt")
    assert sorted(ds.user_ids.tolist()) == ["a", "a\0", "b"]
    model = sr.BiasedMF(factors=2, epochs=1, seed=0).fit(ds)
    model.save(tmp_path / "m.npz")
    loaded = sr.load(tmp_path / "m.npz")
    assert loaded.user_ids_.tolist() == model.user_ids_.tolist()
    assert np.array_equal(loaded.predict(["a", "a\0"], ["x", "x"]), model.predict(["a", "a\0"], ["x", "x"]))


@pytest.mark.parametrize("ids", [np.array(["a", "b", "a"] + [f"u{i}" for i in range(37)]), np.arange(40) % 39])
def test_load_refuses_duplicate_ids(tmp_path, ids):
    refused(write(tmp_path, edited("BiasedMF", lambda a, m: a.update({"ids/user_ids_": ids}))),
            r"user_ids_ holds duplicate ids \(1 repeated\)")
    path = write(tmp_path, edited("BiasedMF", lambda a, m: (a.pop("ids/user_ids_"),
                                                              m.setdefault("ids", {}).update(user_ids_=ids.tolist()))),
                 "json.npz")
    refused(path, r"user_ids_ holds duplicate ids")


# ----------------------------------------------------------------------------------------------------------
# fuzz: mutated files of several models load into a model that predicts finite values, or raise ValueError
# ----------------------------------------------------------------------------------------------------------
# Examples per model (6 models): SOCIALREC_LOAD_FUZZ_EXAMPLES, default 400 (2400 in all, about 30 s of CPU).
LOAD_FUZZ_EXAMPLES = int(os.environ.get("SOCIALREC_LOAD_FUZZ_EXAMPLES", "400"))
FUZZED = ["BiasedMF", "SVDpp", "TrustSVD", "RSTE", "TrustMF", "BPR"]


@pytest.mark.parametrize("case_name", FUZZED)
def test_load_of_mutated_files_never_crashes_and_never_loads_garbage(case_name):
    original = saved(case_name)

    @settings(max_examples=LOAD_FUZZ_EXAMPLES, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(edits=model_file_edits())
    def check(edits):
        data = apply_edits(original, edits)
        try:
            model = sr.load(io.BytesIO(data))
        except ValueError:  # the one documented outcome of a bad file (a path adds FileNotFoundError)
            return
        users = np.arange(model.n_users_)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the logistic link's exp may overflow to 0 or 1
            assert np.isfinite(model.predict(users, users % model.n_items_, ids="index")).all()
        items, scores = model.recommend(users[:8], n=3, ids="index")
        assert items.shape == scores.shape == (min(8, model.n_users_), min(3, model.n_items_))
        assert not np.isnan(scores).any()

    check()
