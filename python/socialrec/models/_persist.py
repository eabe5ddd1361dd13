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
import os
import threading
import zipfile
import zlib

import numpy as np

from .. import __version__
from .._validate import check_csr, check_scale, is_int
from ._registry import _REGISTRY

__all__ = ["load"]

FORMAT = "socialrec-model"
FORMAT_VERSION = 1


class PersistMixin:
    """``save``, ``load``, pickling and the checks of a loaded file (see the module docstring)."""

    _FIT_ATTRS = ("seed_", "n_users_", "n_items_", "rating_scale_")  # required; best_epoch_ is saved too
    # Fitted arrays that are not learned parameters but that prediction needs (e.g. RSTE's trust matrix);
    # saved as "fit/<name>" and restored as attributes.
    _FIT_ARRAYS = ()
    # Like _FIT_ARRAYS, but files written before they existed lack them: saved when set, restored when present.
    _OPTIONAL_FIT_ARRAYS = ()

    def save(self, path):
        """Save to ``path`` (``.npz``: the arrays plus JSON metadata; no pickle inside)."""
        self._require_fitted()
        meta = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "class": type(self).__name__,
            "params": self.get_params(),
            "fit": {**{k: getattr(self, k) for k in self._FIT_ATTRS}, "best_epoch_": self.best_epoch_},
            "history": self.history, "socialrec_version": __version__,
        }
        arrays = {f"param/{k}": v for k, v in self.parameters_.items()}
        arrays["seen/indptr"], arrays["seen/indices"] = self.seen_indptr_, self.seen_indices_
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
            if ids.dtype.kind in "iufU" or all(isinstance(v, str) for v in values):
                arrays[f"ids/{name}"] = ids if ids.dtype.kind in "iuf" else ids.astype(str)
                continue
            # mixed numbers and strings: as they are, in the JSON metadata (str() would turn 3 into '3')
            for v in values:
                if not isinstance(v, (str, int, float, np.integer, np.floating)):
                    raise TypeError(f"{name[:4]} id {v!r} ({type(v).__name__}) cannot be stored in a model file "
                                    "(ids must be numbers or strings); map the ids, or pickle the model")
            meta.setdefault("ids", {})[name] = values
        arrays["meta"] = np.array(json.dumps(meta, default=_json_scalar))
        # Written to a temporary file next to ``path`` and renamed over it: a save that fails part-way (disk
        # full, Ctrl-C) leaves no truncated file and keeps the model previously saved at ``path``.
        path = os.fspath(path)
        tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            with open(tmp, "xb") as fh:
                np.savez(fh, **arrays)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    @classmethod
    def load(cls, path):
        """Load a model saved with ``save``; raises ``TypeError`` when the file holds another model class."""
        model = load(path)
        if not isinstance(model, cls):
            raise TypeError(f"{path} holds a {type(model).__name__}, not a {cls.__name__}")
        return model

    def _check_loaded(self, saved_dtype):
        """Consistency of loaded arrays (a corrupted or hand-made file must not predict garbage)."""
        n_users, n_items = int(self.n_users_), int(self.n_items_)
        if n_users < 0 or n_items < 0:
            raise ValueError(f"negative sizes {(n_users, n_items)}")
        # the saved dtype; float16 (CUDA) models keep their biases in float32 and widen on the CPU (_on_load)
        allowed = {np.dtype(saved_dtype)} | ({np.dtype(np.float32)} if saved_dtype == "float16" else set())
        for k, v in self.parameters_.items():
            if v.dtype not in allowed:
                raise TypeError(f"parameter {k!r} has dtype {v.dtype}, the model was saved as {saved_dtype}")
        # index structures first: scoring follows them (a bad index in a CSR crashes scipy's sparse products)
        check_csr(self.seen_indptr_, self.seen_indices_, n_users, n_items, "the seen-items matrix")
        if {"trust_indptr_", "trust_indices_"} <= set(self._FIT_ARRAYS):  # RSTE, TrustSVD: a user x user CSR
            check_csr(self.trust_indptr_, self.trust_indices_, n_users, n_users, "the trust matrix")
            weight = getattr(self, "trust_weight_", None)
            if weight is not None and np.shape(weight) != np.shape(self.trust_indices_):
                raise ValueError("the trust weights do not match the trust matrix")
        for name, n in (("user_ids_", n_users), ("item_ids_", n_items)):
            ids = getattr(self, name, None)
            if ids is not None and np.shape(ids) != (n,):
                raise ValueError(f"{name} has shape {np.shape(ids)}, expected ({n},)")
        self.seen_indptr_ = self.seen_indptr_.astype(np.int64, copy=False)
        self.seen_indices_ = self.seen_indices_.astype(np.int32, copy=False)
        parts = self._scoring()
        k = parts["user_vectors"].shape[1] if parts["user_vectors"].ndim == 2 else -1
        for name, shape in (("user_vectors", (n_users, k)), ("item_vectors", (n_items, k)),
                            ("user_bias", (n_users,)), ("item_bias", (n_items,))):
            if np.shape(parts[name]) != shape:
                raise ValueError(f"{name} has shape {np.shape(parts[name])}, expected {shape}")

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_scoring_cache"] = None
        state.pop("_id_spaces", None)  # the id lookups (models/_queries.py) are rebuilt on demand
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)

    def _on_load(self):
        """Hook run by ``load`` once the arrays are in place (on the host)."""


def load(path, device=None):
    """Load a model saved with ``Model.save``; returns an instance of the saved class.

    ``device`` (``"auto"``, ``"cpu"`` or ``"cuda"``) overrides the saved ``device`` setting; models with a
    CUDA back-end then place their parameters accordingly (``Model._on_load``).

    Raises
    ------
    FileNotFoundError
        When there is no file at ``path`` (as ``open`` and ``numpy.load`` raise).
    ValueError
        Naming ``path``, when the file is truncated, corrupted, not a socialrec model file (a text file,
        a plain ``.npy`` array...), of a newer format version, of a model class this version does not know,
        or inconsistent (parameter arrays missing or of the wrong shape or dtype).
    """
    broken = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error)
    _check_archive_file(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except broken as e:
        raise ValueError(f"{path}: not a socialrec model file ({e})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):  # a plain .npy array
        raise ValueError(f"{path}: not a socialrec model file (not an .npz archive)")
    try:
        with archive as f:
            files = {k: f[k] for k in f.files}
    except broken as e:  # truncated or corrupted members (CRC errors) show up while reading
        raise ValueError(f"{path}: not a socialrec model file ({e})") from None
    try:
        meta = json.loads(str(files.pop("meta")))
        assert meta["format"] == FORMAT
        version = meta["format_version"]
        assert is_int(version)
    except Exception:
        raise ValueError(f"{path}: not a socialrec model file (no valid metadata)") from None
    if version > FORMAT_VERSION:
        raise ValueError(f"{path}: saved by a newer socialrec (format {version}; this version reads up to "
                         f"{FORMAT_VERSION}); upgrade socialrec to load it")
    cls = _REGISTRY.get(meta.get("class"))
    if cls is None:
        raise ValueError(f"{path}: unknown model class {meta.get('class')!r} (known: {sorted(_REGISTRY)})")
    try:
        params = dict(meta["params"])
        if device is not None:
            params["device"] = device
            if device != "cuda" and params.get("dtype") == "float16":
                params["dtype"] = "float32"  # float16 storage exists on CUDA only; _on_load widens the arrays
        model = cls(**params)
        model.device_ = "cpu"
        fit = meta["fit"]
        model.best_epoch_ = fit.get("best_epoch_")  # optional: files written before it was saved lack it
        for k in cls._FIT_ATTRS:  # only these: a file's other entries must not set arbitrary attributes
            setattr(model, k, fit[k])  # a missing entry is an inconsistent file (KeyError below)
        try:
            model.rating_scale_ = check_scale(model.rating_scale_)
        except ValueError as e:
            raise ValueError(f"rating_scale_: {e}") from None
        model.history = list(meta["history"])
        model.parameters_ = {k[len("param/"):]: v for k, v in files.items() if k.startswith("param/")}
        model.seen_indptr_, model.seen_indices_ = files["seen/indptr"], files["seen/indices"]
        for name in cls._FIT_ARRAYS:
            setattr(model, name, files[f"fit/{name}"])
        for name in cls._OPTIONAL_FIT_ARRAYS:
            setattr(model, name, files.get(f"fit/{name}"))
        for name in ("user_ids_", "item_ids_"):
            ids = files.get(f"ids/{name}")
            if name in meta.get("ids", {}):  # mixed numbers and strings (save)
                ids = np.array(meta["ids"][name], dtype=object)
            setattr(model, name, ids)
        model._invalidate()
        model._check_loaded(meta["params"]["dtype"])
        model._invalidate()
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as e:
        raise ValueError(f"{path}: inconsistent {meta['class']} model file ({type(e).__name__}: {e})") from None
    model._on_load()
    return model

def _json_scalar(value):
    """``json.dumps``' fallback: NumPy scalars (hyper-parameters pass validation as np.int64, np.float32,
    np.bool_, ...) as the matching Python number."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")



def _check_archive_file(path):
    """Refuse what cannot be a model file before NumPy reads it: a missing path (``FileNotFoundError``) and a
    file that is not a zip archive (NumPy would take a text file for a pickle and advise allow_pickle=True,
    which is never the answer for a model file). File objects are left to NumPy."""
    if not isinstance(path, (str, bytes, os.PathLike)):
        return
    name = os.fsdecode(path)
    try:
        with open(name, "rb") as fh:
            magic = fh.read(4)
    except FileNotFoundError:
        raise FileNotFoundError(errno.ENOENT, "no socialrec model file here", name) from None
    except IsADirectoryError:
        raise ValueError(f"{name}: not a socialrec model file (a directory)") from None
    if magic != b"PK\x03\x04" and magic != b"PK\x05\x06":  # a zip's first local header / an empty zip
        kind = "a plain .npy array, not an .npz archive" if magic == b"\x93NUM" else "not an .npz archive"
        raise ValueError(f"{name}: not a socialrec model file ({kind})")
