"""Reading what the stand-in Space itself saw (``standin_space.py --journal``): joins, cancels, runs."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Journal:
    """The stand-in's journal file; every method reads it anew."""

    path: Path

    def records(self) -> list[dict[str, Any]]:
        """Every record so far, in order."""
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]

    def joins(self, marker: str) -> list[dict[str, Any]]:
        """The queue joins whose prompt contains ``marker``."""
        return [r for r in self.records() if r["kind"] == "join" and marker in (r.get("prompt") or "")]

    def cancelled(self, marker: str) -> list[dict[str, Any]]:
        """The joins of ``marker``'s prompts that the Space was then asked to cancel."""
        asked = {r["event_id"] for r in self.records() if r["kind"] == "cancel"}
        return [join for join in self.joins(marker) if join["event_id"] in asked]

    def wait_for_cancels(self, marker: str, count: int, seconds: float = 10.0) -> list[dict[str, Any]]:
        """The cancelled joins of ``marker`` once there are ``count`` of them (or the last seen after ``seconds``).

        It blocks: from a coroutine use :meth:`cancels`, so the loop can still send them.
        """
        ends = time.monotonic() + seconds
        while len(found := self.cancelled(marker)) < count and time.monotonic() < ends:
            time.sleep(0.05)
        return found

    async def cancels(self, marker: str, count: int, seconds: float = 10.0) -> list[dict[str, Any]]:
        """:meth:`wait_for_cancels` for coroutines: the loop goes on while it waits."""
        ends = time.monotonic() + seconds
        while len(found := self.cancelled(marker)) < count and time.monotonic() < ends:
            await asyncio.sleep(0.05)
        return found

    def most_in_queue(self, marker: str) -> int:
        """The most jobs of ``marker``'s prompts the Space held at once: joined, and not yet ended or cancelled.

        A run's end is matched to the oldest job of its prompt still held (the queue is first in, first out).
        """
        held: list[dict[str, Any]] = []
        most = 0
        for record in self.records():
            if record["kind"] == "join" and marker in (record.get("prompt") or ""):
                held.append(record)
                most = max(most, len(held))
            elif record["kind"] == "end":
                first = next((job for job in held if job["prompt"] == record["prompt"]), None)
                if first is not None:
                    held.remove(first)
            elif record["kind"] == "cancel":
                held = [job for job in held if job["event_id"] != record["event_id"]]
        return most
