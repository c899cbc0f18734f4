"""``InferenceBackend``: FLUX through Hugging Face Inference Providers, for people with a token.

huggingface_hub (the optional extra ``flux-widget[inference]``, imported only when this backend is
chosen) keeps what it knows best: which provider serves a model, and each provider's request and
answer formats (its ``prepare_request`` → ``get_response``, as ``AsyncInferenceClient.text_to_image``
does). The request itself is sent by us, so its answer is held to the Space path's rules: a
bounded, streamed body (compressed ones too, only gzip and deflate asked for), then the whole-file
and pixel checks of :func:`images.accept`. It returns the same :class:`Generation` as the Space and
maps every failure onto the same error family. Unlike the free Space it can cost money: it is never
chosen automatically.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
from typing import Any

import httpx

from .._bodies import ACCEPT_ENCODING, read_body
from .._config import DEFAULT_DEADLINE, DEFAULT_INFERENCE_MODEL, DEFAULT_TIMEOUT, env_token, positive_seconds
from .._parameters import BY_NAME, REFERENCE_PIXELS, recorded
from .._redaction import redact
from ..errors import (
    MAX_WAIT_SECONDS,
    AuthenticationError,
    FluxError,
    GenerationError,
    InvalidRequestError,
    QuotaExceededError,
    ServiceUnavailableError,
    plain_text,
)
from ..types import Generation, GenerationRequest, ProgressCallback, Started, notify
from .base import ModelBackend

__all__ = ["DEFAULT_MODEL", "InferenceBackend"]

DEFAULT_MODEL = DEFAULT_INFERENCE_MODEL
#: The most bytes an answer may take (as a Space's image), and an error page.
MAX_ANSWER_BYTES = 32 * 1024 * 1024
MAX_ERROR_BYTES = 64 * 1024
_WHOSE = "The inference provider's"
#: How many reference images huggingface_hub's image-to-image sends.
MAX_REFERENCES = 1


class InferenceBackend(ModelBackend):
    """Generate through Hugging Face Inference Providers (``backend="inference"``).

    ``model`` is a model id (``black-forest-labs/FLUX.1-schnell`` by default) or an Inference
    Endpoint URL; ``inference_provider`` is ``"auto"`` or a provider name; ``token`` defaults to
    ``HF_TOKEN`` and is required. Progress is indeterminate (one :class:`Started` event). The seed
    used is the one sent (a random one when ``randomize_seed``).
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        token: str | None = None,
        inference_provider: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        deadline: float = DEFAULT_DEADLINE,
    ) -> None:
        try:
            import huggingface_hub  # noqa: F401  # the extra, checked here; its parts are imported per call
        except ImportError:
            raise InvalidRequestError(
                'The inference backend needs huggingface_hub: pip install "flux-widget[inference]".'
            ) from None
        secret = env_token(token)
        if not secret:
            raise InvalidRequestError(
                "The inference backend needs a Hugging Face token: set HF_TOKEN (or pass token=) to one "
                "from https://huggingface.co/settings/tokens with permission to call Inference Providers."
            )
        self.model = (model or DEFAULT_MODEL).strip()
        self.deadline = positive_seconds("deadline", deadline)
        self.provider = (inference_provider or "auto").strip()
        self._secret = secret
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(positive_seconds("timeout", timeout), connect=min(timeout, 10.0), pool=None),
            headers={"Accept-Encoding": ACCEPT_ENCODING},
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"InferenceBackend({self.model!r}, token=set)"

    async def references_taken(self) -> int:
        """How many reference images it sends: huggingface_hub's image-to-image takes one."""
        return MAX_REFERENCES

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._http.is_closed

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    async def _generate(
        self, request: GenerationRequest, seconds: float, on_progress: ProgressCallback | None
    ) -> Generation:
        sent_seed = self.seed_for(request)
        references = request.images or ()
        if len(references) > MAX_REFERENCES:
            raise InvalidRequestError(
                f"Inference Providers take at most {MAX_REFERENCES} image (huggingface_hub's image-to-image sends "
                f"one); {len(references)} were given. Use a Space or the local backend for several."
            )
        # FLUX's own limits (what the schnell Space declares): sizes multiples of 32 within 256–2048.
        drawing = self.drawing(request)
        started = time.perf_counter()
        await notify(on_progress, Started())
        values = {BY_NAME[name].sent_as: value for name, value in drawing.items() if name != "images"}
        parameters = {**values, "seed": sent_seed}
        failure: FluxError | None = None
        try:
            async with asyncio.timeout(seconds):
                if references:
                    first = await asyncio.to_thread(references[0].fitted, REFERENCE_PIXELS)
                    target = {"width": parameters.pop("width"), "height": parameters.pop("height")}
                    edit = {**parameters, "prompt": request.prompt, "target_size": target}
                    answer = await self._answer(first.data, edit, task="image-to-image")
                else:
                    answer = await self._answer(request.prompt, parameters)
            accepted = await asyncio.to_thread(_accepted_webp, answer)
        except TimeoutError:
            failure = ServiceUnavailableError(
                f"No image from {self.model} within the {seconds:g} s deadline; the request was cancelled."
            )
        except asyncio.CancelledError:
            raise
        except FluxError as exc:
            failure = exc
        except Exception as exc:  # huggingface_hub's own errors (provider mapping, answer format)
            failure = self._mapped(exc)
        else:
            if isinstance(accepted, str):  # a refused or undecodable image, said without raising here:
                # an exception caught after an await may linger as the context of the next one raised
                failure = GenerationError(f"{_WHOSE} image was refused: {self._server_text(accepted)}.")
        if failure is not None or isinstance(accepted, str):
            failure = failure or GenerationError("The inference provider's image was refused.")
            failure.__context__ = failure.__cause__ = None
            raise failure  # no chain back to a request that holds the token
        image_bytes, size = accepted
        return Generation(
            prompt=request.prompt,
            seed=sent_seed,
            **{**drawing, "width": size[0], "height": size[1], "images": recorded(drawing)["images"]},
            url=self.model if "://" in self.model else f"https://huggingface.co/{self.model}",
            image_bytes=image_bytes,
            mime_type="image/webp",
            elapsed=time.perf_counter() - started,
            model=self.model,
        )

    async def _answer(self, inputs: str | bytes, parameters: dict[str, Any], task: str = "text-to-image") -> bytes:
        """The provider's answer, as image bytes: huggingface_hub prepares and reads it, we send it.

        ``inputs`` is the prompt (``text-to-image``) or the reference image's bytes (``image-to-image``).
        """
        from huggingface_hub.inference._providers import get_provider_helper

        helper = get_provider_helper(self.provider, task=task, model=self.model)  # type: ignore[arg-type]
        prepared = await asyncio.to_thread(
            helper.prepare_request,
            inputs=inputs,
            parameters=parameters,
            headers={"Accept": "image/png"},
            model=self.model,
            api_key=self._secret,
        )
        data = prepared.data
        content = bytes(data) if data is not None else None
        try:
            async with self._http.stream(
                "POST", prepared.url, json=prepared.json, content=content, headers=prepared.headers
            ) as response:
                failed = response.status_code >= 400
                limit = MAX_ERROR_BYTES if failed else MAX_ANSWER_BYTES
                body = await read_body(response, limit, what="answer", truncate=failed, whose=_WHOSE)
        except httpx.TimeoutException:
            raise ServiceUnavailableError(f"{self.model} sent nothing for too long; try again.") from None
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None
        if failed:
            raise self._refused(response.status_code, response.headers, body)
        answer = await asyncio.to_thread(helper.get_response, body, prepared)
        if not isinstance(answer, bytes):
            raise GenerationError(f"{_WHOSE} answer holds no image ({type(answer).__name__}).")
        return answer

    def _refused(self, status: int, headers: httpx.Headers, body: bytes) -> FluxError:
        """The error for an HTTP error answer (its JSON ``error``, or its text, made safe)."""
        try:
            said_value = json.loads(body).get("error") if body.lstrip().startswith(b"{") else None
        except (ValueError, AttributeError):
            said_value = None
        said = self._server_text(str(said_value if said_value is not None else body.decode("utf-8", "replace")))
        detail = f": {said}" if said else "."
        if status in (401, 403):
            return AuthenticationError(
                f"The inference backend refused the token (HTTP {status}){detail} Check that HF_TOKEN is valid "
                "and allowed to make calls to Inference Providers."
            )
        if status in (402, 429):
            reason = "your Inference Providers credits are used up" if status == 402 else "too many requests"
            return QuotaExceededError(
                f"The inference backend's quota is used up (HTTP {status}, {reason}){detail} Add credits on "
                'huggingface.co, wait, or use the free Space (backend="space").',
                retry_after_seconds(headers.get("retry-after", "")),
            )
        if status >= 500:
            return ServiceUnavailableError(f"{self.model} failed on its side (HTTP {status}){detail} Try again later.")
        return GenerationError(f"{self.model} refused the request (HTTP {status}){detail}")

    def _mapped(self, exc: Exception) -> FluxError:
        """huggingface_hub's own failures (finding the provider, reading its answer), as ours."""
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", None)
        if isinstance(status, int):
            return self._refused(status, httpx.Headers(), str(getattr(exc, "server_message", "") or "").encode())
        if isinstance(exc, ValueError):  # a provider that does not serve the model, or an odd answer
            return GenerationError(f"Inference Providers cannot make this image: {self._server_text(str(exc))}")
        return self._unreachable(exc)

    def _unreachable(self, exc: Exception) -> ServiceUnavailableError:
        return ServiceUnavailableError(f"Cannot reach {self.model} ({type(exc).__name__}). Check your network.")

    def _server_text(self, text: str) -> str:
        return redact(plain_text(str(text)[:2000]), self._secret)[:300]


def retry_after_seconds(value: str) -> float | None:
    """A ``Retry-After`` header's wait: ASCII digits of a sane wait, else unknown (``None``)."""
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        return None
    seconds = int(text)
    return float(seconds) if seconds <= MAX_WAIT_SECONDS else None


def _accepted_webp(answer: bytes) -> tuple[bytes, tuple[int, int]] | str:
    """The answer checked as the Space's images are (whole file, pixel limits), as WebP, and its size;
    or why it was refused."""
    from .. import _images as images

    try:
        data, _ = images.accept(answer)
        picture = images.decode(data)
        out = io.BytesIO()
        picture.save(out, format="WEBP", quality=95)
    except (ValueError, OSError) as exc:
        return str(exc)
    return out.getvalue(), picture.size
