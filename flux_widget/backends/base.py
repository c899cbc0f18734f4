"""Choosing where images come from: the Space (default, free), Hugging Face Inference Providers, or this machine.

Every entry point (the widget, the magics, :func:`~flux_widget.generate`, :func:`~flux_widget.agenerate`,
the command line, the provider) builds one :class:`~flux_widget.GenerationRequest` and hands it to a
:class:`Backend` made here; nothing above this module branches on which backend it is.
"""

from __future__ import annotations

import importlib
import os
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypedDict, Unpack, cast

from .._config import BACKEND_ENV, DEFAULT_DEADLINE, DEFAULT_TIMEOUT, positive_seconds
from .._parameters import FLUX_DEFAULTS, FLUX_PARAMETERS, FLUX_RANGES, MAX_SEED, Range, fitted
from ..errors import FluxError, InvalidRequestError
from ..types import Generation, GenerationRequest, ProgressCallback

__all__ = [
    "BACKENDS",
    "OPTIONS",
    "REGISTRY",
    "Backend",
    "BackendKind",
    "BackendOption",
    "BackendOptions",
    "ModelBackend",
    "backend_kind",
    "make_backend",
    "ready_backend",
    "references_taken",
]


#: What a ready backend object's kind is called (in manifests and reports).
OWN = "own"
#: The names the :class:`Backend` protocol asks of a ready backend object.
_PROTOCOL = ("base_url", "closed", "generate", "parameter_names", "defaults", "aclose")


class Backend(Protocol):
    """What every backend offers: one generation at a time, its inputs, and closing."""

    @property
    def base_url(self) -> str:
        """The Space URL, model id or endpoint URL called."""
        ...

    @property
    def closed(self) -> bool:
        """Whether it was closed."""
        ...

    async def generate(
        self,
        request: GenerationRequest,
        /,
        *,
        deadline: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Generation:
        """Generate the image ``request`` describes; ``deadline`` overrides the backend's own."""
        ...

    async def parameter_names(self) -> frozenset[str]:
        """The names of the inputs it takes, as it sends them (``num_inference_steps``, …)."""
        ...

    async def defaults(self) -> dict[str, object]:
        """What it uses for each input when a request leaves it out (``width``, ``num_inference_steps``, …)."""
        ...

    async def aclose(self) -> None:
        """Close the connections (and cancel what still runs)."""
        ...


class ModelBackend:
    """What a backend that calls one model shares (Inference Providers, the local pipeline).

    It takes every FLUX input of the parameter table, uses FLUX.1-schnell's defaults for what a
    request leaves out, fits the drawing parameters to its own :attr:`ranges`, and picks a seed
    itself when the request says so. A subclass sets ``model`` and ``deadline`` and makes one image
    in :meth:`_generate`.
    """

    #: The ranges it fits drawing parameters to, by the name it sends them under.
    ranges: ClassVar[Mapping[str, Range]] = FLUX_RANGES
    model: str
    deadline: float

    @property
    def base_url(self) -> str:
        """The model called: its id, endpoint URL or folder."""
        return self.model

    async def parameter_names(self) -> frozenset[str]:
        """The inputs it takes: every FLUX input of the parameter table."""
        return FLUX_PARAMETERS

    async def defaults(self) -> dict[str, object]:
        """What it uses when a request leaves a parameter out: FLUX.1-schnell's (a model declares none)."""
        return dict(FLUX_DEFAULTS)

    def drawing(self, request: GenerationRequest) -> dict[str, Any]:
        """The drawing parameters of ``request`` as this backend sends them: defaults filled in, fitted."""
        return fitted(vars(request), self.ranges, FLUX_DEFAULTS)

    @staticmethod
    def seed_for(request: GenerationRequest) -> int:
        """The seed to draw with: the request's, or a new random one when it asks for that."""
        return random.randint(0, MAX_SEED) if request.randomize_seed else request.seed

    async def generate(
        self, request: GenerationRequest, /, *, deadline: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Generation:  # fmt: skip
        """Generate the image ``request`` describes; ``deadline`` (seconds) overrides the backend's own."""
        seconds = self.deadline if deadline is None else positive_seconds("deadline", deadline)
        return await self._generate(request, seconds, on_progress)

    async def _generate(
        self, request: GenerationRequest, seconds: float, on_progress: ProgressCallback | None
    ) -> Generation:
        raise NotImplementedError


class BackendOptions(TypedDict, total=False):
    """Where images come from, as every entry point takes it: ``backend`` and the options of each backend.

    ``backend`` is ``"space"`` (default, or ``FLUX_WIDGET_BACKEND``), ``"inference"`` or ``"local"``,
    or a ready object with the :class:`Backend` protocol (your own pipeline or service: it is used
    as it is, and closing it stays yours);
    ``token`` defaults to ``HF_TOKEN``; ``timeout`` is how long a server may stay silent. Each
    backend's own options are in :data:`REGISTRY` (the Space's ``space``, ``proxy`` and ``auth``;
    Inference Providers' ``model`` and ``inference_provider``; the local ``model``, ``device``,
    ``dtype`` and ``offload``).
    """

    backend: str | Backend | None
    token: str | None
    timeout: float
    space: str | None
    proxy: str | None
    auth: tuple[str, str] | None
    model: str | None
    inference_provider: str | None
    device: str | None
    dtype: str | None
    offload: str | None


@dataclass(frozen=True)
class BackendOption:
    """One option a backend takes: its keyword (a key of :class:`BackendOptions`), its flag and help."""

    name: str
    help: str
    #: The command line's and the magics' flag, when it is not ``--`` and the name.
    own_flag: str | None = None

    @property
    def flag(self) -> str:
        """Its flag on the command line and in the magics."""
        return self.own_flag or f"--{self.name}"


@dataclass(frozen=True)
class BackendKind:
    """A backend as the registry knows it: where its class is (imported only when chosen), and its options."""

    name: str
    #: The module (relative to this package) and the class in it, called with its options as keywords.
    module: str
    factory: str
    #: Its own options besides ``token``, ``timeout`` and ``deadline``, which every backend takes.
    options: tuple[str, ...]
    #: The option that says where its images come from (a Space, a model), for the shared-backend cache.
    where: str
    #: That option's value in one spelling (``owner/name`` and its URL are one Space); none: as given.
    locate: Callable[[str | None], str] | None = None

    def location(self, options: Mapping[str, object]) -> str:
        """Where ``options`` say its images come from, in one spelling."""
        value = options.get(self.where)
        text = value if isinstance(value, str) else None
        return self.locate(text) if self.locate is not None else (text or "")


def _space_address(space: str | None) -> str:
    from .space._address import space_url  # httpx, loaded with the Space's client

    return space_url(space)


#: Every backend, by name: what ``backend=`` (and ``--backend``, ``FLUX_WIDGET_BACKEND``) chooses from.
REGISTRY: dict[str, BackendKind] = {
    kind.name: kind
    for kind in (
        BackendKind("space", ".space._client", "FluxClient", ("space", "proxy", "auth"), "space", _space_address),
        BackendKind("inference", "._inference", "InferenceBackend", ("model", "inference_provider"), "model"),
        BackendKind("local", ".local._backend", "LocalBackend", ("model", "device", "dtype", "offload"), "model"),
    )
}
BACKENDS = tuple(REGISTRY)
#: The options the command line and the magics take as flags (``--provider`` is ``inference_provider``;
#: ``auth`` has a rule of its own there: the password is never a flag).
OPTIONS: tuple[BackendOption, ...] = (
    BackendOption("space", "owner/name or URL of the Space (default: FLUX_WIDGET_SPACE, then the public one)"),
    BackendOption("backend", "space (default), inference (Inference Providers, needs HF_TOKEN) or local (your GPU)"),
    BackendOption("model", "inference: the model id or endpoint URL; local: a repo id or a pipeline's folder"),
    BackendOption("device", "local: auto (CUDA, then MPS), cuda, mps or cpu (default: FLUX_WIDGET_DEVICE, then auto)"),
    BackendOption("dtype", "local: bfloat16, float16 or float32 (default: what the device does natively)"),
    BackendOption("offload", "local: auto (offload to RAM when the GPU is too small), none, model or sequential"),
    BackendOption("inference_provider", "inference: the provider (default auto)", "--provider"),
)


def ready_backend(backend: object) -> Backend | None:
    """``backend`` itself when it is a ready object with the :class:`Backend` protocol (not a name);
    ``None`` for a name or nothing. An object without the protocol is an InvalidRequestError."""
    if backend is None or isinstance(backend, str):
        return None
    missing = [name for name in _PROTOCOL if not hasattr(backend, name)]
    if missing or not callable(getattr(backend, "generate", None)):
        raise InvalidRequestError(
            f"backend must be a name ('space', 'inference', 'local') or an object with the Backend protocol; "
            f"{type(backend).__name__} has no {', '.join(missing) or 'callable generate'}."
        )
    return cast(Backend, backend)


def backend_kind(backend: str | Backend | None = None) -> str:
    """``backend``, else ``FLUX_WIDGET_BACKEND``, else ``"space"``; anything else is refused. A ready
    backend object is ``"own"``."""
    if ready_backend(backend) is not None:
        return OWN
    kind = (cast("str | None", backend) or os.environ.get(BACKEND_ENV) or "space").strip().lower()
    if kind not in REGISTRY:
        *others, last = (f"'{name}'" for name in BACKENDS)
        raise InvalidRequestError(f"backend must be {', '.join(others)} or {last}, not {kind[:40]!r}.")
    return kind


def make_backend(deadline: float = DEFAULT_DEADLINE, **options: Unpack[BackendOptions]) -> Backend:
    """The backend ``options`` choose, with ``deadline`` as its default for each generation.

    Its class is imported only now (torch and diffusers for the local one, huggingface_hub for
    Inference Providers), and gets its own options from ``options``, by name.
    """
    ready = ready_backend(options.get("backend"))
    if ready is not None:
        return ready  # your own: used as it is
    kind = REGISTRY[backend_kind(options.get("backend"))]
    factory = getattr(importlib.import_module(kind.module, __package__), kind.factory)
    own = {name: options.get(name) for name in kind.options}
    backend: Backend = factory(
        **own, token=options.get("token"), timeout=options.get("timeout", DEFAULT_TIMEOUT), deadline=deadline
    )
    return backend


async def references_taken(backend: object) -> int | None:
    """How many reference images ``backend`` takes (0: it draws from text only); ``None`` when it cannot tell yet."""
    taken = getattr(backend, "references_taken", None)
    if not callable(taken):
        return None
    try:
        count = await taken()
    except FluxError:
        return None
    return count if isinstance(count, int) and not isinstance(count, bool) else None
