"""Parameters into image files without re-encoding their pixels.

WebP gets ``EXIF`` and ``XMP `` chunks (the file becomes the extended VP8X layout if it was
simple), JPEG an Exif and an XMP ``APP1`` segment after its header, PNG ``iTXt`` chunks before
the first ``IDAT`` (so ``Image.open(path).info`` has them before the pixels are read). Each is a
few hundred bytes added to the Space's own file, so saving keeps its exact bytes and costs no
encoding time.

Besides the XMP (every parameter, by name), the parameters are written the way image tools already
read them (:func:`parameters_text`): a ``parameters`` text chunk in PNG and the Exif
``UserComment`` in JPEG and WebP. Pillow reads all of them back (``Image.info["xmp"]``,
``Image.text``, ``Image.getexif()``), and so does ``exiftool``.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from collections.abc import Mapping
from xml.sax.saxutils import escape

from ._parameters import PARAMETERS

__all__ = [
    "MAX_VALUE_CHARS",
    "XMP_NAMESPACE",
    "clean_metadata",
    "exif_block",
    "parameters_text",
    "riff_chunks",
    "with_metadata",
    "xmp_packet",
]

#: The most characters of one value a file's metadata keeps (a JPEG segment holds 64 KiB in all).
MAX_VALUE_CHARS = 2000
#: Marks a value that was cut to fit.
CUT_MARKER = "… [cut]"
#: What XML 1.0 forbids (C0 controls but tab, newline and return; U+FFFE, U+FFFF; lone surrogates).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

XMP_NAMESPACE = "https://pypi.org/project/flux-widget/"
_XMP_APP1 = b"http://ns.adobe.com/xap/1.0/\x00"
_ATTRIBUTE = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
_VP8X_XMP = 0x04
_VP8X_EXIF = 0x08
_VP8X_ALPHA = 0x10
_EXIF_APP1 = b"Exif\x00\x00"
#: Exif tags: the pointer to the Exif IFD (in IFD0), and the user comment (in the Exif IFD).
_EXIF_IFD_POINTER, _USER_COMMENT = 0x8769, 0x9286
#: The key of the PNG text chunk, and the line of named values, that image tools read.
PARAMETERS_KEY = "parameters"


def clean_metadata(metadata: Mapping[str, object]) -> dict[str, str]:
    """Each value as text a file can carry (a list, such as the inputs' records, as JSON): characters XML
    forbids dropped, cut to ``MAX_VALUE_CHARS``."""
    cleaned = {}
    for key, value in metadata.items():
        shown = json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else str(value)
        text = _NOT_XML.sub("", shown)
        if len(text) > MAX_VALUE_CHARS:
            text = text[: MAX_VALUE_CHARS - len(CUT_MARKER)] + CUT_MARKER
        cleaned[_NOT_XML.sub("", str(key))[:79]] = text
    return cleaned


def parameters_text(metadata: Mapping[str, object]) -> str:
    """The parameters as image tools read them: ``prompt\\nSteps: 4, Seed: 3, Size: 1024x1024, Model: …``.

    It is the form Stable Diffusion web UIs write and read (the PNG ``parameters`` chunk, the Exif
    user comment); each value is cleaned and cut as :func:`clean_metadata` does. Their parser gives
    back exactly these values: a value holding ``,``, ``:``, a quote or a newline is written as a JSON
    string, as they quote it. The prompt comes first, as written, when their parser gives it back
    whole; a prompt it would change (a line reading ``Negative prompt:``, white space around a line)
    is written as one JSON string instead, never as a negative prompt. The XMP always has it exactly.
    """
    cleaned = clean_metadata(metadata)
    named = [*((parameter.label, parameter.name) for parameter in PARAMETERS if parameter.label), ("Model", "model")]
    values = [f"{label}: {_field(cleaned[key])}" for label, key in named if cleaned.get(key)]
    if cleaned.get("width") and cleaned.get("height"):
        values.insert(2, f"Size: {cleaned['width']}x{cleaned['height']}")
    return f"{_prompt_text(cleaned.get('prompt', ''))}\n{', '.join(values)}"


def _field(value: str) -> str:
    """A settings value as web UIs quote it: as is, or a JSON string when it holds what would split it."""
    return json.dumps(value, ensure_ascii=False) if any(mark in value for mark in ',:"\n') else value


def _prompt_text(prompt: str) -> str:
    """The prompt as web UIs read it back exactly, or one JSON string when no plain form would be."""
    lines = prompt.split("\n")
    kept = all(line == line.strip() and not line.startswith("Negative prompt:") for line in lines)
    return prompt if kept and prompt == prompt.strip() else json.dumps(prompt, ensure_ascii=False)


def exif_block(metadata: Mapping[str, object]) -> bytes:
    """A big-endian Exif (TIFF) block whose only tag is the ``UserComment`` of :func:`parameters_text`.

    The comment is UCS-2 in the block's byte order, after the ``UNICODE`` code, as the Exif
    standard and ``exiftool`` read it.
    """
    comment = b"UNICODE\x00" + parameters_text(metadata).encode("utf-16-be")
    # Header (8 bytes), IFD0 with one entry (18) at 8, the Exif IFD with one entry (18) at 26, the comment at 44.
    ifd0 = struct.pack(">H", 1) + struct.pack(">HHII", _EXIF_IFD_POINTER, 4, 1, 26) + struct.pack(">I", 0)
    exif_ifd = struct.pack(">H", 1) + struct.pack(">HHII", _USER_COMMENT, 7, len(comment), 44) + struct.pack(">I", 0)
    return b"MM\x00\x2a" + struct.pack(">I", 8) + ifd0 + exif_ifd + comment


def xmp_packet(metadata: Mapping[str, object]) -> bytes:
    """A well-formed XMP packet holding each item (see :func:`clean_metadata`) as a ``flux:`` attribute."""
    items = clean_metadata(metadata).items()
    attributes = " ".join(f'flux:{key}="{escape(value, _ATTRIBUTE)}"' for key, value in items)
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" xmlns:flux="{XMP_NAMESPACE}" {attributes}/>'
        '</rdf:RDF></x:xmpmeta><?xpacket end="r"?>'
    ).encode()


def with_metadata(data: bytes, metadata: Mapping[str, object], size: tuple[int, int]) -> bytes:
    """``data`` (WebP, JPEG or PNG) with ``metadata`` added; ``size`` is the image's width and height.

    Raises ``ValueError`` for any other format or a file whose structure cannot be followed.
    """
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data, xmp_packet(metadata), exif_block(metadata), size)
    if data[:3] == b"\xff\xd8\xff":
        return _jpeg(data, xmp_packet(metadata), exif_block(metadata))
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return _png(data, metadata)
    raise ValueError("metadata can be added to WebP, JPEG and PNG files only")


def riff_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """The chunks of a RIFF file (WebP) as ``(fourcc, payload)``; ``ValueError`` if one runs past the end."""
    chunks, offset = [], 12
    while offset + 8 <= len(data):
        fourcc, length = data[offset : offset + 4], struct.unpack("<I", data[offset + 4 : offset + 8])[0]
        payload = data[offset + 8 : offset + 8 + length]
        if len(payload) != length:
            raise ValueError("a WebP chunk runs past the end of the file")
        chunks.append((fourcc, payload))
        offset += 8 + length + (length & 1)
    return chunks


def _webp(data: bytes, xmp: bytes, exif: bytes, size: tuple[int, int]) -> bytes:
    chunks = [(fourcc, payload) for fourcc, payload in riff_chunks(data) if fourcc not in (b"XMP ", b"EXIF")]
    if not chunks:
        raise ValueError("the WebP file has no image chunk")
    first, payload = chunks[0]
    if first == b"VP8X":
        chunks[0] = (first, bytes([payload[0] | _VP8X_XMP | _VP8X_EXIF]) + payload[1:])
    else:  # the simple layout: one VP8 or VP8L chunk; metadata needs the extended header first
        alpha = first == b"VP8L" and len(payload) >= 5 and (int.from_bytes(payload[1:5], "little") >> 28) & 1
        width, height = size
        header = bytes([_VP8X_XMP | _VP8X_EXIF | (_VP8X_ALPHA if alpha else 0), 0, 0, 0])
        header += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        chunks.insert(0, (b"VP8X", header))
    chunks += [(b"EXIF", exif), (b"XMP ", xmp)]  # the order the WebP container gives them
    body = b"".join(fourcc + struct.pack("<I", len(p)) + p + (b"\0" if len(p) & 1 else b"") for fourcc, p in chunks)
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def _jpeg(data: bytes, xmp: bytes, exif: bytes) -> bytes:
    data = _without_app1(data)  # an image that carries metadata already gets it replaced, not twice
    segments = b""
    for segment in (_EXIF_APP1 + exif, _XMP_APP1 + xmp):
        if len(segment) + 2 > 0xFFFF:
            raise ValueError("the metadata is too long for a JPEG segment")
        segments += b"\xff\xe1" + struct.pack(">H", len(segment) + 2) + segment
    at = 2
    if data[2:4] == b"\xff\xe0":  # keep the JFIF header first
        at = 4 + struct.unpack(">H", data[4:6])[0]
    return data[:at] + segments + data[at:]


def _without_app1(data: bytes) -> bytes:
    """A JPEG without the EXIF and XMP segments before its image data (those this module writes)."""
    kept, at = [data[:2]], 2
    while at + 4 <= len(data) and data[at] == 0xFF and data[at + 1] not in (0xDA, 0xD9):
        end = at + 2 + struct.unpack(">H", data[at + 2 : at + 4])[0]
        body = data[at + 4 : end]
        if not (data[at + 1] == 0xE1 and (body.startswith(_EXIF_APP1) or body.startswith(_XMP_APP1))):
            kept.append(data[at:end])
        at = end
    return b"".join(kept) + data[at:]


def _png(data: bytes, metadata: Mapping[str, object]) -> bytes:
    """``data`` with an ``iTXt`` chunk per item, before the first ``IDAT`` (where readers look without
    decoding), in place of text chunks of the same keys it carried already."""
    values = {**clean_metadata(metadata), PARAMETERS_KEY: parameters_text(metadata)}
    data = _without_text(data, {key.encode("latin-1", "replace")[:79] for key in values})
    at = _first_image_chunk(data)
    chunks = b""
    for key, value in values.items():
        text = key.encode("latin-1", "replace")[:79] + b"\0\0\0\0\0" + value.encode()
        chunks += struct.pack(">I", len(text)) + b"iTXt" + text + struct.pack(">I", zlib.crc32(b"iTXt" + text))
    return data[:at] + chunks + data[at:]


def _without_text(data: bytes, keys: set[bytes]) -> bytes:
    """A PNG without the text chunks (``tEXt``, ``iTXt``, ``zTXt``) whose keyword is one of ``keys``."""
    kept, offset = [data[:8]], 8
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        end = offset + 12 + length
        keyword = data[offset + 8 : offset + 8 + length].split(b"\0", 1)[0]
        if not (kind in (b"tEXt", b"iTXt", b"zTXt") and keyword in keys):
            kept.append(data[offset:end])
        offset = end
    return b"".join(kept) + data[offset:]


def _first_image_chunk(data: bytes) -> int:
    """Where the first ``IDAT`` chunk of a PNG starts, following the chunk lengths from the header."""
    offset = 8
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if kind == b"IDAT":
            return offset
        offset += 12 + length
    raise ValueError("the PNG file has no image data chunk")
