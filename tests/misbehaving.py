"""A small misbehaving Space on 127.0.0.1: the faults a healthy Gradio server will not produce.

Each fault lives under its own path prefix, so one server serves them all: a client pointed at
``{base}/malformed`` gets malformed events, ``{base}/sleeping`` a sleeping Space's 503 page, and so
on. Every request is recorded (path and headers) so tests can prove what was, and was not, sent.
"""

from __future__ import annotations

import asyncio
import io
import json
import struct
import threading
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import uvicorn
from PIL import Image
from servers import free_port
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

SLEEPING_PAGE = "<!doctype html><html><body><h1>This Space is sleeping</h1><p>Restart it.</p></body></html>"
BUILDING_PAGE = "<!doctype html><html><body><h1>Building</h1><p>This Space is building.</p></body></html>"
SLOW_SECONDS = 5.0


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims to be ``width``×``height`` but carries one tiny compressed row."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def small_webp() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (256, 256), (40, 90, 200)).save(out, format="WEBP")
    return out.getvalue()


@dataclass
class Seen:
    """What the server received."""

    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def paths(self, prefix: str = "") -> list[str]:
        return [path for path, _ in self.requests if path.startswith(prefix)]


def build_app(seen: Seen, port: int) -> Starlette:
    def sse(messages: list[object], *, then: str = "end") -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            for message in messages:
                text = message if isinstance(message, str) else json.dumps(message)
                yield f"data: {text}\n\n".encode()
                await asyncio.sleep(0.01)
            if then == "cut":
                raise ConnectionResetError("cut on purpose")  # uvicorn drops the connection mid-body
            if then == "silent":
                await asyncio.sleep(SLOW_SECONDS)

        return StreamingResponse(body(), media_type="text/event-stream")

    def result(mode: str, url: str) -> dict[str, object]:
        file = {"path": "/tmp/x", "url": url, "meta": {"_type": "gradio.FileData"}}
        return {"msg": "process_completed", "event_id": mode, "output": {"data": [file, 7]}, "success": True}

    async def handle(request: Request) -> Response:
        mode, _, rest = request.url.path.lstrip("/").partition("/")
        seen.requests.append((request.url.path, dict(request.headers)))
        own = f"http://127.0.0.1:{port}/{mode}/gradio_api/file=x"
        if mode == "sleeping":
            return HTMLResponse(SLEEPING_PAGE, status_code=503)
        if mode == "building":
            return HTMLResponse(BUILDING_PAGE, status_code=503)
        if mode == "html-config" and rest == "config":
            return HTMLResponse("<html><body>Loading Space…</body></html>")
        if mode == "slow-config":
            await asyncio.sleep(SLOW_SECONDS)
        if rest == "config":
            deps = [{"id": 0, "api_name": "infer", "targets": [[2, "click"]]}]
            return JSONResponse({"version": "6.31.0", "api_prefix": "/gradio_api", "dependencies": deps})
        if rest == "gradio_api/queue/join":
            return JSONResponse({"event_id": mode})
        if rest == "gradio_api/cancel":
            return JSONResponse({"success": True})
        if rest == "gradio_api/queue/data":
            started = {"msg": "process_starts", "event_id": mode}
            streams = {
                "ends-early": lambda: sse([started]),
                "cut": lambda: sse([started], then="cut"),
                "malformed": lambda: sse([started, "{not json"]),
                "silent": lambda: sse([started], then="silent"),
                "not-image": lambda: sse([started, result(mode, own)]),
                "bomb": lambda: sse([started, result(mode, own)]),
                "huge-claim": lambda: sse([started, result(mode, own)]),
                "huge-body": lambda: sse([started, result(mode, own)]),
                "other-origin": lambda: sse([started, result(mode, f"http://localhost:{port}/{mode}/elsewhere")]),
                "file-scheme": lambda: sse([started, result(mode, "file:///etc/passwd")]),
                "ok": lambda: sse([started, result(mode, own)]),
            }
            return streams.get(mode, lambda: sse([started]))()
        if rest == "gradio_api/file=x":
            if mode == "not-image":
                return HTMLResponse("<html>not an image</html>")
            if mode == "bomb":
                return Response(png_header_only(20000, 20000), media_type="image/png")
            if mode == "huge-claim":
                return Response(png_header_only(5000, 5000), media_type="image/png")
            if mode == "huge-body":

                async def endless() -> AsyncIterator[bytes]:
                    yield b"\x89PNG\r\n\x1a\n"
                    for _ in range(64):  # 64 MiB, bounded
                        yield b"\0" * (1024 * 1024)

                return StreamingResponse(endless(), media_type="image/png")
            return Response(small_webp(), media_type="image/webp")
        return JSONResponse({"detail": "Not Found"}, status_code=404)

    return Starlette(routes=[Route("/{path:path}", handle, methods=["GET", "POST"])])


@contextmanager
def misbehaving_space() -> Iterator[tuple[str, Seen]]:
    """Serve the misbehaving Space in a thread; yield its base URL and what it saw."""
    port = free_port()
    seen = Seen()
    config = uvicorn.Config(build_app(seen, port), host="127.0.0.1", port=port, log_level="critical")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the misbehaving server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        server.should_exit = True
        thread.join(10)
