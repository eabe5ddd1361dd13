"""Shared pytest fixtures.

The real data sets live next to the repository in ``../shared/data/<name>`` and are never copied into
it; tests that need them ask for the ``shared_data`` fixture, which skips the test when they are absent.
"""

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data():
    """Return ``get(name) -> pathlib.Path`` of ``<repo>/../shared/data/<name>``.

    ``get`` skips the calling test, with the reason, when that folder does not exist.
    """

    def get(name):
        path = SHARED_DATA / name
        if not path.is_dir():
            pytest.skip(f"real data set {name!r} not available: {path} does not exist")
        return path

    return get
