"""Every image of a history in one zip file, the parameters of each inside it (the widget's Download all)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence

from .._images import suffix_for
from ..types import Generation

__all__ = ["file_name", "zip_of"]


def file_name(number: int, generation: Generation, suffix: str | None = None) -> str:
    """The name of the ``number``-th image of a history: ``flux-001-seed-3.webp``."""
    return f"flux-{number:03d}-seed-{generation.seed}{suffix or suffix_for(generation.mime_type)}"


def zip_of(generations: Sequence[Generation]) -> bytes:
    """A zip of ``generations`` in their own format, each with its parameters in its metadata.

    A ``parameters.json`` lists every file with its parameters, for tools that read no image
    metadata. The images are stored, not deflated: they are compressed already.
    """
    out = io.BytesIO()
    listing = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for number, generation in enumerate(generations, start=1):
            name = file_name(number, generation)
            archive.writestr(name, generation.file_bytes)
            listing.append({"file": name, **generation.metadata})
        archive.writestr("parameters.json", json.dumps(listing, indent=1, ensure_ascii=False), zipfile.ZIP_DEFLATED)
    return out.getvalue()
