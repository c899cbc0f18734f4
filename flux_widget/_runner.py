"""Run a coroutine to completion from synchronous code, whether or not an event loop is running.

The only module that touches event-loop patching. In a plain script there is no running loop: one
private ``asyncio.Runner`` runs every call (so clients and their connections are reused from one call
to the next; on Ctrl-C it cancels the coroutine and lets it clean up) and is closed at exit, with
the clients made on it. In a notebook cell the kernel's loop is already running, so the loop is
patched with ``nest_asyncio2`` (the maintained fork of nest_asyncio that ipykernel 7 itself depends
on) to let ``run_until_complete`` re-enter it — and only then, never at import.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["run_sync"]

T = TypeVar("T")


def run_sync(make_coroutine: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run the coroutine ``make_coroutine()`` returns and give back its result.

    Takes a factory rather than a coroutine so that nothing is created before we know which
    loop will run it. If the wait is interrupted (the notebook's Stop button raises
    ``KeyboardInterrupt``), the coroutine is cancelled and given the time to finish its cleanup
    (cancelling its job on the Space) before the interruption goes on: nothing is left running.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return _private_runner().run(make_coroutine())
    _allow_reentry(loop)
    task = loop.create_task(make_coroutine())
    try:
        return loop.run_until_complete(task)
    except BaseException:
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):  # a second interrupt stops the wait, not the cancel
                loop.run_until_complete(asyncio.wait([task]))
        raise


_runner: asyncio.Runner | None = None


def _private_runner() -> asyncio.Runner:
    global _runner
    if _runner is None:
        _runner = asyncio.Runner()
        atexit.register(_close_runner)
    return _runner


def _close_runner() -> None:
    from .backends._cache import close_clients

    global _runner
    if _runner is not None:
        with contextlib.suppress(Exception):
            _runner.run(close_clients())
        _runner.close()
        _runner = None


def _allow_reentry(loop: asyncio.AbstractEventLoop) -> None:
    import nest_asyncio2

    nest_asyncio2.apply(loop)
