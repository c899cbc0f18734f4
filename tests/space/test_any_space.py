"""Any FLUX-like Space (issue 9): inputs filled by name and fitted to each Space's declared ranges.

Real Gradio apps: a FLUX.1-dev-like Space (one more input, guidance_scale) and a Space with the
same inputs in another order and its outputs reversed. Each logs the values it actually received.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from support.picture import mean_difference, render_picture
from support.servers import received, running_standin

from flux_widget import FluxClient, GenerationError, InvalidRequestError

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def reordered_space(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    tmp = tmp_path_factory.mktemp("reordered")
    with running_standin(tmp, "--variant", "reordered", script="standin_variants.py") as url:
        yield url, tmp


async def test_dev_space_gets_guidance_and_steps_in_their_own_places(dev_space: tuple[str, Path]) -> None:
    url, tmp = dev_space
    async with FluxClient(url) as client:
        generation = await client.generate(
            "a dev cat", width=500, height=256, steps=20, guidance=5.3, seed=3, randomize_seed=False
        )
    assert received(tmp)[-1] == {
        "prompt": "a dev cat", "seed": 3, "width": 512, "height": 256, "guidance_scale": 5.3, "num_inference_steps": 20,
    }  # fmt: skip
    assert (generation.seed, generation.width, generation.height, generation.steps) == (3, 512, 256, 20)
    assert generation.guidance == 5.3 and generation.parameters["guidance"] == 5.3
    picture = Image.open(io.BytesIO(generation.image_bytes))
    assert mean_difference(picture, render_picture("a dev cat", 3, 512, 256)) < 6


async def test_without_guidance_the_space_default_is_sent_and_reported(dev_space: tuple[str, Path]) -> None:
    url, tmp = dev_space
    async with FluxClient(url) as client:
        generation = await client.generate("default guidance", width=256, height=256, steps=1)
    assert received(tmp)[-1]["guidance_scale"] == 3.5 and generation.guidance == 3.5


async def test_guidance_for_a_space_without_it_is_refused_clearly(space: str) -> None:
    async with FluxClient(space) as client:
        with pytest.raises(InvalidRequestError, match="This Space has no guidance_scale input"):
            await client.generate("schnell takes no guidance", guidance=3.5)
        assert (await client.generate("but runs without", width=256, height=256, steps=1)).guidance is None


async def test_reordered_space_gets_every_value_in_its_place_fitted_to_its_ranges(
    reordered_space: tuple[str, Path],
) -> None:
    url, tmp = reordered_space
    async with FluxClient(url) as client:
        info = await client.info()
        generation = await client.generate("in order", width=1000, height=300, steps=30, seed=9, randomize_seed=False)
    assert [p.name for p in info.parameters] == [
        "num_inference_steps", "width", "prompt", "height", "randomize_seed", "seed",
    ]  # fmt: skip
    # Width and height snap to this Space's step of 64 from 256; steps clamp to its maximum of 12.
    assert received(tmp)[-1] == {
        "prompt": "in order",
        "seed": 9,
        "width": 1024,
        "height": 320,
        "num_inference_steps": 12,
    }
    assert (generation.seed, generation.width, generation.height, generation.steps) == (9, 1024, 320, 12)
    assert Image.open(io.BytesIO(generation.image_bytes)).size == (1024, 320)  # the image output, found by type


async def test_another_endpoint_by_name(dev_space: tuple[str, Path]) -> None:
    async with FluxClient(dev_space[0], endpoint="/generate") as client:
        with pytest.raises(GenerationError, match=r"has no 'generate' endpoint \(it has: .*infer"):
            await client.generate("x")


async def test_widget_on_the_dev_space(dev_space: tuple[str, Path]) -> None:
    from flux_widget.widget._widget import FluxWidget

    url, tmp = dev_space
    widget = FluxWidget(url, width=256, height=256, steps=2)
    await widget._discovery
    assert "guidance_scale" in widget.space_parameters
    generation = await widget.generate("a dev widget", guidance=6.5, steps=20, seed=4, randomize_seed=False)
    assert received(tmp)[-1]["guidance_scale"] == 6.5 and received(tmp)[-1]["num_inference_steps"] == 20
    assert generation.guidance == 6.5 and widget.current["guidance"] == 6.5 and widget.history[-1]["guidance"] == 6.5
    widget.close()


def test_magic_with_guidance_on_the_dev_space(dev_space: tuple[str, Path], space: str, tmp_path: Path) -> None:
    from support.kernel import pngs, run_cells, texts

    url, tmp = dev_space
    _, shown, refused = run_cells(
        [
            "%load_ext flux_widget",
            f"%flux a dev magic --space {url} --guidance 9 --steps 3 --width 256 --height 256",
            f"%flux a schnell magic --guidance 9 --space {space}",
        ],
        tmp_path,
    )
    assert received(tmp)[-1] == {
        "prompt": "a dev magic", "seed": received(tmp)[-1]["seed"], "width": 256, "height": 256,
        "guidance_scale": 9, "num_inference_steps": 3,
    }  # fmt: skip
    assert pngs(shown) and any("a dev magic" in text for text in texts(shown))
    [line] = texts(refused, "stderr")
    assert "has no guidance_scale input" in line
