"""marimo: ``marimo run`` of the example app, headless, in real Chromium; Generate shows the Space's image."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from support.jupyter import ARTIFACTS, BROWSER_TESTS
from support.notebook_page import set_number, show_settings
from support.picture import mean_difference, render_picture
from support.servers import serving

pytestmark = BROWSER_TESTS
APP = Path(__file__).parents[2] / "notebooks" / "marimo_flux.py"


@pytest.fixture(scope="module")
def marimo_app(space: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The example app served by ``marimo run`` (the widget uses the stand-in Space)."""
    home = tmp_path_factory.mktemp("marimo")
    env = {"FLUX_WIDGET_SPACE": space, "HOME": str(home), "XDG_CONFIG_HOME": str(home)}
    command = [sys.executable, "-m", "marimo", "run", str(APP), "--headless", "--host", "127.0.0.1", "--port", "{port}",
               "--no-token"]  # fmt: skip
    with serving(command, env, home) as url:
        yield url


def test_marimo_app_shows_the_widget_and_generates(marimo_app: str, chromium: Any) -> None:
    page = chromium.new_page(viewport={"width": 1000, "height": 1000})
    page.goto(marimo_app)
    widget = page.locator(".flux-widget")
    widget.wait_for(timeout=60_000)
    steps = show_settings(widget).get_by_role("spinbutton", name="Steps", exact=True)
    for name, value in (("Width", "256"), ("Height", "256"), ("Steps", "1")):
        field = widget.get_by_role("spinbutton", name=name, exact=True)
        field.fill(value)
        field.press("Tab")
    assert steps.input_value() == "1"
    widget.get_by_label("Prompt", exact=True).fill("a marimo heron")
    widget.get_by_role("button", name="Generate").click()
    caption = widget.locator(".flux-figcaption")
    caption.filter(has_text="a marimo heron").wait_for(timeout=30_000)
    seed = int(caption.inner_text().split("seed ")[1].split(" ")[0])
    shown = bytes(
        widget.locator("img.flux-image").evaluate(
            "async img => Array.from(new Uint8Array(await (await fetch(img.src)).arrayBuffer()))"
        )
    )
    assert mean_difference(Image.open(io.BytesIO(shown)), render_picture("a marimo heron", seed, 256, 256)) < 6
    assert widget.get_by_role("list", name="History").get_by_role("listitem").count() == 1
    # The reactive cell below re-ran with the controls as set in the browser.
    page.get_by_text("Next: a marimo heron at 256×256").wait_for(timeout=20_000)
    # A batch of two, as in JupyterLab: a grid whose tiles open the full-size view.
    set_number(widget, "Images", 2)
    widget.get_by_role("button", name="Generate").click()
    tiles = widget.get_by_role("list", name="Batch").get_by_role("button")
    tiles.nth(1).wait_for(timeout=30_000)
    tiles.first.click()
    page.get_by_role("dialog", name="a marimo heron").wait_for(timeout=10_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "marimo.png")
    page.keyboard.press("Escape")
    page.get_by_role("dialog").wait_for(state="hidden", timeout=5_000)
    page.close()
