"""The layers hold: no import circle, Qt only in `ui/`, and the window reaches the rest only through `application`.

Every import counts, at module level, inside functions and under ``TYPE_CHECKING``: a circle "only for types"
is still two modules that cannot be read, moved or tested apart.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import artist_desktop

PACKAGE_DIR = Path(artist_desktop.__file__).parent
QT_PACKAGES = ("PySide6", "shiboken6", "qasync", "pyqtgraph")
#: What the widgets may use besides themselves: the surface, pure data and settings. Never the runtime,
#: the pipeline, the store, Redis, SSE or an HTTP client.
UI_MAY_IMPORT = (
    "artist_desktop",  # the package itself: APP_NAME, __version__
    "artist_desktop.application",
    "artist_desktop.domain",
    "artist_desktop.config",
    "artist_desktop.resources",
    "artist_desktop.connection_checks",  # Settings -> Test connection, before any runtime exists
    "artist_desktop.sources",  # the refresh's result types the dialogs show
    "artist_desktop.services",  # the API error types and SpotifyArtist the search panel shows
)
UI_MAY_NOT_IMPORT_LIBRARIES = ("httpx", "sqlalchemy", "redis", "alembic", "starlette")


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str  # the dotted name as written (a module or a module.attribute)
    line: int


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE_DIR.rglob("*.py"):
        if "migrations" in path.parts:
            continue  # Alembic loads these by path; they are not imported by the app
        parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(module: str, path: Path) -> Iterator[Import]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            for alias in node.names:
                yield Import(module, f"{base}.{alias.name}", node.lineno)


def _project_module(name: str) -> str | None:
    """The project module a dotted name lands in (``artist_desktop.store.Database`` -> ``artist_desktop.store``)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


IMPORTS = [found for module, path in MODULES.items() for found in _imports(module, path)]
GRAPH: dict[str, set[str]] = {module: set() for module in MODULES}
for found in IMPORTS:
    target = _project_module(found.imported)
    if target is not None and target != found.importer:
        GRAPH[found.importer].add(target)


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return circles


def _is_ui(module: str) -> bool:
    return module == "artist_desktop.ui" or module.startswith("artist_desktop.ui.")


def test_the_package_has_modules_to_check() -> None:
    assert {"artist_desktop.runtime", "artist_desktop.application", "artist_desktop.ui.main_window"} <= set(MODULES)


def test_no_import_circle_among_the_project_modules() -> None:
    assert _circles(GRAPH) == []


def test_the_circle_finder_sees_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _circles(graph) == [["a", "b", "c"]]


def test_only_ui_imports_qt() -> None:
    outside = [
        f"{found.importer}:{found.line} imports {found.imported}"
        for found in IMPORTS
        if not _is_ui(found.importer) and found.imported.split(".")[0] in QT_PACKAGES
    ]
    assert outside == []


def test_only_gui_joins_the_window_to_the_rest() -> None:
    """Below `ui/` nothing imports the widgets, except `gui` (which builds the window) and `cli` (which calls gui)."""
    reaching_up = sorted(
        {
            found.importer
            for found in IMPORTS
            if not _is_ui(found.importer)
            and _is_ui(_project_module(found.imported) or "")
            and found.importer != "artist_desktop.gui"
        }
    )
    assert reaching_up == []


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _is_ui(m)))
def test_ui_reaches_the_app_only_through_the_application_surface(module: str) -> None:
    wrong = []
    for found in IMPORTS:
        if found.importer != module:
            continue
        target = _project_module(found.imported)
        top = found.imported.split(".")[0]
        if target is not None and not _is_ui(target):
            allowed = any(target == ok or target.startswith(ok + ".") for ok in UI_MAY_IMPORT[1:])
            if not allowed and target != "artist_desktop":
                wrong.append(f"line {found.line}: {found.imported}")
        elif top in UI_MAY_NOT_IMPORT_LIBRARIES:
            wrong.append(f"line {found.line}: {found.imported}")
    assert wrong == []
