"""New users without retraining: fold in held-out FilmTrust users from a few ratings and their trust edges.

A tenth of the users is held out of training. Each is folded in from 3 of its ratings (and its trust edges);
its other ratings are predicted, and compared with a model refitted on the same data.

    python examples/fold_in_new_users.py
"""
import time

import numpy as np

import socialrec as sr
from _shared import data_path

ds = sr.datasets.load_filmtrust(data_path("filmtrust"))
users, items, values = ds.user_item_arrays()            # indices
src, dst, weights = ds.trust_arrays()
rng = np.random.default_rng(0)
rated = np.unique(users)
held = rng.choice(rated, size=len(rated) // 10, replace=False)

# the first 3 ratings of each held-out user are given, the rest are to be predicted
is_held = np.isin(users, held)
order = np.lexsort((rng.random(len(users)), users))     # each user's ratings in a random order
rank = np.empty(len(users), dtype=np.int64)
rank[order] = np.arange(len(users)) - np.searchsorted(users[order], users[order])
given, target, known = is_held & (rank < 3), is_held & (rank >= 3), ~is_held

uid, iid = ds.user_ids, ds.item_ids                     # raw ids: what models speak
train = sr.Dataset.from_raw(uid[users[known]], iid[items[known]], values[known],
                            trust_src=uid[src[~np.isin(src, held) & ~np.isin(dst, held)]],
                            trust_dst=uid[dst[~np.isin(src, held) & ~np.isin(dst, held)]])
model = sr.TrustSVD(factors=10, seed=0).fit(train)

# fold in: the held-out users' given ratings, and every trust edge that touches them (known items only)
new = given & np.isin(iid[items], train.item_ids)
edges = np.isin(src, held) | np.isin(dst, held)
start = time.perf_counter()
model.fold_in_users((uid[users[new]], iid[items[new]], values[new]), trust=(uid[src[edges]], uid[dst[edges]]))
seconds = time.perf_counter() - start

ask = target & np.isin(iid[items], train.item_ids)        # their other ratings, of items the model knows
pred = model.predict(uid[users[ask]], iid[items[ask]])
rmse_fold = float(np.sqrt(np.mean((pred - values[ask]) ** 2)))

refit_data = sr.Dataset.from_raw(uid[users[known | new]], iid[items[known | new]], values[known | new],
                                 trust_src=uid[src], trust_dst=uid[dst])
start = time.perf_counter()
refit = sr.TrustSVD(factors=10, seed=0).fit(refit_data)
refit_seconds = time.perf_counter() - start
pred = refit.predict(uid[users[ask]], iid[items[ask]])
rmse_refit = float(np.sqrt(np.mean((pred - values[ask]) ** 2)))

print(f"held-out users: {len(held)}  ratings to predict: {int(ask.sum())}")
print(f"fold-in rmse: {rmse_fold:.4f}  ({seconds * 1e3:.0f} ms for all users)")
print(f"refit rmse: {rmse_refit:.4f}  ({refit_seconds * 1e3:.0f} ms)")
print(f"fold-in / refit: {rmse_fold / rmse_refit:.3f}")
