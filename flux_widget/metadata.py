"""Parameters into image files without re-encoding their pixels.

WebP gets an ``XMP `` chunk (the file becomes the extended VP8X layout if it was simple), JPEG an
XMP ``APP1`` segment after its header, PNG ``iTXt`` chunks before ``IEND``. Each is a few hundred
bytes added to the Space's own file, so saving keeps its exact bytes and costs no encoding time.
Pillow reads them back (``Image.info["xmp"]``, ``Image.text``).
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Mapping
from xml.sax.saxutils import escape

__all__ = ["MAX_VALUE_CHARS", "XMP_NAMESPACE", "clean_metadata", "riff_chunks", "with_metadata", "xmp_packet"]

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
_VP8X_ALPHA = 0x10


def clean_metadata(metadata: Mapping[str, object]) -> dict[str, str]:
    """Each value as text a file can carry: characters XML forbids dropped, cut to ``MAX_VALUE_CHARS``."""
    cleaned = {}
    for key, value in metadata.items():
        text = _NOT_XML.sub("", str(value))
        if len(text) > MAX_VALUE_CHARS:
            text = text[: MAX_VALUE_CHARS - len(CUT_MARKER)] + CUT_MARKER
        cleaned[_NOT_XML.sub("", str(key))[:79]] = text
    return cleaned


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
        return _webp(data, xmp_packet(metadata), size)
    if data[:3] == b"\xff\xd8\xff":
        return _jpeg(data, xmp_packet(metadata))
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


def _webp(data: bytes, xmp: bytes, size: tuple[int, int]) -> bytes:
    chunks = [(fourcc, payload) for fourcc, payload in riff_chunks(data) if fourcc != b"XMP "]
    if not chunks:
        raise ValueError("the WebP file has no image chunk")
    first, payload = chunks[0]
    if first == b"VP8X":
        chunks[0] = (first, bytes([payload[0] | _VP8X_XMP]) + payload[1:])
    else:  # the simple layout: one VP8 or VP8L chunk; metadata needs the extended header first
        alpha = first == b"VP8L" and len(payload) >= 5 and (int.from_bytes(payload[1:5], "little") >> 28) & 1
        width, height = size
        header = bytes([_VP8X_XMP | (_VP8X_ALPHA if alpha else 0), 0, 0, 0])
        header += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        chunks.insert(0, (b"VP8X", header))
    chunks.append((b"XMP ", xmp))
    body = b"".join(fourcc + struct.pack("<I", len(p)) + p + (b"\0" if len(p) & 1 else b"") for fourcc, p in chunks)
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def _jpeg(data: bytes, xmp: bytes) -> bytes:
    segment = _XMP_APP1 + xmp
    if len(segment) + 2 > 0xFFFF:
        raise ValueError("the metadata is too long for a JPEG segment")
    at = 2
    if data[2:4] == b"\xff\xe0":  # keep the JFIF header first
        at = 4 + struct.unpack(">H", data[4:6])[0]
    return data[:at] + b"\xff\xe1" + struct.pack(">H", len(segment) + 2) + segment + data[at:]


def _png(data: bytes, metadata: Mapping[str, object]) -> bytes:
    end = data.rfind(b"IEND")
    if end < 12:
        raise ValueError("the PNG file has no end chunk")
    chunks = b""
    for key, value in clean_metadata(metadata).items():
        text = key.encode("latin-1", "replace")[:79] + b"\0\0\0\0\0" + value.encode()
        chunks += struct.pack(">I", len(text)) + b"iTXt" + text + struct.pack(">I", zlib.crc32(b"iTXt" + text))
    return data[: end - 4] + chunks + data[end - 4 :]
