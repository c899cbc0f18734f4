"""Choosing where images come from: the Space (default, free) or Hugging Face Inference Providers.

The widget, the magics, :func:`~flux_widget.generate` and the command line take ``backend=`` and
its options, build the backend here and never branch on which one it is.
"""

from __future__ import annotations

import os
from typing import Protocol

from .client import DEFAULT_DEADLINE, FluxClient, ProgressCallback
from .errors import InvalidRequestError
from .types import Generation

__all__ = ["BACKENDS", "BACKEND_ENV", "Backend", "backend_kind", "make_backend"]

BACKEND_ENV = "FLUX_WIDGET_BACKEND"
BACKENDS = ("space", "inference")


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
        """Generate one image."""
        ...

    async def parameter_names(self) -> frozenset[str]:
        """The names of the inputs it takes (``guidance_scale`` among them or not)."""
        ...

    async def aclose(self) -> None:
        """Close the connections (and cancel what still runs)."""
        ...


def backend_kind(backend: str | None = None) -> str:
    """``backend``, else ``FLUX_WIDGET_BACKEND``, else ``"space"``; anything else is refused."""
    kind = (backend or os.environ.get(BACKEND_ENV) or "space").strip().lower()
    if kind not in BACKENDS:
        raise InvalidRequestError(f"backend must be 'space' or 'inference', not {kind[:40]!r}.")
    return kind


def make_backend(
    backend: str | None = None,
    *,
    space: str | None = None,
    token: str | None = None,
    model: str | None = None,
    inference_provider: str | None = None,
    proxy: str | None = None,
    timeout: float = 60.0,
    deadline: float = DEFAULT_DEADLINE,
) -> Backend:
    """The backend chosen: the Space (``space``, ``proxy``) or Inference Providers (``model``, ``provider``)."""
    if backend_kind(backend) == "inference":
        from .inference import InferenceBackend  # huggingface_hub, imported only when chosen

        return InferenceBackend(
            model, token=token, inference_provider=inference_provider, timeout=timeout, deadline=deadline
        )
    return FluxClient(space, token=token, proxy=proxy, timeout=timeout, deadline=deadline)
