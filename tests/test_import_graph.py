"""The project's import graph (configs, steps, pipelines) has no cycles, between modules or between folders,
and commands import no command; modules stay within 350 lines and `pipelines/` within 12 of them.

Only module-level imports count (what runs when a module is imported): imports inside functions and
`if TYPE_CHECKING:` blocks are not edges. `from a.b import c` is an edge to `a.b.c` when that is a module,
else to `a.b`; a package's own `__init__` running before its submodules is Python's order, not an edge.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("configs", "steps", "pipelines")
# Every `python -m pipelines.<command>`: the top-level modules but the package and the Python API.
COMMANDS = tuple(
    sorted(path.stem for path in (ROOT / "pipelines").glob("*.py") if path.stem not in ("__init__", "runner"))
)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _module_level(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements that run when the module is imported (class bodies run too; functions do not)."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _module_level(node.body)
            yield from _module_level(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                yield from _module_level(block)
        elif isinstance(node, ast.With | ast.ClassDef):
            yield from _module_level(node.body)


def _targets(module: str, is_package: bool, node: ast.Import | ast.ImportFrom, known: set[str]) -> set[str]:
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in known}
    base = node.module or ""
    if node.level:
        anchor = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
        base = ".".join(anchor + ([node.module] if node.module else []))
    targets = set()
    for alias in node.names:
        if f"{base}.{alias.name}" in known:
            targets.add(f"{base}.{alias.name}")
        elif base in known:
            targets.add(base)
    return targets


def import_graph() -> dict[str, set[str]]:
    """Each project module -> the project modules its module-level imports load."""
    modules = _modules()
    known = set(modules)
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), str(path))
        is_package = path.name == "__init__.py"
        graph[name] = {
            target for node in _module_level(tree.body) for target in _targets(name, is_package, node, known)
        }
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (or a module importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan; the graph is a few hundred modules, recursion is fine
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The graph between folders (packages): an edge when a module of one imports a module of another."""
    modules = _modules()

    def folder(name: str) -> str:
        return name if modules[name].name == "__init__.py" else name.rpartition(".")[0]

    folders: dict[str, set[str]] = {folder(name): set() for name in graph}
    for name, targets in graph.items():
        folders[folder(name)] |= {folder(target) for target in targets} - {folder(name)}
    return folders


def test_the_graph_sees_module_level_imports_only() -> None:
    graph = import_graph()
    # A module-level import is an edge; a TYPE_CHECKING-only one is not.
    assert "pipelines.operate.execution_api" in graph["pipelines.status"]
    assert "pipelines.define.compile" not in graph["pipelines.deploy.pipeline_api"]
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]


def test_no_import_cycles() -> None:
    assert cycles(import_graph()) == []


def test_no_cycles_between_folders() -> None:
    # Stages import earlier stages only (local -> operate -> deploy -> define -> catalog), never back.
    folders = package_graph(import_graph())
    assert "pipelines.operate" in folders["pipelines.local"]
    assert cycles(folders) == []


def test_commands_import_no_command() -> None:
    graph = import_graph()
    commands = {f"pipelines.{name}" for name in COMMANDS}
    assert {name: sorted(graph[name] & commands) for name in commands if graph[name] & commands} == {}


def test_modules_stay_small_and_the_top_level_few() -> None:
    # The house's size limits: a module a reader takes in at once, and a front room of commands.
    long = {name: n for name, path in _modules().items() if (n := len(path.read_text().splitlines())) > 350}
    assert long == {}
    top = sorted(path.name for path in (ROOT / "pipelines").glob("*.py"))
    assert len(top) <= 12, top
