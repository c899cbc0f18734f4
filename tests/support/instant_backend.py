"""A backend of your own, as the docs' "Backend protocol" describes it: it answers at once with a small
PNG, so a test or a benchmark measures only what calls it (the engine, the widget)."""

from __future__ import annotations

import io
import time

from PIL import Image

from flux_widget import Generation, GenerationRequest

#: One 64×64 PNG for every call (made once): the backend's cost is nothing.
_PICTURE = io.BytesIO()
Image.new("RGB", (64, 64), (30, 120, 200)).save(_PICTURE, format="PNG")


class InstantBackend:
    """Generates instantly: the same 64×64 PNG, with the request's prompt and seed."""

    def __init__(self) -> None:
        self.calls = 0
        self._closed = False

    @property
    def base_url(self) -> str:
        return "instant"

    @property
    def closed(self) -> bool:
        return self._closed

    async def generate(self, request: GenerationRequest, /, **_options: object) -> Generation:
        """The picture, at once (``deadline`` and ``on_progress`` are taken and not needed)."""
        self.calls += 1
        started = time.perf_counter()
        return Generation(
            prompt=request.prompt, seed=request.seed, width=64, height=64, steps=request.steps or 1, url="instant",
            image_bytes=_PICTURE.getvalue(), mime_type="image/png", elapsed=time.perf_counter() - started,
            model="instant",
        )  # fmt: skip

    async def parameter_names(self) -> frozenset[str]:
        return frozenset({"width", "height", "num_inference_steps", "seed", "randomize_seed"})

    async def defaults(self) -> dict[str, object]:
        return {"width": 64, "height": 64, "num_inference_steps": 1}

    async def aclose(self) -> None:
        self._closed = True
