"""Batches: several images from one request, run a few at a time, each job cancelled on any stop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import NamedTuple

from .errors import InvalidRequestError
from .types import MAX_SEED, Generation

__all__ = ["BATCH_CONCURRENCY", "MAX_COUNT", "SlotSeed", "batch_seeds", "check_count", "run_batch"]

#: The most images one request may ask for.
MAX_COUNT = 8
#: Jobs of one batch in the Space's queue at once: one running and the next waiting, so the Space
#: never idles between two images, and a batch of 8 never takes 8 places in a shared queue.
BATCH_CONCURRENCY = 2


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
    return [SlotSeed((seed + slot) % (MAX_SEED + 1), False) for slot in range(count)]


Outcome = tuple[int, "Generation | BaseException"]


@asynccontextmanager
async def run_batch(
    jobs: Sequence[Callable[[], Awaitable[Generation]]], concurrency: int = BATCH_CONCURRENCY
) -> AsyncIterator[AsyncIterator[Outcome]]:
    """Run ``jobs``, at most ``concurrency`` at a time; iterate for ``(slot, generation or error)`` as each ends.

    Leaving the block for any reason (done, an error, a ``break``, cancellation) cancels the jobs
    still queued or running, and waits until each has cancelled its job on the Space.
    """
    limit = asyncio.Semaphore(max(1, concurrency))

    async def bounded(job: Callable[[], Awaitable[Generation]]) -> Generation:
        async with limit:
            return await job()

    tasks = {asyncio.ensure_future(bounded(job)): slot for slot, job in enumerate(jobs)}

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
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
