"""socialrec.reference is an independent executable specification (ARCHITECTURE-REVIEW C1, DESIGN §5): it
shares no code with what it checks. Two ways: its imports (read from the source), and a run of every model's
reference fit with the rest of socialrec unimportable."""
from __future__ import annotations

import ast
import importlib.util
import json
import math
import pathlib
import subprocess
import sys
import sysconfig
import textwrap

import socialrec as sr

REFERENCE = pathlib.Path(sr.__file__).parent / "reference"
ALLOWED_TOP = {"numpy", "scipy"}


def _imports(path):
    """(line, module, level) of every import statement of a source file (level > 0: relative)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, 0
        elif isinstance(node, ast.ImportFrom):
            yield node.lineno, node.module or "", node.level


def _is_stdlib(top):
    names = getattr(sys, "stdlib_module_names", None)  # Python 3.10+
    if names is not None:
        return top in names
    found = importlib.util.find_spec(top)
    if found is None or found.origin is None:
        return False
    if found.origin in ("built-in", "frozen"):
        return True
    return found.origin.startswith(sysconfig.get_paths()["stdlib"]) and "site-packages" not in found.origin


def _outside(module, level):
    """Why an import leaves the allowed set (stdlib, numpy, scipy, the reference itself), or None."""
    if level == 1:
        return None  # from . import x / from ._x import y: the reference's own modules
    if level > 1:
        return "relative import above socialrec.reference"
    top = module.split(".")[0]
    if top in ALLOWED_TOP or _is_stdlib(top):
        return None
    if module == "socialrec.reference" or module.startswith("socialrec.reference."):
        return None
    return f"{top} is not the standard library, numpy or scipy"


def test_reference_modules_import_only_stdlib_numpy_scipy_and_themselves():
    files = sorted(REFERENCE.glob("*.py"))
    assert len(files) > 10
    bad = [f"{p.name}:{line} imports {'.' * level}{module} ({why})"
           for p in files for line, module, level in _imports(p)
           if (why := _outside(module, level)) is not None]
    assert not bad, "socialrec.reference must stay a leaf:\n" + "\n".join(bad)


# A child process loads python/socialrec/reference as a standalone package named ``spec_only`` while every
# ``socialrec`` import raises, and fits every model the reference specifies from its hyper-parameters alone.
_CHILD = textwrap.dedent("""
    import importlib.abc, importlib.util, json, math, sys
    import numpy as np
    import scipy.sparse as sp

    class Blocked(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "socialrec" or name.startswith("socialrec."):
                raise ImportError(f"blocked: {name}")
            return None

    sys.meta_path.insert(0, Blocked())
    root, hyper = sys.argv[1], json.loads(sys.argv[2])
    spec = importlib.util.spec_from_file_location("spec_only", root + "/__init__.py",
                                                  submodule_search_locations=[root])
    ref = importlib.util.module_from_spec(spec)
    sys.modules["spec_only"] = ref
    spec.loader.exec_module(ref)

    class Data:  # duck-typed, no socialrec.Dataset: 12 users (the last has no ratings), 9 items, trust edges
        rng = np.random.default_rng(1)
        dense = np.where(rng.random((12, 9)) < 0.4, rng.integers(1, 6, size=(12, 9)), 0).astype(np.float32)
        dense[-1] = 0
        dense[0, 0], dense[1, 1] = 1, 5
        ratings = sp.csr_matrix(dense)
        links = (rng.random((12, 12)) < 0.25) & ~np.eye(12, dtype=bool)
        trust = sp.csr_matrix(links.astype(np.float32))
        rating_scale = (1.0, 5.0)

    out = {"specified": sorted(ref.specified())}
    for name in out["specified"]:
        params = ref.fit(name, Data, hyper=hyper[name])
        finite = all(np.all(np.isfinite(np.asarray(v, dtype=np.float64))) for v in params.values())
        loss = ref.loss(name, Data, params=params, hyper=hyper[name])
        grad = ref.gradient(name, Data, params=params, hyper=hyper[name])
        finite_grad = all(np.all(np.isfinite(g)) for g in grad.values())
        out[name] = {"keys": sorted(params), "finite": bool(finite), "loss": loss, "finite_grad": bool(finite_grad)}
    out["loaded"] = sorted(m for m in sys.modules if m == "socialrec" or m.startswith("socialrec."))
    print(json.dumps(out))
""")


def _hyper(name):
    """A small set-up of model class ``name``: its get_params() with 3 factors and 2 epochs."""
    model = getattr(sr, name)(factors=3, epochs=2, seed=0, num_threads=1, dtype="float64")
    return model.get_params()


def test_every_reference_fit_runs_without_the_rest_of_socialrec():
    from socialrec.reference import specified

    names = sorted(specified())
    assert {"BiasedMF", "SVDpp", "TrustSVD", "SoRec", "SocialMF", "SoReg", "RSTE", "TrustMF", "BPR", "SBPR",
            "ALS", "SocialALS"} <= set(names)
    hyper = {name: _hyper(name) for name in names}
    run = subprocess.run([sys.executable, "-c", _CHILD, str(REFERENCE), json.dumps(hyper)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout)
    assert out["loaded"] == []
    assert out["specified"] == names
    for name in names:
        model = getattr(sr, name)(**hyper[name])
        result = out[name]
        assert result["finite"] and result["finite_grad"], name
        assert math.isfinite(result["loss"]) and result["loss"] >= 0, name
        # the same keys as the fitted model's parameters_
        assert result["keys"] == sorted(model.fit(sr.datasets.synthetic(n_users=12, n_items=9, seed=0))
                                        .parameters_), name
