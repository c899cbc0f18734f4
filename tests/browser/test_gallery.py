"""Issue 19's defects and gallery, in real JupyterLab 4 and Notebook 7 (Debian Chromium), as a person uses them.

Each test presses the keys and clicks the buttons a person would, found by role and name, and checks
what they would see: where focus is, what is announced, what the tiles show, what a download holds.
"""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from typing import Any

import pytest
from PIL import Image
from support.jupyter import ARTIFACTS, BROWSER_TESTS
from support.notebook_page import (
    NotebookPage,
    expect_count,
    focused_name,
    generate_and_wait,
    history_items,
    set_number,
    show_settings,
    wait_for,
)

pytestmark = BROWSER_TESTS


def in_widget(notebook: NotebookPage, widget: Any) -> bool:
    return widget.evaluate("w => w.contains(document.activeElement)")


def batch_of_four(widget: Any, prompt: str) -> None:
    set_number(widget, "Images", 4)
    widget.get_by_label("Prompt", exact=True).fill(prompt)
    widget.get_by_role("button", name="Generate").click()
    expect_count(widget.get_by_role("button", name=re.compile(rf"^Open \d\/4 full size: {re.escape(prompt)}")), 4)


@pytest.mark.parametrize("app", ["lab", "notebook"])
def test_focus_returns_to_the_tile_that_opened_the_view(opened: NotebookPage, app: str) -> None:
    widget = opened.widget(0)
    batch_of_four(widget, "four kites")
    tile = widget.get_by_role("button", name=re.compile(r"^Open 2\/4 full size: four kites"))
    tile.focus()
    opened.page.keyboard.press("Enter")
    dialog = opened.page.get_by_role("dialog", name="four kites")
    dialog.wait_for(timeout=10_000)
    opened.page.locator("dialog[aria-busy=false]").wait_for(timeout=10_000)  # the kernel answered
    opened.page.keyboard.press("Escape")
    dialog.wait_for(state="hidden", timeout=5_000)
    assert focused_name(opened).startswith("Open 2/4 full size: four kites"), focused_name(opened)


def test_the_same_widget_shown_twice_gives_focus_back_in_each_view(opened: NotebookPage) -> None:
    opened.cell(1).locator(".cm-content").click()
    opened.page.keyboard.press("Control+a")
    opened.page.keyboard.type("w")
    opened.page.keyboard.press("Shift+Enter")
    first, second = opened.widget(0), opened.widget(1)
    second.wait_for(timeout=30_000)
    batch_of_four(first, "two views of kites")
    for view in (second, first):
        tile = view.get_by_role("button", name=re.compile(r"^Open 3\/4 full size: two views of kites"))
        tile.focus()
        opened.page.keyboard.press("Enter")
        opened.page.locator("dialog[open][aria-busy=false]").wait_for(timeout=10_000)
        opened.page.keyboard.press("Escape")
        opened.page.locator("dialog[open]").wait_for(state="detached", timeout=5_000)
        assert tile.evaluate("b => b === document.activeElement"), focused_name(opened)


def test_removing_the_entry_on_show_shows_its_neighbour_and_undo_brings_it_back(opened: NotebookPage) -> None:
    widget = opened.widget(0)
    for prompt in ("an old mill", "a new bridge"):
        generate_and_wait(widget, prompt)
    image = widget.locator("img.flux-image")
    assert image.get_attribute("alt") == "a new bridge"
    remove = widget.get_by_role("button", name="Remove a new bridge")
    assert not remove.is_visible()  # not there to be clicked by accident
    widget.get_by_role("button", name=re.compile(r"^a new bridge \(seed")).hover()
    assert remove.is_visible()  # shown on hover (and on focus, and always on touch screens)
    remove.click()
    expect_count(history_items(widget), 1)
    wait_for(lambda: image.get_attribute("alt") == "an old mill", "the neighbour is not on show")
    assert widget.get_by_role("button", name="View full size: an old mill").is_visible()
    assert in_widget(opened, widget)  # focus stayed in the widget
    notice = widget.get_by_role("status").filter(has_text="Removed")
    assert notice.inner_text() == "Removed “a new bridge” · Undo"
    notice.get_by_role("button", name="Undo").click()
    expect_count(history_items(widget), 2)
    wait_for(lambda: image.get_attribute("alt") == "a new bridge", "the restored entry is not on show")
    assert focused_name(opened).startswith("a new bridge (seed")  # on the restored thumbnail
    # Backspace removes nothing; Delete does; removing every entry leaves the empty state.
    opened.page.keyboard.press("Backspace")
    time.sleep(0.5)
    assert history_items(widget).count() == 2
    opened.page.keyboard.press("Delete")
    expect_count(history_items(widget), 1)
    opened.page.keyboard.press("Delete")
    expect_count(history_items(widget), 0)
    assert not widget.locator("img.flux-image").is_visible()
    assert widget.get_by_text("Your image appears here").is_visible()
    assert focused_name(opened) == "" or in_widget(opened, widget)
    assert widget.get_by_label("Prompt", exact=True).evaluate("p => p === document.activeElement")


def test_a_cancelled_batch_says_so_and_leaves_no_stale_label(opened: NotebookPage) -> None:
    widget = opened.widget(0)
    set_number(widget, "Images", 4)
    set_number(widget, "Steps", 6)
    widget.get_by_label("Prompt", exact=True).fill("[slow] a batch cut short")
    widget.get_by_role("button", name="Generate").click()
    widget.locator(".flux-status-text", has_text=re.compile(r"^2 of 4 done")).wait_for(timeout=60_000)
    widget.get_by_role("button", name="Cancel").click()
    status = widget.get_by_role("status").filter(has_text="Cancelled")
    wait_for(lambda: status.count() == 1, "the cancel was not announced")
    assert status.inner_text() == "Cancelled · 2 of 4 made"
    missing = widget.get_by_role("list", name="Batch").get_by_text(re.compile(r"^\d\/4 · not made$"))
    assert missing.count() == 2
    assert widget.locator(".flux-pulsing").count() == 0  # nothing pulses as if still loading
    set_number(widget, "Images", 1)
    generate_and_wait(widget, "one after the batch")
    caption = widget.locator(".flux-caption").inner_text()
    assert caption.startswith("one after the batch\nseed "), caption
    assert "/4" not in caption
    wait_for(lambda: widget.get_by_role("status").filter(has_text="Image ready").count() == 1, "no Image ready")


def test_the_quota_box_shows_one_wait_and_generate_waits_with_retry(opened: NotebookPage) -> None:
    widget = opened.widget(0)
    room = widget.get_by_text("Your image appears here").locator("..")
    resting = room.bounding_box()["y"]
    widget.get_by_label("Prompt", exact=True).fill("[quota-for=4] a short quota")
    widget.get_by_role("button", name="Generate").click()
    alert = widget.get_by_role("alert").filter(has_text="quota")
    alert.wait_for(timeout=20_000)
    text = alert.inner_text()
    assert room.bounding_box()["y"] == resting  # issue 29, defect 8: the box is over the image's place, not above it
    assert len(re.findall(r"(?i)try again in", text)) == 1, text  # the live countdown only
    generate = widget.get_by_role("button", name="Generate")
    retry = alert.get_by_role("button", name="Retry")
    assert generate.is_disabled() and retry.is_disabled()
    note = widget.locator(".flux-wait-note")
    assert note.inner_text() == ""  # issue 29, defect 12: the wait is shown once, in the box
    alert.get_by_role("button", name="Dismiss error").click()
    alert.wait_for(state="hidden")
    assert generate.is_disabled()  # dismissed, the quota still counts: Generate still waits, and says why
    assert re.search(r"quota comes back in 0:0\d", note.inner_text())
    wait_for(lambda: generate.is_enabled(), "Generate did not come back when the quota did", seconds=10)
    assert note.inner_text() == ""
    generate.click()
    expect_count(history_items(widget), 1)


def test_reuse_seed_in_the_view_says_what_it_did_and_brings_that_image_back(opened: NotebookPage) -> None:
    widget = opened.widget(0)
    batch_of_four(widget, "four lanterns")
    tile = widget.get_by_role("button", name=re.compile(r"^Open 3\/4 full size: four lanterns \(seed (\d+)\)"))
    seed = re.search(r"seed (\d+)", tile.get_attribute("aria-label")).group(1)
    tile_bytes = tile.locator("img").evaluate(
        "async img => { await img.decode();"
        " return Array.from(new Uint8Array(await (await fetch(img.src)).arrayBuffer())); }"
    )
    tile.click()
    dialog = opened.page.get_by_role("dialog", name="four lanterns")
    dialog.wait_for(timeout=10_000)
    dialog.get_by_role("button", name="Reuse seed").click()
    said = dialog.get_by_role("status")
    wait_for(lambda: "Set: seed" in said.inner_text(), "the view did not say what Reuse seed did")
    # Issue 29, defect 10: what Reuse changed besides the image's settings is said too.
    expected = f"Set: seed {seed} · 256×256 · 2 steps · 1 image (was 4) · Randomize seed off. Generate makes it again."
    assert said.inner_text() == expected
    dialog.get_by_role("button", name="Close").click()
    widget.get_by_role("button", name="Generate").click()
    expect_count(history_items(widget), 5)
    widget.locator("img.flux-image").wait_for(timeout=10_000)
    assert widget.locator(".flux-caption").inner_text().startswith(f"four lanterns\nseed {seed} ·")
    assert opened.image_bytes(widget) == bytes(tile_bytes)  # the very image, again


def test_tiles_are_sharp_full_images_with_their_own_actions_and_download_all_zips(opened: NotebookPage) -> None:
    widget = opened.widget(0)
    set_number(widget, "Width", 768)
    set_number(widget, "Height", 512)
    batch_of_four(widget, "four sharp owls")
    tiles = widget.get_by_role("list", name="Batch").get_by_role("listitem")
    pictures = tiles.locator("img")
    full = lambda: pictures.first.evaluate("i => i.complete && i.naturalWidth") == 768  # noqa: E731
    wait_for(full, "a tile is not the full image")
    widths = [pictures.nth(i).evaluate("i => i.decode().then(() => i.naturalWidth)") for i in range(4)]
    assert widths == [768] * 4
    grid_width = widget.get_by_role("list", name="Batch").bounding_box()["width"]
    used = sum(tiles.nth(i).bounding_box()["width"] for i in range(2)) + 10
    assert used >= grid_width - 2  # two columns that use the width they have
    # Every tile's actions are reachable by keyboard.
    download = widget.get_by_role("link", name="Download 2/4")
    download.focus()
    with opened.page.expect_download() as got:
        opened.page.keyboard.press("Enter")
    assert re.fullmatch(r"flux-\d+\.webp", got.value.suggested_filename)
    for name in ("Copy image 2/4", "Reuse seed of 2/4"):
        assert widget.get_by_role("button", name=name).is_visible()
    with opened.page.expect_download() as got:
        widget.get_by_role("button", name="Download all").click()
    assert got.value.suggested_filename == "flux-images.zip"
    with zipfile.ZipFile(got.value.path()) as archive:
        names = archive.namelist()
        listing = json.loads(archive.read("parameters.json"))
        with Image.open(io.BytesIO(archive.read(names[0]))) as first:
            assert first.size == (768, 512)
    assert len(names) == 5 and [item["prompt"] for item in listing] == ["four sharp owls"] * 4
    assert [item["width"] for item in listing] == [768] * 4


def test_a_long_prompt_grows_the_box_up_to_a_limit(opened: NotebookPage) -> None:
    widget = opened.widget(0)
    prompt = widget.get_by_label("Prompt", exact=True)
    resting = prompt.bounding_box()["height"]
    prompt.fill("a very long prompt about a lighthouse on a cliff, " * 6)
    grown = prompt.bounding_box()["height"]
    assert grown > resting * 1.5
    assert prompt.evaluate("p => p.scrollHeight <= p.clientHeight + 1 && p.scrollTop === 0")  # every line shows
    prompt.fill("a very long prompt about a lighthouse on a cliff, " * 60)
    assert prompt.bounding_box()["height"] <= 230  # up to about ten lines, then it scrolls
    prompt.fill("short")
    assert abs(prompt.bounding_box()["height"] - resting) <= 2


@pytest.mark.parametrize("width", [240, 300])
def test_a_narrow_column_keeps_every_control_inside_the_card(opened: NotebookPage, width: int) -> None:
    widget = opened.widget(0)
    generate_and_wait(widget, "a narrow lighthouse with a long prompt that wraps")
    # The output area grows to fill the cell (flex-grow): a max-width makes it a narrow column.
    widget.evaluate(f"w => {{ w.closest('.jp-OutputArea-output').style.maxWidth = '{width}px'; }}")
    show_settings(widget)
    time.sleep(0.3)
    card = widget.bounding_box()
    assert card["width"] <= width + 1
    controls = widget.locator("input, textarea, button:visible, a.flux-link:visible, summary")
    for i in range(controls.count()):
        box = controls.nth(i).bounding_box()
        if box is None or box["width"] == 0:
            continue
        assert card["x"] - 1 <= box["x"] and box["x"] + box["width"] <= card["x"] + card["width"] + 1, (
            controls.nth(i).evaluate("e => e.outerHTML.slice(0, 120)"),
            box,
            card,
        )
    widget.get_by_label("Prompt", exact=True).fill("")  # the examples show again
    chips = widget.get_by_role("group", name="Examples").get_by_role("button")
    line = chips.first.evaluate("b => parseFloat(getComputedStyle(b).lineHeight) || 18")
    assert all(chips.nth(i).bounding_box()["height"] <= line + 8 for i in range(chips.count()))  # pills, not ovals
    params = widget.locator(".flux-caption-params").inner_text()
    assert params.startswith("seed "), params
    ARTIFACTS.mkdir(exist_ok=True)
    widget.screenshot(path=ARTIFACTS / f"widget-narrow-{width}.png")


def test_undo_stays_its_8_seconds_and_a_tiles_reuse_seed_says_what_it_set(opened: NotebookPage) -> None:
    widget = opened.widget(0)
    batch_of_four(widget, "four boats")
    tile = widget.get_by_role("button", name=re.compile(r"^Open 2\/4 full size: four boats \(seed (\d+)\)"))
    seed = re.search(r"seed (\d+)", tile.get_attribute("aria-label")).group(1)
    widget.get_by_role("button", name="Reuse seed of 2/4").click()
    said = widget.get_by_role("status").filter(has_text="Set: seed")
    wait_for(lambda: said.count() == 1, "the tile's Reuse seed did not say what it set", seconds=10)
    assert said.inner_text().startswith(f"Set: seed {seed} · 256×256 · "), said.inner_text()
    first = history_items(widget).first
    first.hover()
    widget.get_by_role("button", name=re.compile(r"^Remove four boats")).first.click()
    notice = widget.get_by_role("status").filter(has_text="Removed")
    notice.wait_for(timeout=5_000)
    removed = time.monotonic()
    time.sleep(max(0.0, removed + 6.5 - time.monotonic()))
    assert notice.get_by_role("button", name="Undo").is_visible()  # still there after 6.5 s of the 8
    notice.wait_for(state="detached", timeout=5_000)  # gone soon after 8 s
    assert 7.5 <= time.monotonic() - removed <= 11


@pytest.mark.cells("import asyncio\nasyncio.get_running_loop().call_later(5, w.remove, 0)")
def test_focus_returns_to_its_tile_even_when_the_tile_was_redrawn_while_the_view_was_open(
    opened: NotebookPage,
) -> None:
    widget = opened.widget(0)
    generate_and_wait(widget, "an older gull")
    batch_of_four(widget, "four gulls")
    expect_count(history_items(widget), 5)
    opened.run_cell(1)  # removes the older gull in 5 s: every tile's index moves, so each tile is drawn anew
    tile = widget.get_by_role("button", name=re.compile(r"^Open 2\/4 full size: four gulls"))
    opener = tile.element_handle()
    tile.focus()
    opened.page.keyboard.press("Enter")
    opened.page.locator("dialog[open][aria-busy=false]").wait_for(timeout=10_000)
    wait_for(lambda: not opener.evaluate("b => b.isConnected"), "the tile was not redrawn while the view was open")
    opened.page.keyboard.press("Escape")
    opened.page.locator("dialog[open]").wait_for(state="detached", timeout=5_000)
    assert focused_name(opened).startswith("Open 2/4 full size: four gulls"), focused_name(opened)


def test_a_typed_prompt_comes_back_and_delete_leaves_one_current_image_and_ctrl_z_undoes_it(
    opened: NotebookPage,
) -> None:
    """Issue 29, defect 9: after Delete the image shown, the thumbnail focused and the settings are one
    entry's (the next older, as the strip focuses it), and Undo has a key."""
    widget = opened.widget(0)
    for prompt in ("a first fern", "a second fern", "a third fern"):
        generate_and_wait(widget, prompt)
    strip = widget.get_by_role("list", name="History")
    # Defect 4: showing an entry sets its prompt; what was typed and not sent is offered back.
    prompt = widget.get_by_label("Prompt", exact=True)
    prompt.fill("a long prompt I was still writing")
    strip.get_by_role("button", name=re.compile(r"^a first fern")).focus()
    opened.page.keyboard.press("Enter")
    wait_for(lambda: prompt.input_value() == "a first fern", "the entry's prompt was not restored")
    widget.get_by_role("button", name="Put back what you typed").press("Enter")
    wait_for(lambda: prompt.input_value() == "a long prompt I was still writing", "the typed prompt was lost")
    assert prompt.evaluate("box => box === document.activeElement")  # back where the typing was
    strip.get_by_role("button", name=re.compile(r"^a second fern")).click()
    wait_for(lambda: widget.locator(".flux-caption-prompt").inner_text() == "a second fern", "not shown")
    opened.page.keyboard.press("Delete")
    expect_count(history_items(widget), 2)
    first = strip.get_by_role("button", name=re.compile(r"^a first fern"))
    seed = re.search(r"seed (\d+)", first.get_attribute("aria-label")).group(1)
    wait_for(lambda: widget.locator(".flux-caption-prompt").inner_text() == "a first fern", "the shown image differs")
    assert focused_name(opened).startswith("a first fern (seed ")
    assert widget.get_by_label("Prompt", exact=True).input_value() == "a first fern"
    wait_for(lambda: show_settings(widget).get_by_label("Seed", exact=True).input_value() == seed, "the seed differs")
    first.focus()
    opened.page.keyboard.press("Control+z")
    expect_count(history_items(widget), 3)


def test_a_batch_reads_in_its_own_order_in_the_strip_and_the_view_and_arrows_agree(opened: NotebookPage) -> None:
    """Issue 29, defect 6: one order (the batch's, then history's) and one meaning of ←/→ everywhere;
    and defect 15: a widget 1280 px wide with a batch of 4 was 1081 px tall; two rows and the history fit."""
    widget, page = opened.widget(0), opened.page
    page.set_viewport_size({"width": 1720, "height": 900})  # the notebook's file browser open: the widget ~1280 px
    set_number(widget, "Width", 1024)
    set_number(widget, "Height", 1024)
    generate_and_wait(widget, "an older kite")
    batch_of_four(widget, "four kites")
    top = widget.get_by_role("list", name="Batch").get_by_role("listitem").first.bounding_box()["y"]
    history = widget.get_by_role("list", name="History").bounding_box()
    assert history["y"] + history["height"] - top <= 900 - 40, "the second row and the history do not fit"
    ARTIFACTS.mkdir(exist_ok=True)
    widget.screenshot(path=ARTIFACTS / "widget-batch-1280.png")
    strip = widget.get_by_role("list", name="History").locator(".flux-history-button")
    labels = strip.evaluate_all("all => all.map(b => b.getAttribute('aria-label'))")
    seeds = [int(re.search(r"seed (\d+)", label).group(1)) for label in labels[:4]]
    assert all(label.startswith("four kites") for label in labels[:4]) and labels[4].startswith("an older kite")
    tiles = [widget.get_by_role("button", name=re.compile(rf"^Open {slot}\/4 full size")) for slot in range(1, 5)]
    tile_seeds = [int(re.search(r"seed (\d+)", tile.get_attribute("aria-label")).group(1)) for tile in tiles]
    assert seeds == tile_seeds  # the strip reads as the grid: 1/4, 2/4, 3/4, 4/4
    tiles[0].click()
    dialog = page.get_by_role("dialog", name="four kites")
    wait_for(lambda: dialog.locator(".flux-viewer-counter").inner_text() == "1 of 5 in history", "tile 1/4 is not 1")
    page.keyboard.press("ArrowRight")  # → : the next to the right in the strip, tile 2/4
    wait_for(lambda: f"seed {seeds[1]} " in dialog.locator(".flux-viewer-caption").inner_text(), "→ is not 2/4")
    assert dialog.locator(".flux-viewer-counter").inner_text() == "2 of 5 in history"


def test_nothing_the_user_is_about_to_click_moves(opened: NotebookPage) -> None:
    """Issue 29, defect 8: the first keystroke (the examples going), a job starting (the progress row)
    and an action's note in the full-size view move neither Generate, nor the image, nor Previous/Next."""
    widget, page = opened.widget(0), opened.page
    generate = widget.get_by_role("button", name="Generate")
    before = generate.bounding_box()
    prompt = widget.get_by_label("Prompt", exact=True)
    prompt.press("a")  # the first key: the example chips go
    assert widget.get_by_role("group", name="Examples").is_hidden()
    assert generate.bounding_box()["y"] == before["y"]
    assert widget.get_by_text("Enter generates · Shift+Enter starts a new line").is_visible()  # the room says the keys
    room = widget.get_by_text("Your image appears here").locator("..").bounding_box()
    generate_and_wait(widget, "a still lantern")
    shown = widget.locator("img.flux-image")
    first = shown.bounding_box()  # the first image takes the placeholder's place, at its size
    assert all(abs(first[side] - room[side]) <= 1 for side in ("x", "y", "width", "height")), (room, first)
    resting = first["y"]
    prompt.fill("[slow] a second still lantern")
    prompt.press("Enter")
    widget.locator(".flux-status-text", has_text="Step").wait_for(timeout=20_000)  # the progress row shows
    assert shown.bounding_box()["y"] == resting
    expect_count(history_items(widget), 2)
    page.set_viewport_size({"width": 1100, "height": 900})
    widget.get_by_role("button", name=re.compile(r"^View full size")).click()
    dialog = page.get_by_role("dialog", name="a second still lantern")
    previous = dialog.get_by_role("button", name="Next image")
    previous.wait_for(timeout=10_000)
    place = previous.bounding_box()
    dialog.get_by_role("button", name="Reuse seed").click()
    dialog.get_by_role("status").filter(has_text="Set: seed").wait_for(timeout=5_000)
    moved = previous.bounding_box()
    assert moved["y"] == place["y"] and moved["y"] + moved["height"] <= 900  # still there, still on screen


#: Two images another model made, in a folder the widget then shows (save_to): the history holds two models.
TWO_MODELS = """import io, tempfile
from PIL import Image
from flux_widget.types import Generation
from flux_widget.widget._gallery_folder import GalleryFolder
folder = tempfile.mkdtemp()
for prompt, colour in (("a dev owl", "brown"), ("a dev otter", "grey")):
    png = io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(png, "PNG")
    GalleryFolder(folder).save(Generation(prompt=prompt, seed=7, width=64, height=64, steps=28, url="",
        image_bytes=png.getvalue(), mime_type="image/png", elapsed=1.0, model="black-forest-labs/FLUX.1-dev"))
w.save_to = folder"""


@pytest.mark.cells(TWO_MODELS)
def test_search_stars_size_and_model_find_a_past_image(opened: NotebookPage) -> None:
    """Issue 29, capability 3: a search box over prompts, a star on any entry (S or its ☆) with a
    Starred filter, and size and model filters."""
    widget, page = opened.widget(0), opened.page
    opened.run_cell(1)
    expect_count(history_items(widget), 2)  # the other model's two, from the folder
    for prompt in ("a red fox", "a blue whale", "a red barn"):
        generate_and_wait(widget, prompt)
    set_number(widget, "Width", 512)
    generate_and_wait(widget, "a green frog")
    strip = widget.get_by_role("list", name="History")
    shown = lambda: [label.split(" (seed")[0] for label in strip.locator(".flux-history-button").evaluate_all(  # noqa: E731
        "all => all.map(b => b.getAttribute('aria-label'))")]  # fmt: skip
    search = widget.get_by_role("searchbox", name="Search history")
    search.fill("red")
    wait_for(lambda: shown() == ["a red barn", "a red fox"], "the search does not find the red ones")
    assert "History · 2 of 6 images" in widget.inner_text()
    search.fill("")
    strip.get_by_role("button", name=re.compile(r"^a blue whale")).focus()
    page.keyboard.press("s")  # S stars the focused image
    strip.get_by_role("button", name=re.compile(r"^a red fox")).hover()  # its ☆ shows on hover
    strip.get_by_role("button", name="Star a red fox").click()  # and stars it too
    starred = widget.get_by_role("button", name="★ Starred")
    starred.click()
    wait_for(lambda: shown() == ["a blue whale", "a red fox"], "the Starred filter is wrong")
    starred.click()
    widget.get_by_role("combobox", name="Size").select_option("512×256")
    wait_for(lambda: shown() == ["a green frog"], "the size filter is wrong")
    widget.get_by_role("combobox", name="Size").select_option("")
    widget.get_by_role("combobox", name="Model").select_option("black-forest-labs/FLUX.1-dev")
    wait_for(lambda: shown() == ["a dev otter", "a dev owl"], "the model filter is wrong")


def test_the_lightbox_zooms_pans_and_shows_actual_pixels(opened: NotebookPage) -> None:
    """Issue 29, capability 4: zoom (+/−, the wheel), 1:1 pixels, fit, and pan (arrows while zoomed, drag)."""
    widget, page = opened.widget(0), opened.page
    set_number(widget, "Width", 1024)
    set_number(widget, "Height", 1024)
    generate_and_wait(widget, "an older harbour")
    generate_and_wait(widget, "a zoomed harbour")
    widget.get_by_role("button", name="View full size: a zoomed harbour").click()
    dialog = page.get_by_role("dialog", name="a zoomed harbour")
    page.locator("dialog[open][aria-busy=false]").wait_for(timeout=10_000)  # the full image, from the kernel
    picture = dialog.get_by_role("img", name="a zoomed harbour")
    fitted = picture.bounding_box()["width"]
    assert fitted < 1024
    page.keyboard.press("1")  # actual pixels
    wait_for(lambda: abs(picture.bounding_box()["width"] - 1024) < 2, "1 does not show the image's own pixels")
    assert dialog.get_by_role("group", name="Zoom").inner_text().split()[1] == "100%"
    left = picture.bounding_box()["x"]
    page.keyboard.press("ArrowRight")  # zoomed: the arrows pan, they do not step
    wait_for(lambda: abs(picture.bounding_box()["x"] - (left - 60)) < 2, "→ did not pan")
    assert dialog.get_by_role("heading").inner_text() == "a zoomed harbour"
    box = picture.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, 300)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 40, 320)
    page.mouse.up()
    wait_for(lambda: abs(picture.bounding_box()["x"] - (box["x"] + 40)) < 2, "a drag did not pan")
    page.keyboard.press("0")  # fit
    wait_for(lambda: abs(picture.bounding_box()["width"] - fitted) < 2, "0 does not fit")
    now = picture.bounding_box()
    page.mouse.move(now["x"] + now["width"] / 2, now["y"] + now["height"] / 2)
    page.mouse.wheel(0, -100)  # the wheel zooms in
    wait_for(lambda: picture.bounding_box()["width"] > fitted * 1.2, "the wheel did not zoom")
    page.keyboard.press("0")
    page.keyboard.press("ArrowRight")  # fitted again: → steps to the next image
    page.get_by_role("dialog", name="an older harbour").wait_for(timeout=10_000)
    # Side-by-side compare of two history entries: pin this one, step to the other.
    compare = page.get_by_role("dialog", name="an older harbour").get_by_role("button", name="Compare")
    page.locator("dialog[open][aria-busy=false]").wait_for(timeout=10_000)
    compare.click()
    assert compare.get_attribute("aria-pressed") == "true"
    page.keyboard.press("ArrowLeft")  # ← chooses the other image; the pinned one stays on the left
    dialog = page.get_by_role("dialog", name="a zoomed harbour")
    pinned = dialog.get_by_role("img", name="Pinned: an older harbour")
    shown = dialog.get_by_role("img", name="a zoomed harbour")
    wait_for(
        lambda: pinned.evaluate("i => i.complete && i.naturalWidth") == 1024,
        "the pinned entry's full image is not shown",
    )
    left, right = pinned.bounding_box(), shown.bounding_box()
    assert left["x"] + left["width"] <= right["x"] and abs(left["y"] - right["y"]) < 2  # next to each other
    assert dialog.get_by_text("Left: pinned, seed").is_visible()
    dialog.screenshot(path=ARTIFACTS / "viewer-side-by-side.png")
    dialog.get_by_role("button", name="Side by side").click()  # the same two on the before/after slider
    dialog.get_by_role("slider", name="Before and after").wait_for(timeout=5_000)
    assert pinned.bounding_box()["x"] == shown.bounding_box()["x"]
    dialog.get_by_role("button", name="Compare").click()  # unpinned: the image alone
    pinned.wait_for(state="hidden", timeout=5_000)
