"""Where Inference Providers' requests go, seen for real: a Hub stand-in and a proxy that notes each host.

huggingface_hub asks the Hub (``HF_ENDPOINT``) which providers serve a model, then calls the chosen
provider's own host (with a key that is not a Hugging Face token) over HTTPS. Pointed at these two
servers on 127.0.0.1, the library runs unchanged; the proxy notes the host of each ``CONNECT`` and
refuses it, so nothing leaves the machine and a test can tell which provider was chosen.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from support.servers import served

#: What the Hub says serves the models, in this order ("auto" takes the first).
MAPPING = {
    "fal-ai": {"status": "live", "providerId": "fal-ai/flux/schnell", "task": "text-to-image"},
    "replicate": {"status": "live", "providerId": "black-forest-labs/flux-schnell", "task": "text-to-image"},
    "together": {"status": "live", "providerId": "black-forest-labs/FLUX.1-schnell", "task": "text-to-image"},
}


@dataclass
class Routes:
    """The Hub stand-in's URL, the proxy's URL, and the hosts the proxy was asked to connect to."""

    hub: str
    proxy: str
    hosts: list[str] = field(default_factory=list)


def _hub_app() -> Starlette:
    async def model_info(request: Request) -> JSONResponse:
        model = f"{request.path_params['owner']}/{request.path_params['name']}"
        return JSONResponse({"id": model, "_id": model, "inferenceProviderMapping": MAPPING})

    return Starlette(routes=[Route("/api/models/{owner}/{name}", model_info)])


def _refuse_connects(listener: socket.socket, hosts: list[str], stop: threading.Event) -> None:
    listener.settimeout(0.2)
    while not stop.is_set():
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            continue
        with connection:
            request = b""
            while b"\r\n\r\n" not in request and len(request) < 65536:
                chunk = connection.recv(4096)
                if not chunk:
                    break
                request += chunk
            method, _, rest = request.partition(b" ")
            if method == b"CONNECT":
                hosts.append(rest.split(b" ")[0].decode("ascii", "replace"))
            connection.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


@contextmanager
def provider_routes() -> Iterator[Routes]:
    """Both servers, for the ``with`` block."""
    with served(lambda _port: _hub_app()) as hub, socket.create_server(("127.0.0.1", 0)) as listener:
        routes = Routes(hub=hub, proxy=f"http://127.0.0.1:{listener.getsockname()[1]}")
        stop = threading.Event()
        thread = threading.Thread(target=_refuse_connects, args=(listener, routes.hosts, stop), daemon=True)
        thread.start()
        try:
            yield routes
        finally:
            stop.set()
            thread.join(5)
