"""The saved gallery (issue 29): Settings' "Save to folder" saves each image as it arrives, and a widget
in a second notebook, and again after its kernel restarts, shows the same 20 images with their
parameters. Real JupyterLab, real files, Debian's Chromium, the keys a person presses."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.jupyter import ARTIFACTS, BROWSER_TESTS, write_notebook
from support.notebook_page import NotebookPage, expect_count, history_items, set_number, show_settings

pytestmark = BROWSER_TESTS

#: A cell that writes 100 newer images into the widget's folder, as another widget or a large job would.
NEWER = """import io
from PIL import Image
from flux_widget.types import Generation
from flux_widget.widget._gallery_folder import GalleryFolder
png = io.BytesIO()
Image.new("RGB", (8, 8), "blue").save(png, "PNG")
gallery = GalleryFolder(w.save_to)
for number in range(100):
    gallery.save(Generation(f"filler {number}", number, 8, 8, 4, "", png.getvalue(), "image/png", 1.0))"""
#: A new widget on the same folder: it shows the newest 100.
NEWEST = "newest = FluxWidget(save_to=w.save_to)\nnewest"


def labels(widget: object) -> list[str]:
    """The history thumbnails' names ("prompt (seed S, W×H)"), sorted."""
    buttons = widget.get_by_role("list", name="History").get_by_role("button")  # type: ignore[attr-defined]
    return sorted(name for name in buttons.evaluate_all("all => all.map(b => b.getAttribute('aria-label'))") if name)


@pytest.mark.cells(NEWER, NEWEST)
def test_images_saved_to_a_folder_come_back_in_another_notebook_and_after_a_restart(
    opened: NotebookPage, server: tuple[str, Path], chromium: Any
) -> None:
    url, root = server
    widget = opened.widget(0)
    folder = f"gallery-{opened.name.removesuffix('.ipynb')}"  # type: ignore[attr-defined]
    save = show_settings(widget).get_by_label("Save to folder", exact=True)
    save.fill(folder)
    save.press("Enter")
    set_number(widget, "Images", 4)
    prompt = widget.get_by_label("Prompt", exact=True)
    for number in range(5):
        prompt.fill(f"saved gallery {number}")
        prompt.press("Enter")
        expect_count(history_items(widget), 4 * (number + 1))
    made = labels(widget)
    lines = (root / folder / "manifest.jsonl").read_text().splitlines()
    assert len(made) == 20 and len(lines) == 20
    assert sorted(f"{line['prompt']} (seed {line['seed']}, 256×256)" for line in map(json.loads, lines)) == made

    # A second notebook with the same folder: the same 20 images.
    second = "second-gallery.ipynb"
    cell = f"from flux_widget import FluxWidget\nw = FluxWidget(width=256, height=256, steps=2, save_to={folder!r})\nw"
    write_notebook(root / second, [cell])
    other = NotebookPage(chromium.new_page(viewport={"width": 1100, "height": 1000}), url)
    shown = other.open_widget(second, workspace="second-gallery")
    expect_count(history_items(shown), 20)
    assert labels(shown) == made
    # Its kernel restarted and the cell run again: still the same 20.
    [session] = [s for s in httpx.get(f"{url}/api/sessions").json() if s["path"].endswith(second)]
    httpx.post(f"{url}/api/kernels/{session['kernel']['id']}/restart", timeout=60)
    other.wait_for_kernel()
    other.run_cell(0)
    restarted = other.widget(0)
    expect_count(history_items(restarted), 20)
    assert labels(restarted) == made
    ARTIFACTS.mkdir(exist_ok=True)
    restarted.screenshot(path=ARTIFACTS / "saved-gallery.png")
    other.page.close()

    # 100 newer images in the folder: a new widget shows those, and the search finds the older 20 too.
    opened.run_cell(1)
    opened.run_cell(2)
    newest = opened.widget(2)
    newest.get_by_role("list", name="History").get_by_role("button", name=re.compile(r"^filler 99 ")).wait_for()
    newest.get_by_role("searchbox", name="Search history").fill("saved gallery 3")
    found = newest.get_by_role("status").filter(has_text="4 more images in the folder")
    found.get_by_role("button", name="Show them").click()
    expect_count(history_items(newest), 4)
    assert labels(newest) == [label for label in made if label.startswith("saved gallery 3 ")]
