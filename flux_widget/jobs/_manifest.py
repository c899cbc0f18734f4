"""A large job's folder: its images and ``manifest.jsonl``, one whole line per image as it finishes.

Each line is written with one ``write`` of the complete line and flushed to disk; a line a crash
cut short (no newline at the end) is dropped when the folder is opened again. Each image is written
to a temporary name in the folder and renamed, so a file the manifest names is always complete.
A later line for the same key wins: a failed image that a resumed run made is ``done``.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["MANIFEST", "Manifest"]

MANIFEST = "manifest.jsonl"


class Manifest:
    """The manifest of the folder ``out`` (created if missing), read once and appended to."""

    def __init__(self, out: str | os.PathLike[str]) -> None:
        self.folder = Path(out)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / MANIFEST
        self.entries: dict[str, dict[str, Any]] = {}
        for entry in self._read():
            self.entries[entry["key"]] = entry

    def _read(self) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        whole = data[: data.rfind(b"\n") + 1]
        if len(whole) != len(data):  # a line cut short by a crash: drop it, the image is made again
            with open(self.path, "r+b") as file:
                file.truncate(len(whole))
        for line in whole.decode("utf-8", errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(entry, dict) and isinstance(entry.get("key"), str):
                yield entry

    def is_done(self, key: str) -> bool:
        """Whether ``key``'s image was made and its file is still there."""
        entry = self.entries.get(key)
        return bool(entry and entry.get("status") == "done" and (self.folder / str(entry.get("file", ""))).is_file())

    def record(self, entry: dict[str, Any]) -> None:
        """Append ``entry`` (with its ``key``) as one whole line, on disk before this returns."""
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(descriptor, line)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        self.entries[entry["key"]] = entry

    def free_name(self, stem: str, suffix: str) -> str:
        """``stem + suffix``, or ``stem-2 + suffix``, … : a name no file and no manifest line has."""
        taken = {str(entry.get("file")) for entry in self.entries.values()}
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
