"""Every public name of socialrec (DESIGN §2/§2b) has an entry in the API reference.

The names live in one list, ``docs/api_names.txt`` (read by ``docs/_apigen.py``, which also writes the
reference pages from it). This test checks the list both ways: every public name of the package (top-level
names and the ``__all__`` of each module the list names) is on it, and every name on it exists -- except the
ones marked ``pending`` (another issue adds them), which are skipped as "not landed yet" while missing -- and
has an entry in the inventory (``objects.inv``) of a Sphinx build of the reference pages.
"""
from __future__ import annotations

import inspect
import os
import pathlib
import re
import subprocess
import sys

import pytest

import socialrec as sr

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs"
sys.path.insert(0, str(DOCS))
import _apigen  # noqa: E402

PAGES = _apigen.read_names()
ENTRIES = [e for page in PAGES for e in page.entries]
LISTED = {e.name for e in ENTRIES}


def _exists(name):
    try:
        _apigen.resolve(name)
        return True
    except (AttributeError, ImportError):
        return False


def test_names_are_listed_once():
    names = [e.name for e in ENTRIES]
    assert sorted({n for n in names if names.count(n) > 1}) == []
    assert len({p.slug for p in PAGES}) == len(PAGES)


def test_every_public_name_of_the_package_is_listed():
    """Top-level names, and each listed module's ``__all__`` (a name re-exported at the top level may be
    listed there instead: ``socialrec.models.BiasedMF`` is ``socialrec.BiasedMF``)."""
    top = {n for n, v in vars(sr).items() if not n.startswith("_") and not inspect.ismodule(v)}
    missing = sorted(top - LISTED)
    for module in (e.name for e in ENTRIES if e.module and _exists(e.name)):
        mod = _apigen.resolve(module)
        for name in getattr(mod, "__all__", ()):
            if f"{module}.{name}" not in LISTED and not (name in LISTED and getattr(sr, name, None) is getattr(mod, name)):
                missing.append(f"{module}.{name}")
    assert missing == [], f"public names missing from docs/api_names.txt: {missing}"


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_listed_name_exists(entry):
    if entry.pending:
        if not _exists(entry.name):
            pytest.skip(f"socialrec.{entry.name}: not landed yet (pending in docs/api_names.txt)")
        pytest.fail(f"socialrec.{entry.name} has landed: remove 'pending' from its line in docs/api_names.txt")
    assert _exists(entry.name), f"socialrec.{entry.name} is listed in docs/api_names.txt but does not exist"
    assert inspect.ismodule(_apigen.resolve(entry.name)) == entry.module, (
        f"socialrec.{entry.name}: a module is listed with a trailing ':', and only a module")


@pytest.fixture(scope="module")
def inventory(tmp_path_factory):
    """``{name: role}`` of a warning-free Sphinx build of the reference pages (``-W``)."""
    for package in ("sphinx", "myst_parser", "numpydoc", "furo"):
        pytest.importorskip(package, reason=f"the docs build needs {package}: pip install 'socialrec[docs]'")
    from sphinx.util.inventory import InventoryFile

    out = tmp_path_factory.mktemp("docs")
    package_parent = str(pathlib.Path(sr.__file__).resolve().parents[1])
    env = dict(os.environ, SOCIALREC_DOCS_API_ONLY="1",
               PYTHONPATH=os.pathsep.join([package_parent, os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-m", "sphinx", "-E", "-W", "-q", "-b", "html", str(DOCS), str(out)],
                          capture_output=True, text=True, env=env, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    with open(out / "objects.inv", "rb") as f:
        inv = InventoryFile.load(f, "", lambda base, uri: uri)
    return {name: role for role, items in inv.items() for name in items}


def test_every_listed_name_has_a_reference_entry(inventory):
    present = [e.name for e in ENTRIES if _exists(e.name)]
    undocumented = sorted(n for n in present if f"socialrec.{n}" not in inventory)
    assert undocumented == [], f"listed names without an API reference entry: {undocumented}"


DESIGN = pathlib.Path(os.environ.get("SOCIALREC_DESIGN", pathlib.Path(__file__).resolve().parents[2] / "shared"
                                                       / "DESIGN.md"))


def design_names(text):
    """The public names that DESIGN.md §2/§2b uses: ``sr.<name>``, ``model.<method>(``, ``Dataset.<method>(``
    and the model classes of the "Model classes:" sentence."""
    section = text[text.index("## 2. Public API"):text.index("## 3.")]
    names = {m.group(1).rstrip(".") for m in re.finditer(r"\bsr\.([A-Za-z_][\w.]*)", section)}
    names |= {f"Model.{m.group(1)}" for m in re.finditer(r"\bmodel\.([a-z_]\w*)\(", section)}
    names |= {f"Dataset.{m.group(1)}" for m in re.finditer(r"\bDataset\.([a-z_]\w*)\(", section)}
    classes = re.search(r"^Model classes:(.*?)\n\n", section, re.S | re.M).group(1)
    names |= set(re.findall(r"`([A-Z]\w+)`", classes))
    return names


def test_design_names_are_listed():
    """Every name DESIGN.md §2/§2b promises is on the list (pending until it lands); reads the design next to
    the repository (``../shared/DESIGN.md``, or ``$SOCIALREC_DESIGN``)."""
    if not DESIGN.is_file():
        pytest.skip(f"the design document is not available: {DESIGN} does not exist")
    names = design_names(DESIGN.read_text(encoding="utf-8"))
    assert len(names) > 30, sorted(names)
    assert sorted(names - LISTED) == [], "DESIGN names missing from docs/api_names.txt"
