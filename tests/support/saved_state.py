"""Reading a notebook saved with its widget state: the FluxWidget's model, its history entries, its image."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

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


def save_and_wait(notebook: Any, path: Path, entries: int) -> int:
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
