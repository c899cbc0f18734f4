"""Editing with reference images on a Space (issue 28), against the stand-in Kontext Space (a real Gradio app).

The stand-in returns its input with red inverted, so a test proves the very pixels it sent arrived:
what comes back is compared, pixel for pixel, with that function of the image given.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from support.picture import parameters
from support.standin_edit_space import edited

import flux_widget
from flux_widget import InvalidRequestError


def calls(folder: Path) -> list[dict[str, Any]]:
    """What the stand-in's ``infer`` received, call by call (none yet: no log)."""
    log = folder / "calls.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def picture(width: int = 96, height: int = 64, colour: tuple[int, int, int] = (30, 140, 220)) -> Image.Image:
    base = Image.new("RGB", (width, height), colour)
    for x in range(0, width, 8):
        base.paste((200, 20, x % 256), (x, 0, x + 4, height))  # stripes: any resampling would show
    return base


def png_file(path: Path, image: Image.Image) -> Path:
    image.save(path, format="PNG")
    return path


def test_generate_with_an_image_returns_the_spaces_edit_of_exactly_those_pixels(
    edit_space: tuple[str, Path], tmp_path: Path
) -> None:
    url, folder = edit_space
    source = png_file(tmp_path / "in.png", picture())
    made = flux_widget.generate("make it red", space=url, images=[source], seed=3, randomize_seed=False)
    with Image.open(io.BytesIO(made.image_bytes)) as result:
        assert np.array_equal(np.asarray(result.convert("RGB")), np.asarray(edited(picture())))
    assert (made.seed, made.steps, made.guidance) == (3, 28, 2.5)  # the Space's own default steps and guidance
    assert (made.width, made.height) == (96, 64)  # the edit's size is the input's
    sha = hashlib.sha256(source.read_bytes()).hexdigest()
    assert made.images == [{"sha256": sha, "width": 96, "height": 64}]
    [call] = [call for call in calls(folder) if call["prompt"] == "make it red"]
    assert call["inputs"][0]["size"] == [96, 64] and call["seed"] == 3


def test_bytes_a_pil_image_and_a_generation_are_inputs_too(edit_space: tuple[str, Path]) -> None:
    url, _ = edit_space
    buffer = io.BytesIO()
    picture().save(buffer, format="PNG")
    from_bytes = flux_widget.generate("from bytes", space=url, images=buffer.getvalue(), seed=1)
    from_pil = flux_widget.generate("from a PIL image", space=url, images=[picture()], seed=1)
    again = flux_widget.generate("from a generation", space=url, images=[from_pil], seed=1)
    with Image.open(io.BytesIO(again.image_bytes)) as twice:
        assert np.array_equal(np.asarray(twice.convert("RGB")), np.asarray(picture()))  # inverted twice
    assert from_bytes.images == from_pil.images  # the same PNG bytes, the same hash


def test_a_text_only_space_and_too_many_images_are_refused_before_anything_is_sent(
    space: str, edit_space: tuple[str, Path], tmp_path: Path
) -> None:
    source = png_file(tmp_path / "in.png", picture())
    with pytest.raises(InvalidRequestError, match="This Space takes no images"):
        flux_widget.generate("never sent", space=space, images=[source])
    with pytest.raises(InvalidRequestError, match=r"at most 1 image\(s\); 2 were given"):
        flux_widget.generate("never sent either", space=edit_space[0], images=[source, source])
    assert not [call for call in calls(edit_space[1]) if call["prompt"].startswith("never sent")]


def test_the_command_line_takes_image_and_reads_standard_input(edit_space: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = edit_space
    source = png_file(tmp_path / "in.png", picture(48, 48))
    env = {**os.environ, "FLUX_WIDGET_SPACE": url}
    command = [sys.executable, "-m", "flux_widget", "invert it", "--image", "-", "--seed", "4", "-o", "out.png"]
    done = subprocess.run(command, input=source.read_bytes(), capture_output=True, cwd=tmp_path, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    with Image.open(tmp_path / "out.png") as result:
        assert np.array_equal(np.asarray(result.convert("RGB")), np.asarray(edited(picture(48, 48))))
        assert json.loads(result.text["images"])[0]["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()


def test_a_prompt_file_line_takes_images_relative_to_the_file_and_the_manifest_records_them(
    edit_space: tuple[str, Path], tmp_path: Path
) -> None:
    url, _ = edit_space
    (tmp_path / "job" / "pictures").mkdir(parents=True)
    source = png_file(tmp_path / "job" / "pictures" / "in.png", picture(64, 32))
    lines = [{"prompt": "edit from a file", "images": ["pictures/in.png"], "seed": 5}, {"prompt": "drawn from text"}]
    (tmp_path / "job" / "prompts.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines[:1]))
    env = {**os.environ, "FLUX_WIDGET_SPACE": url}
    command = [sys.executable, "-m", "flux_widget", "--prompts", "job/prompts.jsonl", "--out", "out"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    [line] = [json.loads(text) for text in (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()]
    sha = hashlib.sha256(source.read_bytes()).hexdigest()
    assert line["images"] == [{"sha256": sha, "width": 64, "height": 32}] and line["status"] == "done"
    with Image.open(tmp_path / "out" / line["file"]) as result:
        assert np.array_equal(np.asarray(result.convert("RGB")), np.asarray(edited(picture(64, 32))))


def test_flux_magic_takes_image(edit_space: tuple[str, Path], tmp_path: Path) -> None:
    from support.kernel import pngs, run_cells

    png_file(tmp_path / "in.png", picture(40, 40))
    _, shown = run_cells(
        ["%load_ext flux_widget", f"%flux soften it --image in.png --seed 2 --space {edit_space[0]}"], tmp_path
    )
    [image] = pngs(shown)
    assert image.size == (40, 40) and json.loads(parameters(image)["images"])[0]["width"] == 40


@pytest.fixture(scope="module")
def gallery_space(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The stand-in editing Space with a gallery input (several images, for models such as FLUX.2 [klein])."""
    from support.servers import running_standin

    folder = tmp_path_factory.mktemp("gallery")
    with running_standin(folder, "--variant", "gallery", script="standin_edit_space.py") as url:
        yield url, folder


def test_a_gallery_input_gets_every_image_in_order(gallery_space: tuple[str, Path]) -> None:
    url, folder = gallery_space
    first, second = picture(40, 30, (200, 10, 10)), picture(30, 40, (10, 10, 200))
    made = flux_widget.generate("two references", space=url, images=[first, second], seed=2)
    [call] = [call for call in calls(folder) if call["prompt"] == "two references"]
    assert [item["size"] for item in call["inputs"]] == [[40, 30], [30, 40]]  # both, in the order given
    with Image.open(io.BytesIO(made.image_bytes)) as result:
        assert np.array_equal(np.asarray(result.convert("RGB")), np.asarray(edited(first)))
    with pytest.raises(InvalidRequestError, match=r"at most 4 image\(s\); 5 were given"):
        flux_widget.generate("too many", space=url, images=[first] * 5)


def test_run_batch_gives_its_images_to_every_prompt(edit_space: tuple[str, Path], tmp_path: Path) -> None:
    source = picture(32, 32)
    report = flux_widget.run_batch(["batch edit one", "batch edit two"], tmp_path / "out", space=edit_space[0],
                                   images=[source], progress=False)  # fmt: skip
    assert (report.done, report.failed) == (2, 0)
    lines = [json.loads(text) for text in (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()]
    assert [line["images"][0]["width"] for line in lines] == [32, 32]


@pytest.fixture(scope="module")
def two_inputs_space(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The stand-in editing Space with two separate image inputs, each upload taking a second and a half."""
    from support.servers import running_standin

    folder = tmp_path_factory.mktemp("two")
    extra = ("--variant", "two", "--slow-upload", "1.5")
    with running_standin(folder, *extra, script="standin_edit_space.py") as url:
        yield url, folder


def posts(folder: Path) -> list[str]:
    """The paths of the POSTs the stand-in received, in order."""
    log = folder / "requests.jsonl"
    return [json.loads(line)["path"] for line in log.read_text().splitlines()] if log.exists() else []


def test_two_image_inputs_get_the_images_in_order(two_inputs_space: tuple[str, Path]) -> None:
    url, folder = two_inputs_space
    first, second = picture(40, 30, (200, 10, 10)), picture(30, 40, (10, 10, 200))
    made = flux_widget.generate("to each its input", space=url, images=[first, second], seed=2)
    [call] = [call for call in calls(folder) if call["prompt"] == "to each its input"]
    assert [item["size"] for item in call["inputs"]] == [[40, 30], [30, 40]]
    with Image.open(io.BytesIO(made.image_bytes)) as result:
        assert np.array_equal(np.asarray(result.convert("RGB")), np.asarray(edited(first)))


@pytest.mark.anyio
async def test_a_cancel_during_an_upload_sends_nothing_more(two_inputs_space: tuple[str, Path]) -> None:
    url, folder = two_inputs_space
    before = len(posts(folder))
    images = [picture(40, 30), picture(30, 40)]
    task = asyncio.ensure_future(flux_widget.agenerate("cancelled while uploading", space=url, images=images))
    for _ in range(200):  # the first upload has reached the Space (it waits there)
        if any(path.endswith("/upload") for path in posts(folder)[before:]):
            break
        await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(2.5)  # past the time the upload would have taken
    sent = posts(folder)[before:]
    assert [path.rsplit("/", 1)[-1] for path in sent] == ["upload"], sent  # no second upload, no join
    assert not [call for call in calls(folder) if call["prompt"] == "cancelled while uploading"]
