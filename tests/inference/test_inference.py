"""The inference backend (issue 9): the real huggingface_hub client against a local Inference Endpoint."""

from __future__ import annotations

import asyncio
import base64
import io
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from support.inference_server import Calls, inference_endpoint
from support.kernel import pngs, run_cells, texts
from support.picture import mean_difference, render_picture

from flux_widget import (
    AuthenticationError,
    FluxClient,
    FluxError,
    GenerationError,
    InvalidRequestError,
    QuotaExceededError,
    ServiceUnavailableError,
)
from flux_widget.backends._inference import InferenceBackend
from flux_widget.types import GenerationRequest
from flux_widget.widget._widget import FluxWidget

TOKEN = "hf_" + "InferenceBackendSecret" * 2


@pytest.fixture(scope="module")
def endpoint() -> Iterator[tuple[str, Calls]]:
    with inference_endpoint() as served:
        yield served


@pytest.mark.anyio
async def test_generates_through_huggingface_hub_with_the_values_sent(endpoint: tuple[str, Calls]) -> None:
    base, calls = endpoint
    backend = InferenceBackend(f"{base}/ok", token=TOKEN)
    events: list[object] = []
    generation = await backend.generate(
        GenerationRequest.build(
            "an inferred fox", width=500, height=256, steps=3, seed=8, randomize_seed=False, guidance=2.5
        ),
        on_progress=events.append,
    )  # fmt: skip
    await backend.aclose()
    path, headers, body = calls.seen[-1]
    assert path == "/ok" and headers["authorization"] == f"Bearer {TOKEN}"
    assert body == {
        "inputs": "an inferred fox",
        "parameters": {"width": 512, "height": 256, "num_inference_steps": 3, "guidance_scale": 2.5, "seed": 8},
    }
    assert (generation.seed, generation.width, generation.height, generation.steps, generation.guidance) == (
        8, 512, 256, 3, 2.5,
    )  # fmt: skip
    assert generation.mime_type == "image/webp" and [type(e).__name__ for e in events] == ["Started"]
    picture = Image.open(io.BytesIO(generation.image_bytes))
    assert mean_difference(picture, render_picture("an inferred fox", 8, 512, 256)) < 6


@pytest.mark.anyio
async def test_a_randomized_seed_is_the_one_sent(endpoint: tuple[str, Calls]) -> None:
    base, calls = endpoint
    backend = InferenceBackend(f"{base}/ok", token=TOKEN)
    generation = await backend.generate(GenerationRequest.build("random", width=256, height=256, randomize_seed=True))
    await backend.aclose()
    assert calls.seen[-1][2]["parameters"]["seed"] == generation.seed  # type: ignore[index]


#: The error each refusal of the endpoint maps onto, and what it says.
REFUSALS: dict[str, tuple[type[FluxError], str]] = {
    "401": (AuthenticationError, "refused the token (HTTP 401): Invalid credentials"),
    "403": (AuthenticationError, "refused the token (HTTP 403)"),
    "402": (QuotaExceededError, "quota is used up (HTTP 402, your Inference Providers credits are used up)"),
    "429": (QuotaExceededError, "quota is used up (HTTP 429, too many requests)"),
    "503": (ServiceUnavailableError, "failed on its side (HTTP 503): Model is overloaded"),
}


@pytest.mark.anyio
@pytest.mark.parametrize("mode", list(REFUSALS))
async def test_errors_map_onto_the_family(endpoint: tuple[str, Calls], mode: str) -> None:
    base, _ = endpoint
    kind, message = REFUSALS[mode]
    backend = InferenceBackend(f"{base}/{mode}", token=TOKEN)
    with pytest.raises(kind, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        await backend.generate(GenerationRequest.build("refused", width=256, height=256))
    await backend.aclose()
    assert TOKEN not in str(caught.value) and caught.value.__context__ is None
    if mode == "429":
        assert caught.value.retry_after == 30


@pytest.mark.anyio
async def test_unreachable_and_missing_token(endpoint: tuple[str, Calls], monkeypatch: pytest.MonkeyPatch) -> None:
    from support.servers import free_port

    nowhere = InferenceBackend(f"http://127.0.0.1:{free_port()}/ok", token=TOKEN)
    with pytest.raises(ServiceUnavailableError, match="Cannot reach"):
        await nowhere.generate(GenerationRequest.build("nobody listens", width=256, height=256))
    await nowhere.aclose()
    monkeypatch.delenv("HF_TOKEN", raising=False)
    before = len(endpoint[1].seen)
    with pytest.raises(InvalidRequestError, match="needs a Hugging Face token: set HF_TOKEN"):
        InferenceBackend(f"{endpoint[0]}/ok")
    assert len(endpoint[1].seen) == before


@pytest.mark.anyio
async def test_cancel_ends_the_request(endpoint: tuple[str, Calls]) -> None:
    backend = InferenceBackend(f"{endpoint[0]}/slow", token=TOKEN)
    task = asyncio.ensure_future(backend.generate(GenerationRequest.build("too slow", width=256, height=256)))
    await asyncio.sleep(0.5)
    begin = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - begin < 2
    await backend.aclose()


@pytest.mark.anyio
async def test_widget_with_the_inference_backend(endpoint: tuple[str, Calls]) -> None:
    widget = FluxWidget(backend="inference", model=f"{endpoint[0]}/ok", token=TOKEN, width=256, height=256)
    generation = await widget.generate("widget via inference", seed=2, randomize_seed=False, guidance=4.0)
    assert "guidance_scale" in widget.space_parameters and generation.guidance == 4.0
    assert widget.image == generation.file_bytes and TOKEN not in str(widget.get_state())
    widget.close()


@pytest.mark.anyio
async def test_space_quota_with_a_token_names_the_paid_way_out(space: str) -> None:
    async with FluxClient(space, token=TOKEN) as client:
        with pytest.raises(QuotaExceededError, match='backend="inference"'):
            await client.generate("[quota] please", width=256, height=256)
    async with FluxClient(space, token="") as client:  # anonymous: no such advice
        with pytest.raises(QuotaExceededError) as caught:
            await client.generate("[quota] please", width=256, height=256)
    assert "inference" not in str(caught.value)


def test_magic_cli_and_env_choose_the_backend(
    endpoint: tuple[str, Calls], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, calls = endpoint
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    _, shown = run_cells(
        ["%load_ext flux_widget", f"%flux a magic fox --backend inference --model {base}/ok --width 256 --height 256"],
        tmp_path,
    )
    assert pngs(shown) and any("a magic fox" in text for text in texts(shown))
    cli = subprocess.run(
        [sys.executable, "-m", "flux_widget", "a cli fox", "--backend", "inference", "--model", f"{base}/ok",
         "--width", "256", "--height", "256", "--seed", "5"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    assert "seed 5" in cli.stdout and (tmp_path / "flux.webp").exists()
    monkeypatch.setenv("FLUX_WIDGET_BACKEND", "inference")
    script = f"import flux_widget\nprint(flux_widget.generate('an env fox', model='{base}/ok', width=256).seed >= 0)"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.stdout == "True\n", result.stderr
    assert [body["inputs"] for _, _, body in calls.seen[-3:]] == ["a magic fox", "a cli fox", "an env fox"]
    assert all(headers["authorization"] == f"Bearer {TOKEN}" for _, headers, _ in calls.seen[-3:])
    monkeypatch.setenv("FLUX_WIDGET_BACKEND", "teleport")
    with pytest.raises(FluxError, match="backend must be 'space', 'inference' or 'local', not 'teleport'"):
        FluxWidget()


# ---------------------------------------------------------------- the chosen provider reaches the request

MODEL = "black-forest-labs/FLUX.1-schnell"
#: Each entry point's way of choosing ``provider``, as a program run with the routes' environment.
CHOOSERS = {
    "generate": "flux_widget.generate('x', backend='inference', model={model!r}, inference_provider={provider!r})",
    "agenerate": (
        "asyncio.run(flux_widget.agenerate('x', backend='inference', model={model!r}, inference_provider={provider!r}))"
    ),
    "widget": "asyncio.run(widget_run({model!r}, {provider!r}))",
}
PROGRAM = """
import asyncio, flux_widget
async def widget_run(model, provider):
    w = flux_widget.FluxWidget(backend='inference', model=model, inference_provider=provider)
    try:
        await w.generate('x')
    finally:
        w.close()
try:
    {call}
except flux_widget.FluxError as exc:
    print(type(exc).__name__)
"""


def routed_run(args: list[str]) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run ``python *args`` against the Hub stand-in and the noting proxy; the result and the hosts it tried.

    The key is a provider's own (not ``hf_…``), so huggingface_hub calls the provider's host directly.
    """
    from support.provider_routes import provider_routes

    with provider_routes() as routes:
        env = {**os.environ, "HF_ENDPOINT": routes.hub, "HTTPS_PROXY": routes.proxy, "HF_TOKEN": "a-provider-key"}
        env["HF_HUB_DISABLE_TELEMETRY"] = "1"
        for name in ("NO_PROXY", "no_proxy"):
            env.pop(name, None)
        with tempfile.TemporaryDirectory() as folder:
            result = subprocess.run(
                [sys.executable, *args], env=env, capture_output=True, text=True, timeout=120, cwd=folder
            )
        return result, list(routes.hosts)


@pytest.mark.parametrize("chooser", sorted(CHOOSERS))
@pytest.mark.parametrize(
    ("provider", "host"),
    [("replicate", "api.replicate.com:443"), ("together", "api.together.xyz:443"), ("fal-ai", "fal.run:443")],
)
def test_the_chosen_provider_is_the_one_called(chooser: str, provider: str, host: str) -> None:
    call = CHOOSERS[chooser].format(model=MODEL, provider=provider)
    result, hosts = routed_run(["-c", PROGRAM.format(call=call)])
    assert result.stdout.strip() == "ServiceUnavailableError", result.stderr[-2000:]  # the proxy refused it
    assert hosts and set(hosts) == {host}


def test_the_cli_provider_option_is_the_one_called() -> None:
    result, hosts = routed_run(
        ["-m", "flux_widget", "x", "--backend", "inference", "--model", MODEL, "--provider", "together"]
    )
    assert result.returncode == 1 and "error:" in result.stderr
    assert hosts and set(hosts) == {"api.together.xyz:443"}


# ---------------------------------------------------------------- an endpoint that does not play fair (issue 18)

MiB = 1024 * 1024


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("mode", "kind", "says", "bound"),
    [
        ("huge-answer", GenerationError, "answer is over the 33554432-byte limit", 64 * MiB),
        ("gzip-answer", GenerationError, "answer is over the 33554432-byte limit", 48 * MiB),
        ("br-answer", GenerationError, "encoded as 'br', which the client did not ask for", 8 * MiB),
        ("wide-image", GenerationError, "claims to be 9000×9000 pixels", 8 * MiB),
        ("truncated-image", GenerationError, "image was refused", 8 * MiB),
    ],
    ids=["huge-answer", "gzip-answer", "br-answer", "wide-image", "truncated-image"],
)
async def test_answers_are_read_with_the_space_paths_limits(
    endpoint: tuple[str, Calls], mode: str, kind: type, says: str, bound: int
) -> None:
    import gc
    import tracemalloc

    backend = InferenceBackend(f"{endpoint[0]}/{mode}", token=TOKEN)
    gc.collect()
    tracemalloc.start()
    try:
        with pytest.raises(FluxError) as caught:
            await backend.generate(GenerationRequest.build("hostile", width=256, height=256))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        await backend.aclose()
    assert isinstance(caught.value, kind) and says in str(caught.value), str(caught.value)
    print(f"{mode}: peak {peak / MiB:.1f} MiB")
    assert peak < bound, f"memory peaked at {peak / MiB:.1f} MiB"
    assert caught.value.__context__ is None and TOKEN not in str(caught.value)


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["retry-superscript", "retry-long"])
async def test_an_odd_retry_after_is_an_unknown_wait(endpoint: tuple[str, Calls], mode: str) -> None:
    backend = InferenceBackend(f"{endpoint[0]}/{mode}", token=TOKEN)
    with pytest.raises(QuotaExceededError) as caught:
        await backend.generate(GenerationRequest.build("wait", width=256, height=256))
    await backend.aclose()
    assert caught.value.retry_after is None and caught.value.__context__ is None


@pytest.mark.anyio
async def test_an_echoed_token_and_escapes_never_reach_the_message(endpoint: tuple[str, Calls]) -> None:
    backend = InferenceBackend(f"{endpoint[0]}/echo-error", token=TOKEN)
    with pytest.raises(GenerationError) as caught:
        await backend.generate(GenerationRequest.build("echo", width=256, height=256))
    await backend.aclose()
    text = str(caught.value)
    assert "HTTP 400" in text and "hf_…(hidden)" in text and TOKEN not in text
    assert "\x1b" not in text and "\x07" not in text


@pytest.mark.anyio
@pytest.mark.parametrize("deadline", [float("nan"), float("inf"), 0, -1])
async def test_a_deadline_that_is_no_deadline_is_refused(endpoint: tuple[str, Calls], deadline: float) -> None:
    from flux_widget import agenerate

    with pytest.raises(InvalidRequestError, match="deadline must be a positive number of seconds"):
        InferenceBackend(f"{endpoint[0]}/ok", token=TOKEN, deadline=deadline)
    with pytest.raises(InvalidRequestError, match="deadline must be a positive number of seconds"):
        await agenerate("x", backend="inference", model=f"{endpoint[0]}/ok", token=TOKEN, deadline=deadline)


@pytest.mark.anyio
async def test_an_edit_goes_as_huggingface_hubs_image_to_image_and_one_image_is_the_limit(
    endpoint: tuple[str, Calls],
) -> None:
    from support.standin_edit_space import edited

    base, calls = endpoint
    source = Image.new("RGB", (80, 48), (30, 160, 90))
    backend = InferenceBackend(f"{base}/ok", token=TOKEN)
    request = GenerationRequest.build("make it red", images=[source], seed=4, randomize_seed=False, steps=2)
    generation = await backend.generate(request)
    _, _, body = calls.seen[-1]
    parameters = body["parameters"]
    assert parameters["prompt"] == "make it red" and parameters["seed"] == 4 and parameters["num_inference_steps"] == 2
    assert parameters["target_size"] == {"width": 1312, "height": 800}  # about 1024², the input's aspect, fitted
    with Image.open(io.BytesIO(base64.b64decode(body["inputs"]))) as sent:
        assert sent.size == (80, 48)
    assert mean_difference(Image.open(io.BytesIO(generation.image_bytes)), edited(source)) < 3
    assert generation.images and generation.images[0]["width"] == 80
    seen = len(calls.seen)
    with pytest.raises(InvalidRequestError, match="take at most 1 image"):
        await backend.generate(GenerationRequest.build("two", images=[source, source]))
    await backend.aclose()
    assert len(calls.seen) == seen  # nothing sent
