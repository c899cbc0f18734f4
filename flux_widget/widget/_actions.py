"""What the history strip, the batch tiles and the full-size view can do to the history.

:class:`HistoryActions` shows an entry (with or without its settings), removes one with undo, and
clears or saves them all; :class:`~flux_widget.FluxWidget` adds generating on top.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import traitlets

from ..errors import FluxError
from ._archive import zip_of
from ._history import History
from ._state import WidgetState

if TYPE_CHECKING:
    from PIL import Image

    from ..types import Generation

__all__ = ["UNDO_DEPTH", "HistoryActions"]

#: How many removals :meth:`HistoryActions.restore` can undo.
UNDO_DEPTH = 20


class HistoryActions(WidgetState):
    """The widget's history: every generation, full images included, and what can be done to it."""

    starred = traitlets.List(
        traitlets.Unicode(), help="The history entries marked with a star (the view's ☆ or S), by model reference."
    ).tag(sync=True)

    @property
    def starred_generations(self) -> list[Generation]:
        """The generations marked with a star in the view, oldest first."""
        marked = set(self.starred)
        refs = [f"IPY_MODEL_{entry.model_id}" for entry in self._history.entries]
        return [generation for generation, ref in zip(self._history, refs, strict=True) if ref in marked]

    _history: History
    #: Removed entries that :meth:`restore` can put back, newest last: (index, generation, batch slot, run).
    _removed: list[tuple[int, Generation, int | None, int]]

    @property
    def generations(self) -> list[Generation]:
        """Every generation of this widget, full images included, newest last."""
        return list(self._history)

    @property
    def images(self) -> list[Image.Image]:
        """Every generated image as a ``PIL.Image``, newest last."""
        return [generation.image for generation in self._history]

    def select(self, index: int) -> Generation:
        """Show history entry ``index`` full size and restore its parameters, seed included.

        ``randomize_seed`` stays as it was: the next image gets a new seed unless it is turned off
        (the "Reuse seed" action does both).
        """
        generation = self._history[index]
        with self.hold_sync():
            self.batch, self.batch_size = [], 0  # the entry alone, not the last batch's grid
            self._show_image(generation, index % len(self._history))
            self._take_settings(generation)
        return generation

    def _take_settings(self, generation: Generation) -> None:
        """The controls become ``generation``'s: prompt, seed, what it was drawn with, and its inputs."""
        for name, value in generation.parameters.items():
            if name != "images":  # the inputs go back into the tray, not into a control
                setattr(self, name, value)
        self._reuse_inputs(generation)

    def _reuse_inputs(self, generation: Generation) -> None:
        """Put the reference images ``generation`` was made from back into the tray (the tray's class does)."""

    def show(self, index: int) -> Generation:
        """Show history entry ``index`` full size, leaving the controls as they are (the full-size view's arrows)."""
        generation = self._history[index]
        self._show_image(generation, index % len(self._history))
        return generation

    def remove(self, index: int) -> Generation:
        """Forget history entry ``index`` here and in the browser (:meth:`restore` undoes it).

        If it was on show, its neighbour shows instead, with its settings: the next one in the
        strip's order (the one the strip focuses next), else the one before; nothing when the
        history is empty.
        """
        position = index % len(self._history) if len(self._history) else index
        order = self._history.shown_order()
        at = order.index(position) if position in order else 0
        beside = order[at + 1] if at + 1 < len(order) else order[at - 1] if at > 0 else None
        slot = next((tile["slot"] for tile in self.batch if tile["index"] == position), None)
        run = self._history.run_of(position)
        generation = self._history.remove(position)
        self._removed = [*self._removed[-(UNDO_DEPTH - 1) :], (position, generation, slot, run)]
        was_shown = bool(self.current) and self.current.get("index") == position
        with self.hold_sync():
            self.history = self._history.entries
            self._forget_index(position)
            if was_shown and beside is not None:
                neighbour = beside - (beside > position)  # its index once the removed one is gone
                self._show_image(self._history[neighbour], neighbour)
                self._take_settings(self._history[neighbour])  # one current image: shown, focused, set
            elif was_shown:
                self.image, self.image_type, self.current = b"", "", {}
        return generation

    def restore(self) -> Generation:
        """Put back the entry removed last, where it was (and in its batch's grid), and show it.

        Each call undoes one more removal, newest first; :class:`FluxError` when there is none.
        """
        if not self._removed:
            raise FluxError("Nothing to restore: no history entry was removed.")
        *self._removed, (position, generation, slot, run) = self._removed
        position = min(position, len(self._history))
        self._history.insert(position, generation, run)
        with self.hold_sync():
            self.history = self._history.entries
            shown = self.current.get("index") if self.current else None
            if shown is not None and shown >= position:
                self.current = {**self.current, "index": shown + 1}
            batch = [{**tile, "index": tile["index"] + (tile["index"] >= position)} for tile in self.batch]
            if slot is not None and self.batch_size:
                batch = sorted([*batch, {"slot": slot, "index": position}], key=lambda tile: tile["slot"])
            self.batch = batch
            self._show_image(generation, position)
        return generation

    def clear_history(self) -> None:
        """Forget every generation (the image on show stays until the next one)."""
        self._history.clear()
        with self.hold_sync():
            self.history = []
            self.batch = []
            self.current = {**self.current, "index": None} if self.current else {}

    def save_all(self, folder: str | Path, suffix: str | None = None) -> list[Path]:
        """Write every generated image into ``folder``, parameters in its metadata.

        Files keep the Space's own format and bytes unless ``suffix`` (``".png"``, ``".jpg"``) asks
        for another.
        """
        return self._history.save_all(folder, suffix)

    def _forget_index(self, position: int) -> None:
        """History entry ``position`` is gone: the image on show and the batch grid point past it."""
        shown = self.current.get("index") if self.current else None
        if shown is not None and shown >= position:
            self.current = {**self.current, "index": None if shown == position else shown - 1}
        if self.batch:
            self.batch = [
                {**tile, "index": tile["index"] - (tile["index"] > position)}
                for tile in self.batch
                if tile["index"] != position
            ]

    def _send_image(self, index: int, ticket: object) -> None:
        """Answer a view's request for the full image of entry ``index`` (a batch tile, the full-size view)."""
        if not 0 <= index < len(self._history):
            self.send({"type": "image", "index": index, "ticket": ticket, "missing": True})
            return
        generation = self._history[index]
        reply = {"type": "image", "index": index, "ticket": ticket, "mime": generation.mime_type}
        self.send({**reply, **generation.parameters}, buffers=[generation.file_bytes])

    def _send_zip(self, ticket: object) -> None:
        """Answer Download all: every image of the history in one zip, made here in the kernel."""
        self.send(
            {"type": "zip", "ticket": ticket, "name": "flux-images.zip", "count": len(self._history)},
            buffers=[zip_of(list(self._history))],
        )
