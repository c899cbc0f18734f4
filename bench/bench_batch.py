"""Batches: wall time and places taken in the Space's queue, two jobs at a time vs one vs all at once.

Against the real stand-in Space serving one job at a time (as a hosted ZeroGPU Space does), each
image taking about 1.2 s (``[slow]``, 2 steps). Measured in the same run:

- one at a time: each job joins the queue only when the previous one is done;
- two at a time (what ``count=N`` does): the next job waits in the queue while one runs;
- all at once: every image joins the queue at the start.

With ``--space-workers 2`` the stand-in serves two jobs at once (a Space with more than one
worker), where running more than one at a time pays off.

Run:  python bench/bench_batch.py [--count 4] [--runs 3] [--space-workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.servers import start_standin, stop

from flux_widget import FluxClient
from flux_widget.backends._count import batch_outcomes, batch_requests
from flux_widget.types import GenerationRequest, Queued


async def one_batch(client: FluxClient, count: int, concurrency: int) -> tuple[float, int]:
    """Wall seconds for ``count`` images, and the most of them the Space held at once (queued or running)."""
    waiting: set[int] = set()
    most = 0

    def seen(slot: int, event: object) -> None:
        nonlocal most
        if isinstance(event, Queued):
            waiting.add(slot)
            most = max(most, len(waiting))

    request = GenerationRequest.build("[slow] bench", width=256, height=256, steps=2, seed=1, randomize_seed=False)
    begin = time.perf_counter()
    requests = batch_requests(request, count)
    async with batch_outcomes(client, requests, concurrency=concurrency, on_progress=seen) as outcomes:
        async for slot, outcome in outcomes:
            waiting.discard(slot)
            if isinstance(outcome, BaseException):
                raise outcome
    return time.perf_counter() - begin, most


async def measure(url: str, count: int, runs: int, workers: int) -> None:
    async with FluxClient(url) as client:
        await client.generate("warm up", width=256, height=256, steps=1)
        rows = {}
        for name, concurrency in (("one at a time", 1), ("two at a time (count=N)", 2), ("all at once", count)):
            results = [await one_batch(client, count, concurrency) for _ in range(runs)]
            rows[name] = (statistics.median(r[0] for r in results), max(r[1] for r in results))
    base = rows["two at a time (count=N)"][0]
    print(f"{count} images of ~1.2 s each, a Space serving {workers} job(s) at once, median of {runs} runs:")
    for name, (seconds, most) in rows.items():
        ratio = seconds / base
        print(f"  {name:26s} {seconds:6.2f} s  ({ratio:4.2f}× two at a time)  most at the Space at once: {most}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--space-workers", type=int, default=1, help="jobs the stand-in Space runs at once")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        process, url = start_standin(Path(tmp), "--concurrency", str(args.space_workers))
        try:
            asyncio.run(measure(url, args.count, args.runs, args.space_workers))
        finally:
            stop(process)


if __name__ == "__main__":
    main()
