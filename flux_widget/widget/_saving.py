"""The widget's ``save_to``: every image saved as it arrives, and the folder's images in a new widget's history.

:class:`SavingActions` adds the ``save_to`` trait to the history: a folder (``~`` expanded, created
if missing, checked before it is used) that every image is written to, with its parameters inside,
as it arrives, under a name never reused, and recorded in the folder's ``manifest.jsonl``. A widget
made with the same folder (after a kernel restart, in another notebook) shows its newest images,
and the history's search finds the folder's older ones (the ``find`` and ``show_found`` messages).
Saving runs on a worker thread; a folder that cannot be written is said in the widget, and the
history keeps every image.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import traitlets

from .. import _images as images
from ..errors import FluxError
from ._actions import HistoryActions
from ._gallery_folder import SHOWN_AT_MOST, FolderFilter, GalleryFolder

if TYPE_CHECKING:
    from .._home_loop import HomeLoop
    from ..folders._manifest import ManifestLine
    from ..types import Generation

__all__ = ["FOLDER_MESSAGES", "SAVE_TO_ENV", "SavingActions"]

#: The environment variable that gives every new widget a ``save_to`` folder.
SAVE_TO_ENV = "FLUX_WIDGET_SAVE_TO"
#: A view's questions about the folder: how many images beyond the history pass the filters
#: (answered with "found"), and to bring them into the history.
FOLDER_MESSAGES = frozenset({"find", "show_found"})

logger = logging.getLogger("flux_widget")


class SavingActions(HistoryActions):
    """The ``save_to`` folder of :class:`~flux_widget.FluxWidget`: images saved as they arrive, read back when made."""

    _home: HomeLoop
    #: The open folder, or None when not saving.
    _gallery: GalleryFolder | None
    #: Saves under way (a generation returns once its images are on disk).
    _saving: set[asyncio.Future[Path]]
    #: The folder's file of each generation of the history that has one, by the generation's id.
    _files: dict[int, str]
    #: The folder's answers under way (held, so that they are not collected before they finish).
    _asked: set[asyncio.Future[None]]
    #: The running job (it records its images by history index).
    _task: asyncio.Task[Any] | None

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
                self._add_from_folder(*_read(gallery, None))

    async def _show_folder(self, gallery: GalleryFolder) -> None:
        generations, thumbnails = await asyncio.to_thread(_read, gallery, None)
        if gallery is self._gallery and len(self._history) == 0:
            self._add_from_folder(generations, thumbnails)

    def _add_from_folder(self, generations: list[Generation], thumbnails: list[str]) -> None:
        """Put the folder's ``generations`` (oldest first) before everything in the history: each its
        own run, older than any there (the widget's own are runs 1, 2, …), so the newest shows first."""
        oldest = min((entry.run for entry in self._history.entries), default=0)
        for number, (generation, thumbnail) in enumerate(zip(generations, thumbnails, strict=True)):
            self._history.add(
                generation, thumbnail=thumbnail, run=min(oldest, 0) + number - len(generations), at=number
            )
            self._files[id(generation)] = Path(generation.url).name
        if not generations:
            return
        added, shown = len(generations), self.current.get("index") if self.current else None
        with self.hold_sync():
            self.history = self._history.entries
            self.batch = [{**tile, "index": tile["index"] + added} for tile in self.batch]
            self._removed = [(at + added, generation, slot, run) for at, generation, slot, run in self._removed]
            if shown is not None:  # what was shown stays shown, further along
                self.current = {**self.current, "index": shown + added}
            elif not self.current:
                self._show_image(generations[-1], added - 1)

    def _folder_message(self, kind: str, content: dict[str, Any]) -> None:
        """Answer a view's ``find``, or bring the folder's images that pass its filters into the history."""
        gallery, wanted = self._gallery, FolderFilter.of(content)
        shown = {name for generation in self._history if (name := self._files.get(id(generation)))}
        self._files = {
            id(generation): self._files[id(generation)] for generation in self._history if id(generation) in self._files
        }
        if kind == "find":
            asked = asyncio.ensure_future(self._answer_find(gallery, wanted, shown, content.get("ticket")))
        elif gallery is not None and wanted.active:
            asked = asyncio.ensure_future(self._show_found(gallery, wanted, shown))
        else:
            return
        self._asked.add(asked)
        asked.add_done_callback(self._asked.discard)

    async def _answer_find(
        self, gallery: GalleryFolder | None, wanted: FolderFilter, shown: set[str], ticket: object
    ) -> None:
        found = await asyncio.to_thread(gallery.find, wanted, shown) if gallery is not None and wanted.active else []
        self.send({"type": "found", "ticket": ticket, "count": len(found)})

    async def _show_found(self, gallery: GalleryFolder, wanted: FolderFilter, shown: set[str]) -> None:
        found = await asyncio.to_thread(gallery.find, wanted, shown)
        generations, thumbnails = await asyncio.to_thread(_read, gallery, found[:SHOWN_AT_MOST])
        while self._task is not None and not self._task.done():  # a running job records by index: after it
            await asyncio.wait({self._task})
        if gallery is self._gallery:
            self._add_from_folder(generations, thumbnails)

    def _save(self, generation: Generation) -> None:
        """Save ``generation`` into the folder on a worker thread (when there is one)."""
        gallery = self._gallery
        if gallery is None:
            return
        saving = asyncio.ensure_future(asyncio.to_thread(gallery.save, generation))
        self._saving.add(saving)
        saving.add_done_callback(lambda done: self._saved(done, generation))

    def _saved(self, saving: asyncio.Future[Path], generation: Generation) -> None:
        self._saving.discard(saving)
        if saving.cancelled():
            return
        failure = saving.exception()
        if failure is None:
            self._files[id(generation)] = saving.result().name
        if isinstance(failure, FluxError):
            self.error = f"An image was not saved: {failure}"  # the history keeps it
        elif failure is not None:
            logger.warning("saving an image failed: %r", failure)
            self.error = f"An image was not saved ({type(failure).__name__}); the history keeps it."

    async def _saved_all(self) -> None:
        """Wait until every image saved so far is on disk."""
        if self._saving:
            await asyncio.wait(set(self._saving))


def _read(gallery: GalleryFolder, lines: list[ManifestLine] | None) -> tuple[list[Generation], list[str]]:
    """The images of ``lines`` (newest first; None: the folder's newest) and their history
    thumbnails (made here, on a worker thread), oldest first."""
    generations = gallery.generations() if lines is None else gallery.generations_of(lines)
    return generations, [images.thumbnail_data_url(generation.image_bytes) for generation in generations]
