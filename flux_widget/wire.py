"""The Space's wire format, trusting nothing: JSON bodies, ``/config``, queue events, results.

Pure functions over bytes and parsed JSON; every malformed value becomes a :class:`FluxError` with
a message saying what was wrong, and every number is checked to be finite and in range.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from .errors import GenerationError, SpaceUnavailableError
from .types import ProgressEvent, Queued, Started, Step

__all__ = ["API_NAME", "SpaceInfo", "load_json", "parse_config", "progress_event"]

API_NAME = "infer"
#: A route prefix such as ``/gradio_api``: path characters only, so it cannot change the host.
_PREFIX = re.compile(r"^/?[A-Za-z0-9_.~-]+(?:/[A-Za-z0-9_.~-]+)*/?$")
#: The largest count or index taken from an event; anything larger is treated as missing.
_MAX_COUNT = 2**31 - 1
#: The longest wait, in seconds, taken from an event (a year); anything longer is treated as missing.
_MAX_SECONDS = 365 * 24 * 3600.0


@dataclass(frozen=True)
class SpaceInfo:
    """What ``/config`` tells about the Space: where its routes are and how to call ``infer``."""

    gradio_version: str
    api_prefix: str
    fn_index: int
    trigger_id: int | None


def load_json(body: bytes) -> Any:
    """Parse JSON; ``NaN`` and ``Infinity`` become ``None``. Raises ``ValueError`` for anything malformed."""
    try:
        return json.loads(body, parse_constant=lambda _constant: None)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise ValueError(str(exc)[:100]) from None


def _malformed_config(base_url: str, what: str) -> SpaceUnavailableError:
    return SpaceUnavailableError(f"The Space at {base_url} sent a malformed /config ({what}); it cannot be called.")


def parse_config(config: object, base_url: str) -> SpaceInfo:
    """Find ``infer`` in a parsed ``/config`` by its api name, with the route prefix and trigger."""
    if not isinstance(config, dict) or not isinstance(config.get("dependencies"), list):
        raise SpaceUnavailableError(f"{base_url} does not look like a Gradio app (its /config has no dependencies).")
    dependencies = config["dependencies"]
    position, chosen = next(
        ((i, dep) for i, dep in enumerate(dependencies) if isinstance(dep, dict) and dep.get("api_name") == API_NAME),
        (None, None),
    )
    if chosen is None or position is None:
        names = sorted({str(dep.get("api_name"))[:40] for dep in dependencies if isinstance(dep, dict)} - {"None"})
        raise GenerationError(
            f"The Space at {base_url} has no '{API_NAME}' endpoint (it has: {', '.join(names[:20]) or 'none'}). "
            "Is it a FLUX.1-schnell Space?"
        )
    fn_index = chosen.get("id", position)
    if fn_index is None:  # an old config without ids: the position is the fn_index
        fn_index = position
    if not _is_count(fn_index):
        raise _malformed_config(base_url, f"the id of '{API_NAME}' is {str(fn_index)[:40]!r}")
    prefix = config.get("api_prefix") or ""
    if not isinstance(prefix, str) or (prefix and not _PREFIX.match(prefix)):
        raise _malformed_config(base_url, f"api_prefix is {str(prefix)[:40]!r}")
    targets = chosen.get("targets")
    first = targets[0] if isinstance(targets, list) and targets else None
    trigger_id = first[0] if isinstance(first, list) and first else None
    return SpaceInfo(
        gradio_version=str(config.get("version", "unknown"))[:40],
        api_prefix="/" + prefix.strip("/") if prefix.strip("/") else "",
        fn_index=fn_index,
        trigger_id=trigger_id if _is_count(trigger_id) else None,
    )


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
    return value[:100] if isinstance(value, str) else None
