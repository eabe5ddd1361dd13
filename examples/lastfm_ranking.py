"""Implicit feedback with friends: ALS and SocialALS on LastFM's listens, NDCG@10 on a per-user split.

    python examples/lastfm_ranking.py
"""
import socialrec as sr
from _shared import data_path

clicks = sr.datasets.load_lastfm(data_path("lastfm")).binarized()   # listen counts -> 0/1
train, test = sr.split.per_user_split(clicks, test_size=0.2, seed=0)
print(f"users: {clicks.n_users}  artists: {clicks.n_items}  listens: {clicks.nnz}  friendships: {clicks.n_trust}")

# the settings bench/accuracy_lastfm.py chose on a validation split (bench/README.md); the defaults rank lower here
als = dict(factors=64, alpha=9.0, regularization=50.0, seed=0)
for model in (sr.ALS(**als), sr.SocialALS(**als, social_regularization=10.0, similarity="normalized")):
    model.fit(train)
    metrics = sr.metrics.ranking(model, test, train=train, k=10)
    print(f"{type(model).__name__} ndcg@10: {metrics['ndcg']:.4f}  recall@10: {metrics['recall']:.4f}")

items, scores = model.recommend([clicks.user_ids[0]], n=5)
print(f"top-5 artists for user {clicks.user_ids[0]}: {items[0].tolist()}")
