"""The widget's reference tray: images to edit or draw from, kept in the kernel, shown as small thumbnails.

:class:`ReferenceActions` holds the checked images (:class:`~flux_widget._inputs.InputImage`) in the
kernel and syncs only what the tray shows (``references``: a name, a size and a thumbnail of a few
kilobytes each), so a saved notebook never carries the images themselves. Images arrive from the
browser as binary buffers (a dropped, pasted or picked file), from the history (**Edit this**) or
from code (:meth:`ReferenceActions.add_image`). A bad image is one clear error; the tray is kept.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

import traitlets

from .._inputs import InputImage, input_image
from .._parameters import MAX_REFERENCES
from ..errors import FluxError, InvalidRequestError
from ._messages import index_of
from ._saving import SavingActions

if TYPE_CHECKING:
    from ..types import Generation

__all__ = ["REFERENCE_MESSAGES", "TRAY_THUMBNAIL_SIDE", "ReferenceActions"]

#: The view's messages the tray answers (declared with the others in ``_messages.TO_KERNEL``).
REFERENCE_MESSAGES = ("add_image", "remove_image", "edit", "reuse_inputs", "input")

#: A tray thumbnail's shorter side, in pixels (48 CSS pixels, sharp on a 2x screen).
TRAY_THUMBNAIL_SIDE = 96


class ReferenceActions(SavingActions):
    """The reference tray of :class:`~flux_widget.FluxWidget`: what is added, removed and sent with Generate."""

    #: The tray's checked images by id (set by the widget); ``references`` gives their order.
    _tray_images: dict[str, InputImage]

    references = traitlets.List(
        traitlets.Dict(),
        help="The reference tray: ``{'id', 'name', 'width', 'height', 'thumbnail'}`` per image, in order.",
    ).tag(sync=True)
    max_references = traitlets.Int(
        None, allow_none=True, help="How many images the backend takes (0: text only); None until known."
    ).tag(sync=True)

    @property
    def reference_images(self) -> list[InputImage]:
        """The tray's images, checked, in order (what Generate sends as ``images``)."""
        return [self._tray_images[item["id"]] for item in self.references if item.get("id") in self._tray_images]

    def add_image(self, image: object, name: str = "") -> InputImage:
        """Put ``image`` (a path, bytes, a ``PIL.Image`` or a Generation) into the tray; the checked image.

        A bad image raises :class:`~flux_widget.InvalidRequestError` and changes nothing.
        """
        limit = self.max_references if self.max_references is not None else MAX_REFERENCES
        if len(self.references) >= max(limit, 1):
            raise InvalidRequestError(f"The tray is full: this backend takes at most {limit} image(s).")
        checked = input_image(image, len(self.references) + 1)
        self._into_tray(checked, name)
        return checked

    def _into_tray(self, checked: InputImage, name: str) -> None:
        from .. import _images as images  # Pillow's thumbnail, once an image is here

        key = secrets.token_hex(6)
        self._tray_images[key] = checked
        thumbnail = images.thumbnail_data_url(checked.data, side=TRAY_THUMBNAIL_SIDE, quality=70)
        label = name.strip()[:80] or checked.name
        item = {"id": key, "name": label, "width": checked.width, "height": checked.height, "thumbnail": thumbnail}
        self.references = [*self.references, item]

    def remove_image(self, position: int) -> None:
        """Take image ``position`` (from 0) out of the tray."""
        item = self.references[position]
        self._tray_images.pop(item["id"], None)
        self.references = [other for other in self.references if other is not item]

    def clear_images(self) -> None:
        """Empty the tray."""
        self._tray_images.clear()
        self.references = []

    def _reuse_inputs(self, generation: Generation) -> None:
        """Put the reference images ``generation`` was made from back into the tray, in place of its own.

        An image made from text only leaves the tray as it is.
        """
        if not generation.inputs:
            return
        self.clear_images()
        for number, checked in enumerate(generation.inputs, start=1):
            self._into_tray(checked, f"input {number}")

    def _send_input(self, index: int, ticket: object) -> None:
        """Answer a view's request for the first reference image of entry ``index`` (the before/after slider)."""
        generation = self._history[index] if 0 <= index < len(self._history) else None
        if generation is None or not generation.inputs:
            self.send({"type": "input", "index": index, "ticket": ticket, "missing": True})
            return
        first = generation.inputs[0]
        reply = {"type": "input", "index": index, "ticket": ticket, "mime": first.mime_type, "sha256": first.sha256}
        self.send(reply, buffers=[first.data])

    def _reference_message(self, kind: str, content: dict[str, Any], buffers: list[Any]) -> None:
        """A tray message from a view (one of :data:`REFERENCE_MESSAGES`): a file's bytes in a buffer,
        a place in the tray, or a history entry to edit, reuse the inputs of or compare with its input."""
        index = index_of(content)
        if kind == "input" and index is not None:
            self._send_input(index, content.get("ticket"))
            return
        try:
            if kind == "add_image" and buffers:
                name = content.get("name")
                self.add_image(bytes(buffers[0]), name if isinstance(name, str) else "")
            elif kind == "remove_image" and index is not None and 0 <= index < len(self.references):
                self.remove_image(index)
            elif kind == "edit" and index is not None and 0 <= index < len(self._history):
                self.add_image(self._history[index], f"image {index + 1}")
            elif kind == "reuse_inputs" and index is not None and 0 <= index < len(self._history):
                self._reuse_inputs(self._history[index])
        except FluxError as exc:
            self.error = str(exc)  # said in the widget; the tray, the history and the prompt stay
