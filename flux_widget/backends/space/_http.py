"""HTTP to one Space with limits: bounded bodies, retries, the token for its origin only, safe text.

:class:`SpaceHTTP` is what :class:`~flux_widget.FluxClient` speaks through. It knows nothing of
Gradio's queue: it sends a request and reads a bounded body, reads a bounded event stream, fetches a
file from the Space's own origin, and makes whatever a server said fit for a message (plain text,
token removed, cut). Every failure is a :class:`FluxError` saying what to do.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Generator
from typing import Any

import httpx
from httpx_sse import EventSource

from ..._bodies import ACCEPT_ENCODING, bounded_events, decoded_chunks, read_body
from ..._redaction import redact, redact_sent
from ...errors import (
    AuthenticationError,
    FluxError,
    GenerationError,
    InvalidRequestError,
    SpaceUnavailableError,
    plain_text,
)
from ._wire import load_json

__all__ = ["MAX_ERROR_BODY_BYTES", "MAX_EVENT_BYTES", "MAX_IMAGE_BYTES", "SpaceHTTP", "origin"]

logger = logging.getLogger("flux_widget")

#: The most bytes one server-sent event may take.
MAX_EVENT_BYTES = 1024 * 1024
#: A 2048×2048 lossless WebP or PNG of noise stays below this.
MAX_IMAGE_BYTES = 32 * 1024 * 1024
#: Error pages are cut here (their text is only shown in part).
MAX_ERROR_BODY_BYTES = 64 * 1024
_SPACE_STATES = ("sleeping", "paused", "building", "starting", "restarting", "runtime error")

Origin = tuple[str, str, int | None]


def origin(url: httpx.URL) -> Origin:
    """Scheme, host and port (the default one filled in) of ``url``."""
    default_port = {"http": 80, "https": 443}.get(url.scheme)
    return (url.scheme, url.host, url.port or default_port)


class _SpaceTokenAuth(httpx.Auth):
    """Adds the Hugging Face token to requests for the Space's origin, and to no other."""

    def __init__(self, token: str, space: Origin) -> None:
        self.token = token
        self._origin = space

    def __repr__(self) -> str:
        return "_SpaceTokenAuth(<hidden>)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if origin(request.url) == self._origin:
            request.headers["Authorization"] = f"Bearer {self.token}"
            # What the app behind the Hugging Face proxy sees (gradio_client sends it too).
            request.headers["X-HF-Authorization"] = f"Bearer {self.token}"
        yield request


class _ChunkStream(httpx.AsyncByteStream):
    """Already-checked bytes, as the body of a response that ``httpx_sse`` can read."""

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._chunks:
            yield chunk


class SpaceHTTP:
    """One ``httpx.AsyncClient`` for one Space, every body read with a limit.

    ``timeout`` is how long the Space may stay silent; ``retries`` and ``backoff`` bound the
    waiting for a sleeping Space (HTTP 503); ``token`` goes to the Space's origin only.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None,
        proxy: str | None,
        login: tuple[str, str] | None = None,
        timeout: float,
        retries: int,
        backoff: float,
        transport: httpx.AsyncBaseTransport | None,
    ) -> None:
        base = httpx.URL(base_url)
        if base.scheme not in {"http", "https"} or not base.host:
            raise InvalidRequestError(f"A Space URL must be http(s) with a host, not {base_url!r}.")
        self.base_url = base_url
        self.origin = origin(base)
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        self._auth = _SpaceTokenAuth(token, self.origin) if token else None
        self._login = login
        self._logged_in = False
        self._http = httpx.AsyncClient(
            auth=self._auth,
            proxy=proxy,
            transport=transport,
            # No pool timeout: waiting for one of our own connections is not the Space's silence.
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0), pool=None),
            headers={"User-Agent": "flux-widget", "Accept-Encoding": ACCEPT_ENCODING},
            follow_redirects=False,
        )

    @property
    def has_token(self) -> bool:
        """Whether a token is sent to the Space."""
        return self._auth is not None

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._http.is_closed

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    # ------------------------------------------------------------------ requests with limits and retries

    async def send(
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
            raise self._refused(response, body, what)

    def _refused(self, response: httpx.Response, body: bytes, what: str) -> FluxError:
        status = response.status_code
        if what == "login" and status in (400, 401, 403):
            return AuthenticationError(
                f"The Space's login at {self.base_url} refused the user name or password (HTTP {status})."
            )
        if status in (401, 403):
            return self.refused_access(status)
        if status == 404:
            return SpaceUnavailableError(
                f"Nothing at {response.request.url} (HTTP 404): check the Space's name or URL."
            )
        if status >= 500 or status == 429:
            return SpaceUnavailableError(describe_unavailable(response, body))
        return GenerationError(
            f"The Space refused the request for its {what} (HTTP {status}): {self.server_text(body, 500)}"
        )

    async def log_in(self) -> None:
        """Log in to an app launched with Gradio's own login (``auth=``), once, as Gradio's client does.

        The session cookies it sets are kept for the Space's host alone; the password goes nowhere else.
        """
        if self._login is None or self._logged_in:
            return
        user, password = self._login
        response, _ = await self.send(
            "POST", f"{self.base_url}/login", idempotent=False, limit=MAX_ERROR_BODY_BYTES, what="login",
            statuses_ok=(200, 302, 303, 307), data={"username": user, "password": password},
        )  # fmt: skip
        if response.status_code == 200:
            for name, value in response.cookies.items():
                self._http.cookies.set(name, value, domain=self.origin[1])
        self._logged_in = True

    def refused_access(self, status: int) -> AuthenticationError:
        """The error for a 401 or 403 from the Space: whether a token was sent, and what to do."""
        if self.has_token:
            advice = "the token sent was refused: check that it is valid and can read this Space"
        else:
            advice = "no token was sent: set HF_TOKEN (or token=) to one that can read this private Space"
        return AuthenticationError(
            f"The Space at {self.base_url} refused access (HTTP {status}); {advice}. An app with its own "
            "login takes auth=(user, password)."
        )

    def json(self, response: httpx.Response, body: bytes, what: str) -> Any:
        """The body as JSON; an HTML page instead means the Space is not up."""
        try:
            return load_json(body)
        except ValueError:
            if "text/html" in response.headers.get("content-type", "") or body.lstrip()[:1] == b"<":
                raise SpaceUnavailableError(describe_unavailable(response, body)) from None
            raise GenerationError(f"The Space's {what} is not JSON: {self.server_text(body, 200)!r}") from None

    async def events(self, url: str, params: dict[str, str]) -> AsyncGenerator[dict[str, Any], None]:
        """The event stream at ``url`` as dicts with a ``msg``, each event at most ``MAX_EVENT_BYTES``."""
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-store"}
        try:
            async with self._http.stream("GET", url, params=params, headers=headers) as response:
                content_type = response.headers.get("content-type", "")
                if response.status_code != 200 or "text/event-stream" not in content_type:
                    body = await read_body(response, MAX_ERROR_BODY_BYTES, what="error page", truncate=True)
                    if response.status_code in (401, 403):
                        raise self.refused_access(response.status_code)
                    if response.status_code >= 500 or "text/html" in content_type:
                        raise SpaceUnavailableError(describe_unavailable(response, body))
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
                f"The Space sent a malformed event (not JSON): {self.server_text(data, 200)!r}"
            ) from None
        if not isinstance(message, dict) or not isinstance(message.get("msg"), str):
            raise GenerationError(f"The Space sent a malformed event (no 'msg' field): {self.server_text(data, 200)!r}")
        return message

    async def post_quietly(self, url: str, payload: dict[str, Any], seconds: float) -> bool:
        """POST ``payload`` and ignore the answer; ``False`` (never an exception) if it failed."""
        try:
            async with asyncio.timeout(seconds), self._http.stream("POST", url, json=payload):
                pass  # the answer's body is not needed
        except (httpx.HTTPError, TimeoutError, RuntimeError) as exc:
            logger.debug("POST %s failed: %r", url, exc)
            return False
        return True

    # ------------------------------------------------------------------ files on the Space

    def file_url(self, url: object, path: str, api_prefix: str) -> str:
        """A result file's URL; a proxy's http:// for the Space's own https host is mended."""
        if not isinstance(url, str) or not url:
            return f"{self.base_url}{api_prefix}/file={path}"
        try:
            target, base = httpx.URL(url), httpx.URL(self.base_url)
        except httpx.InvalidURL:
            return url  # refused, with its reason, by download
        if target.scheme in {"http", "https"} and target.host == base.host and origin(target) != self.origin:
            # Behind the Hugging Face proxy a Space may name itself http://…:80; it is the same host.
            return str(target.copy_with(scheme=base.scheme, port=base.port))
        return url

    async def download(self, url: str) -> bytes:
        """Fetch a result file from the Space's own origin, refusing oversized bodies."""
        try:
            target = httpx.URL(url)
        except httpx.InvalidURL:
            raise GenerationError(f"The Space's image URL is not valid: {url[:200]!r}.") from None
        if target.scheme not in {"http", "https"} or origin(target) != self.origin:
            raise GenerationError(
                f"The Space's image URL points outside the Space ({target.scheme}://{target.host}); "
                "refusing to fetch it."
            )
        _, body = await self.send(
            "GET", str(target), idempotent=True, limit=MAX_IMAGE_BYTES, what="image", statuses_ok=(200,)
        )
        return body

    # ------------------------------------------------------------------ keeping secrets out of errors

    def server_text(self, value: object, limit: int = 500) -> str:
        """Text a server sent, made safe for a message: plain, token removed, then cut to ``limit``."""
        if isinstance(value, bytes):
            value = value[: 4 * limit + 4096].decode("utf-8", "replace")
        text = value if isinstance(value, str) else repr(value)
        text = plain_text(text[: 4 * limit + 4096])
        return self.redact(text)[:limit]

    def redact(self, text: str) -> str:
        """``text`` with the token and the login's password removed."""
        text = redact(text, self._auth.token if self._auth else None)
        return redact_sent(text, self._login[1]) if self._login else text

    def public(self, error: FluxError) -> FluxError:
        """``error`` fit to leave the client: the token redacted, no chain back to a request that holds it."""
        error.args = tuple(self.redact(arg) if isinstance(arg, str) else arg for arg in error.args)
        error.__cause__ = None
        error.__context__ = None
        return error


def describe_unavailable(response: httpx.Response, body: bytes) -> str:
    """Name the state of a Space that answered with an error page or a server error."""
    text = body[:20000].decode("utf-8", "replace").lower()
    state = next((word for word in _SPACE_STATES if word in text), None)
    if state is not None:
        return f"The Space is {state} (HTTP {response.status_code}). Wait a minute and try again."
    return (
        f"The Space answered HTTP {response.status_code} {response.reason_phrase[:40]}: it may be "
        "asleep, building or overloaded. Wait a minute and try again."
    )
