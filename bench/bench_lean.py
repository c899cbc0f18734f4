"""Issue 10's costs, each against its alternative measured in the same run (real stand-in Space).

1. Import time: ``from flux_widget import FluxClient`` vs ``from gradio_client import Client``.
2. The command line, wall time and peak memory, vs a gradio_client one-liner saving the same image.
3. ``%flux`` display cost per image: today's JPEG vs the JPEG and PNG settings it used before, on the
   stand-in's photo-sized WebP and on real photographs (scikit-image's, when it is installed).
4. Comm bytes per generation after n = 1, 50, 200 generations (photo-like images): one model per
   history entry vs re-sending the whole history list.

Run:  python bench/bench_lean.py [--runs 5] [--history 200]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
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
                      "--space", space, "-o", "out.webp", "--overwrite"], FLUX_CLI, folder)
            for _ in range(runs)
        ]  # fmt: skip
        theirs = [measured(["x", space, str(size)], GRADIO_ONE_LINER, folder) for _ in range(runs)]
    return {
        "flux_widget CLI (-o out.webp)": (statistics.median(t for t, _ in ours), statistics.median(m for _, m in ours)),
        "gradio_client one-liner": (statistics.median(t for t, _ in theirs), statistics.median(m for _, m in theirs)),
    }


#: The JPEG settings %flux used before, measured beside today's in the same run.
EARLIER_JPEG = {
    "JPEG q80 (until issue 19)": {"quality": 80, "subsampling": "4:2:0", "optimize": True, "progressive": True},
    "JPEG q85 (before)": {"quality": 85},
}
PHOTOS = ("astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg", "motorcycle_left.png")


def photographs() -> dict[str, bytes]:
    """Real photographs shipped inside scikit-image, at 1024² as WebP with Pillow's defaults (what Gradio sends).

    Empty, and said so by the caller, when scikit-image is not installed (``pip install scikit-image``).
    """
    from PIL import Image

    try:
        import skimage
    except ImportError:
        return {}
    found = {}
    for name in PHOTOS:
        with Image.open(Path(skimage.__file__).parent / "data" / name) as picture:
            out = io.BytesIO()
            picture.convert("RGB").resize((1024, 1024), Image.Resampling.LANCZOS).save(out, format="WEBP")
            found[name] = out.getvalue()
    return found


async def display_costs(space: str, runs: int) -> dict[str, dict[str, tuple[float, float]]]:
    """Per source image: each way of showing it, as (median ms, notebook bytes / the WebP's bytes)."""
    from PIL import Image

    import flux_widget._images as images
    from flux_widget import FluxClient

    async with FluxClient(space) as client:
        generation = await client.generate("bench display", width=1024, height=1024, seed=2, randomize_seed=False)
    sources = {"textured stand-in": generation.image_bytes, **photographs()}

    def timed(make: Any, webp: bytes) -> tuple[float, float]:
        times, size = [], 0
        for _ in range(runs):
            begin = time.perf_counter()
            size = len(base64.b64encode(make()))  # a notebook stores the image as base64 text
            times.append(time.perf_counter() - begin)
        return statistics.median(times) * 1000, size / len(webp)

    def jpeg(webp: bytes, options: dict[str, Any]) -> bytes:
        out = io.BytesIO()
        images.decode(webp).convert("RGB").save(out, format="JPEG", **options)
        return out.getvalue()

    costs = {}
    for name, webp in sources.items():
        with Image.open(io.BytesIO(webp)) as picture:
            assert picture.size == (1024, 1024)
        row = {"JPEG q70 (shown now)": timed(lambda webp=webp: images.display_bytes(webp)[0], webp)}
        for label, options in EARLIER_JPEG.items():
            row[label] = timed(lambda webp=webp, options=options: jpeg(webp, options), webp)
        row["PNG (first version)"] = timed(lambda webp=webp: images.to_png(webp, {}), webp)
        costs[name] = row
    return costs


async def history_traffic(space: str, total: int) -> dict[int, tuple[int, int, int]]:
    """For generation n: (bytes sent, image bytes, bytes had the whole history list been re-sent)."""
    from ipywidgets import Widget

    from flux_widget import FluxWidget
    from flux_widget.widget._history import HistoryEntry

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
            print("3. %flux display of a 1024² image: bytes in the notebook (base64) / the Space's WebP, and time")
            if len(display) == 1:
                print("   (photographs skipped: scikit-image is not installed; pip install scikit-image)")
            ways = list(next(iter(display.values())))
            for way in ways:
                ratios = [row[way][1] for row in display.values()]
                photo = [row[way][1] for name, row in display.items() if name != "textured stand-in"]
                median_ms = statistics.median(row[way][0] for row in display.values())
                spread = f"  photographs median {statistics.median(photo):.2f}x ({min(photo):.2f}–{max(photo):.2f})"
                print(
                    f"   {way:26s} {median_ms:6.1f} ms  stand-in {ratios[0]:.2f}x"
                    + (spread if photo else "")
                    + "  (goals <= 60 ms, <= 1.8x)"
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
