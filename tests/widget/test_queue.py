"""The widget's queue (issue 29): presses made while a job runs wait their turn, in order, and can be
removed, moved and cancelled; against the real stand-in Space and its journal."""

from __future__ import annotations

import asyncio

import pytest
from support.helpers import wait_until
from support.journal import Journal

from flux_widget.widget._queue import MAX_QUEUED
from flux_widget.widget._widget import FluxWidget

pytestmark = pytest.mark.anyio


def press(widget: FluxWidget, prompt: str) -> None:
    """What the view sends for a press of Generate: the controls' values at the press."""
    params = {name: getattr(widget, name) for name in widget.limits["controls"]}
    widget._handle_message(widget, {"type": "generate", "params": {**params, "prompt": prompt}}, [])


async def test_prompts_pressed_while_one_runs_are_made_in_turn_two_at_most_on_the_space(
    space: str, journal: Journal
) -> None:
    widget = FluxWidget(space, width=256, height=256, steps=2)
    try:
        press(widget, "[slow] queue first")
        await wait_until(lambda: widget.busy)
        for number in range(5):
            press(widget, f"queue {number}")
        await wait_until(lambda: len(widget.queue) == 5)
        assert [item["prompt"] for item in widget.queue] == [f"queue {number}" for number in range(5)]
        widget._handle_message(widget, {"type": "unqueue", "index": 4}, [])  # "queue 4" removed
        widget._handle_message(widget, {"type": "move", "index": 3, "by": -1}, [])  # "queue 3" before "queue 2"
        await wait_until(lambda: len(widget.history) == 5, seconds=60)
        made = [entry.prompt for entry in widget.history]
        assert made == ["[slow] queue first", "queue 0", "queue 1", "queue 3", "queue 2"]
        assert widget.queue == [] and journal.most_in_queue("queue") <= 2
    finally:
        widget.close()
        await widget._client.aclose()


async def test_cancel_starts_the_next_cancel_all_empties_the_queue_and_a_full_queue_is_said(space: str) -> None:
    widget = FluxWidget(space, width=256, height=256, steps=2)
    try:
        press(widget, "[slow] cancelled one")
        await wait_until(lambda: widget.busy)
        press(widget, "after the cancel")
        widget.cancel()
        await wait_until(lambda: [entry.prompt for entry in widget.history] == ["after the cancel"], seconds=30)
        press(widget, "[slow] running")
        await wait_until(lambda: widget.busy)
        for number in range(MAX_QUEUED + 1):
            press(widget, f"waiting {number}")
        await wait_until(lambda: "The queue is full" in widget.error)
        assert len(widget.queue) == MAX_QUEUED
        widget._handle_message(widget, {"type": "cancel_all"}, [])
        await wait_until(lambda: not widget.busy)
        await asyncio.sleep(0.3)
        assert widget.queue == [] and not widget.busy and len(widget.history) == 1
    finally:
        widget.close()
        await widget._client.aclose()
