"""The vocabulary: validated request parameters, progress events and a finished generation."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from ._parameters import BY_NAME, MAX_SEED, PARAMETERS, RECORDED, Range, shown_number, whole_number
from .errors import InvalidRequestError

if TYPE_CHECKING:
    from PIL import Image

    from ._inputs import InputImage

__all__ = [
    "MAX_SEED",
    "MAX_SIZE",
    "MAX_STEPS",
    "MIN_SIZE",
    "SIZE_STEP",
    "DrawingParameters",
    "Generation",
    "GenerationRequest",
    "Loading",
    "ProgressCallback",
    "ProgressEvent",
    "Queued",
    "RequestParameters",
    "Started",
    "Step",
    "notify",
    "snap_size",
    "space_seed",
]

_SIZE_RANGE = BY_NAME["width"].range or Range()
_STEPS_RANGE = BY_NAME["steps"].range or Range()
#: FLUX.1-schnell's ranges (the public Space's sliders), as the parameter table declares them.
MIN_SIZE = int(_SIZE_RANGE.minimum or 0)
MAX_SIZE = int(_SIZE_RANGE.maximum or 0)
SIZE_STEP = int(_SIZE_RANGE.step or 1)
MAX_STEPS = int(_STEPS_RANGE.maximum or 0)


def snap_size(name: str, value: object) -> int:
    """Snap a width or height to the nearest multiple of 32 within 256–2048, as the Space's sliders do."""
    return int(_SIZE_RANGE.fit(BY_NAME[name].check(name, value)))


def space_seed(value: object) -> int:
    """A seed a Space reported: a whole number within 0–2147483647, else ``ValueError``."""
    try:
        seed = whole_number("seed", value)
    except InvalidRequestError:
        raise ValueError(f"not a whole number: {str(value)[:40]!r}") from None
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"{shown_number(seed)} is outside 0–{MAX_SEED}")
    return seed


class DrawingParameters(TypedDict, total=False):
    """What an image is drawn with besides its prompt and seed, as every public entry point takes it.

    ``width`` and ``height`` in pixels and ``steps``: left out (or ``None``), the backend's own
    default (FLUX.1-schnell's: 1024×1024, 4 steps; a FLUX.1-dev Space's: 28 steps); ``guidance``
    (None: the model's default; only for backends that take ``guidance_scale``); ``images``, reference
    images to edit or draw from (paths, bytes, PIL images or Generations; one or a list), for
    backends that take them. The parameter table (``flux_widget._parameters``) declares each one's
    checks and ranges.
    """

    width: int | None
    height: int | None
    steps: int | None
    guidance: float | None
    images: Sequence[object] | object | None


class RequestParameters(DrawingParameters, total=False):
    """The parameters of one image besides its prompt: :class:`DrawingParameters`, ``seed`` (0) and
    ``randomize_seed`` (True: the backend picks a new seed)."""

    seed: int
    randomize_seed: bool


@dataclass(frozen=True)
class GenerationRequest:
    """Parameters of one generation, validated before anything is sent.

    Build it with :meth:`build`, which strips the prompt, checks sizes are positive whole numbers
    (``None``: the backend's own default, as for steps), steps at least 1, the seed within
    0–2147483647 and ``guidance`` (optional) a positive number. Each backend then fits the values
    to its own declared ranges (FLUX.1-schnell's: sizes snap to multiples of 32 within 256–2048,
    steps 1–50). Every entry point builds one and hands it to a backend.
    """

    prompt: str
    width: int | None = None  # None: the backend's own default
    height: int | None = None
    steps: int | None = None
    seed: int = 0
    randomize_seed: bool = True
    guidance: float | None = None
    #: Reference images, each read and checked whole (:class:`~flux_widget._inputs.InputImage`); None: none.
    images: tuple[InputImage, ...] | None = field(default=None, repr=False)

    @classmethod
    def build(cls, prompt: object, **parameters: Unpack[RequestParameters]) -> GenerationRequest:
        """Validate raw values (see :class:`RequestParameters`) and return the request.

        Reference images are read and checked here, before anything is sent.
        """
        unknown = set(parameters) - set(RequestParameters.__annotations__)
        if unknown:
            raise TypeError(f"unexpected keyword arguments: {sorted(unknown)}")
        given: dict[str, object] = {**parameters, "prompt": prompt}
        values = {parameter.name: parameter.checked(given.get(parameter.name)) for parameter in PARAMETERS}
        if values["images"]:
            from ._inputs import input_image  # Pillow, only for a request that has images

            values["images"] = tuple(input_image(item, n) for n, item in enumerate(values["images"], start=1))
        return cls(**values)

    @classmethod
    def of(cls, prompt: str | GenerationRequest, **parameters: Unpack[RequestParameters]) -> GenerationRequest:
        """``prompt`` itself if it is already a request (then no parameters may be given), else :meth:`build`."""
        if not isinstance(prompt, GenerationRequest):
            return cls.build(prompt, **parameters)
        if parameters:
            raise TypeError("give either a GenerationRequest or a prompt with parameters, not both")
        return prompt

    def with_seed(self, seed: int, randomize: bool) -> GenerationRequest:
        """The same request with another seed (one image of a batch)."""
        return replace(self, seed=seed, randomize_seed=randomize)


@dataclass(frozen=True)
class Queued:
    """The job waits in the Space's queue: ``rank`` jobs are ahead (0 = next), ``eta`` seconds to wait."""

    rank: int
    queue_size: int | None = None
    eta: float | None = None


@dataclass(frozen=True)
class Started:
    """The Space started working on the job; ``eta`` is its estimate of the run time in seconds."""

    eta: float | None = None


@dataclass(frozen=True)
class Step:
    """Denoising step ``index`` of ``length`` is done (``index`` counts from 0)."""

    index: int
    length: int | None = None
    unit: str | None = None
    desc: str | None = None

    @property
    def fraction(self) -> float | None:
        """How far the job is, from 0 to 1, when the Space said how many steps there are."""
        if not self.length:
            return None
        return min(1.0, max(0.0, self.index / self.length))


@dataclass(frozen=True)
class Loading:
    """The model is being made ready on this machine (the local backend): ``what`` it is doing
    ("Downloading model", "Loading model"), with ``done`` of ``total`` bytes when known."""

    what: str
    done: int | None = None
    total: int | None = None


ProgressEvent = Queued | Started | Step | Loading
#: What ``on_progress`` may be: a function or a coroutine function taking one event.
ProgressCallback = Callable[[ProgressEvent], "Awaitable[None] | None"]


async def notify(on_progress: ProgressCallback | None, event: ProgressEvent) -> None:
    """Give ``event`` to ``on_progress`` (a function or coroutine function), if there is one."""
    if on_progress is not None:
        outcome = on_progress(event)
        if inspect.isawaitable(outcome):
            await outcome


@dataclass(frozen=True)
class Generation:
    """A finished generation: the image's bytes and the parameters that reproduce it.

    ``seed`` is the seed the Space actually used (it differs from the one sent when the seed was
    randomized): reuse it with ``randomize_seed=False`` to get the same image again.
    """

    prompt: str
    seed: int
    width: int
    height: int
    steps: int
    url: str
    image_bytes: bytes = field(repr=False)
    mime_type: str
    elapsed: float
    guidance: float | None = None
    #: What made it: the Space (``owner/name`` or its URL), the inference model, or the local model.
    model: str = ""
    #: The reference images it was made from: each one's ``sha256``, ``width`` and ``height``.
    images: list[dict[str, Any]] | None = None
    #: Those images themselves, checked, when this process made it from them (the widget's Reuse
    #: puts them back into its tray); empty otherwise. Not part of its identity nor of its files.
    inputs: tuple[InputImage, ...] = field(default=(), repr=False, compare=False)

    @property
    def parameters(self) -> dict[str, Any]:
        """The recorded parameters as a plain dict (what file metadata and history entries carry), those used."""
        values = ((parameter.name, getattr(self, parameter.name)) for parameter in RECORDED)
        return {name: value for name, value in values if value is not None}

    @property
    def metadata(self) -> dict[str, Any]:
        """What a saved file carries: :attr:`parameters`, and the ``model`` that made it when known."""
        return {**self.parameters, **({"model": self.model} if self.model else {})}

    @property
    def image(self) -> Image.Image:
        """The image as a ``PIL.Image``."""
        from . import _images as images  # images depends on nothing here; imported late to keep types light

        return images.decode(self.image_bytes)

    @property
    def file_bytes(self) -> bytes:
        """The image's own bytes (its format, not re-encoded) with :attr:`metadata` inside: what the
        widget shows and every Download gives. The bytes as they came for a format that takes none."""
        from . import _images as images
        from ._metadata import with_metadata

        try:
            return with_metadata(self.image_bytes, self.metadata, images.check_image(self.image_bytes)[1])
        except ValueError:
            return self.image_bytes

    def save(self, path: str | Path) -> Path:
        """Write the image in the format its suffix names, with the parameters in its metadata.

        A suffix that matches the Space's own format (``.webp``) writes the original bytes, the
        metadata muxed in without re-encoding; ``.png``, ``.jpg`` and others convert.
        """
        from . import _images as images

        return images.save(self.image_bytes, path, self.metadata)

    def __repr__(self) -> str:
        # Short: where it is shown (``%flux``), the caption above already says prompt and seed.
        prompt = self.prompt if len(self.prompt) <= 40 else f"{self.prompt[:39]}…"
        return f"<Generation {prompt!r} seed={self.seed} {self.width}×{self.height} {self.elapsed:.1f} s>"
