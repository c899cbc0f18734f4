"""The widget on the local backend in a real JupyterLab: a tiny FLUX pipeline on the kernel's CPU, real clicks.

The pipeline is built in the test (no download) and saved where the kernel can load it; the image the
browser shows must be diffusers' own for that seed, pixel for pixel.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from support.jupyter import ARTIFACTS, BROWSER_TESTS, browser, jupyter_server, write_notebook
from support.notebook_page import NotebookPage, expect_count, history_items

pytestmark = BROWSER_TESTS
torch = pytest.importorskip("torch")  # the local extra; in CI a skip fails (conftest.py)
diffusers = pytest.importorskip("diffusers")

SIZE = 64  # the widget takes the local backend's own sizes (multiples of 16), not the Space's 256 and up


@pytest.fixture(scope="module")
def lab(space: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[NotebookPage, Path]]:
    """JupyterLab with a notebook whose widget draws with a tiny local pipeline on the CPU."""
    from support.tiny_pipelines import save_tiny_flux

    root = tmp_path_factory.mktemp("lab-local")
    tiny = save_tiny_flux(root / "tiny-flux")
    cell = (
        "from flux_widget import FluxWidget\n"
        f"w = FluxWidget(backend='local', model={str(tiny)!r}, device='cpu', width={SIZE}, height={SIZE}, steps=2,"
        " seed=3, randomize_seed=False)\nw"
    )
    write_notebook(root / "local.ipynb", [cell, "print('other cell ran', 6 * 7)"])
    with jupyter_server(root, {"FLUX_WIDGET_SPACE": space}) as server, browser() as chromium:
        page = chromium.new_page(viewport={"width": 1200, "height": 1000})
        notebook = NotebookPage(page, server)
        notebook.open_widget("local.ipynb")
        try:
            yield notebook, tiny
        except BaseException:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=ARTIFACTS / "local-in-lab.png", full_page=True)
            raise
        page.close()


def test_generate_shows_diffusers_own_pixels_and_the_seed(lab: tuple[NotebookPage, Path]) -> None:
    notebook, tiny = lab
    widget = notebook.widget(0)
    assert "tiny-flux" in widget.inner_text()  # the source line names the model, not a Space
    widget.get_by_label("Prompt", exact=True).fill("a fox in a hat")
    widget.get_by_role("button", name="Generate").click()
    expect_count(history_items(widget), 1, timeout=180)
    shown = np.asarray(Image.open(io.BytesIO(notebook.image_bytes(widget))).convert("RGB"))
    pipeline = diffusers.DiffusionPipeline.from_pretrained(tiny)
    seeded = torch.Generator("cpu").manual_seed(3)
    own = pipeline("a fox in a hat", width=SIZE, height=SIZE, num_inference_steps=2, generator=seeded).images[0]
    assert np.array_equal(shown, np.asarray(own))
    assert f"seed 3 · {SIZE}×{SIZE} · 2 steps" in widget.locator(".flux-caption-params").inner_text()


def test_the_kernel_runs_other_cells_while_the_model_draws(lab: tuple[NotebookPage, Path]) -> None:
    notebook, _ = lab
    widget = notebook.widget(0)
    widget.get_by_label("Steps", exact=True).fill("1000")  # slow enough to run another cell meanwhile
    widget.get_by_label("Prompt", exact=True).fill("a slow owl")
    widget.get_by_role("button", name="Generate").click()
    widget.locator("xpath=self::*[@data-status='running']").wait_for(timeout=60_000)
    notebook.run_cell(1)
    notebook.cell(1).get_by_text("other cell ran 42").wait_for(timeout=10_000)
    assert widget.get_attribute("data-status") == "running"  # the other cell finished while the image was drawn
    widget.get_by_role("button", name="Cancel").click()
    widget.locator("xpath=self::*[@data-status='idle' or @data-status='error']").wait_for(timeout=30_000)
    expect_count(history_items(widget), 1)  # the cancelled run left the history as it was
