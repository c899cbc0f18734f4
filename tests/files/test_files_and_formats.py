"""What reaches files: metadata that is well-formed, bounded and present in every format, and every
result the client accepts can be saved with the default suffix (issue 18)."""

from __future__ import annotations

import io
import subprocess
import sys
import xml.dom.minidom
from pathlib import Path

import pytest
from PIL import Image
from support.picture import parameters

import flux_widget._images as images
from flux_widget import Generation
from flux_widget._metadata import CUT_MARKER, MAX_VALUE_CHARS

HOSTILE_PROMPT = "a\x00 nul, an \x1b escape, a \x0c form feed, a \ufffe non-character & <tag> \"quote\" end"


def encoded(fmt: str, mode: str = "RGB", **options: object) -> bytes:
    out = io.BytesIO()
    Image.new(mode, (64, 48), (200, 40, 90) if mode == "RGB" else 3).save(out, format=fmt, **options)
    return out.getvalue()


def generation(data: bytes, prompt: str = "a fox") -> Generation:
    kept, mime_type = images.accept(data)
    return Generation(prompt, 7, 64, 48, 4, "http://x", kept, mime_type, 0.1)


def xmp_of(path: Path) -> str:
    with Image.open(path) as picture:
        xmp = picture.info.get("xmp") or b""
    return xmp.decode() if isinstance(xmp, bytes) else str(xmp)


@pytest.mark.parametrize("source", ["WEBP", "PNG", "JPEG"])
@pytest.mark.parametrize("suffix", [".webp", ".png", ".jpg"])
def test_every_format_keeps_well_formed_parameters(tmp_path: Path, source: str, suffix: str) -> None:
    made = generation(encoded(source), HOSTILE_PROMPT)
    path = made.save(tmp_path / f"out{suffix}")
    with Image.open(path) as picture:
        found = parameters(picture)
    assert found["seed"] == "7" and found["width"] == "64"
    assert found["prompt"] == "a nul, an  escape, a  form feed, a  non-character & <tag> \"quote\" end"
    if suffix != ".png":
        xml.dom.minidom.parseString(xmp_of(path).split("?>", 1)[1].rsplit("<?xpacket", 1)[0])  # well-formed


@pytest.mark.parametrize("suffix", [".webp", ".png", ".jpg"])
def test_a_very_long_prompt_is_cut_in_the_file_with_a_marker(tmp_path: Path, suffix: str) -> None:
    made = generation(encoded("WEBP"), "a very long prompt " * 4000)  # 76,000 characters
    with Image.open(made.save(tmp_path / f"long{suffix}")) as picture:
        kept = parameters(picture)["prompt"]
    assert len(kept) == MAX_VALUE_CHARS and kept.endswith(CUT_MARKER)
    shown, mime_type = images.display_bytes(made.image_bytes, made.parameters)  # what %flux shows
    assert mime_type == "image/jpeg" and Image.open(io.BytesIO(shown)).size == (64, 48)


def test_a_gif_result_is_kept_as_png_and_saves_with_the_default_suffix(tmp_path: Path) -> None:
    made = generation(encoded("GIF", mode="P"))
    assert made.mime_type == "image/png"
    path = made.save(tmp_path / f"flux{images.suffix_for(made.mime_type)}")
    with Image.open(path) as picture:
        assert picture.format == "PNG" and parameters(picture)["seed"] == "7"


def test_a_webp_with_bytes_after_its_riff_data_is_kept_without_them(tmp_path: Path) -> None:
    webp = encoded("WEBP")
    made = generation(webp + b"trailing junk that is not a chunk")
    assert made.image_bytes == webp
    with Image.open(made.save(tmp_path / "flux.webp")) as picture:
        assert parameters(picture)["seed"] == "7"


def test_a_format_that_cannot_carry_the_parameters_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"use \.webp"):
        images.check_suffix("out.tiff")
    cli = subprocess.run(
        [sys.executable, "-m", "flux_widget", "x", "-o", "out.bmp", "--space", "http://127.0.0.1:9"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert cli.returncode == 2 and "cannot save an image as '.bmp'" in cli.stderr
