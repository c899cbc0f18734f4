"""The widget in Notebook 7, in JupyterLab's dark theme and in a narrow window, in real Chromium."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from support.jupyter import ARTIFACTS, BROWSER_TESTS, WIDGET_CELL, jupyter_server, write_notebook
from support.notebook_page import NotebookPage, generate_and_wait, show_settings
from support.servers import received

pytestmark = BROWSER_TESTS


def rgb(css_color: str) -> tuple[int, ...]:
    """0–255 channels of ``rgb(…)``/``rgba(…)`` or of ``color(srgb r g b)`` (what color-mix computes to)."""
    if css_color.startswith("color(srgb"):
        return tuple(round(float(part) * 255) for part in css_color[len("color(srgb") :].rstrip(")").split()[:3])
    return tuple(int(part) for part in re.findall(r"\d+", css_color)[:3])


def luminance(css_color: str) -> float:
    r, g, b = rgb(css_color)
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def contrast(foreground: str, background: str) -> float:
    """The WCAG contrast ratio of two CSS colours."""

    def relative(css_color: str) -> float:
        channels = [c / 255 for c in rgb(css_color)]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((relative(foreground), relative(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("frontends")
    write_notebook(folder / "widget.ipynb", [WIDGET_CELL])
    return folder


def test_notebook_7_renders_and_generates(space: str, root: Path, chromium: Any) -> None:
    with jupyter_server(root, {"FLUX_WIDGET_SPACE": space}) as server:
        page = chromium.new_page(viewport={"width": 1100, "height": 900})
        notebook = NotebookPage(page, server)
        widget = notebook.open_widget("widget.ipynb", app="notebook")
        assert "/notebooks/widget.ipynb" in page.url
        generate_and_wait(widget, "a notebook seven cat")
        assert widget.get_by_role("img", name="a notebook seven cat").first.evaluate("i => i.naturalWidth") == 256
        page.close()


def test_dark_theme_and_narrow_cells(space: str, root: Path, chromium: Any) -> None:
    with jupyter_server(root, {"FLUX_WIDGET_SPACE": space}, theme="JupyterLab Dark") as server:
        page = chromium.new_page(viewport={"width": 1100, "height": 900})
        notebook = NotebookPage(page, server)
        widget = notebook.open_widget("widget.ipynb")
        generate_and_wait(widget, "a lantern in the dark")
        style = widget.evaluate("e => { const s = getComputedStyle(e); return [s.backgroundColor, s.color]; }")
        assert luminance(style[0]) < 0.3 and luminance(style[1]) > 0.7, style
        textarea = widget.get_by_label("Prompt", exact=True).evaluate("e => getComputedStyle(e).color")
        assert luminance(textarea) > 0.7
        ARTIFACTS.mkdir(exist_ok=True)
        widget.screenshot(path=ARTIFACTS / "widget-dark.png")
        page.screenshot(path=ARTIFACTS / "lab-dark.png")
        # An error box that belongs to the dark theme: dark background, readable text (not bright pink).
        widget.get_by_label("Prompt", exact=True).fill("[gr-error] in the dark")
        widget.get_by_role("button", name="Generate").click()
        alert = widget.get_by_role("alert")
        alert.wait_for(timeout=20_000)
        colors = alert.evaluate("e => { const s = getComputedStyle(e); return [s.backgroundColor, s.color]; }")
        assert luminance(colors[0]) < 0.2, colors
        assert contrast(colors[1], colors[0]) >= 4.5, colors
        widget.screenshot(path=ARTIFACTS / "widget-dark-error.png")
        alert.get_by_role("button", name="Dismiss error").click()
        # A narrow cell (a side-by-side view, a phone): the output area only 340 px wide.
        widget.evaluate("e => { e.parentElement.style.width = '340px'; }")
        page.wait_for_timeout(300)
        widget.screenshot(path=ARTIFACTS / "widget-narrow.png")
        overflow = widget.evaluate("e => e.scrollWidth - e.clientWidth")
        wide = widget.evaluate(
            "e => [...e.querySelectorAll('*')].filter(c => c.getBoundingClientRect().right > "
            "e.getBoundingClientRect().right + 1).map(c => c.className).slice(0, 5)"
        )
        assert overflow <= 1, f"the widget overflows a narrow cell by {overflow}px: {wide}"
        page.close()


def test_guidance_shows_for_a_dev_space_and_hides_for_schnell(
    space: str, dev_space: tuple[str, Path], tmp_path: Path, chromium: Any
) -> None:
    dev_url, dev_log = dev_space
    write_notebook(
        tmp_path / "two.ipynb",
        [
            f"from flux_widget import FluxWidget\ndev = FluxWidget({dev_url!r}, width=256, height=256, steps=2)\ndev",
            f"schnell = FluxWidget({space!r}, width=256, height=256, steps=2)\nschnell",
        ],
    )
    with jupyter_server(tmp_path, {}) as server:
        page = chromium.new_page(viewport={"width": 1100, "height": 1400})
        notebook = NotebookPage(page, server)
        dev = notebook.open_widget("two.ipynb")
        guidance = show_settings(dev).get_by_role("spinbutton", name="Guidance")
        guidance.wait_for(timeout=30_000)  # shown once the Space says it takes guidance_scale
        guidance.fill("7")
        guidance.press("Tab")
        generate_and_wait(dev, "a dev fox")
        assert "guidance 7" in dev.locator(".flux-figcaption").inner_text()
        assert received(dev_log)[-1]["guidance_scale"] == 7
        notebook.run_cell(1)
        schnell = notebook.widget(1)
        schnell.wait_for(timeout=60_000)
        generate_and_wait(schnell, "a schnell fox")
        assert show_settings(schnell).get_by_role("spinbutton", name="Guidance").count() == 0
        assert schnell.get_by_role("spinbutton", name="Steps").count() == 1
        ARTIFACTS.mkdir(exist_ok=True)
        dev.screenshot(path=ARTIFACTS / "widget-guidance.png")
        page.close()


@pytest.mark.parametrize("theme", ["JupyterLab Light", "JupyterLab Dark"])
def test_readme_scene_mid_batch(space: str, tmp_path: Path, chromium: Any, theme: str) -> None:
    """The README's screenshots, taken for real: a batch of four arriving in its grid, then the full-size view."""
    write_notebook(tmp_path / "scene.ipynb", ["from flux_widget import FluxWidget\nw = FluxWidget(steps=4)\nw"])
    with jupyter_server(tmp_path, {"FLUX_WIDGET_SPACE": space}, theme=theme) as server:
        page = chromium.new_page(viewport={"width": 1000, "height": 1100})
        widget = NotebookPage(page, server).open_widget("scene.ipynb")
        show_settings(widget).get_by_role("button", name="16:9").click()
        for prompt in ("a watercolor lighthouse at dusk", "a tiny astronaut on the moon"):
            generate_and_wait(widget, prompt)
        for name, value in (("Steps", "8"), ("Images", "4")):
            field = widget.get_by_role("spinbutton", name=name, exact=True)
            field.fill(value)
            field.press("Tab")
        widget.get_by_label("Prompt", exact=True).fill("[slow] a koi pond in the rain, ukiyo-e")
        widget.get_by_role("button", name="Generate").click()
        # Mid-batch: two done, the third under way (any step but the last: a loaded machine may skip some).
        midway = re.compile(r"^2 of 4 done · Step [1-7]\/8$")
        widget.locator(".flux-status-text", has_text=midway).wait_for(timeout=60_000)
        assert widget.get_by_role("progressbar").is_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        shade = theme.split()[-1].lower()
        widget.screenshot(path=ARTIFACTS / f"readme-{shade}.png")
        widget.get_by_role("list", name="Batch").get_by_role("button").first.click()
        page.locator("dialog[aria-busy=false]").wait_for(timeout=10_000)
        page.screenshot(path=ARTIFACTS / f"readme-full-size-{shade}.png")
        page.keyboard.press("Escape")
        cancel = widget.get_by_role("button", name="Cancel")
        if cancel.is_enabled():  # the rest of the batch need not run (it may have finished meanwhile)
            cancel.click()
        page.close()
