"""``LocalBackend``: FLUX on this machine's own GPU with diffusers (the optional extra ``[local]``).

torch and diffusers are imported only when this backend is chosen. Loading the pipeline and every
denoising step run on a worker thread, so the kernel's event loop stays free; progress comes back
to the loop as events, never as trait changes from the worker. Stopping (a cancelled task, the
deadline) ends the run inside the running step (see ``_drawing``) and the worker runs nothing
more; a call waiting for another's drawing leaves at once. One pipeline per (model, device, dtype)
per process, shared by every widget and call; :func:`unload` frees it.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from ..._config import DEFAULT_DEADLINE, DEFAULT_LOCAL_MODEL, DEVICE_ENV, env_token, positive_seconds
from ..._parameters import DRAWING, FLUX_PARAMETERS, FLUX_RANGES, Range, recorded
from ...errors import FluxError, InvalidRequestError
from ...types import (
    Generation,
    GenerationRequest,
    Loading,
    ProgressCallback,
    ProgressEvent,
    Started,
    notify,
)
from ..base import ModelBackend
from ._drawing import OutOfMemoryError, draw
from ._loading import load_pipeline, offload_choice

__all__ = ["LocalBackend", "choose_device", "unload"]

#: What a diffusers FLUX pipeline takes, by wire name: sizes in multiples of 16 (its VAE's 8× and 2×2
#: patches), up to 4096; steps up to 1000 (a pipeline takes any number; FLUX.1-dev wants 28–50).
LOCAL_RANGES = {
    **FLUX_RANGES,
    "width": Range(16, 4096, 16),
    "height": Range(16, 4096, 16),
    "num_inference_steps": Range(1, 1000, 1),
}
_EXTRA = 'The local backend needs torch and diffusers: pip install "flux-widget[local]".'
#: Loaded pipelines and where their weights went, by (model, device, dtype); loading holds the lock: one load each.
_PIPELINES: dict[tuple[str, str, str, str], tuple[Any, str]] = {}
_LOADING = threading.Lock()
#: One image at a time per process: a pipeline's scheduler keeps the state of the run it is in.
_DRAWING = threading.Lock()
#: How often a call waiting for another's drawing checks whether it was stopped.
_STOP_CHECK_SECONDS = 0.1


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise InvalidRequestError(_EXTRA) from None
    return torch


def choose_device(device: object = None) -> str:
    """``device``, else ``FLUX_WIDGET_DEVICE``, else ``auto``: CUDA, then Apple MPS; never the CPU unasked.

    A device this machine does not have (``cuda`` without CUDA, ``cuda:3`` with two GPUs, ``tpu``)
    is an :class:`InvalidRequestError` that names what it has.
    """
    chosen = _text_option("device", device or os.environ.get(DEVICE_ENV) or "auto").lower()
    torch = _torch()
    if chosen != "auto":
        return _present(torch, chosen)
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    raise FluxError(
        "No GPU here: the local backend found neither CUDA nor Apple MPS. Use the free Space "
        '(backend="space", the default), or device="cpu" for small test pipelines.'
    )


def _text_option(name: str, value: object, longest: int = 100) -> str:
    """``value`` as a short piece of text, or an :class:`InvalidRequestError` that says what it must be."""
    if not isinstance(value, str) or not value.strip() or len(value) > longest:
        shown = repr(value[:40]) + "…" if isinstance(value, str) and len(value) > 40 else repr(value)
        raise InvalidRequestError(f"{name} must be text of at most {longest} characters, not {shown}.")
    return value.strip()


def _present(torch: Any, device: str) -> str:
    """``device`` if this machine has it; else an :class:`InvalidRequestError` naming what it has."""
    kind, _, number = device.partition(":")
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    here = ["cpu", *(f"cuda:{index}" for index in range(gpus)), *(["mps"] if mps else [])]
    known = (
        (kind == "cpu" and not number)
        or (kind == "cuda" and gpus > 0 and (not number or (number.isdigit() and int(number) < gpus)))
        or (kind == "mps" and mps and not number)
    )
    if not known:
        raise InvalidRequestError(f"device {device[:40]!r} is not on this machine; it has: {', '.join(here)}.")
    return device


def _dtype_for(torch: Any, device: str, dtype: object) -> Any:
    """``dtype`` by name, else what the device does natively: bfloat16, else float16, float32 on the CPU."""
    if dtype:
        name = _text_option("dtype", dtype).lower()
        chosen = getattr(torch, name, None)
        if not isinstance(chosen, torch.dtype) or not chosen.is_floating_point:
            raise InvalidRequestError(f"dtype must be a floating torch dtype such as 'bfloat16', not {name[:40]!r}.")
        return chosen
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device == "mps":
        return torch.float16
    return torch.float32


def unload() -> int:
    """Free every loaded local pipeline and the GPU memory it held; the number of pipelines freed."""
    with _LOADING:
        count = len(_PIPELINES)
        _PIPELINES.clear()
    if count and "torch" in sys.modules:
        torch = _torch()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    return count


class LocalBackend(ModelBackend):
    """Generate with a diffusers FLUX pipeline on this machine (``backend="local"``).

    ``model`` is a Hugging Face repo id or a local folder holding a diffusers FLUX-family pipeline
    (its ``model_index.json`` picks the class: FluxPipeline, Flux2KleinPipeline, …); ``device`` is
    ``auto`` (CUDA, then MPS), ``cuda``, ``mps`` or ``cpu``; ``dtype`` overrides the device's own.
    The seed goes into a CPU ``torch.Generator`` (the same image on any device), and the pipeline is
    called with exactly the prompt, size, steps and generator (and the other drawing parameters when given), so
    its pixels are diffusers' own. Images are kept lossless, as PNG.
    """

    ranges = LOCAL_RANGES

    def __init__(
        self,
        model: str | None = None,
        *,
        device: str | None = None,
        dtype: str | None = None,
        offload: str | None = None,
        token: str | None = None,
        timeout: float = 60.0,  # taken as every backend takes it; nothing here waits on a network but downloads
        deadline: float = DEFAULT_DEADLINE,
    ) -> None:
        torch = _torch()
        try:
            import diffusers  # noqa: F401  # the extra, checked here; used when loading
        except ImportError:
            raise InvalidRequestError(_EXTRA) from None
        self.model = _text_option("model", model or DEFAULT_LOCAL_MODEL, longest=1000)
        self.device = choose_device(device)
        self.dtype = _dtype_for(torch, self.device, dtype)
        self.deadline = positive_seconds("deadline", deadline)
        self._token = env_token(token)
        self._offload = offload_choice(offload)
        #: Images per pipeline call in :meth:`generate_many` (1 after the GPU ran out of memory for a batch).
        self.batch_size = 4
        #: Where the weights went once loaded ("all on cuda (…)", "model CPU offload …"); empty before.
        self.placement = ""
        self._closed = False

    def __repr__(self) -> str:
        return f"LocalBackend({self.model!r}, device={self.device!r}, dtype={str(self.dtype).replace('torch.', '')!r})"

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called (the pipeline itself stays loaded for others; see :func:`unload`)."""
        return self._closed

    async def aclose(self) -> None:
        """Nothing to close: the pipeline is shared by the process (:func:`unload` frees it)."""
        self._closed = True

    def load(self) -> str:
        """Load the pipeline now, on this thread (it loads on first use otherwise); where its weights went."""
        self._pipeline(lambda _event: None)
        return self.placement

    async def _generate(
        self, request: GenerationRequest, seconds: float, on_progress: ProgressCallback | None
    ) -> Generation:
        # On this machine; stopping (Cancel, a kernel interrupt, the deadline) interrupts it at the next step.
        heard = None if on_progress is None else (lambda _slot, event: notify(on_progress, event))
        return (await self._make([request], seconds, heard))[0]

    async def generate_many(
        self,
        requests: Sequence[GenerationRequest],
        /,
        *,
        deadline: float | None = None,
        on_progress: Callable[[int, ProgressEvent], Awaitable[None] | None] | None = None,
    ) -> list[Generation]:
        """Every image of ``requests``, in pipeline calls of up to :attr:`batch_size` images of one size.

        One batched call (a list of prompts and of generators) is faster than the same images one
        by one (``bench/bench_local.py --batch``); when the GPU runs out of memory for a batch, its
        images are made one by one instead, and later batches stay single. Each call's deadline
        is ``deadline`` for each of its images. ``on_progress(slot, event)`` hears every image.
        """
        made: list[Generation] = []
        for chunk in _chunks(requests, self.batch_size):
            try:
                made += await self._make(chunk, deadline, _shifted(on_progress, len(made)))
            except OutOfMemoryError:
                if len(chunk) == 1:
                    raise
                self.batch_size = 1
                for request in chunk:
                    made += await self._make([request], deadline, _shifted(on_progress, len(made)))
        return made

    async def references_taken(self) -> int | None:
        """How many reference images the pipeline takes, from its ``model_index.json`` (in its folder, or in
        the Hugging Face cache for a repo id, read offline); None while it is not on this machine."""
        kind = self._config("model_index.json").get("_class_name")
        return REFERENCES_TAKEN.get(kind, 0) if isinstance(kind, str) else None

    async def parameter_names(self) -> frozenset[str]:
        """The inputs the pipeline takes: FLUX's, without guidance for a model that ignores it (its
        transformer has no guidance embedding: FLUX.1-schnell), as its config on this machine says."""
        if self._config("transformer/config.json").get("guidance_embeds") is False:
            return FLUX_PARAMETERS - {"guidance_scale"}
        return FLUX_PARAMETERS

    def _config(self, name: str) -> dict[str, Any]:
        """The JSON file ``name`` of the model, from its folder or the Hugging Face cache (never a
        download); ``{}`` while it is not on this machine."""
        found: object = Path(self.model) / name
        if not Path(self.model).is_dir():
            from huggingface_hub import try_to_load_from_cache  # the local extra's; never a download here

            found = try_to_load_from_cache(self.model, name)
        try:
            read = json.loads(Path(found).read_text(encoding="utf-8")) if isinstance(found, (str, Path)) else None
        except (OSError, ValueError):
            return {}
        return read if isinstance(read, dict) else {}

    @property
    def processor(self) -> str:
        """What draws here, as the widget says it waits for it: "GPU", or "CPU" on the CPU."""
        return "CPU" if self.device == "cpu" else "GPU"

    def generate_here(self, request: GenerationRequest) -> Generation:
        """One image on the calling thread, with no event loop and no progress (a Ray actor's call)."""
        return self._draw_now([request], threading.Event(), lambda _event: None)[0]

    async def _make(
        self,
        requests: Sequence[GenerationRequest],
        deadline: float | None,
        on_progress: Callable[[int, ProgressEvent], Awaitable[None] | None] | None,
    ) -> list[Generation]:
        """One pipeline call for ``requests`` (which share every drawing parameter) on the worker thread."""
        seconds = (self.deadline if deadline is None else positive_seconds("deadline", deadline)) * len(requests)
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[ProgressEvent] = asyncio.Queue()
        stop = threading.Event()

        def post(event: ProgressEvent) -> None:
            loop.call_soon_threadsafe(events.put_nowait, event)

        post(
            Loading(f"Waiting for the {self.processor}" if self._key in _PIPELINES else "Loading model")
        )  # not "the Space"
        work = asyncio.ensure_future(asyncio.to_thread(self._draw_now, requests, stop, post))
        try:
            async with asyncio.timeout(seconds):
                while not work.done():
                    waiting = asyncio.ensure_future(events.get())
                    await asyncio.wait({work, waiting}, return_when=asyncio.FIRST_COMPLETED)
                    if waiting.done() and on_progress is not None:
                        for slot in range(len(requests)):
                            await notify(partial(on_progress, slot), waiting.result())
                    waiting.cancel()
                made = work.result()
        except TimeoutError:
            stop.set()
            await asyncio.shield(asyncio.wait({work}))
            raise FluxError(
                f"No image within the {seconds:g} s deadline; the local run was stopped at its next step."
            ) from None
        except BaseException:
            stop.set()  # cancelled (Cancel, Escape, a kernel interrupt, close()): the worker stops at its next step
            await asyncio.shield(asyncio.wait({work}))
            raise
        return made

    def _draw_now(
        self, requests: Sequence[GenerationRequest], stop: threading.Event, post: Callable[[ProgressEvent], None]
    ) -> list[Generation]:
        """Load the pipeline if need be and draw ``requests`` in one call, on this thread; empty once stopped."""
        seeds = [self.seed_for(request) for request in requests]
        drawing = self.drawing(requests[0])
        pipeline = self._pipeline(post)
        started = time.perf_counter()
        check_references(pipeline, len(drawing.get("images") or ()), self.model)
        if not _DRAWING.acquire(blocking=False):  # another call draws: say so, and leave at once when stopped
            post(Loading(f"Waiting for the {self.processor}"))
            while not _DRAWING.acquire(timeout=_STOP_CHECK_SECONDS):
                if stop.is_set():
                    return []
        try:
            if stop.is_set():
                return []
            post(Started())
            prompts = [request.prompt for request in requests]
            pictures = draw(pipeline, prompts, seeds, drawing=drawing, stop=stop, post=post)
        finally:
            _DRAWING.release()
        elapsed = (time.perf_counter() - started) / len(requests)
        made = {**drawing, "images": recorded(drawing)["images"]}  # the inputs as their SHA-256 and size
        return [
            Generation(
                prompt=request.prompt,
                seed=seed,
                **made,
                url=self.model,
                image_bytes=picture,
                mime_type="image/png",
                elapsed=elapsed,
                model=self.model,
            )
            for request, seed, picture in zip(requests, seeds, pictures, strict=True)
        ]

    @property
    def _key(self) -> tuple[str, str, str, str]:
        """Which loaded pipeline is this backend's: placed as asked (device, dtype, offload), or loaded again."""
        return (self.model, self.device, str(self.dtype), str(self._offload))

    def _pipeline(self, post: Any) -> Any:
        """The loaded pipeline for this backend's (model, device, dtype), loading it once per process."""
        key = self._key
        with _LOADING:
            if key not in _PIPELINES:
                _PIPELINES[key] = load_pipeline(self.model, self.device, self.dtype, self._token, self._offload, post)
            pipeline, self.placement = _PIPELINES[key]
        return pipeline


#: How many reference images each diffusers pipeline takes (``image=``); any other takes none.
REFERENCES_TAKEN = {"FluxKontextPipeline": 1, "Flux2KleinPipeline": 4, "Flux2Pipeline": 6}


def check_references(pipeline: Any, count: int, model: str) -> None:
    """:class:`InvalidRequestError` (before anything is drawn) if ``pipeline`` cannot take ``count`` images."""
    kind = type(pipeline).__name__
    most = REFERENCES_TAKEN.get(kind, 0)
    if count and not most:
        raise InvalidRequestError(
            f"{model[:100]} ({kind}) draws from text only and takes no images; for editing load "
            "black-forest-labs/FLUX.1-Kontext-dev or a FLUX.2 [klein] model."
        )
    if count > most:
        raise InvalidRequestError(f"{model[:100]} ({kind}) takes at most {most} image(s); {count} were given.")


def _chunks(requests: Sequence[GenerationRequest], most: int) -> list[list[GenerationRequest]]:
    """``requests`` in order, in runs of at most ``most`` that share every drawing parameter."""
    chunks: list[list[GenerationRequest]] = []
    for request in requests:
        shape = _shape(request)
        last = chunks[-1] if chunks else None
        if last and len(last) < most and _shape(last[0]) == shape:
            last.append(request)
        else:
            chunks.append([request])
    return chunks


def _shifted(
    on_progress: Callable[[int, ProgressEvent], Awaitable[None] | None] | None, offset: int
) -> Callable[[int, ProgressEvent], Awaitable[None] | None] | None:
    """``on_progress`` for a chunk whose first image is image ``offset`` of the whole."""
    return None if on_progress is None else (lambda slot, event: on_progress(offset + slot, event))


def _shape(request: GenerationRequest) -> tuple[object, ...]:
    """What images of one pipeline call must share: every drawing parameter."""
    return tuple(getattr(request, parameter.name) for parameter in DRAWING)
