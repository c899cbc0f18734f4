"""Choosing where images come from: the Space (default, free), Hugging Face Inference Providers, or this machine.

Every entry point (the widget, the magics, :func:`~flux_widget.generate`, :func:`~flux_widget.agenerate`,
the command line, the provider) builds one :class:`~flux_widget.GenerationRequest` and hands it to a
:class:`Backend` made here; nothing above this module branches on which backend it is.
"""

from __future__ import annotations

import os
from typing import Protocol, TypedDict, Unpack

from .._config import BACKEND_ENV, DEFAULT_DEADLINE, DEFAULT_TIMEOUT
from ..errors import InvalidRequestError
from ..types import Generation, GenerationRequest, ProgressCallback
from .space._client import FluxClient

__all__ = ["BACKENDS", "Backend", "BackendOptions", "backend_kind", "make_backend"]

BACKENDS = ("space", "inference", "local")


class Backend(Protocol):
    """What every backend offers: one generation at a time, its inputs, and closing."""

    @property
    def base_url(self) -> str:
        """The Space URL, model id or endpoint URL called."""
        ...

    @property
    def closed(self) -> bool:
        """Whether it was closed."""
        ...

    async def generate(
        self,
        request: GenerationRequest,
        /,
        *,
        deadline: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Generation:
        """Generate the image ``request`` describes; ``deadline`` overrides the backend's own."""
        ...

    async def parameter_names(self) -> frozenset[str]:
        """The names of the inputs it takes (``guidance_scale`` among them or not)."""
        ...

    async def defaults(self) -> dict[str, object]:
        """What it uses for each input when a request leaves it out (``width``, ``num_inference_steps``, …)."""
        ...

    async def aclose(self) -> None:
        """Close the connections (and cancel what still runs)."""
        ...


class BackendOptions(TypedDict, total=False):
    """Where images come from, as every entry point takes it.

    ``backend`` is ``"space"`` (default, or ``FLUX_WIDGET_BACKEND``) or ``"inference"``; ``space``
    (``owner/name`` or URL) and ``proxy`` are the Space's; ``model`` and ``inference_provider``
    are Inference Providers'; ``token`` defaults to ``HF_TOKEN``; ``auth`` is a (user, password)
    pair for a Space app launched with Gradio's own login; ``device``, ``dtype`` and ``offload``
    are the local backend's (``model`` is then its repo id or folder).
    """

    backend: str | None
    space: str | None
    token: str | None
    model: str | None
    inference_provider: str | None
    proxy: str | None
    timeout: float
    auth: tuple[str, str] | None
    device: str | None
    dtype: str | None
    offload: str | None


class _Common(TypedDict):
    """What every backend's constructor takes."""

    token: str | None
    timeout: float
    deadline: float


def backend_kind(backend: str | None = None) -> str:
    """``backend``, else ``FLUX_WIDGET_BACKEND``, else ``"space"``; anything else is refused."""
    kind = (backend or os.environ.get(BACKEND_ENV) or "space").strip().lower()
    if kind not in BACKENDS:
        raise InvalidRequestError(f"backend must be 'space', 'inference' or 'local', not {kind[:40]!r}.")
    return kind


def make_backend(deadline: float = DEFAULT_DEADLINE, **options: Unpack[BackendOptions]) -> Backend:
    """The backend ``options`` choose, with ``deadline`` as its default for each generation."""
    common = _Common(token=options.get("token"), timeout=options.get("timeout", DEFAULT_TIMEOUT), deadline=deadline)
    kind = backend_kind(options.get("backend"))
    if kind == "local":
        from .local._backend import LocalBackend  # torch and diffusers, imported only when chosen

        local = {"device": options.get("device"), "dtype": options.get("dtype"), "offload": options.get("offload")}
        return LocalBackend(options.get("model"), **local, **common)
    if kind == "inference":
        from ._inference import InferenceBackend  # huggingface_hub, imported only when chosen

        return InferenceBackend(options.get("model"), inference_provider=options.get("inference_provider"), **common)
    return FluxClient(options.get("space"), proxy=options.get("proxy"), auth=options.get("auth"), **common)
