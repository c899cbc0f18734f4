"""One call of a loaded diffusers pipeline: the images of one or more requests that share size and steps.

Runs on the local backend's worker thread. Each image's seed goes into its own CPU
``torch.Generator`` (the same image on any device); one image is drawn with the prompt as a
string, exactly diffusers' own single call, several with a list of prompts and a list of
generators, diffusers' own batched call. Each step is posted. Once ``stop`` is set the run ends
inside the running step: while drawing, every block of the pipeline's models checks ``stop`` as it
starts (a forward pre-hook), so neither the rest of a long step nor the VAE's decoding runs.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..._parameters import to_wire
from ...errors import GenerationError, InvalidRequestError
from ...types import Step

__all__ = ["OutOfMemoryError", "draw"]


class OutOfMemoryError(GenerationError):
    """The GPU ran out of memory for this call (a smaller batch, size or model may fit)."""


def draw(
    pipeline: Any,
    prompts: Sequence[str],
    seeds: Sequence[int],
    *,
    drawing: Mapping[str, Any],
    stop: threading.Event,
    post: Callable[[Step], None],
) -> list[bytes]:
    """The PNG of each prompt (empty when ``stop`` interrupted the run).

    ``drawing`` holds the drawing parameters by request name (``width``, ``steps``, …), fitted; each
    is passed under its diffusers name, those left out (``None``) not at all. Reference images go
    as ``image=``: one ``PIL.Image`` for a model that takes one (Kontext), a list for several.
    """
    import torch

    references = [item.picture() for item in drawing.get("images") or ()]
    sent = to_wire({name: value for name, value in drawing.items() if name != "images"})
    if references:
        sent["image"] = references[0] if len(references) == 1 else references

    def on_step_end(_pipe: Any, index: int, _timestep: Any, callback_kwargs: dict[str, Any]) -> dict[str, Any]:
        post(Step(index=index + 1, length=drawing["steps"]))
        return callback_kwargs

    generators = [torch.Generator("cpu").manual_seed(seed) for seed in seeds]
    hooks = _stop_checks(pipeline, stop)
    try:
        with warnings.catch_warnings():  # NaN pixels warn as they are cast; they are reported below instead
            warnings.simplefilter("ignore", RuntimeWarning)
            result = pipeline(
                prompt=prompts[0] if len(prompts) == 1 else list(prompts),  # by name: FLUX.2 takes image= first
                generator=generators[0] if len(generators) == 1 else generators,
                callback_on_step_end=on_step_end,
                **sent,
            )
    except _StoppedError:
        return [b""] * len(prompts)  # stopped mid-step: no image to give
    except ValueError as exc:  # diffusers' word on an input it cannot take (an image too small, …)
        raise InvalidRequestError(f"The pipeline refused the request: {exc}") from None
    except torch.cuda.OutOfMemoryError:
        many = f"{len(prompts)} images of " if len(prompts) > 1 else "a "
        raise OutOfMemoryError(
            f"The GPU ran out of memory for {many}{drawing['width']}×{drawing['height']} image: try a smaller size, "
            'offload="model", '
            "or a smaller model (FLUX.2 [klein] 4B)."
        ) from None
    finally:
        for hook in hooks:
            hook.remove()
    if stop.is_set():
        return [b""] * len(prompts)  # stopped after the last block: no image to give either
    return [_png(picture) for picture in result.images]


class _StoppedError(Exception):
    """Raised inside the pipeline's models once the run was stopped."""


def _stop_checks(pipeline: Any, stop: threading.Event) -> list[Any]:
    """A check of ``stop`` before each block of the pipeline's models (each module that holds others);
    the hooks' handles, to remove once the call is over (the pipeline is shared)."""
    import torch

    def check(_module: Any, _inputs: Any) -> None:
        if stop.is_set():
            raise _StoppedError

    components = getattr(pipeline, "components", {}) or {}
    return [
        module.register_forward_pre_hook(check)
        for component in components.values()
        if isinstance(component, torch.nn.Module)
        for module in component.modules()
        if next(module.children(), None) is not None
    ]


def _png(picture: Any) -> bytes:
    extrema = picture.getextrema()
    if all(band == (0, 0) for band in (extrema if isinstance(extrema[0], tuple) else (extrema,))):
        raise GenerationError(
            "The model made an all-black image: its numbers overflowed (NaN), as float16 does with FLUX. "
            'Use dtype="bfloat16" (or "float32").'
        )
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()
