"""A stand-in for the FLUX.1 Kontext [dev] Space: a real Gradio app with its exact ``infer`` and an image input.

``infer(input_image, prompt, seed, randomize_seed, guidance_scale, steps)``, with the Space's
components, ranges and defaults (guidance 2.5, 28 steps) and its outputs (the result, the seed, a
"Reuse this image" button). The result is a cheap, exact function of the input, so a test proves the
input arrived intact: the input's pixels with red inverted (``255 - r``), as PNG. Without an input it
draws the text-to-image stand-in's picture at 1024².

Each call is appended as one JSON line to ``$STANDIN_CALLS``: what the app received (the input's size
and the SHA-256 of its RGB pixels). ``--variant gallery`` serves a gallery input instead (a list of
images, for models that take several), ``--variant two`` a second image input after the first;
``--slow-upload S`` makes each upload wait S seconds and notes every POST in ``$STANDIN_REQUESTS``.
Run as ``python tests/support/standin_edit_space.py --port N``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random

import gradio as gr
from PIL import Image

from support.picture import render_picture

MAX_SEED = 2**31 - 1


def edited(picture: Image.Image) -> Image.Image:
    """What the stand-in makes of an input: its pixels with red inverted."""
    red, green, blue = picture.convert("RGB").split()
    return Image.merge("RGB", (red.point(lambda value: 255 - value), green, blue))


def pixels_hash(picture: Image.Image) -> str:
    """The SHA-256 of an image's RGB pixels (what tests compare with what they sent)."""
    return hashlib.sha256(picture.convert("RGB").tobytes()).hexdigest()


def record(**received: object) -> None:
    """Append what the app received to the calls log, if there is one."""
    calls = os.environ.get("STANDIN_CALLS")
    if calls:
        with open(calls, "a", encoding="utf-8") as log:
            log.write(json.dumps(received) + "\n")


def infer(
    input_image,
    prompt,
    seed=42,
    randomize_seed=False,
    guidance_scale=2.5,
    steps=28,
    progress=gr.Progress(track_tqdm=True),  # noqa: B008 - the Space's exact signature
):
    """The Kontext Space's signature; returns (image, seed used, the reuse button)."""
    if randomize_seed:
        seed = random.randint(0, MAX_SEED)
    pictures = input_image if isinstance(input_image, list) else [input_image] if input_image is not None else []
    pictures = [item[0] if isinstance(item, tuple) else item for item in pictures]  # a gallery's (image, caption)
    opened = [Image.open(item) if isinstance(item, str) else item for item in pictures]
    record(
        prompt=prompt, seed=int(seed), guidance_scale=guidance_scale, steps=int(steps),
        inputs=[{"size": list(picture.size), "pixels": pixels_hash(picture)} for picture in opened],
    )  # fmt: skip
    if "[gr-error]" in prompt:
        raise gr.Error("The edit was refused by the safety checker.")
    for _ in progress.tqdm(range(int(steps)), desc="editing", unit="steps"):
        pass
    result = edited(opened[0]) if opened else render_picture(prompt, int(seed), 1024, 1024)
    return result, seed, gr.Button(visible=True)


def infer_two(
    input_image,
    reference_image,
    prompt,
    seed=42,
    randomize_seed=False,
    guidance_scale=2.5,
    steps=28,
    progress=gr.Progress(track_tqdm=True),  # noqa: B008 - as the Kontext Space's
):
    """A Space with two separate image inputs (the image to edit and a reference), in that order."""
    pictures = [picture for picture in (input_image, reference_image) if picture is not None]
    return infer(pictures, prompt, seed, randomize_seed, guidance_scale, steps, progress)


def build_app(variant: str = "image") -> gr.Blocks:
    """The Kontext Space's layout: the image input first, then the prompt, and the advanced sliders.

    ``gallery``: one gallery input instead; ``two``: a second image input (a reference) after the first.
    """
    with gr.Blocks() as demo:
        images: list[gr.components.Component] = []
        if variant == "gallery":
            images.append(gr.Gallery(label="Upload the images", type="pil"))
        else:
            images.append(gr.Image(label="Upload the image for editing", type="pil"))
        if variant == "two":
            images.append(gr.Image(label="Reference image", type="pil"))
        prompt = gr.Text(label="Prompt", show_label=False, max_lines=1, placeholder="Enter your prompt for editing")
        run_button = gr.Button("Run", scale=0)
        with gr.Accordion("Advanced Settings", open=False):
            seed = gr.Slider(label="Seed", minimum=0, maximum=MAX_SEED, step=1, value=0)
            randomize_seed = gr.Checkbox(label="Randomize seed", value=True)
            guidance_scale = gr.Slider(label="Guidance Scale", minimum=1, maximum=10, step=0.1, value=2.5)
            steps = gr.Slider(label="Steps", minimum=1, maximum=30, value=28, step=1)
        result = gr.Image(label="Result", show_label=False, interactive=False, format="png")
        reuse_button = gr.Button("Reuse this image", visible=False)
        gr.on(
            triggers=[run_button.click, prompt.submit],
            fn=infer_two if variant == "two" else infer,
            inputs=[*images, prompt, seed, randomize_seed, guidance_scale, steps],
            outputs=[result, seed, reuse_button],
            api_name="infer",
        )
    return demo


def main() -> None:
    """Serve the stand-in on 127.0.0.1."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--variant", default="image", choices=["image", "gallery", "two"])
    parser.add_argument("--slow-upload", type=float, default=0.0, help="seconds each upload waits before it is read")
    args = parser.parse_args()
    demo = build_app(args.variant)
    demo.queue(default_concurrency_limit=2)
    if not args.slow_upload:
        demo.launch(server_name="127.0.0.1", server_port=args.port, ssr_mode=False, show_error=True, quiet=True)
        return
    import uvicorn
    from fastapi import FastAPI

    app = gr.mount_gradio_app(FastAPI(), demo, path="", ssr_mode=False, show_error=True)
    uvicorn.run(SlowUploads(app, args.slow_upload), host="127.0.0.1", port=args.port, log_level="warning")


class SlowUploads:
    """ASGI middleware: each upload waits ``seconds`` first; every POST's path is noted in ``STANDIN_REQUESTS``."""

    def __init__(self, app, seconds: float) -> None:
        self.app, self.seconds = app, seconds

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope.get("method") == "POST":
            log = os.environ.get("STANDIN_REQUESTS")
            if log:
                with open(log, "a", encoding="utf-8") as requests:
                    requests.write(json.dumps({"path": scope["path"]}) + "\n")
            if scope["path"].endswith("/upload"):
                await asyncio.sleep(self.seconds)
        await self.app(scope, receive, send)


if __name__ == "__main__":
    main()
