"""The event loop a widget's work runs on, and handing work over to it from other threads.

The kernel's own loop, where the widget was made. JupyterLab may deliver a widget's messages on a
kernel subshell (a thread with a loop of its own), and Colab drops trait updates made from other
threads: everything they start is handed over to this loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

__all__ = ["HomeLoop", "running_loop"]

T = TypeVar("T")


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The running event loop of this thread, or ``None``."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class HomeLoop:
    """The loop that was running where this was made; one made outside any loop adopts its first user's."""

    def __init__(self) -> None:
        self.loop = running_loop()

    @property
    def usable(self) -> bool:
        """Whether there is a home loop that is not closed."""
        return self.loop is not None and not self.loop.is_closed()

    def adopt(self) -> asyncio.AbstractEventLoop:
        """The home loop; without a usable one, the running loop becomes it."""
        if self.loop is None or self.loop.is_closed():
            self.loop = asyncio.get_running_loop()
        return self.loop

    def call(self, callback: Callable[[], object]) -> None:
        """Run ``callback`` now if this thread runs the home loop (or there is none), else soon on it."""
        home = self.loop
        if home is None or home.is_closed() or home is running_loop():
            callback()
        else:
            home.call_soon_threadsafe(callback)

    async def run(self, make: Callable[[], Awaitable[T]]) -> T:
        """Await ``make()`` on the home loop, from whichever loop this is awaited on."""
        home = self.adopt()
        if home is asyncio.get_running_loop():
            return await make()

        async def there() -> T:
            return await make()

        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(there(), home))
