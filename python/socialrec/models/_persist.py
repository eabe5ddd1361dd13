"""Persistence of every model: ``save`` to an ``.npz`` file (arrays plus JSON metadata, no pickle inside),
``load`` back (``socialrec.load``), and pickling (``Model`` inherits it from ``PersistMixin``).

A file holds the hyper-parameters, the fit attributes (``_FIT_ATTRS``), the parameter arrays, the seen-items
CSR, the model's extra fitted arrays (``_FIT_ARRAYS``) and the raw id maps. ``load`` checks that they are
consistent before the model predicts from them (``_check_loaded``): a corrupted or hand-made file raises a
``ValueError`` naming the path instead of predicting garbage.
"""
from __future__ import annotations

import contextlib
import errno
import json
import math
import os
from typing import Any, Optional, Union

import numpy as np
import scipy.sparse as sp

from .. import __version__
from .._validate import INT32_MAX, check_csr, check_scale, csr_offsets, is_int
from ._archive import CorruptArchiveError, NpzReader, open_regular
from ._atomic import replace_atomically
from ._follow import kept_trust
from ._registry import _REGISTRY

__all__ = ["load"]

FORMAT = "socialrec-model"
FORMAT_VERSION = 1


class PersistMixin:
    """``save``, ``load``, pickling and the checks of a loaded file (see the module docstring)."""

    _FIT_ATTRS = ("seed_", "n_users_", "n_items_", "rating_scale_")  # required; best_epoch_ is saved too
    # Fitted arrays that are not learned parameters but that prediction needs (e.g. RSTE's trust matrix);
    # saved as "fit/<name>" and restored as attributes.
    _FIT_ARRAYS: tuple = ()
    # The parameter arrays of a fitted model (``_parameter_shapes``): these always, the bias ones with biased=True.
    _PARAMETERS: tuple = ("user_factors", "item_factors")
    _BIAS_PARAMETERS = ()
    # Like _FIT_ARRAYS, but files written before they existed lack them: saved when set, restored when present.
    _OPTIONAL_FIT_ARRAYS: tuple = ()

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Save to ``path`` (``.npz``: the arrays plus JSON metadata; no pickle inside).

        Atomic (a temporary file renamed over ``path``); a symlink is written through, an existing file keeps
        its mode; a directory raises ``IsADirectoryError`` and anything else but a regular file at ``path``
        (a device node, a FIFO) ``FileExistsError`` (models/_atomic.py)."""
        self._require_fitted()
        params = self.get_params()
        fit = {**{k: getattr(self, k) for k in self._FIT_ATTRS}, "best_epoch_": self.best_epoch_}
        if getattr(self, "grown_from_", None) is not None:  # fit appended feature ids: the data's own shape
            fit["grown_from_"] = [int(n) for n in self.grown_from_]
        if params.get("privacy") is not None:
            # A private fit saves what it released and its guarantee (privacy_), not the budget object: that
            # is the accountant of one training run, and a file must not hand a spent budget back as new.
            params["privacy"] = None
            fit["privacy_"] = getattr(self, "privacy_", None)
        meta = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "class": type(self).__name__,
            "params": params,
            "fit": fit,
            "history": self.history, "socialrec_version": __version__,
        }
        arrays = {f"param/{k}": v for k, v in self.parameters_.items()}
        arrays["seen/indptr"], arrays["seen/indices"] = self.seen_indptr_, self.seen_indices_
        trust = kept_trust(self)  # the training trust graph (explain, recommend_users)
        if trust is not None:
            arrays["trust/indptr"], arrays["trust/indices"], arrays["trust/data"] = (
                np.asarray(trust.indptr, np.int64), np.asarray(trust.indices, np.int32), trust.data)
        for name in self._FIT_ARRAYS:
            arrays[f"fit/{name}"] = getattr(self, name)
        for name in self._OPTIONAL_FIT_ARRAYS:
            if getattr(self, name, None) is not None:
                arrays[f"fit/{name}"] = getattr(self, name)
        for name in ("user_ids_", "item_ids_"):
            ids = getattr(self, name, None)
            if ids is None:
                continue
            ids = np.asarray(ids)
            values = ids.tolist()
            # NumPy's fixed-width strings drop trailing NULs ("a\0" would come back as "a", merging two ids):
            # such ids go to the JSON metadata, which keeps them exactly
            if ids.dtype.kind in "iufU" or (all(isinstance(v, str) for v in values)
                                            and not any(v.endswith("\0") for v in values)):
                arrays[f"ids/{name}"] = ids if ids.dtype.kind in "iuf" else ids.astype(str)
                continue
            # mixed numbers and strings: as they are, in the JSON metadata (str() would turn 3 into '3')
            for v in values:
                if not isinstance(v, (str, int, float, np.integer, np.floating)):
                    raise TypeError(f"{name[:4]} id {v!r} ({type(v).__name__}) cannot be stored in a model file "
                                    "(ids must be numbers or strings); map the ids, or pickle the model")
            meta.setdefault("ids", {})[name] = values
        arrays["meta"] = np.array(json.dumps(meta, default=_json_scalar))
        # models/_atomic.py: a temporary file renamed over the target (a failed save keeps the previous file),
        # written through symlinks, regular files only, the replaced file's mode kept
        replace_atomically(path, lambda fh: np.savez(fh, **arrays))

    @classmethod
    def load(cls, path):
        """Load a model saved with ``save``; raises ``TypeError`` when the file holds another model class."""
        model = load(path)
        if not isinstance(model, cls):
            raise TypeError(f"{path} holds a {type(model).__name__}, not a {cls.__name__}")
        return model

    def _parameter_shapes(self):
        """``{name: shape}`` of the parameter arrays this fitted model holds: ``_PARAMETERS``, plus
        ``_BIAS_PARAMETERS`` with ``biased=True``, shaped by ``parameter_shape``'s naming rule. ``load`` reads a
        file's arrays against it (tests/test_persist_hardening.py checks it against every fitted model)."""
        names = self._PARAMETERS + (self._BIAS_PARAMETERS if getattr(self, "biased", False) else ())
        return {k: parameter_shape(k, self.n_users_, self.n_items_, self.factors) for k in names}

    def _check_loaded(self, saved_dtype):
        """The values of loaded arrays, once ``load`` has read them with their dtypes, shapes and CSR structures
        checked (a corrupted or hand-made file must not predict garbage, NaN or inf)."""
        # the saved dtype; float16 (CUDA) models keep their biases in float32 and widen on the CPU (_on_load)
        allowed = {np.dtype(saved_dtype)} | ({np.dtype(np.float32)} if saved_dtype == "float16" else set())
        for k, v in self.parameters_.items():
            if v.dtype not in allowed:
                raise TypeError(f"parameter {k!r} has dtype {v.dtype}, the model was saved as {saved_dtype}")
            if not np.isfinite(v).all():
                raise ValueError(f"parameter {k!r} holds NaN or infinite values")
        weight = getattr(self, "trust_weight_", None)
        if weight is not None and not np.isfinite(weight).all():
            raise ValueError("the trust weights hold NaN or infinite values")
        for name in ("user_ids_", "item_ids_"):
            _check_unique_ids(getattr(self, name, None), name)
        self._check_score_range()

    def _check_score_range(self):
        """Refuse parameters whose scores could overflow: |score| <= k max|u| max|v| + max|b_u| + max|b_i| + |b|
        bounds every prediction and every partial sum of one, whatever the summation order, so a bound within
        the scores' dtype means every score is finite."""
        with np.errstate(over="ignore", invalid="ignore"):  # SVD++'s implicit sums, RSTE's S U may overflow
            parts = self._scoring()
            vectors = parts["user_vectors"]
            bound = (vectors.shape[1] * _max_abs(vectors) * _max_abs(parts["item_vectors"])
                     + _max_abs(parts["user_bias"]) + _max_abs(parts["item_bias"]) + abs(float(parts["global_bias"])))
        limit = float(np.finfo(np.float32 if vectors.dtype == np.float16 else vectors.dtype).max)
        if not bound <= limit:  # NaN included
            raise ValueError(f"parameter values so large that scores overflow {vectors.dtype} (bound {bound:.3g})")

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_scoring_cache"] = None
        state.pop("_id_spaces", None)  # the id lookups (models/_queries.py) are rebuilt on demand
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)

    def _on_load(self):
        """Hook run by ``load`` once the arrays are in place (on the host)."""


def load(path: Union[str, os.PathLike], device: Optional[str] = None) -> Any:
    """Load a model saved with ``Model.save``; returns an instance of the saved class.

    ``device`` (``"auto"``, ``"cpu"`` or ``"cuda"``) overrides the saved ``device`` setting; models with a
    CUDA back-end then place their parameters accordingly (``Model._on_load``).

    A model file is untrusted input: every array is checked before use (dtype, shape against the saved
    hyper-parameters, CSR offsets and indices, finite values, unique ids), archive members the model does not
    hold are refused, and each member's declared size is checked against what the parameters imply before it
    is inflated (models/_archive.py).

    Raises
    ------
    FileNotFoundError
        When there is no file at ``path`` (as ``open`` and ``numpy.load`` raise).
    ValueError
        Naming ``path``, when the file is truncated, corrupted, not a socialrec model file (a text file,
        a plain ``.npy`` array, a directory, a FIFO, a device...), of a newer format version, of a model class
        this version does not know, or inconsistent (parameter arrays missing, of the wrong shape or dtype,
        non-finite, larger than the parameters imply, unknown members, invalid CSR structures, duplicate ids).
    """
    with _open_archive(path) as reader:
        meta = _read_meta(reader, path)
        version = meta["format_version"]
        if version > FORMAT_VERSION:
            raise ValueError(f"{path}: saved by a newer socialrec (format {version}; this version reads up to "
                             f"{FORMAT_VERSION}); upgrade socialrec to load it")
        cls = _REGISTRY.get(meta.get("class")) if isinstance(meta.get("class"), str) else None
        if cls is None:
            raise ValueError(f"{path}: unknown model class {meta.get('class')!r} (known: {sorted(_REGISTRY)})")
        try:
            model = _model_from_meta(cls, meta, device)
            _read_arrays(reader, model, meta)
            model._invalidate()
            model._check_loaded(meta["params"]["dtype"])
            model._invalidate()
        except CorruptArchiveError as e:
            raise ValueError(f"{path}: not a socialrec model file ({e})") from None
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as e:
            raise ValueError(f"{path}: inconsistent {meta['class']} model file ({type(e).__name__}: {e})") from None
    model._on_load()
    return model


def _params_of_older_files(cls, params):
    """A file's hyper-parameters completed for this version: a social model saved before it had biases (SoRec,
    SocialMF, TrustMF, SoReg, RSTE; no ``biased`` entry) is the model it was, ``biased=False``."""
    if "biased" in cls._defaults and "biased" not in params:
        params["biased"] = False
    return params


@contextlib.contextmanager
def _open_archive(path):
    """An ``NpzReader`` over the file at ``path`` (a path or a seekable binary file object); what cannot be a
    model file is refused before any archive parsing: a missing path (``FileNotFoundError``), anything but a
    regular file, a file that is not a zip archive (NumPy would take a text file for a pickle and advise
    allow_pickle=True, which is never the answer for a model file)."""
    if isinstance(path, (str, bytes, os.PathLike)):
        name = os.fsdecode(path)
        try:
            fh = open_regular(name)
        except FileNotFoundError:
            raise FileNotFoundError(errno.ENOENT, "no socialrec model file here", name) from None
    elif hasattr(path, "read") and hasattr(path, "seek"):
        name, fh = path, contextlib.nullcontext(path)  # the caller's file object stays open
    else:
        raise TypeError(f"load expects a path or a binary file object, got {type(path).__name__}")
    with fh as f:
        try:
            magic = f.read(4)
        except OSError as e:
            raise ValueError(f"{name}: not a socialrec model file ({e})") from None
        if magic != b"PK\x03\x04" and magic != b"PK\x05\x06":  # a zip's first local header / an empty zip
            kind = "a plain .npy array, not an .npz archive" if magic == b"\x93NUM" else "not an .npz archive"
            raise ValueError(f"{name}: not a socialrec model file ({kind})")
        try:
            reader = NpzReader(f)
        except ValueError as e:
            raise ValueError(f"{name}: not a socialrec model file ({e})") from None
        with reader:
            yield reader


def _read_meta(reader, path):
    """The JSON metadata record (``meta``) of a model file, with a valid format name and integer version."""
    try:
        meta = json.loads(str(reader.read("meta", "U", ())))
        assert isinstance(meta, dict) and meta["format"] == FORMAT and is_int(meta["format_version"])
    except CorruptArchiveError as e:
        raise ValueError(f"{path}: not a socialrec model file ({e})") from None
    except Exception:  # json's RecursionError on deeply nested input included
        raise ValueError(f"{path}: not a socialrec model file (no valid metadata)") from None
    return meta


def _model_from_meta(cls, meta, device):
    """An unfitted-looking instance of ``cls`` with the file's hyper-parameters and fit attributes, checked."""
    params = _params_of_older_files(cls, dict(meta["params"]))
    if device is not None:
        params["device"] = device
        if device != "cuda" and params.get("dtype") == "float16":
            params["dtype"] = "float32"  # float16 storage exists on CUDA only; _on_load widens the arrays
    model = cls(**params)
    model.device_ = "cpu"
    fit = meta["fit"]
    for k in cls._FIT_ATTRS:  # only these: a file's other entries must not set arbitrary attributes
        setattr(model, k, fit[k])  # a missing entry is an inconsistent file (KeyError)
    for k in ("n_users_", "n_items_"):  # indices are int32 (a fitted model has at least one user and item)
        n = getattr(model, k)
        if not is_int(n) or not 1 <= n <= INT32_MAX:
            raise ValueError(f"{k} = {n!r} is not a count between 1 and {INT32_MAX}")
    if not is_int(model.seed_):
        raise ValueError(f"seed_ = {model.seed_!r} is not an integer")
    model.best_epoch_ = fit.get("best_epoch_")  # optional: files written before it was saved lack it
    grown = fit.get("grown_from_")  # optional: a fit with features that appended ids writes it
    if grown is not None:
        if not (isinstance(grown, list) and len(grown) == 2 and all(is_int(n) for n in grown)
                and 1 <= grown[0] <= model.n_users_ and 1 <= grown[1] <= model.n_items_):
            raise ValueError(f"grown_from_ = {grown!r} is not the (users, items) shape of the data before "
                             "feature ids were appended")
        model.grown_from_ = tuple(int(n) for n in grown)
    report = fit.get("privacy_")  # a private fit's guarantee (optional: only private fits write it)
    if report is not None:
        if not (isinstance(report, dict) and all(isinstance(k, str) and (v is None or isinstance(v, (str, int, float)))
                                                 for k, v in report.items())):
            raise ValueError("privacy_ must be a record of names to numbers or strings")
        model.privacy_ = report
    if model.best_epoch_ is not None and not (is_int(model.best_epoch_) and model.best_epoch_ >= 0):
        raise ValueError(f"best_epoch_ = {model.best_epoch_!r} is not an epoch number")
    try:
        model.rating_scale_ = check_scale(model.rating_scale_)
    except ValueError as e:
        raise ValueError(f"rating_scale_: {e}") from None
    model.history = list(meta["history"])
    if not all(isinstance(record, dict) for record in model.history):
        raise ValueError("history must be a list of records (JSON objects)")
    return model


def _read_arrays(reader, model, meta):
    """Every array of the file into ``model``: the members the model holds, nothing else, each read with the
    dtype kinds, exact shape and size bound that its hyper-parameters and sizes imply."""
    n_users, n_items = model.n_users_, model.n_items_
    shapes = model._parameter_shapes()
    meta_ids = meta.get("ids", {})
    if not isinstance(meta_ids, dict):
        raise ValueError("the ids record must map user_ids_/item_ids_ to lists")
    expected = ({"meta", "seen/indptr", "seen/indices", "ids/user_ids_", "ids/item_ids_"}
                | {f"param/{k}" for k in shapes} | {f"fit/{k}" for k in model._FIT_ARRAYS}
                | {f"fit/{k}" for k in model._OPTIONAL_FIT_ARRAYS} | {"trust/indptr", "trust/indices", "trust/data"})
    unknown = sorted(reader.names - expected)
    if unknown:
        raise ValueError(f"unknown archive members {unknown} (a {type(model).__name__} file holds {sorted(expected)})")
    model.seen_indptr_, model.seen_indices_ = _read_csr(reader, "seen/indptr", "seen/indices", n_users, n_items,
                                                        "the seen-items matrix")
    model.trust_graph_ = None  # files written before the training trust graph was kept lack it
    if "trust/indptr" in reader.names:
        indptr, indices = _read_csr(reader, "trust/indptr", "trust/indices", n_users, n_users, "the trust graph")
        data = _native(reader.read("trust/data", "f", (len(indices),), 8 * len(indices)))
        model.trust_graph_ = sp.csr_matrix((data, indices, indptr), shape=(n_users, n_users))
    if {"trust_indptr_", "trust_indices_"} <= set(model._FIT_ARRAYS):  # RSTE, TrustSVD: a user x user CSR
        model.trust_indptr_, model.trust_indices_ = _read_csr(reader, "fit/trust_indptr_", "fit/trust_indices_",
                                                              n_users, n_users, "the trust matrix")
    for name in model._FIT_ARRAYS:
        if name == "trust_weight_":  # RSTE's row-normalised trust values, one per edge
            nnz = len(model.trust_indices_)
            try:
                model.trust_weight_ = _native(reader.read("fit/trust_weight_", "f", (nnz,), 8 * nnz))
            except (KeyError, TypeError, ValueError) as e:
                raise type(e)(f"the trust weights do not match the trust matrix: {e}") from None
        elif name not in ("trust_indptr_", "trust_indices_"):
            raise TypeError(f"no loading rule for the fitted array {name!r}")
    for name in model._OPTIONAL_FIT_ARRAYS:
        if name != "trust_degree_":
            raise TypeError(f"no loading rule for the fitted array {name!r}")
        degree = None  # SoRec's (out, in) trust degrees per user (fold-in); files written before it lack it
        if f"fit/{name}" in reader.names:
            degree = _native(reader.read(f"fit/{name}", "iu", (2, n_users), 16 * n_users)).astype(np.int64)
            if degree.size and (degree.min() < 0 or degree.max() > n_users):
                raise ValueError("trust_degree_ holds a degree outside [0, n_users]")
        setattr(model, name, degree)
    model.parameters_ = {k: _native(reader.read(f"param/{k}", "f", shape, 8 * math.prod(shape)))
                         for k, shape in shapes.items()}
    for name, n in (("user_ids_", n_users), ("item_ids_", n_items)):
        member = f"ids/{name}"
        if name in meta_ids and member in reader.names:
            raise ValueError(f"{name} is stored twice (an array and a metadata list)")
        ids = None
        if name in meta_ids:  # mixed numbers and strings, or strings NumPy would alter (save)
            ids = _json_ids(meta_ids[name], name, n)
        elif member in reader.names:
            ids = _native(reader.read(member, "iufU", (n,)))
        setattr(model, name, ids)


def _read_csr(reader, ptr_name, idx_name, n_rows, n_cols, what):
    """A CSR structure's two members: the offsets first (their last entry sizes the indices' read)."""
    try:
        indptr = csr_offsets(reader.read(ptr_name, "iu", (n_rows + 1,), 8 * (n_rows + 1)), n_rows, what)
        nnz = int(indptr[-1])
        if nnz > n_rows * n_cols:
            raise ValueError(f"{what} claims {nnz} entries in a {n_rows} x {n_cols} matrix")
        return check_csr(indptr, reader.read(idx_name, "iu", (nnz,), 8 * nnz), n_rows, n_cols, what)
    except CorruptArchiveError:
        raise
    except (KeyError, TypeError, ValueError) as e:
        message = str(e.args[0]) if e.args else ""
        raise type(e)(message if what in message else f"{what}: {message}") from None


def _native(a):
    """``a`` in the machine's byte order (a file written on another machine may hold big-endian arrays)."""
    return a.astype(a.dtype.newbyteorder("="), copy=False) if a.dtype.byteorder not in "=|" else a


def _json_ids(values, name, n):
    """Ids stored in the metadata (a JSON list): n strings or finite numbers, as an object array."""
    if not isinstance(values, list) or len(values) != n:
        raise ValueError(f"{name} has shape {np.shape(values)}, expected ({n},)")
    for v in values:
        if not isinstance(v, (str, int, float)) or (isinstance(v, float) and not math.isfinite(v)):
            raise ValueError(f"{name} holds {v!r}, not a string or a finite number")
    return np.array(values, dtype=object)


def parameter_shape(name, n_users, n_items, factors):
    """The shape of parameter ``name`` by the naming rule every model follows: ``global_bias`` a scalar,
    ``*_factors`` a (rows, factors) matrix, ``*_bias`` a vector of rows; rows are items for names with "item"
    or "implicit" (SVD++'s y_j), users for the others (user, trustee, truster and link factors)."""
    if name == "global_bias":
        return ()
    rows = n_items if ("item" in name or "implicit" in name) else n_users
    if name.endswith("_factors"):
        return (rows, factors)
    if name.endswith("_bias"):
        return (rows,)
    raise TypeError(f"no shape rule for the parameter {name!r}")


def _max_abs(a):
    """max |a| as a Python float (0 for an empty array; NaN when ``a`` holds NaN), without a copy of ``a``."""
    a = np.asarray(a)
    return max(float(a.max()), -float(a.min())) if a.size else 0.0


def _check_unique_ids(ids, name):
    """Ids of a loaded model must be distinct (a lookup maps each id to one index)."""
    if ids is None:
        return
    ids = np.asarray(ids)
    if ids.dtype.kind == "f" and not np.isfinite(ids).all():
        raise ValueError(f"{name} holds NaN or infinite ids")
    if ids.dtype == object:
        repeats = len(ids) - len(set(ids.tolist()))
    else:  # sorted, equal neighbours are repeats (cheaper than np.unique's hash table here)
        ordered = np.sort(ids)
        repeats = int(np.count_nonzero(ordered[1:] == ordered[:-1]))
    if repeats:
        raise ValueError(f"{name} holds duplicate ids ({repeats} repeated)")


def _json_scalar(value):
    """``json.dumps``' fallback: NumPy scalars (hyper-parameters pass validation as np.int64, np.float32,
    np.bool_, ...) as the matching Python number."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
