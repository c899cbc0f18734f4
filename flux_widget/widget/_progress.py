"""What a batch's progress looks like as one state, and how often it is shown.

:class:`BatchProgress` folds the latest event of each running image into the widget's progress
traits, and :class:`Throttle` keeps the updates to about 20 a second: pure logic, no widget, no loop.
:class:`ProgressPump` joins the two on the event loop for the widget.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

from .._progress_text import describe
from ..types import Loading, ProgressEvent, Queued, Started, Step

__all__ = ["PROGRESS_INTERVAL", "BatchProgress", "ProgressPump", "Throttle"]

#: Seconds between two progress updates sent to the browser (about 20 a second at most).
PROGRESS_INTERVAL = 0.05


class Throttle:
    """Says when the next update may be shown: at most one every ``interval`` seconds."""

    def __init__(self, interval: float = PROGRESS_INTERVAL) -> None:
        self.interval = interval
        self._shown_at = -math.inf

    def wait(self, now: float) -> float:
        """Seconds until an update may be shown (0 or less: now)."""
        return self._shown_at + self.interval - now

    def shown(self, now: float) -> None:
        """Note that an update was shown at ``now``."""
        self._shown_at = now


class BatchProgress:
    """The combined progress of the ``size`` images of a batch, ``done`` of which have arrived.

    :meth:`record` keeps each image's latest event; :meth:`updates` gives the traits to set:
    running as soon as any image runs (its step the furthest one, the bar the whole batch), else
    queued at the best place in line.
    """

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self.done = 0
        self._events: dict[int, ProgressEvent] = {}
        self.pending = False

    def record(self, slot: int, event: ProgressEvent) -> None:
        """Image ``slot`` reported ``event``."""
        self._events[slot] = event
        self.pending = True

    def arrived(self, slot: int) -> None:
        """Image ``slot`` is done: it counts whole, and its events no longer."""
        self._events.pop(slot, None)
        self.done += 1

    def updates(self) -> dict[str, Any]:
        """The progress traits for the latest events (only those that change); marks them shown."""
        self.pending = False
        events = list(self._events.values())
        running = [event for event in events if isinstance(event, (Started, Step))]
        queued = [event for event in events if isinstance(event, Queued)]
        loading = [event for event in events if isinstance(event, Loading)]
        if running or queued:
            detail = {"detail": ""}
        elif loading:  # the model is being made ready on this machine: say so, not "waiting for the Space"
            return {"status": "queued", "queue_position": None, "eta": None, "detail": describe(loading[-1])}
        if running:
            started = [event for event in running if isinstance(event, Started)]
            updates: dict[str, Any] = {
                "status": "running",
                "queue_position": None,
                "eta": started[-1].eta if started else None,
                **detail,
            }
            steps = [event for event in running if isinstance(event, Step)]
            if steps:
                furthest = max(steps, key=lambda event: (event.fraction or 0.0, event.index))
                updates["step"] = furthest.index
                if furthest.length:
                    updates["total_steps"] = furthest.length
                updates["progress"] = (self.done + sum(event.fraction or 0.0 for event in steps)) / self.size
            return updates
        if queued:
            etas = [event.eta for event in queued if event.eta is not None]
            return {
                "status": "queued",
                "queue_position": min(event.rank for event in queued),
                "eta": min(etas) if etas else None,
                **detail,
            }
        return {}


class ProgressPump:
    """Hands a batch's combined progress to ``show`` as it comes, at most once every ``interval`` seconds.

    The latest events always win: an update held back by the throttle is shown when it is due, and
    :meth:`flush` shows it at once (before an outcome replaces it). Runs on the event loop it is used from.
    """

    def __init__(self, show: Callable[[dict[str, Any]], None], interval: float = PROGRESS_INTERVAL) -> None:
        self._show = show
        self._throttle = Throttle(interval)
        self._timer: asyncio.TimerHandle | None = None
        self.progress = BatchProgress(1)

    def start(self, size: int) -> None:
        """Begin a batch of ``size`` images."""
        self.progress = BatchProgress(size)

    def record(self, slot: int, event: ProgressEvent) -> None:
        """Image ``slot`` reported ``event``: show it now, or when the throttle allows."""
        self.progress.record(slot, event)
        if self._timer is not None:
            return  # already due: it will show this event
        loop = asyncio.get_running_loop()
        wait = self._throttle.wait(loop.time())
        if wait <= 0:
            self._pump()
        else:
            self._timer = loop.call_later(wait, self._pump)

    def arrived(self, slot: int) -> None:
        """Image ``slot`` is done: what it last reported is shown first."""
        self.flush()
        self.progress.arrived(slot)

    def flush(self) -> None:
        """Show the latest state now, if anything is waiting to be shown."""
        if self._timer is not None:
            self._timer.cancel()
        self._pump()

    def _pump(self) -> None:
        self._timer = None
        if self.progress.pending:
            self._throttle.shown(asyncio.get_running_loop().time())
            self._show(self.progress.updates())
