"""A stand-in for the FLUX.1-schnell Space: a real Gradio app with the Space's exact ``infer``.

It renders a cheap, deterministic picture instead of running the model, and a few prompt markers
make it misbehave the way the hosted Space does:

- ``[quota]`` raises the ZeroGPU quota ``gr.Error`` (with its HTML link and "Try again in 0:12:34");
- ``[crash]`` raises a plain exception (its text is hidden, as on hosted Spaces);
- ``[gr-error]`` raises a ``gr.Error`` whose text the client must show;
- ``[slow]`` sleeps a while per step and reports per-step progress;
- ``[odd-seed-error]`` raises a ``gr.Error`` for odd seeds (one image of a batch fails, the next works);
- ``[quota-for=N]`` raises the quota error with "Try again in 0:00:0N" until N seconds after the
  Space first saw that prompt (a quota that comes back, for retries);
- ``[fail-seed=N]`` raises a ``gr.Error`` for seed N alone (the third image of a batch from N - 2:
  it joins only once one of the first two has arrived, so a test knows something arrived first).

With ``--journal FILE`` it writes down, one JSON line each, every queue join (with the job's
``event_id``), every ``/cancel`` it is sent and every start and end of ``infer``: what the Space
itself saw, for tests that must prove a job was cancelled or how many jobs one caller queued.

Run it as ``python tests/support/standin_space.py --port 7861``; the tests start it once per session.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import time

import gradio as gr
from PIL import Image

from support.picture import render_picture

MAX_SEED = 2**31 - 1
MAX_IMAGE_SIZE = 2048
QUOTA_MESSAGE = (
    "You have exceeded your free GPU quota (60s requested vs. 0s left). "
    '<a href="https://huggingface.co/join">Create a free account</a> to get more usage quota. '
    "Try again in 0:12:34"
)
SLOW_STEP_SECONDS = 0.6
FAIL_SEED = re.compile(r"\[fail-seed=(\d+)\]")
QUOTA_FOR = re.compile(r"\[quota-for=(\d)\]")
#: When each ``[quota-for=N]`` prompt was first seen.
FIRST_SEEN: dict[str, float] = {}


def note(record: dict) -> None:
    """Append one record to the journal (``STANDIN_JOURNAL``), if there is one."""
    journal = os.environ.get("STANDIN_JOURNAL")
    if journal:
        with open(journal, "a", encoding="utf-8") as out:
            out.write(json.dumps({**record, "t": time.time()}) + "\n")


def infer(
    prompt,
    seed=42,
    randomize_seed=False,
    width=1024,
    height=1024,
    num_inference_steps=4,
    progress=gr.Progress(track_tqdm=True),  # noqa: B008 - the Space's exact signature
):
    """The Space's signature; returns (image, seed used)."""
    if randomize_seed:
        seed = random.randint(0, MAX_SEED)
    note({"kind": "start", "prompt": prompt, "seed": int(seed)})
    try:
        return _infer(prompt, int(seed), int(width), int(height), int(num_inference_steps), progress)
    finally:
        note({"kind": "end", "prompt": prompt, "seed": int(seed)})


def _infer(prompt: str, seed: int, width: int, height: int, steps: int, progress: gr.Progress):
    if "[quota]" in prompt:
        raise gr.Error(QUOTA_MESSAGE)
    quota_for = QUOTA_FOR.search(prompt)
    if quota_for and time.time() - FIRST_SEEN.setdefault(prompt, time.time()) < int(quota_for.group(1)):
        raise gr.Error(QUOTA_MESSAGE.replace("0:12:34", f"0:00:0{quota_for.group(1)}"))
    if "[gr-error]" in prompt:
        raise gr.Error("The prompt was refused by the safety checker.")
    if "[crash]" in prompt:
        raise RuntimeError("model exploded")
    if "[odd-seed-error]" in prompt and seed % 2:
        raise gr.Error(f"Seed {seed} is odd, and this stand-in refuses odd seeds.")
    failing = FAIL_SEED.search(prompt)
    if failing and int(failing.group(1)) == seed:
        raise gr.Error(f"Seed {seed} is refused by this stand-in.")
    for _ in progress.tqdm(range(steps), desc="denoising", unit="steps"):
        if "[slow]" in prompt:
            time.sleep(SLOW_STEP_SECONDS)
    picture = render_picture(prompt, seed, width, height)
    if os.environ.get("STANDIN_TEXTURE"):
        picture = with_grain(picture, seed)
    return picture, seed


def with_grain(picture: Image.Image, seed: int) -> Image.Image:
    """Blend in seeded grain so the WebP weighs what a real 1024² FLUX image does (100–250 KB)."""
    width, height = picture.size
    grain = Image.frombytes("L", (width, height), random.Random(seed).randbytes(width * height)).convert("RGB")
    return Image.blend(picture, grain, 0.12)


def build_app() -> gr.Blocks:
    """The Space's layout: the same components, in the same order, with an Examples block."""
    with gr.Blocks() as demo:
        prompt = gr.Text(label="Prompt", show_label=False, max_lines=1, placeholder="Enter your prompt")
        run_button = gr.Button("Run", scale=0)
        result = gr.Image(label="Result", show_label=False, format="webp")
        with gr.Accordion("Advanced Settings", open=False):
            seed = gr.Slider(label="Seed", minimum=0, maximum=MAX_SEED, step=1, value=0)
            randomize_seed = gr.Checkbox(label="Randomize seed", value=True)
            width = gr.Slider(label="Width", minimum=256, maximum=MAX_IMAGE_SIZE, step=32, value=1024)
            height = gr.Slider(label="Height", minimum=256, maximum=MAX_IMAGE_SIZE, step=32, value=1024)
            num_inference_steps = gr.Slider(label="Number of inference steps", minimum=1, maximum=50, step=1, value=4)
        gr.Examples(examples=["a tiny astronaut hatching from an egg on the moon"], inputs=[prompt])
        gr.on(
            triggers=[run_button.click, prompt.submit],
            fn=infer,
            inputs=[prompt, seed, randomize_seed, width, height, num_inference_steps],
            outputs=[result, seed],
            api_name="infer",
        )
    return demo


def main() -> None:
    """Serve the stand-in on 127.0.0.1."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--texture", action="store_true", help="photo-like file sizes (for benchmarks)")
    parser.add_argument("--journal", default=None, help="write joins, cancels and runs to this JSON Lines file")
    parser.add_argument("--login", default=None, help="USER:PASSWORD: launch with Gradio's own login (auth=)")
    args = parser.parse_args()
    if args.texture:
        os.environ["STANDIN_TEXTURE"] = "1"
    demo = build_app()
    demo.queue(default_concurrency_limit=args.concurrency)
    login = tuple(args.login.split(":", 1)) if args.login else None
    serve(demo, args.port, args.journal, login)


def serve(demo: gr.Blocks, port: int, journal: str | None = None, login: tuple[str, ...] | None = None) -> None:
    """Serve ``demo`` on 127.0.0.1 (as ``launch`` would), its queue joins and cancels written to ``journal``."""
    if journal is None:
        demo.launch(
            server_name="127.0.0.1", server_port=port, ssr_mode=False, show_error=False, quiet=True, auth=login
        )
        return
    import uvicorn
    from fastapi import FastAPI

    os.environ["STANDIN_JOURNAL"] = journal
    app = gr.mount_gradio_app(FastAPI(), demo, path="", ssr_mode=False, show_error=False)
    uvicorn.run(QueueJournal(app), host="127.0.0.1", port=port, log_level="warning")


class QueueJournal:
    """ASGI middleware: notes each queue join (with the ``event_id`` the Space answered) and each cancel."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        kind = "join" if path.endswith("/queue/join") else "cancel" if path.endswith("/cancel") else None
        if kind is None or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        messages, body = [], b""
        while True:
            message = await receive()
            messages.append(message)
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        request = json.loads(body or b"{}")

        async def replay():
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        answer = b""

        async def noting(message) -> None:
            nonlocal answer
            if message["type"] == "http.response.body":
                answer += message.get("body", b"")
                if not message.get("more_body"):
                    self.write(kind, request, answer)
            await send(message)

        await self.app(scope, replay, noting)

    @staticmethod
    def write(kind: str, request: dict, answer: bytes) -> None:
        data = request.get("data") or [None, None]
        try:
            reply = json.loads(answer or b"{}")
        except ValueError:
            reply = {}
        event_id = request.get("event_id") if kind == "cancel" else reply.get("event_id")
        note({"kind": kind, "event_id": event_id, "session_hash": request.get("session_hash"),
              "prompt": data[0] if kind == "join" else None, "seed": data[1] if kind == "join" else None})  # fmt: skip


if __name__ == "__main__":
    main()
