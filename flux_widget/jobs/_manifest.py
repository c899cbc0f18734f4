"""A large job's folder: its images and ``manifest.jsonl``, one typed, versioned line per image as it finishes.

:class:`ManifestLine` is the one format: its fields, its writing (:meth:`ManifestLine.to_json`) and
its reading (:meth:`ManifestLine.from_json`, which also reads manifests written before lines had a
``version``). Each line is written with one ``write`` of the complete line and flushed to disk; a
line a crash cut short (no newline at the end) is dropped when the folder is opened again. Each
image is written to a temporary name in the folder and renamed, so a file the manifest names is
always complete. A later line for the same key wins: a failed image that a resumed run made is
``done``. The folder is read once, when a run opens it.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from .._parameters import RECORDED

__all__ = ["MANIFEST", "VERSION", "Manifest", "ManifestLine", "parameters_of"]

MANIFEST = "manifest.jsonl"
#: The format of the lines this version writes; lines without a version (older ones) read as version 0.
VERSION = 1
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
    """The manifest of the folder ``out`` (created if missing), read once and appended to."""

    def __init__(self, out: str | os.PathLike[str]) -> None:
        self.folder = Path(out)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / MANIFEST
        self.entries: dict[str, ManifestLine] = {}
        #: Line numbers of done lines whose file is not a plain name in the folder: not trusted, made again.
        self.untrusted: list[int] = []
        for number, entry in self._read():
            if entry.status == "done" and not self._inside(entry.file):
                self.untrusted.append(number)
                entry = replace(entry, status="failed", file="", error="its file is not in the folder")
            self.entries[entry.key] = entry
        if self.untrusted:
            shown = ", ".join(map(str, self.untrusted[:10]))
            warnings.warn(
                f"{self.path}: line(s) {shown} name a file outside the folder; those images are made again.",
                stacklevel=2,
            )

    def _inside(self, name: str) -> bool:
        """Whether ``name`` is a plain file name in the folder (no ``..``, not absolute)."""
        path = Path(name)
        return bool(name) and not path.is_absolute() and len(path.parts) == 1 and path.name not in (".", "..")

    def _read(self) -> Iterator[tuple[int, ManifestLine]]:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        whole = data[: data.rfind(b"\n") + 1]
        if len(whole) != len(data):  # a line cut short by a crash: drop it, the image is made again
            with open(self.path, "r+b") as file:
                file.truncate(len(whole))
        # Lines end at "\n" alone: a prompt may hold U+2028 or U+0085, which str.splitlines would split at.
        for number, text in enumerate(whole.decode("utf-8", errors="replace").split("\n")[:-1], start=1):
            try:
                entry = ManifestLine.from_json(json.loads(text))
            except json.JSONDecodeError:
                continue
            if entry is not None:
                yield number, entry

    def is_done(self, key: str) -> bool:
        """Whether ``key``'s image was made and its file is still there."""
        entry = self.entries.get(key)
        return bool(entry and entry.status == "done" and (self.folder / entry.file).is_file())

    def record(self, entry: ManifestLine) -> None:
        """Append ``entry`` as one whole line, on disk before this returns."""
        line = (entry.to_json() + "\n").encode("utf-8")
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(descriptor, line)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        self.entries[entry.key] = entry

    def free_name(self, stem: str, suffix: str) -> str:
        """``stem + suffix``, or ``stem-2 + suffix``, … : a name no file and no manifest line has."""
        taken = {entry.file for entry in self.entries.values()}
        name, number = f"{stem}{suffix}", 1
        while name in taken or (self.folder / name).exists():
            number += 1
            name = f"{stem}-{number}{suffix}"
        return name

    def write_file(self, name: str, data: bytes) -> None:
        """Write ``data`` as ``name`` in the folder: to a temporary name first, then renamed over."""
        descriptor, temporary = tempfile.mkstemp(dir=self.folder, prefix=".partial-", suffix=Path(name).suffix)
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.folder / name)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def parameters_of(values: Mapping[str, Any]) -> dict[str, Any]:
    """The recorded parameters of ``values`` (a request's or a generation's), as a line keeps them."""
    return {name: values.get(name) for name in _PARAMETERS}
