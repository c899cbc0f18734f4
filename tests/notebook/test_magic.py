"""%flux, %%flux and the synchronous entry points, in a real kernel and a real subprocess."""

from __future__ import annotations

import base64
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from support.kernel import grid_images, pngs, run_cells, texts
from support.picture import mean_difference, parameters, render_picture

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def test_line_magic_shows_png_and_caption_and_returns_the_generation(in_kernel) -> None:
    _, magic, after = in_kernel(
        "g = %flux a cat in a hat --seed 3 --width 256 --height 256 --steps 2", "print(g.seed, g.width, g.steps)"
    )
    [image] = pngs(magic)
    assert image.format == "JPEG" and image.size == (256, 256)  # shown everywhere, no PNG re-encoding
    assert parameters(image)["prompt"] == "a cat in a hat" and parameters(image)["seed"] == "3"
    assert mean_difference(image, render_picture("a cat in a hat", 3, 256, 256)) < 6
    assert "a cat in a hat · seed 3 · 256×256 · 2 steps" in texts(magic)
    assert not any(re.search(r"queued|started|step \d+/", text) for text in texts(magic))  # progress removed
    assert texts(after, "stdout") == ["3 256 2\n"]


def test_without_seed_the_space_picks_one_and_the_caption_shows_it(in_kernel) -> None:
    _, magic = in_kernel("%flux a random owl --width 256 --height 256")
    caption = next(text for text in texts(magic) if "seed" in text)
    seed = int(re.search(r"seed (\d+)", caption).group(1))
    assert mean_difference(pngs(magic)[0], render_picture("a random owl", seed, 256, 256)) < 6


def test_cell_magic_runs_lines_in_order_and_a_failure_is_one_line(in_kernel) -> None:
    _, cell = in_kernel("%%flux --width 256 --height 256 --seed 5 --concurrency 3\none\n\n[quota] two\nthree\n")
    images = grid_images(cell)  # one grid, in the order of the lines
    assert [parameters(img)["prompt"] for img in images] == ["one", "three"]
    [grid] = [o["data"] for o in cell if "text/html" in o.get("data", {})]
    assert grid["text/plain"].splitlines()[1] == "[quota] two · failed"
    assert all(parameters(img)["seed"] == "5" for img in images)
    assert mean_difference(images[1], render_picture("three", 5, 256, 256)) < 6
    [error] = texts(cell, "stderr")
    assert error.startswith("flux ([quota] two): The Space's GPU quota is used up") and "Try again in 0:12:34" in error
    assert error.count("\n") == 1
    assert not any(output["output_type"] == "error" for output in cell)


def test_errors_are_one_line_not_a_traceback(in_kernel) -> None:
    _, quota, usage, empty = in_kernel("%flux [quota] please", "%flux --width wide cat", "%%flux\n\n")
    assert [t for t in texts(quota, "stderr") if "Try again in 0:12:34" in t]
    assert texts(usage, "stderr") and "invalid int value" in texts(usage, "stderr")[0]
    assert "needs at least one prompt" in texts(empty, "stderr")[0]
    assert not any(o["output_type"] == "error" for o in quota + usage + empty)


def test_magic_without_prompt_shows_a_widget(in_kernel) -> None:
    _, cell, state = in_kernel("w = %flux --width 512 --seed 9\nw", "print(w.width, w.seed, w.randomize_seed)")
    assert any(WIDGET_VIEW in output.get("data", {}) for output in cell)
    assert texts(state, "stdout") == ["512 9 False\n"]


def test_sync_generate_inside_a_running_kernel_loop(in_kernel) -> None:
    _, cell, after = in_kernel(
        "import flux_widget\ng = flux_widget.generate('nested', width=256, height=256, seed=2, randomize_seed=False)\n"
        "print(g.seed, g.image.size)",
        "import asyncio\nawait asyncio.sleep(0)\nprint('loop still fine')",
    )
    assert texts(cell, "stdout") == ["2 (256, 256)\n"]
    assert texts(after, "stdout") == ["loop still fine\n"]


def test_sync_generate_in_a_plain_script(space_env: str) -> None:
    script = (
        "import flux_widget\n"
        "g = flux_widget.generate('script', width=256, height=256, seed=4, randomize_seed=False)\n"
        "print(g.seed)"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "4\n"


def test_command_line_saves_png_and_prints_the_seed(space_env: str, tmp_path: Path) -> None:
    out = tmp_path / "cli.png"
    command = [
        sys.executable,
        "-m",
        "flux_widget",
        "a cli fox",
        "-o",
        str(out),
        "--seed",
        "8",
        "--width",
        "256",
        "--height",
        "320",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "seed 8" in result.stdout and str(out) in result.stdout
    assert "queued" in result.stderr
    with Image.open(out) as image:
        assert image.size == (256, 320) and image.text["seed"] == "8"
        assert mean_difference(image, render_picture("a cli fox", 8, 256, 320)) < 6


def test_command_line_error_is_one_line_and_exit_1(space_env: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flux_widget", "[quota] cli", "-o", str(tmp_path / "x.png")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: The Space's GPU quota is used up")
    assert not (tmp_path / "x.png").exists()


def test_importing_patches_no_event_loop() -> None:
    script = "import sys, flux_widget, flux_widget.notebook._magic\nprint('nest_asyncio2' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.stdout == "False\n", result.stderr


def test_magic_shows_a_photo_like_image_in_few_bytes_at_twice_its_shown_size(
    textured_space: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FLUX_WIDGET_SPACE", textured_space)  # 100–250 KB WebPs at 1024², as FLUX's are
    monkeypatch.delenv("HF_TOKEN", raising=False)
    cells = run_cells(
        [
            "%load_ext flux_widget",
            "g = %flux a textured fox --width 1024 --height 1024 --seed 4",
            "big = %flux a textured fox --width 2048 --height 2048 --seed 4",
            "print(len(g.image_bytes))",
        ],
        tmp_path,
    )
    [small] = [o for o in cells[1] if o["output_type"] == "display_data" and "image/jpeg" in o["data"]]
    [large] = [o for o in cells[2] if o["output_type"] == "display_data" and "image/jpeg" in o["data"]]
    webp = int(texts(cells[3], "stdout")[0])
    payload = len(small["data"]["image/jpeg"])  # what the notebook stores: base64 text
    assert payload <= 1.0 * webp, (payload, webp)  # README: 0.79x on this stand-in (bench_lean.py)
    with Image.open(io.BytesIO(base64.b64decode(small["data"]["image/jpeg"]))) as shown:
        assert shown.size == (1024, 1024)  # every pixel of a 1024² image shown 512 wide on a 2x screen
    with Image.open(io.BytesIO(base64.b64decode(large["data"]["image/jpeg"]))) as shown:
        assert shown.size == (1024, 1024)  # a 2048² image shown 512 wide needs no more
    assert large["metadata"]["image/jpeg"] == {"width": 512, "height": 512}


def test_magic_output_is_a_sensible_size_with_a_short_echo(in_kernel) -> None:
    _, cell = in_kernel("%flux a wide fox --width 1024 --height 512 --seed 2")
    [shown] = [o for o in cell if o["output_type"] == "display_data" and "image/jpeg" in o["data"]]
    assert shown["metadata"]["image/jpeg"] == {"width": 512, "height": 256}  # not the whole cell width
    [echo] = [o for o in cell if o["output_type"] == "execute_result"]
    assert re.fullmatch(r"<Generation 'a wide fox' seed=2 1024×512 \d+\.\d s>", echo["data"]["text/plain"])
