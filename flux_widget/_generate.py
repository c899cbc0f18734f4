"""The one-call entry points: :func:`agenerate` (async) and :func:`generate` (it waits), for every backend."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Unpack, overload

from ._runner import run_sync
from .backends._cache import shared_client
from .backends._count import batch_requests, generate_all
from .backends.base import BackendOptions
from .types import Generation, GenerationRequest, ProgressCallback, RequestParameters

__all__ = ["GenerateOptions", "agenerate", "generate", "split_options"]


class GenerateOptions(RequestParameters, BackendOptions, total=False):
    """The image's parameters (:class:`~flux_widget.types.RequestParameters`) and where it is made
    (:class:`~flux_widget.backends.BackendOptions`), as :func:`generate` and :func:`agenerate` take them."""


def split_options(options: Mapping[str, Any], kind: Any = RequestParameters) -> tuple[Any, BackendOptions]:
    """The image's parameters (the keys of the TypedDict ``kind``) and the backend's options of ``options``.

    Anything else is a ``TypeError``, as an unknown keyword argument is.
    """
    parameters = {name: value for name, value in options.items() if name in kind.__annotations__}
    where = {name: value for name, value in options.items() if name not in parameters}
    unknown = set(where) - set(BackendOptions.__annotations__)
    if unknown:
        raise TypeError(f"unexpected keyword arguments: {sorted(unknown)}")
    return parameters, where  # type: ignore[return-value]  # split by the two TypedDicts' own keys


@overload
async def agenerate(
    prompt: str | GenerationRequest,
    *,
    count: Literal[1] = ...,
    deadline: float | None = ...,
    on_progress: ProgressCallback | None = ...,
    **options: Unpack[GenerateOptions],
) -> Generation: ...


@overload
async def agenerate(
    prompt: str | GenerationRequest,
    *,
    count: int,
    deadline: float | None = ...,
    on_progress: ProgressCallback | None = ...,
    **options: Unpack[GenerateOptions],
) -> Generation | list[Generation]: ...


async def agenerate(
    prompt: str | GenerationRequest,
    *,
    count: int = 1,
    deadline: float | None = None,
    on_progress: ProgressCallback | None = None,
    **options: Unpack[GenerateOptions],
) -> Generation | list[Generation]:
    """Generate one image (or ``count``, returned as a list when more than one), on any backend.

    The async twin of :func:`generate`, for scripts and async apps: ``await agenerate("a fox",
    seed=3, randomize_seed=False)``. Parameters: those of :class:`~flux_widget.types.RequestParameters`
    (``width``, ``height``, ``steps``, ``seed``, ``randomize_seed``, …);
    where: ``backend`` (``"space"``, the default, or ``"inference"``), ``space``, ``token``,
    ``model``, ``inference_provider``. ``deadline`` (seconds, default 600) bounds each image;
    ``on_progress`` hears every image's events. Calls with the same options on one event loop
    reuse one client, its connections and the Space's ``/config``.

    With ``count`` (1–8), each image gets a random seed when ``randomize_seed`` is on, else
    ``seed``, ``seed + 1``, …; two run at a time, and the first failure cancels the rest (on the
    Space too), as does cancelling the awaiting task. ``prompt`` may also be a ready
    :class:`~flux_widget.GenerationRequest` (then without parameters). Errors are the
    :class:`~flux_widget.FluxError` family.
    """
    parameters, where = split_options(options)
    requests = batch_requests(GenerationRequest.of(prompt, **parameters), count)
    backend = shared_client(**where)
    heard = None if on_progress is None else (lambda _slot, event: on_progress(event))
    generations = await generate_all(backend, requests, deadline=deadline, on_progress=heard)
    return generations[0] if count == 1 else generations


@overload
def generate(
    prompt: str | GenerationRequest,
    *,
    count: Literal[1] = ...,
    deadline: float | None = ...,
    on_progress: ProgressCallback | None = ...,
    **options: Unpack[GenerateOptions],
) -> Generation: ...


@overload
def generate(
    prompt: str | GenerationRequest,
    *,
    count: int,
    deadline: float | None = ...,
    on_progress: ProgressCallback | None = ...,
    **options: Unpack[GenerateOptions],
) -> Generation | list[Generation]: ...


def generate(
    prompt: str | GenerationRequest,
    *,
    count: int = 1,
    deadline: float | None = None,
    on_progress: ProgressCallback | None = None,
    **options: Unpack[GenerateOptions],
) -> Generation | list[Generation]:
    """Generate one image (or ``count``, as a list when more than one) and wait for it.

    Takes what :func:`agenerate` takes and works in a script and inside a notebook cell.
    ``space`` and ``token`` default to ``FLUX_WIDGET_SPACE`` (then the public Space) and
    ``HF_TOKEN``. Interrupting the call (Ctrl-C, the notebook's Stop button) cancels the job on
    the Space. ``backend="inference"`` (or ``FLUX_WIDGET_BACKEND``) uses Hugging Face Inference
    Providers with ``model`` and ``inference_provider`` instead.
    """
    return run_sync(lambda: agenerate(prompt, count=count, deadline=deadline, on_progress=on_progress, **options))
