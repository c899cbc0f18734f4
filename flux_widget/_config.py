"""Names and defaults every part shares: environment variables, the default Space, time limits.

The vocabulary layer (as httpx's ``_config.py``): it imports nothing of ours but the errors, and
every other module reads these names from here rather than defining its own copy.
"""

from __future__ import annotations

import math
import os

from .errors import InvalidRequestError

__all__ = [
    "BACKEND_ENV",
    "DEFAULT_DEADLINE",
    "DEFAULT_INFERENCE_MODEL",
    "DEFAULT_LOCAL_MODEL",
    "DEFAULT_SPACE",
    "DEFAULT_TIMEOUT",
    "DEVICE_ENV",
    "OFFLOAD_ENV",
    "PASSWORD_ENV",
    "SPACE_ENV",
    "TOKEN_ENV",
    "env_token",
    "positive_seconds",
]

#: The free public Space every entry point uses unless told otherwise.
DEFAULT_SPACE = "black-forest-labs/FLUX.1-schnell"
#: The model Inference Providers are asked for by default.
DEFAULT_INFERENCE_MODEL = "black-forest-labs/FLUX.1-schnell"
#: ``owner/name`` or URL of the Space to use instead of :data:`DEFAULT_SPACE`.
SPACE_ENV = "FLUX_WIDGET_SPACE"
#: ``space`` (the default), ``inference`` or ``local``.
BACKEND_ENV = "FLUX_WIDGET_BACKEND"
#: ``auto`` (the default: CUDA, then Apple MPS), ``cuda``, ``cuda:1``, ``mps`` or ``cpu``, for the local backend.
DEVICE_ENV = "FLUX_WIDGET_DEVICE"
#: Where the local backend puts weights that do not fit: auto, none, model or sequential.
OFFLOAD_ENV = "FLUX_WIDGET_OFFLOAD"
#: The model the local backend loads unless told otherwise: FLUX.2 [klein] 4B (Apache-2.0, 4 steps, made
#: for consumer GPUs); FLUX.1-schnell (Apache-2.0) has 12B parameters and needs far more memory.
DEFAULT_LOCAL_MODEL = "black-forest-labs/FLUX.2-klein-4B"
#: The Hugging Face token: the Space's larger quota, and the key to Inference Providers.
TOKEN_ENV = "HF_TOKEN"
#: The password of an app with Gradio's own login, for ``--auth USER`` (never on the command line).
PASSWORD_ENV = "FLUX_WIDGET_PASSWORD"
#: Seconds a server may stay silent before a request gives up.
DEFAULT_TIMEOUT = 60.0
#: Seconds a whole generation may take, queue included, before it is cancelled.
DEFAULT_DEADLINE = 600.0


def env_token(token: str | None = None) -> str | None:
    """``token`` if given, else ``HF_TOKEN``; an empty one counts as none."""
    secret = token if token is not None else os.environ.get(TOKEN_ENV)
    return secret or None


def positive_seconds(name: str, value: object) -> float:
    """``value`` as a finite, positive number of seconds; anything else is an :class:`InvalidRequestError`."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0:
        return float(value)
    raise InvalidRequestError(f"{name} must be a positive number of seconds, not {value!r}.")
