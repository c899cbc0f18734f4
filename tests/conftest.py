"""Shared fixtures: a real Gradio stand-in Space started once per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import start_standin, stop


@pytest.fixture(scope="session")
def space(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a real Gradio stand-in Space (one job at a time, like the hosted one)."""
    process, url = start_standin(tmp_path_factory.mktemp("standin"))
    yield url
    stop(process)


@pytest.fixture(scope="session")
def dev_space(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A real FLUX.1-dev-like Gradio Space (``guidance_scale`` too): its URL and the folder of its calls log."""
    tmp = tmp_path_factory.mktemp("dev")
    process, url = start_standin(tmp, "--variant", "dev", script="standin_variants.py")
    yield url, tmp
    stop(process)


@pytest.fixture
def space_env(space: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point ``FLUX_WIDGET_SPACE`` at the stand-in and drop any ``HF_TOKEN`` from the environment."""
    monkeypatch.setenv("FLUX_WIDGET_SPACE", space)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    return space


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio, the loop Jupyter kernels use."""
    return "asyncio"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the test item, so fixtures can tell whether the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)
