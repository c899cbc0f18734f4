"""The error family: every failure a caller can meet, each saying what happened and what to do."""

from __future__ import annotations

import html
import re

__all__ = [
    "AuthenticationError",
    "FluxError",
    "FolderError",
    "GenerationError",
    "InvalidRequestError",
    "QuotaExceededError",
    "ServiceUnavailableError",
    "SpaceUnavailableError",
    "error_from_space_message",
    "plain_text",
    "safe_text",
    "unquoted",
    "without_wait",
]

_TAG = re.compile(r"<[^>]*>")
#: The most characters of a Space's error text that reach a message.
_MAX_ERROR_TEXT = 1000
_RETRY_AFTER = re.compile(r"try again in\s+(?:(\d+):)?(\d{1,2}):(\d{2})", re.IGNORECASE)
#: The longest wait, in seconds, taken from a server (a year); a longer one is treated as unknown.
MAX_WAIT_SECONDS = 365 * 24 * 3600
#: Terminal escape sequences (CSI ``ESC [ … final``, OSC ``ESC ] … BEL or ESC \``, and two-byte ones).
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?|\x9b[0-?]*[ -/]*[@-~]")
#: What no message shows: C0 and C1 controls (tab and newline aside), DEL, bidirectional overrides
#: and isolates (they reorder what a terminal shows), and lone surrogates (they cannot be encoded).
_UNSHOWABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


class FluxError(Exception):
    """Base class of every error flux-widget raises.

    Its message is always safe to show: terminal escapes and control characters are removed, and it
    encodes as UTF-8 (see :func:`safe_text`), whatever a server put into it.
    """

    def __init__(self, *args: object) -> None:
        super().__init__(*(safe_text(arg) if isinstance(arg, str) else arg for arg in args))


class InvalidRequestError(FluxError, ValueError):
    """The request was refused before anything was sent (an empty prompt, a bad seed, …)."""


class FolderError(FluxError):
    """A large job's output folder cannot be used: not a folder, not writable, full, or holding a link.

    Found before anything is sent when it can be; a write that fails during a run stops the run with it
    (the images already written and their manifest lines are kept).
    """


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
        finite = retry_after is not None and 0 <= retry_after <= MAX_WAIT_SECONDS
        self.retry_after = float(retry_after) if finite and retry_after is not None else None


class GenerationError(FluxError):
    """The Space took the job but produced no usable image (an app error, a broken stream, …)."""


def safe_text(text: str) -> str:
    """``text`` fit for a terminal, a file, a widget or a log: escapes and controls removed, encodable.

    Terminal escape sequences (CSI, OSC, and the rest) go whole; other C0/C1 controls (but tab and
    newline), DEL and bidirectional overrides are dropped; a lone surrogate becomes U+FFFD.
    """
    return _UNSHOWABLE.sub(_replacement, _ESCAPES.sub("", text))


def _replacement(match: re.Match[str]) -> str:
    return "\ufffd" if "\ud800" <= match.group() <= "\udfff" else ""


def plain_text(message: str) -> str:
    """Return ``message`` without HTML markup or entities, with its white space folded, safe to show."""
    return " ".join(safe_text(html.unescape(_TAG.sub("", message))).split())


def _retry_after_seconds(message: str) -> float | None:
    match = _RETRY_AFTER.search(message)
    if match is None:
        return None
    hours, minutes, seconds = match.groups()
    if hours and len(hours) > 6:  # a wait of more than a century: not a real one
        return None
    total = int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
    return float(total) if total <= MAX_WAIT_SECONDS else None


def without_wait(message: str) -> str:
    """``message`` without the Space's "Try again in 0:12:34" (for a screen that counts the wait down itself)."""
    return " ".join(_RETRY_AFTER.sub("", message).replace(" .", "").split()).strip()


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
