"""Keeping the token out of text: every message, error and log line passes through :func:`redact`."""

from __future__ import annotations

import json
from urllib.parse import quote, quote_plus

__all__ = ["MIN_SECRET_LENGTH", "PLACEHOLDER", "redact", "redact_sent"]

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


def redact_sent(text: str, secret: str | None) -> str:
    """``text`` without any spelling of a ``secret`` this client sent (a login password), whatever its length.

    A server may echo what it was posted as it was posted: form-encoded (``p%40ss+word``),
    percent-encoded, JSON-escaped, or raw. Each spelling is replaced by :data:`PLACEHOLDER`, longest
    first, so that no part of the secret is left behind.
    """
    if not secret:
        return text
    spellings = {secret, quote_plus(secret), quote(secret, safe=""), quote(secret), json.dumps(secret)[1:-1]}
    for spelling in sorted(spellings, key=len, reverse=True):
        text = text.replace(spelling, PLACEHOLDER)
    return text
