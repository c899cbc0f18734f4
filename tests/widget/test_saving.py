"""The widget's save_to folder (issue 29): each image saved as it arrives, with its parameters inside,
and read back into a new widget's history; real stand-in Space, real files, a real read-only tmpfs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from support.picture import parameters

from flux_widget.widget._widget import FluxWidget

pytestmark = pytest.mark.anyio


async def closed(widget: FluxWidget) -> None:
    widget.close()
    await widget._client.aclose()


async def test_images_are_saved_as_they_arrive_and_a_new_widget_shows_them(space: str, tmp_path: Path) -> None:
    folder = tmp_path / "gallery"
    first = FluxWidget(space, width=256, height=256, steps=1, save_to=str(folder))
    made = await first.generate("a saved harbour", count=3)
    await first.generate("a saved owl", seed=9, randomize_seed=False, count=1)
    await closed(first)
    files = sorted(path.name for path in folder.iterdir() if path.suffix == ".webp")
    lines = [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]
    assert len(files) == 4 and sorted(line["file"] for line in lines) == files
    for line in lines:
        with Image.open(folder / line["file"]) as saved:
            assert parameters(saved)["seed"] == str(line["seed"]) and parameters(saved)["prompt"] == line["prompt"]
    assert sorted(line["seed"] for line in lines[:3]) == sorted(generation.seed for generation in made)  # as they came

    again = FluxWidget(space, save_to=str(folder))  # as after a kernel restart
    await again._saved_all()
    for _ in range(100):
        if len(again.history) == 4:
            break
        await asyncio.sleep(0.05)
    assert [(entry.prompt, entry.seed) for entry in again.history] == [(line["prompt"], line["seed"]) for line in lines]
    assert again.current["seed"] == 9 and again.image  # the newest on show
    await again.generate("one more", seed=2, randomize_seed=False)
    assert len(list(folder.glob("*.webp"))) == 5  # nothing overwritten
    await closed(again)


async def test_a_folder_that_cannot_be_written_is_said_and_the_history_keeps_the_image(
    space: str, tmpfs: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    read_only = tmpfs(64, read_only=True)
    monkeypatch.setenv("FLUX_WIDGET_SAVE_TO", str(read_only / "gallery"))
    widget = FluxWidget(space, width=256, height=256, steps=1)
    assert "Images are not saved" in widget.error and "read-only" in widget.error.lower()
    made = await widget.generate("kept anyway")
    assert widget.generations == [made] and list(read_only.iterdir()) == []
    await closed(widget)


async def test_the_starred_generations_are_those_the_view_marked(space: str) -> None:
    widget = FluxWidget(space, width=256, height=256, steps=1)
    made = [await widget.generate(f"star {number}", seed=number, randomize_seed=False) for number in range(3)]
    widget.starred = [
        f"IPY_MODEL_{widget.history[2].model_id}",
        f"IPY_MODEL_{widget.history[0].model_id}",
        "IPY_MODEL_gone",
    ]
    assert widget.starred_generations == [made[0], made[2]]
    await closed(widget)
