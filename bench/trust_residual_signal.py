"""Is there anything in the trust graph for a rating model to use? (issue 15: why the Epinions goal stops)

    PYTHONPATH=python SOCIALREC_DATA=/path/to/data python bench/trust_residual_signal.py [--datasets epinions filmtrust]
    PYTHONPATH=python python bench/trust_residual_signal.py --quick        # FilmTrust, 2 seeds (developers)

Protocol: the judged split (80/20 ``train_test_split(seed=0)``); only its training part is read. A validation part
(10% of it, ``validation_split`` with seeds 0..``--seeds``-1) is split in two halves by position. The baseline is the
bias model ``mu + b_u + b_i`` fitted exactly (block coordinate descent, one penalty per parameter: the form that
fits Epinions best, bench/README.md "Penalty scaling") on the rest of the training part, its two penalties chosen on
half A. Each trust signal ``s(u, i)`` is then added as ``baseline + alpha * s``, alpha fitted by least squares on half
A, and judged on half B, so nothing is chosen on the ratings it is scored on:

* ``item, trustees``: what u's trustees thought of item i beyond the baseline, sum of their residuals on i over
  (count + 5) -- a social neighbourhood model (trust-based collaborative filtering);
* ``item, both directions`` / ``item, 2 hops``: the same over u's trusters and trustees / everyone within two hops
  (skipped where that graph has more than 5 million pairs: Epinions);
* ``user, trustees``: u's trustees' mean bias (a social prior on b_u, what SocialMF/SoReg-style terms pull towards);
* ``item, random graph``: the first signal over a graph with the same out-degrees and random trustees (what no
  signal looks like);
* ``taste, trustees`` (its baseline is a fitted ``BiasedMF``, factors 10, its defaults): the trustees' mean factor
  vector times q_i, what u's trustees' tastes predict for i beyond u's own factors (SocialMF's homophily);
  ``taste, random graph`` likewise over the random graph.

A row gives the share of half B's ratings the signal covers (at least one contributing neighbour), the baseline's
RMSE on them and the change the signal makes there and overall (mean ± sd over the seeds). No test rating is read.
"""
from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp

import _common
import socialrec as sr

SHRINK = 5.0  # neighbours' residual sums are divided by (count + SHRINK)
MAX_TWO_HOP = 5_000_000  # pairs within two hops, above which that signal is skipped


def _arrays(d):
    r = d.ratings.tocoo()
    return r.row.astype(np.int64), r.col.astype(np.int64), r.data.astype(np.float64)


def bias_fit(u, i, r, n_users, n_items, lam_u, lam_i, iters=30):
    """Exact ridge fit of mu + b_u + b_i with penalties lam_u ||b_u||^2 + lam_i ||b_i||^2 (one per parameter)."""
    mu = r.mean()
    bu, bi = np.zeros(n_users), np.zeros(n_items)
    cu, ci = np.bincount(u, minlength=n_users), np.bincount(i, minlength=n_items)
    for _ in range(iters):
        bu = np.bincount(u, r - mu - bi[i], n_users) / (cu + lam_u)
        bi = np.bincount(i, r - mu - bu[u], n_items) / (ci + lam_i)
    return mu, bu, bi


def _rmse(pred, r, scale):
    return float(np.sqrt(np.mean((np.clip(pred, *scale) - r) ** 2)))


def _lookup(m, rows, cols):
    """m[rows[k], cols[k]] for a CSR matrix, vectorised (0 where absent)."""
    m = m.tocoo()
    keys = m.row.astype(np.int64) * m.shape[1] + m.col
    order = np.argsort(keys)
    keys, data = keys[order], m.data[order]
    want = rows * np.int64(m.shape[1]) + cols
    at = np.minimum(np.searchsorted(keys, want), max(len(keys) - 1, 0))
    return np.where(len(keys) and keys[at] == want, data[at] if len(keys) else 0.0, 0.0)


def _neighbour_sums(g, resid, rated, vu, vi):
    """For each pair (vu[k], vi[k]): the sum of the residuals on item vi[k] of vu[k]'s neighbours in g, and how
    many of them rated it; computed on the rows of the distinct users asked about only."""
    users, row = np.unique(vu, return_inverse=True)
    sub = g[users]
    return _lookup(sub @ resid, row, vi), _lookup(sub @ rated, row, vi)


def _graphs(trust, rng):
    t = trust.tocsr().astype(np.float64)
    t.data[:] = 1.0
    both = ((t + t.T) > 0).astype(np.float64).tocsr()
    graphs = {"item, trustees": t, "item, both directions": both}
    reach = both @ both  # two hops: skipped where it would not fit in memory (Epinions: tens of GB with the ratings)
    if reach.nnz <= MAX_TWO_HOP:
        two = ((reach + both) > 0).astype(np.float64).tolil()
        two.setdiag(0)
        two = two.tocsr()
        two.eliminate_zeros()
        graphs["item, 2 hops"] = two
    rand = t.copy()
    rand.indices = rng.integers(0, t.shape[0], len(rand.indices)).astype(rand.indices.dtype)
    rand.sum_duplicates()
    rand.data[:] = 1.0
    rand.sort_indices()
    return graphs | {"item, random graph": rand, "user, trustees": t}


def one_seed(train, seed, scale):
    fit, val = sr.split.validation_split(train, 0.1, seed=seed)
    fu, fi, fr = _arrays(fit)
    vu, vi, vr = _arrays(val)
    half_a = np.arange(len(vr)) % 2 == 0
    best = None
    for lam_u in (1, 3, 10, 30):
        for lam_i in (1, 3, 10, 30):
            mu, bu, bi = bias_fit(fu, fi, fr, fit.n_users, fit.n_items, lam_u, lam_i)
            e = _rmse((mu + bu[vu] + bi[vi])[half_a], vr[half_a], scale)
            if best is None or e < best[0]:
                best = (e, lam_u, lam_i)
    mu, bu, bi = bias_fit(fu, fi, fr, fit.n_users, fit.n_items, best[1], best[2])
    base = mu + bu[vu] + bi[vi]
    res = fr - (mu + bu[fu] + bi[fi])
    shape = (fit.n_users, fit.n_items)
    resid = sp.csr_matrix((res, (fu, fi)), shape=shape)
    rated = sp.csr_matrix((np.ones_like(res), (fu, fi)), shape=shape)
    out = {}
    graphs = _graphs(fit.trust, np.random.default_rng(seed))
    for name, g in graphs.items():
        if name.startswith("user"):
            deg = np.asarray(g.sum(axis=1)).ravel()
            count = deg[vu]
            s = (g @ bu)[vu] / (count + SHRINK)
        else:
            s, count = _neighbour_sums(g, resid, rated, vu, vi)
            s = s / (count + SHRINK)
        out[name] = _add_signal(s, count, base, vr, half_a, scale)
    model = sr.BiasedMF(factors=10, seed=seed).fit(fit)
    p, q = (model.parameters_[k].astype(np.float64) for k in ("user_factors", "item_factors"))
    base = model.predict(vu, vi, ids="index").astype(np.float64)
    for name, g in (("taste, trustees", graphs["item, trustees"]), ("taste, random graph", graphs["item, random graph"])):
        count = np.asarray(g.sum(axis=1)).ravel()[vu]
        s = np.einsum("nk,nk->n", (g @ p)[vu] / (count + SHRINK)[:, None], q[vi])
        out[name] = _add_signal(s, count, base, vr, half_a, scale)
    return out


def _add_signal(s, count, base, vr, half_a, scale):
    denom = float(np.sum(s[half_a] ** 2))
    alpha = float(np.sum(s[half_a] * (vr - base)[half_a]) / denom) if denom > 0 else 0.0
    b = ~half_a
    cov = b & (count > 0)
    return {"coverage": float(cov.sum() / b.sum()), "alpha": alpha,
            "base_all": _rmse(base[b], vr[b], scale), "with_all": _rmse((base + alpha * s)[b], vr[b], scale),
            "base_covered": _rmse(base[cov], vr[cov], scale) if cov.any() else float("nan"),
            "with_covered": _rmse((base + alpha * s)[cov], vr[cov], scale) if cov.any() else float("nan"),
            "n_covered": int(cov.sum())}


def run(args):
    names = ["filmtrust"] if args.quick else args.datasets
    seeds = 2 if args.quick else args.seeds
    rows = []
    for name in names:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the releases' self-loops
            ds = (sr.datasets.load_filmtrust(_common.data_folder("filmtrust"), duplicates="mean") if name == "filmtrust"
                  else sr.datasets.load_tang(_common.data_folder(name)))
        train, _ = sr.split.train_test_split(ds, test_size=0.2, seed=0)  # the test part is never read
        per_seed = [one_seed(train, seed, ds.rating_scale) for seed in range(seeds)]
        for signal in per_seed[0]:
            got = [p[signal] for p in per_seed]
            d_all = np.array([g["with_all"] - g["base_all"] for g in got])
            d_cov = np.array([g["with_covered"] - g["base_covered"] for g in got])
            rows.append({"dataset": name, "signal": signal,
                         "coverage": round(float(np.mean([g["coverage"] for g in got])), 3),
                         "n_covered": int(np.mean([g["n_covered"] for g in got])),
                         "alpha": round(float(np.mean([g["alpha"] for g in got])), 3),
                         "base_covered": round(float(np.nanmean([g["base_covered"] for g in got])), 4),
                         "change_covered": f"{np.nanmean(d_cov):+.4f} ± {np.nanstd(d_cov):.4f}",
                         "base_all": round(float(np.mean([g["base_all"] for g in got])), 4),
                         "change_all": f"{d_all.mean():+.4f} ± {d_all.std():.4f}"})
            print(rows[-1], flush=True)
    return {"seeds": seeds, "shrink": SHRINK, "rows": rows, "columns": list(rows[0])}


def add_arguments(ap):
    ap.add_argument("--datasets", nargs="+", default=["epinions", "filmtrust"], choices=["epinions", "filmtrust"])
    ap.add_argument("--seeds", type=int, default=5, help="validation splits (seeds 0..n-1)")


if __name__ == "__main__":
    _common.main("trust_residual_signal", run, add_arguments, doc=__doc__)
