"""The documentation kept honest: every model's docstring lists each hyper-parameter with the code's default,
README's Python example runs (on small synthetic data in place of the real data sets), and README's command
lines parse with the CLI's own parser."""
from __future__ import annotations

import ast
import inspect
import pathlib
import re
import shlex

import pytest

import socialrec as sr
from socialrec import cli

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
MODELS = [m.cls for m in sr.models.registry()]
_ENTRY = re.compile(r"^([A-Za-z_]\w*(?:, [A-Za-z_]\w*)*)(?: : (.*))?$")


def _parameter_entries(cls):
    """``[(names, type text or None, description)]`` of the numpydoc "Parameters" section of ``cls``."""
    doc = inspect.getdoc(cls) or ""
    match = re.search(r"^Parameters\n-+\n(.*?)(?:\n\n|\Z)", doc, re.S | re.M)
    assert match, f"{cls.__name__}'s docstring has no Parameters section"
    entries, lines = [], []
    for line in match.group(1).splitlines():  # a long list of names may wrap after a comma
        if lines and not lines[-1].startswith(" ") and lines[-1].endswith(","):
            lines[-1] += " " + line
        else:
            lines.append(line)
    for line in lines:
        if line.startswith(" "):
            assert entries, f"{cls.__name__}: description before the first parameter: {line!r}"
            entries[-1][2].append(line.strip())
            continue
        m = _ENTRY.match(line)
        assert m, f"{cls.__name__}: not a parameter line: {line!r}"
        entries.append((m.group(1).split(", "), m.group(2), []))
    return entries


def _documented_defaults(cls):
    """name -> default as the docstring states it ("name : type, default X"), following an entry without
    its own default ("a, b\\n    As in :class:`BPR`") to the class it names."""
    out = {}
    for names, type_text, description in _parameter_entries(cls):
        default = re.search(r"default (.+)$", type_text or "")
        if default:
            value = ast.literal_eval(default.group(1))
            out.update({name: value for name in names})
            continue
        ref = re.search(r":class:`(\w+)`|``(\w+)``", " ".join(description))
        assert ref, f"{cls.__name__}: {', '.join(names)} states no default and names no class that does"
        other = _documented_defaults(getattr(sr, ref.group(1) or ref.group(2)))
        for name in names:
            assert name in other, f"{cls.__name__}: {name} refers to a class that does not document it"
            out[name] = other[name]
    return out


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_docstring_lists_every_hyper_parameter_with_its_default(cls):
    documented = _documented_defaults(cls)
    code = cls._defaults
    assert sorted(documented) == sorted(code), (
        f"undocumented: {sorted(set(code) - set(documented))}, not parameters: {sorted(set(documented) - set(code))}")
    wrong = {k: (documented[k], code[k]) for k in code
             if documented[k] != code[k] or (type(documented[k]) is bool) != (type(code[k]) is bool)}
    assert not wrong, f"(docstring, code) defaults differ: {wrong}"


def _readme_block(lang, after):
    text = README.read_text(encoding="utf-8")
    start = text.index(after)
    return re.search(rf"```{lang}\n(.*?)```", text[start:], re.S).group(1)


def test_readme_python_example_runs(tmp_path, monkeypatch):
    """README's "Use" block, verbatim, with the two real data sets swapped for small synthetic ones whose raw ids
    start at 1, as FilmTrust's do (so that the example's raw ids are not indices)."""
    base = sr.datasets.synthetic(n_users=150, n_items=80, seed=0)
    (u, i, v), (src, dst, w) = base.user_item_arrays(), base.trust_arrays()
    small = sr.Dataset.from_raw(u + 1, i + 1, v, trust_src=src + 1, trust_dst=dst + 1, trust_values=w)
    paths = []
    monkeypatch.setattr(sr.datasets, "load_filmtrust", lambda path: paths.append(path) or small)
    monkeypatch.setattr(sr.datasets, "load_lastfm", lambda path: paths.append(path) or small)
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(_readme_block("python", "## Use"), str(README), "exec"), namespace)
    assert paths == ["path/to/filmtrust", "path/to/lastfm"]
    items, scores = namespace["items"], namespace["scores"]
    assert items.shape == scores.shape == (3, 10)
    assert isinstance(namespace["model"], sr.BiasedMF) and (tmp_path / "model.npz").exists()
    lo, hi = small.rating_scale
    assert set(items[:2].ravel().tolist()).isdisjoint({5, 7})  # exclude=[5, 7]: raw item ids
    prediction = namespace["model"].predict([1, 2], [5, 7])
    assert prediction.shape == (2,) and ((lo <= prediction) & (prediction <= hi)).all()


def test_readme_command_lines_parse():
    parser = cli.build_parser()
    commands = set()
    for line in _readme_block("bash", "Command line").splitlines():
        argv = shlex.split(line)
        assert argv[0] == "socialrec", line
        args = parser.parse_args(argv[1:])  # argparse exits on an unknown option
        commands.add(args.command)
    subcommands = next(a for a in parser._actions if a.dest == "command").choices
    assert commands == set(subcommands), "README's command-line block shows every subcommand once"


def test_readme_model_table_is_the_model_registry():
    """README's "Models" table has one row per registered model, in the registry's order, with its kind; and
    the sentence after it that every model has a CUDA back-end holds for every registered model."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Models"):]
    section = section[:section.index("\n## ", 1)]
    rows = re.findall(r"^\|[^|\n]+\| `(\w+)`[^|\n]*\| (\w+) \|", section, re.M)
    assert rows == [(m.name, m.kind) for m in sr.models.registry()]
    if "Every model also has a CUDA back-end" in section:
        assert [m.name for m in sr.models.registry() if not m.cuda] == []
