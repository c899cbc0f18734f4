"""What notebooks show and what files carry, at the edges README names (issue 27's unwatched promises).

Photo-like pictures (noise over a gradient) made here, encoded as the Space encodes them; each
assertion reads back what a viewer or a parser would read.
"""

from __future__ import annotations

import base64
import io
import xml.dom.minidom
from pathlib import Path

import numpy as np
from PIL import Image, JpegImagePlugin

import flux_widget._images as images
from flux_widget import Generation
from flux_widget._metadata import CUT_MARKER, MAX_VALUE_CHARS
from flux_widget.notebook._gallery import Tile


def photo(width: int, height: int) -> bytes:
    rows = np.linspace(0, 255, height, dtype=np.float32)[:, None, None]
    noise = np.random.default_rng(3).integers(0, 60, (height, width, 3))
    picture = Image.fromarray(np.clip(rows + noise, 0, 255).astype(np.uint8))
    out = io.BytesIO()
    picture.save(out, format="WEBP", quality=90)
    return out.getvalue()


def made(width: int, height: int, prompt: str = "a fox") -> Generation:
    return Generation(prompt, 7, width, height, 4, "http://x", photo(width, height), "image/webp", 0.1)


def test_a_flux_n_tile_of_a_1024_image_is_at_most_512_pixels() -> None:
    tile = Tile.of(made(1024, 1024))
    data = base64.b64decode(tile.html.split("base64,", 1)[1].split('"', 1)[0])
    with Image.open(io.BytesIO(data)) as shown:
        assert shown.size == (512, 512)  # twice the 256 CSS pixels it is shown at, not the 1024 it was made at


def test_the_display_jpeg_is_4_2_0_and_progressive() -> None:
    data, mime_type = images.display_bytes(photo(256, 256))
    with Image.open(io.BytesIO(data)) as shown:
        assert mime_type == "image/jpeg" and shown.info.get("progressive") == 1
        assert JpegImagePlugin.get_sampling(shown) == 2  # 4:2:0


def test_a_wide_images_thumbnail_is_capped_on_its_long_side() -> None:
    url = images.thumbnail_data_url(photo(2048, 256))
    with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as thumbnail:
        assert thumbnail.size == (256, 32)  # the long side at most twice the 128 px, not 1024 × 128


def test_a_multi_line_prompt_survives_an_xml_parser_reading_the_xmp(tmp_path: Path) -> None:
    prompt = "a fox\nin the snow\r\n\tunder a \"moon\" & <stars>"
    path = made(64, 48, prompt).save(tmp_path / "fox.webp")
    with Image.open(path) as picture:
        xmp = picture.info["xmp"]
    text = xmp.decode() if isinstance(xmp, bytes) else xmp
    packet = text.split("?>", 1)[1].rsplit("<?xpacket", 1)[0]
    [description] = xml.dom.minidom.parseString(packet).getElementsByTagName("rdf:Description")
    assert description.getAttribute("flux:prompt") == prompt  # attribute values keep their newlines and tab


def test_a_value_of_exactly_the_limit_is_kept_whole(tmp_path: Path) -> None:
    prompt = "x" * (MAX_VALUE_CHARS - 4) + " end"
    path = made(64, 48, prompt).save(tmp_path / "fox.png")
    with Image.open(path) as picture:
        kept = picture.text["prompt"]
    assert kept == prompt and len(kept) == MAX_VALUE_CHARS and not kept.endswith(CUT_MARKER)
