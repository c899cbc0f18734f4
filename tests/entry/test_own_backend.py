"""Your own backend (issue 30): a ready object with the Backend protocol, given as backend=, runs
through generate, run_batch and the widget as any other, and closing it stays yours."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.instant_backend import InstantBackend

import flux_widget
from flux_widget import InvalidRequestError
from flux_widget.widget._widget import FluxWidget


def test_generate_and_run_batch_take_a_backend_object(tmp_path: Path) -> None:
    own = InstantBackend()
    made = flux_widget.generate("my own", backend=own, seed=5, randomize_seed=False)
    assert (made.prompt, made.seed, made.model, own.calls) == ("my own", 5, "instant", 1)
    report = flux_widget.run_batch(["one", "two", "three"], tmp_path / "out", backend=own, seed=1, progress=False)
    lines = [json.loads(line) for line in (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()]
    assert (report.done, own.calls) == (3, 4) and {line["backend"] for line in lines} == {"own"}
    assert sorted(line["seed"] for line in lines) == [1, 2, 3] and not own.closed


@pytest.mark.anyio
async def test_the_widget_takes_a_backend_object_and_leaves_it_open() -> None:
    own = InstantBackend()
    widget = FluxWidget(backend=own)
    await widget.generate("in the widget", seed=3, randomize_seed=False)
    assert [entry.prompt for entry in widget.history] == ["in the widget"] and widget.source == "instant"
    widget.close()
    assert not own.closed  # yours to close


def test_an_object_without_the_protocol_is_refused_by_name() -> None:
    with pytest.raises(InvalidRequestError, match=r"Backend protocol; object has no base_url, closed"):
        flux_widget.generate("never", backend=object())
