"""The model base class: hyper-parameters, prediction and top-N.

A concrete model declares its hyper-parameters in ``_params`` (name -> default), its parameter arrays in
``_init_parameters``, one epoch in ``_run_epoch`` (one call into ``socialrec._core``), its objective in
``_loss`` and its scoring form in ``_scoring_parts``. Everything else lives once in ``Model``: validation of
the hyper-parameters, predict and recommend here; the training loop (threads, Ctrl-C, divergence, early
stopping, history, progress bar) in ``models/_training.py``; save/load and pickling in ``models/_persist.py``.

Every socialrec model scores a (user, item) pair in the same form::

    x_ui = global_bias + user_bias[u] + item_bias[i] + user_vectors[u] . item_vectors[i]

followed by the model's link: ``identity`` (the rating itself), ``logistic`` (rating models that the papers
define on ratings mapped to [0, 1]: ``r_min + g(x_ui) (r_max - r_min)``), both clipped to the training rating
scale, or ``score`` (ranking models: ``x_ui`` as is, unclipped). Models whose prediction sums over
a user's items or trustees (SVD++, TrustSVD, RSTE, TrustMF) fold those sums into ``user_vectors`` once after
training, so prediction and ranking cost the same for every model.
"""
from __future__ import annotations

import inspect
import warnings
from typing import Any, Callable, Dict, Optional, Tuple, TypeVar

import numpy as np

from .. import _backend, _engine, metrics, topn
from .._align import model_space
from .._typing import Array, Data, Ids
from .._errors import NotFittedError
from .._validate import is_int, is_real
from ..data import as_dataset  # also what socialrec.reference takes as_dataset from
from . import _recommend
from ._explain import ExplainMixin
from ._fold_in import FoldInMixin
from ._follow import FollowMixin
from ._persist import PersistMixin, load
from ._queries import check_ids, id_space
from ._registry import _REGISTRY, register  # noqa: F401  (the model modules register here)
from ._sklearn import SklearnMixin
from ._training import TrainingMixin

__all__ = ["Model", "load", "register"]

_M = TypeVar("_M", bound="Model")  # set_params returns the model itself


# --------------------------------------------------------------------------------------------------------
# hyper-parameter checks: name -> (predicate, description of what is allowed)
# --------------------------------------------------------------------------------------------------------
Check = Tuple[Callable[[Any], bool], str]  # (predicate, what is allowed)
POSITIVE_INT: Check = (lambda v: is_int(v) and v > 0, "a positive integer")
FACTORS: Check = (lambda v: is_int(v) and 0 < v < 2**31, "a positive integer below 2**31")
NON_NEGATIVE_INT: Check = (lambda v: is_int(v) and v >= 0, "a non-negative integer")
POSITIVE: Check = (lambda v: is_real(v) and v > 0, "a positive finite number")
NON_NEGATIVE: Check = (lambda v: is_real(v) and v >= 0, "a non-negative finite number")
UNIT_INTERVAL: Check = (lambda v: is_real(v) and 0 <= v <= 1, "a number in [0, 1]")
BOOL: Check = (lambda v: isinstance(v, (bool, np.bool_)), "True or False")

_COMMON_CHECKS = {
    "factors": FACTORS,
    "epochs": NON_NEGATIVE_INT,
    "learning_rate": POSITIVE,
    "regularization": NON_NEGATIVE,
    "bias_regularization": NON_NEGATIVE,
    "init_std": NON_NEGATIVE,
    "num_threads": (lambda v: is_int(v) and 0 <= v <= _engine.MAX_THREADS,
                    f"an integer in [0, {_engine.MAX_THREADS}] (0: all cores)"),
    "seed": (lambda v: v is None or (is_int(v) and v >= 0), "None or a non-negative integer"),
    "dtype": (lambda v: v in ("float32", "float64", "float16"), "'float32' or 'float64' ('float16' on CUDA)"),
    "device": (lambda v: v in ("auto", "cpu", "cuda"), "'auto', 'cpu' or 'cuda'"),
    "progress": BOOL,
    "deterministic": BOOL,
    "biased": BOOL,
}


class Model(TrainingMixin, PersistMixin, SklearnMixin, FoldInMixin, ExplainMixin, FollowMixin):
    """Base class of every socialrec model (scikit-learn estimator conventions).

    Subclasses set ``_params`` (hyper-parameter defaults, merged along the class hierarchy) and optionally
    ``_checks`` (extra hyper-parameter rules). Instances are built with keyword arguments only. ``fit`` comes
    from ``TrainingMixin`` (models/_training.py), ``save`` / ``load`` and pickling from ``PersistMixin``
    (models/_persist.py), scikit-learn's ``fit(X, y, trust=...)``, ``score`` and ``__sklearn_tags__`` from
    ``SklearnMixin`` (models/_sklearn.py), so rating models work in ``GridSearchCV``, ``cross_val_score`` and
    ``clone``; ``explain`` from ``ExplainMixin`` (models/_explain.py), ``recommend_users`` from
    ``FollowMixin`` (models/_follow.py).
    """

    _params: Dict[str, Any] = {"seed": 0, "num_threads": 0, "dtype": "float32", "device": "auto", "progress": False}
    _checks: Dict[str, Check] = {}
    _link = "identity"          # "logistic" or "score" (see the module docstring)
    _cuda_kernels = False       # True in models with a CUDA back-end (models/device.py DeviceMixin)
    _validation_metric = "rmse"  # the metric early stopping watches (lower is better)
    uses_trust = False          # True in models that train on the trust graph (sr.compare groups by it)
    search_space: Dict[str, Any] = {}  # sr.tune's default search space (socialrec.tuning); set per model
    # hyper-parameters that the fitted arrays depend on: set_params discards the fit when one changes
    _fitted_params: Tuple[str, ...] = ("factors", "dtype")
    _defaults: Dict[str, Any]  # every hyper-parameter -> default, over the class hierarchy (__init_subclass__)
    _all_checks: Dict[str, Check]
    _scoring_cache: Any  # the scoring parts of the fitted model, built on first use (_invalidate clears them)

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
        refusal = getattr(self, "_privacy_refusal", None)
        if "privacy" in unknown and refusal:  # a model whose DP-SGD guarantee would not hold (docs/PRIVACY.md)
            raise TypeError(f"{type(self).__name__}(privacy=...) is refused: {refusal}")
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected parameter(s) {unknown}; "
                            f"accepted: {sorted(self._defaults)}")
        for name, default in self._defaults.items():
            setattr(self, name, params.get(name, default))
        self._check_params()
        self.history = []

    # -- scikit-learn conventions ---------------------------------------------------------------------------
    def get_params(self, deep: bool = True) -> Dict[str, Any]:
        """Hyper-parameters as a dict (``deep`` is accepted for scikit-learn compatibility)."""
        return {name: getattr(self, name) for name in self._defaults}

    def set_params(self: _M, **params: Any) -> _M:
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

    # -- fitted state -----------------------------------------------------------------------------------------
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
        return _backend.resolve_device(self.device, self.dtype, self._cuda_kernels, type(self).__name__)

    def _clear_fit(self):
        self.parameters_ = None
        self.best_epoch_ = None  # set by a fit with early stopping
        self.__dict__.pop("privacy_", None)  # a private fit's guarantee belongs to that fit only
        self._invalidate()

    def _invalidate(self):
        self._scoring_cache = None

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

    def _query(self, side, values, name, ids):
        """The indices of a query's ``side`` ("user" or "item") ids (raw ids, or indices under ``ids="index"``),
        validated, on the host; unknown ids raise ``UnknownIdError`` naming each (models/_queries.py)."""
        return id_space(self, side).to_index(values, name, check_ids(ids)).indices

    def _ids_of(self, side, indices, ids):
        """Host indices of ``side`` as a query with ``ids`` returns them (raw ids, or the indices themselves)."""
        return id_space(self, side).to_raw(indices, check_ids(ids))

    def predict(self, users: Any, items: Any = None, *, ids: str = "raw") -> Array:
        """Predicted ratings for the (users[j], items[j]) pairs, clipped to the training rating scale.

        The ranking models (BPR, SBPR, ALS, SocialALS) predict no rating: they return the score ``x_ui``
        that ``recommend`` ranks by and returns, not clipped.

        Parameters
        ----------
        users, items : array-like
            User and item ids of equal length (one id: a list of one): the raw ids of the data the model was
            fitted on (for a model fitted on a matrix, 0..n-1), or indices with ``ids="index"``. With
            ``items`` left out, ``users`` is scikit-learn's ``X`` of raw (user id, item id) pairs, scored as
            ``score`` scores them (an unseen user or item gets zero factors and bias on that side).
        ids : {"raw", "index"}
            How ``users`` and ``items`` are given. An id the model does not know raises ``UnknownIdError``
            (a ``KeyError``, ``IndexError`` and ``ValueError``) naming every unknown id.

        Returns
        -------
        numpy.ndarray of float64, shape (len(users),)
        """
        if items is None:  # scikit-learn's predict(X): X holds raw (user id, item id) pairs
            return self._predict_pairs(users)
        self._require_fitted()
        check_ids(ids)
        users = self._query("user", users, "users", ids)
        items = self._query("item", items, "items", ids)
        if users.shape != items.shape:
            raise ValueError(f"users and items must have the same length ({len(users)} != {len(items)})")
        return self._apply_link(self._raw_scores(users, items))

    def loss(self, data: Data) -> float:
        """The objective that training descends (DESIGN §4), on ``data``'s ratings and trust graph; the models
        that map ratings to [0, 1] map ``data``'s with the rating scale they were trained on. ``data``: a Dataset
        in the model's id space (or index-space data of its shape), or a DataFrame of raw ids mapped through the
        model's ids (``metrics.errors``); a Dataset with other ids raises ``ValueError``."""
        self._require_fitted()
        return float(self._loss(model_space(self, data, "data")))  # other ids raise; a DataFrame is mapped

    # -- top-N ---------------------------------------------------------------------------------------------
    def recommend(self, users: Ids, n: int = 10, exclude_seen: bool = True, items: Optional[Ids] = None, *,
                  exclude: Any = None, unknown: str = "error", ids: str = "raw",
                  batch_size: Optional[int] = None) -> Tuple[Array, Array]:
        """Top-``n`` items for each user, best first.

        Items are ranked by ``item_bias[i] + user_vectors[u] . item_vectors[i]`` computed in the model's
        dtype: the terms of ``x_ui`` that vary with the item, so the order is that of the predicted rating.
        That score is returned (float32); add ``user_bias[u] + global_bias`` for ``x_ui`` itself. Ties go to
        the lower item index; items scoring -inf or NaN are never listed. Blocks of users are scored by dense
        products (BLAS, pinned to ``num_threads``) and selected in C++ (``socialrec.topn``).

        Parameters
        ----------
        users : array-like, or one id
            Users to recommend to: raw ids of the data the model was fitted on (for a model fitted on a
            matrix, 0..n_users-1), or indices with ``ids="index"``. One id gives one row.
        n : int
            Items per user.
        exclude_seen : bool
            Leave out the items each user rated in the training data.
        items : array-like, optional
            Rank only these candidate items (ids as ``users``).
        exclude : optional
            Items to leave out, ids as ``users``: one list for every user (``[5274, 17]``), one list per user
            (``[[5274], [], [17, 3]]``, as many lists as users), or a dict user -> items (users not in it
            exclude nothing). On top of ``exclude_seen``. An unknown item raises.
        unknown : {"error", "popular"}
            Users the model has not seen: ``"error"`` raises ``UnknownIdError`` naming every unknown user;
            ``"popular"`` gives them the most-rated training items (most training ratings or interactions
            first, ties to the lower index; ``items`` and ``exclude`` apply) with score NaN, and recommends to
            the other users as usual.
        ids : {"raw", "index"}
            How users and items are given and returned.
        batch_size : int, optional
            Users scored per dense product (default 256); each product covers at most 64 MiB of scores per
            thread, so memory is bounded by the batch, not by users x items.

        Returns
        -------
        (items, scores) : arrays of shape (len(users), n)
            ``items``: raw item ids typed as the model's id map (int64 indices with ``ids="index"``);
            ``scores``: float32. A row with fewer than ``n`` candidates is padded with score -inf and the id
            ``-1`` (integer ids and indices; the largest value for unsigned ids), NaN (float ids), ``""``
            (string ids), or None (an object array only for maps of mixed id types). CuPy ``users`` give
            CuPy arrays (ids of a non-numeric map stay NumPy).
        """
        self._require_fitted()
        return _recommend.recommend(self, users, n, exclude_seen, items, exclude, unknown, ids, batch_size)

    def _top_items(self, users, n, exclude_seen, columns, row_exclude, batch_size):
        """``recommend`` in index space: host int64 ``users``, sorted candidate ``columns`` (None: all items),
        ``row_exclude`` a CSR over the rows of items excluded per row. Returns (int64 indices, float32 scores)."""
        return topn.recommend(self, users, n=n, exclude_seen=exclude_seen, items=columns, batch_size=batch_size,
                              row_exclude=row_exclude)

    def similar_items(self, items: Ids, n: int = 10, *, ids: str = "raw") -> Tuple[Array, Array]:
        """The ``n`` items most similar to each item (cosine of item vectors), excluding the item itself;
        returns (items, cosines) of shape (len(items), n), the items as ``recommend`` returns them (raw ids by
        default, ``ids="index"`` for indices in and out). Ties go to the lower index, so an item whose vector is
        zero (no training data in a model that leaves such rows at 0) gets the lowest-index items with cosine
        0. Unknown items raise ``UnknownIdError`` naming each."""
        return self._similar("item", items, n, ids)

    def similar_users(self, users: Ids, n: int = 10, *, ids: str = "raw") -> Tuple[Array, Array]:
        """The ``n`` users most similar to each user (cosine of user vectors), excluding the user itself;
        returns (users, cosines) as ``similar_items`` does (a zero vector gets the lowest indices, cosine 0)."""
        return self._similar("user", users, n, ids)

    def _similar(self, side, query, n, ids):
        self._require_fitted()
        check_ids(ids)
        top, cosines = topn.similar(self._scoring()[f"{side}_vectors"], self._query(side, query, f"{side}s", ids),
                                    n, threads=_engine.resolve_threads(self.num_threads))
        return id_space(self, side).to_raw(top, ids), cosines

    def recommend_raw(self, user_ids, n=10, exclude_seen=True, items=None, batch_size=None, **kwargs):
        """Deprecated alias of ``recommend``, which takes and returns raw ids by default (kept for one
        release)."""
        warnings.warn("recommend_raw is deprecated: recommend() takes and returns raw ids (ids='raw', the "
                      "default); use model.recommend(users, ...)", DeprecationWarning, stacklevel=2)
        return self.recommend(user_ids, n=n, exclude_seen=exclude_seen, items=items, batch_size=batch_size,
                              **kwargs)

    def _ranking_values(self, users, test, exclude, k):
        """``metrics.ranking_per_user``'s values: this model's top-``k`` lists of ``users`` (host int64) scored
        against ``test`` by ``metrics.list_metrics``. ``test`` and ``exclude`` are host CSR pairs (indptr int64,
        indices int32) of the held-out items and of the items left out of the lists; ``exclude`` None leaves
        out the model's training items. ``DeviceMixin`` does all of it on the device for a model on CUDA."""
        top, _ = topn.recommend(self, users, n=k, exclude=exclude)
        if exclude is None:
            exclude = (np.ascontiguousarray(self.seen_indptr_, dtype=np.int64),
                       np.ascontiguousarray(self.seen_indices_, dtype=np.int32))
        return metrics.list_metrics(top, users, test, exclude, self.n_items_,
                                    _engine.resolve_threads(self.num_threads))
