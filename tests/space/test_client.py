"""FluxClient end to end against the real Gradio stand-in Space."""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path

import httpx
import pytest
from PIL import Image
from support.journal import Journal
from support.misbehaving import Seen
from support.picture import mean_difference, parameters, render_picture, tool_text
from support.servers import next_job_on

from flux_widget import (
    FluxClient,
    Generation,
    GenerationError,
    InvalidRequestError,
    Queued,
    QuotaExceededError,
    Started,
    Step,
    space_url,
)
from flux_widget.types import MAX_SEED

pytestmark = pytest.mark.anyio


def looks_like(generation: Generation, prompt: str, seed: int) -> bool:
    """Whether the generation's pixels are the stand-in's picture for this prompt and seed."""
    expected = render_picture(prompt, seed, generation.width, generation.height)
    return mean_difference(Image.open(io.BytesIO(generation.image_bytes)), expected) < 6


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("black-forest-labs/FLUX.1-schnell", "https://black-forest-labs-flux-1-schnell.hf.space"),
        ("Me/My_Space.v2", "https://me-my-space-v2.hf.space"),
        ("http://127.0.0.1:7860/", "http://127.0.0.1:7860"),
        ("https://example.org/sub/path", "https://example.org/sub/path"),
        # What people paste (issue 18): the Space's page, a trailing slash, a query, a fragment.
        (
            "https://huggingface.co/spaces/black-forest-labs/FLUX.1-schnell",
            "https://black-forest-labs-flux-1-schnell.hf.space",
        ),
        ("https://huggingface.co/spaces/me/my_space?logs=container", "https://me-my-space.hf.space"),
        ("https://huggingface.co/spaces/me/x/tree/main", "https://me-x.hf.space"),
        ("owner/name/", "https://owner-name.hf.space"),
        ("http://127.0.0.1:7860/?__theme=dark", "http://127.0.0.1:7860"),
        ("http://127.0.0.1:7860/#top", "http://127.0.0.1:7860"),
    ],
)
def test_space_url_maps_ids_and_keeps_urls(given: str, expected: str) -> None:
    assert space_url(given) == expected


def test_space_url_defaults_to_env_then_public_space(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLUX_WIDGET_SPACE", raising=False)
    assert space_url() == "https://black-forest-labs-flux-1-schnell.hf.space"
    monkeypatch.setenv("FLUX_WIDGET_SPACE", "someone/other-flux")
    assert space_url() == "https://someone-other-flux.hf.space"


async def test_generate_returns_the_spaces_picture_with_the_fixed_seed(space: str) -> None:
    async with FluxClient(space) as client:
        generation = await client.generate(
            "a cat in a hat", width=512, height=384, steps=2, seed=3, randomize_seed=False
        )
    assert (generation.seed, generation.width, generation.height, generation.steps) == (3, 512, 384, 2)
    assert generation.mime_type == "image/webp"
    assert generation.image.size == (512, 384)
    assert looks_like(generation, "a cat in a hat", 3)
    assert generation.url.startswith(space)
    assert generation.elapsed > 0


async def test_randomized_seed_is_the_one_the_space_used(space: str) -> None:
    async with FluxClient(space) as client:
        generation = await client.generate("random", width=256, height=256, seed=0, randomize_seed=True)
        again = await client.generate("random", width=256, height=256, seed=generation.seed, randomize_seed=False)
    assert 0 <= generation.seed <= MAX_SEED
    assert looks_like(generation, "random", generation.seed)
    assert again.image_bytes == generation.image_bytes


async def test_discovers_prefix_and_infer_by_api_name(space: str) -> None:
    async with FluxClient(space) as client:
        info = await client.info()
        assert await client.info() is info
    assert info.api_prefix == "/gradio_api"
    # The stand-in declares gr.Examples first, like the hosted Space: infer is not fn_index 0.
    assert info.fn_index == 1
    assert info.trigger_id is not None


async def test_progress_events_arrive_in_order(space: str) -> None:
    events: list[object] = []
    async with FluxClient(space) as client:
        generation = await client.generate("[slow] progress", width=256, height=256, steps=3, on_progress=events.append)
    assert isinstance(events[0], Queued) and events[0].rank == 0
    assert isinstance(events[1], Started)
    steps = [event for event in events if isinstance(event, Step)]
    assert [step.index for step in steps][:3] == [0, 1, 2]
    assert all(step.length == 3 for step in steps)
    assert generation.steps == 3


async def test_async_progress_callbacks_are_awaited(space: str) -> None:
    seen: list[str] = []

    async def record(event: object) -> None:
        await asyncio.sleep(0)
        seen.append(type(event).__name__)

    async with FluxClient(space) as client:
        await client.generate("async callback", width=256, height=256, steps=1, on_progress=record)
    assert seen[:2] == ["Queued", "Started"]


async def test_stream_yields_events_then_the_generation(space: str) -> None:
    async with FluxClient(space) as client:
        items = [
            item
            async for item in client.stream(
                "[slow] streamed", width=256, height=256, steps=2, seed=9, randomize_seed=False
            )
        ]
    assert isinstance(items[-1], Generation)
    assert items[-1].seed == 9
    assert all(not isinstance(item, Generation) for item in items[:-1])
    assert any(isinstance(item, Step) for item in items)


@pytest.mark.parametrize(
    ("kwargs", "used"),
    [
        ({"width": 500, "height": 300}, (512, 288, 4)),
        ({"width": 100, "height": 5000}, (256, 2048, 4)),
        ({"width": 256, "height": 256, "steps": 0}, (256, 256, 1)),
        ({"width": 256, "height": 256, "steps": 99}, (256, 256, 50)),
    ],
)
async def test_sizes_snap_and_steps_clamp_to_what_the_space_accepts(space: str, kwargs: dict, used: tuple) -> None:
    async with FluxClient(space) as client:
        generation = await client.generate("snap", seed=1, randomize_seed=False, **kwargs)
    assert (generation.width, generation.height, generation.steps) == used
    assert generation.image.size == used[:2]


@pytest.mark.parametrize(
    ("prompt", "kwargs", "message"),
    [
        ("", {}, "prompt is empty"),
        ("   \n\t", {}, "prompt is empty"),
        (None, {}, "must be text"),
        ("ok", {"seed": -1}, "seed must be between 0 and 2147483647"),
        ("ok", {"seed": MAX_SEED + 1}, "seed must be between"),
        ("ok", {"width": 0}, "width must be a positive"),
        ("ok", {"height": 512.5}, "height must be a whole number"),
        ("ok", {"steps": "many"}, "steps must be a whole number"),
    ],
)
async def test_bad_requests_fail_before_any_request(prompt: object, kwargs: dict, message: str) -> None:
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(500))
    async with FluxClient("http://127.0.0.1:9", transport=transport) as client:
        with pytest.raises(InvalidRequestError, match=message) as caught:
            await client.generate(prompt, **kwargs)  # type: ignore[arg-type]
    assert isinstance(caught.value, ValueError)
    assert sent == []


async def test_quota_error_is_typed_with_its_wait_and_no_markup(space: str) -> None:
    async with FluxClient(space) as client:
        with pytest.raises(QuotaExceededError) as caught:
            await client.generate("[quota] anything")
    assert caught.value.retry_after == 754
    assert "Try again in 0:12:34" in str(caught.value)
    assert "<a" not in str(caught.value) and "Create a free account" in str(caught.value)
    assert "HF_TOKEN" in str(caught.value)


async def test_app_error_text_is_shown(space: str) -> None:
    async with FluxClient(space) as client:
        with pytest.raises(GenerationError, match="refused by the safety checker"):
            await client.generate("[gr-error] anything")


async def test_hidden_app_error_gets_a_clear_generic_message(space: str) -> None:
    async with FluxClient(space) as client:
        with pytest.raises(GenerationError, match="did not say why"):
            await client.generate("[crash] anything")


async def test_cancelling_the_task_cancels_the_space_job(space: str, journal: Journal) -> None:
    async with FluxClient(space) as client:
        started = asyncio.Event()

        def on_progress(event: object) -> None:
            if isinstance(event, Step):
                started.set()

        # 12 steps of 0.6 s: about 7 s if the Space kept running it.
        task = asyncio.create_task(
            client.generate("[slow] abandon me", width=256, height=256, steps=12, on_progress=on_progress)
        )
        await asyncio.wait_for(started.wait(), 30)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert len(await journal.cancels("abandon me", 1)) == 1  # the Space itself was told
    rank, waited = await next_job_on(space)
    # The one-slot stand-in ran the next job at once instead of after the abandoned one.
    assert rank == 0
    assert waited < 4, f"the next job waited {waited:.1f} s: the abandoned job kept the slot"


async def test_leaving_the_stream_early_cancels_the_job(space: str, journal: Journal) -> None:
    async with FluxClient(space) as client:
        async for item in client.stream("[slow] leave early", width=256, height=256, steps=12):
            if isinstance(item, Step):
                break
        assert len(await journal.cancels("leave early", 1)) == 1
        begin = time.monotonic()
        await client.generate("after leaving", width=256, height=256, steps=1)
        assert time.monotonic() - begin < 4


async def test_concurrent_generations_share_one_client(space: str) -> None:
    async with FluxClient(space) as client:
        results = await asyncio.gather(
            *(client.generate(f"concurrent {i}", width=256, height=256, seed=i, randomize_seed=False) for i in range(5))
        )
    assert [g.seed for g in results] == list(range(5))
    assert all(looks_like(g, f"concurrent {i}", i) for i, g in enumerate(results))


async def test_env_space_is_used_when_none_is_given(space_env: str) -> None:
    async with FluxClient() as client:
        assert client.base_url == space_env
        generation = await client.generate("from env", width=256, height=256)
    assert generation.url.startswith(space_env)


async def test_save_png_embeds_parameters_and_webp_keeps_bytes(space: str, tmp_path: Path) -> None:
    async with FluxClient(space) as client:
        generation = await client.generate("saved", width=320, height=256, steps=2, seed=11, randomize_seed=False)
    png = generation.save(tmp_path / "out.png")
    with Image.open(png) as picture:
        assert picture.format == "PNG"
        expected = {"prompt": "saved", "seed": "11", "width": "320", "height": "256", "steps": "2", "model": space}
        assert parameters(picture) == expected
        # As tools read it: the address holds ":", so it is quoted as web UIs quote such a value.
        assert tool_text(picture) == f'saved\nSteps: 2, Seed: 11, Size: 320x256, Model: "{space}"'
        assert picture.size == (320, 256)
    webp = generation.save(tmp_path / "out.webp").read_bytes()
    assert generation.image_bytes[12:] in webp  # the Space's own chunks, not re-encoded
    with Image.open(io.BytesIO(webp)) as picture:
        assert picture.tobytes() == generation.image.tobytes()
        assert parameters(picture) == expected
    with Image.open(generation.save(tmp_path / "out.jpg")) as picture:
        assert picture.format == "JPEG" and parameters(picture)["seed"] == "11"
    with pytest.raises(ValueError, match=r"cannot save an image as '\.xyz'"):
        generation.save(tmp_path / "out.xyz")


async def test_token_is_sent_to_the_space_only_and_never_shown() -> None:
    seen: list[httpx.Request] = []
    secret = "hf_" + "x" * 34

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"dependencies": [{"id": 0, "api_name": "infer", "targets": [[1, "click"]]}]})

    async with FluxClient(
        "https://owner-name.hf.space", token=secret, transport=httpx.MockTransport(handler)
    ) as client:
        await client.info()
        await client._space._http.get("https://elsewhere.example/x")  # another origin: no token
        assert secret not in repr(client)
    assert seen[0].headers["authorization"] == f"Bearer {secret}"
    assert seen[0].headers["x-hf-authorization"] == f"Bearer {secret}"
    assert seen[-1].url.host == "elsewhere.example" and "authorization" not in seen[-1].headers


async def test_token_defaults_to_hf_token_env(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[httpx.Request] = []
    monkeypatch.setenv("HF_TOKEN", "hf_from_env")

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"dependencies": [{"id": 0, "api_name": "infer", "targets": []}]})

    async with FluxClient("https://a-b.hf.space", transport=httpx.MockTransport(handler)) as client:
        await client.info()
    assert seen[0].headers["authorization"] == "Bearer hf_from_env"


async def test_token_reaches_the_spaces_origin_and_no_other_on_a_real_server(bad_space: tuple[str, Seen]) -> None:
    # The real twin of the mocked test above. 127.0.0.1 and localhost are two origins of one server,
    # so it sees both: every request of a generation, with the token, and one for another origin
    # through the client's own connection pool (the public client never asks another origin
    # anything, so the auth's origin check is tested where it lives), without it.
    base, seen = bad_space
    secret = "hf_" + "RealOriginSecret" * 2
    elsewhere = base.replace("127.0.0.1", "localhost") + "/origin-check/elsewhere"
    async with FluxClient(f"{base}/origin-check", token=secret) as client:
        await client.generate("with a token", width=256, height=256)
        await client._space._http.get(elsewhere)
    mine = [headers for path, headers in seen.requests if path.startswith("/origin-check/") and "elsewhere" not in path]
    other = [headers for path, headers in seen.requests if path == "/origin-check/elsewhere"]
    assert len(mine) >= 4 and all(h["authorization"] == f"Bearer {secret}" for h in mine)
    assert len(other) == 1 and "authorization" not in other[0] and "x-hf-authorization" not in other[0]
