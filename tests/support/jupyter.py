"""A real Jupyter server (JupyterLab 4 or Notebook 7) and Debian's Chromium, for the browser tests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat
import pytest

from support.servers import free_port, stop, wait_for_http

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).parent.parent / "artifacts"
WIDGET_CELL = "from flux_widget import FluxWidget\nw = FluxWidget(width=256, height=256, steps=2)\nw"
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def write_notebook(path: Path, cells: list[str]) -> Path:
    """Write a notebook of code cells with a kernelspec (else Lab asks which kernel, swallowing clicks)."""
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in cells],
        metadata={"kernelspec": KERNELSPEC, "language_info": {"name": "python"}},
    )
    nbformat.write(notebook, path)
    return path


@contextmanager
def jupyter_server(
    root: Path, env: dict[str, str], *, theme: str | None = None, save_widget_state: bool = False
) -> Iterator[str]:
    """Start ``jupyter lab`` on 127.0.0.1 serving ``root``; yield its base URL (Notebook 7 is at /tree)."""
    state = root.parent / f"{root.name}-jupyter"
    settings = state / "settings"
    news = settings / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True, exist_ok=True)
    (news / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    if theme:
        (news / "themes.jupyterlab-settings").write_text(json.dumps({"theme": theme}))
    if save_widget_state:
        manager = settings / "@jupyter-widgets" / "jupyterlab-manager"
        manager.mkdir(parents=True, exist_ok=True)
        (manager / "plugin.jupyterlab-settings").write_text(json.dumps({"saveState": True}))
    port = free_port()
    server_env = {
        **os.environ,
        **env,
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        # A workspace of its own: a layout saved by another run (a wide side panel) would leak in.
        "JUPYTERLAB_WORKSPACES_DIR": str(state / "workspaces"),
        "JUPYTER_PREFER_ENV_PATH": "1",
    }
    log = open(state / "jupyter.log", "wb")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--port={port}", "--ip=127.0.0.1",
            f"--ServerApp.root_dir={root}", "--IdentityProvider.token=", "--ServerApp.password=",
            "--ServerApp.disable_check_xsrf=True", "--LabApp.news_url=",
        ],
        env=server_env, stdout=log, stderr=subprocess.STDOUT, cwd=root,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/api/status", process, seconds=120)
        yield url
    finally:
        stop(process)


def shut_down_kernels(url: str, notebook: str) -> None:
    """Shut down the kernels of ``notebook``'s sessions on the Jupyter server at ``url`` (best effort)."""
    import httpx

    try:
        sessions = httpx.get(f"{url}/api/sessions", timeout=10).json()
        for session in sessions:
            if session.get("path", "").endswith(notebook):
                httpx.delete(f"{url}/api/sessions/{session['id']}", timeout=10)
    except (httpx.HTTPError, ValueError):
        pass


def chromium_available() -> bool:
    """Whether Debian's Chromium is installed."""
    return Path(CHROMIUM).exists() or shutil.which("chromium") is not None


@contextmanager
def browser(**context_options: Any) -> Iterator[Any]:
    """A headless Debian Chromium driven by playwright (never a downloaded browser build)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
            headless=True,
            args=CHROMIUM_ARGS,
        )
        try:
            yield chromium
        finally:
            chromium.close()


BROWSER_TESTS = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not chromium_available() and not os.environ.get("CI"),
        reason="Debian's chromium is not installed (apt-get install -y chromium); CI requires it",
    ),
]
