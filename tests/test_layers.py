"""The subpackages of lla form layers (docs/design.md, "Map"): a module may import from its own
layer and the layers below, never from above, and no two modules import each other, directly or
through others.  Imports inside functions count too (a lazy import is still a dependency)."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "lla"

#: lowest first; a top-level module or subpackage of lla per entry
LAYERS = [
    {"errors", "_version", "_atomic", "_progress", "_threads", "_metadata", "_memory", "params",
     "distributed"},
    {"data", "_kernels", "datasets"},
    {"evaluation", "interpret"},
    {"nn"},
    {"inference"},
    {"base", "prediction", "topics"},
    {"models"},
    {"report", "compare"},
    {"cli", "__init__", "__main__"},
]


def _layer(unit):
    for i, layer in enumerate(LAYERS):
        if unit in layer:
            return i
    raise AssertionError(f"lla.{unit} is in no layer of tests/test_layers.py: place it")


def _module_name(path):
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path):
    """Fully qualified lla modules imported by the file at ``path``."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "lla")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] != "lla":
                continue
            # `from . import x` / `from .pkg import mod`: x may be a module
            for alias in node.names:
                candidate = f"{module}.{alias.name}"
                found.add(candidate if _exists(candidate) else module)
    return found


def _exists(module):
    rel = Path(*module.split(".")[1:])
    return (SRC / rel).with_suffix(".py").exists() or (SRC / rel / "__init__.py").exists()


def _graph():
    graph = {}
    for path in sorted(SRC.rglob("*.py")):
        graph[_module_name(path)] = {m for m in _imports(path) if _exists(m)}
    return graph


def _unit(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_import_goes_down_or_sideways():
    bad = []
    for module, imported in _graph().items():
        for other in imported:
            if _layer(_unit(other)) > _layer(_unit(module)):
                bad.append(f"{module} imports {other}")
    assert not bad, "imports against the layers:\n" + "\n".join(sorted(bad))


def test_no_import_cycles():
    graph = _graph()
    # the package's own __init__ files re-export their modules: edges into a package's
    # __init__ from its own modules would be cycles by construction, so they are not edges
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v):  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


@pytest.mark.parametrize("unit", sorted({_unit(m) for m in _graph()}))
def test_every_unit_has_a_layer(unit):
    _layer(unit)
