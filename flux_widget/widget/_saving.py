"""The widget's ``save_to``: every image saved as it arrives, and the folder's images in a new widget's history.

:class:`SavingActions` adds the ``save_to`` trait to the history: a folder (``~`` expanded, created
if missing, checked before it is used) that every image is written to, with its parameters inside,
as it arrives, under a name never reused, and recorded in the folder's ``manifest.jsonl``. A widget
made with the same folder (after a kernel restart, in another notebook) shows its newest images.
Saving runs on a worker thread; a folder that cannot be written is said in the widget, and the
history keeps every image.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import traitlets

from .. import _images as images
from ..errors import FluxError
from ._actions import HistoryActions
from ._gallery_folder import GalleryFolder

if TYPE_CHECKING:
    from .._home_loop import HomeLoop
    from ..types import Generation

__all__ = ["SAVE_TO_ENV", "SavingActions"]

#: The environment variable that gives every new widget a ``save_to`` folder.
SAVE_TO_ENV = "FLUX_WIDGET_SAVE_TO"

logger = logging.getLogger("flux_widget")


class SavingActions(HistoryActions):
    """The ``save_to`` folder of :class:`~flux_widget.FluxWidget`: images saved as they arrive, read back when made."""

    _home: HomeLoop
    #: The open folder, or None when not saving.
    _gallery: GalleryFolder | None
    #: Saves under way (a generation returns once its images are on disk).
    _saving: set[asyncio.Future[Path]]

    save_to = traitlets.Unicode(
        "", help="The folder every image is saved to as it arrives, its parameters inside ('': not saved)."
    ).tag(sync=True)

    @traitlets.observe("save_to")
    def _save_to_changed(self, change: dict[str, object]) -> None:
        self._open_gallery(str(change["new"]))

    def _open_gallery(self, folder: str) -> None:
        """Save into ``folder`` from now on ('' stops); a widget with no history yet shows the folder's images."""
        self._gallery = None
        if not folder.strip():
            return
        try:
            gallery = GalleryFolder(folder)
        except FluxError as exc:
            self.error = f"Images are not saved: {exc}"
            return
        self._gallery = gallery
        if len(self._history) == 0:
            if self._home.loop is not None and self._home.loop.is_running():
                self._home.loop.create_task(self._show_folder(gallery))
            else:  # no running loop (a script): read it now
                self._add_from_folder(*_read(gallery))

    async def _show_folder(self, gallery: GalleryFolder) -> None:
        generations, thumbnails = await asyncio.to_thread(_read, gallery)
        if gallery is self._gallery and len(self._history) == 0:
            self._add_from_folder(generations, thumbnails)

    def _add_from_folder(self, generations: list[Generation], thumbnails: list[str]) -> None:
        for number, (generation, thumbnail) in enumerate(zip(generations, thumbnails, strict=True)):
            # Each its own run, before this widget's first (run 1): the newest is shown first.
            self._history.add(generation, thumbnail=thumbnail, run=number - len(generations))
        if generations:
            with self.hold_sync():
                self.history = self._history.entries
                self._show_image(generations[-1], len(generations) - 1)

    def _save(self, generation: Generation) -> None:
        """Save ``generation`` into the folder on a worker thread (when there is one)."""
        gallery = self._gallery
        if gallery is None:
            return
        saving = asyncio.ensure_future(asyncio.to_thread(gallery.save, generation))
        self._saving.add(saving)
        saving.add_done_callback(self._saved)

    def _saved(self, saving: asyncio.Future[Path]) -> None:
        self._saving.discard(saving)
        if saving.cancelled():
            return
        failure = saving.exception()
        if isinstance(failure, FluxError):
            self.error = f"An image was not saved: {failure}"  # the history keeps it
        elif failure is not None:
            logger.warning("saving an image failed: %r", failure)
            self.error = f"An image was not saved ({type(failure).__name__}); the history keeps it."

    async def _saved_all(self) -> None:
        """Wait until every image saved so far is on disk."""
        if self._saving:
            await asyncio.wait(set(self._saving))


def _read(gallery: GalleryFolder) -> tuple[list[Generation], list[str]]:
    """The folder's newest images and their history thumbnails (made here, on a worker thread)."""
    generations = gallery.generations()
    return generations, [images.thumbnail_data_url(generation.image_bytes) for generation in generations]
