"""The fault matrix (README, "Reliability"), each proven against a real server on 127.0.0.1.

The stand-in Gradio Space gives the app's own failures (quota, crash, cancel); a small misbehaving
server of ours gives the rest (sleeping Space, cut stream, malformed event, bad image, …).
"""

from __future__ import annotations

import asyncio
import gc
import os
import time
import tracemalloc

import pytest
from support.helpers import client_failure
from support.misbehaving import Seen
from support.servers import free_port

from flux_widget import (
    FluxClient,
    FluxError,
    GenerationError,
    InvalidRequestError,
    QuotaExceededError,
    SpaceUnavailableError,
)
from flux_widget.widget._widget import FluxWidget

pytestmark = pytest.mark.anyio
TOKEN = "hf_" + "FaultMatrixSecret" * 2


async def failure(base: str, mode: str, **options: object) -> FluxError:
    """The error generating against ``{base}/{mode}`` raises (with a token set, to prove it stays hidden)."""
    return await client_failure(f"{base}/{mode}", TOKEN, seconds=30, **options)  # type: ignore[arg-type]




async def test_quota_error_has_its_wait(space: str) -> None:
    error = await failure(space, "", prompt="[quota] more")
    assert isinstance(error, QuotaExceededError) and error.retry_after == 754
    assert "Try again in 0:12:34" in str(error)


async def test_app_error_with_text_and_hidden(space: str) -> None:
    shown = await failure(space, "", prompt="[gr-error] x")
    hidden = await failure(space, "", prompt="[crash] x")
    assert isinstance(shown, GenerationError) and "refused by the safety checker" in str(shown)
    assert isinstance(hidden, GenerationError) and "did not say why" in str(hidden)


async def test_nothing_listening_fails_within_seconds() -> None:
    begin = time.monotonic()
    error = await failure(f"http://127.0.0.1:{free_port()}", "")
    assert isinstance(error, SpaceUnavailableError) and "Cannot reach the Space" in str(error)
    assert time.monotonic() - begin < 10


@pytest.mark.parametrize(("mode", "state"), [("sleeping", "sleeping"), ("building", "building")])
async def test_sleeping_or_building_space_is_retried_then_named(
    bad_space: tuple[str, Seen], mode: str, state: str
) -> None:
    base, seen = bad_space
    before = len(seen.paths(f"/{mode}/config"))
    error = await failure(base, mode, retries=2, backoff=0.05)
    assert isinstance(error, SpaceUnavailableError)
    assert f"The Space is {state} (HTTP 503)" in str(error)
    assert len(seen.paths(f"/{mode}/config")) - before == 3  # the first try and two retries, no more


#: What each broken answer of the misbehaving server must be named as.
BROKEN_ANSWERS: dict[str, tuple[type[FluxError], str]] = {
    "html-config": (SpaceUnavailableError, "HTTP 200"),
    "ends-early": (GenerationError, "ended before the image was ready"),
    "cut": (GenerationError, "connection to the Space was cut"),
    "malformed": (GenerationError, "malformed event (not JSON): '{not json'"),
    "no-msg": (GenerationError, "malformed event (no 'msg' field)"),
    "empty-output": (GenerationError, "cancelled on the Space before it produced an image"),
}


@pytest.mark.parametrize("mode", list(BROKEN_ANSWERS))
async def test_broken_answers_are_named(bad_space: tuple[str, Seen], mode: str) -> None:
    kind, says = BROKEN_ANSWERS[mode]
    error = await failure(bad_space[0], mode)
    assert isinstance(error, kind) and says in str(error)


@pytest.mark.parametrize(
    ("mode", "message", "bound"),
    [  # bound: about twice the peak measured here (README)
        ("not-image", "not an image", 4 * 2**20),
        ("bomb", "cannot be read", 4 * 2**20),  # Pillow's own decompression-bomb guard, header only
        ("huge-claim", "claims to be 5000×5000 pixels", 4 * 2**20),
        ("huge-body", "over the 33554432-byte limit", 48 * 2**20),
    ],
)
async def test_bad_image_results_are_refused(bad_space: tuple[str, Seen], mode: str, message: str, bound: int) -> None:
    tracemalloc.start()
    try:
        error = await failure(bad_space[0], mode)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(error, GenerationError) and message in str(error)
    print(f"{mode}: peak {peak / 2**20:.1f} MiB")
    assert peak < bound, f"memory peaked at {peak / 2**20:.1f} MiB (bound {bound / 2**20:.0f} MiB)"


async def test_an_event_stream_with_cr_line_endings_is_read(bad_space: tuple[str, Seen]) -> None:
    async with FluxClient(f"{bad_space[0]}/cr-lines") as client:
        assert (await client.generate("carriage returns", width=256, height=256)).seed == 7


async def test_events_of_other_jobs_in_the_session_are_ignored(bad_space: tuple[str, Seen]) -> None:
    async with FluxClient(f"{bad_space[0]}/other-jobs") as client:
        assert (await client.generate("mine", width=256, height=256)).seed == 7  # not the other job's error


async def test_gradio_4_routes_without_a_prefix_are_followed(bad_space: tuple[str, Seen]) -> None:
    base, seen = bad_space
    async with FluxClient(f"{base}/gradio4") as client:
        generation = await client.generate("old gradio", width=256, height=256)
    assert generation.seed == 17 and generation.image.size == (256, 256)
    assert seen.paths("/gradio4/") == [
        "/gradio4/config", "/gradio4/info", "/gradio4/queue/join", "/gradio4/queue/data", "/gradio4/file=x",
    ]  # fmt: skip


async def test_a_file_url_naming_the_spaces_own_host_otherwise_is_fetched_from_the_space(
    bad_space: tuple[str, Seen],
) -> None:
    base, seen = bad_space
    async with FluxClient(f"{base}/proxy-url") as client:
        generation = await client.generate("behind a proxy", width=256, height=256)
    assert generation.url == f"{base}/proxy-url/gradio_api/file=x"  # the Space's own scheme and port
    assert seen.paths("/proxy-url/gradio_api/file=x") == ["/proxy-url/gradio_api/file=x"]


async def test_result_on_another_origin_is_never_fetched(bad_space: tuple[str, Seen]) -> None:
    base, seen = bad_space
    error = await failure(base, "other-origin")
    assert isinstance(error, GenerationError) and "points outside the Space" in str(error)
    assert seen.paths("/other-origin/elsewhere") == []
    scheme = await failure(base, "file-scheme")
    assert isinstance(scheme, GenerationError) and "outside the Space (file://" in str(scheme)


async def test_silent_server_past_the_timeout_names_the_limit(bad_space: tuple[str, Seen]) -> None:
    begin = time.monotonic()
    during_job = await failure(bad_space[0], "silent", timeout=1.0)
    at_config = await failure(bad_space[0], "slow-config", timeout=1.0)
    assert isinstance(during_job, SpaceUnavailableError) and "sent nothing for 1 s" in str(during_job)
    assert isinstance(at_config, SpaceUnavailableError) and "did not answer within 1 s" in str(at_config)
    assert time.monotonic() - begin < 10


async def test_bad_requests_never_reach_the_space(bad_space: tuple[str, Seen]) -> None:
    base, seen = bad_space
    before = len(seen.requests)
    async with FluxClient(f"{base}/ok") as client:
        for bad in ("", "  \n"):
            with pytest.raises(InvalidRequestError):
                await client.generate(bad)
        with pytest.raises(InvalidRequestError):
            await client.generate("fine", seed=-3)
    assert len(seen.requests) == before


async def test_token_goes_to_the_space_and_nowhere_else(bad_space: tuple[str, Seen]) -> None:
    base, seen = bad_space
    async with FluxClient(f"{base}/ok", token=TOKEN) as client:
        await client.generate("with a token", width=256, height=256)
    sent = [headers for path, headers in seen.requests if path.startswith("/ok/")]
    assert sent and all(h.get("authorization") == f"Bearer {TOKEN}" for h in sent)
    assert all(h.get("x-hf-authorization") == f"Bearer {TOKEN}" for h in sent)


async def test_widget_recovers_from_every_fault_and_keeps_history(space: str, bad_space: tuple[str, Seen]) -> None:
    widget = FluxWidget(space, token=TOKEN, width=256, height=256, steps=1)
    kept = await widget.generate("keep me", seed=1, randomize_seed=False)
    history = list(widget.history)
    for mode in ("sleeping", "cut", "malformed", "bomb", "other-origin"):
        widget._client = FluxClient(f"{bad_space[0]}/{mode}", token=TOKEN, retries=0)
        with pytest.raises(FluxError):
            await widget.generate(f"fails: {mode}")
        assert widget.status == "error" and widget.error and TOKEN not in widget.error
        assert widget.history == history and widget.generations == [kept]
        assert widget.image == kept.file_bytes
        await widget._client.aclose()
    widget.close()


def open_file_descriptors() -> int:
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0


def live_tasks() -> set[asyncio.Task[object]]:
    """The loop's tasks, less those closing async generators that other tests left to the garbage collector."""
    return {task for task in asyncio.all_tasks() if "async_generator_athrow" not in repr(task.get_coro())}


async def test_100_in_a_row_and_20_concurrent_leave_nothing_open(space: str) -> None:
    fds_before = open_file_descriptors()
    tasks_before = len(live_tasks())
    async with FluxClient(space) as client:
        for i in range(100):
            generation = await client.generate(f"row {i}", width=256, height=256, steps=1, seed=i, randomize_seed=False)
            assert generation.seed == i
        results = await asyncio.gather(
            *(
                client.generate(f"together {i}", width=256, height=256, steps=1, seed=i, randomize_seed=False)
                for i in range(20)
            )
        )
        assert [g.seed for g in results] == list(range(20))
        pool = client._space._http._transport._pool  # httpcore's pool: what the client holds open
    assert client.closed
    assert len(pool.connections) == 0, f"{len(pool.connections)} connections left open"
    assert len(live_tasks()) == tasks_before, "a task outlived the client"
    assert open_file_descriptors() <= fds_before + 2, (fds_before, open_file_descriptors())


#: Photo-sized images: 1024² WebPs of 100–250 KB, so keeping one object per generation shows.
MEMORY_RUNS = 40
MEMORY_BOUND = 3 * 1024 * 1024


async def test_memory_stays_flat_over_photo_sized_generations(textured_space: str) -> None:
    async with FluxClient(textured_space) as client:
        for i in range(5):  # warm up: connections, /config, Pillow's plugins
            await client.generate(f"warm {i}", steps=1)
        gc.collect()
        tracemalloc.start()
        try:
            baseline, _ = tracemalloc.get_traced_memory()
            sizes = []
            for i in range(MEMORY_RUNS):
                generation = await client.generate(f"photo {i}", steps=1, seed=i, randomize_seed=False)
                sizes.append(len(generation.image_bytes))
                del generation
            gc.collect()
            grown, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert min(sizes) > 80_000, sizes  # photo-like: a leak of one image per run would be megabytes
    growth = grown - baseline
    print(f"traced growth over {MEMORY_RUNS} photo-sized generations: {growth / 2**20:.2f} MiB")
    assert growth < MEMORY_BOUND, f"memory grew {growth / 2**20:.1f} MiB over {MEMORY_RUNS} generations"
