"""The widget's ``save_to`` folder: every image written as it arrives, and read back as a gallery.

The folder is a large job's folder (``flux_widget.folders``): each image is written whole, with its
parameters inside, under a name that is never reused, and recorded in ``manifest.jsonl``, so the
same folder can be read by a large job, a script or another widget. A widget made with the same
``save_to`` (after a kernel restart, or in another notebook) shows the newest
:data:`SHOWN_AT_MOST` images of it in its history; the history's search finds the older ones
(:meth:`GalleryFolder.find`, with the filters of :class:`FolderFilter`).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from .. import _images as images
from ..errors import FluxError
from ..folders._folder import image_name, slug
from ..folders._manifest import Manifest, ManifestLine, parameters_of
from ..types import Generation

__all__ = ["SHOWN_AT_MOST", "FolderFilter", "GalleryFolder"]

#: How many of a folder's images a new widget shows in its history (the newest).
SHOWN_AT_MOST = 100
#: A file larger than this in the folder is not read back (the largest image a backend may send).
_LARGEST_FILE = 32 * 1024 * 1024
#: What the manifest says made the widget's images (a large job says its engine).
_WIDGET = "widget"
#: The longest search a view may send (longer is cut): a bound on a browser's message.
_LONGEST_QUERY = 1000


@dataclass(frozen=True)
class FolderFilter:
    """The history's filters, as ``js/src/history-filter.js`` applies them to the entries it holds:
    every word of ``query`` in the prompt (any case), the size ``"W×H"`` and the ``model`` ('' for any)."""

    query: str = ""
    size: str = ""
    model: str = ""

    @classmethod
    def of(cls, content: Mapping[str, object]) -> FolderFilter:
        """The filter a view's message asks for (anything but text is no filter)."""
        text = {
            name: value if isinstance(value := content.get(name), str) else "" for name in ("query", "size", "model")
        }
        return cls(text["query"][:_LONGEST_QUERY], text["size"][:40], text["model"][:_LONGEST_QUERY])

    @property
    def active(self) -> bool:
        """Whether it narrows anything down."""
        return bool(self.query.strip() or self.size or self.model)

    def passes(self, line: ManifestLine) -> bool:
        """Whether the folder's image of ``line`` passes."""
        values = line.parameters
        prompt = line.prompt.lower()
        return (
            all(word in prompt for word in self.query.lower().split())
            and (not self.size or f"{values.get('width')}×{values.get('height')}" == self.size)
            and (not self.model or (line.backend if line.backend != _WIDGET else "") == self.model)
        )


class GalleryFolder:
    """The folder ``folder`` (created if missing, checked as a large job's): a FolderError if unusable."""

    def __init__(self, folder: str | Path) -> None:
        self._manifest = Manifest(folder)
        self._lock = threading.Lock()  # one image named and recorded at a time, from any thread

    @property
    def folder(self) -> Path:
        """The folder, as opened (``~`` expanded)."""
        return self._manifest.folder

    def save(self, generation: Generation) -> Path:
        """Write ``generation`` (its parameters inside) and its manifest line; the file's path.

        A file of the folder is never overwritten: each image gets a new key, so a new name.
        """
        key = f"{_WIDGET}-{secrets.token_hex(8)}"
        suffix = images.suffix_for(generation.mime_type)
        with self._lock:
            ordinal = self._manifest.count + 1
            name = image_name(ordinal, slug(generation.prompt), generation.seed, key, suffix)
            self._manifest.write_file(name, generation.file_bytes)
            line = ManifestLine(
                key, "done", 0, generation.prompt, parameters_of(generation.parameters),
                generation.model or _WIDGET, name, seconds=generation.elapsed,
            )  # fmt: skip
            self._manifest.record(line)
        return self.folder / name

    def generations(self, most: int = SHOWN_AT_MOST) -> list[Generation]:
        """The newest ``most`` images the folder's manifest names, oldest first (a missing or broken file left out)."""
        return self.generations_of(self._done()[::-1], most)

    def find(self, wanted: FolderFilter, shown: Collection[str] = ()) -> list[ManifestLine]:
        """The folder's images that pass ``wanted``, newest first, but those whose file is in ``shown``."""
        return [entry for entry in reversed(self._done()) if entry.file not in shown and wanted.passes(entry)]

    def _done(self) -> list[ManifestLine]:
        """Each image's line, as the manifest names them (its latest line, if done; oldest first)."""
        latest: dict[str, ManifestLine] = {}
        for entry in self._manifest.lines():
            latest.pop(entry.key, None)  # a later line of a key takes the place of the earlier one
            if entry.status == "done":
                latest[entry.key] = entry
        return list(latest.values())

    def generations_of(self, newest_first: list[ManifestLine], most: int = SHOWN_AT_MOST) -> list[Generation]:
        """The images of the first ``most`` of ``newest_first`` that can be read, oldest first."""
        found = (self._generation(entry) for entry in newest_first)
        kept: list[Generation] = []
        for generation in found:
            if generation is not None:
                kept.append(generation)
                if len(kept) == most:
                    break
        return kept[::-1]

    def _generation(self, entry: ManifestLine) -> Generation | None:
        path = self.folder / entry.file
        try:
            if not self._manifest.is_done(entry.key) or path.stat().st_size > _LARGEST_FILE:
                return None
            data, mime_type = images.accept(path.read_bytes())
        except (OSError, ValueError, FluxError):  # gone, broken, or a link: left out
            return None
        values = entry.parameters
        numbers = [values.get(name) for name in ("seed", "width", "height", "steps")]
        if not all(isinstance(number, int) and not isinstance(number, bool) for number in numbers):
            return None
        seed, width, height, steps = (int(number) for number in numbers)  # type: ignore[arg-type]
        guidance = values.get("guidance")
        return Generation(
            prompt=entry.prompt, seed=seed, width=width, height=height, steps=steps, url=str(path),
            image_bytes=data, mime_type=mime_type, elapsed=entry.seconds,
            guidance=float(guidance) if isinstance(guidance, (int, float)) and not isinstance(guidance, bool) else None,
            model="" if entry.backend == _WIDGET else entry.backend,
            images=values.get("images") if isinstance(values.get("images"), list) else None,
        )  # fmt: skip
