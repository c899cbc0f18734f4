"""One reused backend per (backend, Space or model, token, options) and event loop.

:func:`~flux_widget.generate`, :func:`~flux_widget.agenerate`, the magics and the provider class
take their client from here instead of building one per call, so a second call reuses the open
connections and the Space's ``/config`` (no second TLS handshake, no second discovery). A client
belongs to the loop it was made on; a closed loop's clients are dropped with it.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Unpack

from .._config import DEFAULT_TIMEOUT, env_token
from .base import REGISTRY, Backend, BackendOptions, backend_kind, make_backend, ready_backend

__all__ = ["close_clients", "shared_client"]

_Key = tuple[object, ...]
#: Options the key holds normalized; every other option is keyed by its value.
_KEYED = {"backend", "space", "model", "token", "timeout", "auth"}
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[_Key, Backend]] = weakref.WeakKeyDictionary()


def shared_client(**options: Unpack[BackendOptions]) -> Backend:
    """The running loop's backend for these options, made on first use."""
    ready = ready_backend(options.get("backend"))
    if ready is not None:
        return ready  # your own backend: used as it is, never cached or closed here
    loop = asyncio.get_running_loop()
    kind = backend_kind(options.get("backend"))
    secret = env_token(options.get("token"))
    where = REGISTRY[kind].location(options)
    timeout = options.get("timeout", DEFAULT_TIMEOUT)
    auth = options.get("auth")
    login = (auth[0], auth[1]) if auth else None
    rest = sorted((name, str(value)) for name, value in options.items() if name not in _KEYED and value is not None)
    key: _Key = (kind, where, secret, timeout, login, *rest)
    clients = _clients.setdefault(loop, {})
    client = clients.get(key)
    if client is None or client.closed:
        chosen: BackendOptions = {**options, "backend": kind, "token": secret, "timeout": timeout}
        client = clients[key] = make_backend(**chosen)
    return client


async def close_clients() -> None:
    """Close the running loop's shared clients (cancelling any job they still run)."""
    clients = _clients.pop(asyncio.get_running_loop(), {})
    await asyncio.gather(*(client.aclose() for client in clients.values()))
