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
from typing import Any

from ._config import PASSWORD_ENV
from .backends._count import MAX_COUNT
from .backends.base import BackendOptions
from .errors import InvalidRequestError
from .types import GenerationRequest

__all__ = ["SHARED", "Option", "add_options", "backend_from", "login_for", "request_from"]


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
    Option(("--width",), "width in pixels, snapped to the Space's range (default: the Space's own, 1024)", int),
    Option(("--height",), "height in pixels, snapped to the Space's range (default: the Space's own, 1024)", int),
    Option(("--steps",), "denoising steps (default: the Space's own; 4 for FLUX.1-schnell, 28 for FLUX.1-dev)", int),
    Option(("--seed",), "use this seed (default: a new random one each time)", int),
    Option(("--guidance",), "guidance scale, for Spaces that take it (FLUX.1-dev)", float),
    Option(("--deadline",), "seconds one generation may take, queue included (default 600)", float),
    Option(("--space",), "owner/name or URL of the Space (default: FLUX_WIDGET_SPACE, then the public one)"),
    Option(("--backend",), "space (default), inference (Inference Providers, needs HF_TOKEN) or local (your GPU)"),
    Option(("--model",), "inference: the model id or endpoint URL; local: a repo id or a pipeline's folder"),
    Option(("--device",), "local: auto (CUDA, then MPS), cuda, mps or cpu (default: FLUX_WIDGET_DEVICE, then auto)"),
    Option(("--dtype",), "local: bfloat16, float16 or float32 (default: what the device does natively)"),
    Option(("--offload",), "local: auto (offload to RAM when the GPU is too small), none, model or sequential"),
    Option(("--provider",), "inference: the provider (default auto)"),
    Option(("--auth",), "user name for a Space app with its own login (password: FLUX_WIDGET_PASSWORD, or asked)"),
)


def add_options(add_argument: Callable[..., object], options: Sequence[Option] = SHARED) -> None:
    """Declare ``options`` (by default the shared ones) with ``add_argument``."""
    for option in options:
        add_argument(*option.flags, **option.arguments())


def request_from(prompt: str, args: Namespace) -> GenerationRequest:
    """The request the parsed options ask for: without ``--seed`` (or with ``--randomize``) a random seed."""
    return GenerationRequest.build(
        prompt,
        width=args.width,
        height=args.height,
        steps=args.steps,
        seed=args.seed if args.seed is not None else 0,
        randomize_seed=args.seed is None or bool(getattr(args, "randomize", False)),
        guidance=args.guidance,
    )


def backend_from(args: Namespace) -> BackendOptions:
    """Where the parsed options say images come from."""
    where: BackendOptions = {"backend": args.backend, "space": args.space, "model": args.model}
    where["inference_provider"] = args.provider
    where["device"], where["dtype"], where["offload"] = args.device, args.dtype, args.offload
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
