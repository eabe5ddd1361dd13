"""Sphinx configuration of the socialrec documentation.

Build: ``python -m sphinx -W -b html docs docs/_build/html`` (warnings are errors), after
``pip install ".[docs]"`` or, in a checkout, ``tools/dev_build.sh`` (the checkout's ``python/`` is used when
its compiled module is there). The API reference pages are written from ``docs/api_names.txt``
(``docs/_apigen.py``); the benchmarks page includes ``bench/README.md``.
"""
from __future__ import annotations

import importlib.machinery
import os
import pathlib
import sys

DOCS = pathlib.Path(__file__).resolve().parent
ROOT = DOCS.parent
# a checkout with a dev build (a compiled _core next to the sources, not only its _core.pyi stub): document it;
# otherwise the installed package
_SOURCES = ROOT / "python" / "socialrec"
if any(next(_SOURCES.glob(f"_core*{suffix}"), None) for suffix in importlib.machinery.EXTENSION_SUFFIXES):
    sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(DOCS))

import socialrec  # noqa: E402

import _apigen  # noqa: E402

project = "socialrec"
author = "the socialrec authors"
copyright = "the socialrec authors"
release = version = socialrec.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "_screens", "Thumbs.db", ".DS_Store"]
if os.environ.get("SOCIALREC_DOCS_API_ONLY"):  # tests/test_api_reference.py: the reference pages alone
    root_doc = "api/index"
    exclude_patterns += [str(p.relative_to(DOCS)) for p in DOCS.glob("*.md")] + ["results"]
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3

autosummary_generate = False          # the tables link to the autodoc entries of the same page
autodoc_member_order = "bysource"
autodoc_default_options = {"undoc-members": False}
numpydoc_show_class_members = False   # members are listed by autodoc's :members:
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()    # the docstrings' content is checked by tests/test_docs.py

html_theme = "furo"
html_title = f"socialrec {release}"
html_static_path = []

_apigen.write_pages()
