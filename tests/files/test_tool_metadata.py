"""The parameters in the form other image tools read (issue 19): the PNG ``parameters`` chunk and the
Exif ``UserComment`` of JPEG and WebP, ``prompt\\nSteps: 4, Seed: 3, Size: WxH, Model: …``.

Read back with Pillow and with ``exiftool`` (Debian's ``libimage-exiftool-perl``), from images the
real stand-in Space made, through every way a file leaves the package.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from support.picture import parameters, parse_tool_text, tool_text

import flux_widget._images as images
from flux_widget import Generation, generate

PROMPT = "a cat in a hat, «ünïcode» & \"quotes\""


@pytest.fixture(scope="module")
def made(space: str) -> Generation:
    return generate(PROMPT, space=space, width=512, height=384, steps=3, seed=3, randomize_seed=False)


def exiftool(path: Path) -> dict[str, str]:
    assert shutil.which("exiftool"), "exiftool is missing: apt-get install libimage-exiftool-perl (README step 1)"
    out = subprocess.run(["exiftool", "-j", "-UserComment", "-Parameters", str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    [found] = json.loads(out.stdout)
    return found


def expected_line(space: str) -> dict[str, str]:
    return {"Steps": "3", "Seed": "3", "Size": "512x384", "Model": space}


@pytest.mark.parametrize("suffix", [".webp", ".png", ".jpg"])
def test_a_saved_file_reads_back_in_pillow_and_exiftool(
    made: Generation, space: str, tmp_path: Path, suffix: str
) -> None:
    path = made.save(tmp_path / f"cat{suffix}")
    with Image.open(path) as picture:
        prompt, named = parse_tool_text(tool_text(picture))
        assert parameters(picture)["seed"] == "3"  # the XMP (or PNG chunks) by name, as before
    assert (prompt, named) == (PROMPT, expected_line(space))
    found = exiftool(path)
    text = found.get("Parameters") if suffix == ".png" else found.get("UserComment")
    assert text is not None, found
    assert parse_tool_text(text) == (PROMPT, expected_line(space))


def test_the_spaces_own_webp_keeps_its_pixels_with_the_exif_added(made: Generation, tmp_path: Path) -> None:
    path = made.save(tmp_path / "kept.webp")
    with Image.open(io.BytesIO(made.image_bytes)) as before, Image.open(path) as after:
        assert after.tobytes() == before.tobytes()
        assert after.getexif().get_ifd(0x8769)[0x9286][:8] == b"UNICODE\x00"


def test_what_flux_shows_carries_them_too(made: Generation, space: str, tmp_path: Path) -> None:
    shown, mime_type = images.display_bytes(made.image_bytes, made.metadata)
    assert mime_type == "image/jpeg"
    path = tmp_path / "shown.jpg"
    path.write_bytes(shown)
    assert parse_tool_text(exiftool(path)["UserComment"]) == (PROMPT, expected_line(space))


def test_guidance_is_the_cfg_scale_and_a_missing_model_is_left_out(tmp_path: Path) -> None:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 30)).save(out, format="PNG")
    made = Generation("a fox", 7, 64, 48, 4, "http://x", out.getvalue(), "image/png", 0.1, guidance=3.5)
    with Image.open(made.save(tmp_path / "fox.png")) as picture:
        assert tool_text(picture) == "a fox\nSteps: 4, Seed: 7, Size: 64x48, CFG scale: 3.5"


def png_generation(prompt: str, model: str = "") -> Generation:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 30)).save(out, format="PNG")
    return Generation(prompt, 7, 64, 48, 4, "http://x", out.getvalue(), "image/png", 0.1, model=model)


@pytest.mark.parametrize(
    ("prompt", "model"),
    [
        ("a fox\nNegative prompt: blurry", ""),  # a second line that reads as a negative prompt
        ("Negative prompt: the whole thing", ""),
        ("two lines\nof a poem", "black-forest-labs/FLUX.1-schnell"),
        ("  indented\nline  ", ""),
        ('"quoted" start', ""),
        ("a fox", "m, Seed: 999, Sampler: x"),  # a model name that would add fields
        ("a fox", 'say "hi": now'),
    ],
)
@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_web_uis_read_back_exactly_our_prompt_and_settings(
    prompt: str, model: str, suffix: str, tmp_path: Path
) -> None:
    made = png_generation(prompt, model)
    with Image.open(made.save(tmp_path / f"fox{suffix}")) as picture:
        found_prompt, fields = parse_tool_text(tool_text(picture))
    expected = {"Steps": "4", "Seed": "7", "Size": "64x48", **({"Model": model} if model else {})}
    assert fields == expected  # no negative prompt, no extra field
    plain = prompt == prompt.strip() and all(line == line.strip() for line in prompt.split("\n"))
    if plain and "Negative prompt:" not in prompt:
        assert found_prompt == prompt
    else:  # a prompt the format cannot hold as lines: one JSON string, the exact prompt inside
        assert json.loads(found_prompt) == prompt


def test_png_text_is_before_the_pixels_so_open_alone_finds_it(tmp_path: Path) -> None:
    path = png_generation("a fox").save(tmp_path / "fox.png")
    data = path.read_bytes()
    assert data.index(b"iTXt") < data.index(b"IDAT")
    with Image.open(path) as picture:  # not loaded: what most readers do
        assert picture.info["parameters"].startswith("a fox\nSteps: 4")
    found = subprocess.run(["exiftool", "-validate", "-warning", "-a", str(path)], capture_output=True, text=True)
    assert "Text/EXIF chunk(s) found after PNG IDAT" not in found.stdout and "Warning" not in found.stdout, found.stdout
    with Image.open(io.BytesIO(png_generation("a fox").image_bytes)) as before, Image.open(path) as after:
        assert after.tobytes() == before.tobytes()
