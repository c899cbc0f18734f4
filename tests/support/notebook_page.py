"""Driving a notebook page in JupyterLab 4 or Notebook 7 as a person does: click, type, look."""

from __future__ import annotations

import time
from typing import Any

import httpx

WIDGET = ".flux-widget"


class NotebookPage:
    """One open notebook in a real browser page."""

    def __init__(self, page: Any, server: str) -> None:
        self.page = page
        self.server = server

    def open(self, path: str, *, app: str = "lab", workspace: str | None = None) -> None:
        """Open ``path`` in JupyterLab (``app="lab"``, in ``workspace`` if given) or Notebook 7 (``app="notebook"``)."""
        lab = f"{self.server}/lab/workspaces/{workspace}" if workspace else f"{self.server}/lab"
        url = f"{lab}/tree/{path}" if app == "lab" else f"{self.server}/notebooks/{path}"
        self.page.goto(url)
        self.page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
        self.wait_for_kernel()

    def open_widget(self, path: str, *, app: str = "lab", workspace: str | None = None) -> Any:
        """Open ``path``, run its first cell and return the flux widget it shows."""
        self.open(path, app=app, workspace=workspace)
        self.run_cell(0)
        widget = self.widget(0)
        widget.wait_for(timeout=60_000)
        return widget

    def wait_for_kernel(self, seconds: float = 60) -> None:
        """Wait until a kernel is attached to the page and idle (a Shift+Enter sent earlier is lost)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            sessions = httpx.get(f"{self.server}/api/sessions", timeout=5).json()
            kernel_idle = any((s.get("kernel") or {}).get("execution_state") == "idle" for s in sessions)
            label = self.page.evaluate(
                "() => [...document.querySelectorAll('.jp-Toolbar-kernelName, .jp-KernelName')]"
                ".map(e => e.textContent).join('|')"
            )
            attached = "No Kernel" not in label and "Connecting" not in label and label.strip() != ""
            status = self.page.evaluate(
                "() => document.querySelector('.jp-Notebook-ExecutionIndicator')?.dataset.status ?? 'idle'"
            )
            if kernel_idle and attached and status == "idle":
                return
            time.sleep(0.25)
        raise AssertionError(f"the kernel did not become ready within {seconds} s")

    def cell(self, index: int) -> Any:
        """The locator of code cell ``index``."""
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index)

    def run_cell(self, index: int) -> None:
        """Click into a cell's editor and press Shift+Enter."""
        self.cell(index).locator(".cm-content").click()
        self.page.keyboard.press("Shift+Enter")

    def widget(self, index: int = 0) -> Any:
        """The flux widget rendered in cell ``index``'s output."""
        return self.cell(index).locator(WIDGET)

    def image_bytes(self, widget: Any) -> bytes:
        """The bytes behind the widget's displayed image, as the browser holds them."""
        values = widget.locator("img.flux-image").evaluate(
            "async img => Array.from(new Uint8Array(await (await fetch(img.src)).arrayBuffer()))"
        )
        return bytes(values)


def show_settings(widget: Any) -> Any:
    """Open the widget's settings (size, steps, images, seed) if they are folded away, as a person would; the widget."""
    settings = widget.locator("details.flux-settings")
    if settings.count() and settings.evaluate("d => !d.open"):  # (a widget of before issue 19 shows them all)
        widget.get_by_text("Settings", exact=True).click()
    return widget


def set_number(widget: Any, name: str, value: int) -> None:
    """Type ``value`` into the number field ``name`` (opening the settings if need be) and leave it with Tab."""
    field = show_settings(widget).get_by_role("spinbutton", name=name, exact=True)
    field.fill(str(value))
    field.press("Tab")


def wait_for(condition: Any, message: str, seconds: float = 20.0) -> None:
    """Poll ``condition()`` until it is true; fail with ``message`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.05)


def history_items(widget: Any) -> Any:
    """The widget's history thumbnails, found as a person would: the list named "History"."""
    return widget.get_by_role("list", name="History").get_by_role("listitem")


def expect_count(locator: Any, count: int, timeout: float = 30.0) -> None:
    """Wait until ``locator`` matches exactly ``count`` elements."""
    deadline = time.monotonic() + timeout
    while locator.count() != count:
        assert time.monotonic() < deadline, f"expected {count} items, saw {locator.count()}"
        time.sleep(0.05)


def generate_and_wait(widget: Any, prompt: str) -> None:
    """Type a prompt, press Generate, and wait for its history item."""
    count = history_items(widget).count()
    widget.get_by_label("Prompt", exact=True).fill(prompt)
    widget.get_by_role("button", name="Generate").click()
    expect_count(history_items(widget), count + 1)


def focused_name(notebook: NotebookPage) -> str:
    """The accessible name (aria-label or text) of what has focus, or its tag when it has none."""
    return notebook.page.evaluate(
        "() => { const e = document.activeElement;"
        " return e?.getAttribute('aria-label') || e?.textContent || e?.tagName; }"
    )
