"""Peak memory of hostile bodies and time to the deadline: FluxClient vs httpx's own reading, and
the inference backend vs huggingface_hub's own ``text_to_image`` (what it used to call).

Every fault is served by the tests' misbehaving server on 127.0.0.1. For each body the
alternative is what a careful client built on httpx's defaults does: stream the body and check a
size cap after every chunk (httpx decodes each network chunk whole before the check can run).
Peak memory is Python's traced allocations (tracemalloc) during one request. Run:

    python bench/bench_limits.py
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.inference_server import inference_endpoint
from support.misbehaving import misbehaving_space

from flux_widget import FluxClient, FluxError
from flux_widget.backends.space._client import MAX_CONFIG_BYTES
from flux_widget.backends.space._http import MAX_EVENT_BYTES, MAX_IMAGE_BYTES

MiB = 1024 * 1024
EVENTS = "/gradio_api/queue/data"


async def peak_of(call: Callable[[], Awaitable[object]]) -> tuple[float, str]:
    """Peak traced memory in MiB while ``call`` runs, and how it ended."""
    gc.collect()
    tracemalloc.start()
    try:
        outcome = "finished"
        try:
            await call()
        except FluxError as exc:
            outcome = type(exc).__name__
        except Exception as exc:
            outcome = f"{type(exc).__name__} (not a FluxError)"
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / MiB, outcome


async def httpx_capped(url: str, cap: int, *, lines: bool = False) -> None:
    """httpx's defaults, with the cap checked after every decoded chunk (or line)."""
    async with httpx.AsyncClient(timeout=60) as http, http.stream("GET", url) as response:
        received = 0
        chunks = response.aiter_lines() if lines else response.aiter_bytes()
        async for chunk in chunks:
            received += len(chunk)
            if received > cap:
                raise ValueError(f"over {cap} bytes")


async def flux_generate(url: str, **options: float) -> None:
    async with FluxClient(url, **options) as client:  # type: ignore[arg-type]
        await client.generate("bench", width=256, height=256)


async def hub_text_to_image(url: str) -> None:
    """huggingface_hub's own reading: ``AsyncInferenceClient.text_to_image``, then the PIL image as WebP."""
    import io

    from huggingface_hub import AsyncInferenceClient

    client = AsyncInferenceClient(model=url, token="hf_" + "bench" * 8)
    try:
        picture = await client.text_to_image("bench", width=256, height=256)
        picture.save(io.BytesIO(), format="WEBP")
    finally:
        await client.close()


async def ours_inference(url: str) -> None:
    from flux_widget.backends._inference import InferenceBackend
    from flux_widget.types import GenerationRequest

    backend = InferenceBackend(url, token="hf_" + "bench" * 8)
    try:
        await backend.generate(GenerationRequest.build("bench", width=256, height=256))
    finally:
        await backend.aclose()


async def inference_limits() -> None:
    with inference_endpoint() as (base, _):
        print("\nInference backend, one hostile answer (MiB), same endpoint, same run:")
        print(f"  {'fault':44s} {'hub own':>12s} {'ours':>11s} {'ratio':>7s}  our error")
        for label, mode in [
            ("answer of 1 GiB", "huge-answer"),
            ("answer, gzip bomb (1 GiB decoded)", "gzip-answer"),
            ("answer, brotli bomb (1 GiB decoded)", "br-answer"),
            ("a 9000×9000 PNG header", "wide-image"),
        ]:
            theirs, their_end = await peak_of(lambda: hub_text_to_image(f"{base}/{mode}"))  # noqa: B023
            ours, outcome = await peak_of(lambda: ours_inference(f"{base}/{mode}"))  # noqa: B023
            print(f"  {label:44s} {theirs:12.1f} {ours:11.1f} {ours / theirs:7.3f}  {outcome} (hub: {their_end})")


async def main() -> None:
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)  # the server writing to sockets the client closed
    with misbehaving_space() as (base, seen):
        print("Peak traced memory for one hostile body (MiB), same server, same run:")
        print(f"  {'fault':44s} {'httpx + cap':>12s} {'FluxClient':>11s} {'ratio':>7s}  FluxClient's error")
        cases = [
            ("image, brotli bomb (1 GiB decoded)", "br-image", "/br-image/gradio_api/file=x", MAX_IMAGE_BYTES, False),
            ("image, gzip bomb (1 GiB decoded)", "gzip-image", "/gzip-image/gradio_api/file=x", MAX_IMAGE_BYTES, False),
            ("/config, gzip bomb (1 GiB decoded)", "gzip-config", "/gzip-config/config", MAX_CONFIG_BYTES, False),
            ("event stream, gzip bomb (1 GiB decoded)", "gzip-stream", f"/gzip-stream{EVENTS}", MAX_EVENT_BYTES, True),
            ("event stream, one 300 MB line", "long-line", f"/long-line{EVENTS}", MAX_EVENT_BYTES, True),
        ]  # fmt: skip
        for label, mode, path, cap, lines in cases:
            plain, _ = await peak_of(lambda: httpx_capped(f"{base}{path}", cap, lines=lines))  # noqa: B023
            ours, outcome = await peak_of(lambda: flux_generate(f"{base}/{mode}"))  # noqa: B023
            print(f"  {label:44s} {plain:12.1f} {ours:11.1f} {ours / plain:7.3f}  {outcome}")

        print("\nTime to give up with timeout=2 s and deadline=2 s (without a deadline: as long as the server likes):")
        for label, mode in [
            ("heartbeats forever", "heartbeats"),
            ("event stream, 1 byte / 0.3 s", "trickle-stream"),
            ("/config, 1 byte / 0.05 s", "trickle-config"),
            ("image, 1 byte / 0.3 s", "trickle-image"),
        ]:
            before = len(seen.cancelled(mode))
            begin = time.perf_counter()
            _, outcome = await peak_of(lambda: flux_generate(f"{base}/{mode}", timeout=2, deadline=2))  # noqa: B023
            took = time.perf_counter() - begin
            cancels = len(seen.cancelled(mode)) - before
            print(f"  {label:32s} {took:5.2f} s  {outcome}, cancels seen by the server: {cancels}")
    await inference_limits()


if __name__ == "__main__":
    asyncio.run(main())
