"""An edit in the history (issue 28): it keeps its inputs, Reuse puts them back, a before/after slider
compares it with its input, and a saved notebook grows little per edit.

Real JupyterLab saving widget state, the stand-in Kontext Space (its output is the input with red
inverted, so a pixel says which image is on screen), Debian's Chromium, the keys a person presses.
"""

from __future__ import annotations

import base64
import io
import json
import random
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from support.jupyter import ARTIFACTS, BROWSER_TESTS, browser, jupyter_server, write_notebook
from support.notebook_page import NotebookPage, expect_count, generate_and_wait, history_items, set_number, wait_for
from support.saved_state import save_and_wait, saved_flux_state

pytestmark = [*BROWSER_TESTS, pytest.mark.editing]

GREEN = (40, 220, 90)


def photo(path: Path) -> Path:
    """A 1024×768 green PNG with grain, so its thumbnails weigh what a photo's do."""
    width, height = 1024, 768
    grain = Image.frombytes("L", (width, height), random.Random(5).randbytes(width * height)).convert("RGB")
    Image.blend(Image.new("RGB", (width, height), GREEN), grain, 0.12).save(path)
    return path


def red_at(frame: Any, across: float) -> int:
    """The red of the pixel ``across`` of the way over the middle row of ``frame``, as the screen shows it."""
    shot = Image.open(io.BytesIO(frame.screenshot())).convert("RGB")
    return shot.getpixel((int(shot.width * across), shot.height // 2))[0]


def tray(widget: Any) -> Any:
    return widget.get_by_role("list", name="Reference images").get_by_role("listitem")


def test_an_edit_keeps_its_inputs_compares_by_slider_reuses_them_and_saves_small(
    edit_space: tuple[str, Path], tmp_path: Path
) -> None:
    edit_url, _ = edit_space
    source = photo(tmp_path / "photo.png")
    cell = f"from flux_widget import FluxWidget\nw = FluxWidget({edit_url!r})\nw.add_image({str(source)!r})\nw"
    path = write_notebook(tmp_path / "edits.ipynb", [cell])
    with jupyter_server(tmp_path, {}, save_widget_state=True) as server, browser() as chromium:
        page = chromium.new_page(viewport={"width": 1200, "height": 1000})
        notebook = NotebookPage(page, server)
        widget = notebook.open_widget("edits.ipynb")
        expect_count(tray(widget), 1, timeout=10)
        # Kontext takes no size (an edit has its input's) and has its own steps: the settings say so.
        steps = widget.get_by_label("Steps", exact=True)
        wait_for(lambda: steps.input_value() == "28", "the Space's own steps are not adopted", seconds=10)
        assert widget.get_by_label("Width", exact=True).is_hidden()
        assert "input's size · 28 steps" in widget.locator("summary").first.inner_text()
        generate_and_wait(widget, "make it red")
        generate_and_wait(widget, "make it redder")

        # Saved: each entry carries its inputs' hashes and thumbnails, and stays small.
        save_and_wait(notebook, path, 2)
        entries = saved_flux_state(path)["history"]
        assert [len(entry["inputs"]) for entry in entries] == [1, 1]
        assert all(entry["inputs"][0].startswith("data:image/webp;base64,") for entry in entries)
        assert entries[0]["images"][0]["width"] == 1024 and len(entries[0]["images"][0]["sha256"]) == 64
        growth = len(json.dumps(entries)) / 2
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "saved-edit-growth.txt").write_text(f"{growth:.0f} bytes per history entry with one input\n")
        assert growth <= 12_000, f"the saved notebook grows {growth:.0f} B per edit"

        # The full-size view compares the edit with its input: End shows the input, Home the edit.
        widget.get_by_role("button", name="View full size: make it redder").click()
        dialog = page.get_by_role("dialog", name="make it redder")
        slider = dialog.get_by_role("slider", name="Before and after")
        slider.wait_for(timeout=10_000)
        assert dialog.get_by_role("group", name="Made from 1 image").get_by_role("img").count() == 1
        frame = dialog.locator(".flux-compare-frame")
        slider.press("End")
        wait_for(lambda: red_at(frame, 0.75) < 100, "End does not show the input (before)", seconds=5)
        slider.press("Home")
        wait_for(lambda: red_at(frame, 0.25) > 150, "Home does not show the edit (after)", seconds=5)
        for _ in range(10):
            slider.press("ArrowRight")  # ten steps of 5 %: half and half
        assert slider.get_attribute("aria-valuetext") == "50% before, 50% after"
        assert red_at(frame, 0.25) < 100 and red_at(frame, 0.75) > 150
        # The arrows moved the slider, not the view through the history.
        assert dialog.locator(".flux-viewer-counter").inner_text() == "1 of 2 in history"
        dialog.screenshot(path=ARTIFACTS / "viewer-before-after.png")
        page.keyboard.press("Escape")

        # Reuse: the entry's input goes back into an emptied tray.
        widget.get_by_role("button", name="Remove reference 1 · photo.png").press("Enter")
        expect_count(tray(widget), 0, timeout=10)
        widget.locator(".flux-result-actions").get_by_role("button", name="Reuse seed").press("Enter")
        expect_count(tray(widget), 1, timeout=10)
        assert tray(widget).first.get_by_role("img").get_attribute("alt") == "input 1"
        said = widget.get_by_role("status").all_inner_texts()
        assert any("its 1 input image in the tray" in text for text in said), said
        expect_count(history_items(widget), 2)
        page.close()


def test_edit_this_from_a_batch_tile_and_from_an_older_entry_in_the_full_size_view(opened: NotebookPage) -> None:
    """Issue 28: Edit this on any grid tile, and on any history entry (through the full-size view)."""
    widget, page = opened.widget(0), opened.page
    source = widget.get_by_role("button", name="Add image…")
    wait_for(lambda: widget.locator(".flux-tray-count").inner_text() == "0 of 1", "the limit is not shown", seconds=10)
    give = "([element, encoded]) => { const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));"
    give += " const files = new DataTransfer(); files.items.add(new File([bytes], 'start.png', { type: 'image/png' }));"
    give += " element.dispatchEvent(new DragEvent('drop', { dataTransfer: files, bubbles: true, cancelable: true })); }"
    start = io.BytesIO()
    Image.new("RGB", (64, 48), GREEN).save(start, format="PNG")
    page.evaluate(give, [widget.element_handle(), base64.b64encode(start.getvalue()).decode("ascii")])
    expect_count(tray(widget), 1, timeout=10)
    assert source.is_disabled()  # full: Kontext takes one
    set_number(widget, "Images", 2)
    widget.get_by_label("Prompt", exact=True).fill("two edits")
    widget.get_by_role("button", name="Generate").click()
    expect_count(history_items(widget), 2)
    widget.get_by_role("button", name="Remove reference 1 · start.png").press("Enter")
    expect_count(tray(widget), 0, timeout=10)
    widget.get_by_role("button", name="Edit this 2/2").press("Enter")  # a tile's
    expect_count(tray(widget), 1, timeout=10)
    assert tray(widget).first.get_by_role("img").get_attribute("alt") == "image 2"
    widget.get_by_role("button", name=re.compile(r"^Remove reference 1")).press("Enter")
    expect_count(tray(widget), 0, timeout=10)
    widget.get_by_role("button", name="Open 1/2 full size", exact=False).click()
    dialog = page.get_by_role("dialog", name="two edits")
    dialog.wait_for(timeout=10_000)
    page.keyboard.press("ArrowRight")  # the other entry, in the strip's order
    wait_for(lambda: dialog.locator(".flux-viewer-counter").inner_text() == "2 of 2 in history", "not the other one")
    dialog.get_by_role("button", name="Edit this").press("Enter")  # that history entry's
    expect_count(tray(widget), 1, timeout=10)
    assert tray(widget).first.get_by_role("img").get_attribute("alt") == "image 2"
