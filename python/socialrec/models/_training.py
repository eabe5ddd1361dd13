"""The training engine of every model: ``fit`` and its epoch loop (``Model`` inherits it from ``TrainingMixin``).

``fit`` validates the data, draws the initial parameters and runs the epochs through two hooks,
``_prepare_on_device`` / ``_run_epoch_on_device`` (the model's ``_prepare`` / ``_run_epoch`` on the CPU; the
CUDA ones under ``DeviceMixin``). Around the epochs it handles threads, Ctrl-C, divergence (a NaN or infinite
loss restores the last finished epoch), validation records, early stopping, the history and the progress bar.
"""
from __future__ import annotations

import contextlib
import functools
import math
import threading
import time
from typing import Any, Callable, Optional, TypeVar, Union, cast

import numpy as np
import scipy.sparse as sp

from .. import _engine, metrics
from .._align import aligned
from .._errors import DivergenceError
from .._interop import is_device_input
from .._typing import Data
from .._validate import is_int, is_real
from ..data import as_dataset
from ..split import validation_split
from . import _features, _warm

_T = TypeVar("_T")  # fit returns the model itself


def _read_only(a):
    """A read-only view of array ``a`` (``a`` itself stays as writeable as it was)."""
    view = a.view()
    view.flags.writeable = False
    return view


def _kept_trust(trust):
    """The training trust graph that ``explain`` and ``recommend_users`` read (models/_follow.py): a host CSR
    over read-only views of the training data's arrays (a Dataset's attributes are read-only by contract, so
    the model shares them rather than holding a second copy of every edge); a CUDA fit's ``DeviceTrust`` as it
    is (fit never copies device input to the host; a query does)."""
    if not sp.issparse(trust):
        return trust
    t = trust.tocsr()
    kept = sp.csr_matrix((_read_only(t.data), _read_only(t.indices), _read_only(t.indptr)), shape=t.shape)
    kept.has_sorted_indices = t.has_sorted_indices
    return kept


DEFAULT_VALIDATION_FRACTION = 0.1  # fit(early_stopping=...) without validation holds this much out
DEFAULT_PATIENCE = 5  # fit(early_stopping=True)


def _patience(early_stopping):
    """fit's ``early_stopping`` as a number of epochs (None: no early stopping)."""
    if early_stopping is None or early_stopping is False:
        return None
    if early_stopping is True:
        return DEFAULT_PATIENCE
    if not (is_int(early_stopping) and early_stopping > 0):
        raise ValueError(f"early_stopping={early_stopping!r} must be a positive integer (or True: 5, False: none)")
    return int(early_stopping)


_FITTING: set = set()  # id() of every model inside fit right now (one fit per model at a time)
_FITTING_LOCK = threading.Lock()


@contextlib.contextmanager
def _one_fit_at_a_time(model):
    """Refuses a second ``fit`` of ``model`` while one runs (a callback that calls ``fit``, or another
    thread): both would rebind and update the same parameter arrays under the kernels' raw pointers. The
    running fit goes on unharmed. Kept outside the instance (ids in a module-level set), so that pickling,
    ``copy`` and scikit-learn's ``clone`` never meet a lock."""
    key = id(model)
    with _FITTING_LOCK:
        if key in _FITTING:
            raise RuntimeError(f"this {type(model).__name__} is already being fitted (a callback or another "
                               "thread called fit on it during fit); fit a copy (sklearn.base.clone or "
                               "copy.deepcopy) instead")
        _FITTING.add(key)
    try:
        yield
    finally:
        with _FITTING_LOCK:
            _FITTING.discard(key)


def _exclusive(fit):
    """Decorator of ``TrainingMixin.fit``: the whole call runs under ``_one_fit_at_a_time``."""
    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        with _one_fit_at_a_time(self):
            return fit(self, *args, **kwargs)
    return wrapper


class TrainingMixin:
    """``fit`` and the epoch loop of ``Model`` (see the module docstring); the model supplies
    ``_init_parameters``, ``_prepare`` and ``_run_epoch``."""

    def _training_data(self, data, trust, device):
        """The training data in the form the ``device``'s kernels take (hook; CPU: a ``Dataset``)."""
        return as_dataset(data, trust)

    def _seen_structure(self, train):
        """CSR (indptr int64, indices int32) of the training items per user (hook, like ``_training_data``)."""
        seen = train.ratings.tocsr()
        return np.asarray(seen.indptr, dtype=np.int64), np.asarray(seen.indices, dtype=np.int32)

    @_exclusive
    def fit(self: _T, data: Data, y: Any = None, *, trust: Any = None, validation: Union[Data, float, None] = None,
            early_stopping: Union[bool, int, None] = None, callback: Optional[Callable[..., Any]] = None,
            warm_start: bool = False, user_features: Any = None, item_features: Any = None,
            feature_regularization: float = _features.DEFAULT_ALPHA) -> _T:
        """Train on ``data``.

        Three forms, told apart by ``y``: ``fit(dataset)``; ``fit(ratings, trust=T)`` (``fit(ratings, T)`` too:
        a matrix in the second position is the trust graph); and scikit-learn's ``fit(X, y, trust=...)``, where
        a 1-D ``y`` goes with ``X`` of raw (user id, item id) pairs (models/_sklearn.py). A 1-D ``y`` next to a
        Dataset or a matrix, or a trust graph given twice, raises ``TypeError``.

        Parameters
        ----------
        data : Dataset, scipy.sparse matrix, or (n, 2) array-like of raw (user id, item id)
            Training ratings (a ``Dataset``, or an ``n_users x n_items`` sparse matrix), or scikit-learn's ``X``.
        y : array-like of float, shape (n,), optional
            The ratings of the pairs ``X`` (scikit-learn); rating models only.
        trust : scipy.sparse matrix, Dataset or (m, 2|3) array-like, optional
            ``n_users x n_users`` trust graph when ``data`` is a matrix (``T[u, v] != 0`` means u trusts v).
            With ``(X, y)``: a ``Dataset`` (its trust graph, in its raw ids), raw (truster, trustee[,
            weight]) rows, or a square sparse matrix indexed by the user ids; a fit parameter, so
            ``GridSearchCV(...).fit(X, y, trust=ds)`` trains every fold and the refit on it.
        validation : Dataset, DataFrame or float, optional
            Held-out ratings evaluated after every epoch (recorded in ``history``): a Dataset in the
            training data's id space (a DataFrame of raw ids is mapped through it), or a fraction in (0, 1)
            of the training data to hold out (:func:`socialrec.split.validation_split`, seeded by ``seed``;
            those ratings are not trained on).
        early_stopping : bool or int, optional
            Stop when the validation metric (RMSE; NDCG@10 for ranking models) has not improved for this many
            epochs (``True``: 5) and keep the best epoch's parameters; ``epochs`` is then the most it trains.
            Without ``validation`` it holds out 10% of the training data (scikit-learn's
            ``early_stopping=True, validation_fraction=0.1, n_iter_no_change=5``).
        callback : callable, optional
            ``callback(model, record)`` after every epoch, with the model usable (``predict``, ``save``);
            return ``True`` to stop training.
        warm_start : bool
            Start from this model's fitted parameters (scikit-learn's ``warm_start``): rows of raw ids the
            previous fit knew are carried over, new ids start as in a fresh fit, then ``epochs`` epochs run
            (models/_warm.py). On an unfitted model it is a plain fit; a fit of other widths (``factors``)
            raises ``ValueError`` and leaves the model as it was.
        user_features, item_features : socialrec.features.Features or DataFrame indexed by raw id, optional
            Side features. The model then knows every id with ratings or a feature row; a cold id (no
            ratings; users: no trust edge either) with a non-zero feature row gets its parameters from a ridge
            map fitted from the features to the trained rows of the warm ids (a post-hoc feature prior:
            models/_features.py says exactly what it is). Host data only.
        feature_regularization : float
            The ridge penalty of that map.

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
            one finishes: left unfitted; before the first one starts, while the training state is built:
            the model as it was before this ``fit``).
        RuntimeError
            When this model is already inside ``fit`` (a callback or another thread); that fit goes on.
        """
        self._check_params()
        data, trust = self._fit_inputs(data, y, trust)
        device = self._resolve_device(training=True)
        if callback is not None and not callable(callback):
            raise TypeError(f"callback must be callable(model, record), got {type(callback).__name__}")
        early_stopping = _patience(early_stopping)
        _check_private_fit(self, warm_start, early_stopping, validation, user_features, item_features)
        if early_stopping is not None and validation is None:
            validation = DEFAULT_VALIDATION_FRACTION
        seed = self.seed if self.seed is not None else int(cast(int, np.random.SeedSequence().entropy) % (1 << 63))
        if is_real(validation):
            data, validation = self._carve_validation(data, trust, validation, seed)
            trust = None  # now inside data
        grown_from = None  # the data's shape when feature ids are appended to it
        user_features = _features.as_features(user_features, "user_features")
        item_features = _features.as_features(item_features, "item_features")
        if user_features is not None or item_features is not None:
            if is_device_input(data):
                raise TypeError("fit(..., user_features=/item_features=) takes host data; CuPy input has none")
            if not (is_real(feature_regularization) and feature_regularization > 0):
                raise ValueError(f"feature_regularization={feature_regularization!r} must be a positive number")
            (data, grown_from), trust = _features.grown(data, trust, user_features, item_features), None
        train = self._training_data(data, trust, device)
        if validation is not None:  # in train's id space: other ids raise, a DataFrame is mapped (_align)
            validation = aligned(validation, train.user_ids, train.item_ids, train.ratings.shape, "validation",
                                 ("training data", "the training data"), grown_from=grown_from)
        self._validate_training_data(train)

        previous = self._fit_snapshot()
        try:  # building the training state: any failure (Ctrl-C included) gives back the model as it was
            self._clear_fit()
            _features.forget(self)
            if grown_from is not None:
                self.grown_from_ = grown_from
            self.device_ = device
            self.seed_ = seed
            self.n_users_, self.n_items_ = train.ratings.shape
            self.rating_scale_ = tuple(float(x) for x in train.rating_scale)
            self.user_ids_, self.item_ids_ = train.user_ids, train.item_ids
            self.seen_indptr_, self.seen_indices_ = self._seen_structure(train)
            self.trust_graph_ = _kept_trust(train.trust)
            self.parameters_ = self._init_parameters(train, np.random.default_rng(seed))
            if warm_start and previous.get("parameters_") is not None:
                self.parameters_ = _warm.carried(self, previous, train, self.parameters_)
            state = self._prepare_on_device(train)
            threads = _engine.resolve_threads(self.num_threads)
        except BaseException:
            self._restore_snapshot(previous)
            raise
        self.history: list = []
        self._train_loop(state, threads, validation, early_stopping, callback)
        try:  # the feature prior completes the fit: if it fails, the model is as it was before this fit
            for side, features in (("user", user_features), ("item", item_features)):
                if features is not None and self.fitted:
                    _features.apply_prior(self, train, features, side, float(feature_regularization))
        except BaseException:
            self._restore_snapshot(previous)
            raise
        return self

    def _carve_validation(self, data, trust, fraction, seed):
        """(rest, validation) of fit's data for ``validation=<fraction>`` (split.validation_split)."""
        if is_device_input(data):
            raise TypeError("fit(..., validation=<fraction>) splits host data; with device (CuPy) input give "
                            "a validation Dataset instead")
        if not 0.0 < fraction < 1.0:
            raise ValueError(f"validation={fraction!r}: a fraction must be in (0, 1)")
        return validation_split(as_dataset(data, trust), fraction, seed=seed, per_user=self._link == "score")

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
                    loss = self._run_epoch_on_device(state, settings)
                    loss = None if loss is None else float(loss)  # None: not released (a private fit)
                except BaseException:  # Ctrl-C, MemoryError...: never keep a half-run epoch
                    self._restore_or_unfit(backup)
                    raise
                seconds = time.perf_counter() - start
                interruptible = seconds > 0.2
                self._invalidate()
                if loss is not None and not math.isfinite(loss):
                    self._restore_or_unfit(backup)
                    raise DivergenceError(epoch, loss, self._divergence_hint())
                record = {"epoch": epoch, "loss": loss, "seconds": seconds}
                if validation is not None:
                    record.update(self._validation_record(validation))
                self.history.append(record)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix({k: f"{v:.4g}" for k, v in record.items()
                                     if k not in ("epoch", "seconds") and v is not None})
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

    def _fit_snapshot(self):
        """The instance's attributes before a fit rebinds them (a shallow copy: fit binds new arrays and never
        writes into the previous fit's)."""
        return dict(self.__dict__)

    def _restore_snapshot(self, snapshot):
        """Back to ``_fit_snapshot``'s state: the previous fit, or no fit (never the half-built one)."""
        self.__dict__.clear()
        self.__dict__.update(snapshot)

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
        return {"val_rmse": metrics.rmse(self, validation), "val_mae": metrics.mae(self, validation)}

    def _deterministic(self):
        return bool(getattr(self, "deterministic", True))

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



def _check_private_fit(model, warm_start, early_stopping, validation, user_features, item_features):
    """What a private fit (``privacy=PrivacyBudget``) refuses: anything that would put data into the released
    parameters, or choose among them, outside the accountant (issue 19's guarantee covers DP-SGD only)."""
    if getattr(model, "privacy", None) is None:
        return
    name = type(model).__name__
    if warm_start:
        raise ValueError(f"{name}(privacy=...): warm_start=True would start from parameters the budget does not "
                         "cover; fit from scratch")
    if early_stopping is not None or is_real(validation):
        raise ValueError(f"{name}(privacy=...): early stopping and validation=<fraction> choose the epoch on "
                         "private ratings outside the accountant; fit a fixed number of epochs (validation= a "
                         "public Dataset only reports)")
    if user_features is not None or item_features is not None:
        raise ValueError(f"{name}(privacy=...): the feature prior is fitted outside the accountant (and its "
                         "cold rows would reveal which items have ratings); fit without features")
