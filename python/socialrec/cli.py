"""The ``socialrec`` command line: demo, fit, evaluate, tune, compare, recommend, info.

Run ``socialrec <command> --help`` for the options of each command.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import warnings

import numpy as np

from ._errors import DivergenceError
from .models import registry

# The model names the commands accept, from the model registry (rating models, then ranking models).
RATING_MODELS = [m.name for m in registry("rating")]
RANKING_MODELS = [m.name for m in registry("ranking")]


def _sr():
    import socialrec

    return socialrec


def _parse_value(text):
    """'10' -> 10, '0.5' -> 0.5, 'true' -> True, 'none' -> None, anything else stays a string."""
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low == "none":
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _params(pairs):
    out = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise SystemExit(f"--param expects NAME=VALUE, got {pair!r}")
        name, value = pair.split("=", 1)
        out[name.strip()] = _parse_value(value.strip())
    return out


def _model_class(name):
    classes = {m.name: m.cls for m in registry()}
    if name not in classes:
        raise SystemExit(f"unknown model {name!r}; available: {', '.join(classes)}")
    return classes[name]


def _model_name(text):
    """argparse ``type`` of ``--model``: a name of the registry, checked while the command line is parsed
    (before any data loads), so that a typo is a usage error (exit status 2) like every other one."""
    names = [m.name for m in registry()]
    if text not in names:
        raise argparse.ArgumentTypeError(f"unknown model {text!r}; available: {', '.join(names)}")
    return text


def _model_names(text):
    """argparse ``type`` of ``--models``: comma-separated registry names (see ``_model_name``)."""
    return ",".join(_model_name(name.strip()) for name in text.split(","))


def _positions(text):
    """argparse ``type`` of ``--columns``: '0,1,4' -> (0, 1, 4) (two positions: implicit data)."""
    try:
        positions = tuple(int(p) for p in text.split(","))
    except ValueError:
        positions = ()
    if len(positions) not in (2, 3) or min(positions) < 0:
        raise argparse.ArgumentTypeError(f"expected 2 or 3 comma-separated 0-based positions such as 0,1,4; "
                                         f"got {text!r}")
    return positions


def _load_data(args):
    sr = _sr()
    kind = args.dataset
    if kind == "synthetic":
        return sr.datasets.synthetic(seed=args.seed)
    if kind in ("filmtrust", "lastfm", "tang"):
        if not args.path:
            raise SystemExit(f"--dataset {kind} needs --path FOLDER")
        return getattr(sr.datasets, f"load_{kind}")(args.path)
    if not args.ratings:
        raise SystemExit("give --ratings FILE (and optionally --trust FILE), or --dataset NAME")
    try:
        return sr.datasets.load_files(args.ratings, trust=args.trust, sep=_separator(args.sep),
                                      columns=args.columns, header=args.header, duplicates=args.duplicates,
                                      trust_columns=args.trust_columns)
    except ValueError as e:  # the loader's advice names its Python arguments; here they are options
        message = str(e)
        for python, option in _OPTION_NAMES:
            message = message.replace(python, option)
        if message == str(e):
            raise
        raise ValueError(message) from None


# the loader's words for its arguments -> the command line's options (in _load_data's error messages)
_OPTION_NAMES = (("pass duplicates='mean' or duplicates='last'", "pass --duplicates mean or --duplicates last"),
                 ("trust_columns=(u, i, r)", "--trust-columns U,V,VALUE"),
                 ("trust_columns=(u, i)", "--trust-columns U,V"),
                 ("columns=(u, i, r)", "--columns U,I,R"), ("columns=(u, i)", "--columns U,I"))


def _separator(text):
    """--sep as typed: 'tab' or '\\t' mean a tab, 'space' or 'whitespace' runs of blanks (None)."""
    if text is None or text.lower() in ("space", "whitespace"):
        return None
    return "\t" if text.lower() in ("tab", "\\t") else text


def _add_data_options(p):
    g = p.add_argument_group("data")
    g.add_argument("--ratings", help="ratings file: user item rating per line (whitespace, CSV or TSV)")
    g.add_argument("--trust", help="trust file: truster trustee [value] per line")
    g.add_argument("--sep", default=None,
                   help="column separator: a character such as ',' or ';', 'tab', or 'space' for runs of blanks "
                        "(default: a comma if the first line has one, else blanks)")
    g.add_argument("--columns", type=_positions, metavar="U,I[,R]",
                   help="0-based positions of the user, item and rating columns of --ratings, e.g. 0,1,4 "
                        "(two positions: implicit data); required for a file of more than three columns")
    g.add_argument("--trust-columns", type=_positions, metavar="U,V[,W]",
                   help="0-based positions of the truster, trustee and weight columns of --trust")
    g.add_argument("--header", action=argparse.BooleanOptionalAction, default=None,
                   help="the first line of the files is (--header) or is not (--no-header) a header "
                        "(default: detect)")
    g.add_argument("--duplicates", choices=["error", "mean", "last"], default="error",
                   help="repeated (user, item) pairs in --ratings: stop with an error (default), average them, "
                        "or keep the later line")
    g.add_argument("--dataset", choices=["filmtrust", "lastfm", "tang", "synthetic"],
                   help="a known data set instead of --ratings (with --path for the real ones)")
    g.add_argument("--path", help="folder of --dataset")
    g.add_argument("--seed", type=int, default=0, help="seed of splits and models (default 0)")


def _table(rows, columns):
    widths = [max(len(str(c)), *(len(_fmt(r.get(c))) for r in rows)) for c in columns]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(columns, widths))]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        lines.append("  ".join(_fmt(r.get(c)).ljust(w) for c, w in zip(columns, widths)))
    return "\n".join(lines)


def _fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4f}"
    return str(v)


# ---------------------------------------------------------------------------------------------------------
def _device_line(info):
    """Where the demo's models train (device="auto"), from ``build_info()``."""
    cpu = f"CPU ({info['simd']} kernels, {info['max_threads']} threads)"
    if not info["cuda_built"]:
        return f"device: {cpu}; this build has no CUDA back-end"
    if info["cuda_devices"] and info["cupy"] and not info.get("cuda_verified"):
        return (f"device: {cpu}; CUDA ({info['cuda_devices'][0]}) is usable with device='cuda', but its kernels "
                "are not yet verified on a GPU, so device='auto' stays on the CPU (docs/CUDA.md)")
    if info["cuda_devices"] and info["cupy"]:
        return f"device: CUDA ({info['cuda_devices'][0]}) for the models with CUDA kernels"
    if info["cuda_devices"]:
        return f"device: {cpu}; a CUDA device is present but CuPy is not installed (pip install cupy-cuda12x)"
    return f"device: {cpu}; the CUDA back-end is built but not usable here: {info['cuda_status']}"


def cmd_demo(args):
    """Synthetic social data -> train every available rating model -> table -> a few recommendations."""
    sr = _sr()
    from tqdm.auto import tqdm

    names = [_model_class(m).__name__ for m in args.models.split(",")] if args.models else RATING_MODELS
    ds = sr.datasets.synthetic(n_users=args.users, n_items=args.items, seed=args.seed)
    train, test = sr.split.train_test_split(ds, test_size=0.2, seed=args.seed)
    cold = sr.split.cold_start_users(train, max_ratings=5)
    print(f"socialrec {sr.__version__} demo — synthetic data with planted communities and social homophily")
    print(f"  {ds.n_users} users, {ds.n_items} items, {ds.nnz} ratings, {ds.trust.nnz} trust links; "
          f"80/20 split, {len(cold)} cold-start users (< 5 training ratings)")
    print(f"  {_device_line(sr.build_info())}\n")
    rows, fitted = [], {}
    for name in tqdm(names, desc="training", unit="model"):
        model = _model_class(name)(seed=args.seed)
        start = time.perf_counter()
        with warnings.catch_warnings():  # the device line above already says why CUDA is not used
            warnings.filterwarnings("ignore", message=".*socialrec runs on the CPU", category=RuntimeWarning)
            model.fit(train)
        seconds = time.perf_counter() - start
        fitted[name] = model
        row = {"model": name, "fit s": seconds}
        if name in RANKING_MODELS:  # scores, not ratings: ranked lists against the held-out ratings
            ranking = sr.metrics.ranking(model, test, train=train, k=10)
            row.update({"ndcg@10": ranking["ndcg"], "recall@10": ranking["recall"]})
        else:
            row.update({"rmse": sr.metrics.rmse(model, test), "mae": sr.metrics.mae(model, test)})
            test_users = np.unique(test.ratings.nonzero()[0])
            if np.isin(cold, test_users).any():
                row["cold rmse"] = sr.metrics.rmse(model, test, users=cold, ids="index")
        rows.append(row)
    columns = ["model", "rmse", "mae", "cold rmse"]
    if any(name in RANKING_MODELS for name in names):
        columns += ["ndcg@10", "recall@10"]
    print(_table(rows, columns + ["fit s"]))
    rated = [r for r in rows if "rmse" in r]
    if rated:
        best = min(rated, key=lambda r: r["rmse"])
    else:
        best = max(rows, key=lambda r: r["ndcg@10"])
    base = next((r for r in rated if r["model"] == "BiasedMF"), None)
    if base is not None and best is not base:
        print(f"\nbest: {best['model']} (RMSE {best['rmse']:.4f} vs BiasedMF {base['rmse']:.4f}, "
              f"{100 * (1 - best['rmse'] / base['rmse']):.1f}% lower)")
    model = fitted[best["model"]]
    users = np.arange(3)
    ids, scores = model.recommend(users, n=5, ids="index")  # indices: printed through ds's id maps
    print(f"\ntop-5 recommendations of {best['model']} (unseen items, "
          f"{'score' if best['model'] in RANKING_MODELS else 'predicted rating'}):")
    for u, row_ids, row_scores in zip(users, ids, scores):
        values = (row_scores if best["model"] in RANKING_MODELS
                  else model.predict(np.full(len(row_ids), u), row_ids, ids="index"))
        items = ", ".join(f"{ds.item_ids[i]} ({p:.2f})" for i, p in zip(row_ids, values) if i >= 0)
        print(f"  user {ds.user_ids[u]}: {items}")
    return 0


def cmd_fit(args):
    data = _load_data(args)
    cls = _model_class(args.model)
    params = {"seed": args.seed, "progress": not args.quiet, **_params(args.param)}
    model = cls(**params)
    start = time.perf_counter()
    model.fit(data)
    if not model.history:
        print("fitted (0 epochs)")
    else:
        loss = model.history[-1]["loss"]  # None after a private fit: the loss is not released
        print(f"fitted {model!r} on {data.nnz} ratings in {time.perf_counter() - start:.2f} s; "
              + ("no loss released (private fit)" if loss is None else f"final loss {loss:.6g}"))
    model.save(args.output)
    print(f"saved to {args.output}")
    return 0


def cmd_evaluate(args):
    sr = _sr()
    data = _load_data(args)
    cls = _model_class(args.model)
    params = _params(args.param)
    ranking = cls.__name__ in RANKING_MODELS
    result = sr.cross_validate(cls, data, folds=args.folds, seed=args.seed, k=args.k, ranking=ranking,
                               progress=not args.quiet, relevant=args.relevant, **params)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        segments = result.pop("segments", {})
        rows = [{"metric": name, "mean": v["mean"], "std": v["std"]} for name, v in result.items()]
        print(f"{cls.__name__}, {args.folds}-fold cross-validation")
        print(_table(rows, ["metric", "mean", "std"]))
        if segments:
            print(_segment_table(segments))
    return 0


def _segment_table(segments):
    """The per-segment means of cross_validate (cold = fewer than 5 training ratings)."""
    names = [m for m in next(iter(segments.values())) if m != "n"]
    shown = [m for m in ("rmse", "mae", "ndcg", "recall", "precision") if m in names] or names
    rows = [{"segment": seg, "n (mean)": f"{d['n']['mean']:.0f}",
             **{m: d[m]["mean"] for m in shown}} for seg, d in segments.items()]
    return "per segment:\n" + _table(rows, ["segment", "n (mean)", *shown])


def _load_split(args):
    """train and test: a --test-size split of the data (per user for 0/1 feedback, else of the ratings)."""
    sr = _sr()
    data = _load_data(args)
    if data.trust is None or data.trust.nnz == 0:
        raise SystemExit("this command needs a trust graph: give --trust")
    ranking = bool(data.nnz) and bool(np.all(data.ratings.data == 1))
    splitter = sr.split.per_user_split if ranking else sr.split.train_test_split
    return splitter(data, test_size=args.test_size, seed=args.seed)


def cmd_tune(args):
    sr = _sr()
    data = _load_data(args)
    cls = _model_class(args.model)
    res = sr.tune(cls, data, n_trials=args.trials, timeout=args.timeout, metric=args.metric,
                  validation=args.validation, seed=args.seed, params=_params(args.param),
                  progress=not args.quiet)
    out = {"model": cls.__name__, "metric": res.metric, "best_value": res.best_value,
           "best_params": res.best_params,
           "trials": {s: sum(t["state"] == s for t in res.trials) for s in ("complete", "pruned", "fail")}}
    if args.output:
        res.best_model.save(args.output)
        out["saved"] = args.output
    print(json.dumps(out, indent=2, default=_plain))
    return 0


def cmd_compare(args):
    sr = _sr()
    train, test = _load_split(args)
    models = args.models.split(",") if args.models else None
    params = _params(args.param)
    res = sr.compare(train, test, models=models, n_trials=args.trials, seed=args.seed, metric=args.metric,
                     params=params, progress=not args.quiet)
    if args.json:
        print(json.dumps({"metric": res.metric, "best_social": res.best_social, "best_plain": res.best_plain,
                          "segments": res.segments(), "rows": res.rows}, indent=2, default=_plain))
    else:
        print(res)
    return 0


def cmd_recommend(args):
    sr = _sr()
    model = sr.load(args.model)
    if model.user_ids_ is None:
        raise SystemExit("this model file has no id maps; it was fitted on index data")
    users = _raw_user_ids(args.users, model.user_ids_)
    ids, scores = model.recommend(users, n=args.n, exclude_seen=not args.include_seen)  # raw ids
    out = {str(u): [{"item": _plain(i), "score": float(s)} for i, s in zip(row_i, row_s) if s != -np.inf]
           for u, row_i, row_s in zip(users, ids, scores)}
    if args.explain:  # the 3 largest parts of each score and up to 3 similar rated items (model.explain)
        for u, recs in zip(users, out.values()):
            for r in recs:
                r["why"] = [{**e, "id": _plain(e["id"])} for e in model.explain(u, r["item"], n=3)]
    if args.json:
        print(json.dumps(out, indent=2, default=_plain))
    else:
        text = sr.models._explain.format_explanation
        for u, recs in out.items():
            if not args.explain:
                print(f"user {u}: " + ", ".join(f"{r['item']} ({r['score']:.3f})" for r in recs))
                continue
            print(f"user {u}:")
            for r in recs:
                print(f"  {r['item']} ({r['score']:.3f}): {text(r['why'])}")
    return 0


def _plain(x):
    return x.item() if hasattr(x, "item") else x


def _raw_user_ids(texts, ids):
    """The model's raw id named by each command-line argument: the id whose text is the argument exactly
    (string ids such as "007" or "1e3"), else the numeric id equal to the argument's number ("17", "17.0").
    An argument that names no user stays as typed, so that ``recommend`` reports it as unknown; a number
    is never rounded or a word cast to another user's id ("2.5" is not user 2, "true" not user 1)."""
    ids = np.asarray(ids).tolist()
    by_text = {}
    for raw in ids:
        by_text.setdefault(str(raw), raw)
    numeric = {raw: raw for raw in ids if isinstance(raw, (int, float)) and not isinstance(raw, bool)}
    out = []
    for text in texts:
        if text in by_text:
            out.append(by_text[text])
            continue
        value = _parse_value(text)
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        out.append(numeric[value] if number and value in numeric else text)
    return out


def cmd_info(args):
    sr = _sr()
    info = sr.build_info()
    info["models"] = RATING_MODELS + RANKING_MODELS
    print(json.dumps(info, indent=2))
    return 0


def build_parser():
    p = argparse.ArgumentParser(prog="socialrec", description="Social recommendation with C++ kernels.")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="train the models on embedded synthetic social data and compare them")
    d.add_argument("--users", type=int, default=2000, help="synthetic users (default 2000)")
    d.add_argument("--items", type=int, default=1000, help="synthetic items (default 1000)")
    d.add_argument("--models", type=_model_names,
                   help="comma-separated model names (default: every rating model); ranking "
                        f"models ({', '.join(RANKING_MODELS)}) are compared on NDCG@10 and recall@10")
    d.add_argument("--seed", type=int, default=0, help="seed of the data, the split and the models (default 0)")
    d.set_defaults(fn=cmd_demo)

    f = sub.add_parser("fit", help="train a model on rating (and trust) files and save it")
    _add_data_options(f)
    f.add_argument("--model", default="BiasedMF", type=_model_name, help="model class (default BiasedMF)")
    f.add_argument("--param", action="append", metavar="NAME=VALUE", help="hyper-parameter (repeatable)")
    f.add_argument("-o", "--output", required=True, help="where to save the model (.npz)")
    f.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    f.set_defaults(fn=cmd_fit)

    e = sub.add_parser("evaluate", help="k-fold cross-validation of a model class on data")
    _add_data_options(e)
    e.add_argument("--model", default="BiasedMF", type=_model_name, help="model class (default BiasedMF)")
    e.add_argument("--param", action="append", metavar="NAME=VALUE", help="hyper-parameter (repeatable)")
    e.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    e.add_argument("-k", type=int, default=10,
                   help="cut-off of the ranking metrics (default 10; reported for the ranking models)")
    e.add_argument("--relevant", type=float, default=None, metavar="VALUE",
                   help="test entries with a value >= VALUE count as relevant in the ranking metrics (default: "
                        "every entry, as for implicit feedback; e.g. 4 for a ranking model on 1-5 stars)")
    e.add_argument("--json", action="store_true", help="print JSON instead of a table")
    e.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    e.set_defaults(fn=cmd_evaluate)

    t = sub.add_parser("tune", help="search a model's hyper-parameters on a validation part of the data "
                                    "(needs socialrec[tune])")
    _add_data_options(t)
    t.add_argument("--model", default="BiasedMF", type=_model_name, help="model class (default BiasedMF)")
    t.add_argument("--param", action="append", metavar="NAME=VALUE", help="fixed hyper-parameter (repeatable)")
    t.add_argument("--trials", type=int, default=50, help="number of trials (default 50)")
    t.add_argument("--timeout", type=float, default=None, help="stop starting trials after this many seconds")
    t.add_argument("--metric", default=None, help="rmse (default for rating models), mae, or e.g. ndcg@10")
    t.add_argument("--validation", type=float, default=0.1,
                   help="fraction of the data held out to choose on (default 0.1)")
    t.add_argument("-o", "--output", help="save the best model, refitted on all the data, here (.npz)")
    t.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    t.set_defaults(fn=cmd_tune)

    c = sub.add_parser("compare", help="does the trust graph help? tuned social vs tuned non-social models, "
                                       "overall and per segment (needs socialrec[tune])")
    _add_data_options(c)
    c.add_argument("--models", type=_model_names,
                   help="comma-separated model names (default: every model of the data's kind)")
    c.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="fixed hyper-parameter for every model that has it, e.g. factors=10 (repeatable)")
    c.add_argument("--trials", type=int, default=20, help="trials per model (default 20)")
    c.add_argument("--metric", default=None, help="rmse (default for ratings), mae, or e.g. ndcg@10")
    c.add_argument("--test-size", type=float, default=0.2, help="held-out test fraction (default 0.2)")
    c.add_argument("--json", action="store_true", help="print JSON instead of a table")
    c.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    c.set_defaults(fn=cmd_compare)

    r = sub.add_parser("recommend", help="top-N items for users (raw ids) from a saved model")
    r.add_argument("model", help="model file saved by `socialrec fit` or model.save()")
    r.add_argument("users", nargs="+", help="raw user ids")
    r.add_argument("-n", type=int, default=10, help="items per user (default 10)")
    r.add_argument("--include-seen", action="store_true", help="also rank items the user already rated")
    r.add_argument("--json", action="store_true", help="print JSON instead of one line per user")
    r.add_argument("--explain", action="store_true",
                   help="say why: each score's largest parts (biases, own taste, trustees, rated items)")
    r.set_defaults(fn=cmd_recommend)

    i = sub.add_parser("info", help="build information: version, compiler, OpenMP, SIMD, CUDA")
    i.set_defaults(fn=cmd_info)
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        status = args.fn(args)
        sys.stdout.flush()  # a pipe closed by the reader fails here, inside the try, not at exit
        return status
    except BrokenPipeError:
        return _broken_pipe()
    except (ValueError, KeyError, OSError, TypeError, IndexError, DivergenceError, ImportError,
            RuntimeError) as e:
        message = e.args[0] if isinstance(e, KeyError) and len(e.args) == 1 else e  # str(KeyError) adds quotes
        print(f"socialrec {args.command}: error: {message}", file=sys.stderr)
        return 2


def _broken_pipe():
    """The reader of our output went away (``socialrec info | head``): stop quietly, as ``cat`` does.

    The rest of the output is dropped: stdout is pointed at /dev/null so that the interpreter's final flush
    does not raise again, and the exit status is 128 + SIGPIPE's number as the shell reports for a program
    killed by the signal (1 where there is no SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real stdout (a test's capture): nothing to flush
        pass
    return 128 + signal.SIGPIPE if hasattr(signal, "SIGPIPE") else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
