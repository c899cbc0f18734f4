"""flux-widget: make images with FLUX.1-schnell from a notebook.

The public face: :class:`FluxClient` (async), :class:`FluxWidget` (the notebook widget),
:func:`generate` (synchronous, works in scripts and cells), the provider class, the error family
and the ``%flux`` magics (``%load_ext flux_widget``).
"""

from __future__ import annotations

from typing import Any

from .client import DEFAULT_SPACE, FluxClient, space_url
from .errors import (
    FluxError,
    GenerationError,
    InvalidRequestError,
    QuotaExceededError,
    SpaceUnavailableError,
)
from .provider import BlackForestLabs_Flux1Schnell, ImageResponse
from .sync import generate
from .types import Generation, GenerationRequest, ProgressEvent, Queued, Started, Step
from .widget import FluxWidget

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_SPACE",
    "BlackForestLabs_Flux1Schnell",
    "FluxClient",
    "FluxError",
    "FluxWidget",
    "Generation",
    "GenerationError",
    "GenerationRequest",
    "ImageResponse",
    "InvalidRequestError",
    "ProgressEvent",
    "Queued",
    "QuotaExceededError",
    "SpaceUnavailableError",
    "Started",
    "Step",
    "__version__",
    "generate",
    "space_url",
]


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%flux`` and ``%%flux`` (called by ``%load_ext flux_widget``)."""
    from .magic import FluxMagics

    ipython.register_magics(FluxMagics)
