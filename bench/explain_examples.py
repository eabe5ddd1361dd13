"""One explanation per model, for README's "Why this item, and whom to follow" section (issue 24).

    python bench/explain_examples.py

Rating models fit FilmTrust, ranking models LastFM's binarised listens, all with their defaults (seed 0); for
the first user (by index) who trusts at least three users and rates, the top recommendation is explained
(``model.explain``, 4 parts and 2 similar rated items) in the CLI's text form, and the first three users
``recommend_users`` proposes are listed.
"""
from __future__ import annotations

import numpy as np

import _common


def run(args):
    import socialrec as sr
    from socialrec.models._explain import format_explanation

    data = {"rating": _common.filmtrust(), "ranking": _common.lastfm_binary()}
    rows = []
    with _common.blas_one_thread():
        for info in sr.models.registry():
            ds = data[info.kind]
            params = {"epochs": 5} if args.quick else {}
            model = info.cls(seed=0, num_threads=2, **params).fit(ds)
            user = ds.user_ids[np.flatnonzero((np.diff(ds.trust.indptr) >= 3) & (np.diff(ds.ratings.indptr) > 0))[0]]
            item = model.recommend([user], n=1)[0][0, 0]
            entries = model.explain(user, item, n=4)
            entries = [e for e in entries if e["part"]] + [e for e in entries if not e["part"]][:2]
            follow, _ = model.recommend_users([user], n=3)
            rows.append({"model": info.name, "data": "FilmTrust" if info.kind == "rating" else "LastFM",
                         "user": user, "item": item, "why": format_explanation(entries),
                         "follow": ", ".join(str(v) for v in follow[0].tolist())})
    return {"rows": rows, "columns": ["model", "data", "user", "item", "why", "follow"]}


if __name__ == "__main__":
    _common.main("explain_examples", run, None, __doc__)
