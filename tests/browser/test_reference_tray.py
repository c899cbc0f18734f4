"""The reference tray in real JupyterLab (issue 28): pick, drop, paste, remove, the limit, Edit this, an edit.

The widget calls the stand-in Kontext Space, which returns its input with red inverted, so the image
on show proves which pixels went up. Every control is found by role and name and used with the keys
a person presses.
"""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from support.jupyter import ARTIFACTS, BROWSER_TESTS
from support.notebook_page import NotebookPage, expect_count, history_items, wait_for
from support.standin_edit_space import edited

pytestmark = [*BROWSER_TESTS, pytest.mark.editing]


def picture(colour: tuple[int, int, int]) -> Image.Image:
    image = Image.new("RGB", (96, 64), colour)
    image.paste((250, 250, 250), (8, 8, 40, 24))
    return image


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


#: Tray changes arrive within a second or two; a broken one fails in 10 s, not the helpers' 30.
def tray(widget: Any) -> Any:
    return widget.get_by_role("list", name="Reference images").get_by_role("listitem")


def give_files(page: Any, target: Any, event: str, name: str, data: bytes) -> None:
    """Drop (``drop``) or paste (``paste``) one PNG file on ``target``, as the browser hands it over."""
    encoded = base64.b64encode(data).decode("ascii")
    page.evaluate(
        """([element, event, name, encoded]) => {
            const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
            const files = new DataTransfer();
            files.items.add(new File([bytes], name, { type: "image/png" }));
            const made = event === "paste"
              ? new ClipboardEvent("paste", { clipboardData: files, bubbles: true, cancelable: true })
              : new DragEvent("drop", { dataTransfer: files, bubbles: true, cancelable: true });
            element.dispatchEvent(made);
        }""",
        [target.element_handle(), event, name, encoded],
    )


def test_pick_remove_drop_paste_the_limit_and_an_edit_of_exactly_those_pixels(
    opened: NotebookPage, tmp_path: Path
) -> None:
    widget, page = opened.widget(0), opened.page
    count = widget.locator(".flux-tray-count")
    wait_for(lambda: count.inner_text() == "0 of 1", "the tray does not show the Space's limit", seconds=10)
    source = tmp_path / "street.png"
    source.write_bytes(png(picture((20, 120, 200))))
    add = widget.get_by_role("button", name="Add image…")
    with page.expect_file_chooser(timeout=10_000) as chooser:
        add.press("Enter")  # focus, then the key a person presses
    chooser.value.set_files(str(source))
    expect_count(tray(widget), 1, timeout=10)
    assert tray(widget).first.get_by_role("img").get_attribute("alt") == "street.png"
    assert count.inner_text() == "1 of 1" and add.is_disabled()  # full: Kontext takes one
    widget.get_by_role("button", name="Remove reference 1 · street.png").press("Enter")
    expect_count(tray(widget), 0, timeout=10)
    give_files(page, widget, "drop", "dropped.png", png(picture((200, 200, 20))))
    expect_count(tray(widget), 1, timeout=10)
    widget.get_by_role("button", name="Remove reference 1 · dropped.png").click()
    expect_count(tray(widget), 0, timeout=10)
    prompt = widget.get_by_label("Prompt", exact=True)
    give_files(page, prompt, "paste", "pasted.png", png(picture((40, 220, 90))))
    expect_count(tray(widget), 1, timeout=10)
    prompt.fill("make it red")
    prompt.press("Enter")
    widget.locator("img.flux-image").wait_for(timeout=30_000)
    expect_count(history_items(widget), 1)
    ARTIFACTS.mkdir(exist_ok=True)
    widget.screenshot(path=ARTIFACTS / "widget-tray.png")
    shown = Image.open(io.BytesIO(opened.image_bytes(widget))).convert("RGB")
    assert np.array_equal(np.asarray(shown), np.asarray(edited(picture((40, 220, 90)))))
    # An error keeps the tray, the prompt and the history.
    prompt.fill("[gr-error] make it blue")
    prompt.press("Enter")
    wait_for(lambda: "safety checker" in widget.inner_text(), "the Space's error is not shown")
    assert tray(widget).count() == 1 and prompt.input_value() == "[gr-error] make it blue"
    assert history_items(widget).count() == 1


def test_edit_this_puts_the_image_on_show_into_the_tray(opened: NotebookPage) -> None:
    widget = opened.widget(0)
    prompt = widget.get_by_label("Prompt", exact=True)
    prompt.fill("a first picture")
    prompt.press("Enter")
    widget.locator("img.flux-image").wait_for(timeout=30_000)
    widget.locator(".flux-result-actions").get_by_role("button", name="Edit this").press("Enter")
    expect_count(tray(widget), 1, timeout=10)
    assert re.fullmatch(r"1 · image 1", tray(widget).first.inner_text().strip().splitlines()[0])
    assert widget.get_by_role("status").filter(has_text="Added to the reference images").count() == 1
