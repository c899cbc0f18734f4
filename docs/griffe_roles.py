"""A Griffe extension for the docs site: Sphinx roles in docstrings (:class:`x`) shown as code.

The package's docstrings use Sphinx's roles (``:func:`generate```, ``:class:`~flux_widget.types.Step```),
which read well in ``help()``; Markdown has no such roles, so the site shows each as the name in code.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

#: ``:role:`target``` or ``:role:`label <target>```; a leading ``~`` keeps the last part only.
ROLE = re.compile(r":(?:py:)?(?:func|meth|class|mod|attr|data|exc|obj|const):`(?P<text>[^`]+)`")


def as_code(match: re.Match[str]) -> str:
    """The role's text as Markdown code: its label, or its target (the last part after ``~``)."""
    text = match.group("text")
    label = re.match(r"(?P<label>.+?)\s*<[^>]+>$", text)
    if label:
        text = label.group("label")
    elif text.startswith("~"):
        text = text.rsplit(".", 1)[-1]
    return f"`{text}`"


class RolesAsCode(griffe.Extension):
    """Rewrite each docstring's Sphinx roles as Markdown code, and its double-backtick literals as single."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Called for every module, class, function and attribute Griffe loads."""
        if obj.docstring is not None:
            value = ROLE.sub(as_code, obj.docstring.value)
            obj.docstring.value = re.sub(r"``([^`]+)``", r"`\1`", value)
