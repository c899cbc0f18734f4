"""``flux_widget.agenerate``: the async twin of ``generate()``, on every backend, against real servers."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Iterator

import pytest
from PIL import Image
from support.inference_server import Calls, inference_endpoint
from support.journal import Journal
from support.picture import mean_difference, render_picture
from support.servers import next_job_on

import flux_widget
from flux_widget import Generation, GenerationRequest, InvalidRequestError, Queued, Step
from flux_widget.backends._cache import close_clients

pytestmark = pytest.mark.anyio
TOKEN = "hf_" + "AgenerateSecret" * 3


@pytest.fixture(autouse=True)
async def closed_clients() -> AsyncIterator[None]:
    """The shared clients this test's loop made are closed after it (and their jobs cancelled)."""
    yield
    await close_clients()


@pytest.fixture(scope="module")
def endpoint() -> Iterator[tuple[str, Calls]]:
    with inference_endpoint() as served:
        yield served


def is_standin_picture(generation: Generation, prompt: str, seed: int) -> bool:
    expected = render_picture(prompt, seed, generation.width, generation.height)
    return mean_difference(Image.open(io.BytesIO(generation.image_bytes)), expected) < 6


async def test_agenerate_on_the_space_gives_the_seeded_picture(space: str) -> None:
    generation = await flux_widget.agenerate(
        "an async fox", space=space, width=320, height=256, steps=2, seed=11, randomize_seed=False
    )
    assert (generation.seed, generation.width, generation.height, generation.steps) == (11, 320, 256, 2)
    assert is_standin_picture(generation, "an async fox", 11)


async def test_agenerate_count_gives_consecutive_seeds_in_order(space: str) -> None:
    three = await flux_widget.agenerate(
        "three foxes", space=space, width=256, height=256, steps=1, seed=5, randomize_seed=False, count=3
    )
    assert [generation.seed for generation in three] == [5, 6, 7]
    assert all(is_standin_picture(generation, "three foxes", generation.seed) for generation in three)


async def test_agenerate_reports_progress_of_the_job(space: str) -> None:
    events: list[object] = []
    await flux_widget.agenerate(
        "[slow] with progress", space=space, width=256, height=256, steps=3, on_progress=events.append
    )
    steps = [event for event in events if isinstance(event, Step)]
    assert any(isinstance(event, Queued) for event in events) and steps and steps[-1].length == 3


async def test_agenerate_takes_a_ready_request_and_refuses_it_with_parameters(space: str) -> None:
    request = GenerationRequest.build("a built fox", width=256, height=256, steps=1, seed=2, randomize_seed=False)
    assert (await flux_widget.agenerate(request, space=space)).seed == 2
    with pytest.raises(TypeError, match="not both"):
        await flux_widget.agenerate(request, space=space, seed=3)
    with pytest.raises(TypeError, match="unexpected keyword arguments: \\['sead'\\]"):
        await flux_widget.agenerate("typo", space=space, sead=3)  # type: ignore[call-arg]
    with pytest.raises(InvalidRequestError, match="prompt is empty"):
        await flux_widget.agenerate("  ", space=space)


async def test_cancelling_agenerate_cancels_the_job_on_the_space(space: str, journal: Journal) -> None:
    task = asyncio.ensure_future(
        flux_widget.agenerate("[slow] cancel me from agenerate", space=space, width=256, height=256, steps=12)
    )
    await asyncio.sleep(1.0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(await journal.cancels("cancel me from agenerate", 1)) == 1
    rank, seconds = await next_job_on(space)
    assert rank == 0 and seconds < 4  # the abandoned 12-step job no longer holds the one slot


async def test_agenerate_through_inference_providers(endpoint: tuple[str, Calls]) -> None:
    base, calls = endpoint
    generation = await flux_widget.agenerate(
        "an inferred async fox", backend="inference", model=f"{base}/ok", token=TOKEN,
        width=500, height=256, steps=3, seed=8, randomize_seed=False, guidance=2.5,
    )  # fmt: skip
    path, headers, body = calls.seen[-1]
    assert path == "/ok" and headers["authorization"] == f"Bearer {TOKEN}"
    assert body["parameters"] == {
        "width": 512,
        "height": 256,
        "num_inference_steps": 3,
        "guidance_scale": 2.5,
        "seed": 8,
    }
    assert (generation.seed, generation.width, generation.height) == (8, 512, 256)
    assert is_standin_picture(generation, "an inferred async fox", 8)


async def test_agenerate_count_through_inference_providers(endpoint: tuple[str, Calls]) -> None:
    base, calls = endpoint
    before = len(calls.seen)
    two = await flux_widget.agenerate(
        "two inferred", backend="inference", model=f"{base}/ok", token=TOKEN, width=256, height=256, seed=40,
        randomize_seed=False, count=2,
    )  # fmt: skip
    assert [generation.seed for generation in two] == [40, 41]
    assert sorted(body["parameters"]["seed"] for _, _, body in calls.seen[before:]) == [40, 41]
