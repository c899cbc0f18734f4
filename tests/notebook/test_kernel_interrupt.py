"""The notebook's Stop button (a kernel interrupt) in a real ipykernel cancels the job on the Space."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from jupyter_client.manager import start_new_kernel
from support.misbehaving import Seen

LEFT_OVER_TASKS = (
    "import asyncio\n"
    "await asyncio.sleep(0.5)\n"
    "print([t.get_coro().__qualname__ for t in asyncio.all_tasks() if 'flux_widget' in repr(t.get_coro())])"
)


@pytest.fixture(scope="module")
def kernel() -> Iterator[tuple[Any, Any]]:
    manager, client = start_new_kernel(kernel_name="python3")
    yield manager, client
    client.stop_channels()
    manager.shutdown_kernel(now=True)


def reply_and_stdout(client: Any, msg_id: str, timeout: float = 60) -> tuple[dict[str, Any], str]:
    """Wait for the cell's reply and collect what it printed."""
    reply = client.get_shell_msg(timeout=timeout)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = client.get_shell_msg(timeout=timeout)
    printed = []
    while True:
        message = client.get_iopub_msg(timeout=timeout)
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        if message["msg_type"] == "stream" and message["content"]["name"] == "stdout":
            printed.append(message["content"]["text"])
        if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
            return reply["content"], "".join(printed)


@pytest.mark.parametrize(
    "cell",
    [
        "import flux_widget\nflux_widget.generate('stopped', space='{url}', width=256, height=256)",
        "%load_ext flux_widget\n%flux stopped --space {url} --width 256 --height 256",
    ],
    ids=["generate", "magic"],
)
def test_stop_button_cancels_the_job_and_leaves_nothing_running(
    kernel: tuple[Any, Any], bad_space: tuple[str, Seen], cell: str
) -> None:
    manager, client = kernel
    base, seen = bad_space
    streams_before, cancels_before = len(seen.paths("/hold/gradio_api/queue/data")), len(seen.cancelled("hold"))
    msg_id = client.execute(cell.format(url=f"{base}/hold"))
    deadline = time.monotonic() + 30
    while len(seen.paths("/hold/gradio_api/queue/data")) == streams_before:  # the job runs on the Space
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.05)
    manager.interrupt_kernel()
    reply, _ = reply_and_stdout(client, msg_id)
    assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt"
    # The cancel reached the Space before the cell ended.
    assert len(seen.cancelled("hold")) == cancels_before + 1
    reply, printed = reply_and_stdout(client, client.execute(LEFT_OVER_TASKS))
    assert reply["status"] == "ok" and printed == "[]\n"
