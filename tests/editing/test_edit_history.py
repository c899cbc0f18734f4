"""An edit in the widget's history keeps its inputs (issue 28): select and Reuse put them back in the
tray, and a view can ask for the first one (the before/after slider), against the stand-in Kontext Space."""

from __future__ import annotations

import hashlib
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from flux_widget.widget._widget import FluxWidget

pytestmark = pytest.mark.anyio


def png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (96, 64), colour).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
async def widget(edit_space: tuple[str, Path]) -> AsyncIterator[FluxWidget]:
    w = FluxWidget(edit_space[0])
    yield w
    w.close()
    await w._client.aclose()


def replies(widget: FluxWidget) -> list[tuple[dict[str, Any], list[Any]]]:
    sent: list[tuple[dict[str, Any], list[Any]]] = []
    widget.send = lambda content, buffers=None: sent.append((content, buffers or []))  # type: ignore[method-assign]
    return sent


async def test_an_edit_keeps_its_inputs_and_select_and_reuse_put_them_back(widget: FluxWidget) -> None:
    green, blue = png((40, 220, 90)), png((20, 40, 200))
    assert widget._discovery is not None
    await widget._discovery
    assert widget.steps == 28 and widget.max_references == 1  # the Space's own default steps ("steps" there)
    widget.add_image(green, "green.png")
    edit = await widget.generate("kept with its inputs", seed=3, randomize_seed=False)
    [entry] = widget.history
    assert edit.inputs[0].data == green and entry.images == [
        {"sha256": hashlib.sha256(green).hexdigest(), "width": 96, "height": 64}
    ]
    assert len(entry.inputs) == 1 and entry.inputs[0].startswith("data:image/webp;base64,")
    assert len(entry.inputs[0]) < 1500  # a small thumbnail: the saved notebook stays small

    widget.clear_images()
    widget.add_image(blue, "blue.png")
    widget._handle_message(widget, {"type": "select", "index": 0}, [])
    assert [image.data for image in widget.reference_images] == [green]  # the entry's input, not blue
    assert [item["name"] for item in widget.references] == ["input 1"] and widget.prompt == "kept with its inputs"

    widget.clear_images()
    widget._handle_message(widget, {"type": "reuse_inputs", "index": 0}, [])
    assert [image.data for image in widget.reference_images] == [green]


async def test_a_view_gets_the_first_input_and_a_missing_one_is_said(widget: FluxWidget) -> None:
    green = png((40, 220, 90))
    widget.add_image(green, "green.png")
    await widget.generate("kept with its inputs", seed=3, randomize_seed=False)
    made = widget.generations[0]
    assert made.inputs and made.images
    sent = replies(widget)
    widget._handle_message(widget, {"type": "input", "index": 0, "ticket": "t1"}, [])
    widget._handle_message(widget, {"type": "input", "index": 7, "ticket": "t2"}, [])
    (first, buffers), (missing, none) = sent
    assert first["sha256"] == hashlib.sha256(green).hexdigest() and bytes(buffers[0]) == green
    assert missing == {"type": "input", "index": 7, "ticket": "t2", "missing": True} and none == []
