"""The widget's queue: Generate keeps taking prompts while a job runs, and they run in turn.

:class:`QueueActions` keeps each press made while a job runs (its prompt and the controls' values at
the press) in ``queue``, a synced list of at most :data:`MAX_QUEUED`, and starts the first of it
when the running job ends, however it ends. One job runs at a time, so the Space never holds more
than a batch's two jobs of this widget. The view removes and reorders waiting prompts; Cancel
stops the running job (the next one then starts) and Cancel all stops it and empties the queue.
"""

from __future__ import annotations

import secrets
from typing import Any

import traitlets

from ..errors import FluxError
from ._references import ReferenceActions

__all__ = ["MAX_QUEUED", "QUEUE_FIELDS", "QueueActions"]

#: The most prompts waiting at once.
MAX_QUEUED = 20
#: What the view shows of a waiting prompt, besides its id: the controls it will run with.
QUEUE_FIELDS = ("prompt", "width", "height", "steps", "seed", "randomize_seed", "count")


class QueueActions(ReferenceActions):
    """The queue of :class:`~flux_widget.FluxWidget`: prompts pressed while a job runs, run in turn."""

    #: The controls' values of each waiting prompt, by id (``queue`` gives the order).
    _waiting: dict[str, dict[str, Any]]

    queue = traitlets.List(
        traitlets.Dict(),
        help="Prompts waiting for the running job, in order: an id and the controls they run with.",
    ).tag(sync=True)

    def enqueue(self, values: dict[str, Any]) -> str:
        """Put a press (the controls' ``values``) at the end of the queue; its id. A full queue is a FluxError."""
        if len(self.queue) >= MAX_QUEUED:
            raise FluxError(f"The queue is full ({MAX_QUEUED} prompts): wait for one, or remove one.")
        key = secrets.token_hex(6)
        self._waiting[key] = dict(values)
        shown = {name: values.get(name, getattr(self, name)) for name in QUEUE_FIELDS}
        self.queue = [*self.queue, {"id": key, **shown}]
        return key

    def unqueue(self, position: int) -> None:
        """Take the waiting prompt at ``position`` (from 0) out of the queue."""
        item = self.queue[position]
        self._waiting.pop(item["id"], None)
        self.queue = [other for other in self.queue if other is not item]

    def move(self, position: int, by: int) -> None:
        """Move the waiting prompt at ``position`` ``by`` places (−1: one earlier), kept inside the queue."""
        order = list(self.queue)
        item = order.pop(position)
        order.insert(max(0, min(len(order), position + by)), item)
        self.queue = order

    def cancel_all(self) -> None:
        """Empty the queue and cancel the running job."""
        self._waiting.clear()
        self.queue = []
        self.cancel()

    def cancel(self) -> None:
        """Cancel the running generation (the widget's own does; the next waiting prompt then starts)."""

    def _next_in_queue(self) -> dict[str, Any] | None:
        """The first waiting prompt's values, taken out of the queue; None when it is empty."""
        while self.queue:
            first, *rest = self.queue
            self.queue = rest
            values = self._waiting.pop(first["id"], None)
            if values is not None:
                return values
        return None

    def _queue_message(self, kind: str, position: int | None, by: object) -> None:
        """``unqueue`` or ``move`` (``by`` ±1) from a view, or ``cancel_all``; a stale position is ignored."""
        if kind == "cancel_all":
            self.cancel_all()
        elif position is None or not 0 <= position < len(self.queue):
            return
        elif kind == "unqueue":
            self.unqueue(position)
        elif kind == "move" and by in (-1, 1):
            self.move(position, -1 if by == -1 else 1)
