"""A large job's output at an address a cluster reaches: ``s3://bucket/prefix``, ``gs://…`` or any
filesystem fsspec knows (``file://`` is a local folder).

The address holds what a local folder holds: the images, each with its parameters inside, and
``manifest.jsonl``. Each image is one put of the whole file (an object store shows an object whole
or not at all), and only then its manifest line: put-then-record, so the manifest never names a
file that is not there. An object store cannot append, so the manifest is kept in a local staging
file while the run lasts (appended and fsynced as a local run's is) and put whole at the address
every few seconds and when the run ends. A run that dies between two puts leaves images the
manifest does not name yet; the next run finds them by their names, as a local run finds the files
a killed run renamed into place, and records them.

One run per address: the lock is an object, ``.flux-job.lock``, made with a conditional put that
fails when it exists (``If-None-Match: *`` on S3; a filesystem without conditional puts checks
first, which two runs starting in the same instant could both pass). It names its process and
host: a lock whose process is gone from this host is stale and taken over; another host's lock
stays until its run ends, and the message says how to remove it.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import FolderError, safe_text
from ._folder import digest, is_address, key_of_name, open_folder
from ._lock import LOCK_FILE, described, holding, this_run
from ._manifest import MANIFEST, Manifest, ManifestLine, write_whole

__all__ = ["RemoteManifest", "file_writer", "job_folder", "local_path_of"]

#: The manifest is put at the address at most this often while a run lasts (and always at its end).
PUSH_EVERY = 5.0


@contextlib.contextmanager
def job_folder(out: object) -> Iterator[Manifest]:
    """The output of a run, locked for it and opened: a folder (or ``file://`` address), or an address
    fsspec reaches; its manifest. A FolderError when it cannot be used or another run holds it."""
    text = os.fspath(out) if isinstance(out, (str, os.PathLike)) else None
    if isinstance(text, str) and is_address(text):
        local = local_path_of(text)
        if local is None:
            filesystem, root = _filesystem(text)
            with _holding_address(filesystem, root, text.rstrip("/")), tempfile.TemporaryDirectory() as staging:
                manifest = RemoteManifest(text, Path(staging), filesystem, root)
                try:
                    yield manifest
                except BaseException:
                    with contextlib.suppress(FolderError):  # the run's own error is the one to tell
                        manifest.close()
                    raise
                manifest.close()
            return
        out = local
    with holding(open_folder(out)):
        yield Manifest(out)  # opened once: checked, cleaned up, read, then handed to the engine


def file_writer(location: str) -> Callable[[str, bytes], None]:
    """What writes a whole file into a run's output ``location`` (its folder's path, or its address)
    from any process that reaches it: a Ray worker writes its own images with it."""
    if is_address(location) and local_path_of(location) is None:
        return _putter(*_filesystem(location), location.rstrip("/"))
    folder = Path(local_path_of(location) or location)
    return lambda name, data: write_whole(folder, name, data)


def _putter(filesystem: Any, root: str, address: str) -> Callable[[str, bytes], None]:
    """What puts a whole file at ``address`` (``root`` in ``filesystem``): a FolderError when it cannot."""

    def put(name: str, data: bytes) -> None:
        try:
            filesystem.pipe_file(f"{root}/{name}", data)
        except Exception as exc:  # the store's own errors too (botocore's are not OSErrors)
            raise FolderError(f"could not write {address}/{name}: {_said(exc)}. The run stopped; run it again to "
                              "resume.") from None  # fmt: skip

    return put


def local_path_of(address: str) -> str | None:
    """The local path a ``file://`` address names; ``None`` for any other address."""
    return address.removeprefix("file://") if address.startswith("file://") else None


def _filesystem(address: str) -> tuple[Any, str]:
    """fsspec's filesystem for ``address`` and the root path in it; a FolderError when it cannot be had."""
    scheme = address.split("://", 1)[0]
    package = {"s3": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs", "abfs": "adlfs"}.get(scheme)
    extra = ' (pip install "flux-widget[s3]")' if scheme == "s3" else f" (pip install {package})" if package else ""
    try:
        from fsspec.core import url_to_fs
    except ImportError:
        raise FolderError(f"{address[:200]} is a {scheme}:// address: writing there needs fsspec{extra}.") from None
    try:
        filesystem, root = url_to_fs(address)
    except (ImportError, ValueError) as exc:
        raise FolderError(f"cannot write to {address[:200]}: {exc}{extra}.") from None
    return filesystem, str(root).rstrip("/")


class RemoteManifest(Manifest):
    """The manifest of the address ``address``, staged in the local folder ``staging`` while a run lasts.

    Raises :class:`~flux_widget.FolderError` when the address cannot be reached or written.
    """

    def __init__(self, address: str, staging: Path, filesystem: Any, root: str) -> None:
        self.address = address.rstrip("/")
        self._fs, self._root = filesystem, root
        self._put = _putter(filesystem, root, self.address)
        try:
            self._fs.mkdirs(self._root, exist_ok=True)  # a bucket's prefix needs none; a filesystem's folder does
            if self._fs.exists(f"{self._root}/{MANIFEST}"):
                self._fs.get_file(f"{self._root}/{MANIFEST}", str(staging / MANIFEST))
        except Exception as exc:  # the store's own errors too (botocore's are not OSErrors)
            raise FolderError(f"cannot read {self.address}: {_said(exc)}.") from None
        self._pushed_at = time.monotonic()
        self._dirty = False
        super().__init__(staging)

    @property
    def location(self) -> str:
        """The address."""
        return self.address

    def where(self, name: str) -> str:
        """The address of the file ``name``."""
        return f"{self.address}/{name}"

    def _scan(self, named: set[int]) -> tuple[dict[str, str], set[int], dict[int, str]]:
        """The address's listing, as :func:`~._folder.scan_folder` reads a folder (an object store has no links)."""
        orphans: dict[str, str] = {}
        try:
            listed = self._fs.ls(self._root, detail=False) if self._fs.exists(self._root) else []
        except Exception as exc:  # the store's own errors too (botocore's are not OSErrors)
            raise FolderError(f"cannot list {self.address}: {_said(exc)}.") from None
        for path in listed:
            name = str(path).rstrip("/").rsplit("/", 1)[-1]
            if (hashed_name := digest(name)) in named:
                named.discard(hashed_name)  # there: what stays in ``named`` is missing
            elif hashed := key_of_name(name):
                orphans[hashed] = name
        return orphans, named, {}

    def write_file(self, name: str, data: bytes) -> None:
        """Put ``data`` as ``name`` at the address, whole (an object store shows it whole or not at all)."""
        self._put(name, data)

    def record(self, entry: ManifestLine) -> None:
        """Append ``entry`` to the staged manifest; the manifest is put at the address every few seconds."""
        super().record(entry)
        self._dirty = True
        if time.monotonic() - self._pushed_at >= PUSH_EVERY:
            self.push()

    def push(self) -> None:
        """Put the staged manifest at the address, whole, if it changed since it was last put."""
        if not self._dirty:
            return
        try:
            self._fs.put_file(str(self.path), f"{self._root}/{MANIFEST}")
        except Exception as exc:  # the store's own errors too (botocore's are not OSErrors)
            raise FolderError(f"could not write {self.where(MANIFEST)}: {_said(exc)}. The images are there; "
                              "run it again to record them.") from None  # fmt: skip
        self._dirty, self._pushed_at = False, time.monotonic()

    def close(self) -> None:
        """The run ends: the manifest put at the address one last time."""
        self.push()


@contextlib.contextmanager
def _holding_address(filesystem: Any, root: str, address: str) -> Iterator[None]:
    """Hold the address's lock object for the block; a FolderError at once if another run holds it."""
    lock = f"{root}/{LOCK_FILE}"
    holder = this_run()
    removal = f"if no run is using it, remove {address}/{LOCK_FILE}"
    for _ in range(2):  # a stale lock is removed once, then taken
        try:
            filesystem.pipe_file(lock, json.dumps(holder).encode(), mode="create")
            break
        except FileExistsError:
            found = _read_holder(filesystem, lock)
            if not _stale(found):
                raise FolderError(f"{address} is in use by another run ({described(found)}): wait for it to end, "
                                  f"or give this run another --out ({removal}).") from None  # fmt: skip
            with contextlib.suppress(Exception):
                filesystem.rm_file(lock)
        except Exception as exc:  # the store's own errors too (botocore's are not OSErrors)
            raise FolderError(f"cannot lock {address} for this run: {_said(exc)}.") from None
    else:
        raise FolderError(f"{address} is in use by another run ({removal}).")
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            filesystem.rm_file(lock)


def _read_holder(filesystem: Any, lock: str) -> dict[str, Any]:
    try:
        found = json.loads(filesystem.cat_file(lock)[:4096] or b"{}")
    except Exception:  # unreadable, or not JSON: a holder that has not said who it is
        return {}
    return found if isinstance(found, dict) else {}


def _stale(holder: dict[str, Any]) -> bool:
    """Whether a lock's process is gone: only a process of this host can be known to be."""
    pid = holder.get("pid")
    if holder.get("host") != socket.gethostname() or not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def _said(error: Exception) -> str:
    """An error of the store in a few words, without any address's secrets."""
    words = error.strerror if isinstance(error, OSError) and error.strerror else str(error) or type(error).__name__
    return safe_text(words)[:300]
