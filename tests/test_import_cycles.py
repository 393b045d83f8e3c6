"""The package's import graph, read from the source: no run-time cycles, and a kernel side that
never reaches the server side.

Every ``import`` counts, at module level and inside functions (a function-level import still runs,
later); imports under ``if TYPE_CHECKING:`` do not. ``from pkg import name`` is an edge to
``pkg.name`` when that is a module, else to ``pkg``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = "jupyter_spaces"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE
KERNEL = f"{PACKAGE}.kernel"

# What the kernel side must never load: it talks to the server over HTTP only.
SERVER = (
    "agent_panes",
    "app",
    "cli",
    "handlers",
    "host",
    "manager",
    "plan",
    "safefs",
    "services",
    "registry",
    "usage",
    "restore",
    "sessions",
    "snapshots",
    "store",
    "trust",
)

# Cycles allowed for now, each a sorted tuple of its modules: none.
ALLOWED: set[tuple[str, ...]] = set()


def module_names() -> dict[str, Path]:
    names = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


MODULES = module_names()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(node: ast.AST, top: bool) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Import statements under ``node``, each with whether it runs at import time."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            yield from (x for n in child.orelse for x in _imports_in(n, top))
            continue
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, top
        inner = top and not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        yield from _imports(child, inner)


def _imports_in(node: ast.AST, top: bool) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node, top
    yield from _imports(node, top)


def _base(module: str, level: int) -> str:
    """The package a relative import of ``level`` dots starts from, inside ``module``."""
    is_package = MODULES[module].name == "__init__.py"
    parts = module.split(".")
    drop = level - 1 if is_package else level
    return ".".join(parts[: len(parts) - drop])


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The dotted names an import statement loads (in the package or not)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    base = node.module or ""
    if node.level:
        prefix = _base(module, node.level)
        base = f"{prefix}.{base}" if base else prefix
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]


def edges(module: str, *, top_only: bool = False) -> set[str]:
    """Modules of the package that ``module`` imports."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    out: set[str] = set()
    for node, top in _imports(tree, True):
        if top_only and not top:
            continue
        for target in _targets(module, node):
            # ``import a.b.c`` of a name inside a module: the longest module prefix.
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != module:
                out.add(target)
    return out


GRAPH = {m: edges(m) for m in MODULES}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
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
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_graph_sees_the_package() -> None:
    assert f"{KERNEL}.magics" in MODULES
    assert f"{KERNEL}.client" in GRAPH[f"{KERNEL}.magics"]
    # A function-level import is an edge too.
    assert f"{KERNEL}.magics" in GRAPH[PACKAGE]


def test_every_import_of_the_package_resolves() -> None:
    """A moved module leaves no import of its old place (the graph would miss that edge)."""
    broken = []
    for module, path in MODULES.items():
        for node, _ in _imports(ast.parse(path.read_text(encoding="utf-8")), True):
            for target in _targets(module, node):
                if target.split(".")[0] == PACKAGE and target not in MODULES:
                    broken.append(f"{module}: {target}")
    broken = sorted(set(broken))
    assert not broken, "imports of modules that do not exist:\n" + "\n".join(broken)


def test_no_import_cycles() -> None:
    found = [c for c in cycles(GRAPH) if tuple(c) not in ALLOWED]
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def _server(module: str) -> bool:
    return any(module == f"{PACKAGE}.{s}" or module.startswith(f"{PACKAGE}.{s}.") for s in SERVER)


def test_kernel_side_imports_no_server_module() -> None:
    """Everything a kernel may load, following imports and the packages each import runs.

    A package's ``__init__`` runs on the import of any of its modules, so its module-level
    imports count; its functions (the server's and IPython's entry points) are not kernel code.
    """
    start = [m for m in MODULES if m == KERNEL or m.startswith(f"{KERNEL}.")]
    seen: dict[str, str] = {m: m for m in start}  # module -> how it was reached
    todo = list(start)
    while todo:
        m = todo.pop()
        reached = set(GRAPH[m]) if m.startswith(KERNEL) or m not in _packages() else set()
        if m in _packages():
            reached |= edges(m, top_only=True)
        parts = m.split(".")
        reached |= {".".join(parts[:i]) for i in range(1, len(parts))}
        for t in reached - seen.keys():
            seen[t] = f"{seen[m]} -> {t}"
            todo.append(t)
    bad = sorted(seen[m] for m in seen if _server(m))
    assert not bad, "the kernel side reaches the server side:\n" + "\n".join(bad)


def _packages() -> set[str]:
    return {m for m, p in MODULES.items() if p.name == "__init__.py"}


def test_services_never_import_the_app_or_the_handlers() -> None:
    """Settings reach the services as a plain SpacesSettings; they never read the app."""
    for module, targets in GRAPH.items():
        if module == f"{PACKAGE}.manager" or module.startswith(f"{PACKAGE}.services"):
            assert not targets & {f"{PACKAGE}.app", f"{PACKAGE}.handlers"}, module
    assert f"{PACKAGE}.services.panes" in GRAPH[f"{PACKAGE}.manager"]  # the graph does look
