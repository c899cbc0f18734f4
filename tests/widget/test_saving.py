"""The widget's save_to folder (issue 29): each image saved as it arrives, with its parameters inside,
and read back into a new widget's history; real stand-in Space, real files, a real read-only tmpfs."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from support.picture import parameters

from flux_widget.types import Generation
from flux_widget.widget._gallery_folder import SHOWN_AT_MOST, GalleryFolder
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


async def until(check: Callable[[], bool], what: str) -> None:
    for _ in range(200):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(what)


def tiny_png(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(out, "PNG")
    return out.getvalue()


async def test_the_search_finds_the_folders_older_images_and_brings_them_into_the_history(
    space: str, tmp_path: Path
) -> None:
    """Issue 29, capability 3: with save_to, the filters reach the folder's images the history does not show."""
    folder = tmp_path / "gallery"
    gallery = GalleryFolder(folder)
    older = [("an old kite", 64, "black-forest-labs/FLUX.1-dev"), ("a red kite", 32, ""), ("an old boat", 64, "")]
    for prompt, side, model in older:
        gallery.save(Generation(prompt, 1, side, side, 4, "", tiny_png("red"), "image/png", 1.0, model=model))
    for number in range(SHOWN_AT_MOST):
        gallery.save(Generation(f"filler {number}", number, 8, 8, 4, "", tiny_png("blue"), "image/png", 1.0))
    widget = FluxWidget(space, width=256, height=256, steps=1, save_to=str(folder))
    await until(lambda: len(widget.history) == SHOWN_AT_MOST, "the folder's newest are not shown")
    await widget.generate("a new kite", seed=5, randomize_seed=False)
    await widget._saved_all()
    answers: list[dict[str, object]] = []
    widget.send = lambda content, buffers=None: answers.append(content)  # type: ignore[method-assign]

    def ask(kind: str, **wanted: str) -> None:
        widget._handle_message(widget, {"type": kind, "ticket": f"t{len(asked)}", **wanted}, [])
        asked.append(kind)

    asked: list[str] = []

    ask("find", query="KITE")  # the new kite is in the history already: two more in the folder
    await until(lambda: len(answers) == 1, "no answer")
    ask("find", query="kite", size="64×64")
    ask("find", query="", model="black-forest-labs/FLUX.1-dev")
    ask("find", query="")  # no filter: nothing to find
    await until(lambda: len(answers) == 4, "no answers")
    assert [answer["count"] for answer in sorted(answers, key=lambda answer: str(answer["ticket"]))] == [2, 1, 1, 0]
    ask("show_found", query="kite")
    await until(lambda: len(widget.history) == SHOWN_AT_MOST + 3, "the found ones are not in the history")
    assert [entry.prompt for entry in widget.history[:2]] == ["an old kite", "a red kite"]  # at the oldest end
    assert widget.history[0].model == "black-forest-labs/FLUX.1-dev" and widget.history[0].width == 64
    assert widget.current["index"] == SHOWN_AT_MOST + 2 and widget.current["prompt"] == "a new kite"  # still on show
    assert [widget.history[index].prompt for index in widget._history.shown_order()[-2:]] == [
        "a red kite",
        "an old kite",
    ]
    ask("find", query="kite")
    await until(lambda: len(answers) == 5, "no answer")
    assert answers[-1]["count"] == 0
    await closed(widget)
