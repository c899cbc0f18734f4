"""The command-line options the CLI and the magics share, declared once, and what they build.

:data:`SHARED` is one table; :func:`add_options` puts it on an ``argparse`` parser (the CLI's, or the
one IPython's ``magic_arguments`` builds), and :func:`request_from` / :func:`backend_from` turn the
parsed arguments into a :class:`~flux_widget.GenerationRequest` and the backend's options.
"""

from __future__ import annotations

import getpass
import os
from argparse import Namespace
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO, cast

from ._config import PASSWORD_ENV
from ._parameters import DRAWING, PARAMETERS
from .backends._count import MAX_COUNT
from .backends.base import OPTIONS, BackendOptions
from .errors import InvalidRequestError
from .types import DrawingParameters, GenerationRequest

__all__ = ["SHARED", "Option", "add_options", "backend_from", "drawing_from", "login_for", "request_from"]

#: The request parameters with a flag of their own (``--width``, ``--steps``, …).
FLAGGED = tuple(parameter for parameter in PARAMETERS if parameter.flag)


@dataclass(frozen=True)
class Option:
    """One option: its flags, help, type and default, and anything else ``argparse.add_argument`` takes."""

    flags: tuple[str, ...]
    help: str
    type: Callable[[str], Any] | None = None
    default: Any = None
    settings: dict[str, Any] = field(default_factory=dict)

    def arguments(self) -> dict[str, Any]:
        """The keyword arguments of ``add_argument`` for this option (its flags are :attr:`flags`)."""
        typed = {} if self.type is None else {"type": self.type}
        return {"help": self.help, "default": self.default, **typed, **self.settings}


#: The options of every command that generates: the CLI and ``%flux`` / ``%%flux``.
SHARED: tuple[Option, ...] = (
    Option(("-n", "--count"), f"images per prompt, 1–{MAX_COUNT} (default 1)", int, 1),
    *(
        Option(
            (str(parameter.flag),),
            parameter.help,
            parameter.kind,
            settings={"dest": parameter.name, **({"action": "append", "metavar": "PATH"} if parameter.many else {})},
        )
        for parameter in FLAGGED
    ),
    Option(("--deadline",), "seconds one generation may take, queue included (default 600)", float),
    *(Option((option.flag,), option.help, settings={"dest": option.name}) for option in OPTIONS),
    Option(("--auth",), "user name for a Space app with its own login (password: FLUX_WIDGET_PASSWORD, or asked)"),
)


def add_options(add_argument: Callable[..., object], options: Sequence[Option] = SHARED) -> None:
    """Declare ``options`` (by default the shared ones) with ``add_argument``."""
    for option in options:
        add_argument(*option.flags, **option.arguments())


def drawing_from(args: Namespace, stdin: BinaryIO | None = None) -> DrawingParameters:
    """The drawing parameters the parsed options give (``None`` where a flag was left out).

    An ``--image -`` is the bytes of ``stdin`` (the command line's standard input), read once and bounded.
    """
    drawing = {parameter.name: getattr(args, parameter.name, None) for parameter in DRAWING}
    paths = drawing.get("images")
    if stdin is not None and isinstance(paths, list):
        piped: list[bytes] = []
        drawing["images"] = [_piped(stdin, piped) if path == "-" else path for path in paths]
    return drawing  # type: ignore[return-value]


def _piped(stdin: BinaryIO, piped: list[bytes]) -> bytes:
    """Standard input's bytes (read the first time it is named): at most one byte over the input limit."""
    if not piped:
        from ._inputs import MAX_INPUT_BYTES

        piped.append(stdin.read(MAX_INPUT_BYTES + 1))
    return piped[0]


def request_from(prompt: str, args: Namespace, stdin: BinaryIO | None = None) -> GenerationRequest:
    """The request the parsed options ask for: without ``--seed`` (or with ``--randomize``) a random seed."""
    randomize = args.seed is None or bool(getattr(args, "randomize", False))
    return GenerationRequest.build(prompt, **drawing_from(args, stdin), seed=args.seed, randomize_seed=randomize)


def backend_from(args: Namespace) -> BackendOptions:
    """Where the parsed options say images come from: each backend option's flag, and ``--auth``'s login."""
    where = cast(BackendOptions, {option.name: getattr(args, option.name) for option in OPTIONS})
    if args.auth:
        where["auth"] = login_for(args.auth)
    return where


def login_for(user: str) -> tuple[str, str]:
    """``(user, password)``: the password from ``FLUX_WIDGET_PASSWORD``, else asked for (never the command line)."""
    if ":" in user:
        raise InvalidRequestError(
            f"--auth takes the user name alone: a password on the command line is seen by others. Set "
            f"{PASSWORD_ENV}, or type it when asked."
        )
    password = os.environ.get(PASSWORD_ENV) or getpass.getpass(f"Password for {user}: ")
    if not password:
        raise InvalidRequestError(f"--auth {user} needs a password: set {PASSWORD_ENV}, or type it when asked.")
    return (user, password)
