"""No import cycles at run time: the services and the app import each other in one direction.

Every import in the package counts, at module level or deferred inside a function, except those
under ``if TYPE_CHECKING:`` and the entry points of the package's ``__init__`` (functions that
jupyter-server and IPython call once everything is imported).
"""

from __future__ import annotations

import ast
from pathlib import Path

import jupyter_spaces

PACKAGE = Path(jupyter_spaces.__file__).parent
# The kernel side's own cycle, being taken apart on its own branch (issue 12, client half).
KNOWN: set[frozenset[str]] = {frozenset({"jupyter_spaces.magics", "jupyter_spaces.widgets"})}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ["jupyter_spaces", *path.relative_to(PACKAGE).with_suffix("").parts]
        if "labextension" in parts:
            continue
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for other in child.orelse:
                    visit(other)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package[: len(package) - child.level + 1]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                for alias in child.names:
                    sub = f"{target}.{alias.name}"
                    found.add(sub if sub in modules else target)
            elif isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif name == "jupyter_spaces" and isinstance(child, ast.FunctionDef):
                continue  # entry points, called after the package is imported
            else:
                visit(child)

    visit(ast.parse(path.read_text()))
    return {m for m in found if m in modules and m != name}


def _cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[frozenset[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(frozenset(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return out


def test_no_import_cycles() -> None:
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert "jupyter_spaces.services.panes" in graph["jupyter_spaces.manager"]  # it does look
    assert [sorted(c) for c in _cycles(graph) if c not in KNOWN] == []


def test_services_never_import_the_app_or_the_handlers() -> None:
    modules = _modules()
    for name, path in modules.items():
        if name == "jupyter_spaces.manager" or name.startswith("jupyter_spaces.services"):
            imported = _imports(name, path, modules)
            assert not imported & {"jupyter_spaces.app", "jupyter_spaces.handlers"}, name
