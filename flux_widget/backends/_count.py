"""The one batch driver: several images from one request, a few at a time, every job cancelled on any stop.

The widget, :func:`~flux_widget.generate` / :func:`~flux_widget.agenerate` with ``count=``, and the
magics all run their images through :func:`batch_outcomes`; :func:`batch_requests` gives each image of a
request its seed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from functools import partial
from typing import TYPE_CHECKING, NamedTuple

from .._parameters import next_seed
from ..errors import InvalidRequestError
from ..types import Generation, GenerationRequest, ProgressEvent

if TYPE_CHECKING:
    from .base import Backend

__all__ = [
    "BATCH_CONCURRENCY",
    "MAX_COUNT",
    "SlotProgress",
    "SlotSeed",
    "batch_outcomes",
    "batch_requests",
    "batch_seeds",
    "check_count",
    "generate_all",
]

#: The most images one request may ask for.
MAX_COUNT = 8
#: Jobs of one batch in the Space's queue at once: one running and the next waiting, so the Space
#: never idles between two images, and a batch of 8 never takes 8 places in a shared queue.
BATCH_CONCURRENCY = 2

#: Progress of one image of a batch: its place (from 0) and the event; a function or coroutine function.
SlotProgress = Callable[[int, ProgressEvent], "Awaitable[None] | None"]
Outcome = tuple[int, "Generation | BaseException"]


class SlotSeed(NamedTuple):
    """The seed one image of a batch asks for, and whether the Space should pick its own."""

    seed: int
    randomize: bool


def check_count(count: object) -> int:
    """``count`` if it is a whole number of images from 1 to ``MAX_COUNT``, else ``InvalidRequestError``."""
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
        raise InvalidRequestError(f"count must be a whole number of images from 1 to {MAX_COUNT}, not {count!r}.")
    return count


def batch_seeds(seed: int, randomize: bool, count: int) -> list[SlotSeed]:
    """The seed of each image: a new random one each (``randomize``), else ``seed``, ``seed + 1``, ….

    Seeds past the largest one the Space takes wrap around to 0.
    """
    if randomize:
        return [SlotSeed(seed, True)] * count
    return [SlotSeed(next_seed(seed, slot), False) for slot in range(count)]


def batch_requests(request: GenerationRequest, count: int) -> list[GenerationRequest]:
    """One request per image of a batch of ``count``, each with its seed (see :func:`batch_seeds`)."""
    slots = batch_seeds(request.seed, request.randomize_seed, check_count(count))
    return [request.with_seed(slot.seed, slot.randomize) for slot in slots]


@asynccontextmanager
async def batch_outcomes(
    backend: Backend,
    requests: Sequence[GenerationRequest],
    *,
    concurrency: int = BATCH_CONCURRENCY,
    deadline: float | None = None,
    on_progress: SlotProgress | None = None,
) -> AsyncIterator[AsyncIterator[Outcome]]:
    """Generate ``requests``, at most ``concurrency`` at a time; iterate for ``(slot, generation or error)``.

    Outcomes come as each job ends; a backend with ``generate_many`` (the local one) gets them all in
    one call and batches them itself, so its outcomes come together. ``on_progress(slot, event)``
    hears every job's events.
    Leaving the block for any reason (done, an error, a ``break``, cancellation) cancels the jobs
    still queued or running, and waits until each has cancelled its job on the backend.
    """
    limit = asyncio.Semaphore(max(1, concurrency))
    many = getattr(backend, "generate_many", None)  # a backend that draws several images in one call
    together = (
        asyncio.ensure_future(many(requests, deadline=deadline, on_progress=on_progress))
        if many is not None and len(requests) > 1
        else None
    )

    async def job(slot: int, request: GenerationRequest) -> Generation:
        if together is not None:
            made: list[Generation] = await asyncio.shield(together)
            return made[slot]
        async with limit:
            heard = None if on_progress is None else partial(on_progress, slot)
            return await backend.generate(request, deadline=deadline, on_progress=heard)

    tasks = {asyncio.ensure_future(job(slot, request)): slot for slot, request in enumerate(requests)}

    async def outcomes() -> AsyncIterator[Outcome]:
        pending = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in sorted(done, key=tasks.__getitem__):
                if task.cancelled():
                    yield tasks[task], asyncio.CancelledError()
                else:
                    yield tasks[task], task.exception() or task.result()

    try:
        yield outcomes()
    finally:
        for task in [*tasks, *([together] if together else [])]:
            task.cancel()
        await asyncio.gather(*tasks, *([together] if together else []), return_exceptions=True)


async def generate_all(
    backend: Backend,
    requests: Sequence[GenerationRequest],
    *,
    deadline: float | None = None,
    on_progress: SlotProgress | None = None,
) -> list[Generation]:
    """Every image of ``requests`` in their order; the first failure cancels the rest and is raised."""
    results: dict[int, Generation] = {}
    async with batch_outcomes(backend, requests, deadline=deadline, on_progress=on_progress) as outcomes:
        async for slot, outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
            results[slot] = outcome
    return [results[slot] for slot in range(len(requests))]
