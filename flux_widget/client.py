"""``FluxClient``: one Space, one ``httpx.AsyncClient``, the Gradio queue API.

The client discovers the Space's ``/config`` once (API prefix, ``fn_index`` and ``trigger_id`` of
``infer``), joins the queue, reads the server-sent events of the job, cancels it when the caller
gives up, and fetches the image from the Space's own origin. It knows nothing of widgets or
IPython and works from any script.

Nothing a server sends is trusted: every body is read with a size limit (``bodies``), every value
is checked (``wire``), every failure is a :class:`FluxError` whose text never holds the token, and
a whole generation has a deadline. Every way of stopping a job (cancelling the task, leaving
:meth:`FluxClient.stream` early, the deadline, :meth:`FluxClient.aclose`) cancels it on the Space.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import os
import re
import secrets
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Generator
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from httpx_sse import EventSource

from .bodies import ACCEPT_ENCODING, bounded_events, decoded_chunks, read_body
from .errors import (
    FluxError,
    GenerationError,
    InvalidRequestError,
    QuotaExceededError,
    SpaceUnavailableError,
    error_from_space_message,
    plain_text,
)
from .types import Generation, GenerationRequest, ProgressEvent, space_seed
from .wire import API_NAME, SpaceInfo, load_json, name_parameters, parse_config, progress_event

__all__ = ["DEFAULT_DEADLINE", "DEFAULT_SPACE", "FluxClient", "SpaceInfo", "space_url"]

logger = logging.getLogger("flux_widget")

DEFAULT_SPACE = "black-forest-labs/FLUX.1-schnell"
SPACE_ENV = "FLUX_WIDGET_SPACE"
TOKEN_ENV = "HF_TOKEN"
#: Seconds a whole generation may take, queue included, before it is cancelled.
DEFAULT_DEADLINE = 600.0
#: Size limits for what the Space sends.
MAX_CONFIG_BYTES = 8 * 1024 * 1024
MAX_JOIN_BYTES = 64 * 1024
MAX_EVENT_BYTES = 1024 * 1024
#: A 2048×2048 lossless WebP or PNG of noise stays below this.
MAX_IMAGE_BYTES = 32 * 1024 * 1024
MAX_ERROR_BODY_BYTES = 64 * 1024
_CANCEL_TIMEOUT = 5.0
_SPACE_STATES = ("sleeping", "paused", "building", "starting", "restarting", "runtime error")
#: Hugging Face repo names: letters, digits, "-", "_" and ".", not starting with punctuation.
_SPACE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")

ProgressCallback = Callable[[ProgressEvent], "Awaitable[None] | None"]


async def notify(on_progress: ProgressCallback | None, event: ProgressEvent) -> None:
    """Give ``event`` to ``on_progress`` (a function or coroutine function), if there is one."""
    if on_progress is not None:
        outcome = on_progress(event)
        if inspect.isawaitable(outcome):
            await outcome


def space_url(space: str | None = None) -> str:
    """Return the base URL of a Space given as ``owner/name``, a full URL, or ``None``.

    ``None`` reads ``FLUX_WIDGET_SPACE`` and then falls back to the public FLUX.1-schnell Space.
    ``owner/name`` (Hugging Face repo-name characters only) maps to ``https://owner-name.hf.space``
    (lower-cased, ``.`` and ``_`` become ``-``); an http(s) URL is used as given, without its
    trailing slash. Anything else is an :class:`InvalidRequestError`.
    """
    chosen = (space or os.environ.get(SPACE_ENV) or DEFAULT_SPACE).strip()
    if re.match(r"^https?://", chosen, re.IGNORECASE):
        return chosen.rstrip("/")
    if not _SPACE_ID.match(chosen):
        raise InvalidRequestError(
            f"A Space is 'owner/name' (letters, digits, '-', '_' and '.') or an http(s) URL, not {chosen[:100]!r}."
        )
    subdomain = re.sub(r"[._/]", "-", chosen.lower())
    return f"https://{subdomain}.hf.space"


def _positive_seconds(name: str, value: object) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0:
        return float(value)
    raise InvalidRequestError(f"{name} must be a positive number of seconds, not {value!r}.")


class _SpaceTokenAuth(httpx.Auth):
    """Adds the Hugging Face token to requests for the Space's origin, and to no other."""

    def __init__(self, token: str, origin: tuple[str, str, int | None]) -> None:
        self._token = token
        self._origin = origin

    def __repr__(self) -> str:
        return "_SpaceTokenAuth(<hidden>)"

    def redact(self, text: str) -> str:
        """``text`` with the token replaced by a placeholder."""
        return text.replace(self._token, "hf_…(hidden)")

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if _origin(request.url) == self._origin:
            request.headers["Authorization"] = f"Bearer {self._token}"
            # What the app behind the Hugging Face proxy sees (gradio_client sends it too).
            request.headers["X-HF-Authorization"] = f"Bearer {self._token}"
        yield request


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default_port = {"http": 80, "https": 443}.get(url.scheme)
    return (url.scheme, url.host, url.port or default_port)


class _ChunkStream(httpx.AsyncByteStream):
    """Already-checked bytes, as the body of a response that ``httpx_sse`` can read."""

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._chunks:
            yield chunk


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
    inputs are filled by name (``prompt``, ``seed``, ``randomize_seed``, ``width``, ``height``,
    ``num_inference_steps``, ``guidance_scale``) and fitted to the ranges the Space declares, so
    any FLUX-like Space works. ``transport`` replaces the network (for tests).
    """

    def __init__(
        self,
        space: str | None = None,
        *,
        token: str | None = None,
        proxy: str | None = None,
        timeout: float = 60.0,
        deadline: float = DEFAULT_DEADLINE,
        retries: int = 3,
        backoff: float = 2.0,
        endpoint: str = f"/{API_NAME}",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = space_url(space)
        self.endpoint = "/" + endpoint.strip().lstrip("/")
        base = httpx.URL(self.base_url)
        if base.scheme not in {"http", "https"} or not base.host:
            raise InvalidRequestError(f"A Space URL must be http(s) with a host, not {self.base_url!r}.")
        self.timeout = _positive_seconds("timeout", timeout)
        self.deadline = _positive_seconds("deadline", deadline)
        self.retries = max(0, retries)
        self.backoff = backoff
        secret = token if token is not None else os.environ.get(TOKEN_ENV)
        self._auth = _SpaceTokenAuth(secret, _origin(base)) if secret else None
        self._http = httpx.AsyncClient(
            auth=self._auth,
            proxy=proxy,
            transport=transport,
            # No pool timeout: waiting for one of our own connections is not the Space's silence.
            timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0), pool=None),
            headers={"User-Agent": "flux-widget", "Accept-Encoding": ACCEPT_ENCODING},
            follow_redirects=False,
        )
        self._info: SpaceInfo | None = None
        self._info_lock = asyncio.Lock()
        self._jobs: set[_Job] = set()
        self._cleanups: set[asyncio.Future[None]] = set()

    def __repr__(self) -> str:
        token = "set" if self._auth is not None else "none"
        return f"FluxClient({self.base_url!r}, token={token})"

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
        await self._http.aclose()

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._http.is_closed

    # ------------------------------------------------------------------ discovery

    async def info(self) -> SpaceInfo:
        """Read the Space's ``/config`` (once per client) and find its ``infer`` endpoint."""
        try:
            async with self._info_lock:
                if self._info is None:
                    response, body = await self._send(
                        "GET", f"{self.base_url}/config", idempotent=True, limit=MAX_CONFIG_BYTES, what="/config"
                    )
                    info = parse_config(self._json(response, body, "/config"), self.base_url, self.endpoint[1:])
                    self._info = name_parameters(info, await self._api_info(info))
                    logger.debug("discovered %s: %s", self.base_url, self._info)
                return self._info
        except FluxError as exc:
            raise self._public(exc) from None

    async def parameter_names(self) -> frozenset[str]:
        """The names of the Space endpoint's inputs (``guidance_scale`` for FLUX.1-dev Spaces)."""
        return (await self.info()).parameter_names

    async def _api_info(self, info: SpaceInfo) -> object:
        """The Space's ``/info`` (its endpoints' parameter names), or ``None`` if it does not serve one."""
        try:
            response, body = await self._send(
                "GET", f"{self.base_url}{info.api_prefix}/info", idempotent=True, limit=MAX_CONFIG_BYTES, what="/info"
            )
            return self._json(response, body, "/info")
        except FluxError as exc:
            logger.debug("no usable /info at %s: %s", self.base_url, exc)
            return None

    # ------------------------------------------------------------------ generation

    async def generate(
        self,
        prompt: str,
        *,
        width: int = 1024,
        height: int = 1024,
        steps: int = 4,
        seed: int = 0,
        randomize_seed: bool = True,
        guidance: float | None = None,
        deadline: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Generation:
        """Generate one image and return it with the parameters that reproduce it.

        ``on_progress`` (a function or coroutine function) receives :class:`Queued`,
        :class:`Started` and :class:`Step` events. ``guidance`` is sent as ``guidance_scale`` to a
        Space that has it (FLUX.1-dev) and refused for one that has not; unset, the Space's default
        is used. ``deadline`` overrides the client's for this generation. Cancelling the awaiting
        task cancels the job on the Space, which frees its queue at once.
        """
        items = self.stream(
            prompt,
            width=width,
            height=height,
            steps=steps,
            seed=seed,
            randomize_seed=randomize_seed,
            guidance=guidance,
            deadline=deadline,
        )
        async with aclosing(items):
            async for item in items:
                if isinstance(item, Generation):
                    return item
                await notify(on_progress, item)
        raise GenerationError("The Space's event stream ended without a result.")  # pragma: no cover

    async def stream(
        self,
        prompt: str,
        *,
        width: int = 1024,
        height: int = 1024,
        steps: int = 4,
        seed: int = 0,
        randomize_seed: bool = True,
        guidance: float | None = None,
        deadline: float | None = None,
    ) -> AsyncGenerator[ProgressEvent | Generation, None]:
        """Yield progress events as the Space sends them, then the :class:`Generation`.

        Leaving the loop early (``break``, an exception, cancellation) cancels the Space job, and
        so does passing the deadline, which then raises :class:`SpaceUnavailableError`.
        """
        request = GenerationRequest.build(
            prompt, width=width, height=height, steps=steps, seed=seed, randomize_seed=randomize_seed, guidance=guidance
        )
        seconds = self.deadline if deadline is None else _positive_seconds("deadline", deadline)
        when = asyncio.get_running_loop().time() + seconds
        started = time.perf_counter()
        try:
            async with self._within(when, seconds):
                info = await self.info()
            data = info.inputs_for(request)  # by name, fitted to the Space's ranges
            sent = {parameter.name: value for parameter, value in zip(info.parameters, data, strict=True)}
            job = _Job(info, secrets.token_hex(8))
            self._jobs.add(job)
            try:
                async with self._within(when, seconds):
                    job.join = asyncio.ensure_future(self._join(info, data, job.session_hash))
                    # Shielded: a job cancelled while it joins is still learnt of, then cancelled.
                    event_id = await asyncio.shield(job.join)
                output: list[Any] | None = None
                async with aclosing(self._messages(info, job.session_hash)) as messages:
                    while output is None:
                        async with self._within(when, seconds):
                            message = await anext(messages, None)
                        if message is None:
                            break
                        if message.get("event_id") not in (None, event_id):
                            continue
                        kind = message.get("msg")
                        if kind in {"process_completed", "unexpected_error"}:
                            job.over = True
                            output = self._completed_output(message)
                        elif kind == "close_stream":
                            break
                        elif (event := progress_event(message)) is not None:
                            yield event
                if output is None:
                    raise GenerationError("The Space's event stream ended before the image was ready. Try again.")
                async with self._within(when, seconds):
                    generation = await self._fetch_result(info, request, sent, output, started)
            finally:
                self._jobs.discard(job)
                if not job.over:
                    await self._abandon(job)
        except FluxError as exc:
            raise self._public(exc) from None
        except Exception as exc:  # a last net: whatever escaped the checks is still one of ours
            logger.debug("unexpected error from %s", self.base_url, exc_info=True)
            raise self._public(
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
        response, body = await self._send(
            "POST",
            f"{self.base_url}{info.api_prefix}/queue/join",
            idempotent=False,
            limit=MAX_JOIN_BYTES,
            what="answer to joining the queue",
            json=payload,
        )
        answer = self._json(response, body, "answer to joining the queue")
        event_id = answer.get("event_id") if isinstance(answer, dict) else None
        if not isinstance(event_id, str) or not event_id or len(event_id) > 200:
            raise GenerationError(f"The Space's answer to joining the queue is malformed: {self._server_text(body)!r}")
        return event_id

    async def _messages(self, info: SpaceInfo, session_hash: str) -> AsyncGenerator[dict[str, Any], None]:
        """The session's event stream as dicts, each event at most ``MAX_EVENT_BYTES``."""
        url = f"{self.base_url}{info.api_prefix}/queue/data"
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-store"}
        try:
            params = {"session_hash": session_hash}
            async with self._http.stream("GET", url, params=params, headers=headers) as response:
                content_type = response.headers.get("content-type", "")
                if response.status_code != 200 or "text/event-stream" not in content_type:
                    body = await read_body(response, MAX_ERROR_BODY_BYTES, what="error page", truncate=True)
                    if response.status_code >= 500 or "text/html" in content_type:
                        raise SpaceUnavailableError(self._describe_unavailable(response, body))
                    raise GenerationError(
                        f"The Space refused the event stream (HTTP {response.status_code}, {content_type[:60]!r})."
                    )
                checked = bounded_events(decoded_chunks(response), MAX_EVENT_BYTES)
                source = EventSource(
                    httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=_ChunkStream(checked))
                )
                async for sse in source.aiter_sse():
                    if sse.data:
                        yield self._event_message(sse.data)
        except httpx.TimeoutException:
            raise SpaceUnavailableError(
                f"The Space sent nothing for {self.timeout:g} s while the job ran ({self.base_url}). "
                "Try again, or raise the client's timeout."
            ) from None
        except httpx.TransportError as exc:
            raise GenerationError(
                f"The connection to the Space was cut before the image was ready ({exc or type(exc).__name__}). "
                "Try again."
            ) from None

    def _event_message(self, data: str) -> dict[str, Any]:
        try:
            message = load_json(data.encode("utf-8", "replace"))
        except ValueError:
            raise GenerationError(
                f"The Space sent a malformed event (not JSON): {self._server_text(data, 200)!r}"
            ) from None
        if not isinstance(message, dict) or not isinstance(message.get("msg"), str):
            raise GenerationError(
                f"The Space sent a malformed event (no 'msg' field): {self._server_text(data, 200)!r}"
            )
        return message

    def _completed_output(self, message: dict[str, Any]) -> list[Any]:
        """The result of a finished job, or the error it finished with."""
        if message.get("msg") == "unexpected_error":
            raise GenerationError(
                f"The Space reported an unexpected error: {self._server_text(message.get('message'), 500)}"
            )
        output = message.get("output")
        if not isinstance(output, dict):
            raise GenerationError(f"The Space sent a malformed result (output is {self._server_text(output, 200)}).")
        if not message.get("success", False):
            error = output.get("error")
            failure = error_from_space_message(self._server_text(error, 5000) if error else error)
            if isinstance(failure, QuotaExceededError) and self._auth is not None:
                failure.args = (
                    f"{failure} With your token you can also use Hugging Face Inference Providers: "
                    'backend="inference" (billed to your account; never chosen for you).',
                )
            raise failure
        data = output.get("data")
        if not data:
            raise GenerationError("The job was cancelled on the Space before it produced an image.")
        if not isinstance(data, list):
            raise GenerationError(f"The Space sent a malformed result: {self._server_text(data, 200)}")
        return data

    async def _fetch_result(
        self, info: SpaceInfo, request: GenerationRequest, sent: dict[str, object], output: list[Any], started: float
    ) -> Generation:
        if len(output) <= info.image_output:
            raise GenerationError(f"The Space sent a malformed result: {self._server_text(output, 200)}")
        file_data = output[info.image_output]
        if info.seed_output is not None and info.seed_output < len(output):
            try:
                seed = space_seed(output[info.seed_output])
            except ValueError as exc:
                raise GenerationError(f"The Space's result has no usable seed ({exc}).") from None
        else:  # a Space that does not report its seed used the one sent
            seed = _number(sent.get("seed"), request.seed)
        if not isinstance(file_data, dict) or not isinstance(file_data.get("url") or file_data.get("path"), str):
            raise GenerationError(f"The Space's result has no image file: {self._server_text(file_data, 200)}.")
        from . import images  # Pillow, loaded when the first image arrives rather than at import

        url = self._file_url(info, file_data)
        downloaded = await self._download(url)
        try:
            image_bytes, mime_type = await asyncio.to_thread(images.accept, downloaded)
        except ValueError as exc:
            raise GenerationError(f"The Space's result was refused: {exc}.") from None
        guidance = sent.get("guidance_scale")
        return Generation(  # the values the Space was sent, after fitting them to its ranges
            prompt=request.prompt,
            seed=seed,
            width=_number(sent.get("width"), request.width),
            height=_number(sent.get("height"), request.height),
            steps=_number(sent.get("num_inference_steps"), request.steps),
            url=str(url),
            image_bytes=image_bytes,
            mime_type=mime_type,
            elapsed=time.perf_counter() - started,
            guidance=float(guidance) if isinstance(guidance, (int, float)) and not isinstance(guidance, bool) else None,
        )

    def _file_url(self, info: SpaceInfo, file_data: dict[str, Any]) -> str:
        """The result file's URL; a proxy's http:// for the Space's own https host is mended."""
        url = file_data.get("url")
        if not isinstance(url, str) or not url:
            return f"{self.base_url}{info.api_prefix}/file={file_data['path']}"
        try:
            target, base = httpx.URL(url), httpx.URL(self.base_url)
        except httpx.InvalidURL:
            return url  # refused, with its reason, by _download
        if target.scheme in {"http", "https"} and target.host == base.host and _origin(target) != _origin(base):
            # Behind the Hugging Face proxy a Space may name itself http://…:80; it is the same host.
            return str(target.copy_with(scheme=base.scheme, port=base.port))
        return url

    async def _download(self, url: str) -> bytes:
        """Fetch a result file from the Space's own origin, refusing oversized bodies."""
        try:
            target = httpx.URL(url)
        except httpx.InvalidURL:
            raise GenerationError(f"The Space's image URL is not valid: {url[:200]!r}.") from None
        if target.scheme not in {"http", "https"} or _origin(target) != _origin(httpx.URL(self.base_url)):
            raise GenerationError(
                f"The Space's image URL points outside the Space ({target.scheme}://{target.host}); "
                "refusing to fetch it."
            )
        _, body = await self._send(
            "GET", str(target), idempotent=True, limit=MAX_IMAGE_BYTES, what="image", statuses_ok=(200,)
        )
        return body

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
        url = f"{self.base_url}{job.info.api_prefix}/cancel"
        try:
            async with asyncio.timeout(_CANCEL_TIMEOUT), self._http.stream("POST", url, json=payload):
                pass  # the answer's body is not needed
            logger.debug("cancelled job %s on %s", event_id, self.base_url)
        except (httpx.HTTPError, TimeoutError, RuntimeError) as exc:
            logger.debug("could not cancel job %s on %s: %r", event_id, self.base_url, exc)

    @asynccontextmanager
    async def _within(self, when: float, seconds: float) -> AsyncIterator[None]:
        """Run the block before the loop time ``when``; past it, a :class:`SpaceUnavailableError`."""
        try:
            async with asyncio.timeout_at(when):
                yield
        except TimeoutError:
            raise SpaceUnavailableError(
                f"No image within the {seconds:g} s deadline from {self.base_url}; the job was cancelled. "
                "The Space may be busy: try again later, or allow more time with deadline=."
            ) from None

    # ------------------------------------------------------------------ HTTP with limits and retries

    async def _send(
        self,
        method: str,
        url: str,
        *,
        idempotent: bool,
        limit: int,
        what: str,
        statuses_ok: tuple[int, ...] = (200, 201, 202, 204),
        **kwargs: Any,
    ) -> tuple[httpx.Response, bytes]:
        """Send one request and read its body (at most ``limit`` bytes).

        503s are retried with backoff and, if ``idempotent``, one reset connection is retried.
        """
        attempt = 0
        reset_retried = False
        while True:
            try:
                async with self._http.stream(method, url, **kwargs) as response:
                    failed = response.status_code not in statuses_ok
                    body = await read_body(
                        response, MAX_ERROR_BODY_BYTES if failed else limit, what=what, truncate=failed
                    )
            except httpx.TimeoutException:
                raise SpaceUnavailableError(
                    f"The Space did not answer within {self.timeout:g} s ({self.base_url}). It may be "
                    "overloaded or waking up; try again, or raise the client's timeout."
                ) from None
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                # A server resets pooled connections after a 500: try once more on a fresh one.
                if idempotent and not reset_retried:
                    reset_retried = True
                    continue
                raise SpaceUnavailableError(f"The connection to {self.base_url} failed: {exc}.") from None
            except httpx.TransportError as exc:
                raise SpaceUnavailableError(
                    f"Cannot reach the Space at {self.base_url} ({exc or type(exc).__name__}). "
                    "Check the address and your network."
                ) from None
            status = response.status_code
            if status == 503 and attempt < self.retries:
                attempt += 1
                delay = self.backoff * 2 ** (attempt - 1)
                logger.info("%s answered 503; retry %d of %d in %.1f s", self.base_url, attempt, self.retries, delay)
                await asyncio.sleep(delay)
                continue
            if not failed:
                return response, body
            if status == 404:
                raise SpaceUnavailableError(
                    f"Nothing at {response.request.url} (HTTP 404): check the Space's name or URL."
                )
            if status >= 500 or status == 429:
                raise SpaceUnavailableError(self._describe_unavailable(response, body))
            raise GenerationError(
                f"The Space refused the request for its {what} (HTTP {status}): {self._server_text(body, 500)}"
            )

    def _json(self, response: httpx.Response, body: bytes, what: str) -> Any:
        """The body as JSON; an HTML page instead means the Space is not up."""
        try:
            return load_json(body)
        except ValueError:
            if "text/html" in response.headers.get("content-type", "") or body.lstrip()[:1] == b"<":
                raise SpaceUnavailableError(self._describe_unavailable(response, body)) from None
            raise GenerationError(f"The Space's {what} is not JSON: {self._server_text(body, 200)!r}") from None

    @staticmethod
    def _describe_unavailable(response: httpx.Response, body: bytes) -> str:
        """Name the state of a Space that answered with an error page or a server error."""
        text = body[:20000].decode("utf-8", "replace").lower()
        state = next((word for word in _SPACE_STATES if word in text), None)
        if state is not None:
            return f"The Space is {state} (HTTP {response.status_code}). Wait a minute and try again."
        return (
            f"The Space answered HTTP {response.status_code} {response.reason_phrase[:40]}: it may be "
            "asleep, building or overloaded. Wait a minute and try again."
        )

    # ------------------------------------------------------------------ keeping secrets out of errors

    def _server_text(self, value: object, limit: int = 500) -> str:
        """Text a server sent, made safe for a message: plain, token removed, then cut to ``limit``."""
        if isinstance(value, bytes):
            value = value[: 4 * limit + 4096].decode("utf-8", "replace")
        text = value if isinstance(value, str) else repr(value)
        text = plain_text(text[: 4 * limit + 4096])
        if self._auth is not None:
            text = self._auth.redact(text)
        return text[:limit]

    def _public(self, error: FluxError) -> FluxError:
        """``error`` fit to leave the client: the token redacted, no chain back to a request that holds it."""
        if self._auth is not None:
            error.args = tuple(self._auth.redact(arg) if isinstance(arg, str) else arg for arg in error.args)
        error.__cause__ = None
        error.__context__ = None
        return error


def _number(value: object, fallback: int) -> int:
    """``value`` as a whole number if it is one (a Space's sliders send floats), else ``fallback``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer():
        return int(value)
    return fallback
