"""The Space's address: ``owner/name``, its page on the Hub, or a URL, checked before anything is sent."""

from __future__ import annotations

import os
import re

import httpx

from ..._config import DEFAULT_SPACE, PASSWORD_ENV, SPACE_ENV
from ...errors import InvalidRequestError

__all__ = ["space_url"]

#: Hugging Face repo names: letters, digits, "-", "_" and ".", not starting with punctuation.
_SPACE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
#: A Space's page on the Hub, as copied from the address bar: https://huggingface.co/spaces/owner/name[/…]
_SPACE_PAGE = re.compile(r"^https?://(?:www\.)?huggingface\.co/spaces/([^/?#]+/[^/?#]+)(?:[/?#].*)?$", re.IGNORECASE)


def space_url(space: str | None = None) -> str:
    """Return the base URL of a Space given as ``owner/name``, a full URL, or ``None``.

    ``None`` reads ``FLUX_WIDGET_SPACE`` and then falls back to the public FLUX.1-schnell Space.
    ``owner/name`` (Hugging Face repo-name characters only; a trailing ``/`` is fine) maps to
    ``https://owner-name.hf.space`` (lower-cased, ``.`` and ``_`` become ``-``), and so does the
    Space's page as people copy it (``https://huggingface.co/spaces/owner/name``). Any other
    http(s) URL is used as given, without its query, fragment and trailing slash. Anything else is
    an :class:`InvalidRequestError`.
    """
    chosen = (space or os.environ.get(SPACE_ENV) or DEFAULT_SPACE).strip()
    page = _SPACE_PAGE.match(chosen)
    if page is not None:
        chosen = page.group(1)
    elif re.match(r"^https?://", chosen, re.IGNORECASE):
        return _checked_address(re.split(r"[?#]", chosen, maxsplit=1)[0].rstrip("/"))
    chosen = chosen.rstrip("/")
    if not _SPACE_ID.match(chosen):
        raise InvalidRequestError(
            f"A Space is 'owner/name' (letters, digits, '-', '_' and '.') or an http(s) URL, not {chosen[:100]!r}."
        )
    subdomain = re.sub(r"[._/]", "-", chosen.lower())
    return f"https://{subdomain}.hf.space"


def _checked_address(url: str) -> str:
    """``url`` if httpx can call it and it holds no secret; else an :class:`InvalidRequestError` that shows no secret.

    A user name or password in the address (``https://user:password@host``) would show in every
    message, file and notebook that names the Space: it is refused, with the way to give them instead.
    """
    shown = re.sub(r"//[^/]*@", "//…@", url)[:100]
    if re.search(r"[\x00-\x20\x7f-\x9f]", url):
        raise InvalidRequestError(
            f"The Space's URL holds a control character or a space (a line break, NUL, …): {shown!r}."
        )
    try:
        parsed = httpx.URL(url)
        if parsed.port is not None and not 0 < parsed.port < 65536:  # a port that is not a number fails above
            raise ValueError(f"port {parsed.port} is not between 1 and 65535")
    except (httpx.InvalidURL, ValueError) as exc:
        reason = str(exc).split(":")[0][:80]
        raise InvalidRequestError(f"The Space's URL is not one that can be called ({reason}): {shown!r}.") from None
    if parsed.userinfo:
        raise InvalidRequestError(
            "The Space's URL holds a user name or password before '@'. Give them as auth=(user, password) "
            f"(or --auth USER with {PASSWORD_ENV}) instead, so that they show in no message, file or notebook."
        )
    return url
