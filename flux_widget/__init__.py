"""flux-widget: make images with FLUX.1-schnell from a notebook.

The public face: :class:`FluxWidget` (the notebook widget), :func:`generate` (it waits; works in
scripts and cells) and :func:`agenerate` (its async twin), :class:`FluxClient` (the Space's async
client), the provider class, the error family and the ``%flux`` magics (``%load_ext flux_widget``).

Names are handed out lazily: ``from flux_widget import FluxClient`` (or ``generate``, or the
command line) loads httpx and Pillow but never the widget stack (anywidget, ipywidgets, IPython).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._config import DEFAULT_SPACE
    from ._generate import agenerate, generate
    from .backends.local._backend import unload
    from .backends.space._address import space_url
    from .backends.space._client import FluxClient
    from .errors import (
        AuthenticationError,
        FluxError,
        FolderError,
        GenerationError,
        InvalidRequestError,
        QuotaExceededError,
        ServiceUnavailableError,
        SpaceUnavailableError,
    )
    from .jobs._engine import JobReport
    from .jobs._run import run_batch
    from .provider import BlackForestLabs_Flux1Schnell, ImageResponse
    from .types import Generation, GenerationRequest, Loading, ProgressEvent, Queued, Started, Step
    from .widget._widget import FluxWidget

__version__ = "0.1.0"

#: Each public name and the module that defines it.
_HOMES = {
    "DEFAULT_SPACE": "_config",
    "FluxClient": "backends.space._client",
    "space_url": "backends.space._address",
    "AuthenticationError": "errors",
    "FluxError": "errors",
    "FolderError": "errors",
    "GenerationError": "errors",
    "InvalidRequestError": "errors",
    "QuotaExceededError": "errors",
    "ServiceUnavailableError": "errors",
    "SpaceUnavailableError": "errors",
    "BlackForestLabs_Flux1Schnell": "provider",
    "ImageResponse": "provider",
    "agenerate": "_generate",
    "generate": "_generate",
    "Generation": "types",
    "GenerationRequest": "types",
    "Loading": "types",
    "ProgressEvent": "types",
    "Queued": "types",
    "Started": "types",
    "Step": "types",
    "unload": "backends.local._backend",
    "run_batch": "jobs._run",
    "JobReport": "jobs._engine",
    "FluxWidget": "widget._widget",
}

__all__ = [
    "DEFAULT_SPACE",
    "AuthenticationError",
    "BlackForestLabs_Flux1Schnell",
    "FluxClient",
    "FluxError",
    "FluxWidget",
    "FolderError",
    "Generation",
    "GenerationError",
    "GenerationRequest",
    "ImageResponse",
    "InvalidRequestError",
    "JobReport",
    "Loading",
    "ProgressEvent",
    "Queued",
    "QuotaExceededError",
    "ServiceUnavailableError",
    "SpaceUnavailableError",
    "Started",
    "Step",
    "__version__",
    "agenerate",
    "generate",
    "run_batch",
    "space_url",
    "unload",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module the first time the name is used."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'flux_widget' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%flux`` and ``%%flux`` (called by ``%load_ext flux_widget``)."""
    from .notebook._magic import FluxMagics

    ipython.register_magics(FluxMagics)
