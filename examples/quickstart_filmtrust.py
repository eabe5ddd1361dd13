"""Quickstart on FilmTrust: load, split, fit a plain and a social model, evaluate, recommend, save, load.

    python examples/quickstart_filmtrust.py
"""
import pathlib
import tempfile

import socialrec as sr
from _shared import data_path

ds = sr.datasets.load_filmtrust(data_path("filmtrust"))
print(f"users: {ds.n_users}  items: {ds.n_items}  ratings: {ds.nnz}  trust edges: {ds.n_trust}")
train, test = sr.split.train_test_split(ds, test_size=0.2, seed=0)

for cls in (sr.BiasedMF, sr.TrustSVD):
    model = cls(factors=10, seed=0).fit(train)
    print(f"{cls.__name__} rmse: {sr.metrics.rmse(model, test):.4f}  mae: {sr.metrics.mae(model, test):.4f}")

user = ds.user_ids[0]                       # FilmTrust's own ids: 1, 2, ...
items, scores = model.recommend([user], n=5)
print(f"top-5 for user {user}: {items[0].tolist()}")

with tempfile.TemporaryDirectory() as folder:
    path = pathlib.Path(folder) / "trustsvd.npz"
    model.save(path)
    again = sr.load(path)
    print(f"reloaded model gives the same top-5: {again.recommend([user], n=5)[0][0].tolist() == items[0].tolist()}")
