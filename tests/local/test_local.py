"""The local backend (issue 16) on a tiny random-weight FLUX pipeline built in the test, on the CPU.

No download, no GPU: the pipeline is made in-process and saved to a folder, which the backend loads
as a user's model folder. Pixels are compared with diffusers' own call for the same seed.
"""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import flux_widget
from flux_widget import FluxError, GenerationError, InvalidRequestError, Loading, Step

torch = pytest.importorskip("torch")  # the local extra; in CI a skip fails (conftest.py)
diffusers = pytest.importorskip("diffusers")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from support.tiny_pipelines import save_tiny_flux

    return save_tiny_flux(tmp_path_factory.mktemp("tiny-flux"))


def diffusers_own(folder: Path, prompt: str, seed: int, size: int = 64, steps: int = 2) -> np.ndarray:
    """What diffusers itself makes: the call the README promises to match, pixel for pixel."""
    pipeline = diffusers.DiffusionPipeline.from_pretrained(folder)
    seeded = torch.Generator("cpu").manual_seed(seed)
    image = pipeline(prompt=prompt, width=size, height=size, num_inference_steps=steps, generator=seeded).images[0]
    return np.asarray(image)


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


LOCAL = {"backend": "local", "device": "cpu", "width": 64, "height": 64, "steps": 2, "randomize_seed": False}


def test_generate_gives_diffusers_own_pixels(tiny: Path) -> None:
    generation = flux_widget.generate("a fox", model=str(tiny), seed=3, **LOCAL)
    assert generation.mime_type == "image/png" and (generation.seed, generation.width, generation.steps) == (3, 64, 2)
    assert np.array_equal(pixels(generation.image_bytes), diffusers_own(tiny, "a fox", 3))
    again = flux_widget.generate("a fox", model=str(tiny), seed=3, **LOCAL)
    other = flux_widget.generate("a fox", model=str(tiny), seed=4, **LOCAL)
    assert again.image_bytes == generation.image_bytes
    assert not np.array_equal(pixels(other.image_bytes), pixels(generation.image_bytes))


def test_flux2_klein_is_loaded_by_its_folder_and_gives_diffusers_own_pixels(tmp_path: Path) -> None:
    from support.tiny_pipelines import save_tiny_klein

    klein = save_tiny_klein(tmp_path / "tiny-klein")
    generation = flux_widget.generate("a red owl", model=str(klein), seed=8, **LOCAL)
    assert type(diffusers.DiffusionPipeline.from_pretrained(klein)).__name__ == "Flux2KleinPipeline"
    assert np.array_equal(pixels(generation.image_bytes), diffusers_own(klein, "a red owl", 8))
    flux_widget.unload()


@pytest.mark.anyio
async def test_agenerate_reports_loading_and_each_step(tiny: Path) -> None:
    flux_widget.unload()
    events: list[object] = []
    two = await flux_widget.agenerate(
        "an owl", model=str(tiny), seed=7, count=2, on_progress=events.append, **{**LOCAL, "steps": 3}
    )
    assert [generation.seed for generation in two] == [7, 8]
    assert isinstance(events[0], Loading) and events[0].what == "Loading model"
    steps = [(event.index, event.length) for event in events if isinstance(event, Step)]
    assert sorted(set(steps)) == [(1, 3), (2, 3), (3, 3)] and steps == sorted(steps)  # one batched call: both hear it


def test_a_batch_is_one_batched_call_with_diffusers_own_pixels(tiny: Path) -> None:
    two = flux_widget.generate("a blue owl", model=str(tiny), seed=11, count=3, **LOCAL)
    pipeline = diffusers.DiffusionPipeline.from_pretrained(tiny)
    generators = [torch.Generator("cpu").manual_seed(seed) for seed in (11, 12, 13)]
    own = pipeline(["a blue owl"] * 3, width=64, height=64, num_inference_steps=2, generator=generators).images
    assert [generation.seed for generation in two] == [11, 12, 13]
    for generation, picture in zip(two, own, strict=True):
        assert np.array_equal(pixels(generation.image_bytes), np.asarray(picture))
    alone = flux_widget.generate("a blue owl", model=str(tiny), seed=12, **LOCAL)
    assert np.abs(pixels(alone.image_bytes).astype(int) - pixels(two[1].image_bytes).astype(int)).max() <= 2


def test_the_cli_writes_diffusers_own_pixels(tiny: Path, tmp_path: Path) -> None:
    options = ["--device", "cpu", "--seed", "5", "--width", "64", "--height", "64", "--steps", "2", "-o", "cat.png"]
    command = [sys.executable, "-m", "flux_widget", "a red cat", "--backend", "local", "--model", str(tiny), *options]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with Image.open(tmp_path / "cat.png") as written:
        assert np.array_equal(np.asarray(written.convert("RGB")), diffusers_own(tiny, "a red cat", 5))


@pytest.mark.anyio
async def test_cancel_stops_the_running_step_a_waiting_call_says_what_it_waits_for_and_leaves(tiny: Path) -> None:
    """Issue 29, defect 2: Cancel must stop the step that runs (a 384² step of the tiny model takes
    seconds on a CPU, and its VAE decoding ten more), and a call waiting for it must say "Waiting for
    the CPU", not "the Space", and leave at once when cancelled."""
    from flux_widget.backends.local import _backend

    await flux_widget.agenerate("loaded first", model=str(tiny), seed=1, **LOCAL)  # loaded: no "Loading model"
    [(pipeline, _placement)] = [value for key, value in _backend._PIPELINES.items() if key[0] == str(tiny)]
    ran = {"transformer": 0, "decode": 0}

    def counting(name: str) -> Any:
        return lambda _module, _inputs: ran.__setitem__(name, ran[name] + 1)

    counters = [
        pipeline.transformer.register_forward_pre_hook(counting("transformer")),
        pipeline.vae.decoder.register_forward_pre_hook(counting("decode")),
    ]
    first_step, waiting = asyncio.Event(), asyncio.Event()
    said: list[str] = []

    def heard(event: object) -> None:
        if isinstance(event, Step):
            first_step.set()

    def heard_waiting(event: object) -> None:
        if isinstance(event, Loading):
            said.append(event.what)
            waiting.set()

    slow = {**LOCAL, "width": 384, "height": 384, "steps": 3}
    try:
        running = asyncio.ensure_future(
            flux_widget.agenerate("a slow night", model=str(tiny), seed=1, on_progress=heard, **slow)
        )
        await asyncio.wait_for(first_step.wait(), 120)
        second = asyncio.ensure_future(
            flux_widget.agenerate("next", model=str(tiny), seed=2, on_progress=heard_waiting, **LOCAL)
        )
        await asyncio.wait_for(waiting.wait(), 30)
        assert said and all(text == "Waiting for the CPU" for text in said), said
        second.cancel()
        with pytest.raises(asyncio.CancelledError):
            await second  # it leaves while the slow run still holds the pipeline
        assert not running.done()
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running  # returns once the worker has stopped
        steps_begun = ran["transformer"]
        assert ran["decode"] == 0, "the VAE decoded an image nobody wants after the cancel"
        assert steps_begun <= 2, f"{steps_begun} steps began: the run went on after the cancel"
        assert not _backend._DRAWING.locked()  # the next call draws at once
    finally:
        for counter in counters:
            counter.remove()
    made = await flux_widget.agenerate("after the cancel", model=str(tiny), seed=3, **LOCAL)
    assert made.image_bytes


@pytest.mark.anyio
async def test_the_event_loop_stays_free_while_a_model_loads_and_draws(tiny: Path) -> None:
    flux_widget.unload()
    gaps: list[float] = []
    running = True

    async def ticker() -> None:
        last = time.monotonic()
        while running:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    ticking = asyncio.ensure_future(ticker())
    await flux_widget.agenerate("a blue owl", model=str(tiny), seed=2, **{**LOCAL, "steps": 60})
    running = False
    await ticking
    assert max(gaps) < 0.3, f"the loop was blocked for {max(gaps):.2f} s"


def test_auto_device_without_a_gpu_names_the_space_backend(tiny: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(FluxError, match=r'No GPU here.*backend="space"'):
        flux_widget.generate("a fox", backend="local", model=str(tiny), device="auto")


def test_a_folder_that_is_not_a_pipeline_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "not-a-model").mkdir()
    with pytest.raises(GenerationError, match="Cannot load"):
        flux_widget.generate("a fox", model=str(tmp_path / "not-a-model"), **LOCAL)


def test_without_the_extra_the_error_says_what_to_install() -> None:
    program = (
        "import sys\n"
        "class Missing:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in {'torch', 'diffusers'}:\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Missing())\n"
        "import flux_widget\n"
        "try:\n"
        "    flux_widget.generate('x', backend='local', device='cpu')\n"
        "except flux_widget.InvalidRequestError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == 'The local backend needs torch and diffusers: pip install "flux-widget[local]".'


def test_unload_frees_the_pipelines(tiny: Path) -> None:
    flux_widget.generate("a cat", model=str(tiny), seed=1, **LOCAL)
    assert flux_widget.unload() == 1 and flux_widget.unload() == 0


def test_a_bad_dtype_is_refused() -> None:
    with pytest.raises(InvalidRequestError, match="dtype must be a floating torch dtype"):
        flux_widget.generate("x", backend="local", device="cpu", dtype="float99")


def test_nan_output_says_to_change_the_dtype(tmp_path: Path) -> None:
    from support.tiny_pipelines import save_tiny_flux

    poisoned = save_tiny_flux(tmp_path / "nan", poisoned=True)
    with pytest.raises(GenerationError, match=r'all-black image.*dtype="bfloat16"'):
        flux_widget.generate("a fox", model=str(poisoned), seed=1, **LOCAL)


def test_a_model_not_in_the_cache_without_a_network_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-cache"))
    import huggingface_hub.constants

    # Read once at import: a worker that imported huggingface_hub already must be told too.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(GenerationError, match="not in the local cache and cannot be downloaded now"):
        flux_widget.generate("a fox", model="black-forest-labs/FLUX.2-klein-4B", **LOCAL)


@pytest.mark.anyio
async def test_the_widget_makes_local_images_and_says_while_the_model_loads(tiny: Path) -> None:
    flux_widget.unload()
    widget = flux_widget.FluxWidget(backend="local", model=str(tiny), device="cpu", width=64, height=64, steps=1)
    details: list[str] = []
    widget.observe(lambda change: details.append(change["new"]), names=["detail"])
    try:
        generation = await widget.generate("a cat in a hat", seed=9, randomize_seed=False)
    finally:
        widget.close()
    assert "Loading model" in details and widget.detail == ""  # said while loading, gone once it draws
    assert (generation.seed, generation.width, generation.mime_type) == (9, 64, "image/png")  # the local sizes
    assert widget.limits["min_size"] == 16 and widget.width == 64  # the widget offers what the backend takes
    assert widget.status == "idle" and len(widget.history) == 1 and widget.image == generation.file_bytes


@pytest.mark.anyio
async def test_the_widget_takes_every_local_option(tiny: Path) -> None:
    # offload reaches the backend: forcing an offload on the CPU is refused where the pipeline is placed.
    widget = flux_widget.FluxWidget(backend="local", model=str(tiny), device="cpu", offload="sequential", steps=1)
    try:
        with pytest.raises(InvalidRequestError, match="Offloading needs a CUDA GPU"):
            await widget.generate("a fox", width=64, height=64)
        assert "Offloading needs a CUDA GPU" in widget.error and widget.status == "error"
    finally:
        widget.close()
    kept = flux_widget.FluxWidget(backend="local", model=str(tiny), device="cpu", offload="none", steps=1)
    try:
        made = await kept.generate("a fox", width=64, height=64, seed=4, randomize_seed=False)
    finally:
        kept.close()
    assert made.seed == 4 and kept.status == "idle"


def test_flux_without_a_prompt_keeps_every_option(tiny: Path, tmp_path: Path) -> None:
    from support.kernel import run_cells, texts

    outputs = run_cells(
        [
            "%load_ext flux_widget",
            f"w = %flux --backend local --model {tiny} --device cpu --offload sequential --steps 1 --guidance 2.5",
            f"print(type(w).__name__, w.steps, w.guidance, w._client.model == {str(tiny)!r})",
            "import asyncio\ntry:\n    await w.generate('a fox', width=64, height=64)\nexcept Exception as e:\n"
            "    print('refused:', e)",
        ],
        tmp_path,
    )
    assert "".join(texts(outputs[2], "stdout")).split() == ["FluxWidget", "1", "2.5", "True"]
    assert "refused: Offloading needs a CUDA GPU" in "".join(texts(outputs[3], "stdout"))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"device": "cuda"}, r"device 'cuda' is not on this machine; it has: cpu"),  # no CUDA on these machines
        ({"device": "cuda:99"}, r"device 'cuda:99' is not on this machine; it has: cpu"),
        ({"device": "tpu"}, r"device 'tpu' is not on this machine"),
        ({"device": "meta"}, r"device 'meta' is not on this machine"),
        ({"device": 5}, r"device must be text of at most 100 characters, not 5"),
        ({"dtype": "load"}, r"dtype must be a floating torch dtype such as 'bfloat16', not 'load'"),
        ({"dtype": "__class__"}, r"dtype must be a floating torch dtype"),
        ({"dtype": "int8"}, r"dtype must be a floating torch dtype"),
        ({"offload": 5}, r"offload must be one of auto, none, model, sequential, not '5'"),
        ({"offload": ["model"]}, r"offload must be one of auto, none, model, sequential"),
        ({"model": "x" * 5000}, r"model must be text of at most 1000 characters, not 'xxxx"),
    ],
)
def test_local_options_are_checked_before_anything_loads(tiny: Path, options: dict, message: str) -> None:
    chosen = {"model": str(tiny), "device": "cpu", **options}
    with pytest.raises(InvalidRequestError, match=message):
        flux_widget.generate("a fox", backend="local", width=64, height=64, steps=1, **chosen)


@pytest.mark.anyio
async def test_a_local_widget_takes_the_models_sizes_and_shows_no_guidance_it_ignores(tiny: Path) -> None:
    """Issue 29, defect 3: the Space's 256–2048 and a Guidance field are not forced on every model."""
    from flux_widget.widget._widget import FluxWidget

    widget = FluxWidget(backend="local", model=str(tiny), device="cpu")
    try:
        assert widget._discovery is not None
        await widget._discovery
        assert (widget.limits["min_size"], widget.limits["size_step"]) == (16, 16)
        widget.width = 64
        assert widget.width == 64  # a test model can go small
        # The tiny transformer has no guidance embedding (as FLUX.1-schnell): no Guidance field.
        assert "guidance_scale" not in widget.space_parameters and "num_inference_steps" in widget.space_parameters
    finally:
        widget.close()
