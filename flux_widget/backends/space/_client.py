"""``FluxClient``: one Space, the Gradio queue API.

The client discovers the Space's ``/config`` once (API prefix, ``fn_index`` and ``trigger_id`` of
``infer``), joins the queue, reads the server-sent events of the job, cancels it when the caller
gives up, and fetches the image from the Space's own origin. It knows nothing of widgets or
IPython and works from any script.

Nothing a server sends is trusted: every body is read with a size limit (``space_http``), every
value is checked (``wire``), every failure is a :class:`FluxError` whose text never holds the token,
and a whole generation has a deadline. Every way of stopping a job (cancelling the task, leaving
:meth:`FluxClient.stream` early, the deadline, :meth:`FluxClient.aclose`) cancels it on the Space.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Unpack

import httpx

from ..._config import DEFAULT_DEADLINE, DEFAULT_SPACE, DEFAULT_TIMEOUT, SPACE_ENV, env_token, positive_seconds
from ..._parameters import FLUX_DEFAULTS, REFERENCE_PIXELS, drawn_with
from ...errors import FluxError, GenerationError, InvalidRequestError, QuotaExceededError, SpaceUnavailableError
from ...types import Generation, GenerationRequest, ProgressCallback, ProgressEvent, RequestParameters, Step, notify
from . import _wire as wire
from ._address import space_url
from ._http import SpaceHTTP
from ._wire import SpaceInfo, whole_or

if TYPE_CHECKING:
    from ..._inputs import InputImage

__all__ = ["DEFAULT_DEADLINE", "DEFAULT_SPACE", "FluxClient", "SpaceInfo"]

logger = logging.getLogger("flux_widget")

#: Size limits for what the Space sends besides events and images (``space_http`` has those).
MAX_CONFIG_BYTES = 8 * 1024 * 1024
MAX_JOIN_BYTES = 64 * 1024
_CANCEL_TIMEOUT = 5.0
_PAID_WAY_OUT = (
    'With your token you can also use Hugging Face Inference Providers: backend="inference" '
    "(billed to your account; never chosen for you)."
)


def _checked_login(auth: object) -> tuple[str, str] | None:
    """``auth`` if it is ``None`` or a (user, password) pair of non-empty text, else an :class:`InvalidRequestError`."""
    if auth is None:
        return None
    if isinstance(auth, (tuple, list)) and len(auth) == 2 and all(isinstance(part, str) and part for part in auth):
        return (auth[0], auth[1])
    raise InvalidRequestError("auth must be a (user name, password) pair of non-empty text.")


def _redacted(event: ProgressEvent, redact: Callable[[str], str]) -> ProgressEvent:
    """``event`` without the token in the text a Space put into it (``repr`` shows it, ``print`` too)."""
    if isinstance(event, Step) and (event.desc or event.unit):
        return replace(event, desc=event.desc and redact(event.desc), unit=event.unit and redact(event.unit))
    return event


@dataclass(eq=False)
class _Job:
    """One queued job: what is needed to cancel it, and whether that is still needed."""

    info: SpaceInfo
    session_hash: str
    join: asyncio.Future[str] | None = None
    over: bool = False
    cleanup: asyncio.Future[None] | None = field(default=None, repr=False)


class FluxClient:
    """An async client for a FLUX.1-schnell Space (the public one by default).

    Use it as an async context manager::

        async with FluxClient() as client:
            generation = await client.generate("a cat in a hat", seed=3, randomize_seed=False)
            generation.save("cat.png")

    ``space`` is ``owner/name`` or a URL (see :func:`space_url`); ``token`` defaults to
    ``HF_TOKEN`` and is sent only to the Space; ``proxy`` is an http(s) proxy URL; ``timeout``
    is how long, in seconds, the Space may stay silent before the client gives up; ``deadline``
    is how long a whole generation may take, waiting in the queue included (10 minutes by
    default), before it is cancelled. ``retries`` and ``backoff`` bound the waiting for a
    sleeping Space (HTTP 503). ``endpoint`` is the Space's api name to call (``/infer``); its
    inputs are filled by the names the parameter table gives them (``prompt``, ``seed``, ``width``,
    ``num_inference_steps``, …) and fitted to the ranges the Space declares, so any FLUX-like Space
    works. ``auth=(user, password)`` logs in to an app launched with Gradio's
    own login, as Gradio's client does. ``transport`` replaces the network (for tests).

    It is the ``space`` backend: :meth:`generate` also takes a ready :class:`GenerationRequest`.
    """

    def __init__(
        self,
        space: str | None = None,
        *,
        token: str | None = None,
        proxy: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        deadline: float = DEFAULT_DEADLINE,
        retries: int = 3,
        backoff: float = 2.0,
        endpoint: str = f"/{wire.API_NAME}",
        transport: httpx.AsyncBaseTransport | None = None,
        auth: tuple[str, str] | None = None,
    ) -> None:
        self.base_url = space_url(space)
        #: The Space as given (``owner/name``) or its URL: the ``Model`` its images' metadata names.
        self.name = (space or os.environ.get(SPACE_ENV) or DEFAULT_SPACE).strip().rstrip("/")
        self.endpoint = "/" + endpoint.strip().lstrip("/")
        self.timeout = positive_seconds("timeout", timeout)
        self.deadline = positive_seconds("deadline", deadline)
        self._space = SpaceHTTP(
            self.base_url,
            token=env_token(token),
            proxy=proxy,
            timeout=self.timeout,
            retries=retries,
            backoff=backoff,
            transport=transport,
            login=_checked_login(auth),
        )
        self._info: SpaceInfo | None = None
        self._info_lock = asyncio.Lock()
        self._jobs: set[_Job] = set()
        self._cleanups: set[asyncio.Future[None]] = set()

    def __repr__(self) -> str:
        return f"FluxClient({self.base_url!r}, token={'set' if self._space.has_token else 'none'})"

    async def __aenter__(self) -> FluxClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Cancel the jobs still running on the Space, then close the connections.

        The client cannot be used afterwards.
        """
        for job in list(self._jobs):
            self._start_cleanup(job)
        if self._cleanups:
            await asyncio.wait(set(self._cleanups), timeout=3 * _CANCEL_TIMEOUT)
        await self._space.aclose()

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._space.closed

    # ------------------------------------------------------------------ discovery

    async def info(self) -> SpaceInfo:
        """Read the Space's ``/config`` (once per client) and find its ``infer`` endpoint."""
        try:
            async with self._info_lock:
                if self._info is None:
                    await self._space.log_in()
                    config = await self._get_json("/config")
                    info = wire.parse_config(config, self.base_url, self.endpoint[1:])
                    self._info = wire.name_parameters(info, await self._api_info(info))
                    logger.debug("discovered %s: %s", self.base_url, self._info)
                return self._info
        except FluxError as exc:
            raise self._space.public(exc) from None

    async def references_taken(self) -> int:
        """How many reference images the Space's endpoint takes (its image and gallery inputs; 0: text only)."""
        return (await self.info()).max_images

    async def parameter_names(self) -> frozenset[str]:
        """The names of the Space endpoint's inputs, as it declares them in ``/info``."""
        return (await self.info()).parameter_names

    async def defaults(self) -> dict[str, object]:
        """The Space's declared default for each input (what it uses when a parameter is not given)."""
        return {parameter.name: parameter.default for parameter in (await self.info()).parameters}

    async def _get_json(self, path: str) -> Any:
        response, body = await self._space.send(
            "GET", f"{self.base_url}{path}", idempotent=True, limit=MAX_CONFIG_BYTES, what=path
        )
        return self._space.json(response, body, path)

    async def _api_info(self, info: SpaceInfo) -> object:
        """The Space's ``/info`` (its endpoints' parameter names), or ``None`` if it does not serve one."""
        try:
            return await self._get_json(f"{info.api_prefix}/info")
        except FluxError as exc:
            logger.debug("no usable /info at %s: %s", self.base_url, exc)
            return None

    # ------------------------------------------------------------------ generation

    async def generate(
        self,
        prompt: str | GenerationRequest,
        *,
        deadline: float | None = None,
        on_progress: ProgressCallback | None = None,
        **parameters: Unpack[RequestParameters],
    ) -> Generation:
        """Generate one image and return it with the parameters that reproduce it.

        ``prompt`` is the text (with the request parameters, :class:`~flux_widget.types.RequestParameters`,
        as keywords) or a ready :class:`GenerationRequest`. ``on_progress`` (a function or coroutine
        function) receives :class:`Queued`, :class:`Started` and :class:`Step` events. An optional
        parameter is sent only to a Space that has its input, and refused for one that has not;
        unset, the Space's default is used.
        ``deadline`` overrides the client's for this generation. Cancelling the awaiting task
        cancels the job on the Space, which frees its queue at once.
        """
        items = self.stream(GenerationRequest.of(prompt, **parameters), deadline=deadline)
        async with aclosing(items):
            async for item in items:
                if isinstance(item, Generation):
                    return item
                await notify(on_progress, item)
        raise GenerationError("The Space's event stream ended without a result.")  # pragma: no cover

    async def stream(
        self,
        prompt: str | GenerationRequest,
        *,
        deadline: float | None = None,
        **parameters: Unpack[RequestParameters],
    ) -> AsyncGenerator[ProgressEvent | Generation, None]:
        """Yield progress events as the Space sends them, then the :class:`Generation`.

        Takes what :meth:`generate` takes. Leaving the loop early (``break``, an exception,
        cancellation) cancels the Space job, and so does passing the deadline, which then raises
        :class:`SpaceUnavailableError`.
        """
        request = GenerationRequest.of(prompt, **parameters)
        seconds = self.deadline if deadline is None else positive_seconds("deadline", deadline)
        when = asyncio.get_running_loop().time() + seconds
        started = time.perf_counter()
        try:
            async with _within(when, seconds, self.base_url):
                info = await self.info()
                info.check_images(len(request.images or ()))  # before any upload
                upload = f"{self.base_url}{info.api_prefix}/upload"
                files = [await _uploaded(self._space, upload, image) for image in request.images or ()]
            data = info.inputs_for(request, files)  # by name, fitted to the Space's ranges
            sent = {parameter.name: value for parameter, value in zip(info.parameters, data, strict=True)}
            job = _Job(info, secrets.token_hex(8))
            self._jobs.add(job)
            try:
                async with _within(when, seconds, self.base_url):
                    job.join = asyncio.ensure_future(self._join(info, data, job.session_hash))
                    # Shielded: a job cancelled while it joins is still learnt of, then cancelled.
                    event_id = await asyncio.shield(job.join)
                output: list[Any] | None = None
                stream_url = f"{self.base_url}{info.api_prefix}/queue/data"
                messages = self._space.events(stream_url, {"session_hash": job.session_hash})
                async with aclosing(messages):
                    while output is None:
                        async with _within(when, seconds, self.base_url):
                            message = await anext(messages, None)
                        if message is None or message.get("msg") == "close_stream":
                            break
                        if message.get("event_id") not in (None, event_id):
                            continue
                        if message.get("msg") in {"process_completed", "unexpected_error"}:
                            job.over = True
                            output = _completed(self._space, message)
                        elif (event := wire.progress_event(message)) is not None:
                            yield _redacted(event, self._space.redact)
                if output is None:
                    raise GenerationError("The Space's event stream ended before the image was ready. Try again.")
                async with _within(when, seconds, self.base_url):
                    generation = await self._fetch_result(info, request, sent, output, started)
            finally:
                self._jobs.discard(job)
                if not job.over:
                    await self._abandon(job)
        except FluxError as exc:
            raise self._space.public(exc) from None
        except Exception as exc:  # a last net: whatever escaped the checks is still one of ours
            logger.debug("unexpected error from %s", self.base_url, exc_info=True)
            raise self._space.public(
                GenerationError(f"Unexpected error while talking to the Space ({type(exc).__name__}): {exc}")
            ) from None
        yield generation

    async def _join(self, info: SpaceInfo, data: list[object], session_hash: str) -> str:
        payload = {
            "data": data,
            "event_data": None,
            "fn_index": info.fn_index,
            "trigger_id": info.trigger_id,
            "session_hash": session_hash,
        }
        what = "answer to joining the queue"
        url = f"{self.base_url}{info.api_prefix}/queue/join"
        response, body = await self._space.send(
            "POST", url, idempotent=False, limit=MAX_JOIN_BYTES, what=what, json=payload
        )
        answer = self._space.json(response, body, what)
        event_id = answer.get("event_id") if isinstance(answer, dict) else None
        if not isinstance(event_id, str) or not event_id or len(event_id) > 200:
            raise GenerationError(f"The Space's {what} is malformed: {self._space.server_text(body)!r}")
        return event_id

    async def _fetch_result(
        self, info: SpaceInfo, request: GenerationRequest, sent: dict[str, object], output: list[Any], started: float
    ) -> Generation:
        text = self._space.server_text
        if len(output) <= info.image_output:
            raise GenerationError(f"The Space sent a malformed result: {text(output, 200)}")
        file_data = output[info.image_output]
        seed = info.seed_from(output, fallback=whole_or(sent.get("seed"), request.seed))
        if not isinstance(file_data, dict) or not isinstance(file_data.get("url") or file_data.get("path"), str):
            raise GenerationError(f"The Space's result has no image file: {text(file_data, 200)}.")
        from ... import _images as images  # Pillow, loaded when the first image arrives rather than at import

        url = self._space.file_url(file_data.get("url"), str(file_data.get("path")), info.api_prefix)
        downloaded = await self._space.download(url)
        try:
            image_bytes, mime_type = await asyncio.to_thread(images.accept, downloaded)
            _, size = images.check_image(image_bytes)
        except ValueError as exc:
            raise GenerationError(f"The Space's result was refused: {exc}.") from None
        drawn = drawn_with(sent, vars(request), FLUX_DEFAULTS)
        if "width" not in sent and "height" not in sent:  # an editing Space sizes the image itself
            drawn["width"], drawn["height"] = size
        return Generation(  # the values the Space was sent, after fitting them to its ranges
            prompt=request.prompt,
            seed=seed,
            **drawn,
            url=wire.text_safe_url(url),  # fetched from the Space's origin; safe in markdown and HTML
            image_bytes=image_bytes,
            mime_type=mime_type,
            elapsed=time.perf_counter() - started,
            model=self.name,
        )

    # ------------------------------------------------------------------ stopping a job

    def _start_cleanup(self, job: _Job) -> asyncio.Future[None]:
        """Start cancelling ``job`` on the Space (once), tracked so that :meth:`aclose` waits for it."""
        if job.cleanup is None:
            job.cleanup = asyncio.ensure_future(self._cancel_on_space(job))
            self._cleanups.add(job.cleanup)
            job.cleanup.add_done_callback(self._cleanups.discard)
        return job.cleanup

    async def _abandon(self, job: _Job) -> None:
        """Cancel ``job`` on the Space and wait for that; a second cancellation stops the wait, not the cancel."""
        await asyncio.shield(self._start_cleanup(job))

    async def _cancel_on_space(self, job: _Job) -> None:
        """Ask the Space to drop the job, so its queue frees at once; never raise."""
        if job.join is None:
            return
        try:
            # A join still in flight may queue the job yet: learn its id before cancelling it.
            event_id = await asyncio.wait_for(asyncio.shield(job.join), 2 * _CANCEL_TIMEOUT)
        except (Exception, asyncio.CancelledError):
            return  # it never joined: nothing to cancel
        payload = {"session_hash": job.session_hash, "fn_index": job.info.fn_index, "event_id": event_id}
        if await self._space.post_quietly(f"{self.base_url}{job.info.api_prefix}/cancel", payload, _CANCEL_TIMEOUT):
            logger.debug("cancelled job %s on %s", event_id, self.base_url)


async def _uploaded(space: SpaceHTTP, url: str, image: InputImage) -> dict[str, Any]:
    """Send one reference image to the Space's upload route ``url`` (as ``gradio_client`` does); its file data.

    The image is first fitted as FLUX models take it (about a megapixel); the answer is bounded.
    """
    fitted = await asyncio.to_thread(image.fitted, REFERENCE_PIXELS)
    files = {"files": (fitted.name, fitted.data, fitted.mime_type)}
    what = "answer to an image upload"
    response, body = await space.send("POST", url, idempotent=False, limit=MAX_JOIN_BYTES, what=what, files=files)
    return wire.file_data(wire.uploaded_path(space.json(response, body, what)), fitted.name)


def _completed(space: SpaceHTTP, message: dict[str, Any]) -> list[Any]:
    """The result of a finished job; a quota error names the paid way out when a token is set."""
    try:
        return wire.completed_output(message, space.server_text)
    except QuotaExceededError as failure:
        if space.has_token:
            failure.args = (f"{failure} {_PAID_WAY_OUT}",)
        raise


@asynccontextmanager
async def _within(when: float, seconds: float, base_url: str) -> AsyncIterator[None]:
    """Run the block before the loop time ``when``; past it, a :class:`SpaceUnavailableError`."""
    try:
        async with asyncio.timeout_at(when):
            yield
    except TimeoutError:
        raise SpaceUnavailableError(
            f"No image within the {seconds:g} s deadline from {base_url}; the job was cancelled. "
            "The Space may be busy: try again later, or allow more time with deadline=."
        ) from None
