"""The Space's wire format, trusting nothing: JSON bodies, ``/config``, queue events, results.

Pure functions over bytes and parsed JSON; every malformed value becomes a :class:`FluxError` with
a message saying what was wrong, and every number is checked to be finite and in range.
"""

from __future__ import annotations

import json
import math
import re
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeGuard

from ..._parameters import PARAMETERS, Range, to_wire
from ...errors import GenerationError, InvalidRequestError, SpaceUnavailableError, error_from_space_message, safe_text
from ...types import (
    MAX_SEED,
    MAX_SIZE,
    MAX_STEPS,
    MIN_SIZE,
    SIZE_STEP,
    GenerationRequest,
    ProgressEvent,
    Queued,
    Started,
    Step,
    space_seed,
)

__all__ = [
    "API_NAME",
    "Parameter",
    "SpaceInfo",
    "completed_output",
    "file_data",
    "load_json",
    "name_parameters",
    "parse_config",
    "progress_event",
    "text_safe_url",
    "uploaded_path",
    "whole_or",
]

API_NAME = "infer"
#: A route prefix such as ``/gradio_api``: path characters only, so it cannot change the host.
_PREFIX = re.compile(r"^/?[A-Za-z0-9_.~-]+(?:/[A-Za-z0-9_.~-]+)*/?$")
#: The largest count or index taken from an event; anything larger is treated as missing.
_MAX_COUNT = 2**31 - 1
#: The longest wait, in seconds, taken from an event (a year); anything longer is treated as missing.
_MAX_SECONDS = 365 * 24 * 3600.0


_NUMERIC = frozenset({"slider", "number"})
#: The components that take reference images: one each for ``image``, several for a ``gallery``.
_IMAGE_INPUTS = frozenset({"image", "gallery"})
#: The most images a gallery input is sent (FLUX.2 [klein] takes 4).
GALLERY_IMAGES = 4


@dataclass(frozen=True)
class Parameter:
    """One input of the Space's endpoint: its name, its component, its default and declared range."""

    name: str
    component: str = ""
    default: object = None
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None

    def fit(self, value: object) -> object:
        """``value`` clamped to the declared range and snapped to its step, as the Space's slider does."""
        return Range(self.minimum, self.maximum, self.step).fit(value)


@dataclass(frozen=True)
class SpaceInfo:
    """What the Space tells about itself: where its routes are, and how to call its endpoint.

    ``parameters`` are the endpoint's inputs in order, by name (from ``/info``) with their ranges
    (from ``/config``); ``image_output`` and ``seed_output`` are positions in its outputs.
    """

    api_prefix: str
    fn_index: int
    trigger_id: int | None
    api_name: str = API_NAME
    parameters: tuple[Parameter, ...] = ()  # set from SCHNELL below when a Space says nothing
    image_output: int = 0
    seed_output: int | None = 1
    input_ids: tuple[int, ...] = ()
    outputs: tuple[tuple[int, str], ...] = ()

    def __post_init__(self) -> None:
        if not self.parameters:
            object.__setattr__(self, "parameters", SCHNELL)

    @property
    def parameter_names(self) -> frozenset[str]:
        """The names of the endpoint's inputs."""
        return frozenset(parameter.name for parameter in self.parameters)

    @property
    def max_images(self) -> int:
        """How many reference images the endpoint takes: one per image input, :data:`GALLERY_IMAGES` per gallery."""
        return sum(
            GALLERY_IMAGES if parameter.component == "gallery" else 1
            for parameter in self.parameters
            if parameter.component in _IMAGE_INPUTS
        )

    def check_images(self, count: int) -> None:
        """:class:`InvalidRequestError` (before anything is sent) if the endpoint cannot take ``count`` images."""
        if not count:
            return
        names = ", ".join(sorted(self.parameter_names))[:200]
        if not self.max_images:
            raise InvalidRequestError(
                f"This Space takes no images (its inputs: {names}): it draws from text only. Choose an editing "
                "Space such as black-forest-labs/FLUX.1-Kontext-Dev, or leave images unset."
            )
        if count > self.max_images:
            raise InvalidRequestError(f"This Space takes at most {self.max_images} image(s); {count} were given.")

    def inputs_for(self, request: GenerationRequest, files: Sequence[dict[str, Any]] = ()) -> list[object]:
        """The endpoint's ``data`` list for ``request``, filled by name and fitted to each declared range.

        A Space's input is found under the name FLUX pipelines give it (``num_inference_steps``) or
        the request's own (Kontext's ``steps``). An input this client does not know gets the Space's
        default. An optional parameter set for a Space without its input is an
        :class:`InvalidRequestError`, never silently dropped. ``files`` (the reference images,
        uploaded: Gradio file data) go to the image inputs in order, the rest to a gallery.
        """
        names = self.parameter_names
        if "prompt" not in names:
            raise GenerationError(
                f"The Space's '{self.api_name[:40]}' endpoint has no 'prompt' input "
                f"(it has: {', '.join(sorted(names))[:200]}); is it a text-to-image Space?"
            )
        given = {row.name: getattr(request, row.name) for row in PARAMETERS if not row.many}
        values = {**{name: value for name, value in given.items() if value is not None}, **to_wire(given)}
        for row in PARAMETERS:
            if row.optional and not row.many and row.sent_as in values and row.sent_as not in names:
                raise InvalidRequestError(
                    f"This Space has no {row.sent_as} input (it has: {', '.join(sorted(names))[:200]}): "
                    f"leave {row.name} unset for it."
                )
        self.check_images(len(files))
        waiting = list(files)
        data: list[object] = []
        for parameter in self.parameters:
            if parameter.component in _IMAGE_INPUTS:
                data.append(_image_value(parameter.component, waiting))
            elif values.get(parameter.name) is not None:
                data.append(parameter.fit(values[parameter.name]))
            else:
                data.append(parameter.default)
        return data

    def seed_from(self, output: list[Any], *, fallback: int) -> int:
        """The seed the Space reports in ``output``; a Space that reports none used ``fallback`` (the one sent)."""
        if self.seed_output is None or self.seed_output >= len(output):
            return fallback
        try:
            return space_seed(output[self.seed_output])
        except ValueError as exc:
            raise GenerationError(f"The Space's result has no usable seed ({exc}).") from None


#: The public FLUX.1-schnell Space's ``infer`` (PROTOCOL.md), for a Space that does not describe itself.
SCHNELL = (
    Parameter("prompt", "textbox"),
    Parameter("seed", "slider", 0, 0, MAX_SEED, 1),
    Parameter("randomize_seed", "checkbox", True),
    Parameter("width", "slider", 1024, MIN_SIZE, MAX_SIZE, SIZE_STEP),
    Parameter("height", "slider", 1024, MIN_SIZE, MAX_SIZE, SIZE_STEP),
    Parameter("num_inference_steps", "slider", 4, 1, MAX_STEPS, 1),
)
SCHNELL_PARAMETERS = tuple(parameter.name for parameter in SCHNELL)
_SCHNELL_BY_NAME = {parameter.name: parameter for parameter in SCHNELL}


def load_json(body: bytes) -> Any:
    """Parse JSON; ``NaN`` and ``Infinity`` become ``None``. Raises ``ValueError`` for anything malformed."""
    try:
        return json.loads(body, parse_constant=lambda _constant: None)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise ValueError(str(exc)[:100]) from None


#: Makes text a server sent fit for a message (plain, token removed, cut to the given length).
ServerText = Callable[[object, int], str]


def completed_output(message: dict[str, Any], server_text: ServerText) -> list[Any]:
    """The output list of a finished job's message, or the error the job finished with."""
    if message.get("msg") == "unexpected_error":
        raise GenerationError(f"The Space reported an unexpected error: {server_text(message.get('message'), 500)}")
    output = message.get("output")
    if not isinstance(output, dict):
        raise GenerationError(f"The Space sent a malformed result (output is {server_text(output, 200)}).")
    if not message.get("success", False):
        error = output.get("error")
        raise error_from_space_message(server_text(error, 5000) if error else error)
    data = output.get("data")
    if not data:
        raise GenerationError("The job was cancelled on the Space before it produced an image.")
    if not isinstance(data, list):
        raise GenerationError(f"The Space sent a malformed result: {server_text(data, 200)}")
    return data


#: What may stay as it is in a URL that goes into markdown, HTML attributes and logs: no quotes,
#: brackets, parentheses, angle brackets or white space (those are percent-encoded).
_URL_SAFE = "/:?=&%#@+,;~!$*-._"


def text_safe_url(url: str) -> str:
    """``url`` with every character that markup or a terminal would interpret percent-encoded."""
    return urllib.parse.quote(safe_text(url), safe=_URL_SAFE)


def whole_or(value: object, fallback: int) -> int:
    """``value`` as a whole number if it is one (a Space's sliders send floats), else ``fallback``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return fallback


def _malformed_config(base_url: str, what: str) -> SpaceUnavailableError:
    return SpaceUnavailableError(f"The Space at {base_url} sent a malformed /config ({what}); it cannot be called.")


def parse_config(config: object, base_url: str, api_name: str = API_NAME) -> SpaceInfo:
    """Find the endpoint ``api_name`` in a parsed ``/config``: route prefix, trigger, inputs and outputs.

    The inputs' names are not in ``/config``; :func:`name_parameters` adds them from ``/info``.
    """
    if not isinstance(config, dict) or not isinstance(config.get("dependencies"), list):
        raise SpaceUnavailableError(f"{base_url} does not look like a Gradio app (its /config has no dependencies).")
    dependencies = config["dependencies"]
    position, chosen = next(
        ((i, dep) for i, dep in enumerate(dependencies) if isinstance(dep, dict) and dep.get("api_name") == api_name),
        (None, None),
    )
    if chosen is None or position is None:
        names = sorted({str(dep.get("api_name"))[:40] for dep in dependencies if isinstance(dep, dict)} - {"None"})
        raise GenerationError(
            f"The Space at {base_url} has no '{api_name[:40]}' endpoint (it has: {', '.join(names[:20]) or 'none'}). "
            "Is it a FLUX Space? Another endpoint is chosen with endpoint='/name'."
        )
    fn_index = chosen.get("id", position)
    if fn_index is None:  # an old config without ids: the position is the fn_index
        fn_index = position
    if not _is_count(fn_index):
        raise _malformed_config(base_url, f"the id of '{api_name[:40]}' is {str(fn_index)[:40]!r}")
    prefix = config.get("api_prefix") or ""
    if not isinstance(prefix, str) or (prefix and not _PREFIX.match(prefix)):
        raise _malformed_config(base_url, f"api_prefix is {str(prefix)[:40]!r}")
    targets = chosen.get("targets")
    first = targets[0] if isinstance(targets, list) and targets else None
    trigger_id = first[0] if isinstance(first, list) and first else None
    info = SpaceInfo(
        api_prefix="/" + prefix.strip("/") if prefix.strip("/") else "",
        fn_index=fn_index,
        trigger_id=trigger_id if _is_count(trigger_id) else None,
        api_name=api_name,
    )
    inputs, outputs = chosen.get("inputs"), chosen.get("outputs")
    if not (_ids(inputs) and _ids(outputs)):
        return info  # a config that lists no components: the FLUX.1-schnell layout is assumed
    components = {
        component["id"]: component
        for component in config.get("components") or []
        if isinstance(component, dict) and _is_count(component.get("id"))
    }
    kinds = [(output, str(components.get(output, {}).get("type", ""))) for output in outputs]
    image = next((i for i, (_, kind) in enumerate(kinds) if kind == "image"), None)
    if image is None:
        raise GenerationError(f"The Space's '{api_name[:40]}' endpoint returns no image; is it a text-to-image Space?")
    return replace(
        info,
        parameters=tuple(_unnamed(components.get(component)) for component in inputs),
        input_ids=tuple(inputs),
        outputs=tuple(kinds),
        image_output=image,
        seed_output=None,
    )


def name_parameters(info: SpaceInfo, api_info: object) -> SpaceInfo:
    """``info`` with its inputs named from a parsed ``/info`` (``None`` when the Space did not say).

    A Space that names nothing is taken to have FLUX.1-schnell's ``infer`` if it has six inputs.
    """
    endpoint = None
    if isinstance(api_info, dict) and isinstance(api_info.get("named_endpoints"), dict):
        endpoint = api_info["named_endpoints"].get(f"/{info.api_name}")
    described = endpoint.get("parameters") if isinstance(endpoint, dict) else None
    described = described if isinstance(described, list) else []
    names = [str(item["parameter_name"]) for item in described if isinstance(item, dict) and item.get("parameter_name")]
    if not names or len(names) != len(described):
        if len(info.parameters) != len(SCHNELL_PARAMETERS):
            raise GenerationError(
                f"The Space does not name the {len(info.parameters)} inputs of '{info.api_name[:40]}' (its /info is "
                "missing or malformed), so they cannot be filled by name."
            )
        names = list(SCHNELL_PARAMETERS)
    if info.input_ids and len(names) != len(info.parameters):
        raise GenerationError(
            f"The Space's /info names {len(names)} inputs of '{info.api_name[:40]}' but its /config has "
            f"{len(info.parameters)}; it cannot be called safely."
        )
    if not info.input_ids:  # /config listed no components: ranges are known only for the schnell layout
        known = SCHNELL if tuple(names) == SCHNELL_PARAMETERS else tuple(Parameter("") for _ in names)
    else:
        known = info.parameters
    parameters = tuple(
        _sane(
            replace(
                parameter,
                name=name[:100],
                default=_default(parameter, described, position),
                component=parameter.component or _component(described, position),
            )
        )
        for position, (parameter, name) in enumerate(zip(known, names, strict=True))
    )
    return replace(info, parameters=parameters, seed_output=_seed_output(info, names))


def _sane(parameter: Parameter) -> Parameter:
    """``parameter`` with FLUX's own range and default where the Space declares an impossible one.

    A size or step count whose range is empty, upside down or not positive (``[0, 0]``, ``[-5, -1]``),
    a step of zero or less, or a default outside the range would make every image fail or be empty.
    """
    own = _SCHNELL_BY_NAME.get(parameter.name)
    if own is None or own.minimum is None or own.maximum is None:
        return parameter
    low, high, step = parameter.minimum, parameter.maximum, parameter.step
    positive = parameter.name != "seed"
    broken = (
        (low is not None and high is not None and low > high)
        or (positive and high is not None and high <= 0)
        or (step is not None and step <= 0)
    )
    if broken:
        parameter = replace(parameter, minimum=own.minimum, maximum=own.maximum, step=own.step)
    default = parameter.default
    if isinstance(default, (int, float)) and not isinstance(default, bool):
        inside = (parameter.minimum is None or default >= parameter.minimum) and (
            parameter.maximum is None or default <= parameter.maximum
        )
        if not inside or not math.isfinite(default):
            parameter = replace(parameter, default=own.default)
    return parameter


def file_data(path: str, name: str) -> dict[str, Any]:
    """Gradio's description of a file uploaded to ``path`` (what ``gradio_client.handle_file`` sends, uploaded)."""
    return {"path": path, "orig_name": name, "meta": {"_type": "gradio.FileData"}}


def uploaded_path(answer: object) -> str:
    """The server path in the answer to an upload (a list of one path); :class:`GenerationError` if malformed."""
    if isinstance(answer, list) and len(answer) == 1 and isinstance(answer[0], str) and 0 < len(answer[0]) <= 4096:
        return answer[0]
    raise GenerationError(f"The Space's answer to an upload is malformed: {safe_text(str(answer)[:200])!r}")


def _image_value(component: str, waiting: list[dict[str, Any]]) -> object:
    """What an image input is sent: the next file (an ``image``), or the next few as a ``gallery``; None if none."""
    if component == "gallery":
        taken, waiting[:] = waiting[:GALLERY_IMAGES], waiting[GALLERY_IMAGES:]
        return [{"image": item, "caption": None} for item in taken] or None
    return waiting.pop(0) if waiting else None


def _unnamed(component: object) -> Parameter:
    props = component.get("props") if isinstance(component, dict) else None
    props = props if isinstance(props, dict) else {}
    return Parameter(
        name="",
        component=str(component.get("type", "")) if isinstance(component, dict) else "",
        default=props.get("value"),
        minimum=_finite_or_none(props.get("minimum")),
        maximum=_finite_or_none(props.get("maximum")),
        step=_finite_or_none(props.get("step")),
    )


def _component(described: list[Any], position: int) -> str:
    """The component ``/info`` names for an input (``image``), lower case; empty when it names none."""
    item = described[position] if position < len(described) else None
    component = item.get("component") if isinstance(item, dict) else None
    return component.lower()[:40] if isinstance(component, str) else ""


def _default(parameter: Parameter, described: list[Any], position: int) -> object:
    if parameter.default is not None or position >= len(described):
        return parameter.default
    item = described[position]
    return item.get("parameter_default") if isinstance(item, dict) else None


def _seed_output(info: SpaceInfo, names: list[str]) -> int | None:
    """The output that reports the seed: the seed input's own component, else the first number."""
    if not info.outputs:
        return 1 if "seed" in names else None
    seed_component = info.input_ids[names.index("seed")] if "seed" in names and info.input_ids else None
    for position, (component, _) in enumerate(info.outputs):
        if component == seed_component:
            return position
    return next((position for position, (_, kind) in enumerate(info.outputs) if kind in _NUMERIC), None)


def _ids(value: object) -> TypeGuard[list[int]]:
    return isinstance(value, list) and bool(value) and all(_is_count(item) for item in value)


def _finite_or_none(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def progress_event(message: dict[str, Any]) -> ProgressEvent | None:
    """The progress event a queue message carries (``estimation``, ``process_starts``, ``progress``), or ``None``."""
    kind = message.get("msg")
    if kind == "estimation":
        return Queued(
            rank=_count_or(message.get("rank"), 0),
            queue_size=_count_or(message.get("queue_size"), None),
            eta=_seconds_or_none(message.get("rank_eta")),
        )
    if kind == "process_starts":
        return Started(eta=_seconds_or_none(message.get("eta")))
    if kind == "progress":
        units = message.get("progress_data")
        unit = units[-1] if isinstance(units, list) and units and isinstance(units[-1], dict) else None
        if unit is None:
            return None
        return Step(
            index=_count_or(unit.get("index"), 0),
            length=_count_or(unit.get("length"), None) or None,
            unit=_text_or_none(unit.get("unit")),
            desc=_text_or_none(unit.get("desc")),
        )
    return None


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_COUNT


def _count_or(value: object, default: int | None) -> Any:
    """A whole, finite, non-negative number within range as an ``int``; anything else gives ``default``."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    return value if _is_count(value) else default


def _seconds_or_none(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value) if abs(value) <= _MAX_SECONDS else math.nan
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    return None


def _text_or_none(value: object) -> str | None:
    return safe_text(value[:100]) if isinstance(value, str) else None
