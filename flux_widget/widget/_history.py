"""The ordered record of a widget's generations.

Full images stay in the kernel. The browser gets one small :class:`HistoryEntry` model per
generation (parameters and a text thumbnail): adding a generation sends that entry alone, and the
widget's ``history`` trait only lists references to the entries, so the traffic per generation
stays flat however long the history grows. Entries hold no binary buffers, so they survive a
notebook save with its widget state.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ipywidgets
import traitlets

from .. import _images as images
from .._parameters import RECORDED
from ..errors import GenerationError
from ..types import Generation
from ._archive import file_name

__all__ = ["ENTRY_FIELDS", "INPUT_THUMBNAIL_SIDE", "History", "HistoryEntry"]

#: What each entry tells the browser (the frontend reads exactly these): the recorded parameters,
#: model that made it, time, thumbnail, and a thumbnail of each reference image it was made from.
ENTRY_FIELDS = (*(parameter.name for parameter in RECORDED), "model", "elapsed", "thumbnail", "inputs", "run")
#: An input's thumbnail in a history entry: its shorter side, in pixels (about a kilobyte each).
INPUT_THUMBNAIL_SIDE = 48


def _recorded(namespace: dict[str, Any]) -> None:
    """One synced trait per recorded parameter (what the image was made with), from the parameter table."""
    for parameter in RECORDED:
        if parameter.many:  # the reference images' records: SHA-256 and size each
            namespace[parameter.name] = traitlets.List(None, allow_none=True, help=parameter.help).tag(sync=True)
        elif parameter.kind is str:
            namespace[parameter.name] = traitlets.Unicode("", help=parameter.help).tag(sync=True)
        elif parameter.kind is float or parameter.optional:
            trait = traitlets.Float if parameter.kind is float else traitlets.Int
            namespace[parameter.name] = trait(None, allow_none=True, help=parameter.help).tag(sync=True)
        else:
            namespace[parameter.name] = traitlets.Int(0, help=parameter.help).tag(sync=True)


#: The recorded parameters as traits of a widget model with no view.
_Recorded = types.new_class("_Recorded", (ipywidgets.Widget,), exec_body=_recorded)


class HistoryEntry(_Recorded):  # type: ignore[misc, valid-type]
    """One generation as the browser sees it: its parameters and a thumbnail of a few KB.

    A widget model of its own (no view), so that it is sent once, when it is made. It reads like a
    dict too: ``entry["seed"]``. Its parameters are the recorded ones of the parameter table.
    """

    model = traitlets.Unicode("", help="What made it: the Space, the inference model or the local model.").tag(
        sync=True
    )
    elapsed = traitlets.Float(0.0, help="Seconds the generation took.").tag(sync=True)
    thumbnail = traitlets.Unicode("", help="A data: URL of a WebP at most 128 px a side.").tag(sync=True)
    inputs = traitlets.List(
        traitlets.Unicode(), help="A data: URL of a small WebP of each reference image, in order."
    ).tag(sync=True)
    run = traitlets.Int(0, help="The run (one press of Generate) it came from: the view shows a batch together.").tag(
        sync=True
    )

    @classmethod
    def of(cls, generation: Generation, thumbnail: str | None = None, run: int = 0) -> HistoryEntry:
        """The entry for ``generation`` of run ``run``; its ``thumbnail`` is made here unless given."""
        return cls(
            **generation.parameters,
            model=generation.model,
            run=run,
            elapsed=round(generation.elapsed, 3),
            thumbnail=thumbnail or images.thumbnail_data_url(generation.image_bytes),
            inputs=[
                images.thumbnail_data_url(item.data, side=INPUT_THUMBNAIL_SIDE, quality=60)
                for item in generation.inputs
            ],
        )

    def __getitem__(self, name: str) -> Any:
        if name not in ENTRY_FIELDS:
            raise KeyError(name)
        return getattr(self, name)

    def as_dict(self) -> dict[str, Any]:
        """The entry's fields as a plain dict."""
        return {name: getattr(self, name) for name in ENTRY_FIELDS}

    def __repr__(self) -> str:
        return f"HistoryEntry(prompt={self.prompt!r}, seed={self.seed}, size={self.width}x{self.height})"


class History:
    """Generations in the order they were made, newest last, with their browser-side entries."""

    def __init__(self) -> None:
        self._generations: list[Generation] = []
        self._entries: list[HistoryEntry] = []

    def __len__(self) -> int:
        return len(self._generations)

    def __iter__(self) -> Iterator[Generation]:
        return iter(list(self._generations))

    def __getitem__(self, index: int) -> Generation:
        return self._generations[index]

    @property
    def entries(self) -> list[HistoryEntry]:
        """The browser-side entries, in the same order."""
        return list(self._entries)

    def add(
        self, generation: Generation, thumbnail: str | None = None, *, run: int = 0, at: int | None = None
    ) -> HistoryEntry:
        """Record a generation of run ``run`` at place ``at`` (default: last); its browser-side entry
        (with ``thumbnail``, if made already).

        An image whose pixels cannot be decoded (for its thumbnail) is a :class:`GenerationError`
        and is not recorded.
        """
        try:
            entry = HistoryEntry.of(generation, thumbnail, run)
        except ValueError as exc:
            raise GenerationError(f"The Space's image cannot be shown: {exc}.") from None
        place = len(self._generations) if at is None else max(0, min(at, len(self._generations)))
        self._generations.insert(place, generation)
        self._entries.insert(place, entry)
        return entry

    def insert(self, index: int, generation: Generation, run: int = 0) -> HistoryEntry:
        """Put ``generation`` back at ``index`` (an undone removal) with a new browser-side entry."""
        entry = HistoryEntry.of(generation, run=run)
        self._generations.insert(index, generation)
        self._entries.insert(index, entry)
        return entry

    def shown_order(self) -> list[int]:
        """The indexes in the order the view shows them (``shownOrder`` in ``js/src/state.js``): the
        newest run first, a batch in its own order; an entry of no run (0) is a run of its own."""
        count = len(self._entries)
        runs = [(entry.run or index - count, index) for index, entry in enumerate(self._entries)]
        return [index for _, index in sorted(runs, key=lambda pair: (-pair[0], pair[1]))]

    def run_of(self, index: int) -> int:
        """The run entry ``index`` came from."""
        return self._entries[index].run

    def remove(self, index: int) -> Generation:
        """Forget generation ``index`` and close its entry's model in the browser."""
        generation = self._generations.pop(index)
        self._entries.pop(index).close()
        return generation

    def clear(self) -> None:
        """Forget every generation and close the entries' models in the browser."""
        for entry in self._entries:
            entry.close()
        self._generations.clear()
        self._entries.clear()

    def save_all(self, folder: str | Path, suffix: str | None = None) -> list[Path]:
        """Write every image into ``folder`` (created if missing) as ``flux-NNN-seed-S.webp``.

        Without ``suffix`` each file keeps the Space's own format and bytes; with one (``".png"``)
        every image is converted. Either way prompt, seed, size and steps are in the file's metadata.
        """
        target = Path(folder).expanduser()
        target.mkdir(parents=True, exist_ok=True)
        return [
            generation.save(target / file_name(number, generation, suffix))
            for number, generation in enumerate(self._generations, start=1)
        ]
