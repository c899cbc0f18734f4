"""How the local backend splits and times a batch, and picks seeds (issue 27's unwatched promises).

The pipeline is the tiny random-weight one, run for real on the CPU. A GPU running out of memory
cannot happen here, so :class:`Recording` raises the backend's own ``OutOfMemoryError`` for any
call of more than one image, where CUDA's would come from; everything else is the real backend.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from flux_widget import FluxError, GenerationRequest

torch = pytest.importorskip("torch")  # the local extra; in CI a skip fails (conftest.py)
diffusers = pytest.importorskip("diffusers")

from flux_widget.backends.local._backend import LocalBackend  # noqa: E402
from flux_widget.backends.local._drawing import OutOfMemoryError  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from support.tiny_pipelines import save_tiny_flux

    return save_tiny_flux(tmp_path_factory.mktemp("tiny-flux"))


class Recording(LocalBackend):
    """The real local backend, noting each pipeline call's size; optionally slow, or out of memory for batches."""

    def __init__(self, model: str, *, seconds_per_image: float = 0.0, memory_for: int = 8) -> None:
        super().__init__(model, device="cpu")
        self.calls: list[int] = []
        self.seconds_per_image, self.memory_for = seconds_per_image, memory_for

    def _draw_now(self, requests: Sequence[GenerationRequest], stop: Any, post: Callable[[Any], None]) -> list[Any]:
        self.calls.append(len(requests))
        if len(requests) > self.memory_for:
            raise OutOfMemoryError("CUDA out of memory (as the GPU says it)")
        time.sleep(self.seconds_per_image * len(requests))
        return super()._draw_now(requests, stop, post)


def requests(count: int, seed: int = 5, *, randomize_seed: bool = False) -> list[GenerationRequest]:
    return [GenerationRequest.build("a fox", width=64, height=64, steps=2, seed=seed + n,
                                    randomize_seed=randomize_seed) for n in range(count)]  # fmt: skip


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


@pytest.mark.anyio
async def test_batches_go_in_calls_of_at_most_four(tiny: Path) -> None:
    backend = Recording(str(tiny))
    made = await backend.generate_many(requests(6))
    assert backend.calls == [4, 2] and [generation.seed for generation in made] == [5, 6, 7, 8, 9, 10]


@pytest.mark.anyio
async def test_a_batch_out_of_memory_is_made_one_by_one_with_the_same_pixels(tiny: Path) -> None:
    backend = Recording(str(tiny), memory_for=1)
    made = await backend.generate_many(requests(3))
    assert backend.calls == [3, 1, 1, 1] and [generation.seed for generation in made] == [5, 6, 7]
    later = await backend.generate_many(requests(2, seed=20))
    assert backend.calls[4:] == [1, 1]  # later batches stay single
    alone = await Recording(str(tiny)).generate(requests(1, seed=6)[0])
    assert np.array_equal(pixels(made[1].image_bytes), pixels(alone.image_bytes))
    assert len(later) == 2


@pytest.mark.anyio
async def test_a_batchs_deadline_is_scaled_by_its_size(tiny: Path) -> None:
    backend = Recording(str(tiny), seconds_per_image=0.3)
    await backend.generate(requests(1)[0])  # loaded: only drawing is timed below
    made = await backend.generate_many(requests(4), deadline=0.6)  # 1.2 s of work within 4 × 0.6 s
    assert len(made) == 4
    with pytest.raises(FluxError, match=r"No image within the 0\.2 s deadline"):
        await backend.generate_many(requests(1), deadline=0.2)  # and one image alone is held to its own


@pytest.mark.anyio
async def test_randomize_seed_gives_different_seeds(tiny: Path) -> None:
    backend = Recording(str(tiny))
    made = await backend.generate_many(requests(3, randomize_seed=True))
    again = await backend.generate(requests(1, randomize_seed=True)[0])
    seeds = {generation.seed for generation in [*made, again]}
    assert len(seeds) == 4 and 5 not in seeds
