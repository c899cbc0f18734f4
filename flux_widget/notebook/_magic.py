"""``%flux`` and ``%%flux``: generate from a line or from many lines, images shown inline."""

from __future__ import annotations

import base64
import sys
from argparse import Namespace
from collections.abc import Callable
from typing import Any

from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import DisplayHandle, display

from .. import _images as images
from .._generate import generate
from .._options import SHARED, Option, backend_from, drawing_from, request_from
from .._progress_text import describe
from .._runner import run_sync
from ..backends._cache import shared_client
from ..backends._count import batch_outcomes, batch_requests, check_count
from ..errors import FluxError, GenerationError, unquoted
from ..types import Generation
from ..widget._widget import FluxWidget
from ._gallery import Tile, caption, grid_bundle

__all__ = ["FluxMagics"]

#: The magics' own options, after the prompt and before the shared ones.
_MAGIC_ONLY = (
    Option(("prompt",), "What to draw (line magic). With none, a FluxWidget is shown.", settings={"nargs": "*"}),
    Option(
        ("--randomize",),
        "Let the Space pick a random seed even with --seed.",
        default=False,
        settings={"action": "store_true"},
    ),
    Option(("--concurrency",), "How many images are made at once (%%%%flux, -n).", int, 2),
)


def _with_options(function: Callable[..., Any]) -> Any:
    """``function`` with IPython's ``magic_arguments`` parser for the magics' and the shared options."""
    for option in reversed((*_MAGIC_ONLY, *SHARED)):  # decorators apply bottom-up
        function = argument(*option.flags, **option.arguments())(function)
    return magic_arguments()(function)


def show(generation: Generation) -> None:
    """Display the image in a format every front end shows (see :func:`images.display_bytes`), and its caption.

    An image whose pixels cannot be decoded is a :class:`GenerationError`.
    """
    size = _shown_size(generation)
    try:
        # Twice the size it is shown at: sharp on a 2x screen, and no byte more (a 2048² image sends 1024²).
        shown, mime_type = images.display_bytes(
            generation.image_bytes, generation.metadata, max_side=2 * max(size.values())
        )
    except ValueError as exc:
        raise GenerationError(f"The Space's image cannot be shown: {exc}.") from None
    display(
        {mime_type: base64.b64encode(shown).decode("ascii"), "text/plain": caption(generation)},
        metadata={mime_type: size},
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

    @_with_options
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
            return self._widget(args)
        prompt = unquoted(" ".join(args.prompt))
        if args.count == 1:
            return self._single(prompt, args)
        return [generation for generation in run_sync(lambda: self._grid([prompt], args)) if generation]

    @staticmethod
    def _widget(args: Namespace) -> FluxWidget:
        options = {} if args.deadline is None else {"deadline": args.deadline}
        drawing: dict[str, Any] = {name: value for name, value in drawing_from(args).items() if value is not None}
        widget = FluxWidget(**backend_from(args), **drawing, **options)
        if args.seed is not None:
            widget.seed, widget.randomize_seed = args.seed, args.randomize
        return widget

    def _single(self, prompt: str, args: Namespace) -> Generation | None:
        status = _Status()
        status.update(f"{prompt}: sending")
        try:
            generation = generate(
                request_from(prompt, args),
                deadline=args.deadline,
                on_progress=lambda event: status.update(f"{prompt}: {describe(event)}"),
                **backend_from(args),
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
            requests = [request for prompt in prompts for request in batch_requests(request_from(prompt, args), count)]
            backend = shared_client(**backend_from(args))
        except FluxError as exc:
            report(exc)
            return []
        labels = [f"{number + 1}/{count}" if count > 1 else "" for _ in prompts for number in range(count)]
        tiles = [Tile.pending(request.prompt, label) for request, label in zip(requests, labels, strict=True)]
        results: list[Generation | None] = [None] * len(requests)
        grid = display(grid_bundle(tiles), raw=True, display_id=True)
        status = _Status()
        status.update(f"0 of {len(requests)} done")
        done = 0
        try:
            running = batch_outcomes(backend, requests, concurrency=args.concurrency, deadline=args.deadline)
            async with running as outcomes:
                async for place, outcome in outcomes:
                    tiles[place], results[place] = self._tile(requests[place].prompt, labels[place], outcome)
                    done += 1
                    status.update(f"{done} of {len(requests)} done")
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
