"""``InferenceBackend``: FLUX through Hugging Face Inference Providers, for people with a token.

A thin adapter over ``huggingface_hub.AsyncInferenceClient.text_to_image`` (the optional extra
``flux-widget[inference]``), imported only when this backend is chosen. It returns the same
:class:`Generation` as the Space and maps every failure onto the same error family. Unlike the
free Space it can cost money: it is never chosen automatically.
"""

from __future__ import annotations

import asyncio
import io
import random
import time
from typing import Any

from .config import DEFAULT_DEADLINE, DEFAULT_INFERENCE_MODEL, DEFAULT_TIMEOUT, env_token, positive_seconds
from .errors import (
    AuthenticationError,
    FluxError,
    GenerationError,
    InvalidRequestError,
    QuotaExceededError,
    ServiceUnavailableError,
    plain_text,
)
from .redaction import redact
from .types import MAX_SEED, Generation, GenerationRequest, ProgressCallback, Started, notify
from .wire import SCHNELL

__all__ = ["DEFAULT_MODEL", "InferenceBackend"]

DEFAULT_MODEL = DEFAULT_INFERENCE_MODEL
#: What a text-to-image request to Inference Providers takes.
PARAMETERS = frozenset({"prompt", "seed", "randomize_seed", "width", "height", "num_inference_steps", "guidance_scale"})
_FITS = {parameter.name: parameter for parameter in SCHNELL}


class InferenceBackend:
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
            from huggingface_hub import AsyncInferenceClient
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
        self._secret = secret
        self._client = AsyncInferenceClient(
            model=self.model,
            token=secret,
            provider=(inference_provider or "auto"),  # type: ignore[arg-type]  # a provider name, checked there
            timeout=timeout,
        )
        self._closed = False

    def __repr__(self) -> str:
        return f"InferenceBackend({self.model!r}, token=set)"

    @property
    def base_url(self) -> str:
        """The model id or endpoint URL called."""
        return self.model

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._closed

    async def aclose(self) -> None:
        """Close the connections."""
        self._closed = True
        await self._client.close()

    async def parameter_names(self) -> frozenset[str]:
        """The inputs this backend takes (``guidance_scale`` included)."""
        return PARAMETERS

    async def generate(
        self,
        request: GenerationRequest,
        /,
        *,
        deadline: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Generation:
        """Generate the image ``request`` describes; ``deadline`` overrides the backend's own."""
        sent_seed = random.randint(0, MAX_SEED) if request.randomize_seed else request.seed
        # FLUX's own limits (what the schnell Space declares): sizes multiples of 32 within 256–2048.
        sent_width, sent_height = _fit("width", request.width), _fit("height", request.height)
        steps_sent = _fit("num_inference_steps", request.steps)
        seconds = self.deadline if deadline is None else positive_seconds("deadline", deadline)
        started = time.perf_counter()
        await notify(on_progress, Started())
        failure: FluxError | None = None
        try:
            async with asyncio.timeout(seconds):
                picture = await self._client.text_to_image(
                    request.prompt,
                    width=sent_width,
                    height=sent_height,
                    num_inference_steps=steps_sent,
                    guidance_scale=request.guidance,
                    seed=sent_seed,
                )
        except TimeoutError:
            failure = ServiceUnavailableError(
                f"No image from {self.model} within the {seconds:g} s deadline; the request was cancelled."
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # huggingface_hub's errors, mapped onto ours
            failure = self._mapped(exc)
        if failure is not None:
            raise failure  # outside the except block: no chain back to a request that holds the token
        image_bytes = await asyncio.to_thread(_webp, picture)
        return Generation(
            prompt=request.prompt,
            seed=sent_seed,
            width=picture.width,
            height=picture.height,
            steps=steps_sent,
            url=self.model if "://" in self.model else f"https://huggingface.co/{self.model}",
            image_bytes=image_bytes,
            mime_type="image/webp",
            elapsed=time.perf_counter() - started,
            guidance=request.guidance,
        )

    def _mapped(self, exc: Exception) -> FluxError:
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", None)
        if not isinstance(status, int):
            return ServiceUnavailableError(f"Cannot reach {self.model} ({type(exc).__name__}). Check your network.")
        said = self._server_text(getattr(exc, "server_message", None) or "")
        detail = f": {said}" if said else "."
        if status in (401, 403):
            return AuthenticationError(
                f"The inference backend refused the token (HTTP {status}){detail} Check that HF_TOKEN is valid "
                "and allowed to make calls to Inference Providers."
            )
        if status in (402, 429):
            retry = getattr(response, "headers", {}).get("retry-after", "")
            reason = "your Inference Providers credits are used up" if status == 402 else "too many requests"
            return QuotaExceededError(
                f"The inference backend's quota is used up (HTTP {status}, {reason}){detail} Add credits on "
                'huggingface.co, wait, or use the free Space (backend="space").',
                float(retry) if retry.isdigit() else None,
            )
        if status >= 500:
            return ServiceUnavailableError(f"{self.model} failed on its side (HTTP {status}){detail} Try again later.")
        return GenerationError(f"{self.model} refused the request (HTTP {status}){detail}")

    def _server_text(self, text: str) -> str:
        return redact(plain_text(str(text)[:2000]), self._secret)[:300]


def _fit(name: str, value: int) -> int:
    fitted = _FITS[name].fit(value)
    return int(fitted) if isinstance(fitted, (int, float)) else value


def _webp(picture: Any) -> bytes:
    out = io.BytesIO()
    picture.save(out, format="WEBP", quality=95)
    return out.getvalue()
