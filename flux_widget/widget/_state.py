"""The widget's synced state: every trait the frontend reads or sets, their validators, and the contract.

:class:`WidgetState` declares the traits (the browser's whole view of the widget) and keeps them
valid; :class:`~flux_widget.FluxWidget` adds what the widget does. :func:`frontend_contract` is the one
source of the limits and names the JS uses, sent as the read-only ``limits`` trait.
"""

from __future__ import annotations

import base64
import math
import reprlib
import types
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets
from ipywidgets import widget_serialization

from .. import _images as images
from .._parameters import BY_NAME, DRAWING, FLUX_DEFAULTS, PARAMETERS, Parameter, Range
from ..backends._count import MAX_COUNT
from ..errors import InvalidRequestError
from ..types import MAX_SEED, MAX_SIZE, MAX_STEPS, MIN_SIZE, SIZE_STEP
from ._history import ENTRY_FIELDS, HistoryEntry
from ._messages import index_of

if TYPE_CHECKING:
    from ..types import Generation

__all__ = ["CONTROL_TYPES", "WidgetState", "control_values", "frontend_contract"]

#: The shipped frontend.
_STATIC = Path(__file__).parent.parent / "static"
_STATUSES = ("idle", "queued", "running", "error")
#: The request parameters with a control of their own (reference images come as files, not as a control).
CONTROLLED = tuple(parameter for parameter in PARAMETERS if not parameter.many)
#: The controls a generate request may set, with the type each must have: a request parameter's
#: (an optional one may also be None; a float one may be a whole number), and ``count``.
CONTROL_TYPES: dict[str, tuple[type, ...]] = {
    **{
        parameter.name: (
            *((int, float) if parameter.kind is float else (parameter.kind,)),
            *((type(None),) if parameter.optional else ()),
        )
        for parameter in CONTROLLED
    },
    "count": (int,),
}


def _trait(parameter: Parameter) -> traitlets.TraitType[Any, Any]:
    """The synced trait of one request parameter: its kind, and the FLUX.1-schnell default (None if optional)."""
    default: Any = parameter.default if parameter.default is not None else FLUX_DEFAULTS.get(parameter.sent_as)
    help = f"{parameter.help[0].upper()}{parameter.help[1:]}."
    if parameter.kind is str:
        return traitlets.Unicode(default or "", help=help).tag(sync=True)
    if parameter.kind is bool:
        return traitlets.Bool(bool(default), help=help).tag(sync=True)
    number = traitlets.Float if parameter.kind is float else traitlets.Int
    if parameter.optional:
        return number(default, allow_none=True, help=help).tag(sync=True)
    return number(default, help=help).tag(sync=True)


def _controls(namespace: dict[str, Any]) -> None:
    """One synced trait per request parameter, from the parameter table (``prompt``, ``width``, …)."""
    namespace.update({parameter.name: _trait(parameter) for parameter in CONTROLLED})
    namespace["count"] = traitlets.Int(1, help=f"Images per Generate, 1–{MAX_COUNT}.").tag(sync=True)


#: The widget's controls as traits, each built from its row of the parameter table.
_Controls = types.new_class("_Controls", (anywidget.AnyWidget,), exec_body=_controls)


def frontend_contract(ranges: Mapping[str, Range] | None = None) -> dict[str, Any]:
    """What the frontend must agree with Python on: limits, control names, entry fields, file extensions.

    Sent once as the read-only ``limits`` trait, so the JS holds no copy of its own. The sizes and
    steps are the backend's own ``ranges`` (by the name it sends them under) where it declares
    them, else FLUX.1-schnell's. ``optional`` lists the optional request parameters: the JS makes a
    number field for each, shown when the backend takes its ``wire`` input.
    """
    size = (ranges or {}).get("width") or BY_NAME["width"].range or Range()
    steps = (ranges or {}).get("num_inference_steps") or BY_NAME["steps"].range or Range()
    return {
        "optional": [
            {
                "name": parameter.name,
                "label": parameter.name.capitalize(),
                "wire": parameter.sent_as,
                "min": parameter.range.minimum,
                "max": parameter.range.maximum,
                "step": parameter.range.step,
            }
            for parameter in PARAMETERS
            if parameter.optional and parameter.range  # an optional parameter is a number field with its range
        ],
        "min_size": int(size.minimum or MIN_SIZE),
        "max_size": int(size.maximum or MAX_SIZE),
        "size_step": int(size.step or SIZE_STEP),
        "max_steps": int(steps.maximum or MAX_STEPS),
        "max_seed": MAX_SEED,
        "max_count": MAX_COUNT,
        "controls": list(CONTROL_TYPES),
        "entry_fields": list(ENTRY_FIELDS),
        "extensions": {mime: suffix.lstrip(".") for mime, suffix in images.SUFFIX_FOR_MIME.items()},
    }


def control_values(params: dict[str, Any]) -> dict[str, Any]:
    """The well-typed control values a generate message carries; anything else is dropped."""
    return {
        name: value
        for name, value in params.items()
        if name in CONTROL_TYPES
        and isinstance(value, CONTROL_TYPES[name])
        and (bool in CONTROL_TYPES[name] or not isinstance(value, bool))
        and (not isinstance(value, float) or math.isfinite(value))
    }


class WidgetState(_Controls):  # type: ignore[misc, valid-type]
    """The traits of :class:`~flux_widget.FluxWidget`, each synced with the browser, kept valid on every set.

    The controls (``prompt``, ``width``, ``height``, ``steps``, ``seed``, ``randomize_seed``, …)
    come from the parameter table, one trait a row, and ``count``.
    """

    # Built from js/src by esbuild (npm run build in js/) and committed: pip install needs no Node.
    _esm = _STATIC / "widget.js"
    _css = _STATIC / "widget.css"

    limits = traitlets.Dict(
        default_value=frontend_contract(), read_only=True, help="Limits and names the frontend shares with Python."
    ).tag(sync=True)
    source = traitlets.Unicode("", help="Where the images come from: the Space's URL or the model.").tag(sync=True)
    space_parameters = traitlets.List(
        traitlets.Unicode(), help="The names of the Space's inputs, once discovered (the frontend shows what applies)."
    ).tag(sync=True)

    status = traitlets.Enum(_STATUSES, "idle", help="idle, queued, running or error.").tag(sync=True)
    progress = traitlets.Float(0.0, help="Fraction of denoising steps done, 0–1.").tag(sync=True)
    step = traitlets.Int(0, help="Denoising steps done.").tag(sync=True)
    total_steps = traitlets.Int(0, help="Denoising steps in the running job.").tag(sync=True)
    queue_position = traitlets.Int(None, allow_none=True, help="Jobs ahead in the queue.").tag(sync=True)
    eta = traitlets.Float(None, allow_none=True, help="The Space's estimate in seconds.").tag(sync=True)
    error = traitlets.Unicode("", help="The last error, as plain text.").tag(sync=True)
    detail = traitlets.Unicode("", help="What the backend does before the queue or the steps ('Loading model').").tag(
        sync=True
    )
    retry_at = traitlets.Float(
        None, allow_none=True, help="After a quota error: when to try again, in seconds since the epoch."
    ).tag(sync=True)
    batch_size = traitlets.Int(0, help="Images in the running or last batch (0: the last run made one).").tag(sync=True)
    batch_done = traitlets.Int(0, help="Images of the batch that have arrived.").tag(sync=True)
    batch = traitlets.List(
        traitlets.Dict(), help="The batch's images so far: ``{'slot': 1-based place, 'index': history index}``."
    ).tag(sync=True)

    image = traitlets.Bytes(b"", help="The image shown (travels as a binary buffer).").tag(sync=True)
    image_type = traitlets.Unicode("", help="MIME type of ``image``.").tag(sync=True)
    current = traitlets.Dict(help="Parameters of the image shown, with its history index.").tag(sync=True)
    history = traitlets.List(
        traitlets.Instance(HistoryEntry), help="One entry per generation, newest last (each a model of its own)."
    ).tag(sync=True, **widget_serialization)

    # ------------------------------------------------------------------ keeping controls valid

    # Validators run before a value is stored: a value refused here leaves the old one in place.

    @traitlets.validate(*(parameter.name for parameter in PARAMETERS if parameter.range and parameter.kind is int))
    def _fit_to_range(self, proposal: dict[str, Any]) -> int:
        # Clamped and snapped as the backend does: its own ranges where it declares them (a local
        # pipeline's 16–4096), else FLUX.1-schnell's (sizes 256–2048, step 32; steps 1–50).
        parameter = BY_NAME[proposal["trait"].name]
        limits = getattr(self, "_ranges", {}).get(parameter.sent_as) or parameter.range
        return int(limits.fit(proposal["value"])) if limits else int(proposal["value"])

    @traitlets.validate("count")
    def _clamp_count(self, proposal: dict[str, Any]) -> int:
        return min(MAX_COUNT, max(1, proposal["value"]))

    @traitlets.validate("batch")
    def _whole_tiles(self, proposal: dict[str, Any]) -> list[dict[str, int]]:
        # A view (or an edited notebook) may set anything: tiles without a whole slot and index are dropped.
        tiles = [tile for tile in proposal["value"] if isinstance(tile, dict)]
        return [tile for tile in tiles if index_of(tile) is not None and index_of(tile, "slot") is not None]

    @traitlets.validate("current")
    def _current_index(self, proposal: dict[str, Any]) -> dict[str, Any]:
        value = dict(proposal["value"])
        if "index" in value and index_of(value) is None:
            value["index"] = None  # not an entry of the history
        return value

    @traitlets.validate("eta")
    def _finite_eta(self, proposal: dict[str, Any]) -> float | None:
        # NaN or Infinity would reach the browser as invalid JSON.
        value = proposal["value"]
        return value if value is None or math.isfinite(value) else None

    # ------------------------------------------------------------------ changes that always go together

    def _set_traits(self, values: dict[str, Any]) -> None:
        with self.hold_sync():
            for name, value in values.items():
                setattr(self, name, value)

    def _show_image(self, generation: Generation, index: int) -> None:
        tile = next((tile for tile in self.batch if tile["index"] == index), None)
        place = {"slot": tile["slot"], "of": self.batch_size} if tile else {}
        with self.hold_sync():
            self.image = generation.file_bytes  # with its parameters inside, so Download keeps them
            self.image_type = generation.mime_type
            self.current = {**generation.parameters, "index": index, "elapsed": round(generation.elapsed, 1), **place}

    def _checked(self, values: dict[str, Any]) -> dict[str, Any]:
        """``values`` as the traits would store them, all checked before any is set (a refusal changes nothing)."""
        checked = {}
        for name, value in values.items():
            try:
                checked[name] = self.traits()[name]._validate(self, value)
            except (traitlets.TraitError, OverflowError, ValueError, TypeError):
                raise InvalidRequestError(f"{name} cannot be {reprlib.repr(value)}; nothing was changed.") from None
        return checked

    def _adopt_defaults(self, defaults: dict[str, object], follow: set[str]) -> None:
        """Set the controls in ``follow`` (those not given and not changed since) to the backend's defaults."""
        with self.hold_sync():
            for parameter in DRAWING:
                value = defaults.get(parameter.sent_as, defaults.get(parameter.name))  # Kontext's "steps"
                number = isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
                if parameter.name in follow and number:
                    setattr(self, parameter.name, parameter.kind(value))

    def _begin_run(self, count: int) -> None:
        """A run of ``count`` images starts: queued, no error, progress and batch grid reset."""
        with self.hold_sync():
            self.error, self.retry_at, self.detail = "", None, ""
            self.status = "queued"
            self.queue_position, self.eta = None, None
            self.step, self.total_steps, self.progress = 0, self.steps, 0.0
            self.batch, self.batch_size, self.batch_done = [], count if count > 1 else 0, 0

    # ------------------------------------------------------------------ static fallback

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The live widget, plus the current image for viewers that have no widget manager (JPEG, as ``%flux``)."""
        bundle = super()._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        if isinstance(data, dict) and self.image:
            try:
                shown, mime_type = images.display_bytes(self.image, self.current)
            except ValueError:  # undecodable: the live widget still shows, the fallback does not
                return bundle
            data[mime_type] = base64.b64encode(shown).decode("ascii")
        return bundle
