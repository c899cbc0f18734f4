"""Fixtures of the browser tests: a Jupyter server, Debian's Chromium, a notebook per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.jupyter import ARTIFACTS, WIDGET_CELL, browser, jupyter_server, shut_down_kernels, write_notebook
from support.notebook_page import NotebookPage


@pytest.fixture(scope="session")
def server(space: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A Jupyter server (JupyterLab 4 and Notebook 7) whose widgets use the stand-in Space: its URL and root.

    One per test process: each test opens a notebook of its own, whose kernel is shut down after it.
    """
    root = tmp_path_factory.mktemp("lab")
    with jupyter_server(root, {"FLUX_WIDGET_SPACE": space}) as url:
        yield url, root


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by playwright.

    Per module, not per session: playwright's sync API keeps an event loop running in this thread
    while it is open, and the async tests that share the test process need the thread free.
    """
    with browser() as instance:
        yield instance


@pytest.fixture
def opened(server: tuple[str, Path], chromium: Any, request: pytest.FixtureRequest) -> Iterator[NotebookPage]:
    """A notebook of its own with the widget shown in its first cell (Lab, or ``app`` when parametrized).

    Its cells are the widget's (``w``) and ``print('second cell')``, or those of ``@pytest.mark.cells(...)``
    after the widget's. With ``@pytest.mark.editing`` the widget calls the stand-in editing Space. A
    failed test leaves a screenshot of its page in ``tests/artifacts``.
    """
    url, root = server
    name = f"{request.node.name.replace('[', '-').replace(']', '')}.ipynb"
    marker = request.node.get_closest_marker("cells")
    widget_cell = WIDGET_CELL
    if request.node.get_closest_marker("editing"):
        edit_url, _ = request.getfixturevalue("edit_space")
        widget_cell = f"from flux_widget import FluxWidget\nw = FluxWidget({edit_url!r}, steps=2)\nw"
    write_notebook(root / name, [widget_cell, *(marker.args if marker else ["print('second cell')"])])
    page = chromium.new_page(viewport={"width": 1100, "height": 1000})
    notebook = NotebookPage(page, url)
    app = request.node.callspec.params.get("app", "lab") if hasattr(request.node, "callspec") else "lab"
    notebook.open_widget(name, app=app, workspace=Path(name).stem)  # its own workspace: no other notebook's tabs
    notebook.name = name  # type: ignore[attr-defined]
    yield notebook
    if getattr(request.node, "report_call", None) is not None and request.node.report_call.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"{request.node.name}.png", full_page=True)
    page.close()
    shut_down_kernels(url, name)  # the server outlives the test; its kernel need not
