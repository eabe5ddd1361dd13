"""What the examples share: where the public data sets are.

The examples read ``$SOCIALREC_DATA/<name>`` (by default ``../shared/data`` next to the repository, where
the project keeps FilmTrust, LastFM and Epinions). When the folder is absent an example prints
``skipped: <reason>`` and exits with status 0, so that a checkout without the data still runs them.
"""
import os
import pathlib
import sys

DEFAULT = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data"


def data_path(name):
    """The folder of the data set ``name``; exits with a ``skipped:`` line when it is not there."""
    path = pathlib.Path(os.environ.get("SOCIALREC_DATA", DEFAULT)) / name
    if not path.is_dir():
        print(f"skipped: data set {name!r} not found at {path} (set SOCIALREC_DATA)")
        sys.exit(0)
    return path
