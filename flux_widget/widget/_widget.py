"""``FluxWidget``: the notebook widget. Controls are traits; generation runs on the kernel's loop."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

from .._config import DEFAULT_DEADLINE
from .._parameters import DRAWING, Range
from ..backends._count import batch_outcomes, batch_requests
from ..backends.base import Backend, BackendOptions, make_backend, ready_backend, references_taken
from ..errors import FluxError, QuotaExceededError, safe_text, without_wait
from ..types import (
    GenerationRequest,
    RequestParameters,
)
from ._history import History
from ._messages import TO_KERNEL, index_of
from ._progress import ProgressPump

if TYPE_CHECKING:
    from ..types import Generation

from .._home_loop import HomeLoop
from ._queue import QueueActions
from ._references import REFERENCE_MESSAGES
from ._saving import FOLDER_MESSAGES, SAVE_TO_ENV
from ._state import CONTROL_TYPES, control_values, frontend_contract

__all__ = ["FluxWidget"]

logger = logging.getLogger("flux_widget")


class FluxWidget(QueueActions):
    """Generate FLUX.1-schnell images in a notebook: prompt, size, steps, seed, history.

    ``space`` is ``owner/name`` or a URL (default: ``FLUX_WIDGET_SPACE``, then the public Space);
    ``token`` (default ``HF_TOKEN``) stays in the kernel: it is never a trait and never reaches
    the browser or the notebook file. ``deadline`` is how long, in seconds, one generation may take,
    queue included, before it is cancelled. The other keywords are either backend options
    (:class:`~flux_widget.backends.base.BackendOptions`: ``backend="inference"`` generates through
    Hugging Face Inference Providers with ``model`` and ``inference_provider``; ``backend="local"``
    on this machine's GPU with ``model``, ``device``, ``dtype`` and ``offload``) or the controls'
    first values (``prompt``, ``width``, ``height``, ``steps``, ``seed``, ``randomize_seed``, ``count``,
    …); an optional parameter's control shows when the backend takes it. ``client`` replaces the
    widget's own backend (it is then yours to close).

    Press Generate, or ``await widget.generate()`` in a cell; either runs on the kernel's event
    loop, so other cells keep running meanwhile. (In Colab, anywidget itself turns on the custom
    widget manager that third-party widgets need.)
    """

    def __init__(
        self,
        space: str | None = None,
        token: str | None = None,
        *,
        deadline: float = DEFAULT_DEADLINE,
        client: Backend | None = None,
        **options: Any,
    ) -> None:
        # Kernel-side state first: a bad Space fails here, before the browser hears of the
        # widget, and close() (also run by __del__) always finds what it needs.
        self._closing: asyncio.Task[None] | None = None
        self._history = History()
        #: Removed entries that :meth:`restore` can put back, newest last: (index, generation, batch slot, run).
        self._removed: list[tuple[int, Generation, int | None, int]] = []
        self._runs = 0  # the runs started: each image's entry names its run
        self._tray_images = {}
        self._gallery, self._saving, self._waiting, self._files, self._asked = None, set(), {}, {}, set()
        save_to = options.pop("save_to", None)
        self._task: asyncio.Task[Generation | list[Generation]] | None = None
        self._pump = ProgressPump(self._set_traits)
        self._owns_client = client is None and ready_backend(options.get("backend")) is None  # yours: never closed here
        own = {name: value for name, value in options.items() if name in BackendOptions.__annotations__}
        where = cast(BackendOptions, {**own, "space": space, "token": token})
        traits = {name: value for name, value in options.items() if name not in where and value is not None}
        self._client: Backend = client or make_backend(deadline, **where)
        #: The ranges the backend fits sizes and steps to, where it declares them (by the name it sends).
        self._ranges: Mapping[str, Range] = getattr(self._client, "ranges", {})
        # Until set, the drawing parameters follow the backend's own defaults (a FLUX.1-dev Space's 28 steps).
        self._follow_space = {parameter.name for parameter in DRAWING if not parameter.optional} - set(traits)
        super().__init__(**traits)
        if self._ranges:
            self.set_trait("limits", frontend_contract(self._ranges))  # what the JS fields take
        self.observe(lambda change: self._follow_space.discard(change["name"]), names=sorted(self._follow_space))
        self.source = self._client.base_url
        # The loop generations run on: the kernel's own, where the widget was made. JupyterLab
        # may deliver this widget's messages on a kernel subshell, a thread with a loop of its
        # own; everything they start is handed over to this loop.
        self._home = HomeLoop()
        self.on_msg(self._handle_message)
        self.save_to = str(save_to or os.environ.get(SAVE_TO_ENV, ""))  # its images into the history
        self._discovery: asyncio.Task[None] | None = None
        if self._home.loop is not None:
            self._discovery = self._home.loop.create_task(self._discover())

    async def _discover(self) -> None:
        """Learn the Space's inputs, so the frontend shows Guidance only where the Space takes it."""
        try:
            names = await self._client.parameter_names()
            defaults = await self._client.defaults()
        except FluxError as exc:
            logger.debug("discovery of %s failed: %s", self._client.base_url, exc)  # Generate will show it
            return
        self.space_parameters = sorted(names)
        self._adopt_defaults(defaults, self._follow_space)
        self.max_references = await references_taken(self._client)

    def __repr__(self) -> str:
        return (
            f"FluxWidget(space={self._client.base_url!r}, prompt={self.prompt!r}, "
            f"status={self.status!r}, history={len(self._history)} images)"
        )

    # ------------------------------------------------------------------ the kernel-side API

    @property
    def space(self) -> str:
        """The base URL of the Space this widget calls."""
        return self._client.base_url

    @property
    def busy(self) -> bool:
        """Whether a generation is queued or running."""
        return self._task is not None and not self._task.done()

    async def generate(self, prompt: str | None = None, **overrides: Any) -> Any:
        """Generate with the widget's controls (``prompt`` and ``overrides`` set them first).

        Returns the :class:`Generation`, or a list of them when ``count`` is more than 1; errors
        show in the widget and are raised. Overrides are trait names: the request parameters
        (``width``, ``height``, ``steps``, ``seed``, ``randomize_seed``, …) and ``count``. A batch shows as a grid
        while its images arrive, each enters the history, and the first failure cancels the rest.
        """
        return await self._home.run(lambda: self._start(prompt, overrides))

    def cancel(self) -> None:
        """Cancel the running generation (and its job on the Space); the next waiting prompt starts, if any."""
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def dismiss_error(self) -> None:
        """Clear the error on show (the widget stays usable either way)."""
        with self.hold_sync():
            self.error = ""
            if self.status == "error":
                self.status = "idle"

    def close(self) -> None:
        """Close the widget, cancel any running generation (on the Space too) and release the connections."""
        self.cancel()
        discovery = getattr(self, "_discovery", None)
        if discovery is not None:
            discovery.cancel()
        for entry in self._history.entries:
            entry.close()
        super().close()
        home = getattr(self, "_home", None)  # absent when __init__ failed (close then runs from __del__)
        client = getattr(self, "_client", None)
        if self._owns_client and client is not None and not client.closed and home is not None and home.usable:
            # The client cancels the job on the Space before it closes its connections.
            home.call(self._close_client)

    def _close_client(self) -> None:
        if self._closing is None and self._home.loop is not None:
            self._closing = self._home.loop.create_task(self._client.aclose())

    # ------------------------------------------------------------------ running a generation

    def _start(self, prompt: str | None, overrides: dict[str, Any]) -> asyncio.Task[Generation | list[Generation]]:
        if self.busy:
            raise FluxError("A generation is already running: wait for it or cancel it first.")
        unknown = set(overrides) - set(CONTROL_TYPES)  # the prompt has a parameter of its own
        if unknown:
            raise TypeError(f"generate() got unexpected keyword arguments: {sorted(unknown)}")
        values = self._checked({**overrides, **({} if prompt is None else {"prompt": prompt})})
        with self.hold_sync():
            for name, value in values.items():
                setattr(self, name, value)
        self._task = self._home.adopt().create_task(self._run())
        return self._task

    async def _run(self) -> Generation | list[Generation]:
        count = self.count
        self._pump.start(count)
        self._begin_run(count)
        arrived: dict[int, Generation] = {}
        self._runs += 1
        first = len(self._history)
        try:
            parameters = {
                name: getattr(self, name) for name in RequestParameters.__annotations__ if name in CONTROL_TYPES
            }
            request = GenerationRequest.build(self.prompt, **parameters, images=self.reference_images or None)
            if not self.space_parameters:  # a widget made outside a running loop learns them now
                await self._discover()
            requests = batch_requests(request, count)
            async with batch_outcomes(self._client, requests, on_progress=self._pump.record) as outcomes:
                async for slot, outcome in outcomes:
                    if isinstance(outcome, BaseException):
                        raise outcome  # leaving the block cancels the rest, on the Space too
                    arrived[slot] = replace(outcome, inputs=requests[slot].images or ())  # what Reuse puts back
                    # In the batch's order in the history, however its images arrive.
                    place = first + sum(1 for other in arrived if other < slot)
                    with self.hold_sync():  # the last image and "idle" in one message
                        self._arrived(slot, arrived[slot], place, keep_seed=not requests[slot].randomize_seed)
                        if len(arrived) == count:
                            self._finish("idle")
        except asyncio.CancelledError:
            self._finish("idle")
            raise
        except FluxError as exc:
            self._finish("error", str(exc))
            if isinstance(exc, QuotaExceededError) and exc.retry_after is not None:
                with self.hold_sync():  # one wait on screen: the live countdown, not the Space's own text
                    self.error = without_wait(str(exc))
                    self.retry_at = time.time() + exc.retry_after
            raise
        except Exception as exc:
            self._finish("error", safe_text(f"Unexpected error ({type(exc).__name__}): {exc}"))
            raise
        if self.max_references is None:  # a local model is on this machine now: its limit can be read
            self.max_references = await references_taken(self._client)
        await self._saved_all()
        return arrived[0] if count == 1 else [arrived[slot] for slot in range(count)]

    def _arrived(self, number: int, generation: Generation, place: int, *, keep_seed: bool) -> None:
        """Record a finished image: into the history at ``place``, on show, and into the batch's grid."""
        self._history.add(generation, run=self._runs, at=place)
        index = min(place, len(self._history) - 1)
        self._save(generation)  # into save_to, if set, on a worker thread
        self._pump.arrived(number)
        # The new entry's model (a small text thumbnail) and the list of references, then the
        # image alone with its parameters: the image's message is its own bytes and an envelope.
        self.history = self._history.entries
        with self.hold_sync():
            if self.batch_size:
                later = [{**tile, "index": tile["index"] + (tile["index"] >= index)} for tile in self.batch]
                self.batch = [*later, {"slot": number + 1, "index": index}]
                self.batch_done += 1
            self._show_image(generation, index)
            if not keep_seed:
                self.seed = generation.seed
            for parameter in DRAWING:  # what the backend used (its defaults, fitted to its ranges)
                if not parameter.optional:
                    setattr(self, parameter.name, getattr(generation, parameter.name))

    def _finish(self, status: str, error: str = "") -> None:
        """Show the outcome; a batch that made no image leaves no grid (the last image stays on show)."""
        self._pump.flush()
        with self.hold_sync():
            if not self.batch:
                self.batch_size = 0
            self.status = status
            self.error = error
            self.queue_position, self.eta = None, None
            self.progress = 1.0 if status == "idle" and self.step else 0.0

    # ------------------------------------------------------------------ messages from the frontend

    def _handle_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        """Run what a view asks (one of :data:`TO_KERNEL`) on the kernel's loop; anything else is ignored."""
        kind = content.get("type") if isinstance(content, dict) else None
        if kind not in TO_KERNEL:
            return
        index = index_of(content)
        if kind == "generate":
            params = content.get("params")
            overrides = control_values(params if isinstance(params, dict) else {})
            self._home.call(lambda: self._start_from_frontend(overrides))
        elif kind in ("cancel", "dismiss", "restore"):
            action = {"cancel": self.cancel, "dismiss": self.dismiss_error, "restore": self._restore_if_any}[kind]
            self._home.call(action)
        elif kind == "zip":
            self._home.call(lambda: self._send_zip(content.get("ticket")))
        elif kind in ("unqueue", "move", "cancel_all"):
            self._home.call(lambda: self._queue_message(kind, index, content.get("by")))
        elif kind in REFERENCE_MESSAGES:
            self._home.call(lambda: self._reference_message(kind, content, list(_buffers or [])))
        elif kind in FOLDER_MESSAGES:
            self._home.call(lambda: self._folder_message(kind, content))
        elif kind == "image" and index is not None:
            self._home.call(lambda: self._send_image(index, content.get("ticket")))
        elif index is not None:  # select, remove
            on_entry = {"select": self.select, "remove": self.remove}[kind]
            # Checked when it runs: the history may have changed since the browser sent it.
            self._home.call(lambda: on_entry(index) if 0 <= index < len(self._history) else None)

    def _restore_if_any(self) -> None:
        if self._removed:
            self.restore()

    def _start_from_frontend(self, overrides: dict[str, Any]) -> None:
        if self.busy:  # pressed while a job runs: it waits its turn
            try:
                self.enqueue(overrides)
            except FluxError as exc:
                self.error = str(exc)
            return
        try:
            task = self._start(overrides.pop("prompt", None), overrides)
        except FluxError as exc:  # a value the controls cannot take: said, and nothing changed
            self.error, self.status = str(exc), "error"
            return
        task.add_done_callback(self._log_outcome)
        task.add_done_callback(lambda _task: self._home.call(self._run_next))

    def _run_next(self) -> None:
        """The running job ended (made, failed or cancelled): start the first waiting prompt, if any."""
        if not self.busy and (values := self._next_in_queue()) is not None:
            self._start_from_frontend(values)

    @staticmethod
    def _log_outcome(task: asyncio.Task[Generation | list[Generation]]) -> None:
        # The widget already shows the error; retrieve it so asyncio does not report it again.
        if not task.cancelled() and task.exception() is not None:
            logger.debug("generation failed: %s", task.exception())
