"""Making a local pipeline ready: download its files with progress, load them, fit them to the GPU.

Runs on the local backend's worker thread; ``post`` hands each :class:`Loading` event back to the
event loop. A repo id is downloaded with huggingface_hub (only the files the pipeline's
``model_index.json`` names, safetensors where a folder has them), its bytes reported as they
arrive; a folder is loaded as it is. Then the weights are placed by :func:`fit_plan`: all on the
GPU when they fit in its free memory, else diffusers' model CPU offload (one component on the GPU
at a time), else its sequential offload (one layer at a time).
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from ..._config import OFFLOAD_ENV
from ...errors import AuthenticationError, FluxError, GenerationError, InvalidRequestError
from ...types import Loading

__all__ = ["OFFLOADS", "Placement", "fit_plan", "load_pipeline", "offload_choice"]

Placement = Literal["device", "model_offload", "sequential_offload"]
#: What ``offload=`` may say: ``auto`` measures; the others force a placement.
OFFLOADS: dict[str, Placement | None] = {
    "auto": None, "none": "device", "model": "model_offload", "sequential": "sequential_offload",
}  # fmt: skip
#: Weight formats skipped in a folder that also has safetensors (diffusers loads safetensors first).
_OTHER_WEIGHTS = (".bin", ".ckpt", ".pt", ".pth", ".msgpack", ".h5", ".onnx", ".onnx_data")
_GB = 1e9


def fit_plan(weights: int, largest: int, free: int | None) -> Placement:
    """Where ``weights`` bytes go on a GPU with ``free`` bytes (None: not a CUDA device, so all on it).

    Room is kept for activations: 1.5 GB or 15 % of what is placed, whichever is more.
    """
    if free is None:
        return "device"

    def fits(size: int) -> bool:
        return size + max(1.5 * _GB, 0.15 * size) <= free

    if fits(weights):
        return "device"
    return "model_offload" if fits(largest) else "sequential_offload"


def load_pipeline(
    model: str, device: str, dtype: Any, token: str | None, forced: Placement | None, post: Callable[[Loading], None]
) -> tuple[Any, str]:
    """The pipeline ``model`` names, ready on ``device`` (placed as ``forced`` says, else as it fits), and a
    sentence saying where its weights went."""
    folder = model if Path(model).is_dir() else _download(model, token, post)
    post(Loading("Loading model"))
    failure: FluxError | None = None
    try:
        from diffusers import DiffusionPipeline

        with warnings.catch_warnings():  # newer diffusers prefer dtype=; torch_dtype= works in every version
            warnings.simplefilter("ignore", FutureWarning)
            pipeline = DiffusionPipeline.from_pretrained(folder, torch_dtype=dtype, token=token)
    except Exception as exc:  # huggingface_hub's and diffusers' errors, said as what to do
        failure = load_failure(model, exc)
    if failure is not None:
        raise failure
    if not hasattr(pipeline, "transformer"):
        raise GenerationError(f"{model} is a {type(pipeline).__name__}, not a FLUX pipeline.")
    pipeline.set_progress_bar_config(disable=True)
    return pipeline, _place(pipeline, device, forced)


def offload_choice(offload: object) -> Placement | None:
    """``offload``, else ``FLUX_WIDGET_OFFLOAD``, else ``auto`` (None: measure); a clear error for anything else."""
    given = offload or os.environ.get(OFFLOAD_ENV) or "auto"
    chosen = given.strip().lower() if isinstance(given, str) else repr(given)
    if chosen not in OFFLOADS:
        raise InvalidRequestError(f"offload must be one of {', '.join(OFFLOADS)}, not {chosen[:40]!r}.")
    return OFFLOADS[chosen]


def _place(pipeline: Any, device: str, forced: Placement | None) -> str:
    """Put ``pipeline`` on ``device`` as :func:`fit_plan` (or ``forced``) says; where it went, in words."""
    import torch

    sizes = [_module_bytes(module) for module in pipeline.components.values() if isinstance(module, torch.nn.Module)]
    weights, largest = sum(sizes), max(sizes, default=0)
    free = torch.cuda.mem_get_info(torch.device(device))[0] if device.startswith("cuda") else None
    plan = forced or fit_plan(weights, largest, free)
    if plan != "device" and not device.startswith("cuda"):
        raise InvalidRequestError(f"Offloading needs a CUDA GPU; {device} holds the whole pipeline (offload='none').")
    room = f"{weights / _GB:.1f} GB of weights" + (f", {free / _GB:.1f} GB free on {device}" if free else "")
    if plan == "device":
        pipeline.to(device)
        return f"all on {device} ({room})"
    if plan == "model_offload":
        pipeline.enable_model_cpu_offload(device=device)
        return f"model CPU offload: one component on {device} at a time ({room})"
    pipeline.enable_sequential_cpu_offload(device=device)
    return f"sequential CPU offload: one layer on {device} at a time, slow ({room})"


def _module_bytes(module: Any) -> int:
    return sum(tensor.numel() * tensor.element_size() for tensor in (*module.parameters(), *module.buffers()))


def _download(model: str, token: str | None, post: Callable[[Loading], None]) -> str:
    """The cached folder of repo ``model``, downloading what is missing with byte progress; else ``model`` itself.

    Without a network (or with ``HF_HUB_OFFLINE``) the repo id is handed to diffusers, which finds
    the cache or says it cannot.
    """
    try:
        import huggingface_hub
        from huggingface_hub.utils import tqdm as hub_tqdm
    except ImportError:
        return model
    if huggingface_hub.constants.HF_HUB_OFFLINE:
        return model

    class Progress(hub_tqdm):
        """huggingface_hub's bar, never drawn: its byte counts become Loading events."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)
            self.bytes = 0
            self.said = 0.0
            self.counts = kwargs.get("unit") == "B" and not str(kwargs.get("desc", "")).startswith("Downloading")

        def update(self, n: float | None = 1) -> bool | None:
            self.bytes += int(n or 0)
            total = max(self.bytes, int(self.total or 0))
            now = time.monotonic()
            if self.counts and (now - self.said >= 0.1 or self.bytes >= total):  # ten a second, and the end
                self.said = now
                post(Loading("Downloading model", self.bytes, total or None))
            return super().update(n)

    failure: FluxError | None = None
    try:
        files = huggingface_hub.list_repo_files(model, token=token)
        folder = huggingface_hub.snapshot_download(
            model, token=token, allow_patterns=pipeline_files(files, _model_index(model, token)), tqdm_class=Progress
        )
    except Exception as exc:  # no network, a name that is no repo id: diffusers finds the cache or says which
        if type(exc).__name__ in {"GatedRepoError", "RepositoryNotFoundError"}:
            failure = load_failure(model, exc)
        else:
            return model
    if failure is not None:
        raise failure
    return str(folder)


def _model_index(model: str, token: str | None) -> dict[str, Any]:
    from huggingface_hub import hf_hub_download

    with open(hf_hub_download(model, "model_index.json", token=token), encoding="utf-8") as index:
        found = json.load(index)
    return found if isinstance(found, dict) else {}


def pipeline_files(files: list[str], index: dict[str, Any]) -> list[str]:
    """The files of a repo a diffusers pipeline loads: ``model_index.json`` and its components' folders,
    safetensors where a folder has them, no half-precision variants beside full ones."""
    components = {name for name, value in index.items() if isinstance(value, list) and value and value[0]}
    chosen = [name for name in files if name.split("/", 1)[0] in components and "/" in name]
    safe_folders = {name.rsplit("/", 1)[0] for name in chosen if name.endswith(".safetensors")}
    chosen = [
        name
        for name in chosen
        if not (name.endswith(_OTHER_WEIGHTS) and name.rsplit("/", 1)[0] in safe_folders)
        and not _is_variant_beside_full(name, chosen)
    ]
    return ["model_index.json", *chosen]


def _is_variant_beside_full(name: str, files: list[str]) -> bool:
    """``x.fp16.safetensors`` when ``x.safetensors`` is there too (the full-precision file is loaded)."""
    stem, _, suffix = name.rpartition(".")
    base, dot, variant = stem.rpartition(".")
    return bool(dot) and variant in {"fp16", "bf16", "fp32"} and f"{base}.{suffix}" in files


def load_failure(model: str, exc: Exception) -> FluxError:
    """What went wrong loading ``model``, and what to do about it."""
    kind = type(exc).__name__
    text = " ".join(str(exc).split())[:300]
    if kind == "GatedRepoError" or "401" in text or "gated" in text.lower() or "restricted" in text.lower():
        return AuthenticationError(
            f"{model} is gated: accept its terms on https://huggingface.co/{model} and set HF_TOKEN to a token "
            "of that account."
        )
    if kind == "RepositoryNotFoundError":
        return GenerationError(f"No model {model} on the Hugging Face Hub (or it is private: set HF_TOKEN).")
    if os.environ.get("HF_HUB_OFFLINE") or "cache" in text.lower() or kind == "LocalEntryNotFoundError":
        return GenerationError(
            f"{model} is not in the local cache and cannot be downloaded now (offline, or no network). Download "
            "it once with a network, or pass the folder of a saved pipeline as model=."
        )
    return GenerationError(f"Cannot load {model} as a diffusers pipeline ({kind}): {text}")
