"""A large job's cost per image stays flat and its memory bounded (issue 30), proven by what the engine
does, not by timing it (the timings are bench/bench_batch_jobs.py's): 20,000 prompts through
run_batch with an instant backend of one's own, on a tmpfs folder."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.instant_backend import InstantBackend

import flux_widget
from flux_widget.folders._manifest import Manifest

PROMPTS = 20_000


def counted(monkeypatch: pytest.MonkeyPatch, owner: type, name: str) -> list[int]:
    """Count the calls of ``owner.name`` (a list of one number, read after the run)."""
    calls = [0]
    original: Callable[..., Any] = getattr(owner, name)

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counting)
    return calls


def test_twenty_thousand_prompts_read_the_manifest_once_and_hold_only_a_small_index(
    tmpfs: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmpfs(512 * 1024) / "images"  # 512 MiB, in memory: the disk is not what is measured
    reads = counted(monkeypatch, Manifest, "_read_json")
    scans = counted(monkeypatch, Manifest, "_scan")
    prompts = (f"prompt number {number}" for number in range(PROMPTS))  # a stream, as a file is read
    tracemalloc.start()
    try:
        report = flux_widget.run_batch(prompts, out, backend=InstantBackend(), seed=1, concurrency=4, progress=False)
        _, made_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        again = flux_widget.run_batch(
            (f"prompt number {number}" for number in range(PROMPTS)), out, backend=InstantBackend(), seed=1,
            progress=False,
        )  # fmt: skip
        _, resumed_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.done == PROMPTS and again.skipped == PROMPTS and again.done == 0
    # One read of the manifest and one pass over the folder a run, however many images: no image's
    # name or resume check goes over what is done.
    assert reads[0] == 2 and scans[0] == 2
    # The jobs are a stream (none is held beyond those running) and the index holds digests: 9.2 MB
    # made, 11.3 MB resumed, measured; with every job held and the keys and names as text, 15.0 and 17.4.
    assert made_peak < 400 * PROMPTS + 4_500_000, made_peak
    assert resumed_peak < 400 * PROMPTS + 4_500_000, resumed_peak
