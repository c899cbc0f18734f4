"""Reference images a request edits or draws from: read from what the caller has, checked whole, fitted per model.

An input may be a path, bytes, a ``PIL.Image`` or a :class:`~flux_widget.Generation`. Each is checked
before anything is sent, with the limits images from a Space have: a real, whole image (every PNG
chunk's CRC, a WebP's length, a JPEG's end marker), no pixel bomb (the header's size is checked
before a pixel is decoded), at most :data:`MAX_INPUT_BYTES` and :data:`MAX_INPUT_SIDE` a side. An
animated image is refused (its frames would be a guess); an EXIF rotation is applied; CMYK, 16-bit
and palette images are converted. A plain PNG, JPEG or WebP is kept byte for byte, so its SHA-256 is
the file's own and an edit can be traced to its sources.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from . import _images as images
from .errors import InvalidRequestError

__all__ = ["MAX_INPUT_BYTES", "MAX_INPUT_SIDE", "InputImage", "check_inputs", "input_image"]

#: The largest input file, in bytes.
MAX_INPUT_BYTES = 20 * 1024 * 1024
#: The longest side of an input, in pixels.
MAX_INPUT_SIDE = 4096
#: The EXIF tag of a picture's orientation.
_ORIENTATION = 0x0112


@dataclass(frozen=True)
class InputImage:
    """One checked reference image: the bytes sent, their type, size and SHA-256, and a name for uploads."""

    data: bytes = field(repr=False)
    mime_type: str
    width: int
    height: int
    sha256: str
    name: str = "image.png"

    @classmethod
    def of(cls, data: bytes, mime_type: str, name: str = "") -> InputImage:
        """The input holding ``data`` (already checked), named after ``name``'s stem and its type's suffix."""
        with Image.open(io.BytesIO(data)) as picture:
            width, height = picture.size
        named = (Path(name).stem if name else "image") + images.suffix_for(mime_type)
        return cls(data, mime_type, width, height, hashlib.sha256(data).hexdigest(), named)

    def record(self) -> dict[str, Any]:
        """What a manifest line and a file's metadata keep of it: its SHA-256 and size."""
        return {"sha256": self.sha256, "width": self.width, "height": self.height}

    def picture(self) -> Image.Image:
        """The decoded image, RGB (what a pipeline takes)."""
        return images.decode(self.data, max_side=MAX_INPUT_SIDE).convert("RGB")

    def fitted(self, most_pixels: int) -> InputImage:
        """This image, or a copy scaled down (aspect kept) to at most ``most_pixels`` pixels; PNG when scaled."""
        if self.width * self.height <= most_pixels:
            return self
        scale = math.sqrt(most_pixels / (self.width * self.height))
        size = (max(1, int(self.width * scale)), max(1, int(self.height * scale)))
        picture = self.picture().resize(size, Image.Resampling.LANCZOS)
        out = io.BytesIO()
        picture.save(out, format="PNG")
        return InputImage.of(out.getvalue(), "image/png", self.name)


def check_inputs(name: str, value: object) -> tuple[InputImage, ...]:
    """The parameter table's check: one image or a list of them, each read and checked; ``()`` for none."""
    if value is None:
        return ()
    given = list(value) if isinstance(value, (list, tuple)) else [value]
    return tuple(input_image(item, position) for position, item in enumerate(given, start=1))


def input_image(value: object, position: int = 1) -> InputImage:
    """``value`` (a path, bytes, a ``PIL.Image``, a Generation or an InputImage) as a checked input.

    Raises :class:`InvalidRequestError` naming the image (``image 2``) and what is wrong.
    """
    where = f"image {position}"
    if isinstance(value, InputImage):
        return value
    data, name = _bytes_of(value, where)
    if len(data) > MAX_INPUT_BYTES:
        raise InvalidRequestError(f"{where} is {_megabytes(len(data))}; the most is {_megabytes(MAX_INPUT_BYTES)}.")
    try:
        return _normalised(data, name)
    except ValueError as exc:
        raise InvalidRequestError(f"{where} cannot be used: {str(exc).rstrip('.')}.") from None


def _bytes_of(value: object, where: str) -> tuple[bytes, str]:
    """The bytes of an input and a file name for it; a file is measured before it is read."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value), ""
    if isinstance(value, Image.Image):
        out = io.BytesIO()
        value.save(out, format="PNG")
        return out.getvalue(), ""
    image_bytes = getattr(value, "image_bytes", None)
    if isinstance(image_bytes, bytes):  # a Generation
        return image_bytes, "generation"
    if isinstance(value, (str, os.PathLike)):
        path = Path(os.fspath(value)).expanduser()
        try:
            size = path.stat().st_size
            if not path.is_file():
                raise InvalidRequestError(f"{where}: {path} is not a file.")
            if size > MAX_INPUT_BYTES:
                most = _megabytes(MAX_INPUT_BYTES)
                raise InvalidRequestError(f"{where} ({path}) is {_megabytes(size)}; the most is {most}.")
            return path.read_bytes()[: MAX_INPUT_BYTES + 1], path.name
        except FileNotFoundError:
            raise InvalidRequestError(f"{where}: there is no file at {path}.") from None
        except OSError as exc:
            raise InvalidRequestError(f"{where}: cannot read {path} ({exc.strerror or exc}).") from None
    raise InvalidRequestError(
        f"{where} must be a path, bytes, a PIL image or a Generation, not {type(value).__name__}."
    )


def _normalised(data: bytes, name: str) -> InputImage:
    """Checked and, where it must be, converted: ``ValueError`` saying what is wrong."""
    mime_type = images.sniff_mime_type(data)
    if mime_type is None:
        raise ValueError("it is not a PNG, JPEG, WebP or GIF image")
    kept, mime_type = images.accept(data, max_side=MAX_INPUT_SIDE)  # whole, no bomb, plain mode
    with Image.open(io.BytesIO(data)) as original:
        frames = getattr(original, "n_frames", 1)
    if frames > 1:
        raise ValueError(f"it is animated ({frames} frames); save the frame you want as a PNG")
    with Image.open(io.BytesIO(kept)) as picture:
        turned = picture.getexif().get(_ORIENTATION, 1) not in (1, None)
        plain = mime_type in images.KEPT_AS_SENT and picture.mode in ("RGB", "RGBA", "L") and not turned
        if plain:
            return InputImage.of(kept, mime_type, name)
        upright = ImageOps.exif_transpose(picture)
        has_alpha = "A" in upright.getbands() or "transparency" in upright.info
        converted = upright.convert("RGBA" if has_alpha else "RGB")
    out = io.BytesIO()
    converted.save(out, format="PNG")
    return InputImage.of(out.getvalue(), "image/png", name)


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.0f} MB" if size >= 1024 * 1024 else f"{size} bytes"
