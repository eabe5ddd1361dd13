"""Hyper-parameter search (``tune``, on Optuna) and "does my trust graph help?" (``compare``).

Both carve their validation data out of the training data they are given and never look at a test set
while choosing: ``tune`` picks parameters and the number of epochs on an inner validation part, then refits
on all of ``train``; ``compare`` tunes every model with the same budget, picks the best social and the best
non-social model by their validation scores, and only then scores them on ``test``, overall and per segment
(:func:`socialrec.evaluate`).

Optuna is an optional dependency: ``pip install "socialrec[tune]"``.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Sequence, Union

import numpy as np

from . import _frames, metrics, split
from ._align import aligned, model_space
from ._errors import DivergenceError
from ._typing import Data
from .data import Dataset
from .evaluate import SEGMENTS, _predicts_ratings, _ranking_segments, evaluate, segment_users
from .models import registry as _registry

__all__ = ["tune", "compare", "TuneResult", "CompareResult", "resolve_search_space"]

_LOWER_IS_BETTER = ("rmse", "mae")
_RANKING_NAMES = metrics.RANKING_METRICS


def _optuna():
    try:
        import optuna
    except ImportError:  # pragma: no cover - exercised where optuna is absent
        raise ImportError("socialrec.tune needs Optuna, an optional dependency: "
                          'pip install "socialrec[tune]"') from None
    return optuna


# -- search spaces ------------------------------------------------------------------------------------------
def resolve_search_space(model_class, overrides=None):
    """The search space ``tune`` explores for ``model_class``: the class's ``search_space`` (documented on
    each model) updated with ``overrides``.

    A space maps a hyper-parameter name to one of

    - ``("log", low, high)``: a float drawn log-uniformly in [low, high];
    - ``("float", low, high)``: a float drawn uniformly;
    - ``("int", low, high)``: an integer in [low, high];
    - ``("choice", [a, b, ...])``: one of the listed values;
    - ``("log", low, high, {"by": other, value: factor, ...})`` (likewise ``"float"``): a range that moves with
      another hyper-parameter's value, [low, high] times ``factor`` when ``other`` is ``value`` (1 for a value not
      listed; ``other`` searched first, or fixed, or the class default). The models' default spaces widen the
      penalties so with ``regularization_scaling`` (``models.sgd.with_penalty_scaling``): each scaling then gets
      the same number of decades where its optimum lies, instead of one flat range holding both;
    - any other value: fixed (not searched); ``None`` removes a name from the default space.
    """
    space = dict(getattr(model_class, "search_space", {}) or {})
    for name, spec in (overrides or {}).items():
        if name not in model_class._defaults:
            raise ValueError(f"search_space: {model_class.__name__} has no hyper-parameter {name!r}; "
                             f"accepted: {sorted(model_class._defaults)}")
        if spec is None:
            space.pop(name, None)
        else:
            space[name] = spec
    for name, spec in space.items():
        _check_spec(name, spec)
    return space


def _check_spec(name, spec):
    if not (isinstance(spec, tuple) and spec and spec[0] in ("log", "float", "int", "choice")):
        return  # a fixed value
    kind = spec[0]
    if kind == "choice":
        if len(spec) != 2 or not list(spec[1]):
            raise ValueError(f"search_space[{name!r}] = {spec!r}: expected ('choice', [values...])")
        return
    if kind in ("log", "float") and len(spec) == 4:  # a range that moves with another hyper-parameter
        factors = spec[3]
        if not (isinstance(factors, dict) and isinstance(factors.get("by"), str)
                and all(v > 0 for k, v in factors.items() if k != "by")):
            raise ValueError(f"search_space[{name!r}] = {spec!r}: expected ({kind!r}, low, high, "
                             "{'by': name, value: factor > 0, ...})")
        spec = spec[:3]
    if len(spec) != 3 or not spec[1] < spec[2]:
        raise ValueError(f"search_space[{name!r}] = {spec!r}: expected ({kind!r}, low, high) with low < high")
    if kind == "log" and spec[1] <= 0:
        raise ValueError(f"search_space[{name!r}] = {spec!r}: a log range needs low > 0")


def _moves_with(spec):
    """The hyper-parameter a range moves with (``("log", low, high, {"by": name, ...})``), else None."""
    return spec[3]["by"] if isinstance(spec, tuple) and len(spec) == 4 and isinstance(spec[3], dict) else None


def _suggest(trial, space, given=None):
    """One trial's values. ``given``: the values of names not searched (fixed ones, then the class defaults),
    which a moving range reads when its ``by`` is not in ``space``. A moved range is suggested under its own
    name (``"regularization|regularization_scaling=sqrt_count"``), so that the sampler models each range apart."""
    params = {}
    for name in sorted(space, key=lambda n: _moves_with(space[n]) is not None):  # the ranges' `by` first
        spec = space[name]
        kind = spec[0] if isinstance(spec, tuple) and spec else None
        label, low, high = name, None, None
        if kind in ("log", "float"):
            low, high = spec[1], spec[2]
            by = _moves_with(spec)
            if by is not None:
                value = params[by] if by in params else (given or {}).get(by)
                factor = spec[3].get(value, 1.0)
                if factor != 1.0:
                    label, low, high = f"{name}|{by}={value}", low * factor, high * factor
        if kind == "log":
            params[name] = trial.suggest_float(label, low, high, log=True)
        elif kind == "float":
            params[name] = trial.suggest_float(label, low, high)
        elif kind == "int":
            params[name] = trial.suggest_int(name, spec[1], spec[2])
        elif kind == "choice":
            params[name] = trial.suggest_categorical(name, list(spec[1]))
        else:
            params[name] = spec
    return params


# -- metrics ------------------------------------------------------------------------------------------------
def _parse_metric(metric, model_class):
    """``(name, k)``: ``"rmse"``, ``"mae"`` (k None) or a ranking metric ``"ndcg@10"`` (k 10)."""
    rating_model = _predicts_ratings(model_class)
    if metric is None:
        metric = "rmse" if rating_model else "ndcg@10"
    if not isinstance(metric, str):
        raise TypeError(f"metric must be a string such as 'rmse' or 'ndcg@10', got {type(metric).__name__}")
    name, _, k = metric.partition("@")
    if name in _LOWER_IS_BETTER and not k:
        if not rating_model:
            raise ValueError(f"metric={metric!r}: {model_class.__name__} ranks items, it does not predict "
                             f"ratings; use a ranking metric such as 'ndcg@10'")
        return name, None
    if name in _RANKING_NAMES:
        try:
            k = int(k) if k else 10
        except ValueError:
            raise ValueError(f"metric={metric!r}: the cut-off after '@' must be an integer") from None
        if k < 1:
            raise ValueError(f"metric={metric!r}: the cut-off must be >= 1")
        return name, k
    raise ValueError(f"metric={metric!r} is not one of rmse, mae or <{'|'.join(_RANKING_NAMES)}>@k")


def _score(model, validation, name, k):
    if k is None:
        return metrics.rmse(model, validation) if name == "rmse" else metrics.mae(model, validation)
    return metrics.ranking(model, validation, k=k)[name]


def _split_validation(model_class, train, validation, seed):
    """(inner_train, validation) carved from ``train`` (rating models: a random split of the ratings;
    ranking models: a per-user split, the LastFM protocol), or ``train`` and a given validation Dataset."""
    if isinstance(validation, (int, float)) and not isinstance(validation, bool):
        if not 0.0 < validation < 1.0:
            raise ValueError(f"validation={validation!r}: a fraction must be in (0, 1)")
        return split.validation_split(train, validation, seed=seed, per_user=not _predicts_ratings(model_class))
    if not (isinstance(validation, Dataset) or _frames.is_frame(validation)):
        raise TypeError("validation must be a fraction of train in (0, 1), a Dataset or a DataFrame of raw ids, "
                        f"got {type(validation).__name__}")
    # in train's id space: a Dataset with other ids raises, a DataFrame is mapped through train's ids
    return train, aligned(validation, train.user_ids, train.item_ids, train.ratings.shape, "validation",
                          ("train", "train"))


def _class_and_params(model, params):
    """``(class, fixed parameters)`` of ``tune``'s model: a class and ``params``; or an instance's class and
    the hyper-parameters it sets away from the class defaults (``get_params``), updated with ``params``.
    Parameters left at their defaults stay searched: fixing every one would leave nothing to tune."""
    params = dict(params or {})
    if isinstance(model, type):
        return model, params
    cls = type(model)
    if not (callable(getattr(model, "get_params", None)) and isinstance(getattr(cls, "_defaults", None), dict)):
        raise TypeError(f"expected a socialrec model class (sr.TrustSVD) or instance (sr.TrustSVD(factors=5)), "
                        f"got {cls.__name__}")
    defaults = cls._defaults
    own = {name: v for name, v in model.get_params().items() if name not in defaults or
           not _same_value(v, defaults[name])}
    return cls, {**own, **params}


def _same_value(a, b):
    """Whether a hyper-parameter value equals its default, as the model's ``repr`` tells them apart (a value
    that cannot be compared to it is taken as set)."""
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


# -- tune ---------------------------------------------------------------------------------------------------
@dataclass
class TuneResult:
    """What :func:`tune` found.

    Attributes
    ----------
    best_params : dict
        The chosen hyper-parameters, ``epochs`` included (the best validation epoch of the best trial).
    best_value : float
        The best trial's validation score.
    best_model : Model or None
        ``model_class(**best_params)`` fitted on all of ``train`` (None when ``refit=False``).
    trials : list of dict
        One row per trial: ``number``, ``state`` ("complete", "pruned", "fail"), ``value``, ``epochs``
        (its best epoch count), ``seconds`` and ``params``.
    metric : str
        The metric chosen on, e.g. ``"rmse"`` or ``"ndcg@10"``.
    study : optuna.Study
        The Optuna study, for its plots and analyses.
    """

    best_params: dict
    best_value: float
    best_model: object
    trials: list = field(default_factory=list)
    metric: str = "rmse"
    study: object = None

    def __repr__(self):
        states = [t["state"] for t in self.trials]
        return (f"TuneResult(metric={self.metric!r}, best_value={self.best_value:.6g}, "
                f"best_params={self.best_params!r}, trials: {states.count('complete')} complete, "
                f"{states.count('pruned')} pruned, {states.count('fail')} failed)")


def tune(model_class: Any, train: Data, n_trials: int = 50, timeout: Optional[float] = None,
         metric: Optional[str] = None, validation: Union[float, Data] = 0.1, seed: Optional[int] = 0,
         search_space: Optional[Dict[str, Any]] = None, params: Optional[Dict[str, Any]] = None, patience: int = 5,
         refit: bool = True, progress: bool = False) -> "TuneResult":
    """Search ``model_class``'s hyper-parameters on a validation part carved from ``train``.

    Each trial draws hyper-parameters from the search space (Optuna's TPE sampler, seeded), trains on the
    rest of ``train`` for up to ``epochs`` epochs while scoring the validation part after every epoch, and
    stops early when the score has not improved for ``patience`` epochs or when Optuna's median pruner
    finds the trial hopeless. A trial's value is its best epoch's score, and that epoch count becomes its
    ``epochs``. The best trial's parameters are then refitted on all of ``train``.

    Parameters
    ----------
    model_class : type or model instance
        A socialrec model class, e.g. ``sr.TrustSVD``, or an instance (``sr.TrustSVD(factors=5)``): its class,
        with the hyper-parameters it sets to other values than the class defaults fixed (as ``params``, which
        override them); the instance itself is not fitted.
    train : Dataset
        Training data; nothing outside it is used.
    n_trials : int or None
        Number of trials (``None``: until ``timeout``).
    timeout : float, optional
        Stop starting new trials after this many seconds.
    metric : str, optional
        ``"rmse"`` (default for rating models), ``"mae"``, or a ranking metric at a cut-off such as
        ``"ndcg@10"`` (default for ranking models), ``"recall@20"``.
    validation : float or Dataset
        The fraction of ``train`` held out for validation (rating models: random ratings; ranking models:
        ``split.per_user_split``), or a validation Dataset in ``train``'s id space (one with other ids raises
        ``ValueError``), or a DataFrame of raw ids, mapped through ``train``'s ids.
    seed : int
        Seeds the validation split, the sampler and every model.
    search_space : dict, optional
        Changes to the class's default space (see :func:`resolve_search_space`): new ranges, fixed values, or
        ``None`` to stop searching a name.
    params : dict, optional
        Fixed hyper-parameters for every trial (e.g. ``{"factors": 10, "epochs": 200}``); ``epochs`` is the
        most any trial trains.
    patience : int
        Epochs without improvement before a trial stops.
    refit : bool
        Refit the best parameters on all of ``train`` (``best_model``).
    progress : bool
        Show a progress bar over the trials.

    Returns
    -------
    TuneResult
    """
    optuna = _optuna()

    model_class, params = _class_and_params(model_class, params)
    if not isinstance(train, Dataset):
        raise TypeError(f"train must be a socialrec.Dataset, got {type(train).__name__}")
    if n_trials is None and timeout is None:
        raise ValueError("give n_trials or timeout (or both), or the search never ends")
    if n_trials is not None and (isinstance(n_trials, bool) or not isinstance(n_trials, (int, np.integer))
                                 or n_trials < 1):
        raise ValueError(f"n_trials={n_trials!r} must be a positive integer or None")
    if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) or patience < 1:
        raise ValueError(f"patience={patience!r} must be a positive integer")
    name, k = _parse_metric(metric, model_class)
    metric_label = name if k is None else f"{name}@{k}"
    lower_is_better = k is None
    fixed = dict(params or {})
    model_class(**{"seed": seed, **fixed})  # unknown or bad fixed parameters fail here, before any trial
    space = resolve_search_space(model_class, search_space)
    for clash in sorted(set(space) & set(fixed)):
        space.pop(clash)  # a fixed parameter is not searched
    inner, held_out = _split_validation(model_class, train, validation, seed)

    rows = []

    def objective(trial):
        trial_params = {"seed": seed, **_suggest(trial, space, {**model_class._defaults, **fixed}), **fixed}
        model = model_class(**trial_params)
        best = {"value": math.inf, "epoch": -1}
        state = {"since": 0, "pruned": False}

        def after_epoch(m, record):
            value = _score(m, held_out, name, k)
            record[f"val_{metric_label}"] = value
            signed = value if lower_is_better else -value
            if not math.isfinite(signed):
                signed = math.inf
            if signed < best["value"]:
                best["value"], best["epoch"], state["since"] = signed, record["epoch"], 0
            else:
                state["since"] += 1
            if math.isfinite(value):
                trial.report(value, record["epoch"])
            if trial.should_prune():
                state["pruned"] = True
                return True
            return state["since"] >= patience

        start = time.perf_counter()
        row = {"number": trial.number, "state": "fail", "value": math.nan, "epochs": 0, "seconds": 0.0,
               "params": {k2: v for k2, v in trial_params.items() if k2 in space}}
        rows.append(row)
        try:
            model.fit(inner, callback=after_epoch)
        except DivergenceError:
            row["seconds"] = time.perf_counter() - start
            raise
        row["seconds"] = time.perf_counter() - start
        row["epochs"] = best["epoch"] + 1
        row["value"] = best["value"] if lower_is_better else -best["value"]
        trial.set_user_attr("epochs", best["epoch"] + 1)
        if state["pruned"]:
            row["state"] = "pruned"
            raise optuna.TrialPruned()
        if not math.isfinite(best["value"]):
            raise DivergenceError(best["epoch"], math.nan, "no finite validation score")
        row["state"] = "complete"
        return row["value"]

    verbosity = optuna.logging.get_verbosity()  # Optuna's level is global: restored below
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize" if lower_is_better else "maximize",
                                sampler=optuna.samplers.TPESampler(seed=seed),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=2))
    bar = None
    callbacks = []
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_trials, desc=f"tune {model_class.__name__}", unit="trial")

        def update(study_, frozen):
            bar.update(1)
            try:
                bar.set_postfix({f"best {metric_label}": f"{study_.best_value:.5g}"})
            except ValueError:  # no complete trial yet
                pass

        callbacks.append(update)
    try:
        study.optimize(objective, n_trials=n_trials, timeout=timeout, catch=(DivergenceError,),
                       callbacks=callbacks)
    finally:
        optuna.logging.set_verbosity(verbosity)
        if bar is not None:
            bar.close()
    complete = [r for r in rows if r["state"] == "complete"]
    if not complete:
        raise RuntimeError(f"tune({model_class.__name__}): no trial completed ({len(rows)} tried: every one "
                           "diverged or was pruned); narrow the search space, e.g. smaller learning_rate")
    best_trial = study.best_trial
    best_row = next(r for r in rows if r["number"] == best_trial.number)
    best_params = {**best_row["params"], **fixed, "epochs": max(1, best_row["epochs"])}
    best_model = model_class(**{"seed": seed, **best_params}).fit(train) if refit else None
    return TuneResult(best_params=best_params, best_value=float(best_row["value"]), best_model=best_model,
                      trials=rows, metric=metric_label, study=study)


# -- compare ------------------------------------------------------------------------------------------------
@dataclass
class CompareResult:
    """What :func:`compare` found.

    Attributes
    ----------
    rows : list of dict
        One per model: ``model``, ``social`` (uses the trust graph), ``validation`` (its tuned validation
        score), ``params``, and ``test``: :func:`socialrec.evaluate`'s segments on the test set.
    best_social, best_plain : str
        The social and the non-social model with the best validation score.
    metric : str
    """

    rows: list
    best_social: str
    best_plain: str
    metric: str

    def row(self, model):
        return next(r for r in self.rows if r["model"] == model)

    def segments(self):
        """``{segment: {"social", "plain", "difference", "n"}}``: the test metric of the best social and the
        best non-social model per segment; ``difference`` is social minus plain (negative is better for
        rmse/mae, positive for ranking metrics)."""
        name = self.metric.partition("@")[0]
        social, plain = self.row(self.best_social)["test"], self.row(self.best_plain)["test"]
        out = {}
        for seg in SEGMENTS:
            s, p = social[seg].get(name, math.nan), plain[seg].get(name, math.nan)
            out[seg] = {"social": s, "plain": p, "difference": s - p, "n": social[seg]["n"]}
        return out

    def to_frame(self):
        """The per-model table as a pandas DataFrame (needs pandas)."""
        import pandas as pd

        name = self.metric.partition("@")[0]
        return pd.DataFrame([{"model": r["model"], "social": r["social"], f"val_{self.metric}": r["validation"],
                              **{f"{seg}_{name}": r["test"][seg].get(name, math.nan) for seg in SEGMENTS}}
                             for r in self.rows])

    def __str__(self):
        name = self.metric.partition("@")[0]
        head = f"{'model':<10} {'social':>6} {'val ' + self.metric:>12}" + "".join(f" {s:>18}" for s in SEGMENTS)
        lines = [head, "-" * len(head)]
        for r in self.rows:
            cells = "".join(f" {r['test'][s].get(name, math.nan):>18.4f}" for s in SEGMENTS)
            lines.append(f"{r['model']:<10} {'yes' if r['social'] else 'no':>6} {r['validation']:>12.4f}{cells}")
        lines.append("-" * len(head))
        segs = self.segments()
        lines.append(f"best social {self.best_social} vs best non-social {self.best_plain} (chosen on validation), "
                     f"test {self.metric}:")
        for s in SEGMENTS:
            d = segs[s]
            lines.append(f"  {s:<20} n={d['n']:<8} social {d['social']:.4f}  plain {d['plain']:.4f}  "
                         f"difference {d['difference']:+.4f}")
        return "\n".join(lines)


def _uses_trust(model_class):
    return bool(model_class.uses_trust)


def compare(train: Data, test: Data, models: Optional[Sequence[Any]] = None, n_trials: int = 20,
            seed: Optional[int] = 0, metric: Optional[str] = None, k: Optional[int] = None,
            params: Optional[Dict[str, Any]] = None, progress: bool = False, **tune_options: Any) -> "CompareResult":
    """Does the trust graph help on this data? Tuned social models against tuned non-social ones.

    Every model gets the same tuning budget (:func:`tune` with ``n_trials``, on a validation part of
    ``train``). The best social and the best non-social model are chosen by their validation scores; then
    both (and every other model) are scored on ``test``, overall and per segment (cold-start users, users
    with trustees, cold-start users with trustees; :func:`socialrec.evaluate`).

    Parameters
    ----------
    train, test : Dataset
        ``train`` must carry the trust graph.
    models : list of model classes, instances or names, optional
        Default: every registered rating model when ``train`` holds ratings, every ranking model when it
        is binary (0/1) feedback. An instance is tuned as :func:`tune` tunes one: the hyper-parameters it sets
        are fixed (over ``params``).
    n_trials : int
        Trials per model.
    seed : int
    metric : str, optional
        As in :func:`tune` (default ``"rmse"`` or ``"ndcg@10"``). Models are tuned and tested on it: a ranking
        metric (``"ndcg@10"``) on rating models tests their rankings (relevant test ratings as
        ``metrics.ranking`` defines them) at its cut-off.
    k : int, optional
        Cut-off of a ranking metric given without one (``metric="ndcg"``, or the default for ranking data);
        default 10. A ``k`` that differs from the metric's own cut-off (``"ndcg@10"``) is refused.
    params : dict, optional
        Fixed hyper-parameters given to every model that accepts them (e.g. ``{"factors": 10}``); a name that
        no compared model accepts raises ``ValueError``.
    progress : bool
    **tune_options
        Passed to :func:`tune` (``validation``, ``timeout``, ``patience``).

    Returns
    -------
    CompareResult
        ``print(result)`` shows the table.
    """
    for name, ds in (("train", train), ("test", test)):
        if not isinstance(ds, Dataset):
            raise TypeError(f"{name} must be a socialrec.Dataset, got {type(ds).__name__}")
    if train.trust is None or train.trust.nnz == 0:
        raise ValueError("compare needs a trust graph in train (its trust matrix is empty)")
    # test in train's id space, checked before any tuning: a Dataset with other ids raises
    aligned(test, train.user_ids, train.item_ids, train.ratings.shape, "test", ("train", "train"))
    k = _metric_cutoff(metric, k)
    if isinstance(metric, str) and "@" not in metric and metric.strip() in _RANKING_NAMES:
        metric = f"{metric.strip()}@{k}"
    chosen = _model_classes(models, train)  # (class, fixed parameters of an instance)
    classes = [cls for cls, _ in chosen]
    _check_shared_params(params, classes)
    if metric is None and classes and not _predicts_ratings(classes[0]):
        metric = f"ndcg@{k}"  # tune's default for ranking models, at compare's cut-off
    social = [c for c in classes if _uses_trust(c)]
    plain = [c for c in classes if not _uses_trust(c)]
    if not social or not plain:
        raise ValueError("compare needs at least one social and one non-social model; got "
                         f"{[c.__name__ for c in classes]}")
    kinds = {_predicts_ratings(c) for c in classes}
    if len(kinds) > 1:
        raise ValueError("compare: mix of rating and ranking models; compare models of one kind")
    rows = []
    iterator = chosen
    bar = None
    if progress:
        from tqdm.auto import tqdm

        iterator = bar = tqdm(chosen, desc="compare", unit="model")
    try:
        for cls, own in iterator:
            fixed = {**{key: v for key, v in (params or {}).items() if key in cls._defaults}, **own}
            res = tune(cls, train, n_trials=n_trials, metric=metric, seed=seed, params=fixed, **tune_options)
            rows.append({"model": cls.__name__, "social": _uses_trust(cls), "validation": res.best_value,
                         "params": res.best_params, "test": _test_segments(res.best_model, test, train, res.metric,
                                                                           k)})
            metric_label = res.metric
    finally:
        if bar is not None:
            bar.close()
    lower = metric_label.partition("@")[0] in _LOWER_IS_BETTER

    def best_of(group):
        names = {c.__name__ for c in group}
        candidates = [r for r in rows if r["model"] in names]
        return (min if lower else max)(candidates, key=lambda r: r["validation"])["model"]

    return CompareResult(rows=rows, best_social=best_of(social), best_plain=best_of(plain), metric=metric_label)


def _metric_cutoff(metric, k):
    """The ranking cut-off of ``compare``: the metric's own (``"ndcg@10"``: 10), else ``k`` (default 10). A
    ``k`` that clashes with the metric's cut-off is refused rather than one of them silently ignored."""
    if isinstance(metric, str) and "@" in metric:
        _, _, at = metric.partition("@")
        if at.strip().lstrip("-").isdigit():  # a malformed cut-off is left to tune's message
            if k is not None and int(at) != k:
                raise ValueError(f"compare(metric={metric!r}, k={k!r}): the metric sets the cut-off to {int(at)}; "
                                 "give one cut-off (leave k out, or make it match)")
            return int(at)
    return 10 if k is None else k


def _test_segments(model, test, train, metric_label, k):
    """``evaluate``'s segments of a tuned ``model`` on ``test``, holding the metric it was tuned on: with a
    ranking metric (``"ndcg@10"``) the ranking segments at the metric's cut-off, a rating model's included
    (their ``n`` counts evaluated users). A NaN in a segment that has test data is an error, never a row of
    the table: it would read as a result."""
    name, _, at = metric_label.partition("@")
    if name in _RANKING_NAMES:
        k = int(at)
        train = model_space(model, train, "train")
        segments = _ranking_segments(model, model_space(model, test, "test"), train, k, segment_users(train))
    else:
        segments = evaluate(model, test, train=train, k=k, ranking=False)["segments"]
    bad = [seg for seg, d in segments.items() if d["n"] > 0 and not math.isfinite(d[name])]
    if bad:
        raise RuntimeError(f"compare: {type(model).__name__}'s test {metric_label} is NaN on the segments {bad}, "
                           "which have test data")
    return segments


def _check_shared_params(params, classes):
    """``compare(params=...)``: every key must be a hyper-parameter of at least one chosen model (a misspelt or
    foreign name would otherwise be dropped for every model, silently)."""
    unused = sorted(key for key in (params or {}) if not any(key in cls._defaults for cls in classes))
    if unused:
        raise ValueError(f"params {unused} are hyper-parameters of none of the compared models "
                         f"({', '.join(c.__name__ for c in classes)}); accepted: "
                         f"{sorted(set().union(*(c._defaults for c in classes)))}")


def _model_classes(models, train):
    """``[(class, fixed parameters), ...]`` of compare's ``models``: names, classes (no fixed parameters) or
    instances (their class and the hyper-parameters they set, as ``tune`` takes an instance)."""
    registry = {m.name: m.cls for m in _registry()}
    if models is None:
        binary = train.ratings.nnz > 0 and np.all(train.ratings.data == 1)
        return [(m.cls, {}) for m in _registry("ranking" if binary else "rating")]
    out = []
    for m in models:
        if isinstance(m, str):
            if m not in registry:
                raise ValueError(f"unknown model {m!r}; known: {sorted(registry)}")
            m = registry[m]
        cls = m if isinstance(m, type) else type(m)
        if cls.__name__ not in registry or registry[cls.__name__] is not cls:
            raise TypeError(f"models must hold socialrec model classes, instances or names, got {m!r}")
        out.append(_class_and_params(m, None))
    return out
