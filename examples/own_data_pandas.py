"""Your own data from pandas: two DataFrames (ratings; who trusts whom) with ids of any type.

Here the frames are read from FilmTrust's text files and the ids are turned into strings, as an
application's user names and item keys would be; any DataFrame with these columns works the same way.

    python examples/own_data_pandas.py
"""
import sys

try:
    import pandas as pd
except ImportError:
    print("skipped: pandas is not installed (pip install 'socialrec[pandas]')")
    sys.exit(0)

import socialrec as sr
from _shared import data_path

folder = data_path("filmtrust")
ratings = pd.read_csv(folder / "ratings.txt", sep=" ", names=["user", "item", "rating"])
trust = pd.read_csv(folder / "trust.txt", sep=" ", names=["truster", "trustee", "weight"])
ratings["user"] = "u" + ratings["user"].astype(str)
ratings["item"] = "film-" + ratings["item"].astype(str)
trust["truster"] = "u" + trust["truster"].astype(str)
trust["trustee"] = "u" + trust["trustee"].astype(str)

ds = sr.Dataset.from_pandas(ratings, trust=trust[["truster", "trustee"]], duplicates="mean")
print(f"users: {ds.n_users}  items: {ds.n_items}  ratings: {ds.nnz}  rating scale: {ds.rating_scale}")

train, test = sr.split.train_test_split(ds, test_size=0.2, seed=0)
model = sr.SocialMF(seed=0).fit(train)
print(f"SocialMF rmse: {sr.metrics.rmse(model, test):.4f}")
print(f"prediction for (u2, film-1): {model.predict(['u2'], ['film-1'])[0]:.2f}")
items, scores = model.recommend(["u2"], n=3)
print(f"top-3 for u2: {items[0].tolist()}")
