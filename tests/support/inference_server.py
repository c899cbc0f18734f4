"""A local server that answers the way a Hugging Face Inference Endpoint does, for the inference backend.

``POST {base}/{mode}`` with JSON ``{"inputs": prompt, "parameters": {...}}`` answers with the
stand-in's picture (PNG) for that prompt, seed and size (image-to-image, ``inputs`` a base64 image and
``parameters`` with a ``prompt``: the input with red inverted, as the editing stand-in Space does),
or with the failure ``mode`` names (``401``, ``403``, ``402``, ``429``, ``503``, ``slow``). Every
request is recorded.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
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


def _hostile() -> dict[str, Callable[[Request], Response]]:
    """Answers of an endpoint that does not play fair, by mode (the misbehaving Space's own fakes)."""
    from support.misbehaving import brotli_bomb, gzip_bomb, png_header_only, truncated_png

    def big(_request: Request) -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            yield b"\x89PNG\r\n\x1a\n"
            for _ in range(1024):  # 1 GiB, bounded so that a reader without limits still ends
                yield b"\0" * (1 << 20)

        return StreamingResponse(body(), media_type="image/png")

    def compressed(data: bytes, encoding: str) -> Callable[[Request], Response]:
        return lambda _request: Response(data, media_type="image/png", headers={"content-encoding": encoding})

    def waiting(value: str) -> Callable[[Request], Response]:
        return lambda _request: JSONResponse({"error": "slow down"}, status_code=429, headers={"retry-after": value})

    def echoing(request: Request) -> Response:
        said = f"\x1b]0;pwned\x07\x1b[31mno\x1b[0m for {request.headers.get('authorization')}"
        return JSONResponse({"error": said}, status_code=400)

    return {
        "huge-answer": big,
        "gzip-answer": compressed(gzip_bomb(), "gzip"),
        "br-answer": compressed(brotli_bomb(), "br"),
        "wide-image": lambda _request: Response(png_header_only(9000, 9000), media_type="image/png"),
        "truncated-image": lambda _request: Response(truncated_png(), media_type="image/png"),
        "retry-superscript": waiting("\u00b3\u00b2"),  # str.isdigit() says yes; int() refuses it
        "retry-long": waiting("9" * 400),
        "echo-error": echoing,
    }


HOSTILE: dict[str, Callable[[Request], Response]] = {}


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
        hostile = HOSTILE.get(mode)
        if hostile is not None:
            return hostile(request)
        parameters = body.get("parameters", {})
        if "prompt" in parameters:  # image-to-image: the input, base64, edited as the editing stand-in Space does
            from support.standin_edit_space import edited

            source = Image.open(io.BytesIO(base64.b64decode(str(body.get("inputs")))))
            out = io.BytesIO()
            edited(source).save(out, format="PNG")
            return Response(out.getvalue(), media_type="image/png")
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
    if not HOSTILE:
        HOSTILE.update(_hostile())
    calls = Calls()
    with served(lambda _port: build_app(calls)) as url:
        yield url, calls
