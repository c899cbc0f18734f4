"""The error family: every failure a caller can meet, each saying what happened and what to do."""

from __future__ import annotations

import html
import re

__all__ = [
    "AuthenticationError",
    "FluxError",
    "GenerationError",
    "InvalidRequestError",
    "QuotaExceededError",
    "ServiceUnavailableError",
    "SpaceUnavailableError",
    "error_from_space_message",
    "plain_text",
    "unquoted",
]

_TAG = re.compile(r"<[^>]*>")
#: The most characters of a Space's error text that reach a message.
_MAX_ERROR_TEXT = 1000
_RETRY_AFTER = re.compile(r"try again in\s+(?:(\d+):)?(\d{1,2}):(\d{2})", re.IGNORECASE)


class FluxError(Exception):
    """Base class of every error flux-widget raises."""


class InvalidRequestError(FluxError, ValueError):
    """The request was refused before anything was sent (an empty prompt, a bad seed, …)."""


class ServiceUnavailableError(FluxError):
    """The service (a Space or an inference endpoint) could not be reached, or failed on its side."""


class SpaceUnavailableError(ServiceUnavailableError):
    """The Space could not be reached, is asleep or building, or answered with a server error."""


class AuthenticationError(FluxError):
    """The Hugging Face token was refused (missing, invalid, or without the permission needed)."""


class QuotaExceededError(FluxError):
    """The Space's GPU quota for this caller is used up.

    ``retry_after`` is the wait in seconds the Space asked for, or ``None`` when it named none.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class GenerationError(FluxError):
    """The Space took the job but produced no usable image (an app error, a broken stream, …)."""


def plain_text(message: str) -> str:
    """Return ``message`` without HTML markup or entities, with its white space folded."""
    return " ".join(html.unescape(_TAG.sub("", message)).split())


def _retry_after_seconds(message: str) -> float | None:
    match = _RETRY_AFTER.search(message)
    if match is None:
        return None
    hours, minutes, seconds = (int(part) if part else 0 for part in match.groups())
    return float(hours * 3600 + minutes * 60 + seconds)


def unquoted(text: str) -> str:
    """``text`` without one pair of surrounding quotes (``'a cat'`` → ``a cat``)."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def error_from_space_message(message: object) -> FluxError:
    """Turn the error a Space sent (``None`` when the app hides it; any JSON value) into our error."""
    if not message:
        return GenerationError(
            "The Space failed to generate the image and did not say why (hosted Spaces hide "
            "their error text). Try again, or another prompt or size."
        )
    # Gradio 4 sends gr.Error text as its repr, in quotes.
    text = unquoted(plain_text(message if isinstance(message, str) else str(message)))[:_MAX_ERROR_TEXT]
    if "quota" in text.lower():
        retry_after = _retry_after_seconds(text)
        advice = (
            "Set HF_TOKEN to a Hugging Face token to use your own, larger quota." if "token" not in text.lower() else ""
        )
        sentence = text if text.endswith((".", "!", "?")) else f"{text}."
        return QuotaExceededError(f"The Space's GPU quota is used up: {sentence} {advice}".strip(), retry_after)
    return GenerationError(f"The Space failed to generate the image: {text}")
