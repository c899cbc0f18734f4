"""Editing on the local backend (issue 28): tiny Kontext and FLUX.2 [klein] pipelines built here, on the CPU.

The pixels must equal diffusers' own call with the same inputs and seed (``numpy.array_equal``):
``image=`` (one for Kontext, a list for klein), the prompt, the size, the steps and the generator.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import flux_widget
from flux_widget import InvalidRequestError

torch = pytest.importorskip("torch")  # the local extra; in CI a skip fails (conftest.py)
diffusers = pytest.importorskip("diffusers")

LOCAL = {"backend": "local", "device": "cpu", "width": 64, "height": 64, "steps": 2, "randomize_seed": False}


@pytest.fixture(scope="module")
def kontext(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from support.tiny_pipelines import save_tiny_flux

    return save_tiny_flux(tmp_path_factory.mktemp("tiny-kontext"), kontext=True)


@pytest.fixture(scope="module")
def klein(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from support.tiny_pipelines import save_tiny_klein

    return save_tiny_klein(tmp_path_factory.mktemp("tiny-klein"))


def picture(colour: tuple[int, int, int], size: tuple[int, int] = (48, 32)) -> Image.Image:
    image = Image.new("RGB", size, colour)
    image.paste((255, 255, 255), (4, 4, 20, 12))
    return image


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def test_kontext_edits_give_diffusers_own_pixels(kontext: Path) -> None:
    source = picture((200, 40, 40))
    made = flux_widget.generate("a red fox", model=str(kontext), images=[source], seed=3, **LOCAL)
    pipeline = diffusers.FluxKontextPipeline.from_pretrained(kontext)
    own = pipeline(
        image=source, prompt="a red fox", width=64, height=64, num_inference_steps=2,
        generator=torch.Generator("cpu").manual_seed(3),
    ).images[0]  # fmt: skip
    assert np.array_equal(pixels(made.image_bytes), np.asarray(own))
    assert made.images and made.images[0]["width"] == 48


def test_klein_takes_two_references_with_diffusers_own_pixels(klein: Path) -> None:
    first, second = picture((10, 200, 10), (96, 64)), picture((10, 10, 200), (64, 64))  # klein: 64 px a side at least
    made = flux_widget.generate("a blue owl", model=str(klein), images=[first, second], seed=5, **LOCAL)
    pipeline = diffusers.Flux2KleinPipeline.from_pretrained(klein)
    own = pipeline(
        image=[first, second], prompt="a blue owl", width=64, height=64, num_inference_steps=2,
        generator=torch.Generator("cpu").manual_seed(5),
    ).images[0]  # fmt: skip
    assert np.array_equal(pixels(made.image_bytes), np.asarray(own))
    assert [record["width"] for record in made.images or []] == [96, 64]


def test_a_text_only_pipeline_and_too_many_images_are_refused_naming_the_limit(kontext: Path, tmp_path: Path) -> None:
    from support.tiny_pipelines import save_tiny_flux

    plain = save_tiny_flux(tmp_path / "plain")
    with pytest.raises(InvalidRequestError, match=r"\(FluxPipeline\) draws from text only and takes no images"):
        flux_widget.generate("a fox", model=str(plain), images=[picture((1, 2, 3))], **LOCAL)
    with pytest.raises(InvalidRequestError, match=r"\(FluxKontextPipeline\) takes at most 1 image\(s\); 2 were given"):
        flux_widget.generate("a fox", model=str(kontext), images=[picture((1, 2, 3))] * 2, **LOCAL)
