"""The model base class: hyper-parameters, the epoch loop, prediction, top-N, persistence.

A concrete model declares its hyper-parameters in ``_params`` (name -> default), its parameter arrays in
``_init_parameters``, one epoch in ``_run_epoch`` (one call into ``socialrec._core``), its objective in
``_loss`` and its scoring form in ``_scoring_parts``. Everything else (validation, threads, Ctrl-C,
divergence, early stopping, history, progress bar, save/load, pickling, predict, recommend) lives here once.

Every socialrec model scores a (user, item) pair in the same form::

    x_ui = global_bias + user_bias[u] + item_bias[i] + user_vectors[u] . item_vectors[i]

followed by the model's link: ``identity`` (the rating itself), ``logistic`` (rating models that the papers
define on ratings mapped to [0, 1]: ``r_min + g(x_ui) (r_max - r_min)``), both clipped to the training rating
scale, or ``score`` (ranking models: ``x_ui`` as is, unclipped). Models whose prediction sums over
a user's items or trustees (SVD++, TrustSVD, RSTE, TrustMF) fold those sums into ``user_vectors`` once after
training, so prediction and ranking cost the same for every model.
"""
from __future__ import annotations

import contextlib
import inspect
import json
import math
import numbers
import os
import threading
import time

import numpy as np

from .. import _engine
from .._errors import DivergenceError, NotFittedError
from ..data import Dataset, _check_scale
from ._registry import _REGISTRY, register

__all__ = ["Model", "load", "register"]

FORMAT = "socialrec-model"
FORMAT_VERSION = 1


# --------------------------------------------------------------------------------------------------------
# hyper-parameter checks: name -> (predicate, description of what is allowed)
# --------------------------------------------------------------------------------------------------------
def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_real(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)


POSITIVE_INT = (lambda v: _is_int(v) and v > 0, "a positive integer")
FACTORS = (lambda v: _is_int(v) and 0 < v < 2**31, "a positive integer below 2**31")
NON_NEGATIVE_INT = (lambda v: _is_int(v) and v >= 0, "a non-negative integer")
POSITIVE = (lambda v: _is_real(v) and v > 0, "a positive finite number")
NON_NEGATIVE = (lambda v: _is_real(v) and v >= 0, "a non-negative finite number")
UNIT_INTERVAL = (lambda v: _is_real(v) and 0 <= v <= 1, "a number in [0, 1]")
BOOL = (lambda v: isinstance(v, (bool, np.bool_)), "True or False")

_COMMON_CHECKS = {
    "factors": FACTORS,
    "epochs": NON_NEGATIVE_INT,
    "learning_rate": POSITIVE,
    "regularization": NON_NEGATIVE,
    "bias_regularization": NON_NEGATIVE,
    "init_std": NON_NEGATIVE,
    "num_threads": NON_NEGATIVE_INT,
    "seed": (lambda v: v is None or (_is_int(v) and v >= 0), "None or a non-negative integer"),
    "dtype": (lambda v: v in ("float32", "float64", "float16"), "'float32' or 'float64' ('float16' on CUDA)"),
    "device": (lambda v: v in ("auto", "cpu", "cuda"), "'auto', 'cpu' or 'cuda'"),
    "progress": BOOL,
    "deterministic": BOOL,
    "biased": BOOL,
}


class Model:
    """Base class of every socialrec model (scikit-learn estimator conventions).

    Subclasses set ``_params`` (hyper-parameter defaults, merged along the class hierarchy) and optionally
    ``_checks`` (extra hyper-parameter rules). Instances are built with keyword arguments only.
    """

    _params = {"seed": 0, "num_threads": 0, "dtype": "float32", "device": "auto", "progress": False}
    _checks = {}
    _link = "identity"          # "logistic" or "score" (see the module docstring)
    _cuda_kernels = False       # True in models with a CUDA back-end (models/device.py DeviceMixin)
    _validation_metric = "rmse"  # the metric early stopping watches (lower is better)
    # hyper-parameters that the fitted arrays depend on: set_params discards the fit when one changes
    _fitted_params = ("factors", "dtype")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        defaults, checks = {}, dict(_COMMON_CHECKS)
        for base in reversed(cls.__mro__):
            defaults.update(base.__dict__.get("_params", {}))
            checks.update(base.__dict__.get("_checks", {}))
        cls._defaults, cls._all_checks = defaults, checks
        # A real signature for help(), IDEs and get_params (the scikit-learn convention).
        params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        params += [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=v) for k, v in defaults.items()]

        def __init__(self, **kw):
            Model.__init__(self, **kw)

        __init__.__signature__ = inspect.Signature(params)
        __init__.__doc__ = f"Create a {cls.__name__}; see the class docstring for the parameters."
        cls.__init__ = __init__

    def __init__(self, **params):
        unknown = sorted(set(params) - set(self._defaults))
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected parameter(s) {unknown}; "
                            f"accepted: {sorted(self._defaults)}")
        for name, default in self._defaults.items():
            setattr(self, name, params.get(name, default))
        self._check_params()
        self.history = []

    # -- scikit-learn conventions ---------------------------------------------------------------------------
    def get_params(self, deep=True):
        """Hyper-parameters as a dict (``deep`` is accepted for scikit-learn compatibility)."""
        return {name: getattr(self, name) for name in self._defaults}

    def set_params(self, **params):
        """Set hyper-parameters; unknown names or bad values raise and leave the model unchanged.

        On a fitted model, changing a hyper-parameter that the fitted arrays depend on (``_fitted_params``:
        ``factors`` and ``dtype``, and e.g. BiasedMF's ``biased``, RSTE's ``alpha``) discards the fit, since
        the arrays no longer match it (``predict`` and ``save`` then raise ``NotFittedError`` until the next
        ``fit``); any other change keeps the fit and takes effect at the next ``fit``.
        """
        unknown = sorted(set(params) - set(self._defaults))
        if unknown:
            raise ValueError(f"invalid parameter(s) {unknown} for {type(self).__name__}; "
                             f"accepted: {sorted(self._defaults)}")
        old = self.get_params()
        for name, value in params.items():
            setattr(self, name, value)
        try:
            self._check_params()
        except (TypeError, ValueError):
            for name, value in old.items():
                setattr(self, name, value)
            raise
        if self.fitted and any(params[k] != old[k] for k in params if k in self._fitted_params):
            self._clear_fit()
        return self

    def __repr__(self):
        changed = {k: v for k, v in self.get_params().items() if v != self._defaults[k]}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in changed.items())})"

    def _check_params(self):
        for name in self._defaults:
            rule = self._all_checks.get(name)
            if rule is None:
                continue
            ok, allowed = rule
            value = getattr(self, name)
            if not ok(value):
                raise ValueError(f"{type(self).__name__}: {name}={value!r} is invalid; it must be {allowed}")
        if self.dtype == "float16" and self.device != "cuda":
            raise ValueError("dtype='float16' is only available with device='cuda'")
        self._check_extra()

    def _check_extra(self):
        """Hook for rules that involve several hyper-parameters."""

    # -- fitting ---------------------------------------------------------------------------------------------
    @property
    def fitted(self):
        """True once ``fit`` has produced parameters."""
        return getattr(self, "parameters_", None) is not None

    def _require_fitted(self):
        if not self.fitted:
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit() first")

    def _resolve_device(self, training=False):
        """``"cpu"`` or ``"cuda"`` for this model's ``device`` and ``dtype`` (see ``_backend.resolve_device``);
        ``training``: the device ``fit`` trains on (a model may have options its CUDA kernels lack)."""
        from .. import _backend

        return _backend.resolve_device(self.device, self.dtype, self._cuda_kernels, type(self).__name__)

    def _training_data(self, data, trust, device):
        """The training data in the form the ``device``'s kernels take (hook; CPU: a ``Dataset``)."""
        return as_dataset(data, trust)

    def _seen_structure(self, train):
        """CSR (indptr int64, indices int32) of the training items per user (hook, like ``_training_data``)."""
        seen = train.ratings.tocsr()
        return np.asarray(seen.indptr, dtype=np.int64), np.asarray(seen.indices, dtype=np.int32)

    def fit(self, data, trust=None, *, validation=None, early_stopping=None, callback=None):
        """Train on ``data``.

        Parameters
        ----------
        data : Dataset or scipy.sparse matrix
            Training ratings (a ``Dataset``, or an ``n_users x n_items`` sparse matrix).
        trust : scipy.sparse matrix, optional
            ``n_users x n_users`` trust graph when ``data`` is a matrix (``T[u, v] != 0`` means u trusts v).
        validation : Dataset, optional
            Held-out ratings evaluated after every epoch (recorded in ``history``).
        early_stopping : int, optional
            Stop when the validation metric has not improved for this many epochs and keep the best
            epoch's parameters. Needs ``validation``.
        callback : callable, optional
            ``callback(model, record)`` after every epoch, with the model usable (``predict``, ``save``);
            return ``True`` to stop training.

        Returns
        -------
        self

        Raises
        ------
        DivergenceError
            When an epoch's loss is NaN or infinite; the model keeps the last finite epoch (if the first
            epoch diverges there is none: the model is left unfitted).
        KeyboardInterrupt
            Ctrl-C stops within about a second; the model keeps the last finished epoch (before the first
            one finishes: left unfitted).
        """
        self._check_params()
        device = self._resolve_device(training=True)
        train = self._training_data(data, trust, device)
        if callback is not None and not callable(callback):
            raise TypeError(f"callback must be callable(model, record), got {type(callback).__name__}")
        if early_stopping is not None:
            if validation is None:
                raise ValueError("early_stopping needs a validation set (fit(..., validation=...))")
            if not (_is_int(early_stopping) and early_stopping > 0):
                raise ValueError(f"early_stopping={early_stopping!r} must be a positive integer")
        if validation is not None:
            validation = as_dataset(validation)
            if validation.ratings.shape != train.ratings.shape:
                raise ValueError(f"validation has shape {validation.ratings.shape}, training data "
                                 f"{train.ratings.shape}: both must share one index space")
        self._validate_training_data(train)
        seed = self.seed if self.seed is not None else int(np.random.SeedSequence().entropy % (1 << 63))

        self._clear_fit()
        self.device_ = device
        self.seed_ = seed
        self.n_users_, self.n_items_ = train.ratings.shape
        self.rating_scale_ = tuple(float(x) for x in train.rating_scale)
        self.user_ids_, self.item_ids_ = train.user_ids, train.item_ids
        self.seen_indptr_, self.seen_indices_ = self._seen_structure(train)
        self.parameters_ = self._init_parameters(train, np.random.default_rng(seed))
        state = self._prepare_on_device(train)
        threads = _engine.resolve_threads(self.num_threads)
        self.history = []
        self._train_loop(state, threads, validation, early_stopping, callback)
        return self

    def _train_loop(self, state, threads, validation, early_stopping, callback):
        backup = {k: v.copy() for k, v in self.parameters_.items()}  # NumPy or CuPy alike
        best, best_score, since_best = None, math.inf, 0
        interruptible = True  # until an epoch proves short enough for Python to see Ctrl-C between epochs
        bar = self._progress_bar()
        try:
            for epoch in range(self.epochs):
                for k, v in self.parameters_.items():
                    backup[k][...] = v
                settings = _engine.pass_settings(self.seed_, epoch, threads, self._deterministic(),
                                                 interruptible)
                start = time.perf_counter()
                try:
                    loss = float(self._run_epoch_on_device(state, settings))
                except KeyboardInterrupt:
                    self._restore_or_unfit(backup)
                    raise
                seconds = time.perf_counter() - start
                interruptible = seconds > 0.2
                self._invalidate()
                if not math.isfinite(loss):
                    self._restore_or_unfit(backup)
                    raise DivergenceError(epoch, loss, self._divergence_hint())
                record = {"epoch": epoch, "loss": loss, "seconds": seconds}
                if validation is not None:
                    record.update(self._validation_record(validation))
                self.history.append(record)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix({k: f"{v:.4g}" for k, v in record.items() if k not in ("epoch", "seconds")})
                if early_stopping is not None:
                    score = record[f"val_{self._validation_metric}"]
                    score = -score if self._validation_metric in ("ndcg", "precision", "recall", "map") else score
                    if score < best_score:
                        best_score, since_best = score, 0
                        best = {k: v.copy() for k, v in self.parameters_.items()}
                        self.best_epoch_ = epoch
                    else:
                        since_best += 1
                        if since_best >= early_stopping:
                            break
                if callback is not None and callback(self, record):
                    break
        finally:
            if bar is not None:
                bar.close()
        if best is not None:
            self._restore(best)
        elif self.history and not all(np.isfinite(v).all() for v in self.parameters_.values()):
            # An epoch's loss sums terms evaluated before each update, so a blow-up in the updates of the last
            # epoch run shows in no loss; earlier epochs' blow-ups show in the next epoch's loss.
            last = self.history.pop()
            self._restore_or_unfit(backup)
            raise DivergenceError(last["epoch"], math.nan, "the parameters became non-finite in its updates; "
                                  + self._divergence_hint())

    def _divergence_hint(self):
        """What to change after a divergence (the end of the ``DivergenceError`` message)."""
        step = getattr(self, "learning_rate", None)
        weights = {k: v for k, v in self.get_params().items() if k.endswith("regularization")}
        if step is not None and weights:
            # a penalty's step scales the penalised rows by about 1 - step * weight: beyond 1 it overshoots
            name = max(weights, key=weights.get)
            if step * weights[name] >= 1:
                return (f"learning_rate * {name} = {step * weights[name]:g} >= 1, so each step's penalty "
                        f"overshoots (a larger {name} makes it worse); try a smaller learning_rate")
        return "try a smaller learning_rate (or a larger regularization)"

    def _progress_bar(self):
        if not self.progress:
            return None
        from tqdm.auto import tqdm

        return tqdm(total=self.epochs, desc=f"{type(self).__name__}", unit="epoch", leave=False)

    def _restore_or_unfit(self, backup):
        """After a failed epoch: back to the last finished epoch, or, when none finished, no fit at all (the
        initial parameters are not a model; ``predict`` should say so rather than answer from them)."""
        if self.history:
            self._restore(backup)
        else:
            self._clear_fit()

    def _restore(self, snapshot):
        for k, v in snapshot.items():
            self.parameters_[k][...] = v
        self._invalidate()

    def _validation_record(self, validation):
        from .. import metrics

        return {"val_rmse": metrics.rmse(self, validation), "val_mae": metrics.mae(self, validation)}

    def _deterministic(self):
        return bool(getattr(self, "deterministic", True))

    def _on_load(self):
        """Hook run by ``load`` once the arrays are in place (on the host)."""

    def _clear_fit(self):
        self.parameters_ = None
        self.best_epoch_ = None  # set by a fit with early stopping
        self._invalidate()

    def _invalidate(self):
        self._scoring_cache = None

    def _validate_training_data(self, train):
        if train.ratings.nnz == 0:
            raise ValueError("the training data has no ratings")
        lo, hi = train.rating_scale
        if self._link == "logistic" and not lo < hi:
            # r~ = (r - r_min) / (r_max - r_min) would be NaN everywhere and show as a "divergence"
            raise ValueError(f"{type(self).__name__} maps ratings to [0, 1] by (r - r_min) / (r_max - r_min), "
                             f"but the data's rating_scale is ({lo:g}, {hi:g}); it needs r_max > r_min (build "
                             "the Dataset with rating_scale=(min, max) of the scale the ratings come from)")

    # -- hooks for subclasses ----------------------------------------------------------------------------------
    def _init_parameters(self, train, rng):  # pragma: no cover - abstract
        raise NotImplementedError

    def _prepare(self, train):  # pragma: no cover - abstract
        raise NotImplementedError

    # What fit calls: the CPU hooks here; DeviceMixin (models/device.py) sends device="cuda" fits to the
    # model's _prepare_cuda / _run_epoch_cuda instead. Not overridden by models, so that a model's own
    # _prepare / _run_epoch (the CPU path) never shadows the dispatch.
    def _prepare_on_device(self, train):
        return self._prepare(train)

    def _run_epoch_on_device(self, state, settings):
        return self._run_epoch(state, settings)

    def _run_epoch(self, state, settings):  # pragma: no cover - abstract
        raise NotImplementedError

    def _loss(self, data):  # pragma: no cover - abstract
        raise NotImplementedError

    def _scoring_parts(self):  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def _np_dtype(self):
        return np.dtype("float64" if self.dtype == "float64" else "float32")

    # -- prediction ---------------------------------------------------------------------------------------------
    def _scoring(self):
        self._require_fitted()
        if self._scoring_cache is None:
            parts = self._scoring_parts()
            n_users, n_items = self.n_users_, self.n_items_
            dtype = parts["user_vectors"].dtype
            parts.setdefault("user_bias", np.zeros(n_users, dtype))
            parts.setdefault("item_bias", np.zeros(n_items, dtype))
            parts.setdefault("global_bias", 0.0)
            self._scoring_cache = parts
        return self._scoring_cache

    def _raw_scores(self, users, items):
        s = self._scoring()
        out = np.empty(len(users), dtype=np.float64)
        for start in range(0, len(users), 1 << 18):  # bounded memory: 256k pairs at a time
            u, i = users[start:start + (1 << 18)], items[start:start + (1 << 18)]
            out[start:start + len(u)] = (np.einsum("ij,ij->i", s["user_vectors"][u], s["item_vectors"][i])
                                         + s["user_bias"][u] + s["item_bias"][i] + s["global_bias"])
        return out

    def _apply_link(self, x):
        if self._link == "score":
            return x
        lo, hi = self.rating_scale_
        if self._link == "logistic":
            x = lo + (hi - lo) / (1.0 + np.exp(-x))
        return np.clip(x, lo, hi)

    def predict(self, users, items):
        """Predicted ratings for the (users[j], items[j]) pairs, clipped to the training rating scale.

        The ranking models (BPR, SBPR, ALS, SocialALS) predict no rating: they return the score ``x_ui``
        that ``recommend`` ranks by and returns, not clipped.

        Parameters
        ----------
        users, items : array-like of int
            Indices (not raw ids) of equal length; see ``Dataset.user_index`` to map raw ids.

        Returns
        -------
        numpy.ndarray of float64, shape (len(users),)
        """
        self._require_fitted()
        users = _index_array(users, self.n_users_, "users")
        items = _index_array(items, self.n_items_, "items")
        if users.shape != items.shape:
            raise ValueError(f"users and items must have the same length ({len(users)} != {len(items)})")
        return self._apply_link(self._raw_scores(users, items))

    def loss(self, data):
        """The objective that training descends (DESIGN §4), on ``data``'s ratings and trust graph; the models
        that map ratings to [0, 1] map ``data``'s with the rating scale they were trained on."""
        self._require_fitted()
        data = as_dataset(data)
        if data.ratings.shape != (self.n_users_, self.n_items_):
            raise ValueError(f"data has shape {data.ratings.shape}, the model was fitted on "
                             f"{(self.n_users_, self.n_items_)}")
        return float(self._loss(data))

    # -- top-N ---------------------------------------------------------------------------------------------
    def recommend(self, users, n=10, exclude_seen=True, items=None, batch_size=None):
        """Top-``n`` items for each user, best first.

        Items are ranked by ``item_bias[i] + user_vectors[u] . item_vectors[i]`` computed in the model's
        dtype: the terms of ``x_ui`` that vary with the item, so the order is that of the predicted rating.
        That score is returned (float32); add ``user_bias[u] + global_bias`` for ``x_ui`` itself. Ties go to
        the lower item index; items scoring -inf or NaN are never listed. Blocks of users are scored by dense
        products (BLAS, pinned to ``num_threads``) and selected in C++ (``socialrec.topn``).

        Parameters
        ----------
        users : array-like of int
            User indices.
        n : int
            Items per user; fewer real items are padded with index -1 and score -inf.
        exclude_seen : bool
            Leave out the items each user rated in the training data.
        items : array-like of int, optional
            Rank only these candidate items.
        batch_size : int, optional
            Users scored per dense product (default 256); each product covers at most 64 MiB of scores per
            thread, so memory is bounded by the batch, not by users x items.

        Returns
        -------
        (indices, scores) : int64 and float32 arrays of shape (len(users), n)
        """
        from .. import topn

        return topn.recommend(self, users, n=n, exclude_seen=exclude_seen, items=items, batch_size=batch_size)

    def similar_items(self, items, n=10):
        """The ``n`` items most similar to each item (cosine of item vectors), excluding the item itself;
        returns (indices, cosines) of shape (len(items), n). Ties go to the lower index, so an item whose
        vector is zero (no training data in a model that leaves such rows at 0) gets the lowest-index items
        with cosine 0."""
        from .. import topn

        return topn.similar(self._scoring()["item_vectors"], _index_array(items, self.n_items_, "items"), n,
                            threads=_engine.resolve_threads(self.num_threads))

    def similar_users(self, users, n=10):
        """The ``n`` users most similar to each user (cosine of user vectors), excluding the user itself;
        returns (indices, cosines) as ``similar_items`` (a zero vector gets the lowest indices, cosine 0)."""
        from .. import topn

        return topn.similar(self._scoring()["user_vectors"], _index_array(users, self.n_users_, "users"), n,
                            threads=_engine.resolve_threads(self.num_threads))

    def recommend_raw(self, user_ids, n=10, exclude_seen=True, items=None, batch_size=None):
        """``recommend`` for raw user ids (a list, or one id: one row, as ``recommend`` takes one index);
        ``items``, if given, are raw item ids of the candidates. Returns (raw item ids, scores), ``None`` where
        ``recommend`` pads with -1. Unknown user or item ids raise ``KeyError`` naming the first one."""
        from ..data import _IdIndex

        self._require_fitted()
        if self.user_ids_ is None:
            raise ValueError("this model was fitted without id maps; use recommend() with indices")
        # the lookup of Dataset.user_index: a string or a known tuple is one id, not a sequence of ids
        users = np.atleast_1d(_IdIndex(np.asarray(self.user_ids_), "user")(user_ids)).astype(np.int64)
        if items is not None:
            items = np.atleast_1d(_IdIndex(np.asarray(self.item_ids_), "item")(items)).astype(np.int64)
        ids, scores = self.recommend(users, n=n, exclude_seen=exclude_seen, items=items, batch_size=batch_size)
        return np.where(ids >= 0, np.asarray(self.item_ids_)[np.maximum(ids, 0)], None), scores

    # -- persistence -----------------------------------------------------------------------------------------
    _FIT_ATTRS = ("seed_", "n_users_", "n_items_", "rating_scale_")  # required; best_epoch_ is saved too
    # Fitted arrays that are not learned parameters but that prediction needs (e.g. RSTE's trust matrix);
    # saved as "fit/<name>" and restored as attributes.
    _FIT_ARRAYS = ()

    def save(self, path):
        """Save to ``path`` (``.npz``: the arrays plus JSON metadata; no pickle inside)."""
        self._require_fitted()
        meta = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "class": type(self).__name__,
            "params": self.get_params(),
            "fit": {**{k: getattr(self, k) for k in self._FIT_ATTRS}, "best_epoch_": self.best_epoch_},
            "history": self.history, "socialrec_version": _version(),
        }
        arrays = {f"param/{k}": v for k, v in self.parameters_.items()}
        arrays["seen/indptr"], arrays["seen/indices"] = self.seen_indptr_, self.seen_indices_
        for name in self._FIT_ARRAYS:
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
        _check_csr(self.seen_indptr_, self.seen_indices_, n_users, n_items, "the seen-items matrix")
        if {"trust_indptr_", "trust_indices_"} <= set(self._FIT_ARRAYS):  # RSTE, TrustSVD: a user x user CSR
            _check_csr(self.trust_indptr_, self.trust_indices_, n_users, n_users, "the trust matrix")
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
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)


def load(path, device=None):
    """Load a model saved with ``Model.save``; returns an instance of the saved class.

    ``device`` (``"auto"``, ``"cpu"`` or ``"cuda"``) overrides the saved ``device`` setting; models with a
    CUDA back-end then place their parameters accordingly (``Model._on_load``).

    Raises
    ------
    ValueError
        Naming ``path``, when the file is missing, truncated, corrupted, not a socialrec model file, of a
        newer format version, of a model class this version does not know, or inconsistent (parameter
        arrays missing or of the wrong shape or dtype).
    """
    import zipfile
    import zlib

    broken = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error)
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
        assert _is_int(version)
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
            model.rating_scale_ = _check_scale(model.rating_scale_)
        except ValueError as e:
            raise ValueError(f"rating_scale_: {e}") from None
        model.history = list(meta["history"])
        model.parameters_ = {k[len("param/"):]: v for k, v in files.items() if k.startswith("param/")}
        model.seen_indptr_, model.seen_indices_ = files["seen/indptr"], files["seen/indices"]
        for name in cls._FIT_ARRAYS:
            setattr(model, name, files[f"fit/{name}"])
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


def as_dataset(data, trust=None):
    """A ``Dataset`` from a Dataset or from scipy.sparse matrices."""
    if isinstance(data, Dataset):
        if trust is not None:
            raise ValueError("pass trust only with a matrix; a Dataset carries its own trust graph")
        return data
    import scipy.sparse as sp

    if sp.issparse(data) or isinstance(data, np.ndarray):
        return Dataset.from_sparse(data, trust=trust)
    raise TypeError(f"expected a socialrec.Dataset or a scipy.sparse matrix, got {type(data).__name__}")


def _index_array(values, bound, name):
    """Validated int64 index array (1-D, a fresh copy).

    Raises ``TypeError`` for values that are not integer indices (strings, booleans, fractional numbers),
    ``ValueError`` for NaN/inf or arrays that are not 1-D, and ``IndexError`` for indices outside
    ``[0, bound)``; each message names the argument and the first offending position.
    """
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{name} must be integer indices, got a {type(values).__name__}")
    arr = np.asarray(values)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        return np.empty(0, dtype=np.int64)
    kind = arr.dtype.kind
    if kind == "b":
        raise TypeError(f"{name} is boolean; expected integer indices (np.flatnonzero turns a mask into indices)")
    if kind == "O":  # mixed Python objects, or integers beyond int64
        out = np.empty(len(arr), dtype=np.int64)
        for pos, v in enumerate(arr):
            if isinstance(v, (bool, np.bool_)):
                raise TypeError(f"{name}[{pos}] = {v!r} is a boolean, not an integer index")
            if isinstance(v, numbers.Real) and not isinstance(v, numbers.Integral):
                if not math.isfinite(v):
                    raise ValueError(f"{name}[{pos}] is {v}; expected integer indices")
                if not float(v).is_integer():
                    raise TypeError(f"{name}[{pos}] = {v!r} is not an integer index")
            elif not isinstance(v, numbers.Integral):
                raise TypeError(f"{name}[{pos}] = {v!r} is not an integer index")
            if not 0 <= v < bound:
                raise IndexError(f"{name}[{pos}] = {v} is out of range [0, {bound})")
            out[pos] = int(v)
        return out
    if isinstance(values, (list, tuple)) and kind in "iuf":
        # NumPy turns [True, 2] into integers: a boolean inside a list is still not an index
        for pos, v in enumerate(values):
            if isinstance(v, (bool, np.bool_)):
                raise TypeError(f"{name}[{pos}] = {v!r} is a boolean, not an integer index")
    if kind == "f":
        bad = ~np.isfinite(arr)
        if bad.any():
            pos = int(np.argmax(bad))
            raise ValueError(f"{name}[{pos}] is {arr[pos]}; expected integer indices")
        frac = arr != np.round(arr)
        if frac.any():
            pos = int(np.argmax(frac))
            raise TypeError(f"{name}[{pos}] = {arr[pos]} is not an integer index")
    elif kind not in "iu":
        raise TypeError(f"{name} must be integer indices, got dtype {arr.dtype}")
    # compare before any cast, so that uint64 or float values beyond int64 cannot wrap around
    bad = (arr < 0) | (arr >= bound)
    if bad.any():
        pos = int(np.argmax(bad))
        raise IndexError(f"{name}[{pos}] = {arr[pos]} is out of range [0, {bound})")
    return arr.astype(np.int64)


def _check_csr(indptr, indices, n_rows, n_cols, what):
    """A loaded CSR structure: integer arrays, n_rows + 1 non-decreasing offsets from 0, indices in range."""
    indptr, indices = np.asarray(indptr), np.asarray(indices)
    if (indptr.dtype.kind not in "iu" or indices.dtype.kind not in "iu" or indptr.shape != (n_rows + 1,)
            or indices.ndim != 1 or indptr[0] != 0 or indptr[-1] != len(indices) or np.any(np.diff(indptr) < 0)
            or (len(indices) and (indices.min() < 0 or indices.max() >= n_cols))):
        raise ValueError(f"{what} is not a valid CSR structure of shape {(n_rows, n_cols)}")


def _json_scalar(value):
    """``json.dumps``' fallback: NumPy scalars (hyper-parameters pass validation as np.int64, np.float32,
    np.bool_, ...) as the matching Python number."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _version():
    from .. import __version__

    return __version__
