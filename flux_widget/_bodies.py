"""Reading untrusted HTTP bodies with bounded memory, compressed ones included.

httpx decodes ``Content-Encoding`` a whole network chunk at a time, so 1.6 KB of brotli can become
1 GiB before any size check runs. Here bodies are read raw and decoded by us: gzip and deflate in
pieces of at most :data:`PIECE` bytes (zlib's ``max_length``), any other encoding refused. Every
reader counts what it keeps and refuses a body past its limit, so memory stays bounded whatever a
server sends.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import AsyncIterator

import httpx

from .errors import GenerationError

__all__ = ["ACCEPT_ENCODING", "PIECE", "bounded_events", "decoded_chunks", "read_body"]

#: What the client asks for: the encodings it can decode in bounded pieces.
ACCEPT_ENCODING = "gzip, deflate"
#: The most decoded bytes produced from one step of decompression.
PIECE = 64 * 1024


def _decompressor(encoding: str, whose: str) -> zlib._Decompress | None:
    if encoding in {"", "identity"}:
        return None
    if encoding in {"gzip", "x-gzip"}:
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj(zlib.MAX_WBITS)
    raise GenerationError(f"{whose} body is encoded as {encoding[:40]!r}, which the client did not ask for; refused.")


async def decoded_chunks(response: httpx.Response, whose: str = "The Space's") -> AsyncIterator[bytes]:
    """The response's body, decoded, in pieces of at most :data:`PIECE` bytes each (raw chunks as sent).

    ``whose`` names the sender in messages ("The Space's", "The inference provider's").
    """
    if response.is_stream_consumed:  # read in advance (a mock transport): httpx has decoded it already
        content = response.content
        for start in range(0, len(content), PIECE):
            yield content[start : start + PIECE]
        return
    encoding = response.headers.get("content-encoding", "").strip().lower()
    decompressor = _decompressor(encoding, whose)
    async for raw in response.aiter_raw():
        if decompressor is None:
            yield raw
            continue
        data = raw
        while data and not decompressor.eof:
            try:
                piece = decompressor.decompress(data, PIECE)
            except zlib.error as exc:
                raise GenerationError(f"{whose} {encoding} body is broken ({exc}).") from None
            if piece:
                yield piece
            data = decompressor.unconsumed_tail
    if decompressor is not None and not decompressor.eof:
        raise GenerationError(f"{whose} {encoding} body ended before its end of stream.")


async def read_body(
    response: httpx.Response,
    limit: int,
    *,
    what: str,
    truncate: bool = False,
    whose: str = "The Space's",
) -> bytes:
    """Read the whole (decoded) body, refusing it past ``limit`` bytes, or cutting it there with ``truncate``."""
    declared = response.headers.get("content-length", "")
    if not truncate and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise GenerationError(f"{whose} {what} is {int(declared)} bytes, over the {limit}-byte limit; refused.")
    kept = bytearray()
    async for piece in decoded_chunks(response, whose):
        room = limit - len(kept)
        if len(piece) > room:
            if truncate:
                kept += piece[:room]
                break
            raise GenerationError(f"{whose} {what} is over the {limit}-byte limit; refused.")
        kept += piece
    return bytes(kept)


#: A line ends at CR LF, LF or CR alone (the server-sent events specification allows all three).
_LINE_END = re.compile(rb"\r\n|\r|\n")


async def bounded_events(chunks: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    """Pass an event stream's bytes through, refusing any one event (lines up to a blank one) over ``limit`` bytes.

    A server-sent event ends at a blank line; a parser buffers everything before it. Counting the
    bytes since the last blank line keeps that buffer, and so memory, bounded. Lines may end in
    CR LF, LF or CR alone; a CR LF split between two chunks is one line end.
    """
    in_event = 0  # bytes of the event being read
    in_line = 0  # bytes of the line being read
    after_cr = False  # the last chunk ended with CR: an LF first in the next one ends nothing more
    async for chunk in chunks:
        start = 1 if after_cr and chunk[:1] == b"\n" else 0
        for end in _LINE_END.finditer(chunk, start):
            in_line += end.start() - start
            in_event += end.start() - start
            if in_event > limit:
                raise GenerationError(f"The Space sent an event of over {limit} bytes; refused.")
            if in_line == 0:
                in_event = 0  # a blank line: the event is over
            in_line = 0
            start = end.end()
        in_line += len(chunk) - start
        in_event += len(chunk) - start
        if in_event > limit:
            raise GenerationError(f"The Space sent an event of over {limit} bytes; refused.")
        after_cr = chunk.endswith(b"\r")
        yield chunk
