"""Issue 11's features in real JupyterLab 4 and Notebook 7 (Debian Chromium), used as a person would.

Batches with a grid while they arrive, the full-size view, the quota countdown with Retry, and the
history's "more to scroll" shading: found by role and name, driven by clicks and keys.
"""

from __future__ import annotations

import io
import re
import time
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect
from support.journal import Journal
from support.jupyter import ARTIFACTS, BROWSER_TESTS
from support.notebook_page import (
    NotebookPage,
    expect_count,
    generate_and_wait,
    history_items,
    set_number,
    wait_for,
)
from support.servers import next_job_on

from flux_widget._runner import run_sync

pytestmark = BROWSER_TESTS



def batch_tiles(widget: Any) -> Any:
    return widget.get_by_role("list", name="Batch").get_by_role("listitem")


def scroll_top(notebook: NotebookPage) -> float:
    """How far the notebook's own scroller is scrolled (Lab and Notebook 7 alike)."""
    return notebook.page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('.jp-WindowedPanel-outer, .jp-Notebook')]"
        ".map(e => e.scrollTop))"
    )


def test_a_batch_shows_as_a_grid_while_it_arrives_and_each_enters_the_history(opened: NotebookPage) -> None:
    widget = opened.widget(0)
    set_number(widget, "Images", 4)
    set_number(widget, "Steps", 3)
    widget.get_by_label("Prompt", exact=True).fill("[slow] four paper boats")
    widget.get_by_role("button", name="Generate").click()
    status = widget.locator(".flux-status-text")
    status.filter(has_text=re.compile(r"^[1-3] of 4 done · Step \d\/3$")).wait_for(timeout=30_000)
    # While it arrives: some tiles are images that open full size, the rest are waiting.
    assert widget.get_by_role("list", name="Batch").get_by_text(re.compile(r"\d\/4 · waiting…")).count() >= 1
    expect_count(widget.get_by_role("button", name=re.compile(r"^Open \d\/4 full size: \[slow\] four paper boats")), 4)
    expect_count(history_items(widget), 4)
    captions = batch_tiles(widget).all_inner_texts()
    assert [c.split(" · ")[0] for c in captions] == ["1/4", "2/4", "3/4", "4/4"]
    assert widget.get_by_role("button", name="Generate").is_enabled()
    ARTIFACTS.mkdir(exist_ok=True)
    widget.screenshot(path=ARTIFACTS / "widget-batch.png")


def test_cancel_from_the_browser_frees_the_space_of_the_whole_batch(
    opened: NotebookPage, space: str, journal: Journal
) -> None:
    widget = opened.widget(0)
    set_number(widget, "Images", 4)
    set_number(widget, "Steps", 12)
    widget.get_by_label("Prompt", exact=True).fill("[slow] a batch to stop")
    widget.get_by_role("button", name="Generate").click()
    widget.locator(".flux-status-text", has_text=re.compile(r"0 of 4 done · Step [1-9]")).wait_for(timeout=30_000)
    widget.get_by_role("button", name="Cancel").click()
    widget.get_by_role("button", name="Generate").wait_for(state="visible")
    opened.page.wait_for_function("() => !document.querySelector('.flux-generate').disabled", timeout=10_000)

    joined = journal.joins("a batch to stop")
    assert len(joined) == 2 and len(journal.wait_for_cancels("a batch to stop", 2)) == 2  # both told to stop
    rank, waited = run_sync(lambda: next_job_on(space))
    assert rank == 0 and waited < 4, (rank, waited)  # the one-slot Space is free at once
    assert history_items(widget).count() == 0
    assert widget.get_by_role("list", name="Batch").count() == 0  # no grid of empty places is left behind


@pytest.mark.parametrize("app", ["lab", "notebook"])
def test_full_size_view_opens_steps_through_history_and_closes(opened: NotebookPage, app: str) -> None:
    widget = opened.widget(0)
    for prompt in ("a first lighthouse", "a second lighthouse", "a third lighthouse"):
        generate_and_wait(widget, prompt)
    page = opened.page
    before = scroll_top(opened)
    opener = widget.get_by_role("button", name="View full size: a third lighthouse")
    opener.focus()
    opener_element = opener.element_handle()  # its name follows the image on show, which the arrows change
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="a third lighthouse")
    dialog.wait_for(timeout=10_000)
    image = dialog.get_by_role("img", name="a third lighthouse")
    box, viewport = image.bounding_box(), page.viewport_size
    shot = Image.open(io.BytesIO(page.screenshot()))
    assert max(shot.getpixel((8, viewport["height"] // 2))) < 90  # the page around the view is shaded
    assert box["width"] > 256 and box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"]  # fitted, not 256
    assert re.fullmatch(
        r"a third lighthouse\nseed \d+ · 256×256 · 2 steps · \d+\.\d s",  # the parameters on a line of their own
        dialog.locator(".flux-viewer-caption").inner_text(),
    )
    assert dialog.get_by_text("1 of 3 in history").is_visible()  # the strip's order: the newest first
    for name in ("Download", "Copy image", "Reuse seed"):
        assert dialog.get_by_role("link" if name == "Download" else "button", name=name).is_visible()
    page.keyboard.press("ArrowRight")  # → as in the strip: the next to the right, older
    page.get_by_role("dialog", name="a second lighthouse").wait_for(timeout=10_000)
    page.keyboard.press("ArrowRight")
    page.get_by_role("dialog", name="a first lighthouse").wait_for(timeout=10_000)
    assert page.get_by_role("dialog").get_by_role("button", name="Next image").is_disabled()
    page.keyboard.press("ArrowLeft")
    page.get_by_role("dialog", name="a second lighthouse").wait_for(timeout=10_000)
    page.locator("dialog[aria-busy=false]").wait_for(timeout=10_000)  # its full image has arrived
    if app == "lab":
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / "widget-full-size.png")
    page.keyboard.press("Escape")
    page.get_by_role("dialog").wait_for(state="hidden", timeout=5_000)
    assert opener_element.evaluate("b => b === document.activeElement")  # focus back where it was
    # Looking through the history in the view leaves the widget's own image as it was.
    expect(widget.locator(".flux-image-button")).to_have_attribute("aria-label", "View full size: a third lighthouse")
    assert abs(scroll_top(opened) - before) <= 1  # the notebook did not jump
    assert widget.get_by_label("Prompt", exact=True).input_value() == "a third lighthouse"  # the form is untouched
    # A click opens it too; the batch grid's tiles do as well (see the batch test).
    opener_element.click()
    page.get_by_role("dialog", name=re.compile("lighthouse")).get_by_role("button", name="Close").click()
    page.get_by_role("dialog").wait_for(state="hidden", timeout=5_000)


@pytest.mark.cells("import time\nw.retry_at = time.time() + 3")
def test_quota_error_counts_down_then_offers_retry(opened: NotebookPage) -> None:
    widget = opened.widget(0)
    widget.get_by_label("Prompt", exact=True).fill("[quota] too much")
    widget.get_by_role("button", name="Generate").click()
    alert = widget.get_by_role("alert").filter(has_text="quota")
    alert.wait_for(timeout=20_000)
    countdown = alert.locator(".flux-retry-text")
    first = countdown.inner_text()
    assert re.fullmatch(r"Try again in 12:3[0-4]", first), first  # the Space said "Try again in 0:12:34"
    retry = alert.get_by_role("button", name="Retry")
    assert retry.is_disabled()
    time.sleep(1.2)
    assert countdown.inner_text() != first  # live
    opened.run_cell(1)  # the wait ends in 3 s (the kernel moves retry_at, as a real quota reset would)
    alert.get_by_text("You can try again now.").wait_for(timeout=10_000)
    assert retry.is_enabled()
    widget.get_by_label("Prompt", exact=True).fill("within quota again")
    retry.click()
    expect_count(history_items(widget), 1)
    assert widget.get_by_role("alert").filter(has_text="quota").count() == 0


@pytest.mark.cells("for i in range(14):\n    await w.generate(f'strip {i}')")
def test_history_strip_shows_there_is_more_to_scroll(opened: NotebookPage) -> None:
    widget = opened.widget(0)
    opened.run_cell(1)
    expect_count(history_items(widget), 14, timeout=60)
    strip = widget.locator(".flux-history-scroller")
    widget.evaluate("e => { e.parentElement.style.width = '500px'; }")
    opened.page.wait_for_function(
        "() => document.querySelector('.flux-history-scroller').classList.contains('flux-more-after')", timeout=5_000
    )
    assert "flux-more-before" not in strip.get_attribute("class")
    shade = "e => getComputedStyle(e, '::after').opacity"
    wait_for(lambda: strip.evaluate(shade) == "1", "no shade says there is more", seconds=5)  # once faded in
    # Keys move through the strip and it scrolls along; at the end the shading is on the other side.
    widget.get_by_role("list", name="History").get_by_role("button").first.focus()
    opened.page.keyboard.press("End")
    opened.page.wait_for_function(
        "() => { const c = document.querySelector('.flux-history-scroller').classList;"
        " return c.contains('flux-more-before') && !c.contains('flux-more-after'); }",
        timeout=5_000,
    )
    ARTIFACTS.mkdir(exist_ok=True)
    widget.screenshot(path=ARTIFACTS / "widget-history-scroll.png")
