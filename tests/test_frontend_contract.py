"""One contract between Python and the JS: limits and names come from Python, the JS keeps no copies."""

from __future__ import annotations

import re
from pathlib import Path

import flux_widget._images as images
from flux_widget.backends._count import MAX_COUNT
from flux_widget.types import MAX_SEED, MAX_SIZE, MAX_STEPS, MIN_SIZE, SIZE_STEP, RequestParameters
from flux_widget.widget._history import ENTRY_FIELDS, HistoryEntry
from flux_widget.widget._state import CONTROL_TYPES, frontend_contract
from flux_widget.widget._widget import FluxWidget

SOURCES = Path(__file__).parents[1] / "js" / "src"


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
    assert set(ENTRY_FIELDS) <= set(HistoryEntry.class_own_traits())  # each field is a trait of the entry model
    assert limits["extensions"]["image/webp"] == "webp" and set(limits["extensions"]) == set(images.SUFFIX_FOR_MIME)


def test_the_controls_a_generate_message_carries_are_the_request_and_the_count() -> None:
    assert list(CONTROL_TYPES) == ["prompt", *RequestParameters.__annotations__, "count"]


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
