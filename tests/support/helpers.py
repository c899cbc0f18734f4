"""Small helpers the tests share."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from flux_widget import FluxClient, FluxError


async def wait_until(condition: Callable[[], object], seconds: float = 30.0) -> None:
    """Return once ``condition()`` is true; fail the test if it is not within ``seconds``."""
    ends = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < ends, "condition not reached in time"
        await asyncio.sleep(0.02)


async def client_failure(
    url: str, token: str, *, prompt: str = "a fault", seconds: float = 60, **options: object
) -> FluxError:
    """Generate against ``url`` with ``token`` (to prove it stays hidden) and return the error raised."""
    async with FluxClient(url, token=token, **options) as client:  # type: ignore[arg-type]
        with pytest.raises(FluxError) as caught:
            await asyncio.wait_for(client.generate(prompt, width=256, height=256), seconds)
    assert token not in str(caught.value) and token not in repr(caught.value)
    return caught.value
