"""A stand-in for the FLUX.1-schnell Space: a real Gradio app with the Space's exact ``infer``.

It renders a cheap, deterministic picture instead of running the model, and a few prompt markers
make it misbehave the way the hosted Space does:

- ``[quota]`` raises the ZeroGPU quota ``gr.Error`` (with its HTML link and "Try again in 0:12:34");
- ``[crash]`` raises a plain exception (its text is hidden, as on hosted Spaces);
- ``[gr-error]`` raises a ``gr.Error`` whose text the client must show;
- ``[slow]`` sleeps a while per step and reports per-step progress;
- ``[odd-seed-error]`` raises a ``gr.Error`` for odd seeds (one image of a batch fails, the next works).

Run it as ``python tests/support/standin_space.py --port 7861``; the tests start it once per session.
"""

from __future__ import annotations

import argparse
import os
import random
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
    if "[quota]" in prompt:
        raise gr.Error(QUOTA_MESSAGE)
    if "[gr-error]" in prompt:
        raise gr.Error("The prompt was refused by the safety checker.")
    if "[crash]" in prompt:
        raise RuntimeError("model exploded")
    if "[odd-seed-error]" in prompt and int(seed) % 2:
        raise gr.Error(f"Seed {int(seed)} is odd, and this stand-in refuses odd seeds.")
    steps = int(num_inference_steps)
    for _ in progress.tqdm(range(steps), desc="denoising", unit="steps"):
        if "[slow]" in prompt:
            time.sleep(SLOW_STEP_SECONDS)
    picture = render_picture(prompt, int(seed), int(width), int(height))
    if os.environ.get("STANDIN_TEXTURE"):
        picture = with_grain(picture, int(seed))
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
    args = parser.parse_args()
    if args.texture:
        os.environ["STANDIN_TEXTURE"] = "1"
    demo = build_app()
    demo.queue(default_concurrency_limit=args.concurrency)
    demo.launch(server_name="127.0.0.1", server_port=args.port, ssr_mode=False, show_error=False, quiet=True)


if __name__ == "__main__":
    main()
