"""The local backend's overhead: seconds per image through flux_widget vs the same plain diffusers call.

With a GPU and a model's weights present (``--model``), that model is measured on the GPU; otherwise
this says so and measures a tiny random-weight FLUX pipeline on the CPU (the tests' own). The two
paths run the same pipeline object, alternately, in the same process. Run:

    python bench/bench_local.py [--runs 20] [--size 64] [--steps 4] [--batch 4] [--model REPO_OR_FOLDER]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import torch

import flux_widget
from flux_widget.backends._count import batch_requests
from flux_widget.backends.local._backend import LocalBackend
from flux_widget.types import GenerationRequest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--model", default=None, help="a real model (needs a GPU and its weights)")
    parser.add_argument("--batch", type=int, default=4, help="also compare N images one by one and batched")
    args = parser.parse_args()
    if args.model and torch.cuda.is_available():
        model, device = args.model, "cuda"
    else:
        from support.tiny_pipelines import save_tiny_flux

        print("No GPU (or no --model): the GPU measurement is skipped; measuring the tiny pipeline on the CPU.")
        model, device = str(save_tiny_flux(Path(tempfile.mkdtemp()))), "cpu"
    backend = LocalBackend(model, device=device)
    request = GenerationRequest.build(
        "a fox in a hat", width=args.size, height=args.size, steps=args.steps, seed=3, randomize_seed=False
    )
    asyncio.run(backend.generate(request))  # loads the pipeline (once per process) and warms up
    pipeline = backend._pipeline(lambda _event: None)

    def plain() -> None:
        pipeline(
            request.prompt, width=args.size, height=args.size, num_inference_steps=args.steps,
            generator=torch.Generator("cpu").manual_seed(3),
        ).images[0].save("/dev/null", format="PNG")  # fmt: skip

    def ours() -> None:
        asyncio.run(backend.generate(request))

    def plain_on_a_thread() -> None:  # where the backend runs it: torch's thread pool behaves differently there
        asyncio.run(asyncio.to_thread(plain))

    runs = {"plain diffusers": plain, "plain, on a thread": plain_on_a_thread, "flux_widget local": ours}
    times = alternately(runs, args.runs)
    floor = statistics.median(times["plain, on a thread"])
    print(f"{args.runs} runs, {args.size}×{args.size}, {args.steps} steps, {device}, medians:")
    for name, seconds in times.items():
        median = statistics.median(seconds)
        print(f"  {name:19s} {median * 1000:8.1f} ms  {median / floor:5.3f}× the plain call on a thread")
    if device == "cuda":
        print(f"  peak GPU memory   {torch.cuda.max_memory_allocated() / 2**30:8.2f} GiB")
    if args.batch > 1:
        compare_batching(backend, request, args.batch, max(1, args.runs // 4))
    flux_widget.unload()


def alternately(cases: dict[str, Callable[[], object]], runs: int) -> dict[str, list[float]]:
    """Seconds of each case, ``runs`` times, the cases taking turns (so drift hits them alike)."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, run in cases.items():
            begin = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - begin)
    return times


def compare_batching(backend: LocalBackend, request: GenerationRequest, count: int, runs: int) -> None:
    """``count`` images one call each against one batched call (what ``count=`` does), alternately."""
    requests = batch_requests(request, count)

    async def one_by_one() -> None:
        for each in requests:
            await backend.generate(each)

    async def batched() -> None:
        await backend.generate_many(requests)

    cases = {"one by one": lambda: asyncio.run(one_by_one()), "batched": lambda: asyncio.run(batched())}
    times = alternately(cases, runs)
    floor = statistics.median(times["batched"])
    print(f"{count} images, {runs} runs, medians:")
    for name, seconds in times.items():
        median = statistics.median(seconds)
        print(f"  {name:19s} {median / count * 1000:8.1f} ms an image  {median / floor:5.2f}× the batched call")


if __name__ == "__main__":
    main()
