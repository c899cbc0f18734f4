"""One-line descriptions of progress events, shared by the magics and the command line."""

from __future__ import annotations

from .types import Loading, ProgressEvent, Queued, Started, Step

__all__ = ["describe"]


def describe(event: ProgressEvent) -> str:
    """``queued (2 ahead, about 5 s)``, ``started``, ``step 3/4``."""
    if isinstance(event, Queued):
        place = "next in line" if event.rank == 0 else f"{event.rank} ahead"
        wait = f", about {event.eta:.0f} s" if event.eta else ""
        return f"queued ({place}{wait})"
    if isinstance(event, Started):
        return "started"
    if isinstance(event, Loading):
        if event.done is not None and event.total:
            scale, unit = (1e9, "GB") if event.total >= 1e9 else (1e6, "MB")
            return f"{event.what} {event.done / scale:.1f} of {event.total / scale:.1f} {unit}"
        return event.what
    if isinstance(event, Step):
        return f"step {min(event.index, event.length or event.index)}/{event.length}" if event.length else "running"
    return ""
