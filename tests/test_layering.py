"""The Python package is layered: its import graph (read from the AST, imports inside functions included) has
no cycle, and imports inside functions are kept for the optional compiled CUDA module and the like, not used to
hide a cycle (ARCHITECTURE-REVIEW C5)."""
import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "python" / "socialrec"
# Intra-package imports inside functions (compiled modules and the package itself included). Today two: _backend
# imports the optional compiled _cuda on first use, cli imports socialrec on first use.
MAX_FUNCTION_LEVEL = 2


def import_graph():
    """``{module: {imported package module, ...}}`` over the package's .py modules, and the places
    (``path:line``) of the intra-package imports written inside functions."""
    modules = {".".join(f.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): f
               for f in PACKAGE.rglob("*.py")}
    graph, lazy = {m: set() for m in modules}, []
    for module, path in modules.items():
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        for node, in_function in _walk(ast.parse(path.read_text()), False):
            if isinstance(node, ast.ImportFrom):
                stem = ".".join(package[:len(package) - node.level + 1] + [node.module or ""]).strip(".") \
                    if node.level else node.module
                targets = [stem] + [f"{stem}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            # importing its own package (``from .. import x``) is no edge: the package's __init__ runs first
            found = {t for t in targets if t in modules and t != module and not module.startswith(t + ".")}
            graph[module] |= found
            if in_function and any(t == "socialrec" or t.startswith("socialrec.") for t in targets):
                lazy.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    return graph, lazy


def _walk(node, in_function):
    """Every node below ``node``, with whether it sits inside a function (at any depth of blocks)."""
    for child in ast.iter_child_nodes(node):
        yield child, in_function
        yield from _walk(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)))


def cycle(graph):
    """One import cycle as a list of modules, or None (depth-first search for a back edge)."""
    state, path = {}, []

    def visit(m):
        state[m] = "open"
        path.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == "open":
                return path[path.index(n):] + [n]
            if n not in state and (found := visit(n)):
                return found
        state[m] = "done"
        path.pop()
        return None

    return next((c for m in sorted(graph) if m not in state and (c := visit(m))), None)


def test_no_import_cycle():
    graph, _ = import_graph()
    assert len(graph) > 30 and graph["socialrec.metrics"], "the graph was not read"
    found = cycle(graph)
    assert found is None, "import cycle: " + " -> ".join(found)


def test_few_imports_inside_functions():
    _, lazy = import_graph()
    assert len(lazy) <= MAX_FUNCTION_LEVEL, f"{len(lazy)} intra-package imports inside functions: {lazy}"
