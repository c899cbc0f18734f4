"""The widget's costs, each against the alternative, measured in one run against the real stand-in.

1. Bytes sent over the comm per displayed image, vs the image's own size (binary buffer vs the
   base64 text many widgets send).
2. Growth of the saved widget state per history entry (text thumbnails vs full images as base64).
3. Time until another cell's output appears while a generation runs in a real kernel (the widget's
   task on the kernel loop vs a blocking call), and with the kernel idle.

Run:  python bench/bench_widget.py [--size 1024] [--entries 10] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from bench_lean import photographs
from support.servers import start_standin, stop

from flux_widget import FluxWidget
from flux_widget._images import thumbnail_data_url


def message_bytes(data: dict[str, Any], buffers: list[Any]) -> int:
    return len(json.dumps(data).encode()) + sum(len(bytes(buffer)) for buffer in buffers)


async def comm_bytes(space: str, size: int) -> dict[str, float]:
    """Bytes over the comm for one generation; the image message alone and everything."""
    widget = FluxWidget(space, width=size, height=size)
    sent: list[tuple[dict[str, Any], list[Any]]] = []
    widget.comm.send = lambda data=None, metadata=None, buffers=None: sent.append((data, buffers or []))
    generation = await widget.generate("bench: bytes on the wire", seed=1, randomize_seed=False)
    image_messages = [(d, b) for d, b in sent if ["image"] in d.get("buffer_paths", [])]
    image_size = len(generation.image_bytes)
    widget.close()
    await widget._client.aclose()
    return {
        "image": image_size,
        "image message": sum(message_bytes(d, b) for d, b in image_messages),
        "all messages": sum(message_bytes(d, b) for d, b in sent),
        "base64 text alternative": len(
            json.dumps({"state": {"image": base64.b64encode(generation.image_bytes).decode()}})
        ),
    }


def saved_state_size(widget: FluxWidget) -> int:
    """The widget's state as JupyterLab saves it (JSON, no binary buffers), history entries' models included."""
    states = [widget.get_state(), *(entry.get_state() for entry in widget.history)]
    return sum(
        len(json.dumps({k: v for k, v in state.items() if not isinstance(v, bytes | memoryview)}).encode())
        for state in states
    )


async def state_growth(space: str, size: int, entries: int) -> dict[str, float]:
    widget = FluxWidget(space, width=size, height=size)
    await widget.generate("bench: state growth 0", seed=0, randomize_seed=False)
    first = saved_state_size(widget)
    full_images = [len(base64.b64encode(widget.generations[0].image_bytes))]
    for i in range(1, entries):
        await widget.generate(f"bench: state growth {i}", seed=i, randomize_seed=False)
        full_images.append(len(base64.b64encode(widget.generations[-1].image_bytes)))
    last = saved_state_size(widget)
    widget.close()
    await widget._client.aclose()
    return {"per entry": (last - first) / (entries - 1), "full image as base64 per entry": statistics.mean(full_images)}


class Kernel:
    """A real ipykernel driven over ZMQ, as a notebook front end drives it."""

    def __init__(self, space: str) -> None:
        from jupyter_client.manager import start_new_kernel

        self.manager, self.client = start_new_kernel(
            kernel_name="python3", env={**os.environ, "FLUX_WIDGET_SPACE": space}
        )

    def execute(self, code: str, timeout: float = 120) -> str:
        """Run code and return its stdout once the kernel is idle again."""
        msg_id = self.client.execute(code)
        out = []
        while True:
            msg = self.client.get_iopub_msg(timeout=timeout)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])
            if msg["msg_type"] == "error":
                raise RuntimeError("\n".join(msg["content"]["traceback"]))
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return "".join(out)

    def time_until_output(self, code: str, marker: str, timeout: float = 120) -> float:
        """Seconds from sending ``code`` until its output containing ``marker`` arrives."""
        begin = time.perf_counter()
        msg_id = self.client.execute(code)
        while True:
            msg = self.client.get_iopub_msg(timeout=timeout)
            if (
                msg["parent_header"].get("msg_id") == msg_id
                and msg["msg_type"] == "stream"
                and marker in msg["content"]["text"]
            ):
                return time.perf_counter() - begin

    def press_generate(self, comm_id: str) -> None:
        """Send what the Generate button sends: a custom comm message."""
        content = {"comm_id": comm_id, "data": {"method": "custom", "content": {"type": "generate"}}}
        self.client.shell_channel.send(self.client.session.msg("comm_msg", content))

    def wait_idle_widget(self) -> None:
        while self.execute("print(w.busy)").strip() == "True":
            time.sleep(0.05)

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


def responsiveness(space: str, rounds: int, steps: int) -> dict[str, list[float]]:
    kernel = Kernel(space)
    results: dict[str, list[float]] = {
        "idle kernel": [],
        "widget generating (task on kernel loop)": [],
        "blocking generate()": [],
    }
    try:
        comm_id = kernel.execute(
            f"from flux_widget import FluxWidget, generate\nw = FluxWidget(width=256, height=256, steps={steps})\n"
            "w.prompt = '[slow] bench: responsiveness'\nprint(w.model_id)"
        ).strip()
        for _ in range(rounds):
            results["idle kernel"].append(kernel.time_until_output("print('other cell')", "other cell"))
            kernel.press_generate(comm_id)
            time.sleep(0.3)  # the job is queued or running on the Space
            results["widget generating (task on kernel loop)"].append(
                kernel.time_until_output("print('other cell')", "other cell")
            )
            kernel.wait_idle_widget()
            kernel.client.execute(f"generate('[slow] bench: blocking', width=256, height=256, steps={steps})")
            time.sleep(0.3)
            results["blocking generate()"].append(kernel.time_until_output("print('other cell')", "other cell"))
    finally:
        kernel.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--entries", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=8, help="slow stand-in steps of 0.6 s each")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        process, space = start_standin(Path(tmp), "--texture")
        try:
            wire = asyncio.run(comm_bytes(space, args.size))
            growth = asyncio.run(state_growth(space, args.size, args.entries))
            waits = responsiveness(space, args.rounds, args.steps)
        finally:
            stop(process)

    print(f"1. Comm bytes for one {args.size}x{args.size} image ({wire['image']:,} bytes of WebP):")
    print(
        f"   image message        {wire['image message']:>10,.0f} B  {wire['image message'] / wire['image']:.3f}x "
        f"the image (goal <= 1.02); envelope {wire['image message'] - wire['image']:,.0f} B"
    )
    whole, text = wire["all messages"], wire["base64 text alternative"]
    print(f"   whole generation     {whole:>10,.0f} B  {whole / wire['image']:.3f}x (progress, history, thumbnail)")
    print(f"   base64 text instead  {text:>10,.0f} B  {text / wire['image']:.3f}x")
    print(f"2. Saved widget state per history entry ({args.entries} entries of {args.size}x{args.size}):")
    print(f"   text thumbnail       {growth['per entry']:>10,.0f} B  (goal <= 12 KB)")
    print(
        f"   full image as base64 {growth['full image as base64 per entry']:>10,.0f} B  "
        f"{growth['full image as base64 per entry'] / growth['per entry']:.1f}x larger"
    )
    photos = photographs()
    if photos:
        sizes = [len(thumbnail_data_url(webp)) for webp in photos.values()]
        print(
            f"   thumbnail of a real photograph {statistics.median(sizes):>6,.0f} B median, {max(sizes):,} B at most "
            f"(scikit-image's {len(sizes)}, at 1024² as the Space's WebP; goal <= 12 KB)"
        )
    else:
        print("   (real photographs skipped: scikit-image is not installed; pip install scikit-image)")
    print(f"3. Time until another cell's output appears (median of {args.rounds}, real kernel):")
    idle = statistics.median(waits["idle kernel"])
    for name, values in waits.items():
        median = statistics.median(values)
        print(f"   {name:40s} {median * 1000:8.1f} ms  {median / idle:6.1f}x idle (goal < 1 s)")


if __name__ == "__main__":
    main()
