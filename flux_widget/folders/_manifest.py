"""A large job's folder: its images and ``manifest.jsonl``, one typed, versioned line per image as it finishes.

:class:`ManifestLine` is the one format: its fields, its writing (:meth:`ManifestLine.to_json`) and
its reading (:meth:`ManifestLine.from_json`, which also reads manifests written before lines had a
``version``). Each line is written with one ``write`` of the complete line and flushed to disk; a
write that takes only part of it (a full disk) is undone and stops the run. A last line a crash cut
short (no newline at the end) is dropped when the folder is opened again, unless it is whole. Each
image is written to a temporary name in the folder and renamed, so a file the manifest names is
always complete; the temporary files a killed run left are removed, and an image it renamed into
place without its line is found again by its name. A later line for the same key wins: a failed
image that a resumed run made is ``done``. The manifest is never opened through a link. The folder
is read once, when a run opens it, a line at a time, into a compact index (each done key's file), so
memory holds no line but the one being read.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .._parameters import RECORDED, recorded
from ..errors import FolderError
from ._folder import PARTIAL_PREFIX, digest, key_hash, open_folder, reason, refuse_link, scan_folder

__all__ = ["MANIFEST", "VERSION", "Manifest", "ManifestLine", "parameters_of"]

MANIFEST = "manifest.jsonl"
#: The format of the lines this version writes; lines without a version (older ones) read as version 0.
VERSION = 1
#: JSON's decoder of one value (its C scanner), as each manifest line is read.
_DECODE = json.JSONDecoder().raw_decode
#: The recorded parameters a line holds besides its prompt, from the parameter table.
_PARAMETERS = tuple(parameter.name for parameter in RECORDED if parameter.name != "prompt")
Status = Literal["done", "failed"]


@dataclass(frozen=True)
class ManifestLine:
    """One image of a large job: what was asked (or made), where it is, and how it went."""

    #: What finds the image again on a resumed run (prompt, occurrence, image; see ``Job.key``).
    key: str
    status: Status
    #: The prompt file's line it came from (from 1).
    line: int = 0
    prompt: str = ""
    #: The recorded parameters (``seed``, ``width``, ``height``, ``steps``, …); a seed the
    #: backend picks is ``None`` until the image is made.
    parameters: Mapping[str, Any] = field(default_factory=dict)
    backend: str = ""
    #: The image's file, relative to the folder (empty when it failed).
    file: str = ""
    #: The error's message when it failed.
    error: str = ""
    seconds: float = 0.0
    version: int = VERSION

    def to_json(self) -> str:
        """The line as written: one flat JSON object (no newline), the parameters under their own names."""
        fields: dict[str, Any] = {"version": self.version, "key": self.key, "line": self.line, "prompt": self.prompt}
        fields.update({name: self.parameters.get(name) for name in _PARAMETERS})
        fields.update(backend=self.backend, file=self.file, status=self.status, error=self.error)
        fields["seconds"] = round(self.seconds, 3)
        return json.dumps(fields, ensure_ascii=False)

    @classmethod
    def from_json(cls, data: object) -> ManifestLine | None:
        """The line ``data`` (a parsed JSON value) holds, of this version or an older one; ``None`` if it is none."""
        if not isinstance(data, dict) or not isinstance(data.get("key"), str):
            return None
        status = data.get("status")
        version = data.get("version", 0)
        line, seconds = data.get("line"), data.get("seconds")
        return cls(
            key=data["key"],
            status="done" if status == "done" else "failed",
            line=line if isinstance(line, int) and not isinstance(line, bool) else 0,
            prompt=str(data.get("prompt") or ""),
            parameters={name: data[name] for name in _PARAMETERS if name in data},
            backend=str(data.get("backend") or ""),
            file=str(data.get("file") or ""),
            error=str(data.get("error") or ""),
            seconds=float(seconds) if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) else 0.0,
            version=version if isinstance(version, int) and not isinstance(version, bool) else 0,
        )


class Manifest:
    """The manifest of the folder ``out`` (checked, and created if missing), read once and appended to.

    Raises :class:`~flux_widget.FolderError` when the folder cannot be used (see
    :func:`~._folder.open_folder`) or ``manifest.jsonl`` is a link or not a file.
    """

    def __init__(self, out: object) -> None:
        self.folder = open_folder(out)
        self.path = self.folder / MANIFEST
        #: The compact index a run needs, read in one pass: each done key's file, both as their
        #: :func:`digest` (a later line for a key wins; a failed one takes it out). Full lines are read
        #: again only when asked (:meth:`lines`).
        self._done: dict[int, int] = {}
        #: How many lines the manifest holds.
        self.count = 0
        #: Line numbers of done lines whose file is not a plain name in the folder: not trusted, made again.
        self.untrusted: list[int] = []
        for number, data in self._read_json():  # only the key, status and file of each line are looked at
            self.count = number
            key, file = data.get("key"), data.get("file")
            if not isinstance(key, str):
                continue
            if data.get("status") != "done":
                self._done.pop(digest(key), None)
            elif isinstance(file, str) and self._inside(file):
                self._done[digest(key)] = digest(file)
            else:
                self.untrusted.append(number)
                self._done.pop(digest(key), None)
        if self.untrusted:
            shown = ", ".join(map(str, self.untrusted[:10]))
            warnings.warn(
                f"{self.path}: line(s) {shown} name a file outside the folder; those images are made again.",
                stacklevel=2,
            )
        #: Images a killed run renamed into place without writing their line, by key hash; of the done
        #: lines' files, those missing and those that are links (one pass over the folder, not a stat each).
        self.unrecorded, missing, self._links = self._scan(set(self._done.values()))
        self._missing = set(missing)  # a copy: the set the scan emptied keeps its table of a million slots

    def _index(self, entry: ManifestLine) -> None:
        if entry.status == "done":
            self._done[digest(entry.key)] = digest(entry.file)
        else:
            self._done.pop(digest(entry.key), None)

    def _scan(self, named: set[int]) -> tuple[dict[str, str], set[int], dict[int, str]]:
        """Unrecorded images by key hash; of ``named``, the missing files and the links (see :func:`scan_folder`)."""
        return scan_folder(self.folder, named)

    @property
    def location(self) -> str:
        """Where the images are, as a person would give it: the folder (an address for a remote run)."""
        return str(self.folder)

    def close(self) -> None:
        """The run ends (a local manifest is on disk already)."""

    def lines(self) -> Iterator[ManifestLine]:
        """Every line of the manifest, read again from the file, in order (the widget's gallery)."""
        for _number, entry in self._read():
            yield entry

    @staticmethod
    def _inside(name: str) -> bool:
        """Whether ``name`` is a plain file name in the folder (no separator, so neither ``..`` nor absolute)."""
        return (
            bool(name)
            and name not in (".", "..")
            and "/" not in name
            and "\0" not in name
            and (os.altsep is None or os.altsep not in name)
            and os.sep not in name
        )

    def _open(self, flags: int) -> int:
        """``manifest.jsonl`` opened with ``flags``, never through a link."""
        try:
            return os.open(self.path, flags | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o644)
        except OSError as exc:
            if os.path.islink(self.path):
                raise FolderError(f"{self.path} is a link; a job reads and writes only plain files in its folder. "
                                  "Remove it.") from None  # fmt: skip
            raise FolderError(f"cannot open {self.path}: {reason(exc)}.") from None

    def _read(self) -> Iterator[tuple[int, ManifestLine]]:
        """The lines that parse, with their numbers, a line at a time (memory stays one line's)."""
        for number, data in self._read_json():
            entry = ManifestLine.from_json(data)
            if entry is not None:
                yield number, entry

    def _read_json(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """Each line that is a JSON object, parsed, with its number.

        Lines end at "\\n" alone: a prompt may hold U+2028 or U+0085, which ``str.splitlines`` would
        split at. A last line without its newline (a crash) is ended if whole, else cut off.
        """
        if not os.path.lexists(self.path):
            return
        descriptor = self._open(os.O_RDONLY | os.O_NONBLOCK)  # a FIFO does not block the open
        with os.fdopen(descriptor, "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                raise FolderError(f"{self.path} is not a file: remove it, or choose another folder.")
            whole = 0  # bytes of complete lines so far
            for number, raw in enumerate(file, start=1):
                data = self._parsed(raw)
                if not raw.endswith(b"\n"):  # the last line, cut short by a crash
                    self._mend(whole, ended=data is not None)
                    if data is not None:
                        yield number, data
                    return
                whole += len(raw)
                if data is not None:
                    yield number, data

    @staticmethod
    def _parsed(raw: bytes) -> dict[str, Any] | None:
        """The JSON object ``raw`` holds with a text ``key``; ``None`` for anything else."""
        try:
            data, _ = _DECODE(raw.decode("utf-8", errors="replace").lstrip())
        except (ValueError, RecursionError):
            return None
        return data if isinstance(data, dict) and isinstance(data.get("key"), str) else None

    def _mend(self, whole: int, *, ended: bool) -> None:
        """A last line without its newline: ended if it is a whole line (``ended``), else cut off at
        ``whole`` bytes (its image is made again)."""
        descriptor = self._open(os.O_WRONLY)
        try:
            if ended:
                os.lseek(descriptor, 0, os.SEEK_END)
                _write_all(descriptor, b"\n")
            else:
                os.ftruncate(descriptor, whole)
        except OSError as exc:
            raise FolderError(f"cannot mend the last line of {self.path}: {reason(exc)}.") from None
        finally:
            os.close(descriptor)

    def is_done(self, key: str) -> bool:
        """Whether ``key``'s image was made and its file is still there (a link there is refused)."""
        file = self._done.get(digest(key))
        if file is None or file in self._missing:
            return False
        link = self._links.get(file)
        if link is not None:
            refuse_link(self.folder / link)
        return True

    def unrecorded_for(self, key: str) -> str | None:
        """The file of ``key``'s image if a killed run made it but never recorded it."""
        return self.unrecorded.get(key_hash(key))

    def record(self, entry: ManifestLine) -> None:
        """Append ``entry`` as one whole line, on disk before this returns; else a FolderError, the file as it was."""
        line = (entry.to_json() + "\n").encode("utf-8")
        descriptor = self._open(os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            size = os.fstat(descriptor).st_size
            try:
                _write_all(descriptor, line)
                os.fsync(descriptor)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    os.ftruncate(descriptor, size)  # no half line for the next one to join
                kept = f" (the image {entry.file} is kept)" if entry.file else ""
                raise FolderError(
                    f"could not record an image in {self.path}: {reason(exc)}{kept}. The run stopped; "
                    "make room and run it again to resume."
                ) from None
        finally:
            os.close(descriptor)
        self.count += 1
        self._index(entry)
        self._missing.discard(digest(entry.file))  # written just now: there

    def write_file(self, name: str, data: bytes) -> None:
        """Write ``data`` as ``name`` in the folder: to a temporary name first, then renamed over.

        A failure is a :class:`~flux_widget.FolderError` and leaves no file behind.
        """
        write_whole(self.folder, name, data)


def write_whole(folder: Path, name: str, data: bytes) -> None:
    """Write ``data`` as ``name`` in ``folder``, whole: to a temporary name first, then renamed over
    (never through a link). A failure is a :class:`~flux_widget.FolderError` and leaves no file behind."""
    target = folder / name
    refuse_link(target)
    try:
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=PARTIAL_PREFIX, suffix=Path(name).suffix)
    except OSError as exc:
        raise FolderError(f"could not write {target}: {reason(exc)}. The run stopped.") from None
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException as exc:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise FolderError(f"could not write {target}: {reason(exc)}. The run stopped; make room and "
                              "run it again to resume.") from None  # fmt: skip
        raise


def _write_all(descriptor: int, data: bytes) -> None:
    """Write all of ``data``; a write that takes only part of it (a full disk) is an ``OSError``."""
    written = os.write(descriptor, data)
    if written != len(data):
        raise OSError(errno.ENOSPC, f"only {written} of {len(data)} bytes were written (the disk is full)")


def parameters_of(values: Mapping[str, Any]) -> dict[str, Any]:
    """The recorded parameters of ``values`` (a request's or a generation's), as a line keeps them
    (reference images as their SHA-256 and size)."""
    return recorded(values)
