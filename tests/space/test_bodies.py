"""Reading untrusted bodies (``flux_widget._bodies``) on real streamed ``httpx`` responses, no server.

The end-to-end cases run against the misbehaving server (``tests/space/test_hostile_spaces.py``); these pin down
each rule of the reader on its own, fast enough for mutation testing (``mutmut run``).
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Iterable

import httpx
import pytest

from flux_widget._bodies import ACCEPT_ENCODING, PIECE, bounded_events, decoded_chunks, read_body
from flux_widget.errors import GenerationError

pytestmark = pytest.mark.anyio


class Chunks(httpx.AsyncByteStream):
    """A response body sent as these chunks, as a network would."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.chunks = list(chunks)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk


def response(chunks: Iterable[bytes], **headers: str) -> httpx.Response:
    return httpx.Response(
        200, headers={key.replace("_", "-"): value for key, value in headers.items()}, stream=Chunks(chunks)
    )


def gzip(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


def deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


async def pieces(body: httpx.Response) -> list[bytes]:
    return [piece async for piece in decoded_chunks(body)]


def test_only_the_encodings_decoded_in_pieces_are_asked_for() -> None:
    assert ACCEPT_ENCODING == "gzip, deflate" and PIECE == 64 * 1024


async def test_plain_bodies_pass_as_sent() -> None:
    assert b"".join(await pieces(response([b"ab", b"", b"cd"]))) == b"abcd"
    assert await pieces(response([b"ab"], content_encoding="identity")) == [b"ab"]


@pytest.mark.parametrize(("encoding", "pack"), [("gzip", gzip), ("x-gzip", gzip), ("deflate", deflate)])
async def test_compressed_bodies_are_decoded_in_bounded_pieces(encoding: str, pack) -> None:
    data = bytes(range(256)) * 4096 + b"\0" * (3 * PIECE)  # 1 MiB and more, compressible
    packed = pack(data)
    split = [packed[i : i + 1000] for i in range(0, len(packed), 1000)]
    got = await pieces(response(split, content_encoding=f" {encoding.upper()} "))
    assert b"".join(got) == data
    assert max(len(piece) for piece in got) <= PIECE and len(got) > len(data) // PIECE


async def test_other_encodings_and_broken_or_cut_ones_are_refused() -> None:
    with pytest.raises(GenerationError, match="encoded as 'br', which the client did not ask for"):
        await pieces(response([b"x"], content_encoding="br"))
    with pytest.raises(GenerationError, match="The Space's gzip body is broken"):
        await pieces(response([b"\x1f\x8b\x08\x00not gzip at all"], content_encoding="gzip"))
    with pytest.raises(GenerationError, match="gzip body ended before its end of stream"):
        await pieces(response([gzip(b"a" * 1000)[:-6]], content_encoding="gzip"))
    with pytest.raises(GenerationError, match="The inference provider's body is encoded as 'zstd'"):
        async for _ in decoded_chunks(response([b"x"], content_encoding="zstd"), "The inference provider's"):
            pass


async def test_read_body_keeps_a_body_up_to_the_limit_and_refuses_one_byte_more() -> None:
    assert await read_body(response([b"a" * 60, b"b" * 40]), 100, what="image") == b"a" * 60 + b"b" * 40
    with pytest.raises(GenerationError, match="The Space's image is over the 100-byte limit"):
        await read_body(response([b"a" * 60, b"b" * 41]), 100, what="image")


async def test_read_body_refuses_by_declared_length_before_reading() -> None:
    body = response([b"never read"], content_length="101")
    with pytest.raises(GenerationError, match="image is 101 bytes, over the 100-byte limit"):
        await read_body(body, 100, what="image")
    odd = httpx.Response(200, headers=[(b"content-length", "²".encode("latin-1"))], stream=Chunks([b"x" * 5]))
    assert await read_body(odd, 100, what="image") == b"x" * 5  # "²" is a digit to str.isdigit, not a length


async def test_read_body_cuts_an_error_page_at_the_limit() -> None:
    kept = await read_body(response([b"a" * 70, b"b" * 70]), 100, what="error page", truncate=True)
    assert kept == b"a" * 70 + b"b" * 30
    assert await read_body(response([b"c" * 5], content_length="1000"), 100, what="page", truncate=True) == b"c" * 5


async def test_a_gzip_bomb_is_refused_at_the_limit_not_after_it() -> None:
    bomb = gzip(b"\0" * (16 * 1024 * 1024))
    with pytest.raises(GenerationError, match="over the 1048576-byte limit"):
        await read_body(response([bomb], content_encoding="gzip"), 1024 * 1024, what="image")


async def events(chunks: Iterable[bytes], limit: int = 100) -> bytes:
    async def feed() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    return b"".join([chunk async for chunk in bounded_events(feed(), limit)])


@pytest.mark.parametrize("end", [b"\n", b"\r", b"\r\n"])
async def test_many_small_events_pass_whatever_their_line_ends(end: bytes) -> None:
    stream = (b"data: " + b"a" * 50 + end + end) * 40  # 40 events of 56 bytes: 2 KiB in all
    assert await events([stream]) == stream
    assert await events([stream[i : i + 7] for i in range(0, len(stream), 7)]) == stream  # split anywhere


@pytest.mark.parametrize("end", [b"\n", b"\r", b"\r\n"])
async def test_one_event_of_many_lines_counts_whole(end: bytes) -> None:
    with pytest.raises(GenerationError, match="an event of over 100 bytes"):
        await events([(b"data: aaaaaaaaaa" + end) * 10])  # 10 lines of 16 bytes, no blank one


async def test_one_long_line_is_refused_even_across_chunks() -> None:
    with pytest.raises(GenerationError, match="an event of over 100 bytes"):
        await events([b"data: " + b"a" * 50, b"a" * 50])
    assert await events([b"data: " + b"a" * 47, b"a" * 47]) == b"data: " + b"a" * 94  # exactly 100: kept


async def test_a_crlf_split_between_chunks_is_one_line_end() -> None:
    # "x\r" | "\n" | "y" ... : the LF that ends CR LF is not a second, blank line, so the event goes on.
    with pytest.raises(GenerationError, match="an event of over 20 bytes"):
        await events([b"data: 123456\r", b"\ndata: 123456\r", b"\ndata: 123456\r"], limit=20)
    # A CR alone then a CR: a blank line, so each event is small.
    assert await events([b"data: 123456\r", b"\rdata: 123456\r", b"\r"], limit=20)


async def test_events_of_exactly_the_limit_pass_one_after_another() -> None:
    event = b"data: " + b"a" * 94  # 100 bytes before its line end
    stream = (event + b"\n\n") * 5
    assert await events([stream]) == stream
    assert await events([stream[i : i + 33] for i in range(0, len(stream), 33)]) == stream


async def test_a_body_read_in_advance_is_handed_out_in_pieces() -> None:
    body = httpx.Response(200, content=b"z" * (2 * PIECE + 5))  # what a mock transport gives: already read
    got = await pieces(body)
    assert b"".join(got) == b"z" * (2 * PIECE + 5) and [len(piece) for piece in got] == [PIECE, PIECE, 5]


async def test_a_line_end_first_in_a_chunk_ends_the_line_it_continues() -> None:
    # Each line's own end arrives first in the next chunk: the lines still make one event, too long.
    chunks = [b"data: " + b"a" * 20, b"\ndata: " + b"a" * 20, b"\ndata: " + b"a" * 20, b"\n"]
    with pytest.raises(GenerationError, match="an event of over 60 bytes"):
        await events(chunks, limit=60)


async def test_a_body_declared_at_exactly_the_limit_is_kept() -> None:
    assert await read_body(response([b"q" * 100], content_length="100"), 100, what="image") == b"q" * 100
