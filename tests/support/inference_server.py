"""A local server that answers the way a Hugging Face Inference Endpoint does, for the inference backend.

``POST {base}/{mode}`` with JSON ``{"inputs": prompt, "parameters": {...}}`` answers with the
stand-in's picture (PNG) for that prompt, seed and size, or with the failure ``mode`` names
(``401``, ``403``, ``402``, ``429``, ``503``, ``slow``). Every request is recorded.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from support.picture import render_picture
from support.servers import served

FAILURES = {
    "401": (401, {"error": "Invalid credentials in Authorization header"}),
    "403": (403, {"error": "This token does not have permission to call Inference Providers"}),
    "402": (402, {"error": "You have exceeded your monthly included credits for Inference Providers."}),
    "429": (429, {"error": "Rate limit reached. Please retry later."}),
    "503": (503, {"error": "Model is overloaded"}),
}


@dataclass
class Calls:
    """What the endpoint received: (path, headers, JSON body) per request."""

    seen: list[tuple[str, dict[str, str], dict[str, object]]] = field(default_factory=list)


def build_app(calls: Calls) -> Starlette:
    async def handle(request: Request) -> Response:
        mode = request.url.path.strip("/").split("/")[0]
        body = json.loads(await request.body() or b"{}")
        calls.seen.append((request.url.path, dict(request.headers), body))
        if mode in FAILURES:
            status, payload = FAILURES[mode]
            headers = {"retry-after": "30"} if status == 429 else {}
            return JSONResponse(payload, status_code=status, headers=headers)
        if mode == "slow":
            await asyncio.sleep(10)
        parameters = body.get("parameters", {})
        picture = render_picture(
            str(body.get("inputs")),
            int(parameters.get("seed", 0)),
            parameters.get("width", 1024),
            parameters.get("height", 1024),
        )
        out = io.BytesIO()
        picture.save(out, format="PNG")
        return Response(out.getvalue(), media_type="image/png")

    return Starlette(routes=[Route("/{path:path}", handle, methods=["POST"])])


@contextmanager
def inference_endpoint() -> Iterator[tuple[str, Calls]]:
    """Serve the endpoint in a thread; yield its base URL and what it received."""
    calls = Calls()
    with served(lambda _port: build_app(calls)) as url:
        yield url, calls
