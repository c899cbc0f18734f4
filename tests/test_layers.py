"""The package's shape: each module in one layer, imports only downward or sideways, no cycles; ``__all__`` whole.

Imports are read from the source (lazy ones inside functions and ``TYPE_CHECKING`` ones included),
so a new upward import fails here before anyone has to notice it in a review.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import flux_widget

PACKAGE = Path(flux_widget.__file__).parent

#: From the ground up. A module may import modules of its own layer or of lower ones.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "config", "redaction", "metadata", "home_loop"),  # vocabulary, no imports of ours but errors
    ("images", "bodies"),  # untrusted bytes
    ("types", "progress_text"),  # requests, progress, Generation
    ("wire", "space_http", "client", "inference", "local_loading", "local_drawing", "local", "backends"),  # backends
    ("batch", "batch_progress", "shared", "prompt_files", "manifest", "jobs", "archive"),  # on top of any backend
    ("history", "gallery", "widget_state", "widget", "options", "runner", "entry", "magic", "provider"),  # entry points
    ("batch_jobs", "ray_engine"),  # large jobs, on the entry points' options and runner
    ("__main__", "__init__"),
)
LAYER = {module: number for number, modules in enumerate(LAYERS) for module in modules}


def imports_of(module: str) -> set[str]:
    """The package's modules that ``module`` imports, anywhere in its source."""
    found: set[str] = set()
    for node in ast.walk(ast.parse((PACKAGE / f"{module}.py").read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            names = [node.module] if node.module else [alias.name for alias in node.names]
            found.update(name.split(".")[0] for name in names)
    return found


def test_every_module_has_a_layer() -> None:
    assert sorted(path.stem for path in PACKAGE.glob("*.py")) == sorted(LAYER)


@pytest.mark.parametrize("module", sorted(LAYER))
def test_imports_go_down_or_sideways(module: str) -> None:
    upward = {imported for imported in imports_of(module) if LAYER[imported] > LAYER[module]}
    assert not upward, f"{module} (layer {LAYER[module]}) imports {sorted(upward)} from a higher layer"


def test_no_import_cycles() -> None:
    graph = {module: imports_of(module) for module in LAYER}
    visiting: list[str] = []
    done: set[str] = set()

    def visit(module: str) -> None:
        if module in visiting:
            cycle = [*visiting[visiting.index(module) :], module]
            raise AssertionError(" -> ".join(cycle))
        if module in done:
            return
        visiting.append(module)
        for imported in sorted(graph[module]):
            visit(imported)
        visiting.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)


def test_all_lists_exactly_the_lazy_public_names() -> None:
    # httpx's tests/test_exported_members.py, for a package that hands its names out lazily.
    homes = flux_widget._HOMES
    assert sorted(flux_widget.__all__) == sorted({*homes, "__version__"})
    for name, home in homes.items():
        assert getattr(flux_widget, name) is getattr(importlib.import_module(f"flux_widget.{home}"), name), name
        assert name in importlib.import_module(f"flux_widget.{home}").__all__, f"{home}.__all__ lacks {name}"
