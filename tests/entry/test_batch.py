"""Batches: several images per request from the widget, ``generate(count=)``, ``%flux -n`` and the CLI.

Everything runs against the real stand-in Space; batch cancel is checked on the Space's side.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image
from support.helpers import wait_until
from support.journal import Journal
from support.kernel import grid_images, texts
from support.picture import mean_difference, parameters, render_picture
from support.servers import next_job_on

import flux_widget
from flux_widget import GenerationError, InvalidRequestError, QuotaExceededError
from flux_widget.backends._cache import close_clients
from flux_widget.backends._count import MAX_COUNT, SlotSeed, batch_seeds
from flux_widget.types import MAX_SEED
from flux_widget.widget._widget import FluxWidget

pytestmark = pytest.mark.anyio


def test_seeds_count_up_from_the_seed_or_are_left_to_the_space() -> None:
    assert batch_seeds(7, False, 3) == [SlotSeed(7, False), SlotSeed(8, False), SlotSeed(9, False)]
    assert batch_seeds(MAX_SEED, False, 2) == [SlotSeed(MAX_SEED, False), SlotSeed(0, False)]
    assert batch_seeds(7, True, 2) == [SlotSeed(7, True), SlotSeed(7, True)]


async def test_widget_batch_fills_history_grid_and_captions(space: str) -> None:
    widget = FluxWidget(space, width=256, height=256, steps=2)
    shown: list[dict] = []
    widget.observe(lambda change: shown.append(change["new"]), names="current")
    try:
        generations = await widget.generate("a batch of owls", count=4, seed=40, randomize_seed=False)
    finally:
        widget.close()
    assert [g.seed for g in generations] == [40, 41, 42, 43]
    for g in generations:
        assert mean_difference(g.image, render_picture("a batch of owls", g.seed, 256, 256)) < 6
    assert [entry["seed"] for entry in widget.history] and len(widget.history) == 4
    assert sorted(tile["slot"] for tile in widget.batch) == [1, 2, 3, 4]
    assert {widget.history[tile["index"]]["seed"] - 39 for tile in widget.batch} == {1, 2, 3, 4}
    assert widget.batch_size == 4 and widget.batch_done == 4 and widget.status == "idle"
    assert {(c["slot"], c["of"]) for c in shown if "slot" in c} == {(1, 4), (2, 4), (3, 4), (4, 4)}
    assert widget.seed == 40  # the next batch starts where this one did
    # Selecting an entry shows it alone; a single image afterwards has no grid.
    widget.select(0)
    assert widget.batch == [] and widget.batch_size == 0


async def test_widget_batch_with_randomize_gets_a_seed_per_image(space: str) -> None:
    widget = FluxWidget(space, width=256, height=256, steps=1, count=3)
    try:
        generations = await widget.generate("random owls")
    finally:
        widget.close()
    assert len({g.seed for g in generations}) == 3
    assert all(mean_difference(g.image, render_picture("random owls", g.seed, 256, 256)) < 6 for g in generations)


async def test_cancelling_a_batch_cancels_every_job_on_the_space(space: str, journal: Journal) -> None:
    widget = FluxWidget(space, width=256, height=256, steps=12)
    task = asyncio.ensure_future(widget.generate("[slow] batch to cancel", count=4))
    await wait_until(lambda: widget.status == "running" and widget.step >= 1)
    assert widget.batch_size == 4
    widget.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert widget.status == "idle" and widget.history == [] and widget.error == ""
    assert widget.batch_size == 0  # nothing was made: no grid of empty places
    # Two of the four had joined the queue (two at a time); the Space was told to cancel both.
    joined = journal.joins("batch to cancel")
    assert len(joined) == 2 and len(await journal.cancels("batch to cancel", 2)) == 2
    # The one-slot stand-in has nothing left of the batch: the next job is first in line and runs at once.
    rank, waited = await next_job_on(space)
    widget.close()
    assert rank == 0
    assert waited < 4, f"the next job waited {waited:.1f} s: part of the batch kept the Space busy"


async def test_batch_progress_counts_done_images_and_shows_the_running_step(space: str) -> None:
    widget = FluxWidget(space, width=256, height=256, steps=3)
    seen: set[tuple[int, int]] = set()
    widget.observe(lambda _: seen.add((widget.batch_done, widget.step)), names=["step", "batch_done"])
    try:
        await widget.generate("[slow] counted", count=2, seed=1, randomize_seed=False)
    finally:
        widget.close()
    assert any(done == 1 for done, _ in seen)  # "1 of 2 done" was on show
    assert any(step >= 1 for _, step in seen)


async def test_a_failing_batch_keeps_the_history_and_offers_a_retry_time(space: str) -> None:
    widget = FluxWidget(space, width=256, height=256, steps=1)
    try:
        await widget.generate("kept", seed=1, randomize_seed=False)
        with pytest.raises(QuotaExceededError):
            await widget.generate("[quota] batch", count=3)
    finally:
        widget.close()
    assert [entry["prompt"] for entry in widget.history] == ["kept"]
    assert widget.status == "error" and "quota" in widget.error
    assert widget.retry_at is not None and abs(widget.retry_at - (time.time() + 754)) < 30  # "Try again in 0:12:34"


async def test_count_out_of_range_is_refused(space: str) -> None:
    widget = FluxWidget(space)
    widget.count = 99
    assert widget.count == MAX_COUNT
    widget.close()
    with pytest.raises(InvalidRequestError, match="1 to 8"):
        flux_widget.generate("x", space=space, count=0)


@pytest.mark.parametrize("entry", ["widget", "agenerate", "magic"])
async def test_a_batch_never_holds_more_than_two_places_in_the_spaces_queue(
    entry: str, space: str, journal: Journal, in_kernel
) -> None:
    marker = f"two places via {entry}"
    if entry == "widget":
        widget = FluxWidget(space, width=256, height=256, steps=2)
        try:
            await widget.generate(f"[slow] {marker}", count=6)
        finally:
            widget.close()
    elif entry == "agenerate":
        await flux_widget.agenerate(f"[slow] {marker}", space=space, width=256, height=256, steps=2, count=6)
        await close_clients()
    else:
        await asyncio.to_thread(in_kernel, f"%flux -n 6 [slow] {marker} --width 256 --height 256 --steps 2")
    assert len(journal.joins(marker)) == 6
    assert journal.most_in_queue(marker) == 2


def test_sync_generate_returns_a_list_for_a_batch(space_env: str) -> None:
    generations = flux_widget.generate("listed", width=256, height=256, steps=1, seed=5, randomize_seed=False, count=3)
    assert isinstance(generations, list) and [g.seed for g in generations] == [5, 6, 7]
    single = flux_widget.generate("single", width=256, height=256, steps=1, seed=5, randomize_seed=False)
    assert single.seed == 5


def test_line_magic_n_shows_a_grid_and_returns_the_list(in_kernel) -> None:
    _, cell, after = in_kernel(
        "gs = %flux -n 3 a grid fox --seed 7 --width 256 --height 256 --steps 1", "print([g.seed for g in gs])"
    )
    shown = grid_images(cell)
    assert [parameters(image)["seed"] for image in shown] == ["7", "8", "9"]
    assert mean_difference(shown[2], render_picture("a grid fox", 9, 256, 256)) < 8
    html = next(o["data"]["text/html"] for o in cell if "text/html" in o.get("data", {}))
    assert re.findall(r"(\d/3) · <bdi>a grid fox</bdi> · seed (\d)", html) == [("1/3", "7"), ("2/3", "8"), ("3/3", "9")]
    assert texts(after, "stdout") == ["[7, 8, 9]\n"]


def test_cell_magic_n_makes_n_per_line_in_one_grid(in_kernel) -> None:
    _, cell = in_kernel("%%flux -n 2 --seed 3 --width 256 --height 256 --steps 1\nfirst <b>line</b>\nsecond\n")
    shown = grid_images(cell)
    assert [(parameters(i)["prompt"], parameters(i)["seed"]) for i in shown] == [
        ("first <b>line</b>", "3"), ("first <b>line</b>", "4"), ("second", "3"), ("second", "4"),
    ]  # fmt: skip
    html = next(o["data"]["text/html"] for o in cell if "text/html" in o.get("data", {}))
    assert "<b>line</b>" not in html and "first &lt;b&gt;line&lt;/b&gt;" in html  # prompts are text, never markup


def test_command_line_n_writes_numbered_files(space_env: str, tmp_path: Path) -> None:
    out = tmp_path / "out.png"
    command = [sys.executable, "-m", "flux_widget", "cli batch", "-n", "2", "-o", str(out), "--seed", "8"]
    result = subprocess.run(
        [*command, "--width", "256", "--height", "256"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    for number, seed in ((1, 8), (2, 9)):
        path = tmp_path / f"out-{number}.png"
        assert f"saved {path} (seed {seed}" in result.stdout
        with Image.open(path) as image:
            assert image.text["seed"] == str(seed)
            assert mean_difference(image, render_picture("cli batch", seed, 256, 256)) < 6
    assert not out.exists()
    refused = subprocess.run([*command[:-4], "-n", "9"], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "-n must be from 1 to 8" in refused.stderr


async def test_step_events_reach_the_widget_from_both_running_jobs(space: str) -> None:
    """With two jobs in flight, a Queued event from the second never hides the first one's steps."""
    widget = FluxWidget(space, width=256, height=256, steps=4)
    statuses: list[str] = []
    widget.observe(lambda change: statuses.append(change["new"]), names="status")
    try:
        await widget.generate("[slow] two at once", count=2)
    finally:
        widget.close()
    running = statuses.index("running")
    assert "queued" not in statuses[running:], statuses  # once running, the batch stays running until done


async def test_one_failing_image_stops_the_batch_and_keeps_what_arrived(space: str, journal: Journal) -> None:
    widget = FluxWidget(space, width=256, height=256, steps=1)
    try:
        await widget.generate("kept before", seed=10, randomize_seed=False)
        # Seeds 4, 5, 6, 7: the third is refused. It joins the queue only once one of the first two has
        # arrived (two at a time), so at least seed 4 or 5 is always in hand when the batch fails.
        with pytest.raises(GenerationError, match="Seed 6 is refused"):
            await widget.generate("[fail-seed=6] a kept batch", count=4, seed=4, randomize_seed=False)
    finally:
        widget.close()
    seeds = [entry["seed"] for entry in widget.history]
    # What arrived is kept, nothing made up. Seed 7 may arrive too: on a loaded machine its join can
    # reach the one-slot Space before seed 6's, so the Space makes it before 6 fails.
    assert seeds[0] == 10 and len(seeds) >= 2 and set(seeds[1:]) <= {4, 5, 7} and 6 not in seeds
    assert widget.status == "error" and "Seed 6 is refused" in widget.error
    # The grid keeps the places of the images that arrived (seed 4 is place 1, seed 5 place 2).
    assert {tile["slot"] for tile in widget.batch} == {seed - 3 for seed in seeds[1:]}
    assert widget.batch_size == 4
    assert widget.image == widget.generations[-1].file_bytes
    # The Space did run the refused one: the failure is the Space's, after the others had arrived.
    ran = [
        record["seed"]
        for record in journal.records()
        if record["kind"] == "start" and "a kept batch" in record["prompt"]
    ]
    assert 6 in ran
    rank, waited = await next_job_on(space)
    assert rank == 0 and waited < 4  # the cancelled images hold no place


def test_magics_show_the_images_of_a_batch_that_worked(in_kernel) -> None:
    _, cell = in_kernel("%flux -n 3 [odd-seed-error] x --seed 2 --width 256 --height 256 --steps 1")
    assert [parameters(image)["seed"] for image in grid_images(cell)] == ["2", "4"]
    [error] = texts(cell, "stderr")
    assert error.startswith("flux ([odd-seed-error] x): The Space failed to generate the image: Seed 3 is odd")
