"""Nothing lost: a notebook saved with widget state reopens with its history, and holds no token."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import httpx
from support.jupyter import ARTIFACTS, BROWSER_TESTS, browser, jupyter_server, write_notebook
from support.notebook_page import NotebookPage, expect_count, generate_and_wait, history_items

pytestmark = BROWSER_TESTS

SECRET = "hf_" + "SavedStateSecret" * 2
STATE_MIME = "application/vnd.jupyter.widget-state+json"


def saved_flux_state(path: Path) -> dict:
    """The FluxWidget model's saved state in the notebook file, its history references resolved.

    Each history entry is a model of its own; ``history`` lists ``IPY_MODEL_<id>`` references.
    """
    models = json.loads(path.read_text())["metadata"]["widgets"][STATE_MIME]["state"]
    [flux] = [m["state"] for m in models.values() if m["model_name"] == "AnyModel" and "history" in m["state"]]
    refs = flux["history"]
    assert all(ref.startswith("IPY_MODEL_") for ref in refs), refs
    return {**flux, "history": [models[ref.removeprefix("IPY_MODEL_")]["state"] for ref in refs]}


def saved_image_bytes(path: Path) -> int:
    """The bytes of the image on show as saved in the notebook (a base64 buffer of the FluxWidget's model)."""
    models = json.loads(path.read_text())["metadata"]["widgets"][STATE_MIME]["state"]
    [flux] = [m for m in models.values() if m["model_name"] == "AnyModel" and "history" in m["state"]]
    return sum(len(base64.b64decode(b["data"])) for b in flux.get("buffers", []) if b["path"] == ["image"])


def save_and_wait(notebook: NotebookPage, path: Path, entries: int) -> int:
    """Press Ctrl+S and wait until the file on disk holds ``entries`` history entries; return its size."""
    notebook.cell(0).locator(".jp-InputPrompt").click()
    notebook.page.keyboard.press("Control+s")
    deadline = time.monotonic() + 30
    while True:
        try:
            if len(saved_flux_state(path)["history"]) == entries:
                return path.stat().st_size
        except (KeyError, ValueError):
            pass
        assert time.monotonic() < deadline, "the notebook was not saved with its widget state"
        time.sleep(0.2)


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
        page.keyboard.press("ArrowLeft")
        page.get_by_role("dialog", name="saved two").wait_for(timeout=5_000)
        dialog = page.get_by_role("dialog", name="saved two")
        dialog.get_by_role("status").filter(has_text="Asking the kernel").wait_for(timeout=3_000)
        page.locator("dialog[open][aria-busy=false]").wait_for(timeout=15_000)  # it stops waiting
        assert "needs the running kernel" in dialog.get_by_role("status").inner_text()
        shown = dialog.get_by_role("img", name="saved two").bounding_box()
        assert shown["width"] <= 2 * 128 + 1, shown  # at most twice the thumbnail's pixels, not the window
        dialog.screenshot(path=ARTIFACTS / "widget-restored-view.png")
        page.close()
