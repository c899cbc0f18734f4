"""The synchronous entry point: ``generate()`` works in a script and inside a notebook cell."""

from __future__ import annotations

from .client import ProgressCallback
from .runner import run_sync
from .shared import shared_client
from .types import Generation

__all__ = ["generate"]


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
) -> Generation:
    """Generate one image and wait for it; see :meth:`FluxClient.generate` for the parameters.

    ``space`` and ``token`` default to ``FLUX_WIDGET_SPACE`` (then the public Space) and
    ``HF_TOKEN``; ``deadline`` (seconds, default 600) bounds the whole generation. Errors are the
    :class:`~flux_widget.FluxError` family. Interrupting the call (Ctrl-C, the notebook's Stop
    button) cancels the job on the Space. Calls with the same Space and token reuse one client,
    its connections and the Space's ``/config``. ``backend="inference"`` (or ``FLUX_WIDGET_BACKEND``)
    uses Hugging Face Inference Providers with ``model`` and ``inference_provider`` instead.
    """

    async def once() -> Generation:
        client = shared_client(space, token=token, backend=backend, model=model, inference_provider=inference_provider)
        return await client.generate(
            prompt,
            width=width,
            height=height,
            steps=steps,
            seed=seed,
            randomize_seed=randomize_seed,
            guidance=guidance,
            deadline=deadline,
            on_progress=on_progress,
        )

    return run_sync(once)
