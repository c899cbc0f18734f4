"""Starting and stopping the real servers the tests and benchmarks use."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

SUPPORT = Path(__file__).parent
#: On the path of a server run as a script, so that it imports ``support.…`` as the tests do.
TESTS = SUPPORT.parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, process: subprocess.Popen[bytes], seconds: float = 180.0) -> None:
    """Poll ``url`` until it answers (200, or 401 from an app with a login), failing early if ``process`` died."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering {url}")
        try:
            if httpx.get(url, timeout=2).status_code in (200, 401):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


@contextmanager
def serving(command: list[str], env: dict[str, str], cwd: Path, *, seconds: float = 180.0) -> Iterator[str]:
    """Run ``command`` (a web app that takes ``{port}`` in its arguments) on a free port of 127.0.0.1.

    Yields its URL once it answers; its output goes to ``cwd / "server.log"``; it is stopped after the block.
    """
    port = free_port()
    log = open(cwd / "server.log", "wb")
    process = subprocess.Popen(
        [part.format(port=port) for part in command],
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=cwd,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url, process, seconds=seconds)
        yield url
    finally:
        stop(process)
        log.close()


@contextmanager
def running_standin(tmp: Path, *extra: str, script: str = "standin_space.py") -> Iterator[str]:
    """A stand-in Space (see :func:`start_standin`) for the ``with`` block; its URL."""
    process, url = start_standin(tmp, *extra, script=script)
    try:
        yield url
    finally:
        stop(process)


def start_standin(tmp: Path, *extra: str, script: str = "standin_space.py") -> tuple[subprocess.Popen[bytes], str]:
    """Start a stand-in Space (``support/standin_space.py`` by default) on a free port; return the process and URL.

    Calls the app logs (``standin_variants.py``) go to ``tmp / "calls.jsonl"``.
    """
    port = free_port()
    env = {
        **os.environ,
        "GRADIO_TEMP_DIR": str(tmp / "gradio"),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "PYTHONPATH": str(TESTS),
        "STANDIN_CALLS": str(tmp / "calls.jsonl"),
        "STANDIN_REQUESTS": str(tmp / "requests.jsonl"),  # where a stand-in notes requests, if it does
    }
    log = open(tmp / f"standin-{port}.log", "wb")
    process = subprocess.Popen(
        [sys.executable, str(SUPPORT / script), "--port", str(port), *extra],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/config", process)
    except Exception:
        process.kill()
        raise
    return process, url


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate a server process and wait for it."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


def received(tmp: Path) -> list[dict[str, object]]:
    """What a stand-in variant app received (its calls log in ``tmp``), one dict per call."""
    return [json.loads(line) for line in (tmp / "calls.jsonl").read_text().splitlines()]


@contextmanager
def served(make_app: Callable[[int], Any]) -> Iterator[str]:
    """Serve the ASGI app ``make_app(port)`` with uvicorn in a thread on a free port; yield its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(make_app(port), host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


async def next_job_on(space: str) -> tuple[int | None, float]:
    """Run one quick job on ``space`` with a client of its own: the queue rank it first got, and seconds it took.

    On the one-slot stand-in, rank 0 and a short wait prove that nothing before it still holds the slot.
    """
    from flux_widget import FluxClient
    from flux_widget.types import Queued

    ranks: list[int] = []
    begin = time.monotonic()
    async with FluxClient(space) as client:
        await client.generate(
            "next in line", width=256, height=256, steps=1,
            on_progress=lambda event: ranks.append(event.rank) if isinstance(event, Queued) else None,
        )  # fmt: skip
    return (ranks[0] if ranks else None), time.monotonic() - begin
