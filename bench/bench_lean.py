"""Issue 10's costs, each against its alternative measured in the same run (real stand-in Space).

1. Import time: ``from flux_widget import FluxClient`` vs ``from gradio_client import Client``.
2. The command line, wall time and peak memory, vs a gradio_client one-liner saving the same image.
3. ``%flux`` display cost per image: JPEG (what it shows) vs the PNG it used to re-encode.
4. Comm bytes per generation after n = 1, 50, 200 generations (photo-like images): one model per
   history entry vs re-sending the whole history list.

Run:  python bench/bench_lean.py [--runs 5] [--history 200]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.servers import start_standin, stop

HERE = Path(__file__).resolve().parent

MEASURED_RUN = """
import resource, runpy, sys, time
begin = time.perf_counter()
sys.argv = {argv!r}
try:
    {body}
except SystemExit as exit:
    assert not exit.code, exit.code
print(time.perf_counter() - begin, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, file=sys.stderr)
"""
FLUX_CLI = "runpy.run_module('flux_widget', run_name='__main__')"
GRADIO_ONE_LINER = (
    "import shutil; from gradio_client import Client; "
    "shutil.copy(Client(sys.argv[1], verbose=False).predict('bench cli', 1, False, int(sys.argv[2]), "
    "int(sys.argv[2]), 4, api_name='/infer')[0], 'out.webp')"
)


def seconds_to_import(statement: str, runs: int) -> float:
    """Median wall time of ``statement`` in a fresh interpreter (interpreter start-up excluded)."""
    code = f"import time\nbegin = time.perf_counter()\n{statement}\nprint(time.perf_counter() - begin)"
    times = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(runs)
    ]
    return statistics.median(times)


def measured(argv: list[str], body: str, cwd: str) -> tuple[float, float]:
    """Wall seconds (from before the first import) and peak RSS in MiB of one run in a fresh interpreter."""
    code = MEASURED_RUN.format(argv=argv, body=body)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, check=True)
    wall, peak = result.stderr.strip().splitlines()[-1].split()
    return float(wall), float(peak)


def cli_costs(space: str, size: int, runs: int) -> dict[str, tuple[float, float]]:
    with tempfile.TemporaryDirectory() as folder:
        ours = [
            measured(["flux_widget", "bench cli", "--seed", "1", "--width", str(size), "--height", str(size),
                      "--space", space, "-o", "out.webp"], FLUX_CLI, folder)
            for _ in range(runs)
        ]  # fmt: skip
        theirs = [measured(["x", space, str(size)], GRADIO_ONE_LINER, folder) for _ in range(runs)]
    return {
        "flux_widget CLI (-o out.webp)": (statistics.median(t for t, _ in ours), statistics.median(m for _, m in ours)),
        "gradio_client one-liner": (statistics.median(t for t, _ in theirs), statistics.median(m for _, m in theirs)),
    }


async def display_costs(space: str, runs: int) -> dict[str, Any]:
    from flux_widget import FluxClient, images

    async with FluxClient(space) as client:
        generation = await client.generate("bench display", width=1024, height=1024, seed=2, randomize_seed=False)

    def timed(make: Any) -> tuple[float, int]:
        times, size = [], 0
        for _ in range(runs):
            begin = time.perf_counter()
            size = len(base64.b64encode(make()))
            times.append(time.perf_counter() - begin)
        return statistics.median(times), size

    return {
        "image": len(generation.image_bytes),
        "JPEG (shown now)": timed(lambda: images.display_bytes(generation.image_bytes, generation.parameters)[0]),
        "PNG (shown before)": timed(lambda: images.to_png(generation.image_bytes, generation.parameters)),
    }


async def history_traffic(space: str, total: int) -> dict[int, tuple[int, int, int]]:
    """For generation n: (bytes sent, image bytes, bytes had the whole history list been re-sent)."""
    from ipywidgets import Widget

    from flux_widget import FluxWidget
    from flux_widget.history import HistoryEntry

    sent: list[int] = []
    opened: list[int] = []  # each history entry's model, opened on a comm of its own with its state

    def record(data: Any = None, metadata: Any = None, buffers: Any = None) -> None:
        sent.append(len(json.dumps(data)) + sum(len(bytes(buffer)) for buffer in buffers or []))

    original_open = Widget.open

    def open_and_record(self: Any) -> None:
        original_open(self)
        if isinstance(self, HistoryEntry):
            opened.append(len(json.dumps(self.get_state())))
            self.comm.send = record

    Widget.open = open_and_record  # type: ignore[method-assign]
    try:
        widget = FluxWidget(space, width=1024, height=1024, steps=1)
        widget.comm.send = record
        results = {}
        for n in range(1, total + 1):
            sent_before, opened_before = len(sent), len(opened)
            generation = await widget.generate(f"bench history {n}", seed=n, randomize_seed=False)
            entry, refs = sum(opened[opened_before:]), len(json.dumps(widget.get_state("history")["history"]))
            ours = sum(sent[sent_before:]) + entry
            whole_list = len(json.dumps([item.as_dict() for item in widget.history]))
            if n in (1, 50, total):
                results[n] = (ours, len(generation.image_bytes), ours - entry - refs + whole_list)
        widget.close()
    finally:
        Widget.open = original_open  # type: ignore[method-assign]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--history", type=int, default=200)
    args = parser.parse_args()

    ours = seconds_to_import("from flux_widget import FluxClient", args.runs)
    theirs = seconds_to_import("from gradio_client import Client", args.runs)
    print(f"1. Import (median of {args.runs} fresh interpreters):")
    ratio = ours / theirs
    print(f"   from flux_widget import FluxClient   {ours * 1000:7.1f} ms  {ratio:.2f}x gradio_client (goal <= 0.8)")
    print(f"   from gradio_client import Client     {theirs * 1000:7.1f} ms")

    with tempfile.TemporaryDirectory() as tmp:
        process, space = start_standin(Path(tmp), "--texture")
        try:
            print(f"2. Command line, one image (median of {args.runs} fresh interpreters, imports included):")
            for size in (1024, 2048):
                costs = cli_costs(space, size, args.runs)
                base_time, base_memory = costs["gradio_client one-liner"]
                for name, (wall, memory) in costs.items():
                    print(
                        f"   {size}² {name:30s} {wall:6.2f} s {wall / base_time:5.2f}x   "
                        f"{memory:6.1f} MiB {memory / base_memory:5.2f}x  (goals <= 1.0x, <= 1.2x)"
                    )
            display = asyncio.run(display_costs(space, args.runs))
            print(f"3. %flux display of one 1024² image ({display['image']:,} B of WebP from the Space):")
            for name in ("JPEG (shown now)", "PNG (shown before)"):
                seconds, size = display[name]
                print(
                    f"   {name:20s} {seconds * 1000:7.1f} ms  {size:>10,} B in the notebook  "
                    f"{size / display['image']:.2f}x the image  (goals <= 60 ms, <= 2x)"
                )
            traffic = asyncio.run(history_traffic(space, args.history))
        finally:
            stop(process)
    print("4. Comm bytes for generation n of a 1024² photo-like history:")
    first_ours = traffic[1][0] / traffic[1][1]
    first_old = traffic[1][2] / traffic[1][1]
    for n, (ours_bytes, image, old_bytes) in traffic.items():
        print(
            f"   n={n:<4d} one model per entry {ours_bytes:>9,} B ({ours_bytes / image / first_ours:.3f}x n=1)   "
            f"whole list re-sent {old_bytes:>9,} B ({old_bytes / image / first_old:.3f}x n=1)  (goal n=200 <= 1.1x)"
        )


if __name__ == "__main__":
    main()
