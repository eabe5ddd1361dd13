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


def _own_page(obj):
    """Whether ``obj`` gets a page of its own: a model class (a subclass of ``socialrec.Model``)."""
    model = resolve("Model")
    return inspect.isclass(obj) and issubclass(obj, model) and obj is not model


def page_texts(page):
    """``{file stem: reStructuredText}`` of one reference page and of the model classes listed on it (each on
    a sub-page ``<slug>.<Name>``, linked from the page's table and toctree)."""
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
    texts = {}
    for e in documented:
        directive = _directive(e, resolve(e.name), with_methods) + [""]
        if _own_page(resolve(e.name)):
            title = f"socialrec.{e.name}"
            texts[f"{page.slug}.{e.name}"] = "\n".join([title, "=" * len(title), ""] + directive)
        else:
            lines += directive
    if len(texts):
        lines += [".. toctree::", "   :maxdepth: 1", ""] + [f"   {stem}" for stem in texts] + [""]
    return {page.slug: "\n".join(lines), **texts}


def write_pages(pages=None, out=API_DIR):
    """Write every page's ``<stem>.rst`` under ``out``; rewrite a file only when its text changes, and remove
    the pages of names no longer listed."""
    out.mkdir(exist_ok=True)
    texts = {stem: text for page in pages or read_names() for stem, text in page_texts(page).items()}
    for stale in set(p.stem for p in out.glob("*.rst")) - set(texts):
        (out / f"{stale}.rst").unlink()
    for stem, text in texts.items():
        target = out / f"{stem}.rst"
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
