"""Voila: a notebook with the widget served as an app by ``voila`` (its code hidden), in real Chromium.

Voila runs the notebook in a kernel of its own and shows only the outputs; the widget must render
there from its bundled module, generate on that kernel's loop, and show the Space's own image.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator

import pytest
from PIL import Image
from support.jupyter import ARTIFACTS, BROWSER_TESTS, browser, write_notebook
from support.notebook_page import expect_count, history_items, show_settings
from support.picture import mean_difference, render_picture
from support.servers import serving

pytestmark = BROWSER_TESTS
APP_CELLS = [
    "from flux_widget import FluxWidget\nw = FluxWidget(width=256, height=256, steps=2)\nw",
]


@pytest.fixture(scope="module")
def voila_app(space: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``voila app.ipynb`` on 127.0.0.1 (the widget uses the stand-in Space): its URL."""
    home = tmp_path_factory.mktemp("voila")
    write_notebook(home / "app.ipynb", APP_CELLS)
    command = [sys.executable, "-m", "voila", "app.ipynb", "--no-browser", "--port={port}", "--Voila.ip=127.0.0.1"]
    with serving(command, {"FLUX_WIDGET_SPACE": space, "JUPYTER_PREFER_ENV_PATH": "1"}, home) as url:
        yield url


def test_voila_renders_the_widget_and_generates(voila_app: str) -> None:
    with browser() as chromium:
        page = chromium.new_page(viewport={"width": 1100, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(voila_app)
        widget = page.locator(".flux-widget")
        widget.wait_for(timeout=90_000)
        assert page.get_by_text("FluxWidget(width=256").count() == 0  # the code is hidden, as Voila does
        steps = show_settings(widget).get_by_role("spinbutton", name="Steps", exact=True)
        assert steps.input_value() == "2"
        widget.get_by_label("Prompt", exact=True).fill("a voila lantern")
        widget.get_by_role("button", name="Generate").click()
        expect_count(history_items(widget), 1, timeout=60)
        image = widget.get_by_role("img", name="a voila lantern").first
        image.wait_for(timeout=10_000)
        data = image.evaluate("async img => Array.from(new Uint8Array(await (await fetch(img.src)).arrayBuffer()))")
        seed = int(widget.locator(".flux-caption-params").inner_text().split()[1])
        shown = Image.open(io.BytesIO(bytes(data)))
        assert mean_difference(shown, render_picture("a voila lantern", seed, 256, 256)) < 6  # the Space's picture
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / "voila.png")
        assert not errors, errors
