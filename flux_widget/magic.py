"""``%flux`` and ``%%flux``: generate from a line or from many lines, images shown inline."""

from __future__ import annotations

import base64
import sys
from argparse import Namespace
from functools import partial
from typing import Any

from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import DisplayHandle, display

from . import images
from .batch import MAX_COUNT, batch_seeds, check_count, run_batch
from .errors import FluxError, GenerationError, unquoted
from .gallery import Tile, caption, grid_bundle
from .progress_text import describe
from .runner import run_sync
from .shared import shared_client
from .sync import generate
from .types import Generation
from .widget import FluxWidget

__all__ = ["FluxMagics"]


def show(generation: Generation) -> None:
    """Display the image in a format every front end shows (see :func:`images.display_bytes`), and its caption.

    An image whose pixels cannot be decoded is a :class:`GenerationError`.
    """
    try:
        shown, mime_type = images.display_bytes(generation.image_bytes, generation.parameters)
    except ValueError as exc:
        raise GenerationError(f"The Space's image cannot be shown: {exc}.") from None
    display(
        {mime_type: base64.b64encode(shown).decode("ascii"), "text/plain": caption(generation)},
        metadata={mime_type: _shown_size(generation)},
        raw=True,
    )
    display({"text/plain": caption(generation)}, raw=True)


#: The widest an image is shown inline, in CSS pixels (the file keeps its full size).
SHOWN_WIDTH = 512


def _shown_size(generation: Generation) -> dict[str, int]:
    """The display size: at most ``SHOWN_WIDTH`` wide, aspect kept, so a 1024² image does not fill the cell."""
    scale = min(1.0, SHOWN_WIDTH / generation.width)
    return {"width": round(generation.width * scale), "height": round(generation.height * scale)}


def report(error: Exception, prompt: str | None = None) -> None:
    """Print an error as one clear line on stderr, not a traceback."""
    where = f" ({prompt})" if prompt else ""
    print(f"flux{where}: {error}", file=sys.stderr)


class _Status:
    """A one-line status display updated in place and blanked when done."""

    def __init__(self) -> None:
        self._handle: DisplayHandle | None = None

    def update(self, text: str) -> None:
        if self._handle is None:
            self._handle = display({"text/plain": text}, raw=True, display_id=True)
        else:
            self._handle.update({"text/plain": text}, raw=True)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.update({"text/plain": ""}, raw=True)


@magics_class
class FluxMagics(Magics):
    """``%flux PROMPT [options]`` and ``%%flux [options]`` (one prompt per line)."""

    @magic_arguments()
    @argument("prompt", nargs="*", help="What to draw (line magic). With none, a FluxWidget is shown.")
    @argument("--width", type=int, default=1024, help="Width in pixels (snapped to 256–2048, step 32).")
    @argument("--height", type=int, default=1024, help="Height in pixels (snapped to 256–2048, step 32).")
    @argument("--steps", type=int, default=4, help="Denoising steps, 1–50.")
    @argument("--seed", type=int, default=None, help="Use this seed as is (default: the Space picks one).")
    @argument("--randomize", action="store_true", help="Let the Space pick a random seed.")
    @argument("--space", default=None, help="owner/name or URL of the Space (default: FLUX_WIDGET_SPACE).")
    @argument("--backend", default=None, help="space (default) or inference (Hugging Face Inference Providers).")
    @argument("--model", default=None, help="inference: the model id or endpoint URL.")
    @argument("--provider", default=None, help="inference: the provider (default auto).")
    @argument("--guidance", type=float, default=None, help="Guidance scale, for Spaces that take it (FLUX.1-dev).")
    @argument("--deadline", type=float, default=None, help="Seconds one generation may take (default 600).")
    @argument("-n", "--count", type=int, default=1, help=f"Images per prompt, 1–{MAX_COUNT}, shown as a grid.")
    @argument("--concurrency", type=int, default=2, help="How many images are made at once (%%%%flux, -n).")
    @line_cell_magic
    def flux(self, line: str, cell: str | None = None) -> Any:
        """Generate images with FLUX.1-schnell.

        ``%flux a cat in a hat --seed 3`` shows the image with its caption and returns the
        :class:`~flux_widget.Generation` (``g = %flux …``); ``-n 4`` makes four, shown as a grid
        while they arrive, and returns their list. ``%flux`` alone shows a FluxWidget. ``%%flux``
        runs one prompt per non-empty line (``-n`` images each), a few at a time, and shows them
        as one grid in the order of the lines; a failing image prints one line and the others
        still show.
        """
        try:
            args = parse_argstring(self.flux, line)
        except Exception as exc:  # UsageError and argparse's own
            report(exc)
            return None
        if cell is not None:
            prompts = [text.strip() for text in cell.splitlines() if text.strip()]
            if args.prompt:
                prompts.insert(0, " ".join(args.prompt))
            prompts = [unquoted(prompt) for prompt in prompts]
            run_sync(lambda: self._grid(prompts, args))
            return None
        if not args.prompt:
            options = {} if args.deadline is None else {"deadline": args.deadline}
            widget = FluxWidget(
                args.space,
                width=args.width,
                height=args.height,
                steps=args.steps,
                backend=args.backend,
                model=args.model,
                inference_provider=args.provider,
                **options,
            )
            if args.seed is not None:
                widget.seed, widget.randomize_seed = args.seed, args.randomize
            return widget
        prompt = unquoted(" ".join(args.prompt))
        if args.count == 1:
            return self._single(prompt, args)
        return [generation for generation in run_sync(lambda: self._grid([prompt], args)) if generation]

    @staticmethod
    def _options(args: Namespace) -> dict[str, Any]:
        return {
            "width": args.width,
            "height": args.height,
            "steps": args.steps,
            "seed": args.seed if args.seed is not None else 0,
            "randomize_seed": args.seed is None or args.randomize,
            "guidance": args.guidance,
            "deadline": args.deadline,
        }

    def _single(self, prompt: str, args: Namespace) -> Generation | None:
        status = _Status()
        status.update(f"{prompt}: sending")
        try:
            generation = generate(
                prompt,
                space=args.space,
                backend=args.backend,
                model=args.model,
                inference_provider=args.provider,
                on_progress=lambda event: status.update(f"{prompt}: {describe(event)}"),
                **self._options(args),
            )
            show(generation)
        except FluxError as exc:
            report(exc)
            return None
        finally:
            status.close()
        return generation

    async def _grid(self, prompts: list[str], args: Namespace) -> list[Generation | None]:
        """Make ``args.count`` images per prompt, a few at a time, shown as one grid while they arrive."""
        if not prompts:
            report(FluxError("%%flux needs at least one prompt line."))
            return []
        try:
            count = check_count(args.count)
        except FluxError as exc:
            report(exc)
            return []
        options = self._options(args)
        client = shared_client(args.space, backend=args.backend, model=args.model, inference_provider=args.provider)
        places = [
            (prompt, f"{number + 1}/{count}" if count > 1 else "", slot)
            for prompt in prompts
            for number, slot in enumerate(batch_seeds(options["seed"], options["randomize_seed"], count))
        ]
        jobs = [
            partial(client.generate, prompt, **{**options, "seed": slot.seed, "randomize_seed": slot.randomize})
            for prompt, _, slot in places
        ]
        tiles = [Tile.pending(prompt, label) for prompt, label, _ in places]
        results: list[Generation | None] = [None] * len(places)
        grid = display(grid_bundle(tiles), raw=True, display_id=True)
        status = _Status()
        status.update(f"0 of {len(places)} done")
        done = 0
        try:
            async with run_batch(jobs, args.concurrency) as outcomes:
                async for place, outcome in outcomes:
                    prompt, label, _ = places[place]
                    tiles[place], results[place] = self._tile(prompt, label, outcome)
                    done += 1
                    status.update(f"{done} of {len(places)} done")
                    if grid is not None:
                        grid.update(grid_bundle(tiles), raw=True)
        finally:
            status.close()
        return results

    @staticmethod
    def _tile(prompt: str, label: str, outcome: Generation | BaseException) -> tuple[Tile, Generation | None]:
        """The grid's place for one outcome, and the image if it can be shown; a failure is one line."""
        if isinstance(outcome, Generation):
            try:
                return Tile.of(outcome, label), outcome
            except ValueError as exc:
                outcome = GenerationError(f"The Space's image cannot be shown: {exc}.")
        if not isinstance(outcome, FluxError):
            raise outcome  # cancelled, or a bug: not something to print as one line
        report(outcome, prompt)
        return Tile.pending(prompt, label, failed=True), None
