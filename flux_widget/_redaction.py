"""Keeping the token out of text: every message, error and log line passes through :func:`redact`."""

from __future__ import annotations

__all__ = ["MIN_SECRET_LENGTH", "PLACEHOLDER", "redact"]

#: What stands where a token was.
PLACEHOLDER = "hf_…(hidden)"
#: Shorter than this, a "token" is no real credential (Hugging Face's are 37 characters): nothing to hide.
MIN_SECRET_LENGTH = 8


def redact(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of the whole ``secret`` replaced by :data:`PLACEHOLDER`.

    Only a secret long enough to be a credential is looked for, so that a short one (``"Th"``)
    never garbles a message ("Thhf_…(hidden) Space").
    """
    if not secret or len(secret) < MIN_SECRET_LENGTH:
        return text
    return text.replace(secret, PLACEHOLDER)
