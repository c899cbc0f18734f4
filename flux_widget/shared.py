"""One reused backend per (backend, Space or model, token, options) and event loop.

The synchronous :func:`~flux_widget.generate`, the magics and the provider class take their client
from here instead of building one per call, so a second call reuses the open connections and the
Space's ``/config`` (no second TLS handshake, no second discovery). A client belongs to the loop it
was made on; a closed loop's clients are dropped with it.
"""

from __future__ import annotations

import asyncio
import os
import weakref

from .backends import Backend, backend_kind, make_backend
from .client import TOKEN_ENV, space_url

__all__ = ["close_clients", "shared_client"]

_Key = tuple[str, str, str | None, str | None, str | None, float]
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[_Key, Backend]] = weakref.WeakKeyDictionary()


def shared_client(
    space: str | None = None,
    *,
    token: str | None = None,
    proxy: str | None = None,
    timeout: float = 60.0,
    backend: str | None = None,
    model: str | None = None,
    inference_provider: str | None = None,
) -> Backend:
    """The running loop's backend for these options, made on first use."""
    loop = asyncio.get_running_loop()
    kind = backend_kind(backend)
    secret = token if token is not None else os.environ.get(TOKEN_ENV)
    where = space_url(space) if kind == "space" else (model or "")
    key = (kind, where, secret, proxy, inference_provider, timeout)
    clients = _clients.setdefault(loop, {})
    client = clients.get(key)
    if client is None or client.closed:
        client = clients[key] = make_backend(
            kind,
            space=where if kind == "space" else None,
            token=secret or None,
            model=model,
            inference_provider=inference_provider,
            proxy=proxy,
            timeout=timeout,
        )
    return client


async def close_clients() -> None:
    """Close the running loop's shared clients (cancelling any job they still run)."""
    clients = _clients.pop(asyncio.get_running_loop(), {})
    await asyncio.gather(*(client.aclose() for client in clients.values()))
