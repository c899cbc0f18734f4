"""axe-core finds no violation in the widget: light and dark themes, narrow and wide windows.

Checked in real JupyterLab 4 in Chromium (with ``axe-playwright-python``, which injects the
maintained axe-core build) in the states a person meets: a batch grid with history, a quota error
with its countdown, and the full-size view.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from support.jupyter import ARTIFACTS, BROWSER_TESTS, WIDGET_CELL, jupyter_server, write_notebook
from support.notebook_page import NotebookPage, expect_count, history_items, set_number

pytestmark = BROWSER_TESTS
THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}
WINDOWS = {"narrow": {"width": 480, "height": 900}, "wide": {"width": 1600, "height": 1000}}


@pytest.fixture(scope="module", params=list(THEMES))
def themed(request: pytest.FixtureRequest, space: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    root = tmp_path_factory.mktemp(f"axe-{request.param}")
    with jupyter_server(root, {"FLUX_WIDGET_SPACE": space}, theme=THEMES[request.param]) as url:
        yield request.param, url, root


def assert_no_violations(page: Any, context: str, where: str) -> None:
    results = Axe().run(page, context=context)
    assert results.violations_count == 0, f"{where}:\n{results.generate_report()}"


@pytest.mark.parametrize("window", list(WINDOWS))
def test_axe_finds_no_violation(themed: tuple[str, str, Path], chromium: Any, window: str) -> None:
    theme, url, root = themed
    name = f"axe-{window}.ipynb"
    write_notebook(root / name, [WIDGET_CELL])
    page = chromium.new_page(viewport=WINDOWS[window])
    widget = NotebookPage(page, url).open_widget(name, workspace=f"axe-{window}")
    where = f"{theme} theme, {window} window"
    # The check can fail: an image without a text alternative, put in for a moment, is found.
    page.evaluate("() => document.querySelector('.flux-widget').append(Object.assign(new Image(), {id: 'axe-probe'}))")
    assert Axe().run(page, context=".flux-widget").violations_count > 0
    page.evaluate("() => document.getElementById('axe-probe').remove()")
    # The empty widget, with its examples.
    assert_no_violations(page, ".flux-widget", f"{where}, empty")
    # A batch of two in its grid, with the history below.
    set_number(widget, "Images", 2)
    widget.get_by_label("Prompt", exact=True).fill("an accessible owl")
    widget.get_by_role("button", name="Generate").click()
    expect_count(history_items(widget), 2)
    assert_no_violations(page, ".flux-widget", f"{where}, batch")
    # A quota error with its countdown and Retry.
    widget.get_by_label("Prompt", exact=True).fill("[quota] an owl too many")
    widget.get_by_role("button", name="Generate").click()
    widget.locator(".flux-retry-text", has_text="Try again in").wait_for(timeout=20_000)
    assert_no_violations(page, ".flux-widget", f"{where}, quota error")
    # The full-size view (the error box lies over the image: dismissed first, as a person would).
    widget.get_by_role("button", name="Dismiss error").click()
    widget.get_by_role("button", name="View full size: an accessible owl").click()  # the last image, on show again
    page.locator("dialog[aria-busy=false]").wait_for(timeout=10_000)
    assert_no_violations(page, "dialog.flux-viewer", f"{where}, full-size view")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"axe-{theme}-{window}.png")
    page.close()
