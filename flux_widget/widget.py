"""``FluxWidget``: the notebook widget. Controls are traits; generation runs on the kernel's loop."""

from __future__ import annotations

import asyncio
import base64
import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets
from ipywidgets import widget_serialization

from . import images
from .backends import Backend, make_backend
from .batch import MAX_COUNT, batch_requests, run_batch
from .batch_progress import BatchProgress, Throttle
from .config import DEFAULT_DEADLINE
from .errors import FluxError, QuotaExceededError
from .history import ENTRY_FIELDS, History, HistoryEntry
from .types import (
    MAX_SEED,
    MAX_SIZE,
    MAX_STEPS,
    MIN_SIZE,
    SIZE_STEP,
    GenerationRequest,
    ProgressEvent,
    snap_size,
)

if TYPE_CHECKING:
    from PIL import Image

    from .types import Generation

__all__ = ["FluxWidget"]

logger = logging.getLogger("flux_widget")

_PACKAGE = Path(__file__).parent
_STATUSES = ("idle", "queued", "running", "error")
#: The controls a generate request may set, with the type each must have.
_CONTROL_TYPES: dict[str, type | tuple[type, ...]] = {
    "prompt": str, "width": int, "height": int, "steps": int, "seed": int, "randomize_seed": bool,
    "guidance": (int, float, type(None)), "count": int,
}  # fmt: skip


def frontend_contract() -> dict[str, Any]:
    """What the frontend must agree with Python on: limits, control names, entry fields, file extensions.

    Sent once as the read-only ``limits`` trait, so the JS holds no copy of its own.
    """
    return {
        "min_size": MIN_SIZE,
        "max_size": MAX_SIZE,
        "size_step": SIZE_STEP,
        "max_steps": MAX_STEPS,
        "max_seed": MAX_SEED,
        "max_count": MAX_COUNT,
        "controls": list(_CONTROL_TYPES),
        "entry_fields": list(ENTRY_FIELDS),
        "extensions": {mime: suffix.lstrip(".") for mime, suffix in images.SUFFIX_FOR_MIME.items()},
    }


def control_values(params: dict[str, Any]) -> dict[str, Any]:
    """The well-typed control values a generate message carries; anything else is dropped."""
    return {
        name: value
        for name, value in params.items()
        if name in _CONTROL_TYPES
        and isinstance(value, _CONTROL_TYPES[name])
        and (_CONTROL_TYPES[name] is bool or not isinstance(value, bool))
        and (not isinstance(value, float) or math.isfinite(value))
    }


def _frontend_file(name: str) -> Path:
    """The built frontend file, or its source in ``js/`` when running from a source checkout."""
    built = _PACKAGE / "static" / name
    return built if built.exists() else _PACKAGE.parent / "js" / name


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class FluxWidget(anywidget.AnyWidget):
    """Generate FLUX.1-schnell images in a notebook: prompt, size, steps, seed, history.

    ``space`` is ``owner/name`` or a URL (default: ``FLUX_WIDGET_SPACE``, then the public Space);
    ``token`` (default ``HF_TOKEN``) stays in the kernel: it is never a trait and never reaches
    the browser or the notebook file. ``deadline`` is how long, in seconds, one generation may take,
    queue included, before it is cancelled. ``backend="inference"`` (or ``FLUX_WIDGET_BACKEND``)
    generates through Hugging Face Inference Providers instead, with ``model`` and
    ``inference_provider``; a Guidance control shows when the backend takes one. ``client``
    replaces the widget's own backend (it is then yours to close).

    Press Generate, or ``await widget.generate()`` in a cell; either runs on the kernel's event
    loop, so other cells keep running meanwhile. (In Colab, anywidget itself turns on the custom
    widget manager that third-party widgets need.)
    """

    _esm = _frontend_file("widget.js")
    _css = _frontend_file("widget.css")

    prompt = traitlets.Unicode("", help="The text to draw.").tag(sync=True)
    width = traitlets.Int(1024, help="Width in pixels (snapped to 256–2048, step 32).").tag(sync=True)
    height = traitlets.Int(1024, help="Height in pixels (snapped to 256–2048, step 32).").tag(sync=True)
    steps = traitlets.Int(4, help="Denoising steps, 1–50.").tag(sync=True)
    seed = traitlets.Int(0, help="The seed; after a generation, the seed the Space used.").tag(sync=True)
    randomize_seed = traitlets.Bool(True, help="Let the Space pick a new seed each time.").tag(sync=True)
    count = traitlets.Int(1, help=f"Images per Generate, 1–{MAX_COUNT}.").tag(sync=True)
    guidance = traitlets.Float(
        None, allow_none=True, help="Guidance scale for Spaces that take one (FLUX.1-dev); None: the Space's default."
    ).tag(sync=True)
    limits = traitlets.Dict(
        default_value=frontend_contract(), read_only=True, help="Limits and names the frontend shares with Python."
    ).tag(sync=True)
    source = traitlets.Unicode("", help="Where the images come from: the Space's URL or the model.").tag(sync=True)
    space_parameters = traitlets.List(
        traitlets.Unicode(), help="The names of the Space's inputs, once discovered (the frontend shows what applies)."
    ).tag(sync=True)

    status = traitlets.Enum(_STATUSES, "idle", help="idle, queued, running or error.").tag(sync=True)
    progress = traitlets.Float(0.0, help="Fraction of denoising steps done, 0–1.").tag(sync=True)
    step = traitlets.Int(0, help="Denoising steps done.").tag(sync=True)
    total_steps = traitlets.Int(0, help="Denoising steps in the running job.").tag(sync=True)
    queue_position = traitlets.Int(None, allow_none=True, help="Jobs ahead in the queue.").tag(sync=True)
    eta = traitlets.Float(None, allow_none=True, help="The Space's estimate in seconds.").tag(sync=True)
    error = traitlets.Unicode("", help="The last error, as plain text.").tag(sync=True)
    retry_at = traitlets.Float(
        None, allow_none=True, help="After a quota error: when to try again, in seconds since the epoch."
    ).tag(sync=True)
    batch_size = traitlets.Int(0, help="Images in the running or last batch (0: the last run made one).").tag(sync=True)
    batch_done = traitlets.Int(0, help="Images of the batch that have arrived.").tag(sync=True)
    batch = traitlets.List(
        traitlets.Dict(), help="The batch's images so far: ``{'slot': 1-based place, 'index': history index}``."
    ).tag(sync=True)

    image = traitlets.Bytes(b"", help="The image shown (travels as a binary buffer).").tag(sync=True)
    image_type = traitlets.Unicode("", help="MIME type of ``image``.").tag(sync=True)
    current = traitlets.Dict(help="Parameters of the image shown, with its history index.").tag(sync=True)
    history = traitlets.List(
        traitlets.Instance(HistoryEntry), help="One entry per generation, newest last (each a model of its own)."
    ).tag(sync=True, **widget_serialization)

    def __init__(
        self,
        space: str | None = None,
        token: str | None = None,
        *,
        prompt: str = "",
        width: int = 1024,
        height: int = 1024,
        steps: int = 4,
        seed: int = 0,
        randomize_seed: bool = True,
        deadline: float = DEFAULT_DEADLINE,
        backend: str | None = None,
        model: str | None = None,
        inference_provider: str | None = None,
        client: Backend | None = None,
        **kwargs: Any,
    ) -> None:
        # Kernel-side state first: a bad Space fails here, before the browser hears of the
        # widget, and close() (also run by __del__) always finds what it needs.
        self._closing: asyncio.Task[None] | None = None
        self._history = History()
        self._task: asyncio.Task[Generation | list[Generation]] | None = None
        self._progress = BatchProgress(1)
        self._throttle = Throttle()
        self._progress_timer: asyncio.TimerHandle | None = None
        self._owns_client = client is None
        self._client: Backend = client or make_backend(
            deadline, backend=backend, space=space, token=token, model=model, inference_provider=inference_provider
        )
        super().__init__(
            prompt=prompt,
            width=width,
            height=height,
            steps=steps,
            seed=seed,
            randomize_seed=randomize_seed,
            **kwargs,
        )
        self.source = self._client.base_url
        # The loop generations run on: the kernel's own, where the widget was made. JupyterLab
        # may deliver this widget's messages on a kernel subshell, a thread with a loop of its
        # own; everything they start is handed over to this loop.
        self._home_loop: asyncio.AbstractEventLoop | None = _running_loop()
        self.on_msg(self._handle_message)
        self._discovery: asyncio.Task[None] | None = None
        if self._home_loop is not None:
            self._discovery = self._home_loop.create_task(self._discover())

    async def _discover(self) -> None:
        """Learn the Space's inputs, so the frontend shows Guidance only where the Space takes it."""
        try:
            names = await self._client.parameter_names()
        except FluxError as exc:
            logger.debug("discovery of %s failed: %s", self._client.base_url, exc)  # Generate will show it
            return
        self.space_parameters = sorted(names)

    def __repr__(self) -> str:
        return (
            f"FluxWidget(space={self._client.base_url!r}, prompt={self.prompt!r}, "
            f"status={self.status!r}, history={len(self._history)} images)"
        )

    # ------------------------------------------------------------------ keeping controls valid

    # Validators run before a value is stored: a value refused here leaves the old one in place.

    @traitlets.validate("width", "height")
    def _snap_size(self, proposal: dict[str, Any]) -> int:
        return snap_size(proposal["trait"].name, max(1, proposal["value"]))

    @traitlets.validate("steps")
    def _clamp_steps(self, proposal: dict[str, Any]) -> int:
        return min(MAX_STEPS, max(1, proposal["value"]))

    @traitlets.validate("count")
    def _clamp_count(self, proposal: dict[str, Any]) -> int:
        return min(MAX_COUNT, max(1, proposal["value"]))

    @traitlets.validate("seed")
    def _clamp_seed(self, proposal: dict[str, Any]) -> int:
        return min(MAX_SEED, max(0, proposal["value"]))

    @traitlets.validate("eta")
    def _finite_eta(self, proposal: dict[str, Any]) -> float | None:
        # NaN or Infinity would reach the browser as invalid JSON.
        value = proposal["value"]
        return value if value is None or math.isfinite(value) else None

    # ------------------------------------------------------------------ the kernel-side API

    @property
    def space(self) -> str:
        """The base URL of the Space this widget calls."""
        return self._client.base_url

    @property
    def busy(self) -> bool:
        """Whether a generation is queued or running."""
        return self._task is not None and not self._task.done()

    @property
    def generations(self) -> list[Generation]:
        """Every generation of this widget, full images included, newest last."""
        return list(self._history)

    @property
    def images(self) -> list[Image.Image]:
        """Every generated image as a ``PIL.Image``, newest last."""
        return [generation.image for generation in self._history]

    async def generate(self, prompt: str | None = None, **overrides: Any) -> Any:
        """Generate with the widget's controls (``prompt`` and ``overrides`` set them first).

        Returns the :class:`Generation`, or a list of them when ``count`` is more than 1; errors
        show in the widget and are raised. Overrides are trait names: ``width``, ``height``,
        ``steps``, ``seed``, ``randomize_seed``, ``guidance``, ``count``. A batch shows as a grid
        while its images arrive, each enters the history, and the first failure cancels the rest.
        """
        home = self._loop()
        if home is asyncio.get_running_loop():
            return await self._start(prompt, overrides)

        async def on_home_loop() -> Generation | list[Generation]:
            return await self._start(prompt, overrides)

        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(on_home_loop(), home))

    def cancel(self) -> None:
        """Cancel the running generation (and its job on the Space); the widget goes back to idle."""
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def dismiss_error(self) -> None:
        """Clear the error on show (the widget stays usable either way)."""
        with self.hold_sync():
            self.error = ""
            if self.status == "error":
                self.status = "idle"

    def select(self, index: int) -> Generation:
        """Show history entry ``index`` full size and restore its parameters, seed included.

        ``randomize_seed`` stays as it was: the next image gets a new seed unless it is turned off
        (the "Reuse seed" action does both).
        """
        generation = self._history[index]
        with self.hold_sync():
            self.batch, self.batch_size = [], 0  # the entry alone, not the last batch's grid
            self._show(generation, index % len(self._history))
            self.prompt = generation.prompt
            self.width, self.height, self.steps = generation.width, generation.height, generation.steps
            self.seed = generation.seed
            if generation.guidance is not None:
                self.guidance = generation.guidance
        return generation

    def show(self, index: int) -> Generation:
        """Show history entry ``index`` full size, leaving the controls as they are (the full-size view's arrows)."""
        generation = self._history[index]
        self._show(generation, index % len(self._history))
        return generation

    def remove(self, index: int) -> Generation:
        """Forget history entry ``index`` here and in the browser; the image on show stays."""
        position = index % len(self._history) if len(self._history) else index
        generation = self._history.remove(position)
        with self.hold_sync():
            self.history = self._history.entries
            shown = self.current.get("index") if self.current else None
            if shown is not None and shown >= position:
                self.current = {**self.current, "index": None if shown == position else shown - 1}
            if self.batch:
                self.batch = [
                    {**tile, "index": tile["index"] - (tile["index"] > position)}
                    for tile in self.batch
                    if tile["index"] != position
                ]
        return generation

    def clear_history(self) -> None:
        """Forget every generation (the image on show stays until the next one)."""
        self._history.clear()
        with self.hold_sync():
            self.history = []
            self.batch = []
            self.current = {**self.current, "index": None} if self.current else {}

    def save_all(self, folder: str | Path, suffix: str | None = None) -> list[Path]:
        """Write every generated image into ``folder``, parameters in its metadata.

        Files keep the Space's own format and bytes unless ``suffix`` (``".png"``, ``".jpg"``) asks
        for another.
        """
        return self._history.save_all(folder, suffix)

    def close(self) -> None:
        """Close the widget, cancel any running generation (on the Space too) and release the connections."""
        self.cancel()
        discovery = getattr(self, "_discovery", None)
        if discovery is not None:
            discovery.cancel()
        for entry in self._history.entries:
            entry.close()
        super().close()
        home = getattr(self, "_home_loop", None)  # absent when __init__ failed (close then runs from __del__)
        client = getattr(self, "_client", None)
        if self._owns_client and client is not None and not client.closed and home is not None and not home.is_closed():
            # The client cancels the job on the Space before it closes its connections.
            self._on_home_loop(self._close_client)

    def _close_client(self) -> None:
        if self._closing is None and self._home_loop is not None:
            self._closing = self._home_loop.create_task(self._client.aclose())

    # ------------------------------------------------------------------ running a generation

    def _start(self, prompt: str | None, overrides: dict[str, Any]) -> asyncio.Task[Generation | list[Generation]]:
        if self.busy:
            raise FluxError("A generation is already running: wait for it or cancel it first.")
        unknown = set(overrides) - set(_CONTROL_TYPES)  # the prompt has a parameter of its own
        if unknown:
            raise TypeError(f"generate() got unexpected keyword arguments: {sorted(unknown)}")
        with self.hold_sync():
            if prompt is not None:
                self.prompt = prompt
            for name, value in overrides.items():
                setattr(self, name, value)
        self._task = self._loop().create_task(self._run())
        return self._task

    def _loop(self) -> asyncio.AbstractEventLoop:
        """The home loop; a widget made outside any loop adopts the first one that uses it."""
        if self._home_loop is None or self._home_loop.is_closed():
            self._home_loop = asyncio.get_running_loop()
        return self._home_loop

    def _on_home_loop(self, callback: Callable[[], object]) -> None:
        """Run ``callback`` now if this is the home loop's thread, else soon on the home loop."""
        home = self._home_loop
        if home is None or home.is_closed() or home is _running_loop():
            callback()
        else:
            home.call_soon_threadsafe(callback)

    async def _run(self) -> Generation | list[Generation]:
        count = self.count
        self._progress = BatchProgress(count)
        with self.hold_sync():
            self.error, self.retry_at = "", None
            self.status = "queued"
            self.queue_position, self.eta = None, None
            self.step, self.total_steps, self.progress = 0, self.steps, 0.0
            self.batch, self.batch_size, self.batch_done = [], count if count > 1 else 0, 0
        arrived: dict[int, Generation] = {}
        try:
            request = GenerationRequest.build(
                self.prompt,
                width=self.width,
                height=self.height,
                steps=self.steps,
                seed=self.seed,
                randomize_seed=self.randomize_seed,
                guidance=self.guidance,
            )
            if not self.space_parameters:  # a widget made outside a running loop learns them now
                await self._discover()
            requests = batch_requests(request, count)
            async with run_batch(self._client, requests, on_progress=self._on_progress) as outcomes:
                async for slot, outcome in outcomes:
                    if isinstance(outcome, BaseException):
                        raise outcome  # leaving the block cancels the rest, on the Space too
                    arrived[slot] = outcome
                    with self.hold_sync():  # the last image and "idle" in one message
                        self._arrived(slot, outcome, keep_seed=not requests[slot].randomize_seed)
                        if len(arrived) == count:
                            self._finish("idle")
        except asyncio.CancelledError:
            self._finish("idle")
            raise
        except FluxError as exc:
            self._finish("error", str(exc))
            if isinstance(exc, QuotaExceededError) and exc.retry_after is not None:
                self.retry_at = time.time() + exc.retry_after
            raise
        except Exception as exc:
            self._finish("error", f"Unexpected error ({type(exc).__name__}): {exc}")
            raise
        return arrived[0] if count == 1 else [arrived[slot] for slot in range(count)]

    def _arrived(self, number: int, generation: Generation, *, keep_seed: bool) -> None:
        """Record a finished image: into the history, on show, and into the batch's grid."""
        entry = self._history.add(generation)
        index = len(self._history) - 1
        self._flush_progress()
        self._progress.arrived(number)
        # The new entry's model (a small text thumbnail) and the list of references, then the
        # image alone with its parameters: the image's message is its own bytes and an envelope.
        self.history = [*self.history, entry]
        with self.hold_sync():
            if self.batch_size:
                self.batch = [*self.batch, {"slot": number + 1, "index": index}]
                self.batch_done += 1
            self._show(generation, index)
            if not keep_seed:
                self.seed = generation.seed
            self.width, self.height, self.steps = generation.width, generation.height, generation.steps

    def _finish(self, status: str, error: str = "") -> None:
        """Show the outcome; a batch that made no image leaves no grid (the last image stays on show)."""
        self._flush_progress()
        with self.hold_sync():
            if not self.batch:
                self.batch_size = 0
            self.status = status
            self.error = error
            self.queue_position, self.eta = None, None
            self.progress = 1.0 if status == "idle" and self.step else 0.0

    def _flush_progress(self) -> None:
        """Show the last state the Space reported now, before an outcome replaces it."""
        if self._progress_timer is not None:
            self._progress_timer.cancel()
        self._show_progress()

    def _on_progress(self, slot: int, event: ProgressEvent) -> None:
        """Show progress at most every ``PROGRESS_INTERVAL`` seconds; the latest events always win."""
        self._progress.record(slot, event)
        if self._progress_timer is not None:
            return  # already due: it will show this event
        loop = asyncio.get_running_loop()
        wait = self._throttle.wait(loop.time())
        if wait <= 0:
            self._show_progress()
        else:
            self._progress_timer = loop.call_later(wait, self._show_progress)

    def _show_progress(self) -> None:
        """Show the jobs' latest events, combined (see :class:`BatchProgress`)."""
        self._progress_timer = None
        if not self._progress.pending:
            return
        self._throttle.shown(asyncio.get_running_loop().time())
        with self.hold_sync():
            for name, value in self._progress.updates().items():
                setattr(self, name, value)

    def _show(self, generation: Generation, index: int) -> None:
        tile = next((tile for tile in self.batch if tile["index"] == index), None)
        place = {"slot": tile["slot"], "of": self.batch_size} if tile else {}
        with self.hold_sync():
            self.image = generation.image_bytes
            self.image_type = generation.mime_type
            self.current = {**generation.parameters, "index": index, "elapsed": round(generation.elapsed, 1), **place}

    # ------------------------------------------------------------------ messages from the frontend

    def _handle_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "generate":
            params = content.get("params")
            overrides = control_values(params if isinstance(params, dict) else {})
            self._on_home_loop(lambda: self._start_from_frontend(overrides))
        elif kind == "cancel":
            self._on_home_loop(self.cancel)
        elif kind == "dismiss":
            self._on_home_loop(self.dismiss_error)
        elif kind in ("select", "show", "remove") and isinstance(content.get("index"), int):
            index = content["index"]
            action = {"select": self.select, "show": self.show, "remove": self.remove}[kind]
            # Checked when it runs: the history may have changed since the browser sent it.
            self._on_home_loop(lambda: action(index) if 0 <= index < len(self._history) else None)

    def _start_from_frontend(self, overrides: dict[str, Any]) -> None:
        if not self.busy:  # a second click while running is ignored, as the disabled button says
            self._start(overrides.pop("prompt", None), overrides).add_done_callback(self._log_outcome)

    @staticmethod
    def _log_outcome(task: asyncio.Task[Generation | list[Generation]]) -> None:
        # The widget already shows the error; retrieve it so asyncio does not report it again.
        if not task.cancelled() and task.exception() is not None:
            logger.debug("generation failed: %s", task.exception())

    # ------------------------------------------------------------------ static fallback

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The live widget, plus the current image for viewers that have no widget manager (JPEG, as ``%flux``)."""
        bundle = super()._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        if isinstance(data, dict) and self.image:
            try:
                shown, mime_type = images.display_bytes(self.image, self.current)
            except ValueError:  # undecodable: the live widget still shows, the fallback does not
                return bundle
            data[mime_type] = base64.b64encode(shown).decode("ascii")
        return bundle
