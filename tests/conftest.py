"""Shared fixtures: a real Gradio stand-in Space started once per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter import ARTIFACTS, WIDGET_CELL, browser, jupyter_server, write_notebook
from notebook_page import NotebookPage
from servers import start_standin, stop


@pytest.fixture(scope="session")
def space(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a real Gradio stand-in Space (one job at a time, like the hosted one)."""
    process, url = start_standin(tmp_path_factory.mktemp("standin"))
    yield url
    stop(process)


@pytest.fixture(scope="session")
def dev_space(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A real FLUX.1-dev-like Gradio Space (``guidance_scale`` too): its URL and the folder of its calls log."""
    tmp = tmp_path_factory.mktemp("dev")
    process, url = start_standin(tmp, "--variant", "dev", script="standin_variants.py")
    yield url, tmp
    stop(process)


@pytest.fixture
def space_env(space: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point ``FLUX_WIDGET_SPACE`` at the stand-in and drop any ``HF_TOKEN`` from the environment."""
    monkeypatch.setenv("FLUX_WIDGET_SPACE", space)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    return space


@pytest.fixture
def in_kernel(space_env: str, tmp_path: Path) -> Any:
    """Run cells in a fresh kernel after ``%load_ext flux_widget`` (the Space: the stand-in); their outputs."""
    from kernel import run_cells

    return lambda *cells: run_cells(["%load_ext flux_widget", *cells], tmp_path)


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio, the loop Jupyter kernels use."""
    return "asyncio"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the test item, so fixtures can tell whether the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


# ---------------------------------------------------------------- a notebook per test, in real Chromium


@pytest.fixture(scope="module")
def server(space: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A Jupyter server (JupyterLab 4 and Notebook 7) whose widgets use the stand-in Space: its URL and root."""
    root = tmp_path_factory.mktemp("lab")
    with jupyter_server(root, {"FLUX_WIDGET_SPACE": space}) as url:
        yield url, root


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by playwright."""
    with browser() as instance:
        yield instance


@pytest.fixture
def opened(server: tuple[str, Path], chromium: Any, request: pytest.FixtureRequest) -> Iterator[NotebookPage]:
    """A notebook of its own with the widget shown in its first cell (Lab, or ``app`` when parametrized).

    Its cells are the widget's (``w``) and ``print('second cell')``, or those of ``@pytest.mark.cells(...)``
    after the widget's. A failed test leaves a screenshot of its page in ``tests/artifacts``.
    """
    url, root = server
    name = f"{request.node.name.replace('[', '-').replace(']', '')}.ipynb"
    marker = request.node.get_closest_marker("cells")
    write_notebook(root / name, [WIDGET_CELL, *(marker.args if marker else ["print('second cell')"])])
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
