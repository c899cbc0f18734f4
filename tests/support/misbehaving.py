"""A small misbehaving Space on 127.0.0.1: the faults a healthy Gradio server will not produce.

Each fault lives under its own path prefix, so one server serves them all: a client pointed at
``{base}/malformed`` gets malformed events, ``{base}/sleeping`` a sleeping Space's 503 page, and so
on. In the ``odd`` Space the prompt picks the fault (``[nan-seed] …``). Every request is recorded
(path and headers, and the body of each cancel) so tests can prove what was, and was not, sent.
"""

from __future__ import annotations

import asyncio
import functools
import io
import json
import struct
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import brotli
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from support.servers import served

SLEEPING_PAGE = "<!doctype html><html><body><h1>This Space is sleeping</h1><p>Restart it.</p></body></html>"
BUILDING_PAGE = "<!doctype html><html><body><h1>Building</h1><p>This Space is building.</p></body></html>"
SLOW_SECONDS = 5.0
#: How long the "hold" Spaces keep a job running (heartbeats meanwhile) unless it is cancelled.
HOLD_SECONDS = 8.0
#: How long the "held" Space keeps each job running before it completes (the pool test).
HELD_SECONDS = 4.0
#: How long the endless faults (heartbeats, trickles) go on at most, so the server always stops.
ENDLESS_SECONDS = 40.0
BOMB_BYTES = 1 << 30  # 1 GiB once decoded
#: A Space's error text that would drive a terminal: a title change, colours, a clear screen, a bell.
ESCAPING_ERROR = "\x1b]0;pwned\x07\x1b[31mred alert\x1b[0m \x9b2J\x07 \u202eevil\u202c done"
GRADIO4_QUOTA = "'You have exceeded your GPU quota (60s requested vs. 0s left). Try again in 0:12:34'"
CONFIG = {"version": "6.31.0", "api_prefix": "/gradio_api", "dependencies": [{"id": 0, "api_name": "infer"}]}


def declared_config(width_range: tuple[float, float], size: tuple[int, int] = (0, 1024)) -> dict[str, object]:
    """A /config declaring the schnell inputs as components, the width slider with ``width_range``, the
    sliders' values (the Space's default size) ``size``."""
    slider = {"type": "slider", "props": {"minimum": 256, "maximum": 2048, "step": 32, "value": size[1]}}
    components = [
        {"id": 1, "type": "textbox", "props": {"value": ""}},
        {"id": 2, "type": "slider", "props": {"minimum": 0, "maximum": 2147483647, "step": 1, "value": 0}},
        {"id": 3, "type": "checkbox", "props": {"value": True}},
        {
            "id": 4,
            "type": "slider",
            "props": {"minimum": width_range[0], "maximum": width_range[1], "step": 32, "value": size[0]},
        },
        {"id": 5, **slider},
        {"id": 6, "type": "slider", "props": {"minimum": 1, "maximum": 50, "step": 1, "value": 4}},
        {"id": 7, "type": "image", "props": {}},
    ]
    dependency = {
        "id": 0,
        "api_name": "infer",
        "targets": [[1, "submit"]],
        "inputs": [1, 2, 3, 4, 5, 6],
        "outputs": [7, 2],
    }
    return {**CONFIG, "components": components, "dependencies": [dependency]}


SCHNELL_INFO = {
    "named_endpoints": {
        "/infer": {
            "parameters": [
                {"parameter_name": name}
                for name in ("prompt", "seed", "randomize_seed", "width", "height", "num_inference_steps")
            ]
        }
    }
}


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(width: int, height: int, pixels: bytes | None = None) -> bytes:
    """A PNG that claims to be ``width``×``height`` but carries one tiny compressed row (or ``pixels``)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64) if pixels is None else pixels
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def corrupt_png() -> bytes:
    """A whole, well-formed 256×256 PNG (every CRC right) whose pixel data is not zlib: only decoding finds it."""
    return png_header_only(256, 256, pixels=b"not zlib data at all" * 40)


def encoded(picture: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    picture.save(out, format=fmt, **options)
    return out.getvalue()


def small_webp() -> bytes:
    return encoded(Image.new("RGB", (256, 256), (40, 90, 200)), "WEBP")


def truncated_png() -> bytes:
    """A real PNG of noise, cut in the middle of its pixel data: the header is fine."""
    noise = Image.frombytes("RGB", (256, 256), bytes(range(256)) * 768)
    whole = encoded(noise, "PNG")
    return whole[: len(whole) // 2]


def cmyk_jpeg() -> bytes:
    return encoded(Image.new("CMYK", (256, 256), (200, 30, 0, 10)), "JPEG")


@functools.cache
def gzip_bomb() -> bytes:
    """1 GiB of zeros, gzip-encoded (about 1 MB)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = b"\0" * (1 << 20)
    return b"".join([*(compressor.compress(zeros) for _ in range(BOMB_BYTES >> 20)), compressor.flush()])


@functools.cache
def brotli_bomb() -> bytes:
    """1 GiB of zeros, brotli-encoded (about 200 KB)."""
    compressor = brotli.Compressor(quality=1)
    zeros = b"\0" * (1 << 20)
    return b"".join([*(compressor.process(zeros) for _ in range(BOMB_BYTES >> 20)), compressor.finish()])


@dataclass
class Seen:
    """What the server received."""

    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    cancels: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    prompts: dict[str, str] = field(default_factory=dict)  # session_hash -> prompt, from each join
    joins: dict[str, int] = field(default_factory=dict)  # mode -> joins answered

    def paths(self, prefix: str = "") -> list[str]:
        return [path for path, _ in self.requests if path.startswith(prefix)]

    def cancelled(self, mode: str) -> list[dict[str, object]]:
        """The bodies of the cancel requests sent to ``mode``."""
        return [body for where, body in self.cancels if where == mode]


def event(message: object) -> bytes:
    text = message if isinstance(message, str) else json.dumps(message)
    return f"data: {text}\n\n".encode()


def build_app(seen: Seen, port: int) -> Starlette:
    def sse(messages: list[object], *, then: str = "end") -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            for message in messages:
                yield event(message)
                await asyncio.sleep(0.01)
            if then == "cut":
                raise ConnectionResetError("cut on purpose")  # uvicorn drops the connection mid-body
            if then == "silent":
                await asyncio.sleep(SLOW_SECONDS)

        return StreamingResponse(body(), media_type="text/event-stream")

    def file_data(mode: str) -> dict[str, object]:
        url = f"http://127.0.0.1:{port}/{mode}/gradio_api/file=x"
        return {"path": "/tmp/x", "url": url, "meta": {"_type": "gradio.FileData"}}

    def result(mode: str, url: str | None = None, seed: object = 7) -> dict[str, object]:
        file = {**file_data(mode), **({"url": url} if url else {})}
        return {"msg": "process_completed", "event_id": mode, "output": {"data": [file, seed]}, "success": True}

    def failed(mode: str, error: object) -> dict[str, object]:
        return {"msg": "process_completed", "event_id": mode, "output": {"error": error}, "success": False}

    def until_cancelled(mode: str, session: str, seconds: float, *, beat: float = 0.2) -> StreamingResponse:
        """Heartbeats until the session's job is cancelled or ``seconds`` pass, then the end of the job."""

        def cancelled() -> bool:
            return any(body.get("session_hash") == session for body in seen.cancelled(mode))

        async def body() -> AsyncIterator[bytes]:
            yield event({"msg": "process_starts", "event_id": mode})
            ends = time.monotonic() + seconds
            while time.monotonic() < ends and not cancelled():
                await asyncio.sleep(beat)
                yield event({"msg": "heartbeat"})
            yield event({**result(mode), "output": {}} if cancelled() else result(mode))

        return StreamingResponse(body(), media_type="text/event-stream")

    def trickle(data: bytes, media_type: str, every: float = 0.3) -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            ends = time.monotonic() + ENDLESS_SECONDS
            for byte in data:
                if time.monotonic() > ends:
                    return
                yield bytes([byte])
                await asyncio.sleep(every)

        return StreamingResponse(body(), media_type=media_type)

    def compressed(data: bytes, encoding: str, media_type: str) -> Response:
        return Response(data, media_type=media_type, headers={"content-encoding": encoding})

    def big(first: bytes, filler: bytes, media_type: str, count: int = 300) -> StreamingResponse:
        """``first``, then ``count`` MiB of ``filler`` (bounded, so a client without limits still ends)."""

        async def body() -> AsyncIterator[bytes]:
            yield first
            for _ in range(count):
                yield filler * ((1 << 20) // len(filler))

        return StreamingResponse(body(), media_type=media_type)

    def many_progress(mode: str, count: int = 10_000) -> StreamingResponse:
        """``count`` progress events as fast as the network takes them (in 100 bursts), then the result."""

        async def body() -> AsyncIterator[bytes]:
            yield event({"msg": "process_starts", "event_id": mode})
            for burst in range(100):
                yield b"".join(
                    event({"msg": "progress", "event_id": mode, "progress_data": [{"index": i, "length": count}]})
                    for i in range(burst * count // 100, (burst + 1) * count // 100)
                )
                await asyncio.sleep(0.005)
            yield event(result(mode))

        return StreamingResponse(body(), media_type="text/event-stream")

    def odd_stream(mode: str, prompt: str) -> StreamingResponse:
        """The ``odd`` Space: the prompt's marker picks an odd value in an otherwise fine job."""
        started = {"msg": "process_starts", "event_id": mode}
        if "[nan-index]" in prompt:
            progress = '{"msg": "progress", "event_id": "odd", "progress_data": [{"index": NaN, "length": 4}]}'
            return sse([started, progress, result(mode)])
        if "[inf-rank]" in prompt:
            queued = '{"msg": "estimation", "event_id": "odd", "rank": Infinity, "rank_eta": 1e400}'
            return sse([queued, started, result(mode)])
        if "[eta-nan]" in prompt:
            queued = '{"msg": "estimation", "event_id": "odd", "rank": 1, "rank_eta": NaN}'
            starts = '{"msg": "process_starts", "event_id": "odd", "eta": -Infinity}'
            return sse([queued, starts, result(mode)])
        if "[nan-seed]" in prompt:
            return sse([started, json.dumps(result(mode)).replace(", 7]", ", NaN]")])
        for marker, seed in (("[neg-seed]", -7), ("[huge-seed]", 10**300), ("[text-seed]", "5")):
            if marker in prompt:
                return sse([started, result(mode, seed=seed)])
        if "[error-object]" in prompt:
            return sse([started, failed(mode, {"detail": ["not", "a", "string"]})])
        if "[error-number]" in prompt:
            return sse([started, failed(mode, 42)])
        if "[cmyk]" in prompt:
            return sse([started, result(mode, file_data("cmyk")["url"])])  # type: ignore[arg-type]
        return sse([started, result(mode)])

    def gradio4(rest: str) -> Response:
        """A Space laid out as Gradio 4 lays it out: no api_prefix, the queue and files at the root."""
        routes: dict[str, Callable[[], Response]] = {
            "config": lambda: JSONResponse({"version": "4.44.1", "dependencies": [{"id": 0, "api_name": "infer"}]}),
            "queue/join": lambda: JSONResponse({"event_id": "gradio4"}),
            "queue/data": lambda: sse(
                [
                    {"msg": "process_starts", "event_id": "gradio4"},
                    result("gradio4", f"http://127.0.0.1:{port}/gradio4/file=x", seed=17),
                ]
            ),
            "file=x": lambda: Response(small_webp(), media_type="image/webp"),
        }
        return routes.get(rest, lambda: JSONResponse({"detail": "Not Found"}, status_code=404))()

    async def handle(request: Request) -> Response:
        mode, _, rest = request.url.path.lstrip("/").partition("/")
        seen.requests.append((request.url.path, dict(request.headers)))
        own = f"http://127.0.0.1:{port}/{mode}/gradio_api/file=x"
        if mode == "gradio4":
            return gradio4(rest)
        if mode == "private":
            return JSONResponse({"detail": "Not authenticated"}, status_code=401)
        if mode == "forbidden":
            return JSONResponse({"detail": "Forbidden"}, status_code=403)
        if mode == "echo-login" and rest == "login":  # a login that answers 422 with the form it was posted
            posted = (await request.body()).decode("latin-1")
            fields = dict(item.split("=", 1) for item in posted.split("&") if "=" in item)
            return JSONResponse({"detail": [{"msg": "bad login", "input": fields, "raw": posted}]}, status_code=422)
        if mode == "sleeping":
            return HTMLResponse(SLEEPING_PAGE, status_code=503)
        if mode == "building":
            return HTMLResponse(BUILDING_PAGE, status_code=503)
        if mode == "html-config" and rest == "config":
            return HTMLResponse("<html><body>Loading Space…</body></html>")
        if mode == "slow-config":
            await asyncio.sleep(SLOW_SECONDS)
        if rest == "config":
            configs: dict[str, Callable[[], Response]] = {
                "gzip-config": lambda: compressed(gzip_bomb(), "gzip", "application/json"),
                "br-config": lambda: compressed(brotli_bomb(), "br", "application/json"),
                "big-config": lambda: big(b'{"dependencies": [', b" ", "application/json", count=20),
                "trickle-config": lambda: trickle(json.dumps(CONFIG).encode(), "application/json", every=0.05),
                "config-id-abc": lambda: JSONResponse({**CONFIG, "dependencies": [{"id": "abc", "api_name": "infer"}]}),
                "config-id-null": lambda: JSONResponse({**CONFIG, "dependencies": [{"id": None, "api_name": "infer"}]}),
                "config-id-huge": lambda: Response(
                    json.dumps(CONFIG).replace('"id": 0', '"id": 1e400'), media_type="application/json"
                ),
                "config-prefix-int": lambda: JSONResponse({**CONFIG, "api_prefix": 5}),
                "config-prefix-host": lambda: JSONResponse({**CONFIG, "api_prefix": "@localhost:1/x"}),
                "config-deep": lambda: Response("[" * 100_000 + "]" * 100_000, media_type="application/json"),
                "zero-range": lambda: JSONResponse(declared_config((0, 0))),
                "upside-down-range": lambda: JSONResponse(declared_config((2048, -5))),
                "declared-768x512": lambda: JSONResponse(declared_config((256, 2048), size=(768, 512))),
            }
            return configs.get(mode, lambda: JSONResponse(CONFIG))()
        if rest == "gradio_api/info" and mode in {"zero-range", "upside-down-range", "declared-768x512"}:
            return JSONResponse(SCHNELL_INFO)
        if rest == "gradio_api/queue/join":
            body = json.loads(await request.body())
            seen.prompts[body["session_hash"]] = str(body["data"][0])
            seen.joins[mode] = seen.joins.get(mode, 0) + 1
            if mode == "slow-join":
                await asyncio.sleep(1.0)
            if mode == "gzip-join":
                return compressed(gzip_bomb(), "gzip", "application/json")
            if mode == "big-join":
                return big(b'{"event_id": "', b"x", "application/json", count=10)
            if mode == "echo-400":
                return JSONResponse({"detail": "bad request", "headers": dict(request.headers)}, status_code=400)
            if mode == "echo-400-padded":  # the token starts 21 characters before the 500-character cut
                padded = "p" * 461 + request.headers.get("authorization", "")
                return JSONResponse({"detail": padded}, status_code=400)
            return JSONResponse({"event_id": mode})
        if rest == "gradio_api/cancel":
            seen.cancels.append((mode, json.loads(await request.body())))
            return JSONResponse({"success": True})
        if rest == "gradio_api/queue/data":
            started = {"msg": "process_starts", "event_id": mode}
            renamed = f"https://127.0.0.1:{port + 1}"  # the Space's own host, another scheme and port
            session = request.query_params.get("session_hash", "")
            prompt = seen.prompts.get(session, "")
            streams = {
                "ends-early": lambda: sse([started]),
                "cut": lambda: sse([started], then="cut"),
                "malformed": lambda: sse([started, "{not json"]),
                "no-msg": lambda: sse([started, {"event_id": mode}]),
                "markup-url": lambda: sse([started, result(mode, own + ')"><img src=x onerror=alert(1)>](js:x)')]),
                # Lines ended by CR alone, as the SSE specification allows.
                "cr-lines": lambda: Response(
                    (event(started) + event(result(mode, own))).replace(b"\n", b"\r"), media_type="text/event-stream"
                ),
                "escape-error": lambda: sse([started, failed(mode, ESCAPING_ERROR)]),
                # JSON's "\ud800" escape: a lone surrogate, which no UTF-8 encoder takes.
                "surrogate-error": lambda: sse([started, json.dumps(failed(mode, "half: X")).replace("X", "\\ud800")]),
                # The Space puts the request's own headers (the token among them) into a progress text.
                "header-progress": lambda: sse(
                    [
                        started,
                        {
                            "msg": "progress",
                            "event_id": mode,
                            "progress_data": [
                                {"index": 1, "length": 2, "desc": f"as {request.headers.get('authorization')}"},
                            ],
                        },
                        result(mode, own),
                    ]
                ),
                "other-jobs": lambda: sse(
                    [
                        {"msg": "process_completed", "event_id": "someone-else", "output": {"error": "not mine"}},
                        started,
                        result(mode, own),
                    ]
                ),
                "empty-output": lambda: sse([started, {**result(mode), "output": {}}]),
                # The Space names its own host with another scheme and port, as a proxy in front of it may.
                "proxy-url": lambda: sse([started, result(mode, own.replace(f"http://127.0.0.1:{port}", renamed))]),
                "silent": lambda: sse([started], then="silent"),
                "other-origin": lambda: sse([started, result(mode, f"http://localhost:{port}/{mode}/elsewhere")]),
                "file-scheme": lambda: sse([started, result(mode, "file:///etc/passwd")]),
                "odd": lambda: odd_stream(mode, prompt),
                "gradio4-quota": lambda: sse([started, failed(mode, GRADIO4_QUOTA)]),
                "hold": lambda: until_cancelled(mode, session, HOLD_SECONDS),
                "slow-join": lambda: until_cancelled(mode, session, HOLD_SECONDS),
                "held": lambda: until_cancelled(mode, session, HELD_SECONDS, beat=0.3),
                "heartbeats": lambda: until_cancelled(mode, session, ENDLESS_SECONDS),
                "trickle-stream": lambda: trickle(event(started) + event(result(mode)), "text/event-stream"),
                "long-line": lambda: big(event(started) + b"data: ", b"a", "text/event-stream"),
                # One event of many short lines and no blank one: its size is the event's, not a line's.
                "many-line-event": lambda: big(event(started), b"data: " + b"a" * 1017 + b"\n", "text/event-stream"),
                "gzip-stream": lambda: compressed(gzip_bomb(), "gzip", "text/event-stream"),
                "many-progress": lambda: many_progress(mode),
            }
            return streams.get(mode, lambda: sse([started, result(mode, own)]))()
        if rest.startswith("gradio_api/file=x"):
            files: dict[str, Callable[[], Response]] = {
                "not-image": lambda: HTMLResponse("<html>not an image</html>"),
                "bomb": lambda: Response(png_header_only(20000, 20000), media_type="image/png"),
                "huge-claim": lambda: Response(png_header_only(5000, 5000), media_type="image/png"),
                "huge-body": lambda: big(b"\x89PNG\r\n\x1a\n", b"\0", "image/png", count=64),
                "br-image": lambda: compressed(brotli_bomb(), "br", "image/webp"),
                "gzip-image": lambda: compressed(gzip_bomb(), "gzip", "image/webp"),
                "trickle-image": lambda: trickle(small_webp(), "image/webp"),
                "truncated": lambda: Response(truncated_png(), media_type="image/png"),
                "cmyk": lambda: Response(cmyk_jpeg(), media_type="image/jpeg"),
                "corrupt": lambda: Response(corrupt_png(), media_type="image/png"),
            }
            return files.get(mode, lambda: Response(small_webp(), media_type="image/webp"))()
        return JSONResponse({"detail": "Not Found"}, status_code=404)

    return Starlette(routes=[Route("/{path:path}", handle, methods=["GET", "POST"])])


@contextmanager
def misbehaving_space() -> Iterator[tuple[str, Seen]]:
    """Serve the misbehaving Space in a thread; yield its base URL and what it saw."""
    seen = Seen()
    with served(lambda port: build_app(seen, port)) as url:
        yield url, seen
