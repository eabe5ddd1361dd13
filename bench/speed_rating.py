"""Rating models against their peers, same data, same k, same epochs, test RMSE next to every timing:

- PMF (`BiasedMF(biased=False)`) vs LIBMF built with its release flags, k=32, 1 and 2 threads (target >= 2x),
  with LIBMF's schedule (`learning_rate_schedule="adaptive"`, RPCS) and its eta, L2 and epochs; the constant
  step (lr .05) and BiasedMF with RPCS are extra rows;
- BiasedMF vs Surprise SVD and vs Cornac MF (k=10, 1 thread; targets >= 20x and >= 1.5x);
- SVD++ vs Surprise SVDpp (k=10, 1 thread; >= 20x);
- PMF vs Cornac PMF (k=10, 1 thread; no target in DESIGN, reported);
- SoRec vs Cornac SoRec (k=10, 1 thread, FilmTrust and synthetic; >= 20x).

    python bench/speed_rating.py [--quick] [--repeat 3]

Times are whole fits (data packing, initialisation and epochs, for every library) divided by the epochs;
the median of --repeat interleaved runs. Ratio = peer epoch / socialrec epoch (> 1: socialrec faster).
Synthetic data from ``sr.datasets.synthetic`` with a 10% test split (seed 0). BLAS pinned to one thread for
everyone (threadpoolctl). A peer that does not import is reported as "not installed".
"""
from __future__ import annotations

import numpy as np

import _common
import _peers


def rmse(pred, values):
    return float(np.sqrt(np.mean((np.asarray(values, np.float64) - pred) ** 2)))


def synthetic_split(sr, n_users, n_items, n_ratings, seed=0, trust_per_user=1):
    ds = sr.datasets.synthetic(n_users=n_users, n_items=n_items, density=n_ratings / (n_users * n_items),
                               trust_per_user=trust_per_user, seed=seed)
    return sr.split.train_test_split(ds, test_size=0.1, seed=0)


def interleaved(fns, repeat):
    """{name: (median seconds, last result)} of the callables, run round-robin ``repeat`` times."""
    times, out = {n: [] for n in fns}, {}
    for _ in range(repeat):
        for name, fn in fns.items():
            seconds, out[name] = _common.timed(fn)
            times[name].append(seconds)
    return {n: (_common.median(times[n]), out[n]) for n in fns}


class Section:
    """Rows and targets of one comparison: socialrec and peers on the same data."""

    def __init__(self, rows, targets):
        self.rows, self.targets = rows, targets

    def add(self, case, library, threads, k, epochs, ratings, epoch_s, test_rmse, ratio=None, model=None, **extra):
        if model is not None:  # the kernel alone: history[e]["seconds"] (no packing, no initialisation)
            extra["kernel_M_updates_s"] = ratings / _common.median([h["seconds"] for h in model.history]) / 1e6
        self.rows.append({"case": case, "library": library, "threads": threads, "k": k, "epochs": epochs,
                          "ratings": ratings, "epoch_s": epoch_s,
                          "M_updates_s": None if epoch_s is None else ratings / epoch_s / 1e6,
                          "rmse": test_rmse, "ratio": ratio, **extra})

    def missing(self, case, library, error):
        self.rows.append({"case": case, "library": library, "note": error})


def pmf_vs_libmf(sr, s, args):
    """socialrec PMF against LIBMF (eta .1, L2 .05, the same epochs). The target row is PMF with a constant
    step of .1 decaying ×.9 per epoch from a positive start U[0, .01) (chosen on a validation split carved from
    the training ratings: bench/README.md); PMF and BiasedMF with LIBMF's own schedule (RPCS at eta .1, bias
    L2 .05) are extra rows, timed in the same interleaved rounds."""
    n_users, n_items, n = (10_000, 5_000, 300_000) if args.quick else (50_000, 20_000, 1_800_000)
    train, test = synthetic_split(sr, n_users, n_items, n)
    k, epochs, reg, eta, decay, init_scale = 32, (10 if args.quick else 20), 0.05, 0.1, 0.9, 0.01
    u, i, v = train.user_item_arrays()
    triples = np.column_stack([u, i, v]).astype(np.float32)
    tu, ti, tv = test.user_item_arrays()
    case = f"PMF vs LIBMF (k={k}, {train.nnz:,} ratings)"
    try:
        mf = _peers.load_libmf()
    except Exception as e:  # noqa: BLE001
        mf, error = None, "not installed" if isinstance(e, ImportError) else _common.error_text(e)
    for threads in (1, 2):
        def pmf(schedule, biased=False, **kw):
            kw = {"init_std": 0.1, **kw}
            return lambda: sr.BiasedMF(biased=biased, factors=k, epochs=epochs, learning_rate=eta,
                                       learning_rate_schedule=schedule, regularization=reg,
                                       bias_regularization=reg, num_threads=threads, seed=0, **kw).fit(train)

        fns = {"decay": pmf("constant", learning_rate_decay=decay, init="uniform", init_std=init_scale),
               "adaptive": pmf("adaptive"), "biased": pmf("adaptive", biased=True)}
        if mf is not None:
            fns["libmf"] = lambda: _peers.libmf_pmf(mf, triples, k, epochs, reg, eta, threads)
        res = interleaved(fns, args.repeat)
        rows = {}
        for name, label in (("decay", f"socialrec PMF constant (lr {eta} x{decay}/epoch, uniform init)"),
                            ("adaptive", f"socialrec PMF adaptive (lr {eta})"),
                            ("biased", f"socialrec BiasedMF adaptive (lr {eta})")):
            seconds, model = res[name]
            rows[name] = (label, seconds, model, sr.metrics.rmse(model, test))
        if mf is None:
            for label, seconds, model, test_rmse in rows.values():
                s.add(case, label, threads, k, epochs, train.nnz, seconds / epochs, test_rmse, model=model)
            s.missing(case, "LIBMF", error)
            continue
        peer_s, peer = res["libmf"]
        pred = np.clip(_peers.libmf_predict(peer, tu.astype(int), ti.astype(int), float(v.mean())), 1, 5)
        peer_rmse = rmse(pred, tv)
        for label, seconds, model, test_rmse in rows.values():
            s.add(case, label, threads, k, epochs, train.nnz, seconds / epochs, test_rmse, peer_s / seconds,
                  model=model)
        s.add(case, "LIBMF (release flags)", threads, k, epochs, train.nnz, peer_s / epochs, peer_rmse)
        # the target: the same lr, L2 and epochs as LIBMF's (our schedule and start; the RPCS rows above)
        _, ours_s, _, ours_rmse = rows["decay"]
        s.targets.append(_common.target(f"PMF SGD, k={k}, {threads} thread(s)", "LIBMF (release flags)",
                                        peer_s / ours_s, 2.0, quality=f"RMSE {ours_rmse:.4f} vs {peer_rmse:.4f} "
                                        f"({100 * (ours_rmse / peer_rmse - 1):+.1f}%)"))


def vs_surprise_and_cornac_mf(sr, s, args):
    n = 100_000 if args.quick else 300_000
    train, test = synthetic_split(sr, 12_500, 5_000, n, seed=1)
    k, epochs = 10, 20
    surprise = _common.peer("surprise")
    cornac = _common.peer("cornac")
    trainset = _peers.surprise_trainset(train) if surprise else None
    cdata = _peers.cornac_dataset(train) if cornac else None
    tu, ti, tv = test.user_item_arrays()
    mean = float(train.ratings.data.mean())

    # BiasedMF vs Surprise SVD: Surprise's defaults (lr .005, reg .02, init N(0, .1)), ours set alike
    case = f"BiasedMF vs Surprise SVD (k={k}, {train.nnz:,} ratings)"
    fns = {"socialrec": lambda: sr.BiasedMF(factors=k, epochs=epochs, learning_rate=0.005, regularization=0.02,
                                            bias_regularization=0.02, init_std=0.1, num_threads=1,
                                            seed=0).fit(train)}
    if surprise:
        fns["surprise"] = lambda: _fit(surprise.SVD(n_factors=k, n_epochs=epochs, lr_all=0.005, reg_all=0.02,
                                                    random_state=0), trainset)
    res = interleaved(fns, args.repeat)
    ours_s, model = res["socialrec"]
    ours_rmse = sr.metrics.rmse(model, test)
    if surprise:
        peer_s, algo = res["surprise"]
        peer_rmse = rmse(_peers.surprise_predict(algo, test), tv)
        s.add(case, "socialrec BiasedMF", 1, k, epochs, train.nnz, ours_s / epochs, ours_rmse, peer_s / ours_s, model=model)
        s.add(case, f"Surprise SVD {_common.version('scikit-surprise')}", 1, k, epochs, train.nnz,
              peer_s / epochs, peer_rmse)
        s.targets.append(_common.target(f"BiasedMF epoch, k={k}, 1 thread", "Surprise SVD", peer_s / ours_s, 20.0,
                                        quality=f"RMSE {ours_rmse:.4f} vs {peer_rmse:.4f}"))
    else:
        s.add(case, "socialrec BiasedMF", 1, k, epochs, train.nnz, ours_s / epochs, ours_rmse, model=model)
        s.missing(case, "Surprise SVD", "not installed")

    def against_cornac(case, ours, peer, label, target_name, target, fit_ours, fit_peer, **note):
        """Time ``fit_ours`` and ``fit_peer`` interleaved; one row each, and the peer/ours target."""
        fns = {"socialrec": fit_ours}
        if cornac:
            fns["cornac"] = fit_peer
        res = interleaved(fns, args.repeat)
        ours_s, model = res["socialrec"]
        ours_rmse = sr.metrics.rmse(model, test)
        if not cornac:
            s.missing(case, label, "not installed")
            return
        peer_s, cm = res["cornac"]
        peer_rmse = rmse(np.clip(_peers.cornac_predict(cm, cdata, test, mean), 1, 5), tv)
        s.add(case, ours, 1, k, epochs, train.nnz, ours_s / epochs, ours_rmse, peer_s / ours_s, model=model)
        s.add(case, peer, 1, k, epochs, train.nnz, peer_s / epochs, peer_rmse)
        s.targets.append(_common.target(target_name, label, peer_s / ours_s, target,
                                        quality=f"RMSE {ours_rmse:.4f} vs {peer_rmse:.4f}", **note))

    # BiasedMF vs Cornac MF (Cython SGD; seeded -> one thread): Cornac's defaults lr .01, lambda .02
    against_cornac(
        f"BiasedMF vs Cornac MF (k={k}, {train.nnz:,} ratings)", "socialrec BiasedMF", "Cornac MF", "Cornac MF",
        f"BiasedMF epoch, k={k}, 1 thread", 1.5,
        lambda: sr.BiasedMF(factors=k, epochs=epochs, learning_rate=0.01, regularization=0.02,
                            bias_regularization=0.02, num_threads=1, seed=0).fit(train),
        lambda: cornac.models.MF(k=k, max_iter=epochs, learning_rate=0.01, lambda_reg=0.02, use_bias=True,
                                 seed=0).fit(cdata))
    # PMF vs Cornac PMF (linear variant: the same objective; full-batch gradient steps with momentum)
    against_cornac(
        f"PMF vs Cornac PMF (k={k}, {train.nnz:,} ratings)", "socialrec PMF", "Cornac PMF (linear)", "Cornac PMF",
        f"PMF epoch, k={k}, 1 thread", None,
        lambda: sr.BiasedMF(biased=False, factors=k, epochs=epochs, learning_rate=0.01, regularization=0.05,
                            init_std=0.1, num_threads=1, seed=0).fit(train),
        lambda: cornac.models.PMF(k=k, max_iter=epochs, variant="linear", seed=0).fit(cdata),
        note="no DESIGN target; Cornac PMF is full-batch gradient descent")


def svdpp_vs_surprise(sr, s, args):
    n, epochs = (20_000, 5) if args.quick else (60_000, 10)
    train, test = synthetic_split(sr, 3_000, 2_000, n, seed=2)
    k = 10
    surprise = _common.peer("surprise")
    case = f"SVD++ vs Surprise SVDpp (k={k}, {train.nnz:,} ratings)"
    fns = {"socialrec": lambda: sr.SVDpp(factors=k, epochs=epochs, learning_rate=0.007, regularization=0.02,
                                         bias_regularization=0.005, num_threads=1, seed=0).fit(train)}
    if surprise:
        trainset = _peers.surprise_trainset(train)
        fns["surprise"] = lambda: _fit(surprise.SVDpp(n_factors=k, n_epochs=epochs, lr_all=0.007, reg_all=0.02,
                                                      random_state=0), trainset)
    res = interleaved(fns, max(1, args.repeat // 2))
    ours_s, model = res["socialrec"]
    ours_rmse = sr.metrics.rmse(model, test)
    if not surprise:
        s.add(case, "socialrec SVDpp", 1, k, epochs, train.nnz, ours_s / epochs, ours_rmse, model=model)
        s.missing(case, "Surprise SVDpp", "not installed")
        return
    peer_s, algo = res["surprise"]
    peer_rmse = rmse(_peers.surprise_predict(algo, test), test.user_item_arrays()[2])
    s.add(case, "socialrec SVDpp", 1, k, epochs, train.nnz, ours_s / epochs, ours_rmse, peer_s / ours_s, model=model)
    s.add(case, "Surprise SVDpp", 1, k, epochs, train.nnz, peer_s / epochs, peer_rmse)
    s.targets.append(_common.target(f"SVD++ epoch, k={k}, 1 thread", "Surprise SVDpp", peer_s / ours_s, 20.0,
                                    quality=f"RMSE {ours_rmse:.4f} vs {peer_rmse:.4f}"))


def sorec_vs_cornac(sr, s, args):
    """Cornac's SoRec trainer (Cython, full-batch gradient with momentum) is called directly with our mapped
    ratings and c*_uk edge weights, so its Python preprocessing (a per-edge loop) is not counted."""
    from socialrec.models._social import unit_values
    from socialrec.models.sorec import link_targets

    cornac = _common.peer("cornac")
    k = 10
    sets = []
    try:
        ft = _common.filmtrust()
        sets.append(("FilmTrust", *sr.split.train_test_split(ft, test_size=0.1, seed=0), 50, 20))
    except Exception as e:  # noqa: BLE001
        s.missing("SoRec vs Cornac SoRec (FilmTrust)", "data", _common.error_text(e))
    n = (10_000, 5_000, 200_000) if args.quick else (50_000, 20_000, 1_000_000)
    sets.append((f"synthetic {n[0] // 1000}k x {n[1] // 1000}k", *synthetic_split(sr, *n, trust_per_user=5),
                 10, 3))
    for name, train, test, epochs, cornac_epochs in sets:
        case = f"SoRec vs Cornac SoRec ({name}, {train.nnz:,} ratings, {train.n_trust:,} edges)"
        updates = train.nnz + train.n_trust
        lo, hi = train.rating_scale
        times = {"socialrec": [], "cornac": []}
        for _ in range(args.repeat):
            seconds, model = _common.timed(lambda: sr.SoRec(factors=k, epochs=epochs, num_threads=1,
                                                            seed=0).fit(train))
            times["socialrec"].append(seconds / epochs)
            if cornac:
                from cornac.models.sorec import sorec as cornac_sorec

                u, i, r = train.user_item_arrays()
                values = unit_values(r, train.rating_scale).astype(np.float32)
                src, dst, c = link_targets(train.trust)
                seconds, res = _common.timed(lambda: cornac_sorec.sorec(
                    u.astype(np.int32), i.astype(np.int32), values, src.astype(np.int32), dst.astype(np.int32),
                    c.astype(np.float32), k=k, n_users=train.n_users, n_items=train.n_items,
                    n_ratings=len(values), n_edges=len(src), n_epochs=cornac_epochs, lambda_c=1.0,
                    lambda_reg=0.001, learning_rate=0.001, gamma=0.9, init_params={"U": None, "V": None, "Z": None},
                    verbose=False, seed=0))
                times["cornac"].append(seconds / cornac_epochs)
        ours = _common.median(times["socialrec"])
        ours_rmse = sr.metrics.rmse(model, test)
        if not cornac:
            s.add(case, "socialrec SoRec", 1, k, epochs, updates, ours, ours_rmse, model=model)
            s.missing(case, "Cornac SoRec", "not installed")
            continue
        peer = _common.median(times["cornac"])
        tu, ti, tv = test.user_item_arrays()
        U, V = np.asarray(res["U"]), np.asarray(res["V"])
        logits = np.einsum("ij,ij->i", U[tu], V[ti])
        peer_rmse = rmse(lo + (hi - lo) / (1 + np.exp(-logits)), tv)
        s.add(case, "socialrec SoRec", 1, k, epochs, updates, ours, ours_rmse, peer / ours, model=model)
        s.add(case, "Cornac SoRec (trainer only)", 1, k, cornac_epochs, updates, peer, peer_rmse)
        s.targets.append(_common.target(f"SoRec epoch, k={k}, 1 thread, {name}", "Cornac SoRec", peer / ours, 20.0,
                                        quality=f"RMSE {ours_rmse:.4f} ({epochs} ep.) vs {peer_rmse:.4f} "
                                                f"({cornac_epochs} ep.)"))


def _fit(algo, trainset):
    algo.fit(trainset)
    return algo


def run(args):
    import socialrec as sr

    args.repeat = args.repeat or (1 if args.quick else 3)
    s = Section([], [])
    with _common.blas_one_thread():
        for step in (pmf_vs_libmf, vs_surprise_and_cornac_mf, svdpp_vs_surprise, sorec_vs_cornac):
            if args.sections and step.__name__ not in args.sections.split(","):
                continue
            try:
                step(sr, s, args)
            except Exception as e:  # noqa: BLE001  (one failing comparison must not lose the others)
                s.missing(step.__name__, "-", _common.error_text(e))
            print(f"# {step.__name__} done", flush=True)
    return {"rows": s.rows, "targets": s.targets,
            "columns": ["case", "library", "threads", "k", "epochs", "epoch_s", "M_updates_s", "kernel_M_updates_s",
                        "rmse", "ratio", "note"],
            "settings": {"repeat": args.repeat, "timing": "whole fit / epochs, median of interleaved repeats",
                         "LIBMF": "release flags -O3 -march=native -mavx -DUSEAVX -fopenmp; eta .1, L2 .05, L1 0",
                         "socialrec PMF": "vs LIBMF (k=32): constant lr .1 decaying x.9 per epoch, reg .05, init "
                                          "U[0, .01) (the target row); extra rows: adaptive (RPCS) lr .1 from "
                                          "N(0, .1), BiasedMF adaptive (bias reg .05); lr .01 (k=10, vs Cornac PMF)",
                         "Surprise SVD": "lr .005, reg .02 (its defaults); ours the same",
                         "Surprise SVDpp": "lr .007, reg .02; ours lr .007, reg .02, bias reg .005",
                         "Cornac MF": "lr .01, lambda .02, biases, seeded (one thread); ours the same",
                         "Cornac PMF": "linear variant, its defaults (lr .001, lambda .001, momentum .9)",
                         "Cornac SoRec": "trainer called directly: lambda_C 1, lambda .001, lr .001, momentum .9"}}


def add_arguments(ap):
    ap.add_argument("--repeat", type=int, default=0, help="interleaved repeats (default 3, --quick 1)")
    ap.add_argument("--sections", help="comma-separated subset: pmf_vs_libmf, vs_surprise_and_cornac_mf, "
                                       "svdpp_vs_surprise, sorec_vs_cornac")


if __name__ == "__main__":
    _common.main("speed_rating", run, add_arguments, __doc__)
