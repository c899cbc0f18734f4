"""Two more stand-in Spaces, real Gradio apps, for mapping inputs by name (issue 9).

- ``dev``: the FLUX.1-dev Space's ``infer(prompt, seed, randomize_seed, width, height,
  guidance_scale, num_inference_steps)``, its slider ranges and an Examples block;
- ``reordered``: the same parameters in another order, other ranges, and its outputs reversed
  (seed first, then the image).

Each call is appended as one JSON line to ``$STANDIN_CALLS``: the values the app actually received.
Run as ``python tests/support/standin_variants.py --variant dev --port 7862``.
"""

from __future__ import annotations

import argparse
import json
import os
import random

import gradio as gr

from support.picture import render_picture

MAX_SEED = 2**31 - 1


def record(**received: object) -> None:
    """Append what the app received to the calls log."""
    with open(os.environ["STANDIN_CALLS"], "a", encoding="utf-8") as log:
        log.write(json.dumps(received) + "\n")


def dev_infer(
    prompt,
    seed=42,
    randomize_seed=False,
    width=1024,
    height=1024,
    guidance_scale=3.5,
    num_inference_steps=28,
    progress=gr.Progress(track_tqdm=True),  # noqa: B008 - the Space's exact signature
):
    """FLUX.1-dev's signature; returns (image, seed used)."""
    if randomize_seed:
        seed = random.randint(0, MAX_SEED)
    record(prompt=prompt, seed=seed, width=width, height=height, guidance_scale=guidance_scale,
           num_inference_steps=num_inference_steps)  # fmt: skip
    return render_picture(prompt, int(seed), int(width), int(height)), seed


def reordered_infer(num_inference_steps, width, prompt, height, randomize_seed, seed):
    """The same inputs in another order; returns (seed used, image)."""
    if randomize_seed:
        seed = random.randint(0, MAX_SEED)
    record(prompt=prompt, seed=seed, width=width, height=height, num_inference_steps=num_inference_steps)
    return seed, render_picture(prompt, int(seed), int(width), int(height))


def build_dev() -> gr.Blocks:
    with gr.Blocks() as demo:
        prompt = gr.Text(label="Prompt", show_label=False, max_lines=1)
        run_button = gr.Button("Run", scale=0)
        result = gr.Image(label="Result", show_label=False, format="webp")
        seed = gr.Slider(label="Seed", minimum=0, maximum=MAX_SEED, step=1, value=0)
        randomize_seed = gr.Checkbox(label="Randomize seed", value=True)
        width = gr.Slider(label="Width", minimum=256, maximum=2048, step=32, value=1024)
        height = gr.Slider(label="Height", minimum=256, maximum=2048, step=32, value=1024)
        guidance_scale = gr.Slider(label="Guidance Scale", minimum=1, maximum=15, step=0.1, value=3.5)
        num_inference_steps = gr.Slider(label="Number of inference steps", minimum=1, maximum=50, step=1, value=28)
        gr.Examples(examples=["a cat holding a sign that says hello world"], inputs=[prompt])
        gr.on(
            triggers=[run_button.click, prompt.submit],
            fn=dev_infer,
            inputs=[prompt, seed, randomize_seed, width, height, guidance_scale, num_inference_steps],
            outputs=[result, seed],
            api_name="infer",
        )
    return demo


def build_reordered() -> gr.Blocks:
    with gr.Blocks() as demo:
        num_inference_steps = gr.Slider(label="Steps", minimum=1, maximum=12, step=1, value=6)
        width = gr.Slider(label="Width", minimum=256, maximum=1536, step=64, value=768)
        prompt = gr.Text(label="Prompt")
        height = gr.Slider(label="Height", minimum=256, maximum=1536, step=64, value=768)
        randomize_seed = gr.Checkbox(label="Randomize seed", value=True)
        seed = gr.Slider(label="Seed", minimum=0, maximum=MAX_SEED, step=1, value=0)
        run_button = gr.Button("Run")
        seed_used = gr.Number(label="Seed used")
        result = gr.Image(label="Result", format="webp")
        run_button.click(
            reordered_infer,
            inputs=[num_inference_steps, width, prompt, height, randomize_seed, seed],
            outputs=[seed_used, result],
            api_name="infer",
        )
    return demo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=["dev", "reordered"], required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    demo = build_dev() if args.variant == "dev" else build_reordered()
    demo.queue(default_concurrency_limit=1)
    demo.launch(server_name="127.0.0.1", server_port=args.port, ssr_mode=False, show_error=False, quiet=True)


if __name__ == "__main__":
    main()
