"""The custom messages between a view and the kernel, declared once.

:data:`TO_KERNEL` names each message a view sends and the fields it carries; :data:`TO_VIEW` the
kernel's answers (each but ``found`` with a binary buffer). ``js/src/types.js`` declares the same messages as
typed unions (``ToKernel``, ``ToView``), and ``tests/widget/test_frontend_contract.py`` holds the
two to each other and to every message the JS actually sends.
"""

from __future__ import annotations

__all__ = ["MAX_INDEX", "TO_KERNEL", "TO_VIEW", "index_of"]

#: A view's messages to the kernel: type → the fields it carries besides ``type``.
TO_KERNEL: dict[str, tuple[str, ...]] = {
    "generate": ("params",),  # the controls' values at the press, which win over traits still on their way
    "cancel": (),
    "dismiss": (),  # the error on show
    "restore": (),  # undo the last removal
    "select": ("index",),  # show a history entry with its settings
    "remove": ("index",),
    "image": ("index", "ticket"),  # the full image of a history entry, answered with "image"
    "zip": ("ticket",),  # the whole history as one zip, answered with "zip"
    "add_image": ("name",),  # a file for the reference tray, its bytes in a buffer
    "remove_image": ("index",),  # out of the reference tray
    "edit": ("index",),  # a history entry into the reference tray ("Edit this")
    "reuse_inputs": ("index",),  # the reference images a history entry was made from, back into the tray
    "input": ("index", "ticket"),  # the first reference image of a history entry, answered with "input"
    "unqueue": ("index",),  # a waiting prompt out of the queue
    "move": ("index", "by"),  # a waiting prompt one place earlier (-1) or later (1)
    "cancel_all": (),  # the running job and every waiting prompt
    "find": (
        "query",
        "size",
        "model",
        "ticket",
    ),  # how many of save_to's images beyond the history pass, answered with "found"
    "show_found": ("query", "size", "model"),  # those images, into the history (the oldest end)
}
#: The kernel's answers to a view: type → the fields it carries besides ``type`` (the bytes travel as a buffer).
TO_VIEW: dict[str, tuple[str, ...]] = {
    "image": ("index", "ticket", "mime", "missing"),  # and the entry's recorded parameters
    "zip": ("ticket", "name", "count"),
    "input": ("index", "ticket", "mime", "missing", "sha256"),  # the before of the before/after slider
    "found": ("ticket", "count"),  # no bytes
}


#: No history index is larger: a larger number in a message is no index (and could not be sent back).
MAX_INDEX = 2**31 - 1


def index_of(content: dict[str, object], name: str = "index") -> int | None:
    """The history index (or other place) ``content[name]`` holds, if it is one: a whole number within
    ±:data:`MAX_INDEX` (a bool is not one); else ``None``."""
    index = content.get(name)
    if isinstance(index, int) and not isinstance(index, bool) and -MAX_INDEX <= index <= MAX_INDEX:
        return index
    return None
