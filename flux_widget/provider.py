"""``BlackForestLabs_Flux1Schnell``: the well-known provider interface, as a thin adapter over FluxClient."""

from __future__ import annotations

import functools
import sys
from collections.abc import AsyncIterator, Generator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, cast

from ._config import DEFAULT_TIMEOUT
from .backends._cache import shared_client
from .backends.base import BackendOptions
from .errors import InvalidRequestError
from .types import Generation, GenerationRequest, RequestParameters

__all__ = ["BlackForestLabs_Flux1Schnell", "ImageResponse"]

Messages = Iterable[Mapping[str, Any]]


@dataclass
class ImageResponse:
    """What the provider yields: ``images`` (URLs on the Space), ``alt`` (the prompt), and more.

    ``seed``, ``width`` and ``height`` are the values the Space used; ``generation`` carries the
    image's bytes, so nothing needs fetching twice.
    """

    images: list[str]
    alt: str
    seed: int
    width: int
    height: int
    generation: Generation | None = field(default=None, repr=False)

    def __str__(self) -> str:
        # The URL is percent-encoded by the client; the alt text (the prompt) keeps brackets out of the markup.
        alt = self.alt.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
        return f"![{alt}]({self.images[0]})" if self.images else self.alt


@functools.cache
def _g4f_compatible(base: Any) -> type:
    """An ImageResponse that is also g4f's own type ``base``, which is all g4f's clients keep."""

    class G4fImageResponse(base, ImageResponse):
        """Both g4f's ``ImageResponse`` (URLs, alt and options) and ours (seed, size, generation)."""

        def __init__(
            self, images: list[str], alt: str, seed: int, width: int, height: int, generation: Generation | None
        ) -> None:
            base.__init__(self, images, alt, {"seed": seed, "width": width, "height": height})
            self.images, self.alt, self.seed, self.width, self.height = list(images), alt, seed, width, height
            self.generation = generation

    return G4fImageResponse


def _image_response(generation: Generation) -> ImageResponse:
    """The response for ``generation``: g4f's type as well when g4f is in use (its response module loaded)."""
    fields = {
        "images": [generation.url],
        "alt": generation.prompt,
        "seed": generation.seed,
        "width": generation.width,
        "height": generation.height,
        "generation": generation,
    }
    g4f_types = sys.modules.get("g4f.providers.response")
    base = getattr(g4f_types, "ImageResponse", None)
    if isinstance(base, type):
        return cast(ImageResponse, _g4f_compatible(base)(**fields))
    return ImageResponse(**fields)  # type: ignore[arg-type]


class _AwaitableStream(AsyncIterator[ImageResponse]):
    """An async iterator that may also be awaited first (awaiting gives back the iterator).

    The documented provider example does ``gen = await create_async_generator(...)`` and then
    ``async for response in gen``; others iterate the call directly. Both work.
    """

    def __init__(self, iterator: AsyncIterator[ImageResponse]) -> None:
        self._iterator = iterator

    def __await__(self) -> Generator[Any, None, _AwaitableStream]:
        return self
        yield  # pragma: no cover - makes this a generator

    def __aiter__(self) -> _AwaitableStream:
        return self

    async def __anext__(self) -> ImageResponse:
        return await self._iterator.__anext__()

    async def aclose(self) -> None:
        """Stop early; cancels the Space job if one is running."""
        await self._iterator.aclose()  # type: ignore[attr-defined]


def _prompt_from_messages(messages: Messages | None) -> str:
    """The text of the last user message (content as a string or a list of parts)."""
    for message in reversed(list(messages or [])):
        if message.get("role", "user") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            parts = [
                part.get("text", "") if isinstance(part, Mapping) else str(part)
                for part in content
                if not isinstance(part, Mapping) or part.get("type", "text") == "text"
            ]
            return " ".join(part for part in parts if part)
    return ""


class BlackForestLabs_Flux1Schnell:  # noqa: N801 - the name users know
    """The FLUX.1-schnell provider, compatible with the well-known provider class.

    ``create_async_generator`` may be called on the class or an instance, iterated directly or
    awaited first. It honours ``FLUX_WIDGET_SPACE`` and ``HF_TOKEN`` as :class:`FluxClient` does.
    """

    label = "BlackForestLabs Flux-1-Schnell"
    url = "https://black-forest-labs-flux-1-schnell.hf.space"
    api_endpoint = "https://black-forest-labs-flux-1-schnell.hf.space/gradio_api/queue/join"
    working = True

    default_model = "black-forest-labs-flux-1-schnell"
    default_image_model = default_model
    model_aliases: ClassVar[dict[str, str]] = {"flux-schnell": default_image_model, "flux": default_image_model}
    image_models: ClassVar[list[str]] = list(model_aliases.keys())
    models: ClassVar[list[str]] = image_models

    @classmethod
    def get_model(cls, model: str | None) -> str:
        """Resolve a model name or alias to the provider's model; refuse unknown names."""
        if not model or model == cls.default_model:
            return cls.default_model
        if model in cls.model_aliases:
            return cls.model_aliases[model]
        raise InvalidRequestError(
            f"Model {model!r} is not served here; use one of {[cls.default_model, *cls.image_models]}."
        )

    @classmethod
    def create_async_generator(
        cls,
        model: str,
        messages: Messages,
        proxy: str | None = None,
        prompt: str | None = None,
        width: int = 768,
        height: int = 768,
        num_inference_steps: int = 2,
        seed: int = 0,
        randomize_seed: bool = True,
        **kwargs: Any,
    ) -> _AwaitableStream:
        """Generate one image; yields one :class:`ImageResponse`.

        The prompt is ``prompt``, or else the last user message. Extra keyword arguments:
        ``space`` (``owner/name`` or URL), ``token`` or ``api_key`` (a Hugging Face token) and
        ``timeout``; any others are ignored, as the provider interface expects.
        """
        cls.get_model(model)
        text = prompt if prompt is not None else _prompt_from_messages(messages)
        parameters: RequestParameters = {
            "width": width,
            "height": height,
            "steps": num_inference_steps,
            "seed": seed,
            "randomize_seed": randomize_seed,
        }
        where: BackendOptions = {
            "space": kwargs.get("space"),
            "token": kwargs.get("token") or kwargs.get("api_key"),
            "proxy": proxy,
            "timeout": kwargs.get("timeout", DEFAULT_TIMEOUT),
        }
        return _AwaitableStream(cls._responses(text, parameters, where))

    @classmethod
    async def _responses(
        cls, prompt: str, parameters: RequestParameters, where: BackendOptions
    ) -> AsyncIterator[ImageResponse]:
        request = GenerationRequest.build(prompt, **parameters)  # checked when iterated, as before
        generation = await shared_client(**where).generate(request)
        yield _image_response(generation)
