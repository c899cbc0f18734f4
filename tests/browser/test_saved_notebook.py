"""Nothing lost: a notebook saved with widget state reopens with its history, and holds no token."""

from __future__ import annotations

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


def test_saved_notebook_reopens_with_its_history_and_no_token(space: str, tmp_path: Path) -> None:
    path = write_notebook(
        tmp_path / "saved.ipynb",
        ["from flux_widget import FluxWidget\nw = FluxWidget(width=1024, height=1024, steps=1)\nw"],
    )
    env = {"FLUX_WIDGET_SPACE": space, "HF_TOKEN": SECRET}
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
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "saved-state-growth.txt").write_text(f"{growth:.0f} bytes per history entry (1024x1024)\n")
        assert growth <= 30_000, f"the saved notebook grows {growth:.0f} B per entry"

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
        widths = [thumbnails.nth(i).evaluate("img => img.decode().then(() => img.naturalWidth)") for i in range(3)]
        assert widths == [256, 256, 256]
        page.close()
