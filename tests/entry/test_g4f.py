"""The provider class from g4f's own clients (issue 9), with the real g4f package, against the stand-in."""

from __future__ import annotations

import asyncio
import base64
import io
import subprocess
import sys

import httpx
import pytest
from PIL import Image
from support.picture import mean_difference, render_picture

from flux_widget import BlackForestLabs_Flux1Schnell

g4f_client = pytest.importorskip("g4f.client")  # a test extra; in CI a skip fails (conftest.py)


@pytest.mark.parametrize("response_format", ["url", "b64_json"])
def test_g4f_client_returns_the_image(space: str, response_format: str) -> None:
    response = g4f_client.Client().images.generate(
        prompt="a g4f cat",
        model="flux-schnell",
        provider=BlackForestLabs_Flux1Schnell,
        response_format=response_format,
        space=space,
        width=256,
        height=256,
        seed=7,
        randomize_seed=False,
    )
    [image] = response.data
    if response_format == "url":
        assert image.url.startswith(space)
        picture = Image.open(io.BytesIO(httpx.get(image.url).content))
    else:
        picture = Image.open(io.BytesIO(base64.b64decode(image.b64_json)))
    assert picture.size == (256, 256)
    assert mean_difference(picture, render_picture("a g4f cat", 7, 256, 256)) < 6


def test_g4f_async_client(space: str) -> None:
    async def main() -> object:
        return await g4f_client.AsyncClient().images.generate(
            prompt="an async g4f cat", model="flux-schnell", provider=BlackForestLabs_Flux1Schnell,
            response_format="b64_json", space=space, width=256, height=256, seed=3, randomize_seed=False,
        )  # fmt: skip

    response = asyncio.run(main())
    picture = Image.open(io.BytesIO(base64.b64decode(response.data[0].b64_json)))  # type: ignore[attr-defined]
    assert mean_difference(picture, render_picture("an async g4f cat", 3, 256, 256)) < 6


def test_without_g4f_loaded_the_provider_yields_our_own_type_and_imports_no_g4f(space: str) -> None:
    script = (
        "import asyncio, sys\n"
        "from flux_widget import BlackForestLabs_Flux1Schnell as P\n"
        "async def main():\n"
        "    messages = [{'role': 'user', 'content': 'plain'}]\n"
        f"    async for r in P.create_async_generator('flux', messages, space={space!r}, width=256, height=256):\n"
        "        print(type(r).__name__, r.seed >= 0, r.images[0].startswith('http'))\n"
        "asyncio.run(main())\n"
        "print('g4f' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.stdout == "ImageResponse True True\nFalse\n", result.stderr


def test_with_g4f_loaded_a_response_is_both_g4fs_type_and_ours(space: str) -> None:
    from g4f.providers.response import ImageResponse as G4fImageResponse

    from flux_widget import ImageResponse

    async def first() -> object:
        stream = BlackForestLabs_Flux1Schnell.create_async_generator("flux", [], prompt="both", space=space, width=256)
        async for item in stream:
            return item
        return None

    item = asyncio.run(first())
    assert isinstance(item, G4fImageResponse) and isinstance(item, ImageResponse)
    assert item.seed >= 0 and item.images == [item.generation.url] and item.width == 256  # type: ignore[attr-defined]
