"""The request parameters, declared once.

Each row of :data:`PARAMETERS` gives one parameter its name, how a raw value is checked (one wording
for every entry point), its default, its range, the name FLUX pipelines, Spaces and Inference
Providers give it, its command-line flag and help, its label in image tools' metadata, and whether
prompt files, file metadata, the manifest and the history keep it. The request
(:class:`~flux_widget.GenerationRequest`), the widget's controls and their limits, history entries,
the shared command-line options, prompt-file fields and each backend's mapping are built from it.
Adding a parameter is a row here, a typed field on the request and on
:class:`~flux_widget.Generation`, and the backends that send it.
"""

from __future__ import annotations

import math
import numbers
import reprlib
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import InvalidRequestError

__all__ = [
    "BY_NAME",
    "DRAWING",
    "FLUX_DEFAULTS",
    "FLUX_PARAMETERS",
    "FLUX_RANGES",
    "MAX_PROMPT_CHARS",
    "MAX_REFERENCES",
    "MAX_SEED",
    "PARAMETERS",
    "RECORDED",
    "REFERENCE_PIXELS",
    "Parameter",
    "Range",
    "drawn_with",
    "fitted",
    "from_wire",
    "next_seed",
    "recorded",
    "shown_number",
    "to_wire",
    "whole_number",
]

#: The largest seed FLUX Spaces take (their slider's maximum); seeds past it wrap around to 0.
MAX_SEED = 2**31 - 1
#: The longest prompt, in characters, sent anywhere (FLUX's T5 encoder reads 512 tokens, about 2,000 characters).
MAX_PROMPT_CHARS = 10_000
#: The most reference images any FLUX model takes in one call (FLUX.2 [dev]: 6; [klein]: 4; Kontext: 1).
MAX_REFERENCES = 6
#: About how many pixels reference images are sent at (at most), and an image made from them without a
#: size has: the megapixel FLUX editing models work at (Kontext resizes to it; klein takes up to 1024²).
REFERENCE_PIXELS = 1024 * 1024


# ---------------------------------------------------------------------- checks, one wording each


def whole_number(name: str, value: object) -> int:
    """``value`` as an int if it is a whole number (``3``, ``3.0``, numpy ints); else refuse it."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        number = float(value)
        if math.isfinite(number) and number.is_integer():
            return int(number)
    raise InvalidRequestError(f"{name} must be a whole number, not {reprlib.repr(value)}.")


def shown_number(number: int) -> str:
    """A number for a message: itself, or its size when printing it would be absurd (or raise)."""
    if number.bit_length() <= 64:
        return str(number)
    return f"a number of about {int(number.bit_length() * 0.30103)} digits"


def _prompt(name: str, value: object) -> str:
    """Text that encodes as UTF-8, stripped, not empty; a lone surrogate is refused by position."""
    if not isinstance(value, str):
        raise InvalidRequestError(f"The {name} must be text, not {type(value).__name__}.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidRequestError(
            f"The {name} is not valid text: character {exc.start + 1} is half of a surrogate pair "
            "(broken bytes or a bad copy and paste). Retype it."
        ) from None
    text = value.strip()
    if not text:
        raise InvalidRequestError(f"The {name} is empty: describe the image you want.")
    if len(text) > MAX_PROMPT_CHARS:
        raise InvalidRequestError(
            f"The {name} is {len(text)} characters long; the most is {MAX_PROMPT_CHARS} "
            "(FLUX reads the first few hundred words)."
        )
    return text


def _pixels(name: str, value: object) -> int:
    size = whole_number(name, value)
    if size <= 0:
        raise InvalidRequestError(f"{name} must be a positive number of pixels, not {shown_number(size)}.")
    return size


def _steps(name: str, value: object) -> int:
    """A whole number; fewer than 1 means 1 (each backend then fits it to its own range)."""
    return max(1, whole_number(name, value))


def _seed(name: str, value: object) -> int:
    seed = whole_number(name, value)
    if not 0 <= seed <= MAX_SEED:
        raise InvalidRequestError(f"{name} must be between 0 and {MAX_SEED}, not {shown_number(seed)}.")
    return seed


def _flag(name: str, value: object) -> bool:
    """``value`` if it is a boolean (``True``, ``numpy.bool_``); ``"false"`` and numbers are refused."""
    if isinstance(value, bool):
        return value
    if getattr(getattr(value, "dtype", None), "kind", None) == "b":
        return bool(value)
    raise InvalidRequestError(f"{name} must be True or False, not {value!r}.")


def _positive(name: str, value: object) -> float:
    try:
        number = float(value) if isinstance(value, numbers.Real) and not isinstance(value, bool) else math.nan
    except OverflowError:  # an int too large for a float
        number = math.inf
    if math.isfinite(number) and number > 0:
        return number
    raise InvalidRequestError(f"{name} must be a positive number, not {reprlib.repr(value)}.")


def _references(name: str, value: object) -> tuple[Any, ...] | None:
    """One reference image or a list of them, as a tuple (``None`` or an empty list: none).

    Each image is read and checked whole by :func:`flux_widget._inputs.input_image` when the request
    is built (:meth:`~flux_widget.GenerationRequest.build`); here only its shape is checked.
    """
    if value is None:
        return None
    if isinstance(value, (str, bytes, bytearray, memoryview)) or not isinstance(value, (list, tuple)):
        value = [value]  # one image: a path, bytes, a PIL image, a Generation
    if len(value) > MAX_REFERENCES:
        raise InvalidRequestError(f"{name}: {len(value)} images; no FLUX model takes more than {MAX_REFERENCES}.")
    return tuple(value) or None


def _records(images: Any) -> list[dict[str, Any]] | None:
    """What a finished image keeps of its inputs: each one's SHA-256 and size (a record stays as it is)."""
    if not images:
        return None
    return [item if isinstance(item, dict) else item.record() for item in images]


def next_seed(seed: int, offset: int) -> int:
    """``seed + offset``, wrapping around past :data:`MAX_SEED` to 0 (the seeds of a batch or a prompt file)."""
    return (seed + offset) % (MAX_SEED + 1)


# ---------------------------------------------------------------------- ranges


@dataclass(frozen=True)
class Range:
    """A declared range: values are clamped to ``minimum``–``maximum`` and snapped to ``step``."""

    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None

    def fit(self, value: Any) -> Any:
        """``value`` clamped and snapped as a slider would; anything not a number is left as it is."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return value
        # Clamped first, in Python's exact arithmetic, so that 10**400 becomes the maximum, not an OverflowError.
        whole = isinstance(value, int) and (not self.step or float(self.step).is_integer())
        if self.maximum is not None and value > self.maximum:
            value = self.maximum
        if self.minimum is not None and value < self.minimum:
            value = self.minimum
        try:
            number = float(value)
        except OverflowError:  # no declared bound to clamp it to: the largest float there is
            number = sys.float_info.max if value > 0 else -sys.float_info.max
        if self.step and self.step > 0:  # half-way values go up, as a slider's Math.round does
            origin = self.minimum or 0.0
            number = origin + math.floor((number - origin) / self.step + 0.5) * self.step
        if self.maximum is not None:
            number = min(number, self.maximum)
        if self.minimum is not None:
            number = max(number, self.minimum)
        return round(number) if whole else round(number, 6)


# ---------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Parameter:
    """One request parameter: everything every part needs to know of it."""

    #: The keyword every entry point takes, and the request's field.
    name: str
    #: One line for the command line's help and the widget trait's.
    help: str
    #: Checks a raw value and returns it as the request keeps it; refuses with :class:`InvalidRequestError`.
    check: Callable[[str, object], Any]
    #: Used when the value is left out or ``None``; ``None`` here means "the backend's own default".
    default: Any = None
    #: Must be given (the prompt): ``None`` is refused rather than replaced by a default.
    required: bool = False
    #: What FLUX pipelines, Spaces and Inference Providers call it (``num_inference_steps``).
    wire: str = ""
    #: FLUX.1-schnell's range (what the public Space declares); the widget's control and a backend's fallback.
    range: Range | None = None
    #: The command line's and the magics' flag; ``None``: none of its own.
    flag: str | None = None
    #: What kind of value it is (``int``, ``float``, ``bool``, ``str``); a flag's text is read as this.
    kind: type = int
    #: Its name in the settings line image tools read (``Steps: 4``); empty: not written there by this name.
    label: str = ""
    #: Drawn with: a value sent to the model besides prompt and seed (sizes, steps, guidance).
    drawing: bool = False
    #: Sent only when given; a backend that does not take it refuses it rather than drop it.
    optional: bool = False
    #: Kept in what a finished image carries: ``Generation.parameters``, file metadata, the manifest, history.
    recorded: bool = True
    #: A field a prompt file's JSON line may set.
    in_file: bool = True
    #: A list of values (the reference images): its flag repeats; no slider, no widget control of its own.
    many: bool = False
    #: How a finished image keeps it (files, manifests and history record JSON, not the value itself).
    record: Callable[[Any], Any] | None = None

    @property
    def sent_as(self) -> str:
        """The name backends send it under."""
        return self.wire or self.name

    def checked(self, value: object) -> Any:
        """``value`` checked, or the default when it is ``None``."""
        if value is None and not self.required:
            return None if self.default is None else self.check(self.name, self.default)
        return self.check(self.name, value)


_SIZE = Range(256, 2048, 32)

PARAMETERS: tuple[Parameter, ...] = (
    Parameter("prompt", "the text to draw", _prompt, required=True, kind=str, in_file=False),
    Parameter(
        "width", "width in pixels, fitted to the backend's range (default: its own, 1024)", _pixels,
        range=_SIZE, flag="--width", drawing=True,
    ),
    Parameter(
        "height", "height in pixels, fitted to the backend's range (default: its own, 1024)", _pixels,
        range=_SIZE, flag="--height", drawing=True,
    ),
    Parameter(
        "steps", "denoising steps (default: the backend's own; 4 for FLUX.1-schnell, 28 for FLUX.1-dev)", _steps,
        wire="num_inference_steps", range=Range(1, 50, 1), flag="--steps", label="Steps", drawing=True,
    ),
    Parameter(
        "seed", "use this seed (default: a new random one each time)", _seed, default=0,
        range=Range(0, MAX_SEED, 1), flag="--seed", label="Seed",
    ),
    Parameter(
        "randomize_seed", "let the backend pick a new seed", _flag, default=True, kind=bool, recorded=False,
        in_file=False,
    ),
    Parameter(
        "guidance", "guidance scale, for models and Spaces that take it (FLUX.1-dev)", _positive,
        wire="guidance_scale", range=Range(0, 100, 0.1), flag="--guidance", kind=float, label="CFG scale",
        drawing=True, optional=True,
    ),
    Parameter(
        "images", "an image to edit or draw from: a path (repeat for several; - reads standard input)", _references,
        wire="image", flag="--image", kind=str, drawing=True, optional=True, many=True, record=_records,
    ),
)  # fmt: skip
BY_NAME = {parameter.name: parameter for parameter in PARAMETERS}
#: What is drawn with besides prompt and seed: a backend fits these to its ranges.
DRAWING = tuple(parameter for parameter in PARAMETERS if parameter.drawing)
#: What a finished image carries.
RECORDED = tuple(parameter for parameter in PARAMETERS if parameter.recorded)
#: FLUX.1-schnell's own defaults, by the name backends send, for a backend that declares none.
FLUX_DEFAULTS: dict[str, object] = {"width": 1024, "height": 1024, "num_inference_steps": 4}
#: The inputs a FLUX model takes, by the name backends send, for a backend that is not a Space (which names its own).
FLUX_PARAMETERS = frozenset(parameter.sent_as for parameter in PARAMETERS)
#: FLUX's own ranges, by the name backends send (what the schnell Space declares).
FLUX_RANGES: dict[str, Range] = {p.sent_as: p.range for p in DRAWING if p.range is not None}


def fitted(values: Mapping[str, object], ranges: Mapping[str, Range], defaults: Mapping[str, object]) -> dict[str, Any]:
    """The drawing parameters a backend sends, by request name: each value (or the backend's default) fitted.

    ``ranges`` and ``defaults`` are the backend's own, by the name it sends (``num_inference_steps``).
    An optional parameter left out stays ``None`` (the model's own default applies). With reference
    images and no size, the size is about 1024² with the first image's aspect ratio.
    """
    sent: dict[str, Any] = {}
    like = _size_like(values.get("images")) if values.get("width") is None and values.get("height") is None else {}
    for parameter in DRAWING:
        value = values.get(parameter.name)
        if value is None:
            value = like.get(parameter.name, defaults.get(parameter.sent_as))
        limits = ranges.get(parameter.sent_as)
        sent[parameter.name] = limits.fit(value) if value is not None and limits is not None else value
    return sent


def drawn_with(
    sent: Mapping[str, object], values: Mapping[str, object], defaults: Mapping[str, object]
) -> dict[str, Any]:
    """The drawing parameters an image was made with, by request name.

    What the backend sent (``sent``, by the names it sends, or by the request's name when a Space
    calls it so: Kontext's ``steps``) when it is a number of the parameter's kind; else the
    request's value (``values``); else the backend's default. An optional parameter that was not
    sent is ``None``. Reference images are kept as their records (SHA-256 and size).
    """
    made: dict[str, Any] = {}
    for parameter in DRAWING:
        if parameter.record is not None:
            made[parameter.name] = parameter.record(values.get(parameter.name))
            continue
        value: object = _number(sent.get(parameter.sent_as, sent.get(parameter.name)), whole=parameter.kind is int)
        if value is None and not parameter.optional:
            value = values.get(parameter.name)
            value = defaults.get(parameter.sent_as) if value is None else value
        made[parameter.name] = value
    return made


def _size_like(images: object) -> dict[str, int]:
    """About 1024² pixels with the first reference image's aspect ratio, by request name; ``{}`` without one."""
    first = images[0] if isinstance(images, tuple) and images else None
    width, height = getattr(first, "width", 0), getattr(first, "height", 0)
    if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
        return {}
    aspect = width / height
    wide = math.sqrt(REFERENCE_PIXELS * aspect)
    return {"width": round(wide), "height": round(wide / aspect)}


def recorded(values: Mapping[str, object]) -> dict[str, Any]:
    """The recorded parameters of ``values`` (a request's or a generation's), as lines and files keep them."""
    kept: dict[str, Any] = {}
    for parameter in RECORDED:
        if parameter.name == "prompt":
            continue
        value = values.get(parameter.name)
        kept[parameter.name] = parameter.record(value) if parameter.record is not None else value
    return kept


def _number(value: object, *, whole: bool) -> int | float | None:
    """``value`` if it is a finite number (a whole one when ``whole``: Spaces' sliders send floats), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if whole:
        return int(value) if isinstance(value, int) or (math.isfinite(value) and value.is_integer()) else None
    return float(value) if math.isfinite(value) else None


def to_wire(values: Mapping[str, object], names: Iterable[str] | None = None) -> dict[str, object]:
    """``values`` (by request name) under the names backends send, ``None`` left out; only ``names`` if given."""
    chosen = None if names is None else set(names)
    return {
        BY_NAME[name].sent_as: value
        for name, value in values.items()
        if value is not None and (chosen is None or name in chosen)
    }


def from_wire(sent: Mapping[str, object]) -> dict[str, object]:
    """What a backend sent (by the names it sends), back under the request's names."""
    return {parameter.name: sent[parameter.sent_as] for parameter in PARAMETERS if parameter.sent_as in sent}
