"""``FluxClient``: one Space, one ``httpx.AsyncClient``, the Gradio queue API.

The client discovers the Space's ``/config`` once (API prefix, ``fn_index`` and ``trigger_id`` of
``infer``), joins the queue, reads the server-sent events of the job, cancels it when the caller
gives up, and fetches the image from the Space's own origin. It knows nothing of widgets or
IPython and works from any script.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import re
import secrets
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Generator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from httpx_sse import EventSource, aconnect_sse

from . import images
from .errors import (
    FluxError,
    GenerationError,
    SpaceUnavailableError,
    error_from_space_message,
    plain_text,
)
from .types import Generation, GenerationRequest, ProgressEvent, Queued, Started, Step

__all__ = ["DEFAULT_SPACE", "FluxClient", "SpaceInfo", "space_url"]

logger = logging.getLogger("flux_widget")

DEFAULT_SPACE = "black-forest-labs/FLUX.1-schnell"
SPACE_ENV = "FLUX_WIDGET_SPACE"
TOKEN_ENV = "HF_TOKEN"
API_NAME = "infer"
_CANCEL_TIMEOUT = 5.0
_SPACE_STATES = ("sleeping", "paused", "building", "starting", "restarting", "runtime error")

ProgressCallback = Callable[[ProgressEvent], "Awaitable[None] | None"]


def space_url(space: str | None = None) -> str:
    """Return the base URL of a Space given as ``owner/name``, a full URL, or ``None``.

    ``None`` reads ``FLUX_WIDGET_SPACE`` and then falls back to the public FLUX.1-schnell Space.
    ``owner/name`` maps to ``https://owner-name.hf.space`` (lower-cased, ``.`` and ``_`` become
    ``-``); a URL is used as given, without its trailing slash.
    """
    chosen = (space or os.environ.get(SPACE_ENV) or DEFAULT_SPACE).strip()
    if re.match(r"^https?://", chosen, re.IGNORECASE):
        return chosen.rstrip("/")
    if chosen.count("/") != 1 or not all(chosen.split("/")):
        raise FluxError(f"A Space is 'owner/name' or an http(s) URL, not {chosen!r}.")
    subdomain = re.sub(r"[._/]", "-", chosen.lower())
    return f"https://{subdomain}.hf.space"


@dataclass(frozen=True)
class SpaceInfo:
    """What ``/config`` tells about the Space: where its routes are and how to call ``infer``."""

    gradio_version: str
    api_prefix: str
    fn_index: int
    trigger_id: int | None


class _SpaceTokenAuth(httpx.Auth):
    """Adds the Hugging Face token to requests for the Space's origin, and to no other."""

    def __init__(self, token: str, origin: tuple[str, str, int | None]) -> None:
        self._token = token
        self._origin = origin

    def __repr__(self) -> str:
        return "_SpaceTokenAuth(<hidden>)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if _origin(request.url) == self._origin:
            request.headers["Authorization"] = f"Bearer {self._token}"
            # What the app behind the Hugging Face proxy sees (gradio_client sends it too).
            request.headers["X-HF-Authorization"] = f"Bearer {self._token}"
        yield request


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default_port = {"http": 80, "https": 443}.get(url.scheme)
    return (url.scheme, url.host, url.port or default_port)


def _describe_unavailable(response: httpx.Response) -> str:
    """Name the state of a Space that answered with an error page or a server error."""
    text = response.text[:20000].lower() if response.content else ""
    state = next((word for word in _SPACE_STATES if word in text), None)
    if state is not None:
        return f"The Space is {state} (HTTP {response.status_code}). Wait a minute and try again."
    return (
        f"The Space answered HTTP {response.status_code} {response.reason_phrase}: it may be "
        "asleep, building or overloaded. Wait a minute and try again."
    )


class FluxClient:
    """An async client for a FLUX.1-schnell Space (the public one by default).

    Use it as an async context manager::

        async with FluxClient() as client:
            generation = await client.generate("a cat in a hat", seed=3, randomize_seed=False)
            generation.save("cat.png")

    ``space`` is ``owner/name`` or a URL (see :func:`space_url`); ``token`` defaults to
    ``HF_TOKEN`` and is sent only to the Space; ``proxy`` is an http(s) proxy URL; ``timeout``
    is how long, in seconds, the Space may stay silent before the client gives up. ``retries``
    and ``backoff`` bound the waiting for a sleeping Space (HTTP 503). ``transport`` replaces
    the network (for tests).
    """

    def __init__(
        self,
        space: str | None = None,
        *,
        token: str | None = None,
        proxy: str | None = None,
        timeout: float = 60.0,
        retries: int = 3,
        backoff: float = 2.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = space_url(space)
        base = httpx.URL(self.base_url)
        if base.scheme not in {"http", "https"} or not base.host:
            raise FluxError(f"A Space URL must be http(s) with a host, not {self.base_url!r}.")
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        secret = token if token is not None else os.environ.get(TOKEN_ENV)
        self._has_token = bool(secret)
        self._http = httpx.AsyncClient(
            auth=_SpaceTokenAuth(secret, _origin(base)) if secret else None,
            proxy=proxy,
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers={"User-Agent": "flux-widget"},
            follow_redirects=False,
        )
        self._info: SpaceInfo | None = None
        self._info_lock = asyncio.Lock()

    def __repr__(self) -> str:
        token = "set" if self._has_token else "none"
        return f"FluxClient({self.base_url!r}, token={token})"

    async def __aenter__(self) -> FluxClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections. The client cannot be used afterwards."""
        await self._http.aclose()

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._http.is_closed

    # ------------------------------------------------------------------ discovery

    async def info(self) -> SpaceInfo:
        """Read the Space's ``/config`` (once per client) and find its ``infer`` endpoint."""
        async with self._info_lock:
            if self._info is None:
                response = await self._send("GET", f"{self.base_url}/config", idempotent=True)
                self._info = self._parse_config(response)
                logger.debug("discovered %s: %s", self.base_url, self._info)
            return self._info

    def _parse_config(self, response: httpx.Response) -> SpaceInfo:
        try:
            config = response.json()
        except ValueError:
            raise SpaceUnavailableError(_describe_unavailable(response)) from None
        if not isinstance(config, dict) or not isinstance(config.get("dependencies"), list):
            raise SpaceUnavailableError(
                f"{self.base_url} does not look like a Gradio app (its /config has no dependencies)."
            )
        dependencies = [dep for dep in config["dependencies"] if isinstance(dep, dict)]
        chosen = next((dep for dep in dependencies if dep.get("api_name") == API_NAME), None)
        if chosen is None:
            names = sorted({str(dep.get("api_name")) for dep in dependencies if dep.get("api_name")})
            raise GenerationError(
                f"The Space at {self.base_url} has no '{API_NAME}' endpoint (it has: "
                f"{', '.join(names) or 'none'}). Is it a FLUX.1-schnell Space?"
            )
        fn_index = chosen.get("id", config["dependencies"].index(chosen))
        targets = chosen.get("targets") or []
        trigger_id = targets[0][0] if targets and isinstance(targets[0], list) and targets[0] else None
        prefix = config.get("api_prefix") or ""
        return SpaceInfo(
            gradio_version=str(config.get("version", "unknown")),
            api_prefix="/" + prefix.strip("/") if prefix.strip("/") else "",
            fn_index=int(fn_index),
            trigger_id=trigger_id if isinstance(trigger_id, int) else None,
        )

    # ------------------------------------------------------------------ HTTP with retries

    async def _send(self, method: str, url: str, *, idempotent: bool, **kwargs: Any) -> httpx.Response:
        """Send one request; retry 503s with backoff and, if idempotent, one reset connection."""
        attempt = 0
        reset_retried = False
        while True:
            try:
                response = await self._http.request(method, url, **kwargs)
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
            if response.status_code == 503 and attempt < self.retries:
                attempt += 1
                delay = self.backoff * 2 ** (attempt - 1)
                logger.info("%s answered 503; retry %d of %d in %.1f s", self.base_url, attempt, self.retries, delay)
                await asyncio.sleep(delay)
                continue
            if response.status_code == 404:
                raise SpaceUnavailableError(
                    f"Nothing at {response.request.url} (HTTP 404): check the Space's name or URL."
                )
            if (
                response.status_code >= 500
                or response.status_code == 429
                or (response.status_code == 200 and "text/html" in response.headers.get("content-type", ""))
            ):
                raise SpaceUnavailableError(_describe_unavailable(response))
            if response.status_code >= 400:
                raise GenerationError(
                    f"The Space refused the request (HTTP {response.status_code}): {plain_text(response.text[:500])}"
                )
            return response

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
        on_progress: ProgressCallback | None = None,
    ) -> Generation:
        """Generate one image and return it with the parameters that reproduce it.

        ``on_progress`` (a function or coroutine function) receives :class:`Queued`,
        :class:`Started` and :class:`Step` events. Cancelling the awaiting task cancels the job
        on the Space, which frees its queue at once.
        """
        async for item in self.stream(
            prompt, width=width, height=height, steps=steps, seed=seed, randomize_seed=randomize_seed
        ):
            if isinstance(item, Generation):
                return item
            if on_progress is not None:
                outcome = on_progress(item)
                if inspect.isawaitable(outcome):
                    await outcome
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
    ) -> AsyncIterator[ProgressEvent | Generation]:
        """Yield progress events as the Space sends them, then the :class:`Generation`.

        Leaving the loop early (``break``, an exception, cancellation) cancels the Space job.
        """
        request = GenerationRequest.build(
            prompt, width=width, height=height, steps=steps, seed=seed, randomize_seed=randomize_seed
        )
        info = await self.info()
        started = time.perf_counter()
        session_hash = secrets.token_hex(8)
        event_id: str | None = None
        job_over = False
        try:
            event_id = await self._join(info, request, session_hash)
            output: list[Any] | None = None
            async with self._events(info, session_hash) as messages:
                async for message in messages:
                    if message.get("event_id") not in (None, event_id):
                        continue
                    kind = message.get("msg")
                    if kind == "process_completed":
                        job_over = True
                        output = self._completed_output(message)
                        break
                    if kind == "unexpected_error":
                        job_over = True
                        raise GenerationError(
                            f"The Space reported an unexpected error: {plain_text(str(message.get('message')))}"
                        )
                    if kind == "close_stream":
                        break
                    event = _progress_event(message)
                    if event is not None:
                        yield event
            if output is None:
                job_over = True
                raise GenerationError("The Space's event stream ended before the image was ready. Try again.")
            yield await self._fetch_result(info, request, output, started)
        finally:
            if event_id is not None and not job_over:
                await self._cancel_quietly(info, session_hash, event_id)

    async def _join(self, info: SpaceInfo, request: GenerationRequest, session_hash: str) -> str:
        payload = {
            "data": request.space_inputs(),
            "event_data": None,
            "fn_index": info.fn_index,
            "trigger_id": info.trigger_id,
            "session_hash": session_hash,
        }
        response = await self._send(
            "POST", f"{self.base_url}{info.api_prefix}/queue/join", idempotent=False, json=payload
        )
        try:
            event_id = response.json()["event_id"]
        except (ValueError, KeyError, TypeError):
            raise GenerationError(
                f"The Space's answer to joining the queue is malformed: {response.text[:200]!r}"
            ) from None
        if not isinstance(event_id, str) or not event_id:
            raise GenerationError(f"The Space's answer to joining the queue is malformed: {response.text[:200]!r}")
        return event_id

    @asynccontextmanager
    async def _events(self, info: SpaceInfo, session_hash: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        """Open the session's event stream and yield its messages as dicts."""
        url = f"{self.base_url}{info.api_prefix}/queue/data"
        try:
            async with aconnect_sse(self._http, "GET", url, params={"session_hash": session_hash}) as source:
                if source.response.status_code != 200:
                    await source.response.aread()
                    if source.response.status_code >= 500:
                        raise SpaceUnavailableError(_describe_unavailable(source.response))
                    raise GenerationError(f"The Space refused the event stream (HTTP {source.response.status_code}).")
                messages = self._messages(source)
                try:
                    yield messages
                finally:
                    await messages.aclose()
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

    @staticmethod
    async def _messages(source: EventSource) -> AsyncGenerator[dict[str, Any], None]:
        async for sse in source.aiter_sse():
            if not sse.data:
                continue
            try:
                message = json.loads(sse.data)
            except ValueError:
                raise GenerationError(f"The Space sent a malformed event (not JSON): {sse.data[:200]!r}") from None
            if not isinstance(message, dict) or not isinstance(message.get("msg"), str):
                raise GenerationError(f"The Space sent a malformed event (no 'msg' field): {sse.data[:200]!r}")
            yield message

    @staticmethod
    def _completed_output(message: dict[str, Any]) -> list[Any]:
        output = message.get("output")
        if not isinstance(output, dict):
            raise GenerationError(f"The Space sent a malformed result (output is {output!r}).")
        if not message.get("success", False):
            raise error_from_space_message(output.get("error"))
        data = output.get("data")
        if not data:
            raise GenerationError("The job was cancelled on the Space before it produced an image.")
        if not isinstance(data, list) or len(data) < 2:
            raise GenerationError(f"The Space sent a malformed result: {str(data)[:200]}")
        return data

    async def _fetch_result(
        self, info: SpaceInfo, request: GenerationRequest, output: list[Any], started: float
    ) -> Generation:
        file_data, seed = output[0], output[1]
        if isinstance(seed, bool) or not isinstance(seed, (int, float)):
            raise GenerationError(f"The Space's result has no usable seed: {seed!r}.")
        if not isinstance(file_data, dict) or not (file_data.get("url") or file_data.get("path")):
            raise GenerationError(f"The Space's result has no image file: {str(file_data)[:200]}.")
        url = self._file_url(info, file_data)
        image_bytes = await self._download(url)
        try:
            mime_type, _ = images.check_image(image_bytes)
        except ValueError as exc:
            raise GenerationError(f"The Space's result was refused: {exc}.") from None
        return Generation(
            prompt=request.prompt,
            seed=int(seed),
            width=request.width,
            height=request.height,
            steps=request.steps,
            url=str(url),
            image_bytes=image_bytes,
            mime_type=mime_type,
            elapsed=time.perf_counter() - started,
        )

    def _file_url(self, info: SpaceInfo, file_data: dict[str, Any]) -> str:
        """The result file's URL; a proxy's http:// for the Space's own https host is mended."""
        url = file_data.get("url")
        if not url:
            return f"{self.base_url}{info.api_prefix}/file={file_data['path']}"
        try:
            target, base = httpx.URL(str(url)), httpx.URL(self.base_url)
        except httpx.InvalidURL:
            return str(url)  # refused, with its reason, by _download
        if target.scheme in {"http", "https"} and target.host == base.host and _origin(target) != _origin(base):
            # Behind the Hugging Face proxy a Space may name itself http://…:80; it is the same host.
            return str(target.copy_with(scheme=base.scheme, port=base.port))
        return str(url)

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
        for attempt in range(2):
            try:
                return await self._read_limited(target)
            except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
                if attempt == 1:
                    raise GenerationError(f"The image download was cut off ({exc}). Try again.") from None
            except httpx.TimeoutException:
                raise SpaceUnavailableError(
                    f"The Space did not send the image within {self.timeout:g} s. Try again."
                ) from None
            except httpx.TransportError as exc:
                raise SpaceUnavailableError(f"Cannot download the image from the Space: {exc}.") from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _read_limited(self, url: httpx.URL) -> bytes:
        limit = images.MAX_IMAGE_BYTES
        async with self._http.stream("GET", url) as response:
            if response.status_code != 200:
                raise GenerationError(f"The Space could not serve the image (HTTP {response.status_code}).")
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise GenerationError(f"The Space's image is {int(declared)} bytes, over the {limit}-byte limit.")
            chunks: list[bytes] = []
            received = 0
            async for chunk in response.aiter_bytes():
                received += len(chunk)
                if received > limit:
                    raise GenerationError(f"The Space's image is over the {limit}-byte limit; refused.")
                chunks.append(chunk)
        return b"".join(chunks)

    async def _cancel_quietly(self, info: SpaceInfo, session_hash: str, event_id: str) -> None:
        """Ask the Space to drop the job, so its queue frees at once; never raise."""
        payload = {"session_hash": session_hash, "fn_index": info.fn_index, "event_id": event_id}
        url = f"{self.base_url}{info.api_prefix}/cancel"
        try:
            task = asyncio.ensure_future(self._http.post(url, json=payload, timeout=_CANCEL_TIMEOUT))
            await asyncio.shield(task)
            logger.debug("cancelled job %s on %s", event_id, self.base_url)
        except (asyncio.CancelledError, httpx.HTTPError, RuntimeError) as exc:
            logger.debug("could not cancel job %s on %s: %r", event_id, self.base_url, exc)


def _progress_event(message: dict[str, Any]) -> ProgressEvent | None:
    kind = message.get("msg")
    if kind == "estimation":
        return Queued(
            rank=_int_or(message.get("rank"), 0),
            queue_size=_int_or(message.get("queue_size"), None),
            eta=_float_or_none(message.get("rank_eta")),
        )
    if kind == "process_starts":
        return Started(eta=_float_or_none(message.get("eta")))
    if kind == "progress":
        units = message.get("progress_data") or []
        unit = units[-1] if isinstance(units, list) and units and isinstance(units[-1], dict) else None
        if unit is None:
            return None
        return Step(
            index=_int_or(unit.get("index"), 0),
            length=_int_or(unit.get("length"), None),
            unit=unit.get("unit"),
            desc=unit.get("desc"),
        )
    return None


def _int_or(value: object, default: int | None) -> Any:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default


def _float_or_none(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
