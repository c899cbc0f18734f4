"""Nothing lost: a notebook saved with widget state reopens with its history, and holds no token."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from support.jupyter import ARTIFACTS, BROWSER_TESTS, browser, jupyter_server, write_notebook
from support.notebook_page import NotebookPage, expect_count, generate_and_wait, history_items
from support.saved_state import save_and_wait, saved_flux_state, saved_image_bytes

pytestmark = BROWSER_TESTS

SECRET = "hf_" + "SavedStateSecret" * 2


def test_saved_notebook_reopens_with_its_history_and_no_token(textured_space: str, tmp_path: Path) -> None:
    path = write_notebook(
        tmp_path / "saved.ipynb",
        ["from flux_widget import FluxWidget\nw = FluxWidget(width=1024, height=1024, steps=1)\nw"],
    )
    # Photo-like files (100–250 KB WebPs at 1024²), so the thumbnails weigh what real ones do.
    env = {"FLUX_WIDGET_SPACE": textured_space, "HF_TOKEN": SECRET}
    with jupyter_server(tmp_path, env, save_widget_state=True) as server, browser() as chromium:
        page = chromium.new_page(viewport={"width": 1200, "height": 1000})
        notebook = NotebookPage(page, server)
        widget = notebook.open_widget("saved.ipynb")
        generate_and_wait(widget, "saved one")
        save_and_wait(notebook, path, 1)
        generate_and_wait(widget, "saved two")
        generate_and_wait(widget, "saved three")
        save_and_wait(notebook, path, 3)

        text = path.read_text()
        assert SECRET not in text and "token" not in json.dumps(saved_flux_state(path)).lower()
        state = saved_flux_state(path)
        assert [entry["prompt"] for entry in state["history"]] == ["saved one", "saved two", "saved three"]
        assert all(entry["thumbnail"].startswith("data:image/webp;base64,") for entry in state["history"])
        growth = len(json.dumps(state["history"])) / 3
        current = saved_image_bytes(path)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "saved-state-growth.txt").write_text(
            f"{growth:.0f} bytes per history entry (1024x1024); the image on show: {current} bytes\n"
        )
        assert growth <= 12_000, f"the saved notebook grows {growth:.0f} B per entry"

        # Reopen with the kernel gone: the history comes back from the saved state alone.
        for session in httpx.get(f"{server}/api/sessions").json():
            httpx.delete(f"{server}/api/sessions/{session['id']}")
        page.close()
        page = chromium.new_page(viewport={"width": 1200, "height": 1000})
        page.goto(f"{server}/lab/tree/saved.ipynb")
        restored = page.locator(".jp-Notebook .jp-Cell").first.locator(".flux-widget")
        restored.wait_for(timeout=60_000)
        expect_count(history_items(restored), 3)
        thumbnails = history_items(restored).locator("img")
        assert thumbnails.first.get_attribute("alt") == "saved three"
        restored.screenshot(path=ARTIFACTS / "widget-restored.png")
        # 128 px: the strip shows 64 CSS pixels, sharp on a 2x screen.
        widths = [thumbnails.nth(i).evaluate("img => img.decode().then(() => img.naturalWidth)") for i in range(3)]
        assert widths == [128, 128, 128]

        # The full-size view: the image on show is saved whole, so it shows at once; another entry's
        # full image is the kernel's to give, so the view says why it shows the thumbnail instead.
        restored.get_by_role("button", name="View full size: saved three").click()
        dialog = page.get_by_role("dialog", name="saved three")
        dialog.wait_for(timeout=10_000)
        page.locator("dialog[open][aria-busy=false]").wait_for(timeout=2_000)
        whole = dialog.get_by_role("img", name="saved three")
        assert whole.evaluate("i => i.decode().then(() => i.naturalWidth)") == 1024
        assert dialog.locator(".flux-viewer-note").inner_text() == ""  # nothing to explain
        page.keyboard.press("ArrowRight")  # the next in the strip: older
        page.get_by_role("dialog", name="saved two").wait_for(timeout=5_000)
        dialog = page.get_by_role("dialog", name="saved two")
        dialog.get_by_role("status").filter(has_text="Asking the kernel").wait_for(timeout=3_000)
        page.locator("dialog[open][aria-busy=false]").wait_for(timeout=15_000)  # it stops waiting
        assert "needs the running kernel" in dialog.get_by_role("status").inner_text()
        shown = dialog.get_by_role("img", name="saved two").bounding_box()
        assert shown["width"] <= 2 * 128 + 1, shown  # at most twice the thumbnail's pixels, not the window
        dialog.screenshot(path=ARTIFACTS / "widget-restored-view.png")
        page.close()
