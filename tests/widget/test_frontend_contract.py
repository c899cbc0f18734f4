"""One contract between Python and the JS: limits and names come from Python, the JS keeps no copies."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import flux_widget._images as images
from flux_widget._parameters import DRAWING, PARAMETERS, RECORDED
from flux_widget.backends._count import MAX_COUNT
from flux_widget.types import (
    MAX_SEED,
    MAX_SIZE,
    MAX_STEPS,
    MIN_SIZE,
    SIZE_STEP,
    DrawingParameters,
    Generation,
    GenerationRequest,
    RequestParameters,
)
from flux_widget.widget._history import ENTRY_FIELDS, HistoryEntry
from flux_widget.widget._state import CONTROL_TYPES, frontend_contract
from flux_widget.widget._widget import FluxWidget

SOURCES = Path(__file__).parents[2] / "js" / "src"


def test_the_limits_trait_is_pythons_own_values() -> None:
    widget = FluxWidget("http://127.0.0.1:9")
    try:
        limits = widget.get_state()["limits"]
    finally:
        widget.close()
    assert limits == frontend_contract()
    assert (limits["min_size"], limits["max_size"], limits["size_step"]) == (MIN_SIZE, MAX_SIZE, SIZE_STEP)
    assert (limits["max_steps"], limits["max_seed"], limits["max_count"]) == (MAX_STEPS, MAX_SEED, MAX_COUNT)
    assert limits["entry_fields"] == list(ENTRY_FIELDS)
    assert set(ENTRY_FIELDS) <= set(HistoryEntry.class_traits(sync=True))  # each field is a synced trait of the entry
    assert limits["extensions"]["image/webp"] == "webp" and set(limits["extensions"]) == set(images.SUFFIX_FOR_MIME)


def test_the_controls_a_generate_message_carries_are_the_request_and_the_count() -> None:
    # Reference images are no control: they come as files (binary buffers), not as a value.
    assert list(CONTROL_TYPES) == [parameter.name for parameter in PARAMETERS if not parameter.many] + ["count"]
    assert set(CONTROL_TYPES) == {"prompt", *RequestParameters.__annotations__, "count"} - {"images"}


def test_the_typed_parameters_are_the_tables_rows() -> None:
    # The request's typed fields, its TypedDicts and the table name the same parameters.
    assert [parameter.name for parameter in DRAWING] == list(DrawingParameters.__annotations__)
    assert {parameter.name for parameter in PARAMETERS} == {"prompt", *RequestParameters.__annotations__}
    assert [parameter.name for parameter in PARAMETERS] == [field.name for field in fields(GenerationRequest)]
    assert {parameter.name for parameter in RECORDED} <= {field.name for field in fields(Generation)}


def test_the_limits_trait_cannot_be_changed() -> None:
    widget = FluxWidget("http://127.0.0.1:9")
    try:
        try:
            widget.limits = {"max_seed": 1}
        except Exception as exc:  # traitlets' TraitError for a read-only trait
            assert "read-only" in str(exc)
        else:
            raise AssertionError("limits accepted a new value")
    finally:
        widget.close()


def test_the_js_sources_hold_no_copy_of_a_limit() -> None:
    copies = {str(MAX_SEED), str(MAX_SIZE), "MAX_SEED", "MAX_COUNT", "MIN_SIZE", "ENTRY_FIELDS", '"image/png": "png"'}
    for source in SOURCES.glob("*.js"):
        text = source.read_text()
        found = sorted(copy for copy in copies if re.search(re.escape(copy), text))
        assert not found, f"{source.name} repeats {found}: read them from model.get('limits')"


def _typedef(name: str) -> str:
    """The text of the JSDoc typedef ``name`` in js/src/types.js."""
    text = (SOURCES / "types.js").read_text()
    found = re.search(r"@typedef \{((?:(?!@typedef).)*?)\} " + name + r"\b", text, re.S)
    assert found, f"types.js declares no {name}"
    return found.group(1)


def _messages(typedef: str) -> dict[str, set[str]]:
    """Each message of a JSDoc union of object types: its type and its other fields."""
    shapes = re.findall(r"\{ type: \"(\w+)\"((?:, \w+\??: (?:[^,}<]|<[^>]*>)+)*) \}", typedef)
    return {kind: set(re.findall(r"(\w+)\??:", carried)) for kind, carried in shapes}


def test_the_messages_are_declared_once_on_each_side_and_agree() -> None:
    from flux_widget.widget._messages import TO_KERNEL, TO_VIEW

    to_kernel = _messages(_typedef("ToKernel"))
    assert set(to_kernel) == set(TO_KERNEL)
    for kind, carried in TO_KERNEL.items():  # the ticket is added by createRequests, for every question
        assert to_kernel[kind] == set(carried) - {"ticket"}, kind
    to_view = _messages(_typedef("ToView"))
    assert set(to_view) == set(TO_VIEW)
    for kind, carried in TO_VIEW.items():
        assert to_view[kind] == set(carried) | {"ticket"}, kind


def test_every_declared_message_is_sent_and_only_through_the_typed_helpers() -> None:
    from flux_widget.widget._messages import TO_KERNEL

    sent: set[str] = set()
    for source in SOURCES.glob("*.js"):
        text = source.read_text()
        sent |= set(re.findall(r"(?:tell\(model, |ask\()\{ type: \"(\w+)\"", text))
        raw = re.findall(r"model\.send\(", text)
        assert source.name in ("observe.js", "requests.js") or not raw, f"{source.name} sends without tell()"
    assert sent == set(TO_KERNEL)  # nothing declared that no view sends, nothing sent that is not declared
