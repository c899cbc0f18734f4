"""FluxWidget in the kernel against the real stand-in: traits, messages, history, errors, cancel, token."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import sys
import time
import types
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from support.helpers import wait_until
from support.journal import Journal
from support.picture import mean_difference, parameters, render_picture

from flux_widget import FluxError, GenerationError, InvalidRequestError, QuotaExceededError
from flux_widget.widget._widget import FluxWidget

pytestmark = pytest.mark.anyio
SECRET = "hf_" + "S3cr3tT0k3n" * 3




@pytest.fixture
async def widget(space: str):
    w = FluxWidget(space, width=256, height=256, steps=2)
    yield w
    w.close()
    await w._client.aclose()


async def test_generate_updates_traits_image_and_history(widget: FluxWidget) -> None:
    generation = await widget.generate("a cat in a hat", seed=3, randomize_seed=False)
    assert widget.status == "idle" and widget.error == ""
    assert widget.image == generation.file_bytes and widget.image_type == "image/webp"
    assert widget.current == {
        "prompt": "a cat in a hat",
        "seed": 3,
        "width": 256,
        "height": 256,
        "steps": 2,
        "index": 0,
        "elapsed": round(generation.elapsed, 1),
    }
    assert mean_difference(Image.open(io.BytesIO(widget.image)), render_picture("a cat in a hat", 3, 256, 256)) < 6
    [entry] = widget.history
    assert {k: entry[k] for k in ("prompt", "seed", "width", "height", "steps")} == {
        "prompt": "a cat in a hat",
        "seed": 3,
        "width": 256,
        "height": 256,
        "steps": 2,
    }
    header, data = entry["thumbnail"].split(",", 1)
    assert header == "data:image/webp;base64"
    assert max(Image.open(io.BytesIO(base64.b64decode(data))).size) <= 256
    assert widget.generations == [generation]
    assert widget.images[0].size == (256, 256)


async def test_randomized_seed_lands_in_the_seed_trait(widget: FluxWidget) -> None:
    generation = await widget.generate("random seed", randomize_seed=True)
    assert widget.seed == generation.seed == widget.current["seed"]
    assert widget.randomize_seed is True


async def test_generate_message_runs_a_task_on_the_loop(widget: FluxWidget) -> None:
    widget.prompt = "from the button"
    widget._handle_message(widget, {"type": "generate"}, [])
    assert widget.busy  # scheduled, not run inline: the handler returned at once
    await wait_until(lambda: not widget.busy)
    assert [entry["prompt"] for entry in widget.history] == ["from the button"]


async def test_generate_message_carries_the_values_it_was_made_with(widget: FluxWidget) -> None:
    # The frontend's trait updates can arrive after its generate message: the message wins.
    widget.prompt = "stale prompt"
    params = {"prompt": "fresh prompt", "width": 320, "steps": 1, "seed": 6, "randomize_seed": False, "evil": 1}
    widget._handle_message(widget, {"type": "generate", "params": params}, [])
    await wait_until(lambda: not widget.busy)
    assert {k: v for k, v in widget.current.items() if k != "elapsed"} == {
        "prompt": "fresh prompt", "seed": 6, "width": 320, "height": 256, "steps": 1, "index": 0,
    }  # fmt: skip
    widget._handle_message(widget, {"type": "generate", "params": {"prompt": 5, "width": "wide", "steps": True}}, [])
    await wait_until(lambda: not widget.busy)
    assert widget.history[-1]["prompt"] == "fresh prompt" and widget.history[-1]["steps"] == 1


async def test_messages_from_a_subshell_thread_run_on_the_kernel_loop(widget: FluxWidget) -> None:
    # JupyterLab 4.6 delivers widget messages on a kernel subshell: another thread, another loop.
    home = asyncio.get_running_loop()
    loops: list[asyncio.AbstractEventLoop] = []
    original_run = widget._run

    async def recording_run():
        loops.append(asyncio.get_running_loop())
        return await original_run()

    widget._run = recording_run

    async def subshell_sends(message: dict) -> None:
        widget._handle_message(widget, message, [])

    await asyncio.to_thread(asyncio.run, subshell_sends({"type": "generate", "params": {"prompt": "from a subshell"}}))
    await wait_until(lambda: len(widget.history) == 1 and not widget.busy)
    # The next one, from a cell on the kernel loop, reuses the same client and connections.
    await widget.generate("from a cell")
    await asyncio.to_thread(asyncio.run, subshell_sends({"type": "select", "index": 0}))
    await wait_until(lambda: widget.prompt == "from a subshell")
    assert loops == [home, home]
    assert widget.error == "" and [e["prompt"] for e in widget.history] == ["from a subshell", "from a cell"]


async def test_generate_awaited_on_another_loop_runs_on_the_widgets_loop(widget: FluxWidget) -> None:
    generation = await asyncio.to_thread(
        asyncio.run, widget.generate("awaited elsewhere", seed=4, randomize_seed=False)
    )
    assert generation.seed == 4 and widget.history[-1]["prompt"] == "awaited elsewhere"
    await widget.generate("then at home")
    assert widget.error == "" and len(widget.history) == 2


async def test_select_message_shows_an_entry_and_restores_its_parameters(widget: FluxWidget) -> None:
    first = await widget.generate("first", seed=1, randomize_seed=False, width=320)
    await widget.generate("second", seed=2, width=256, height=512, steps=3, randomize_seed=True)
    widget._handle_message(widget, {"type": "select", "index": 0}, [])
    assert widget.image == first.file_bytes
    assert (widget.prompt, widget.seed, widget.width, widget.height, widget.steps) == ("first", 1, 320, 256, 2)
    assert widget.randomize_seed is True and widget.current["index"] == 0  # left as it was


async def test_controls_snap_to_what_the_space_accepts(widget: FluxWidget) -> None:
    widget.width, widget.height, widget.steps, widget.seed = 500, 99999, 0, -5
    assert (widget.width, widget.height, widget.steps, widget.seed) == (512, 2048, 1, 0)


async def test_empty_prompt_shows_an_error_and_keeps_history(widget: FluxWidget) -> None:
    await widget.generate("keep me")
    before = list(widget.history)
    with pytest.raises(InvalidRequestError):
        await widget.generate("   ")
    assert widget.status == "error" and "prompt is empty" in widget.error
    assert widget.history == before and len(widget.generations) == 1
    await widget.generate("recovered")
    assert widget.status == "idle" and widget.error == "" and len(widget.history) == 2


async def test_quota_error_shows_its_wait_and_keeps_history(widget: FluxWidget) -> None:
    await widget.generate("keep me")
    with pytest.raises(QuotaExceededError):
        await widget.generate("[quota] too much")
    # One wait on screen: the frontend counts down from retry_at; the Space's static text is gone.
    assert "quota is used up" in widget.error and "Try again in" not in widget.error and "<a" not in widget.error
    assert widget.retry_at is not None and 12 * 60 + 30 < widget.retry_at - time.time() <= 12 * 60 + 34
    assert len(widget.history) == 1 and widget.current["prompt"] == "keep me"


async def test_button_failure_shows_in_widget_without_raising(widget: FluxWidget) -> None:
    widget.prompt = "[crash] boom"
    widget._handle_message(widget, {"type": "generate"}, [])
    await wait_until(lambda: not widget.busy)
    assert widget.status == "error" and "did not say why" in widget.error
    assert isinstance(widget._task.exception(), GenerationError)


async def test_cancel_returns_to_idle_and_frees_the_space(widget: FluxWidget, journal: Journal) -> None:
    await widget.generate("keep me")
    widget.prompt, widget.steps = "[slow] widget cancel message", 12
    widget._handle_message(widget, {"type": "generate"}, [])
    await wait_until(lambda: widget.status == "running" and widget.step >= 1)
    widget._handle_message(widget, {"type": "cancel"}, [])
    await wait_until(lambda: not widget.busy)
    assert widget.status == "idle" and widget.error == "" and len(widget.history) == 1
    assert len(await journal.cancels("widget cancel message", 1)) == 1
    begin = asyncio.get_running_loop().time()
    await widget.generate("next", steps=1)
    assert asyncio.get_running_loop().time() - begin < 4


async def test_progress_traits_move_while_running(widget: FluxWidget) -> None:
    seen: set[tuple[str, int]] = set()
    widget.observe(lambda change: seen.add((widget.status, widget.step)), names=["status", "step"])
    await widget.generate("[slow] watch", steps=3)
    assert ("queued", 0) in seen or ("running", 0) in seen
    assert any(status == "running" and step >= 2 for status, step in seen)
    assert widget.progress == 1.0


async def test_second_generate_while_busy_is_refused(widget: FluxWidget) -> None:
    task = asyncio.ensure_future(widget.generate("[slow] long", steps=6))
    await wait_until(lambda: widget.busy)
    with pytest.raises(FluxError, match="already running"):
        await widget.generate("impatient")
    widget.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_save_all_and_clear_history(widget: FluxWidget, tmp_path: Path) -> None:
    await widget.generate("one", seed=1, randomize_seed=False)
    await widget.generate("two", seed=2, randomize_seed=False)
    paths = widget.save_all(tmp_path / "out")
    assert [p.name for p in paths] == ["flux-001-seed-1.webp", "flux-002-seed-2.webp"]  # the Space's own format
    assert parameters(Image.open(paths[1]))["prompt"] == "two"
    [png] = widget.save_all(tmp_path / "png", suffix=".png")[1:]
    assert Image.open(png).format == "PNG" and parameters(Image.open(png))["seed"] == "2"
    widget.clear_history()
    assert widget.history == [] and widget.generations == []


async def test_token_never_leaves_the_kernel(space: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    w = FluxWidget(space, token=SECRET, width=256, height=256)
    sent: list[str] = []
    w.comm.send = lambda data=None, metadata=None, buffers=None: sent.append(json.dumps(data, default=repr))
    await w.generate("secret test")
    state = w.get_state()
    assert SECRET not in json.dumps(state, default=repr)
    assert all(SECRET not in message for message in sent)
    assert SECRET not in repr(w) and SECRET not in repr(w._client)
    assert SECRET not in caplog.text
    assert not any("token" in name for name in w.keys)
    w.close()
    await w._client.aclose()


async def test_image_travels_as_a_binary_buffer_not_text(widget: FluxWidget) -> None:
    messages: list[tuple[dict, list]] = []
    widget.comm.send = lambda data=None, metadata=None, buffers=None: messages.append((data, buffers or []))
    generation = await widget.generate("buffer check")
    image_updates = [
        (d, b) for d, b in messages if "image" in d.get("state", {}) or ["image"] in d.get("buffer_paths", [])
    ]
    assert image_updates, "no image update was sent"
    data, buffers = image_updates[-1]
    assert ["image"] in data["buffer_paths"]
    assert any(bytes(buffer) == generation.file_bytes for buffer in buffers)
    assert generation.image_bytes.hex()[:32] not in json.dumps(data)


async def test_static_fallback_bundle_has_the_current_image(widget: FluxWidget) -> None:
    assert "image/jpeg" not in widget._repr_mimebundle_()[0]
    await widget.generate("static", seed=5, randomize_seed=False)
    bundle, _metadata = widget._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle and "image/png" not in bundle
    shown = Image.open(io.BytesIO(base64.b64decode(bundle["image/jpeg"])))
    assert shown.format == "JPEG" and shown.size == (256, 256) and parameters(shown)["seed"] == "5"


def test_colab_custom_widget_manager_is_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    # anywidget's own AnyWidget.__init__ turns it on (once per process); we rely on that, not a copy.
    from anywidget._util import enable_custom_widget_manager_once

    calls: list[str] = []
    output = types.ModuleType("google.colab.output")
    output.enable_custom_widget_manager = lambda: calls.append("enabled")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setitem(sys.modules, "google.colab.output", output)
    enable_custom_widget_manager_once.cache_clear()
    try:
        FluxWidget("http://127.0.0.1:9").close()
        FluxWidget("http://127.0.0.1:9").close()
    finally:
        enable_custom_widget_manager_once.cache_clear()
    assert calls == ["enabled"]


def test_outside_colab_nothing_is_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.delitem(sys.modules, "google.colab.output", raising=False)
    FluxWidget("http://127.0.0.1:9").close()  # no AttributeError, no import of google.colab
    assert "google.colab" not in sys.modules


async def test_progress_reaches_the_browser_at_most_about_20_times_a_second() -> None:
    from support.misbehaving import misbehaving_space

    with misbehaving_space() as (base, _):
        widget = FluxWidget(f"{base}/many-progress", width=256, height=256)
        sent: list[dict] = []
        widget.comm.send = lambda data=None, metadata=None, buffers=None: sent.append(data)
        steps: list[int] = []
        widget.observe(lambda change: steps.append(change["new"]), names="step")
        begin = asyncio.get_running_loop().time()
        await widget.generate("10,000 progress events")
        took = asyncio.get_running_loop().time() - begin
        widget.close()
    updates = [m for m in sent if m.get("method") == "update"]
    assert len(updates) <= took * 20 + 6, f"{len(updates)} updates in {took:.2f} s"
    assert steps[-1] == 9_999  # the last state the Space reported is the one shown


def test_a_bad_space_fails_before_the_browser_hears_of_the_widget(monkeypatch: pytest.MonkeyPatch) -> None:
    import ipywidgets

    opened: list[object] = []
    original_open = ipywidgets.Widget.open
    monkeypatch.setattr(ipywidgets.Widget, "open", lambda self: (opened.append(self), original_open(self)))
    with pytest.raises(InvalidRequestError, match="A Space is 'owner/name'"):
        FluxWidget("localhost:9999?/x")
    assert opened == []


async def test_remove_keeps_the_kernel_record_and_the_widget_state_in_step(widget: FluxWidget) -> None:
    generations = [await widget.generate(f"entry {i}", seed=i, randomize_seed=False) for i in range(3)]
    closed = widget.history[1]
    assert widget.current["index"] == 2
    assert widget.remove(1) is generations[1]
    assert widget.generations == [generations[0], generations[2]]
    assert [entry["prompt"] for entry in widget.history] == ["entry 0", "entry 2"]
    assert closed.comm is None  # its model is gone from the browser too
    assert widget.current["index"] == 1 and widget.image == generations[2].file_bytes  # still on show
    widget._handle_message(widget, {"type": "remove", "index": 1}, [])
    assert widget.generations == [generations[0]]
    assert widget.current["index"] == 0 and widget.image == generations[0].file_bytes  # its neighbour, no orphan
    assert (widget.seed, widget.prompt) == (0, "entry 0")  # and its settings: one current image
    widget._handle_message(widget, {"type": "remove", "index": 5}, [])  # out of range: ignored
    assert len(widget.history) == 1


async def test_quota_error_names_the_paid_way_out_only_with_a_token(space: str) -> None:
    with_token = FluxWidget(space, token=SECRET, width=256, height=256, steps=1)
    without = FluxWidget(space, width=256, height=256, steps=1)
    try:
        for widget in (with_token, without):
            with pytest.raises(QuotaExceededError):
                await widget.generate("[quota] once more")
    finally:
        with_token.close()
        without.close()
    assert 'Inference Providers: backend="inference"' in with_token.error and SECRET not in with_token.error
    assert "Inference Providers" not in without.error and "HF_TOKEN" in without.error
    assert with_token.retry_at is not None and without.retry_at is not None  # both count down to "Try again"


async def test_history_thumbnails_are_shrunk_from_the_full_image(space: str) -> None:
    widget = FluxWidget(space, width=1024, height=768, steps=1)
    try:
        generation = await widget.generate("a wide thumbnail")
    finally:
        widget.close()
    [entry] = widget.history
    data = base64.b64decode(entry["thumbnail"].split(",", 1)[1])
    assert generation.image.size == (1024, 768)
    assert Image.open(io.BytesIO(data)).size == (171, 128)  # the shorter side 128 px (64 CSS px at 2x), aspect kept
    assert len(data) < len(generation.image_bytes) / 4


async def test_a_frontend_request_with_an_impossible_value_changes_nothing(space: str) -> None:
    widget = FluxWidget(space, prompt="as it was", width=256, height=256)
    try:
        params = {"prompt": "from the browser", "width": 512, "guidance": 10**400}
        widget._handle_message(widget, {"type": "generate", "params": params}, [])
        await asyncio.sleep(0.05)
        assert (widget.prompt, widget.width, widget.guidance) == ("as it was", 256, None)  # nothing half-changed
        assert widget.status == "error" and "guidance cannot be" in widget.error and not widget.busy
        with pytest.raises(InvalidRequestError, match="guidance cannot be"):
            await widget.generate("from python", guidance=10**400)
        assert widget.prompt == "as it was"
    finally:
        widget.close()


# ---------------------------------------------------------------------- issue 19: remove, undo, full images, zip


async def test_removing_the_entry_on_show_shows_its_neighbour_and_restore_undoes_it(widget: FluxWidget) -> None:
    for seed in (1, 2, 3):
        await widget.generate(f"entry {seed}", seed=seed, randomize_seed=False)
    widget.select(1)
    widget._handle_message(widget, {"type": "remove", "index": 1}, [])
    assert [e["prompt"] for e in widget.history] == ["entry 1", "entry 3"]
    assert widget.current["prompt"] == "entry 1" and widget.current["index"] == 0  # the older one, as the strip focuses
    assert widget.image == widget.generations[0].file_bytes and widget.seed == 1  # and its settings
    widget.remove(1)
    widget.remove(0)
    assert widget.history == [] and widget.image == b"" and widget.current == {}  # the empty state, no orphan
    widget._handle_message(widget, {"type": "restore"}, [])
    assert [e["prompt"] for e in widget.history] == ["entry 1"] and widget.current["prompt"] == "entry 1"
    widget.restore()
    restored = widget.restore()
    assert restored.prompt == "entry 2" and [e["prompt"] for e in widget.history] == ["entry 1", "entry 2", "entry 3"]
    assert widget.current == {**restored.parameters, "index": 1, "elapsed": round(restored.elapsed, 1)}
    with pytest.raises(FluxError, match="Nothing to restore"):
        widget.restore()


async def test_a_removed_batch_tile_comes_back_to_its_place(widget: FluxWidget) -> None:
    await widget.generate("four owls", count=4, seed=10, randomize_seed=False)
    before = sorted(widget.batch, key=lambda tile: tile["slot"])  # two at a time: they may arrive in any order
    [slot] = [tile["slot"] for tile in before if tile["index"] == 2]
    widget.remove(2)
    assert sorted(tile["slot"] for tile in widget.batch) == sorted({1, 2, 3, 4} - {slot})
    widget.restore()
    assert sorted(widget.batch, key=lambda tile: tile["slot"]) == before


async def test_a_view_gets_the_full_image_of_any_entry_and_a_zip_of_all(widget: FluxWidget) -> None:
    made = [await widget.generate(f"zip {seed}", seed=seed, randomize_seed=False) for seed in (4, 5)]
    messages: list[tuple[dict, list]] = []
    widget.comm.send = lambda data=None, metadata=None, buffers=None: messages.append((data, buffers or []))
    shown_before = dict(widget.current)
    widget._handle_message(widget, {"type": "image", "index": 0, "ticket": 7}, [])
    widget._handle_message(widget, {"type": "image", "index": 9, "ticket": 8}, [])
    widget._handle_message(widget, {"type": "zip", "ticket": 9}, [])
    replies = [(m["content"], buffers) for m, buffers in messages if m.get("method") == "custom"]
    (image, image_buffers), (missing, _), (archive, zip_buffers) = replies
    assert image["ticket"] == 7 and image["seed"] == 4 and image["mime"] == "image/webp"
    assert bytes(image_buffers[0]) == made[0].file_bytes
    assert missing == {"type": "image", "index": 9, "ticket": 8, "missing": True}
    assert widget.current == shown_before  # asking for an image changes nothing on show
    with zipfile.ZipFile(io.BytesIO(bytes(zip_buffers[0]))) as files:
        assert files.namelist() == ["flux-001-seed-4.webp", "flux-002-seed-5.webp", "parameters.json"]
        listing = json.loads(files.read("parameters.json"))
        assert [(item["file"], item["prompt"], item["seed"]) for item in listing] == [
            ("flux-001-seed-4.webp", "zip 4", 4), ("flux-002-seed-5.webp", "zip 5", 5),
        ]  # fmt: skip
        with Image.open(io.BytesIO(files.read("flux-002-seed-5.webp"))) as picture:
            assert parameters(picture)["prompt"] == "zip 5"
            assert picture.tobytes() == made[1].image.tobytes()
    assert archive["count"] == 2 and archive["name"] == "flux-images.zip"


async def test_odd_messages_and_odd_tile_state_never_raise_nor_touch_the_history(widget: FluxWidget) -> None:
    made = [await widget.generate(f"odd {i}", seed=i, randomize_seed=False) for i in range(3)]
    sent: list[dict] = []
    widget.comm.send = lambda data=None, metadata=None, buffers=None: sent.append(data)
    odd: list[object] = [
        {"type": "remove", "index": True},  # a bool is no index (True would be entry 1)
        {"type": "select", "index": False},
        {"type": "remove", "index": 10**5000},
        {"type": "image", "index": 10**5000, "ticket": 1},  # a reply holding it could not be encoded
        {"type": "image", "index": -(10**30), "ticket": 2},
        {"type": "remove", "index": "1"},
        {"type": "remove", "index": 2.0},
        {"type": "remove"},
        {"type": 5},
        ["remove", 1],
        None,
    ]
    for content in odd:
        widget._handle_message(widget, content, [])
    assert widget.generations == made
    assert all(json.dumps(message) for message in sent)
    # Tiles and the entry on show as a view (or an edited notebook) may set them.
    widget.batch = [
        {"slot": 1}, {"slot": "x", "index": "0"}, {"slot": 2, "index": 1}, {"slot": True, "index": 0},
    ]  # fmt: skip
    assert widget.batch == [{"slot": 2, "index": 1}]
    widget.current = {**widget.current, "index": "2"}
    assert widget.current["index"] is None
    widget.remove(0)
    widget.restore()
    widget.show(1)
    widget.select(2)
    assert widget.generations == made and widget.current["index"] == 2
