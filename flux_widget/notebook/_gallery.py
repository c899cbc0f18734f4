"""A grid of images as one notebook output: what ``%flux -n N`` and ``%%flux`` show.

It is HTML with each picture inline (a ``data:`` URL of a small JPEG), so it shows in JupyterLab,
Notebook 7, VS Code and Colab alike, and stays in the saved notebook. Every text is escaped.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass

from .. import _images as images
from ..types import Generation

__all__ = ["Tile", "caption", "grid_bundle"]

#: Width of a tile in CSS pixels; its picture is twice that at most, sharp on high-density screens.
TILE_WIDTH = 256
_FIGURE = '<figure style="margin:0;width:{width}px">{picture}<figcaption style="{style}">{text}</figcaption></figure>'
_CAPTION_STYLE = "font-size:12px;line-height:1.4;margin-top:4px;overflow-wrap:anywhere"
_PLACEHOLDER = (
    f'<div style="width:{TILE_WIDTH}px;height:{TILE_WIDTH}px;border-radius:4px;background:rgba(128,128,128,0.15)">'
    "</div>"
)


def caption(generation: Generation) -> str:
    """The one-line caption under an image: prompt, seed, size, steps."""
    return (
        f"{generation.prompt} · seed {generation.seed} · {generation.width}×{generation.height} · "
        f"{generation.steps} step{'' if generation.steps == 1 else 's'}"
    )


@dataclass(frozen=True)
class Tile:
    """One place in the grid, drawn once: its HTML figure and its line of plain text."""

    html: str
    text: str

    @classmethod
    def pending(cls, prompt: str, label: str = "", *, failed: bool = False) -> Tile:
        """A place whose image has not arrived (or never will: ``failed``)."""
        state = "failed" if failed else "waiting…"
        prefix = f"{label} · " if label else ""
        text = f"{html.escape(prefix)}<bdi>{html.escape(prompt)}</bdi> · {state}"
        figure = _FIGURE.format(width=TILE_WIDTH, picture=_PLACEHOLDER, style=_CAPTION_STYLE, text=text)
        return cls(figure, f"{prefix}{prompt} · {state}")

    @classmethod
    def of(cls, generation: Generation, label: str = "") -> Tile:
        """The place of an image that arrived; ``ValueError`` if its pixels cannot be decoded."""
        shown, mime_type = images.display_bytes(generation.image_bytes, generation.metadata, max_side=2 * TILE_WIDTH)
        height = round(TILE_WIDTH * generation.height / generation.width)
        source = f"data:{mime_type};base64,{base64.b64encode(shown).decode('ascii')}"
        picture = (
            f'<img src="{source}" width="{TILE_WIDTH}" height="{height}" alt="{html.escape(generation.prompt)}" '
            'style="display:block;max-width:100%;height:auto;border-radius:4px">'
        )
        prefix = f"{label} · " if label else ""
        details = caption(generation)[len(generation.prompt) :]
        text = f"{html.escape(prefix)}<bdi>{html.escape(generation.prompt)}</bdi>{html.escape(details)}"
        figure = _FIGURE.format(width=TILE_WIDTH, picture=picture, style=_CAPTION_STYLE, text=text)
        return cls(figure, prefix + caption(generation))


def grid_bundle(tiles: Sequence[Tile]) -> dict[str, str]:
    """The display bundle of a grid: HTML, and the captions as plain text for text-only viewers."""
    figures = "".join(tile.html for tile in tiles)
    return {
        "text/html": f'<div class="flux-grid" style="display:flex;flex-wrap:wrap;gap:12px">{figures}</div>',
        "text/plain": "\n".join(tile.text for tile in tiles),
    }
