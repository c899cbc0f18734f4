"""The synchronous entry point: ``generate()`` works in a script and inside a notebook cell."""

from __future__ import annotations

from functools import partial
from typing import Literal, overload

from .batch import batch_seeds, check_count, run_batch
from .client import ProgressCallback
from .runner import run_sync
from .shared import shared_client
from .types import Generation

__all__ = ["generate"]


@overload
def generate(
    prompt: str,
    *,
    width: int = ...,
    height: int = ...,
    steps: int = ...,
    seed: int = ...,
    randomize_seed: bool = ...,
    guidance: float | None = ...,
    deadline: float | None = ...,
    space: str | None = ...,
    token: str | None = ...,
    backend: str | None = ...,
    model: str | None = ...,
    inference_provider: str | None = ...,
    on_progress: ProgressCallback | None = ...,
    count: Literal[1] = ...,
) -> Generation: ...


@overload
def generate(
    prompt: str,
    *,
    width: int = ...,
    height: int = ...,
    steps: int = ...,
    seed: int = ...,
    randomize_seed: bool = ...,
    guidance: float | None = ...,
    deadline: float | None = ...,
    space: str | None = ...,
    token: str | None = ...,
    backend: str | None = ...,
    model: str | None = ...,
    inference_provider: str | None = ...,
    on_progress: ProgressCallback | None = ...,
    count: int,
) -> Generation | list[Generation]: ...


def generate(
    prompt: str,
    *,
    width: int = 1024,
    height: int = 1024,
    steps: int = 4,
    seed: int = 0,
    randomize_seed: bool = True,
    guidance: float | None = None,
    deadline: float | None = None,
    space: str | None = None,
    token: str | None = None,
    backend: str | None = None,
    model: str | None = None,
    inference_provider: str | None = None,
    on_progress: ProgressCallback | None = None,
    count: int = 1,
) -> Generation | list[Generation]:
    """Generate one image (or ``count``, returned as a list when more than one) and wait for it.

    See :meth:`FluxClient.generate` for the parameters. ``space`` and ``token`` default to
    ``FLUX_WIDGET_SPACE`` (then the public Space) and ``HF_TOKEN``; ``deadline`` (seconds, default
    600) bounds each generation. Errors are the :class:`~flux_widget.FluxError` family.
    Interrupting the call (Ctrl-C, the notebook's Stop button) cancels the job on the Space.
    Calls with the same Space and token reuse one client, its connections and the Space's
    ``/config``. ``backend="inference"`` (or ``FLUX_WIDGET_BACKEND``) uses Hugging Face Inference
    Providers with ``model`` and ``inference_provider`` instead.

    With ``count`` (1–8), each image gets a random seed when ``randomize_seed`` is on, else
    ``seed``, ``seed + 1``, …; two run at a time, and the first failure cancels the rest.
    """
    check_count(count)

    async def batch() -> list[Generation]:
        client = shared_client(space, token=token, backend=backend, model=model, inference_provider=inference_provider)

        jobs = [
            partial(
                client.generate,
                prompt,
                width=width,
                height=height,
                steps=steps,
                seed=slot.seed,
                randomize_seed=slot.randomize,
                guidance=guidance,
                deadline=deadline,
                on_progress=on_progress,
            )
            for slot in batch_seeds(seed, randomize_seed, count)
        ]
        results: dict[int, Generation] = {}
        async with run_batch(jobs) as outcomes:
            async for slot, outcome in outcomes:
                if isinstance(outcome, BaseException):
                    raise outcome
                results[slot] = outcome
        return [results[slot] for slot in range(count)]

    generations = run_sync(batch)
    return generations[0] if count == 1 else generations
