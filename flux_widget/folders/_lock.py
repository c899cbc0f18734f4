"""One large job per folder: a run holds an advisory lock on its folder while it lasts.

The lock is ``fcntl.flock`` on ``.flux-job.lock`` in the folder, which holds the running process's
id, host and start time for the message a second run gives. The operating system releases it however
the run ends (its end, an error, a signal, a crash, ``kill -9``), so a lock is never stale: the file
a crashed run leaves is taken by the next run at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from ..errors import FolderError

__all__ = ["LOCK_FILE", "described", "holding", "this_run"]

LOCK_FILE = ".flux-job.lock"


@contextlib.contextmanager
def holding(folder: Path) -> Iterator[None]:
    """Hold ``folder``'s lock for the block; a FolderError at once if another run holds it."""
    import fcntl  # POSIX; imported here so that the package imports everywhere

    path = folder / LOCK_FILE
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError as exc:
        raise FolderError(f"cannot lock {folder} for this run: {exc.strerror or exc}.") from None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FolderError(f"{folder} is in use by another run ({_holder(descriptor)}): wait for it to end, "
                              "or give this run another --out.") from None  # fmt: skip
        os.ftruncate(descriptor, 0)
        os.write(descriptor, json.dumps(this_run()).encode())
        yield
    finally:
        os.close(descriptor)  # releases the lock; the file stays, harmless, for the next run


def _holder(descriptor: int) -> str:
    """Who holds the lock, as its file says."""
    try:
        return described(json.loads(os.pread(descriptor, 4096, 0) or b"{}"))
    except (OSError, ValueError):
        return described({})


def this_run() -> dict[str, object]:
    """What a lock says of the run holding it: its process, host and start."""
    return {"pid": os.getpid(), "host": socket.gethostname(), "since": round(time.time())}


def described(holder: object) -> str:
    """A lock's holder as its file says, in words: "process 4242 on node-3, since 10:02"."""
    try:
        since = time.strftime("%H:%M", time.localtime(float(holder["since"])))  # type: ignore[index]
        return f"process {int(holder['pid'])} on {str(holder['host'])[:64]}, since {since}"  # type: ignore[index]
    except (ValueError, KeyError, TypeError):
        return "a process that has not said which"
