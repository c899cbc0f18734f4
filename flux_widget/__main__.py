"""``python -m flux_widget "PROMPT" -o out.png``: generate without a notebook."""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from . import _images as images
from ._generate import generate
from ._options import add_options, backend_from, request_from
from ._progress_text import describe
from .backends._count import MAX_COUNT
from .errors import FluxError
from .jobs._run import ENGINES, run_prompt_file
from .types import Loading, ProgressEvent

#: The installed distribution's version (the same as flux_widget.__version__).
__version__ = importlib.metadata.version("flux-widget")

__all__ = ["check_target", "main", "numbered"]

#: Where an image goes without ``-o`` (its suffix follows the image's format).
DEFAULT_OUTPUT = "flux.webp"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m flux_widget",
        description=f"flux-widget {__version__}: generate images with FLUX.1-schnell on a Hugging Face Space, "
        "Inference Providers or your own GPU.",
        epilog="Environment: FLUX_WIDGET_SPACE (owner/name or URL), HF_TOKEN (your own GPU quota), "
        "FLUX_WIDGET_BACKEND (space, inference or local), FLUX_WIDGET_DEVICE (local: auto, cuda, mps, cpu).",
    )
    parser.add_argument("prompt", nargs="?", help="what to draw (or --prompts FILE for many)")
    parser.add_argument("--version", action="version", version=f"flux-widget {__version__}")
    parser.add_argument(
        "-o",
        "--output",
        default=None,
        help="where to save; the suffix picks the format (default: flux.webp, the Space's own bytes); "
        "with -n, out.png becomes out-1.png, out-2.png, …",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace files that exist (without it, nothing is made if one does)"
    )
    add_options(parser.add_argument)
    jobs = parser.add_argument_group("large jobs", "many prompts into a folder, resumable (README: Large jobs)")
    jobs.add_argument("--prompts", metavar="FILE", help="a prompt file: text (one a line) or JSON Lines; - reads stdin")
    jobs.add_argument("--out", metavar="DIR", help="the folder for the images and manifest.jsonl")
    jobs.add_argument("--concurrency", type=int, default=None, help="images at a time (default 2; local: 1)")
    jobs.add_argument("--retries", type=int, default=3, help="tries after a quota error, 5xx or timeout (default 3)")
    jobs.add_argument("--engine", choices=ENGINES, default="asyncio", help="ray: the local backend on a Ray cluster")
    jobs.add_argument("--workers", type=int, default=None, help="ray: pipelines (default: one per GPU)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, generate, save; progress goes to stderr, the seed to stdout."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not 1 <= args.count <= MAX_COUNT:
        parser.error(f"-n must be from 1 to {MAX_COUNT}")
    if args.prompts is not None:
        if args.prompt is not None or args.output is not None or not args.out:
            parser.error("--prompts FILE takes --out DIR, and neither a prompt nor -o")
        return run_prompt_file(args)
    if args.prompt is None:
        parser.error("give a prompt, or --prompts FILE --out DIR")
    try:  # every target checked before anything is sent: a generation is never made to be lost
        for number in range(1, args.count + 1):
            check_target(numbered(args.output or DEFAULT_OUTPUT, number, args.count), overwrite=args.overwrite)
        images.check_suffix(args.output or DEFAULT_OUTPUT)
    except ValueError as exc:  # a file error: its one line, not the usage block (exit 2, as usage errors)
        print(f"error: {exc}", file=sys.stderr)
        return 2

    live = sys.stderr.isatty()
    said: list[tuple[str, int, int] | None] = [None]

    def on_progress(event: ProgressEvent) -> None:
        if live:
            print(f"\r{describe(event):40s}", end="", file=sys.stderr, flush=True)
        elif (decile := _decile(event)) is None or decile != said[0]:
            print(describe(event), file=sys.stderr)
            said[0] = decile

    try:
        request = request_from(args.prompt, args, sys.stdin.buffer)
        made = generate(
            request, count=args.count, deadline=args.deadline, on_progress=on_progress, **backend_from(args)
        )
        generations = made if isinstance(made, list) else [made]
        paths = []
        for n, generation in enumerate(generations, 1):
            target = numbered(args.output or f"flux{images.suffix_for(generation.mime_type)}", n, args.count)
            check_target(target, overwrite=args.overwrite)  # the default suffix follows the image's format
            paths.append(generation.save(target))
    except (FluxError, OSError, ValueError) as exc:  # ValueError: an image that cannot be converted
        print(f"{chr(13) if live else ''}error: {exc}", file=sys.stderr)
        return 1
    took = max(generation.elapsed for generation in generations)
    print(f"{chr(13) if live else ''}{f'done in {took:.2f} s':40s}", file=sys.stderr)
    for path, generation in zip(paths, generations, strict=True):
        print(
            f"saved {path} (seed {generation.seed}, {generation.width}x{generation.height}, {generation.steps} steps)"
        )
    return 0


def check_target(path: Path, *, overwrite: bool) -> None:
    """``ValueError`` saying why ``path`` cannot be written: its folder is missing, it is a folder, it exists."""
    folder = path.parent
    if path.is_dir():
        raise ValueError(f"{path} is a folder: name a file, such as {path / 'flux.webp'}")
    if not folder.is_dir():
        raise ValueError(f"the folder {folder} does not exist: create it first, or choose another -o")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"cannot write into {folder}")
    if path.exists() and not overwrite:
        raise ValueError(f"{path} exists: choose another name with -o, or pass --overwrite to replace it")


def numbered(path: str, number: int, count: int) -> Path:
    """``path`` itself for a single image; ``out-2.png`` for image 2 of a batch written to ``out.png``."""
    target = Path(path)
    return target if count == 1 else target.with_name(f"{target.stem}-{number}{target.suffix}")


def _decile(event: ProgressEvent) -> tuple[str, int, int] | None:
    """A download's what, total and tenth done (None for any other event): a log gets each tenth, not each chunk."""
    if isinstance(event, Loading) and event.done is not None and event.total:
        return event.what, event.total, min(10, 10 * event.done // event.total)
    return None


if __name__ == "__main__":
    sys.exit(main())
