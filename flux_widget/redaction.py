"""Keeping the token out of text: every message, error and log line passes through :func:`redact`."""

from __future__ import annotations

__all__ = ["PLACEHOLDER", "redact"]

#: What stands where a token was.
PLACEHOLDER = "hf_…(hidden)"


def redact(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` replaced by :data:`PLACEHOLDER` (unchanged without one)."""
    return text.replace(secret, PLACEHOLDER) if secret else text
