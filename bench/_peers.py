"""The peer libraries, each wrapped once the way every benchmark uses it (settings stated here).

Every wrapper raises ImportError when its peer is missing; the scripts catch it and report the peer as
"not installed". Nothing here is collected by pytest.
"""
from __future__ import annotations

import contextlib
import glob
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import warnings

import numpy as np

from _common import HERE

PEERS_DIR = os.path.join(HERE, "_peers")
# LIBMF's own Makefile flags (DESIGN §9a): the PyPI binding compiles without them and is ~6x slower.
LIBMF_FLAGS = ["-O3", "-march=native", "-pthread", "-DUSEAVX", "-mavx", "-DUSEOMP", "-fopenmp", "-std=c++11"]


# ---------------------------------------------------------------------------------------------------------
# LIBMF, release build
# ---------------------------------------------------------------------------------------------------------
def libmf_release_library():
    """Path of LIBMF compiled from the `libmf` sdist's src_cpp/ with its release flags (built once)."""
    target = os.path.join(PEERS_DIR, "libmf_release.so")
    if os.path.exists(target):
        return target
    os.makedirs(PEERS_DIR, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                        "libmf", "-d", tmp], check=True)
        sdist = glob.glob(os.path.join(tmp, "libmf-*.tar.gz"))[0]
        with tarfile.open(sdist) as tar:
            tar.extractall(tmp)
        src = glob.glob(os.path.join(tmp, "libmf-*", "src_cpp"))[0]
        subprocess.run(["g++", *LIBMF_FLAGS, "-shared", "-fPIC", os.path.join(src, "libmf_interface.cpp"),
                        os.path.join(src, "mf.cpp"), "-o", target], check=True)
    return target


def load_libmf():
    """The PyPI `libmf` binding, pointed at the release build through LIBMF_OBJ (its documented hook)."""
    import importlib.util

    if importlib.util.find_spec("libmf") is None:
        raise ImportError("libmf")
    os.environ["LIBMF_OBJ"] = libmf_release_library()
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from libmf import mf
    return mf


def libmf_pmf(mf, train_triples, k, epochs, reg, eta, threads):
    """LIBMF squared-loss MF without biases: L1 off, L2 = ``reg`` on both sides (ours), its own AdaGrad
    step ``eta``, its default grid (bins = max(2 threads + 1, 20))."""
    model = mf.MF(fun=0, k=k, nr_threads=threads, nr_bins=max(2 * threads + 1, 20), nr_iters=epochs,
                  lambda_p1=0.0, lambda_q1=0.0, lambda_p2=reg, lambda_q2=reg, eta=eta, do_nmf=False, quiet=True,
                  copy_data=True)
    model.fit(train_triples)
    return model


def libmf_predict(model, users, items, fallback):
    # The binding's predict() returns wrong values (PEERS.md): score from the factors.
    P, Q = model.p_factors(), model.q_factors()
    ok = (users < len(P)) & (items < len(Q))
    pred = np.full(len(users), fallback, dtype=np.float64)
    pred[ok] = np.einsum("ij,ij->i", P[users[ok]], Q[items[ok]])
    pred[~np.isfinite(pred)] = fallback  # LIBMF leaves the factors of users/items absent from training NaN
    return pred


# ---------------------------------------------------------------------------------------------------------
# Surprise
# ---------------------------------------------------------------------------------------------------------
def surprise_trainset(ds):
    import pandas as pd
    import surprise

    u, i, v = ds.user_item_arrays()
    frame = pd.DataFrame({"u": u, "i": i, "r": v.astype(np.float64)})
    return surprise.Dataset.load_from_df(frame, surprise.Reader(rating_scale=ds.rating_scale)).build_full_trainset()


def surprise_predict(algo, test):
    u, i, _ = test.user_item_arrays()
    return np.array([algo.predict(a, b).est for a, b in zip(u.tolist(), i.tolist())])


# ---------------------------------------------------------------------------------------------------------
# Cornac
# ---------------------------------------------------------------------------------------------------------
def cornac_dataset(train, social=False, values=True):
    """A cornac Dataset with the same users/items as ``train`` (string ids of our indices)."""
    import cornac
    from cornac.data import GraphModality

    u, i, v = train.user_item_arrays()
    v = v if values else np.ones(len(u))
    data = cornac.data.Dataset.from_uir(list(zip(u.astype(str), i.astype(str), v.astype(float))), seed=0)
    if social:
        src, dst, _ = train.trust_arrays()
        graph = GraphModality(data=list(zip(src.astype(str), dst.astype(str), np.ones(len(src)))))
        graph.build(id_map=data.uid_map)
        data.add_modalities(user_graph=graph)
    return data


def cornac_predict(model, data, test, fallback):
    """Rating predictions of a fitted cornac model for ``test``'s (user, item) pairs (unknown: fallback)."""
    u, i, _ = test.user_item_arrays()
    uid = np.array([data.uid_map.get(str(x), -1) for x in u])
    iid = np.array([data.iid_map.get(str(x), -1) for x in i])
    pred = np.full(len(u), fallback, dtype=np.float64)
    for idx in np.flatnonzero((uid >= 0) & (iid >= 0)):
        pred[idx] = model.score(int(uid[idx]), int(iid[idx]))
    return pred


def cornac_vectors(model, data, n_users, n_items, factors):
    """(U, V, item_bias) of a cornac BPR/SBPR in our index space (rows of unseen users/items zero)."""
    U, V, b = np.zeros((n_users, factors)), np.zeros((n_items, factors)), np.zeros(n_items)
    users = np.array([int(x) for x in data.uid_map], dtype=np.int64)
    items = np.array([int(x) for x in data.iid_map], dtype=np.int64)
    U[users] = model.u_factors[[data.uid_map[str(x)] for x in users]]
    V[items] = model.i_factors[[data.iid_map[str(x)] for x in items]]
    b[items] = model.i_biases[[data.iid_map[str(x)] for x in items]]
    return U, V, b


def cornac_sbpr_class():
    """Cornac 3.0.1's SBPR.fit() fails as shipped (PEERS.md): it calls _prepare_data() and
    _prepare_social_data() without the training set, and the latter uses np.in1d (gone in NumPy 2.4)."""
    import cornac
    from scipy.sparse import csr_matrix

    class PatchedSBPR(cornac.models.SBPR):
        def _prepare_data(self, train_set=None):
            return super()._prepare_data(train_set if train_set is not None else self.train_set)

        def _prepare_social_data(self, train_set=None):
            train_set = train_set if train_set is not None else self.train_set
            X = train_set.matrix
            n_users = train_set.num_users
            users = set(train_set.uir_tuple[0])
            rid, cid, val = train_set.user_graph.get_train_triplet(users, users)
            Y = csr_matrix((val, (rid, cid)), shape=(n_users, n_users))
            ids, counts, indptr = [], [], [0]
            for uid in range(n_users):
                own = np.unique(X[uid].indices)
                items, c = np.unique(X[Y[uid].indices].indices, return_counts=True)
                mask = np.isin(items, own, assume_unique=True)
                ids.extend(items[~mask])
                counts.extend(c[~mask])
                indptr.append(len(ids))
            dt = X.indices.dtype
            return np.asarray(ids).astype(dt), np.asarray(counts).astype(dt), np.asarray(indptr).astype(dt)

    return PatchedSBPR


# ---------------------------------------------------------------------------------------------------------
# implicit
# ---------------------------------------------------------------------------------------------------------
def implicit_bpr(train, factors, threads, iterations, learning_rate=0.01, regularization=0.01, seed=0):
    from implicit.cpu.bpr import BayesianPersonalizedRanking

    model = BayesianPersonalizedRanking(factors=factors, iterations=iterations, learning_rate=learning_rate,
                                        regularization=regularization, num_threads=threads, random_state=seed)
    model.fit(train.ratings.tocsr().astype(np.float32), show_progress=False)
    return model


def implicit_als(train, factors, threads, iterations, alpha, regularization, cg_steps=3, seed=0):
    """implicit's CPU ALS with CG; returns (model, per-iteration seconds from its callback)."""
    from implicit.cpu.als import AlternatingLeastSquares

    times = []
    model = AlternatingLeastSquares(factors=factors, regularization=regularization, alpha=alpha,
                                    iterations=iterations, use_cg=True, num_threads=threads, random_state=seed,
                                    calculate_training_loss=False)
    model.cg_steps = cg_steps
    model.fit(train.ratings.tocsr(), show_progress=False, callback=lambda it, seconds, loss: times.append(seconds))
    return model, times
