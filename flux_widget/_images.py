"""Pillow, and nothing else: recognise, decode with size limits, make thumbnails, save with metadata."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from pathlib import Path

from PIL import Image

from ._metadata import riff_chunks, with_metadata

__all__ = [
    "DISPLAY_JPEG",
    "MAX_IMAGE_SIDE",
    "THUMBNAIL_SIDE",
    "accept",
    "check_image",
    "check_suffix",
    "decode",
    "display_bytes",
    "save",
    "sniff_mime_type",
    "suffix_for",
    "thumbnail_data_url",
    "to_png",
]

#: The Space makes at most 2048×2048; anything much larger is not a picture from it.
MAX_IMAGE_SIDE = 4096
#: A history thumbnail's shorter side: the strip shows 64 CSS pixels, sharp on a 2x screen.
THUMBNAIL_SIDE = 128
#: How ``%flux`` and the static fallback encode a picture: JPEG, which every front end shows
#: (VS Code's renderer does not show WebP), quality 70 with 4:2:0 chroma, optimized and
#: progressive: 1.6x the Space's WebP in the notebook, base64 included, on photographs
#: (quality 80: 2.0x; ``python bench/bench_lean.py`` measures both against the Space's WebP).
DISPLAY_JPEG: dict[str, object] = {"quality": 70, "subsampling": "4:2:0", "optimize": True, "progressive": True}

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
#: The file suffix of each image type a Space may send (the frontend names downloads with these too).
SUFFIX_FOR_MIME = {"image/webp": ".webp", "image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif"}


def sniff_mime_type(data: bytes) -> str | None:
    """Return the image type its first bytes declare (WebP, PNG, JPEG or GIF), or ``None``."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    for signature, mime_type in _SIGNATURES:
        if data.startswith(signature):
            return mime_type
    return None


def check_image(data: bytes, *, max_side: int = MAX_IMAGE_SIDE) -> tuple[str, tuple[int, int]]:
    """Check ``data`` is an image of a sane size without decoding its pixels.

    Returns its MIME type and ``(width, height)``; raises ``ValueError`` saying what is wrong.
    Only the header is read, so a decompression bomb is refused before it can take memory.
    """
    mime_type = sniff_mime_type(data)
    if mime_type is None:
        raise ValueError(f"the file is not an image (it starts with {data[:16]!r})")
    try:
        with Image.open(io.BytesIO(data)) as header:
            size = header.size
    except Image.DecompressionBombError:
        raise ValueError(
            f"the {mime_type} file cannot be read: it claims more than {Image.MAX_IMAGE_PIXELS} pixels "
            f"(at most {max_side} a side here); refusing to decode it"
        ) from None
    except Exception as exc:  # Pillow raises many types for a broken header
        raise ValueError(f"the {mime_type} file cannot be read: {exc}") from None
    if max(size) > max_side:
        raise ValueError(
            f"the image claims to be {size[0]}×{size[1]} pixels, larger than FLUX makes "
            f"(at most {max_side} a side); refusing to decode it"
        )
    return mime_type, size


#: The formats kept as they arrive: each can be saved with its parameters inside.
KEPT_AS_SENT = frozenset({"image/webp", "image/png", "image/jpeg"})
#: What a file may be saved as; each carries the parameters (XMP or PNG text chunks).
SAVE_SUFFIXES = {".webp": "WEBP", ".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
#: Modes every browser and every format here shows as they are; others are converted.
_PLAIN_MODES = frozenset({"1", "L", "LA", "P", "RGB", "RGBA"})


def accept(data: bytes, *, max_side: int = MAX_IMAGE_SIDE) -> tuple[bytes, str]:
    """Check ``data`` is a whole image and return the bytes to keep and their MIME type.

    A truncated or corrupt file is refused with ``ValueError``, without decoding its pixels: PNG
    chunks are checked against their CRCs (Pillow's ``verify``), a WebP's RIFF chunks against its
    length, a JPEG must end with its end-of-image marker. An image in a mode browsers and PNG
    cannot show as is (CMYK, 16-bit, …; read from the header), or in a format the files here do not
    carry parameters in (GIF), is converted to RGB or RGBA and kept as PNG; any other image is kept
    byte for byte (a WebP without what trails its RIFF data). Memory stays at the file's own size.
    """
    mime_type, _ = check_image(data, max_side=max_side)
    if mime_type == "image/webp":
        data = data[: int.from_bytes(data[4:8], "little") + 8]  # bytes after the RIFF file are not part of it
    try:
        _check_complete(data, mime_type)
        with Image.open(io.BytesIO(data)) as picture:
            if picture.mode in _PLAIN_MODES and mime_type in KEPT_AS_SENT:
                return data, mime_type
            picture.load()
            has_alpha = "A" in picture.getbands() or "transparency" in picture.info
            converted = picture.convert("RGBA" if has_alpha else "RGB")
    except Exception as exc:  # Pillow raises many types for broken data
        raise ValueError(f"the {mime_type} file is broken ({exc})") from None
    out = io.BytesIO()
    converted.save(out, format="PNG")
    return out.getvalue(), "image/png"


def _check_complete(data: bytes, mime_type: str) -> None:
    """Raise ``ValueError`` if the file is cut short or its structure does not add up."""
    if mime_type == "image/png":
        with Image.open(io.BytesIO(data)) as picture:
            picture.verify()  # every chunk's CRC, up to IEND
    elif mime_type == "image/webp":
        declared = int.from_bytes(data[4:8], "little") + 8
        if declared > len(data):
            raise ValueError(f"it is cut short: {len(data)} of {declared} bytes")
        if not any(fourcc in {b"VP8 ", b"VP8L", b"ANMF"} for fourcc, _ in riff_chunks(data[:declared])):
            raise ValueError("it holds no image data")
    elif mime_type == "image/jpeg" and not data.rstrip(b"\0").endswith(b"\xff\xd9"):
        raise ValueError("it is cut short: no end-of-image marker")
    elif mime_type == "image/gif" and not data.rstrip(b"\0").endswith(b"\x3b"):
        raise ValueError("it is cut short: no trailer")


def decode(data: bytes, *, max_side: int = MAX_IMAGE_SIDE) -> Image.Image:
    """Decode image bytes into a loaded ``PIL.Image`` after checking its size.

    Raises ``ValueError`` saying what is wrong if the pixels cannot be decoded.
    """
    check_image(data, max_side=max_side)
    picture = Image.open(io.BytesIO(data))
    try:
        picture.load()
    except Exception as exc:  # Pillow raises many types for broken data
        raise ValueError(f"the image cannot be decoded ({exc})") from None
    return picture


def to_png(data: bytes, metadata: Mapping[str, object] | None = None) -> bytes:
    """Re-encode image bytes as PNG, with ``metadata`` written as ``iTXt`` chunks (UTF-8, any prompt fits)."""
    picture = decode(data)
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return with_metadata(out.getvalue(), metadata or {}, picture.size)


def thumbnail_data_url(data: bytes, *, side: int = THUMBNAIL_SIDE, quality: int = 75) -> str:
    """A ``data:image/webp;base64,…`` thumbnail whose shorter side is ``side`` pixels (the longer at most twice that).

    It is text so that it survives in saved widget state, which drops binary buffers; it weighs
    a few KB, so a saved notebook grows little per history entry.
    """
    picture = decode(data)
    width, height = picture.size
    scale = min(1.0, side / min(width, height), 2 * side / max(width, height))
    picture = picture.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.convert("RGB").save(out, format="WEBP", quality=quality, method=6)
    return "data:image/webp;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def display_bytes(
    data: bytes, metadata: Mapping[str, object] | None = None, *, max_side: int | None = None
) -> tuple[bytes, str]:
    """The image as every notebook front end shows it, cheaply: JPEG (:data:`DISPLAY_JPEG`), PNG if it has alpha.

    WebP would cost nothing, but VS Code's built-in renderer does not show ``image/webp``; JPEG
    renders everywhere and takes about 20 ms at 1024² (PNG: 70–250 ms and 5× the bytes).
    ``metadata`` goes into the file as XMP (JPEG) or text chunks (PNG); ``max_side`` shrinks the
    picture to at most that many pixels a side (a grid's tiles).
    """
    picture = decode(data)
    if max_side is not None:
        picture.thumbnail((max_side, max_side))
    out = io.BytesIO()
    if "A" in picture.getbands() or "transparency" in picture.info:
        picture.save(out, format="PNG", compress_level=1)
        return with_metadata(out.getvalue(), metadata or {}, picture.size), "image/png"
    picture.convert("RGB").save(out, format="JPEG", **DISPLAY_JPEG)
    return with_metadata(out.getvalue(), metadata or {}, picture.size), "image/jpeg"


def check_suffix(path: str | Path) -> str:
    """The lower-cased suffix of ``path`` if the image can be saved so, parameters inside; else ``ValueError``."""
    suffix = Path(path).suffix.lower()
    if suffix not in SAVE_SUFFIXES:
        raise ValueError(
            f"cannot save an image as {suffix or 'a file without a suffix'!r}: use .webp (the Space's own "
            "format, saved as is), .png or .jpg; each keeps the prompt, seed, size and steps inside"
        )
    return suffix


def suffix_for(mime_type: str) -> str:
    """The file suffix of an image MIME type (``.webp`` for ``image/webp``)."""
    return SUFFIX_FOR_MIME.get(mime_type, ".png")


def save(data: bytes, path: str | Path, metadata: Mapping[str, object] | None = None) -> Path:
    """Write image bytes to ``path``, choosing the format by its suffix, with ``metadata`` inside.

    The suffix of the bytes' own format (``.webp`` for the Space's WebP) writes them unchanged,
    the metadata muxed in (no re-encoding). ``.png`` gets a PNG with text chunks; any other suffix
    Pillow writes (``.jpg``, ``.tiff``, …) is converted.
    """
    target = Path(path).expanduser()
    suffix = check_suffix(target)
    mime_type = sniff_mime_type(data)
    own = SUFFIX_FOR_MIME.get(mime_type or "")
    if suffix == own or (suffix == ".jpeg" and own == ".jpg"):
        _, size = check_image(data)
        target.write_bytes(with_metadata(data, metadata or {}, size))
    elif suffix == ".png":
        target.write_bytes(to_png(data, metadata))
    else:  # converted: WebP or JPEG, the parameters as XMP
        picture = decode(data)
        picture = picture if suffix == ".webp" else picture.convert("RGB")
        out = io.BytesIO()
        picture.save(out, format=SAVE_SUFFIXES[suffix], quality=95)
        target.write_bytes(with_metadata(out.getvalue(), metadata or {}, picture.size))
    return target
