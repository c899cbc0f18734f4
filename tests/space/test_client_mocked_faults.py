"""Faults and layouts a real Gradio 6 server cannot easily produce, through ``httpx.MockTransport``.

Each has a real-server twin in ``tests/space/test_fault_matrix.py``, against the misbehaving server
(``support/misbehaving.py``): the Gradio 4 layout (``gradio4``), a malformed event, an event without
``msg``, a stream that ends early, other jobs' events, empty output, and a file URL that names the
Space's own host with another scheme and port (``proxy-url``: http and another port here, since no
local server speaks https; the mending is the same). No real Gradio 4 server runs here: its layout is
served by ours, not by Gradio 4.44 itself.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import httpx
import pytest
from PIL import Image

from flux_widget import FluxClient, GenerationError

pytestmark = pytest.mark.anyio

BASE = "https://owner-space.hf.space"


def webp(size: tuple[int, int] = (256, 256)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(out, format="WEBP")
    return out.getvalue()


def gradio4_space(events: Callable[[str], list[str]], seen: list[str]) -> httpx.MockTransport:
    """A Space laid out like Gradio 4: no api_prefix, routes at the root."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        if request.url.path == "/config":
            deps = [
                {"id": 0, "api_name": "load_example", "targets": [[9, "click"]]},
                {"id": 1, "api_name": "infer", "targets": [[2, "click"]]},
            ]
            return httpx.Response(200, json={"version": "4.44.1", "dependencies": deps})
        if request.url.path == "/queue/join":
            body = json.loads(request.content)
            assert (body["fn_index"], body["trigger_id"]) == (1, 2)
            return httpx.Response(200, json={"event_id": "e1"})
        if request.url.path == "/queue/data":
            text = "".join(f"data: {line}\n\n" for line in events("e1"))
            return httpx.Response(200, headers={"content-type": "text/event-stream"}, text=text)
        if request.url.path.startswith("/file="):
            return httpx.Response(200, content=webp())
        return httpx.Response(404)

    return httpx.MockTransport(handler)


def completed(event_id: str) -> str:
    output = {"data": [{"path": "/tmp/x.webp", "url": f"{BASE}/file=/tmp/x.webp"}, 17]}
    return json.dumps({"msg": "process_completed", "event_id": event_id, "output": output, "success": True})


async def test_gradio_4_routes_without_prefix() -> None:
    seen: list[str] = []
    transport = gradio4_space(lambda e: [json.dumps({"msg": "process_starts", "event_id": e}), completed(e)], seen)
    async with FluxClient(BASE, transport=transport) as client:
        generation = await client.generate("old gradio", width=256, height=256)
    assert generation.seed == 17
    # /info is asked for the parameter names; without one, the FLUX.1-schnell signature is assumed.
    assert seen == ["GET /config", "GET /info", "POST /queue/join", "GET /queue/data", "GET /file=/tmp/x.webp"]


async def test_malformed_event_names_what_was_malformed() -> None:
    transport = gradio4_space(lambda e: ["{not json", completed(e)], [])
    async with FluxClient(BASE, transport=transport) as client:
        with pytest.raises(GenerationError, match=r"malformed event \(not JSON\): '\{not json'"):
            await client.generate("x")


async def test_event_without_msg_is_malformed() -> None:
    transport = gradio4_space(lambda e: [json.dumps({"event_id": e}), completed(e)], [])
    async with FluxClient(BASE, transport=transport) as client:
        with pytest.raises(GenerationError, match="no 'msg' field"):
            await client.generate("x")


async def test_stream_that_ends_without_result() -> None:
    transport = gradio4_space(lambda e: [json.dumps({"msg": "process_starts", "event_id": e})], [])
    async with FluxClient(BASE, transport=transport) as client:
        with pytest.raises(GenerationError, match="ended before the image was ready"):
            await client.generate("x")


async def test_events_of_other_jobs_in_the_session_are_ignored() -> None:
    other = json.dumps({"msg": "process_completed", "event_id": "other", "output": {"error": "not mine"}})
    transport = gradio4_space(lambda e: [other, completed(e)], [])
    async with FluxClient(BASE, transport=transport) as client:
        assert (await client.generate("x")).seed == 17


async def test_empty_output_means_cancelled_not_a_result() -> None:
    cancelled = json.dumps({"msg": "process_completed", "event_id": "e1", "output": {}, "success": True})
    transport = gradio4_space(lambda e: [cancelled], [])
    async with FluxClient(BASE, transport=transport) as client:
        with pytest.raises(GenerationError, match="cancelled on the Space"):
            await client.generate("x")


async def test_a_proxy_downgraded_file_url_on_the_spaces_own_host_is_fetched_over_https() -> None:
    seen: list[str] = []
    plain = json.dumps(
        {
            "msg": "process_completed",
            "event_id": "e1",
            "output": {"data": [{"path": "/tmp/x.webp", "url": "http://owner-space.hf.space/file=/tmp/x.webp"}, 5]},
            "success": True,
        }
    )
    transport = gradio4_space(lambda e: [plain], seen)
    async with FluxClient(BASE, transport=transport) as client:
        generation = await client.generate("behind a proxy")
    assert generation.url == f"{BASE}/file=/tmp/x.webp"
    assert seen[-1] == "GET /file=/tmp/x.webp"
