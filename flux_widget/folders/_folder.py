"""A large job's folder, checked before anything is sent, and the names of the files a job writes in it.

:func:`open_folder` turns what the caller gave (``--out``, ``run_batch(out=...)``) into a folder
that exists and takes a write, or a :class:`~flux_widget.FolderError` of one line: an empty name, a
file, a folder that cannot be made, a read-only or full file system. :func:`image_name` names each
image after its job's key, so two jobs never share a name and a resumed run finds an image a killed
run renamed into place before its manifest line was written (:func:`key_of_name`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import tempfile
from pathlib import Path

from ..errors import FolderError

__all__ = [
    "PARTIAL_PREFIX",
    "digest",
    "image_name",
    "is_address",
    "key_hash",
    "key_of_name",
    "open_folder",
    "reason",
    "refuse_link",
    "scan_folder",
    "seed_of_name",
    "slug",
]

#: The prefix of a file being written (renamed to its name once whole); what a killed run leaves.
PARTIAL_PREFIX = ".partial-"
#: How much a new folder must take before a run starts (a full disk is found before anything is sent).
_PROBE_BYTES = 4096
#: ``scheme://…``: an address (object store, remote file system), not a folder's path.
_ADDRESS = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
#: ``…-seed-S-HASH.ext``: the key hash an image's name ends with.
_NAMED = re.compile(r"-seed-(?P<seed>\d{1,10})-(?P<hash>[0-9a-f]{10})\.[a-z]+$")


def is_address(text: str) -> bool:
    """Whether ``text`` is an address (``scheme://…``: an object store, a remote file system), not a path."""
    return _ADDRESS.match(text) is not None


def open_folder(out: object) -> Path:
    """The folder ``out`` names (``~`` expanded), created if missing and shown to take a write."""
    if not isinstance(out, (str, os.PathLike)):
        raise FolderError(f"out must be a folder's path, not {type(out).__name__}.")
    text = os.fspath(out)
    if not isinstance(text, str) or not text.strip():
        raise FolderError("out is empty: name the folder for the images and manifest.jsonl (such as --out images).")
    if is_address(text):  # s3://bucket/run must never become a local folder named "s3:"
        scheme = text.split(":", 1)[0]
        local = "" if scheme != "file" else f" For a local folder give its path: {text.removeprefix('file://')}."
        raise FolderError(
            f"{text[:200]} is a {scheme}:// address: output goes to a folder on this machine (or one mounted "
            f"here, as a cluster's shared file system is).{local}"
        )
    folder = Path(text).expanduser()
    if folder.exists() and not folder.is_dir():
        raise FolderError(f"{folder} is a file, not a folder: name a folder for the images and manifest.jsonl.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FolderError(f"cannot create the folder {folder}: {reason(exc)}.") from None
    _probe(folder)
    return folder


def _probe(folder: Path) -> None:
    """Write and remove a few kilobytes in ``folder``: a read-only or full file system says so now."""
    try:
        descriptor, name = tempfile.mkstemp(dir=folder, prefix=f"{PARTIAL_PREFIX}probe-")
    except OSError as exc:
        raise FolderError(f"cannot write in {folder}: {reason(exc)}.") from None
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(bytes(_PROBE_BYTES))
            file.flush()
            os.fsync(file.fileno())
    except OSError as exc:
        raise FolderError(f"cannot write in {folder}: {reason(exc)}.") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)


def reason(error: OSError) -> str:
    """An ``OSError``'s reason in words (``No space left on device``), without its path."""
    return error.strerror or type(error).__name__


def refuse_link(path: Path) -> None:
    """:class:`~flux_widget.FolderError` if ``path`` is a symbolic link: a job writes plain files in its folder only."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISLNK(mode):
        raise FolderError(f"{path} is a link; a job reads and writes only plain files in its folder. Remove it.")


def scan_folder(folder: Path, named: set[int]) -> tuple[dict[str, str], set[int], dict[int, str]]:
    """One pass over ``folder``: the half-written files a killed run left are removed; its unrecorded
    images by key hash, and of ``named`` (the :func:`digest` of each file the manifest's done lines
    name, a set this takes over) those that are not there, and those that are links (with their names).

    An unrecorded image is a plain file named by :func:`image_name` that no name in ``named`` is: a
    killed run renamed it into place and never wrote its line.
    """
    orphans: dict[str, str] = {}
    links: dict[int, str] = {}
    with os.scandir(folder) as entries:
        for entry in entries:
            name = entry.name
            if name.startswith(PARTIAL_PREFIX):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)  # a link is removed, never followed
                continue
            hashed_name = digest(name)
            if hashed_name in named:
                named.discard(hashed_name)  # there: what stays in ``named`` is missing
                if entry.is_symlink():
                    links[hashed_name] = name
                elif not entry.is_file(follow_symlinks=False):
                    named.add(hashed_name)  # a folder or a FIFO under that name: no image there
            elif (hashed := key_of_name(name)) and entry.is_file(follow_symlinks=False):
                orphans[hashed] = name
    return orphans, named, links


def digest(text: str) -> int:
    """``text``'s hash, as this process's index of a large job holds a key or a file name (a million of
    them in tens of megabytes, never written anywhere).

    Python's own string hash: 64 bits, keyed afresh in each process (so no prompt file can be made to
    collide on purpose), and kept on the string once computed; two texts of a million share one with
    odds of about 1 in 30 million.
    """
    return hash(text)


def key_hash(key: str) -> str:
    """Ten hex digits of ``key``'s BLAKE2 hash: what an image's name carries of its job."""
    return hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=5).hexdigest()


def slug(prompt: str, words: int = 5) -> str:
    """A few words of ``prompt`` for a file name: lower case, ASCII letters and digits, hyphens."""
    found = re.findall(r"[a-z0-9]+", prompt.lower())[:words]
    return "-".join(found)[:48] or "image"


def image_name(ordinal: int, words: str, seed: int, key: str, suffix: str) -> str:
    """``00001-a-red-fox-seed-7-0123456789.webp``: file order, the prompt's words, seed, the key's hash."""
    return f"{ordinal:05d}-{words}-seed-{seed}-{key_hash(key)}{suffix}"


def key_of_name(name: str) -> str | None:
    """The key hash an image name made by :func:`image_name` ends with; ``None`` for any other name."""
    found = _NAMED.search(name)
    return found.group("hash") if found else None


def seed_of_name(name: str) -> int:
    """The seed an image name made by :func:`image_name` holds."""
    found = _NAMED.search(name)
    if found is None:
        raise ValueError(f"{name!r} is not an image name of a job")
    return int(found.group("seed"))
