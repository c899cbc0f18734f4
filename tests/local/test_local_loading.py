"""Making a local model ready: the download from a hub (its bytes as progress), what is fetched, where weights go.

The hub is a stand-in on 127.0.0.1 (``support/model_hub.py``) serving a tiny pipeline built in the
test; huggingface_hub, the real library, downloads from it through ``HF_ENDPOINT`` in a fresh process
(the CLI), as it would from huggingface.co.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from flux_widget._progress_text import describe
from flux_widget.backends.local._loading import fit_plan, pipeline_files
from flux_widget.types import Loading

torch = pytest.importorskip("torch")  # the local extra; in CI a skip fails (conftest.py)
diffusers = pytest.importorskip("diffusers")

GB = 10**9


@pytest.mark.parametrize(
    ("weights", "largest", "free", "plan"),
    [
        (8 * GB, 4 * GB, None, "device"),  # the CPU or Apple MPS: no free-memory figure, all on it
        (8 * GB, 4 * GB, 24 * GB, "device"),  # FLUX.2 [klein] 4B in bfloat16 on a 24 GB card
        (8 * GB, 4 * GB, 9 * GB, "model_offload"),  # fits, but not with room to work: offload
        (33 * GB, 24 * GB, 40 * GB, "device"),  # FLUX.1-schnell on an A100 40 GB
        (33 * GB, 24 * GB, 16 * GB, "sequential_offload"),  # its transformer alone is too big for a 16 GB card
        (33 * GB, 24 * GB, 28 * GB, "model_offload"),  # a 32 GB card with some in use: one component at a time
        (33 * GB, 24 * GB, 37 * GB, "model_offload"),  # 1.5 GB would fit, but not 15 % (4.95 GB) of working room
    ],
)
def test_the_weights_go_where_they_fit(weights: int, largest: int, free: int | None, plan: str) -> None:
    assert fit_plan(weights, largest, free) == plan


def test_only_the_pipelines_own_files_are_fetched() -> None:
    files = [
        "README.md", "flux1-schnell.safetensors", "model_index.json", "ae.safetensors",
        "transformer/config.json", "transformer/diffusion_pytorch_model.safetensors",
        "transformer/diffusion_pytorch_model.fp16.safetensors", "transformer/diffusion_pytorch_model.bin",
        "text_encoder/model.safetensors", "text_encoder/config.json", "tokenizer/vocab.json",
        "vae/diffusion_pytorch_model.bin", "vae/config.json", "scheduler/scheduler_config.json",
    ]  # fmt: skip
    index = {
        "_class_name": "FluxPipeline", "transformer": ["diffusers", "FluxTransformer2DModel"],
        "text_encoder": ["transformers", "CLIPTextModel"], "tokenizer": ["transformers", "CLIPTokenizer"],
        "vae": ["diffusers", "AutoencoderKL"], "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"],
        "image_encoder": [None, None],
    }  # fmt: skip
    assert pipeline_files(files, index) == [
        "model_index.json", "transformer/config.json", "transformer/diffusion_pytorch_model.safetensors",
        "text_encoder/model.safetensors", "text_encoder/config.json", "tokenizer/vocab.json",
        "vae/diffusion_pytorch_model.bin", "vae/config.json", "scheduler/scheduler_config.json",
    ]  # fmt: skip  # no single-file checkpoints, no .bin beside safetensors, no fp16 copy; .bin where it is all


def test_download_progress_is_said_in_megabytes_or_gigabytes() -> None:
    assert describe(Loading("Downloading model", 3_100_000_000, 8_000_000_000)) == "Downloading model 3.1 of 8.0 GB"
    assert describe(Loading("Downloading model", 120_000, 376_000)) == "Downloading model 0.1 of 0.4 MB"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from support.tiny_pipelines import save_tiny_flux

    return save_tiny_flux(tmp_path_factory.mktemp("tiny-flux"))


def cli(hub_url: str, cache: Path, cwd: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """``python -m flux_widget`` on the local backend with the model ``tiny-org/tiny-flux`` from the hub."""
    env = {**os.environ, "HF_ENDPOINT": hub_url, "HF_HOME": str(cache)}
    env.pop("HF_TOKEN", None)
    env.pop("HF_HUB_OFFLINE", None)
    options = ["--device", "cpu", "--seed", "3", "--width", "64", "--height", "64", "--steps", "2", *extra]
    command = [sys.executable, "-m", "flux_widget", "a fox", "--backend", "local", "--model", "tiny-org/tiny-flux"]
    return subprocess.run([*command, *options], capture_output=True, text=True, timeout=300, env=env, cwd=cwd)


def test_a_repo_id_is_downloaded_with_its_bytes_shown_then_drawn(tiny: Path, tmp_path: Path) -> None:
    from support.model_hub import model_hub

    with model_hub(tiny) as hub:
        first = cli(hub.url, tmp_path / "cache", tmp_path, "-o", "fox.png")
        fetched = [line for line in hub.requests if line.startswith("GET /tiny-org/tiny-flux/resolve/")]
        hub.requests.clear()
        second = cli(hub.url, tmp_path / "cache", tmp_path, "-o", "again.png")
    assert first.returncode == 0, first.stderr
    total = sum(path.stat().st_size for path in tiny.rglob("*") if path.is_file())
    assert f"Downloading model {total / 1e6:.1f} of {total / 1e6:.1f} MB" in first.stderr  # the bytes, to the end
    assert "Loading model" in first.stderr
    assert len(fetched) == len(set(fetched))  # each file once (two identical files share one download)
    snapshot = next((tmp_path / "cache" / "hub" / "models--tiny-org--tiny-flux" / "snapshots").iterdir())
    assert sorted(path.relative_to(snapshot) for path in snapshot.rglob("*") if path.is_file()) == sorted(
        path.relative_to(tiny) for path in tiny.rglob("*") if path.is_file()
    )
    assert second.returncode == 0, second.stderr
    assert "Downloading model" not in second.stderr  # the cache has it all
    assert not [line for line in hub.requests if line.startswith("GET /tiny-org/tiny-flux/resolve/")]
    seeded = torch.Generator("cpu").manual_seed(3)
    own = diffusers.DiffusionPipeline.from_pretrained(tiny)("a fox", width=64, height=64, num_inference_steps=2,
                                                            generator=seeded).images[0]  # fmt: skip
    for name in ("fox.png", "again.png"):
        drawn = Image.open(io.BytesIO((tmp_path / name).read_bytes())).convert("RGB")
        assert np.array_equal(np.asarray(drawn), np.asarray(own))


def test_a_gated_model_names_its_page_and_hf_token(tiny: Path, tmp_path: Path) -> None:
    from support.model_hub import model_hub

    with model_hub(tiny, gated=True) as hub:
        done = cli(hub.url, tmp_path / "cache", tmp_path, "-o", "fox.png")
    assert done.returncode != 0
    assert "tiny-org/tiny-flux is gated: accept its terms on https://huggingface.co/tiny-org/tiny-flux" in done.stderr
    assert "HF_TOKEN" in done.stderr and "Traceback" not in done.stderr


def test_offloading_on_a_cpu_is_refused_clearly(tiny: Path) -> None:
    import flux_widget

    with pytest.raises(flux_widget.InvalidRequestError, match="Offloading needs a CUDA GPU"):
        flux_widget.generate("a fox", backend="local", model=str(tiny), device="cpu", offload="model", width=64,
                             height=64, steps=1)  # fmt: skip
    with pytest.raises(flux_widget.InvalidRequestError, match="offload must be one of auto, none, model, sequential"):
        flux_widget.generate("a fox", backend="local", model=str(tiny), device="cpu", offload="lots")
