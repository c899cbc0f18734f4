"""The vocabulary: validated request parameters, progress events and a finished generation."""

from __future__ import annotations

import inspect
import math
import numbers
import reprlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, Unpack

from .errors import InvalidRequestError

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "MAX_SEED",
    "MAX_SIZE",
    "MAX_STEPS",
    "MIN_SIZE",
    "SIZE_STEP",
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

MIN_SIZE = 256
MAX_SIZE = 2048
SIZE_STEP = 32
MAX_STEPS = 50
MAX_SEED = 2**31 - 1


def _whole_number(name: str, value: object) -> int:
    """``value`` as an int if it is a whole number (``3``, ``3.0``, numpy ints); else refuse it."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        number = float(value)
        if math.isfinite(number) and number.is_integer():
            return int(number)
    raise InvalidRequestError(f"{name} must be a whole number, not {reprlib.repr(value)}.")


def _shown(number: int) -> str:
    """A number for a message: itself, or its size when printing it would be absurd (or raise)."""
    if number.bit_length() <= 64:
        return str(number)
    return f"a number of about {int(number.bit_length() * 0.30103)} digits"


def snap_size(name: str, value: object) -> int:
    """Snap a width or height to the nearest multiple of 32 within 256–2048, as the Space's sliders do."""
    size = _pixels(name, value)
    snapped = (size + SIZE_STEP // 2) // SIZE_STEP * SIZE_STEP  # whole-number arithmetic: 10**400 cannot overflow
    return min(MAX_SIZE, max(MIN_SIZE, snapped))


def _pixels(name: str, value: object) -> int:
    size = _whole_number(name, value)
    if size <= 0:
        raise InvalidRequestError(f"{name} must be a positive number of pixels, not {_shown(size)}.")
    return size


def _positive(name: str, value: object) -> float:
    try:
        number = float(value) if isinstance(value, numbers.Real) and not isinstance(value, bool) else math.nan
    except OverflowError:  # an int too large for a float
        number = math.inf
    if math.isfinite(number) and number > 0:
        return number
    raise InvalidRequestError(f"{name} must be a positive number, not {reprlib.repr(value)}.")


def _flag(name: str, value: object) -> bool:
    """``value`` if it is a boolean (``True``, ``numpy.bool_``); ``"false"`` and numbers are refused."""
    if isinstance(value, bool):
        return value
    if getattr(getattr(value, "dtype", None), "kind", None) == "b":
        return bool(value)
    raise InvalidRequestError(f"{name} must be True or False, not {value!r}.")


def _valid_text(prompt: str) -> str:
    """``prompt`` if it encodes as UTF-8; a lone surrogate (from broken bytes) is refused by position."""
    try:
        prompt.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidRequestError(
            f"The prompt is not valid text: character {exc.start + 1} is half of a surrogate pair "
            "(broken bytes or a bad copy and paste). Retype it."
        ) from None
    return prompt


def space_seed(value: object) -> int:
    """A seed a Space reported: a whole number within 0–2147483647, else ``ValueError``."""
    try:
        seed = _whole_number("seed", value)
    except InvalidRequestError:
        raise ValueError(f"not a whole number: {str(value)[:40]!r}") from None
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"{_shown(seed)} is outside 0–{MAX_SEED}")
    return seed


class RequestParameters(TypedDict, total=False):
    """The parameters of one image besides its prompt, as every public entry point takes them.

    ``width`` and ``height`` in pixels and ``steps``: left out (or ``None``), the Space's own
    declared default (FLUX.1-schnell's: 1024×1024, 4 steps; a FLUX.1-dev Space's: 28 steps);
    ``seed`` (0), ``randomize_seed`` (True: the Space picks a new seed) and ``guidance`` (None: the
    Space's default; only for Spaces that take ``guidance_scale``).
    """

    width: int | None
    height: int | None
    steps: int | None
    seed: int
    randomize_seed: bool
    guidance: float | None


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

    @classmethod
    def build(cls, prompt: object, **parameters: Unpack[RequestParameters]) -> GenerationRequest:
        """Validate raw values (see :class:`RequestParameters`) and return the request."""
        unknown = set(parameters) - set(RequestParameters.__annotations__)
        if unknown:
            raise TypeError(f"unexpected keyword arguments: {sorted(unknown)}")
        if not isinstance(prompt, str):
            raise InvalidRequestError(f"The prompt must be text, not {type(prompt).__name__}.")
        text = _valid_text(prompt).strip()
        if not text:
            raise InvalidRequestError("The prompt is empty: describe the image you want.")
        seed = parameters.get("seed", 0)
        seed_value = _whole_number("seed", 0 if seed is None else seed)
        if not 0 <= seed_value <= MAX_SEED:
            raise InvalidRequestError(f"seed must be between 0 and {MAX_SEED}, not {_shown(seed_value)}.")
        guidance = parameters.get("guidance")
        width, height, steps = parameters.get("width"), parameters.get("height"), parameters.get("steps")
        return cls(
            prompt=text,
            width=None if width is None else _pixels("width", width),
            height=None if height is None else _pixels("height", height),
            steps=None if steps is None else max(1, _whole_number("steps", steps)),
            seed=seed_value,
            randomize_seed=_flag("randomize_seed", parameters.get("randomize_seed", True)),
            guidance=None if guidance is None else _positive("guidance", guidance),
        )

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

    @property
    def parameters(self) -> dict[str, str | int | float]:
        """The parameters as a plain dict (what file metadata and history entries carry); ``guidance`` when used."""
        parameters: dict[str, str | int | float] = {
            "prompt": self.prompt,
            "seed": self.seed,
            "width": self.width,
            "height": self.height,
            "steps": self.steps,
        }
        if self.guidance is not None:
            parameters["guidance"] = self.guidance
        return parameters

    @property
    def metadata(self) -> dict[str, str | int | float]:
        """What a saved file carries: :attr:`parameters`, and the ``model`` that made it when known."""
        return {**self.parameters, **({"model": self.model} if self.model else {})}

    @property
    def image(self) -> Image.Image:
        """The image as a ``PIL.Image``."""
        from . import _images as images  # images depends on nothing here; imported late to keep types light

        return images.decode(self.image_bytes)

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
