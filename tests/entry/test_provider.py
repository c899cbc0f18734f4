"""The seed-compatible provider class, against the real stand-in Space."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from flux_widget import BlackForestLabs_Flux1Schnell, ImageResponse, InvalidRequestError

pytestmark = pytest.mark.anyio


def test_documented_attributes() -> None:
    provider = BlackForestLabs_Flux1Schnell
    assert provider.label == "BlackForestLabs Flux-1-Schnell"
    assert provider.url == "https://black-forest-labs-flux-1-schnell.hf.space"
    assert provider.api_endpoint.startswith(provider.url)
    assert provider.working is True
    assert provider.default_model == "black-forest-labs-flux-1-schnell"
    assert provider.default_image_model == provider.default_model
    assert provider.model_aliases == {"flux-schnell": provider.default_model, "flux": provider.default_model}
    assert provider.image_models == ["flux-schnell", "flux"]
    assert provider.models == provider.image_models


async def test_the_documented_example_runs_as_written(space_env: str) -> None:
    provider = BlackForestLabs_Flux1Schnell()
    async_generator = await provider.create_async_generator(
        model="flux-schnell",
        messages=[{"role": "user", "content": "a lighthouse at dusk"}],
        width=512,
        height=512,
        seed=7,
        randomize_seed=False,
    )
    responses = [image_response async for image_response in async_generator]
    assert len(responses) == 1
    image_response = responses[0]
    assert isinstance(image_response, ImageResponse)
    assert image_response.images[0].startswith(space_env)
    assert image_response.alt == "a lighthouse at dusk"
    assert (image_response.seed, image_response.width, image_response.height) == (7, 512, 512)
    assert Image.open(io.BytesIO(image_response.generation.image_bytes)).size == (512, 512)


async def test_called_on_the_class_and_iterated_directly_with_defaults(space_env: str) -> None:
    responses = [
        response
        async for response in BlackForestLabs_Flux1Schnell.create_async_generator(
            "black-forest-labs-flux-1-schnell", [{"role": "user", "content": "defaults"}]
        )
    ]
    response = responses[0]
    assert (response.width, response.height) == (768, 768)
    assert response.generation is not None and response.generation.steps == 2


async def test_prompt_comes_from_the_last_user_message_with_parts(space_env: str) -> None:
    messages = [
        {"role": "user", "content": "old request"},
        {"role": "assistant", "content": "here you go"},
        {
            "role": "user",
            "content": [{"type": "text", "text": "a red"}, {"type": "image_url"}, {"type": "text", "text": "kite"}],
        },
    ]
    stream = BlackForestLabs_Flux1Schnell.create_async_generator("flux", messages, width=256, height=256)
    response = [r async for r in stream][0]
    assert response.alt == "a red kite"


async def test_explicit_prompt_wins_and_space_kwarg_is_honoured(space: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLUX_WIDGET_SPACE", "http://127.0.0.1:9")  # would fail if used
    stream = BlackForestLabs_Flux1Schnell.create_async_generator(
        "flux", [{"role": "user", "content": "ignored"}], prompt="explicit", width=256, height=256, space=space
    )
    assert [r async for r in stream][0].alt == "explicit"


def test_unknown_model_is_refused() -> None:
    with pytest.raises(InvalidRequestError, match="not served here"):
        BlackForestLabs_Flux1Schnell.create_async_generator("dall-e-3", [{"role": "user", "content": "x"}])


async def test_empty_prompt_is_refused(space_env: str) -> None:
    with pytest.raises(InvalidRequestError, match="prompt is empty"):
        async for _ in BlackForestLabs_Flux1Schnell.create_async_generator("flux", [{"role": "user", "content": " "}]):
            pass
