"""The API reference pages, written from ``docs/api_names.txt`` when Sphinx starts.

``read_names`` parses the list (also used by ``tests/test_api_reference.py``); ``write_pages`` writes one
``docs/api/<slug>.rst`` per ``== slug | Title`` header, with an autosummary table and an autodoc entry for
every listed name that exists in the imported package, and a note naming the pending names that have not
landed yet. Methods are documented on their class's entry (``:members:``), so their lines write nothing.
"""
from __future__ import annotations

import importlib
import inspect
import pathlib
from dataclasses import dataclass, field

HERE = pathlib.Path(__file__).resolve().parent
NAMES = HERE / "api_names.txt"
API_DIR = HERE / "api"


@dataclass
class Entry:
    name: str            # relative to ``socialrec``: "Dataset", "datasets.load_files", "Model.fit", "split"
    module: bool         # a "module:" line
    pending: bool        # "pending": another issue adds it


@dataclass
class Page:
    slug: str
    title: str
    entries: list = field(default_factory=list)


def read_names(path=NAMES):
    """The pages of ``api_names.txt``, in order, as ``[Page]``."""
    pages = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("=="):
            slug, _, title = line[2:].partition("|")
            pages.append(Page(slug.strip(), title.strip()))
            continue
        words = line.split()
        if not pages or len(words) > 2 or (len(words) == 2 and words[1] != "pending"):
            raise ValueError(f"{path}:{number}: expected 'name', 'name pending' or '== slug | Title': {raw!r}")
        name = words[0]
        pages[-1].entries.append(Entry(name.rstrip(":"), name.endswith(":"), len(words) == 2))
    return pages


def resolve(name):
    """The object ``socialrec.<name>``, or raise ``AttributeError``/``ImportError`` when it does not exist."""
    obj = importlib.import_module("socialrec")
    for i, part in enumerate(name.split(".")):
        try:
            obj = getattr(obj, part)
        except AttributeError:  # a submodule that the package does not import eagerly
            if not inspect.ismodule(obj):
                raise
            obj = importlib.import_module(f"{obj.__name__}.{part}")
    return obj


def _exists(name):
    try:
        resolve(name)
        return True
    except (AttributeError, ImportError):
        return False


def _directive(entry, obj, with_methods):
    full = f"socialrec.{entry.name}"
    if entry.module:
        return [f".. automodule:: {full}", "   :no-members:"]
    if inspect.isclass(obj):
        kind = "autoexception" if issubclass(obj, BaseException) else "autoclass"
        # a class with listed methods (Model: from its mixins) shows the members it inherits too
        inherited = ["   :inherited-members:"] if entry.name in with_methods else []
        return [f".. {kind}:: {full}", "   :members:", "   :show-inheritance:"] + inherited
    if callable(obj):
        return [f".. autofunction:: {full}"]
    return [f".. autodata:: {full}", "   :no-value:"]


def page_text(page):
    """The reStructuredText of one reference page."""
    present = [e for e in page.entries if _exists(e.name)]
    missing = [e for e in page.entries if not _exists(e.name)]
    lines = [page.title, "=" * len(page.title), ""]
    if missing:
        names = ", ".join(f"``socialrec.{e.name}``" for e in missing)
        lines += [".. note::", "", f"   Not landed yet (pending in ``docs/api_names.txt``): {names}.", ""]
    documented = [e for e in present if "." not in e.name or not inspect.isclass(resolve(e.name.rsplit(".", 1)[0]))]
    table = [e for e in documented if not e.module]
    if table:
        lines += [".. autosummary::", ""] + [f"   socialrec.{e.name}" for e in table] + [""]
    with_methods = {e.name.rsplit(".", 1)[0] for e in present if e not in documented}
    for e in documented:
        lines += _directive(e, resolve(e.name), with_methods) + [""]
    return "\n".join(lines)


def write_pages(pages=None, out=API_DIR):
    """Write every page's ``<slug>.rst`` under ``out``; rewrite a file only when its text changes."""
    out.mkdir(exist_ok=True)
    for page in pages or read_names():
        target = out / f"{page.slug}.rst"
        text = page_text(page)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
