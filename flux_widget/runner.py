"""Run a coroutine to completion from synchronous code, whether or not an event loop is running.

The only module that touches event-loop patching. In a plain script there is no running loop and
``asyncio.run`` does the job. In a notebook cell the kernel's loop is already running, so the loop
is patched with ``nest_asyncio2`` (the maintained fork of nest_asyncio that ipykernel 7 itself
depends on) to let ``run_until_complete`` re-enter it — and only then, never at import.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["run_sync"]

T = TypeVar("T")


def run_sync(make_coroutine: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run the coroutine ``make_coroutine()`` returns and give back its result.

    Takes a factory rather than a coroutine so that nothing is created before we know which
    loop will run it.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make_coroutine())
    _allow_reentry(loop)
    return loop.run_until_complete(make_coroutine())


def _allow_reentry(loop: asyncio.AbstractEventLoop) -> None:
    import nest_asyncio2

    nest_asyncio2.apply(loop)
