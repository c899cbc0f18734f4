"""Median time per generation: FluxClient vs gradio_client vs a minimal hand-written httpx sequence.

All three call the same real Gradio stand-in Space in the same run. Run:

    python bench/bench_client.py [--runs 30] [--size 512]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.servers import start_standin, stop

from flux_widget import FluxClient


async def hand_written_floor(http: httpx.AsyncClient, base: str, size: int, seed: int) -> bytes:
    """The least a client can do: the simple /call API, its event stream, the file."""
    joined = await http.post(f"{base}/gradio_api/call/infer", json={"data": ["bench", seed, False, size, size, 4]})
    event_id = joined.json()["event_id"]
    async with http.stream("GET", f"{base}/gradio_api/call/infer/{event_id}") as response:
        async for line in response.aiter_lines():
            if line.startswith("data:") and line != "data: null":
                payload = json.loads(line[5:])
    image = await http.get(payload[0]["url"])
    return image.content


async def time_async(runs: int, call: Callable[[int], Awaitable[object]]) -> list[float]:
    await call(0)  # warm-up
    times = []
    for i in range(1, runs + 1):
        begin = time.perf_counter()
        await call(i)
        times.append(time.perf_counter() - begin)
    return times


def time_gradio_client(base: str, runs: int, size: int) -> list[float]:
    from gradio_client import Client

    with tempfile.TemporaryDirectory() as downloads:
        client = Client(base, verbose=False, download_files=downloads)
        client.predict("bench", 0, False, size, size, 4, api_name="/infer")
        times = []
        for i in range(1, runs + 1):
            begin = time.perf_counter()
            client.predict("bench", i, False, size, size, 4, api_name="/infer")
            times.append(time.perf_counter() - begin)
        client.close()
    return times


async def measure(base: str, runs: int, size: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {}
    async with httpx.AsyncClient() as http:
        results["hand-written httpx (/call floor)"] = await time_async(
            runs, lambda i: hand_written_floor(http, base, size, i)
        )
    async with FluxClient(base) as client:
        results["FluxClient (queue API)"] = await time_async(
            runs, lambda i: client.generate("bench", width=size, height=size, seed=i, randomize_seed=False)
        )
    results["gradio_client.Client.predict"] = await asyncio.to_thread(time_gradio_client, base, runs, size)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        process, base = start_standin(Path(tmp))
        try:
            results = asyncio.run(measure(base, args.runs, args.size))
        finally:
            stop(process)
    medians = {name: statistics.median(times) for name, times in results.items()}
    floor = medians["hand-written httpx (/call floor)"]
    gradio = medians["gradio_client.Client.predict"]
    print(f"{args.runs} generations of {args.size}x{args.size} each, real Gradio stand-in, median per image:")
    for name, median in medians.items():
        print(
            f"  {name:34s} {median * 1000:8.1f} ms   {median / floor:5.2f}x floor   "
            f"{median / gradio:5.2f}x gradio_client"
        )
    ours = medians["FluxClient (queue API)"]
    print(
        f"FluxClient / floor = {ours / floor:.2f} (goal <= 1.3); "
        f"FluxClient / gradio_client = {ours / gradio:.2f} (goal <= 0.6)"
    )


if __name__ == "__main__":
    main()
