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
    reply, streams, _ = reply_streams_and_result(client, msg_id, timeout)
    return reply, streams["stdout"]


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


def test_stop_during_run_batch_returns_its_report_with_no_traceback(
    kernel: tuple[Any, Any], bad_space: tuple[str, Seen], tmp_path: Any
) -> None:
    """Issue 29, defect 13: Stop in a notebook says what was saved and returns the report (shown as a
    table), not a 56-line KeyboardInterrupt traceback."""
    manager, client = kernel
    base, seen = bad_space
    streams_before = len(seen.paths("/hold/gradio_api/queue/data"))
    cell = (
        "import flux_widget\n"
        f"report = flux_widget.run_batch(['held one', 'held two'], {str(tmp_path / 'out')!r}, space='{base}/hold',"
        " width=256, height=256, progress=False)\nreport"
    )
    msg_id = client.execute(cell)
    deadline = time.monotonic() + 30
    while len(seen.paths("/hold/gradio_api/queue/data")) == streams_before:
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.05)
    manager.interrupt_kernel()
    reply, streams, shown = reply_streams_and_result(client, msg_id)
    assert reply["status"] == "ok", reply  # no KeyboardInterrupt traceback
    stderr = streams["stderr"]
    assert "Stopped: 0 done, 0 failed, 0 skipped" in stderr and "Run the same call again" in stderr
    assert "<strong>Large job stopped</strong>" in shown["text/html"]
    assert shown["text/plain"].startswith("<JobReport 0 done, 0 failed, 0 skipped in ")


def reply_streams_and_result(
    client: Any, msg_id: str, timeout: float = 60
) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """The cell's reply, what it wrote to stdout and stderr, and its result's data (empty when none)."""
    reply = client.get_shell_msg(timeout=timeout)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = client.get_shell_msg(timeout=timeout)
    streams, shown = {"stdout": "", "stderr": ""}, {}
    while True:
        message = client.get_iopub_msg(timeout=timeout)
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        if message["msg_type"] == "stream":
            streams[message["content"]["name"]] += message["content"]["text"]
        if message["msg_type"] == "execute_result":
            shown = message["content"]["data"]
        if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
            return reply["content"], streams, shown
