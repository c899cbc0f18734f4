"""Shared fixtures: a real Gradio stand-in Space started once per test session, the misbehaving server."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.journal import Journal
from support.misbehaving import Seen, misbehaving_space
from support.servers import running_standin


@pytest.fixture(scope="session")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Journal]]:
    """A real Gradio stand-in Space (one job at a time, like the hosted one): its URL and its journal."""
    tmp = tmp_path_factory.mktemp("standin")
    journal = tmp / "journal.jsonl"
    with running_standin(tmp, "--journal", str(journal)) as url:
        yield url, Journal(journal)


@pytest.fixture(scope="session")
def space(standin: tuple[str, Journal]) -> str:
    """The base URL of the stand-in Space."""
    return standin[0]


@pytest.fixture(scope="session")
def journal(standin: tuple[str, Journal]) -> Journal:
    """What the stand-in Space saw: joins (with event ids), cancels, and each run's start and end."""
    return standin[1]


@pytest.fixture(scope="session")
def textured_space(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A stand-in whose 1024² WebPs weigh what real FLUX images do (100–250 KB), for memory tests."""
    with running_standin(tmp_path_factory.mktemp("textured"), "--texture") as url:
        yield url


@pytest.fixture(scope="session")
def dev_space(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A real FLUX.1-dev-like Gradio Space (``guidance_scale`` too): its URL and the folder of its calls log."""
    tmp = tmp_path_factory.mktemp("dev")
    with running_standin(tmp, "--variant", "dev", script="standin_variants.py") as url:
        yield url, tmp


@pytest.fixture(scope="session")
def edit_space(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A real FLUX.1 Kontext-like Gradio Space (an image input): its URL and the folder of its calls log."""
    tmp = tmp_path_factory.mktemp("edit")
    with running_standin(tmp, script="standin_edit_space.py") as url:
        yield url, tmp


@pytest.fixture(scope="module")
def bad_space() -> Iterator[tuple[str, Seen]]:
    """The misbehaving server (``tests/support/misbehaving.py``): its base URL and what it has seen."""
    with misbehaving_space() as served:
        yield served


@pytest.fixture
def space_env(space: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point ``FLUX_WIDGET_SPACE`` at the stand-in and drop any ``HF_TOKEN`` from the environment."""
    monkeypatch.setenv("FLUX_WIDGET_SPACE", space)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    return space


@pytest.fixture
def in_kernel(space_env: str, tmp_path: Path) -> Any:
    """Run cells in a fresh kernel after ``%load_ext flux_widget`` (the Space: the stand-in); their outputs."""
    from support.kernel import run_cells

    return lambda *cells: run_cells(["%load_ext flux_widget", *cells], tmp_path)


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio, the loop Jupyter kernels use."""
    return "asyncio"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    """In CI a module that skips itself (``importorskip`` of a missing extra) fails instead."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("CI"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every test must run: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the test item, so fixtures can tell whether the test failed.

    In CI (``CI`` set) nothing may skip silently: a skip (a missing extra, a missing browser) fails.
    """
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("CI") and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every test must run: {reason}"
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """Mount a real tmpfs of ``size`` KiB (read-only if asked) under tmp_path; unmounted after the test."""
    mounted: list[Path] = []

    def mount(size: int, *, read_only: bool = False) -> Path:
        where = tmp_path / f"disk{len(mounted)}"
        where.mkdir()
        options = f"size={size}k" + (",ro" if read_only else "")
        subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], check=True)
        mounted.append(where)
        return where

    yield mount
    for where in mounted:
        subprocess.run(["umount", "-l", str(where)], check=False)
