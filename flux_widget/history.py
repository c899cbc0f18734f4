"""The ordered record of a widget's generations.

Full images stay in the kernel; the widget's state gets small entries (parameters and a text
thumbnail), which survive a notebook save because they hold no binary buffers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import images
from .types import Generation

__all__ = ["History", "history_entry"]


def history_entry(generation: Generation) -> dict[str, Any]:
    """What the widget's ``history`` trait holds for one generation: JSON-safe, a few KB."""
    return {
        **generation.parameters,
        "elapsed": round(generation.elapsed, 3),
        "thumbnail": images.thumbnail_data_url(generation.image_bytes),
    }


class History:
    """Generations in the order they were made, newest last."""

    def __init__(self) -> None:
        self._generations: list[Generation] = []

    def __len__(self) -> int:
        return len(self._generations)

    def __iter__(self) -> Iterator[Generation]:
        return iter(list(self._generations))

    def __getitem__(self, index: int) -> Generation:
        return self._generations[index]

    def add(self, generation: Generation) -> dict[str, Any]:
        """Record a generation and return its widget-state entry."""
        entry = history_entry(generation)
        self._generations.append(generation)
        return entry

    def clear(self) -> None:
        """Forget every generation."""
        self._generations.clear()

    def save_all(self, folder: str | Path, suffix: str | None = None) -> list[Path]:
        """Write every image into ``folder`` (created if missing) as ``flux-NNN-seed-S.webp``.

        Without ``suffix`` each file keeps the Space's own format and bytes; with one (``".png"``)
        every image is converted. Either way prompt, seed, size and steps are in the file's metadata.
        """
        target = Path(folder).expanduser()
        target.mkdir(parents=True, exist_ok=True)
        return [
            generation.save(
                target / f"flux-{number:03d}-seed-{generation.seed}{suffix or images.suffix_for(generation.mime_type)}"
            )
            for number, generation in enumerate(self._generations, start=1)
        ]
