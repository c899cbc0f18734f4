"""Reference images that cannot be used (issue 28): each one clear error before anything is sent.

Against the stand-in Kontext Space, whose calls log proves nothing reached it; the images are real
files made here (a truncated PNG, a 30000² header, a 200 MB file, animated GIF and WebP, EXIF
rotation, CMYK, 16-bit).
"""

from __future__ import annotations

import io
import json
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import flux_widget
from flux_widget import InvalidRequestError


def calls(folder: Path) -> list[dict[str, Any]]:
    path = folder / "calls.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def encoded(image: Image.Image, fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def animated(fmt: str) -> bytes:
    frames = [Image.new("RGB", (32, 32), colour) for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    return encoded(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)


def whole_png() -> bytes:
    return encoded(Image.new("RGB", (64, 64), (10, 20, 30)), "PNG")


BAD = {
    "not an image": (b"just some text, not an image\n", "it is not a PNG, JPEG, WebP or GIF image"),
    "truncated PNG": (whole_png()[:-30], "broken"),
    "30000x30000 header": (png_header(30000, 30000), "claims more than .* pixels .*refusing to decode it"),
    "animated GIF": (animated("GIF"), r"it is animated \(3 frames\)"),
    "animated WebP": (animated("WEBP"), r"it is animated \(3 frames\)"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_an_input_that_is_not_a_usable_image_is_refused_before_anything_is_sent(
    edit_space: tuple[str, Path], tmp_path: Path, case: str
) -> None:
    data, message = BAD[case]
    path = tmp_path / "input.bin"
    path.write_bytes(data)
    prompt = f"bad input: {case}"
    with pytest.raises(InvalidRequestError, match=rf"^image 1 cannot be used: .*{message}"):
        flux_widget.generate(prompt, space=edit_space[0], images=[path])
    assert not [call for call in calls(edit_space[1]) if call["prompt"] == prompt]


def test_a_200_mb_file_is_refused_by_its_size_without_reading_it(edit_space: tuple[str, Path], tmp_path: Path) -> None:
    path = tmp_path / "huge.png"
    with open(path, "wb") as file:
        file.truncate(200 * 1024 * 1024)  # sparse: 200 MB on paper, nothing on disk
    with pytest.raises(InvalidRequestError, match=r"image 1 \(.*huge.png\) is 200 MB; the most is 20 MB"):
        flux_widget.generate("a huge input", space=edit_space[0], images=[path])


def test_a_path_that_does_not_exist_is_named(edit_space: tuple[str, Path], tmp_path: Path) -> None:
    with pytest.raises(InvalidRequestError, match=r"image 2: there is no file at .*missing.png"):
        flux_widget.generate("a missing input", space=edit_space[0], images=[whole_png(), tmp_path / "missing.png"])


def test_exif_rotation_is_applied_and_cmyk_and_16_bit_are_converted(edit_space: tuple[str, Path]) -> None:
    url, folder = edit_space
    upright = Image.new("RGB", (96, 64), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90° clockwise
    turned = encoded(upright, "JPEG", exif=exif, quality=95)
    cmyk = encoded(Image.new("CMYK", (40, 30), (0, 200, 200, 0)), "JPEG")
    deep = encoded(Image.new("I;16", (50, 20), 40000), "PNG")
    for prompt, data, size in (("turned", turned, [64, 96]), ("cmyk", cmyk, [40, 30]), ("16-bit", deep, [50, 20])):
        made = flux_widget.generate(f"converted {prompt}", space=url, images=[data], seed=1)
        [call] = [call for call in calls(folder) if call["prompt"] == f"converted {prompt}"]
        assert call["inputs"][0]["size"] == size and [made.width, made.height] == size
        assert made.images and [made.images[0]["width"], made.images[0]["height"]] == size  # upright before sending
