"""The package's shape: its parts as sub-packages, each module in one layer, imports only downward or sideways,
no cycles; ``__all__`` whole.

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

#: From the ground up, by dotted name below ``flux_widget``. A module may import modules of its own
#: layer or of lower ones.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "_parameters", "_config", "_redaction", "_metadata", "_home_loop"),  # vocabulary: the parameter table
    ("_images", "_bodies"),  # untrusted bytes
    ("_inputs",),  # reference images, checked
    ("types", "_progress_text"),  # requests, progress, Generation
    (  # backends
        "backends.space._wire",
        "backends.space._address",
        "backends.space._http",
        "backends.space._client",
        "backends._inference",
        "backends.local._loading",
        "backends.local._drawing",
        "backends.local._backend",
        "backends.base",
        "backends._count",
        "backends._cache",
    ),
    ("folders._folder", "folders._manifest", "folders._lock", "folders._remote"),  # output: folders, addresses
    (  # on top of any backend: the parts' own pieces
        "jobs._prompt_files",
        "jobs._engine",
        "widget._archive",
        "widget._progress",
        "widget._history",
        "widget._gallery_folder",
        "widget._messages",
        "notebook._gallery",
    ),
    # entry points
    (
        "_options",
        "_runner",
        "_generate",
        "provider",
        "widget._state",
        "widget._actions",
        "widget._saving",
        "widget._references",
        "widget._queue",
        "widget._widget",
    ),
    ("notebook._magic", "jobs._run", "jobs._ray"),  # the magics and large jobs, on the entry points
    ("__main__", "__init__"),
)
LAYER = {module: number for number, modules in enumerate(LAYERS) for module in modules}
#: The sub-packages and what none of their modules may import.
PARTS = {
    "backends": ("jobs", "widget", "notebook", "folders"),
    "folders": ("backends", "jobs", "widget", "notebook"),
    "jobs": ("widget", "notebook"),
    "widget": ("jobs", "notebook"),
}


def module_names() -> list[str]:
    """Every module of the package as a dotted name below ``flux_widget`` (sub-packages' ``__init__`` left out)."""
    names = []
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__" and len(parts) > 1:
            continue
        names.append(".".join(parts))
    return names


def imports_of(module: str) -> set[str]:
    """The package's modules that ``module`` imports, anywhere in its source, as dotted names."""
    found: set[str] = set()
    package = module.split(".")[:-1]
    known = set(module_names())
    for node in ast.walk(ast.parse((PACKAGE / f"{module.replace('.', '/')}.py").read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - (node.level - 1)] + (node.module.split(".") if node.module else [])
            for alias in node.names:
                candidate = ".".join([*base, alias.name])
                found.add(candidate if candidate in known else ".".join(base))
    return found


def test_every_module_has_a_layer() -> None:
    assert sorted(module_names()) == sorted(LAYER)


def test_sub_packages_have_only_a_docstring() -> None:
    # Importing a part's module never drags in the part's other modules (light imports stay light).
    for init in PACKAGE.glob("*/**/__init__.py"):
        tree = ast.parse(init.read_text())
        assert len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr), init


@pytest.mark.parametrize("module", sorted(LAYER))
def test_imports_go_down_or_sideways(module: str) -> None:
    imported = imports_of(module)
    unknown = imported - set(LAYER)
    assert not unknown, f"{module} imports {sorted(unknown)}, which are no modules of the package"
    upward = {name for name in imported if LAYER[name] > LAYER[module]}
    assert not upward, f"{module} (layer {LAYER[module]}) imports {sorted(upward)} from a higher layer"


@pytest.mark.parametrize("part", sorted(PARTS))
def test_parts_stay_apart(part: str) -> None:
    for module in (name for name in LAYER if name.startswith(f"{part}.")):
        crossing = {name for name in imports_of(module) if name.split(".")[0] in PARTS[part]}
        assert not crossing, f"{module} imports {sorted(crossing)}"


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
