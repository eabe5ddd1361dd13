"""Does the trust graph help? A plain and a social model per segment of test users (FilmTrust).

``sr.evaluate(...)["segments"]`` splits the test ratings by user: all, cold (fewer than 5 training ratings),
with trustees, cold with trustees. ``sr.compare`` does the same with every model tuned alike (needs Optuna).

    python examples/social_segments.py
"""
import socialrec as sr
from _shared import data_path

ds = sr.datasets.load_filmtrust(data_path("filmtrust"))
train, test = sr.split.train_test_split(ds, test_size=0.2, seed=0)

segments = ("all", "cold", "with_trustees", "cold_with_trustees")
print(f"{'model':10}" + "".join(f"{s:>20}" for s in segments))
rows = {}
for cls in (sr.BiasedMF, sr.SVDpp, sr.TrustSVD, sr.RSTE):
    result = sr.evaluate(cls(factors=10, seed=0).fit(train), test, train=train, ranking=False)
    rows[cls.__name__] = result["segments"]
    print(f"{cls.__name__:10}" + "".join(f"{result['segments'][s]['rmse']:>20.4f}" for s in segments))
print("test ratings: " + ", ".join(f"{s} {rows['BiasedMF'][s]['n']}" for s in segments))
best_plain = min(rows["BiasedMF"]["all"]["rmse"], rows["SVDpp"]["all"]["rmse"])
best_social = min(rows["TrustSVD"]["all"]["rmse"], rows["RSTE"]["all"]["rmse"])
print(f"best social - best plain (all): {best_social - best_plain:+.4f}")
