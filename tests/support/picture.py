"""The stand-in Space's picture, importable without Gradio so tests can compute what to expect."""

from __future__ import annotations

import hashlib
import html
import json
import re

from PIL import Image, ImageDraw


def render_picture(prompt: str, seed: int, width: int, height: int) -> Image.Image:
    """Draw a deterministic picture that depends on the prompt, the seed and the size."""
    digest = hashlib.sha256(f"{prompt}|{seed}".encode()).digest()
    picture = Image.new("RGB", (width, height), tuple(digest[0:3]))
    draw = ImageDraw.Draw(picture)
    for i in range(4):
        x, y = digest[3 + i] / 255 * width, digest[7 + i] / 255 * height
        radius = (digest[11 + i] / 255 * 0.3 + 0.1) * min(width, height)
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=tuple(digest[15 + 3 * i : 18 + 3 * i]))
    return picture


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference per channel (0–255) of two same-sized images."""
    assert a.size == b.size, (a.size, b.size)
    pa, pb = a.convert("RGB").tobytes(), b.convert("RGB").tobytes()
    return sum(abs(x - y) for x, y in zip(pa, pb, strict=True)) / len(pa)


def parameters(image: Image.Image) -> dict[str, str]:
    """The generation parameters an image file carries: PNG text chunks, or flux: XMP attributes."""
    if getattr(image, "text", None):
        return {key: value for key, value in image.text.items() if key != "parameters"}  # that one: tool_text
    xmp = image.info.get("xmp") or b""
    text = xmp.decode() if isinstance(xmp, bytes) else str(xmp)
    return {key: html.unescape(value) for key, value in re.findall(r'flux:(\w+)="([^"]*)"', text)}


def tool_text(image: Image.Image) -> str:
    """The parameters as image tools read them (Pillow alone): the PNG ``parameters`` chunk or the Exif UserComment."""
    if getattr(image, "text", None):
        return image.text["parameters"]
    comment = image.getexif().get_ifd(0x8769)[0x9286]
    assert comment[:8] == b"UNICODE\x00", comment[:8]
    return comment[8:].decode("utf-16-be")


#: A settings field as AUTOMATIC1111's web UI reads it: ``Name: value`` or ``Name: "a JSON string"``.
_FIELD = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')


def parse_tool_text(text: str) -> tuple[str, dict[str, str]]:
    """``prompt\\nSteps: 4, Seed: 3, …`` as (prompt, {"Steps": "4", "Seed": "3", …}), read by the rules of
    AUTOMATIC1111's web UI (its documented infotext format): the last line is the settings when it
    holds three fields or more; prompt lines are stripped; a line from ``Negative prompt:`` on is the
    negative prompt (returned as a field, so a test sees one appear); a quoted value is a JSON string."""
    *lines, last = text.strip().split("\n")
    if len(_FIELD.findall(last)) < 3:
        lines, last = [*lines, last], ""
    prompt: list[str] = []
    negative: list[str] = []
    for line in (line.strip() for line in lines):
        if negative or line.startswith("Negative prompt:"):
            negative.append(line.removeprefix("Negative prompt:").strip() if not negative else line)
        else:
            prompt.append(line)
    fields = {}
    for key, value in _FIELD.findall(last):
        if len(value) > 1 and value[0] == value[-1] == '"':
            value = json.loads(value)
        fields[key] = value
    if negative:
        fields["Negative prompt"] = "\n".join(negative)
    return "\n".join(prompt), fields
