"""Lighter and leaner (issue 10): lazy imports, one reused client, no needless re-encoding."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from support.kernel import grid_images, pngs, run_cells, texts
from support.misbehaving import Seen
from support.picture import mean_difference, parameters, render_picture

from flux_widget import BlackForestLabs_Flux1Schnell

WIDGET_STACK = ("anywidget", "ipywidgets", "IPython", "traitlets", "comm")
#: The optional extras' packages: never imported unless their backend (or interop) is used.
EXTRAS = ("huggingface_hub", "g4f", "torch", "diffusers", "transformers")
#: Put first on ``sys.meta_path``, this makes the named packages missing, as on a machine without the extra.
WITHOUT = """
import sys
class Missing:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {missing!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, Missing())
"""


def python(code: str, *, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=cwd)


def test_client_generate_and_cli_never_import_the_widget_stack() -> None:
    loaded = python(
        "import sys\n"
        "import flux_widget\n"
        "from flux_widget import FluxClient, generate, FluxError, BlackForestLabs_Flux1Schnell\n"
        "import flux_widget.__main__\n"
        f"print([name for name in {WIDGET_STACK!r} if name in sys.modules])"
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout == "[]\n"
    widget = python(
        "import sys\nfrom flux_widget import FluxWidget\nprint('anywidget' in sys.modules, FluxWidget.__name__)"
    )
    assert widget.stdout == "True FluxWidget\n", widget.stderr


def test_no_extra_is_imported_until_its_backend_is_used(space: str) -> None:
    loaded = python(
        "import sys, asyncio, flux_widget\n"
        "from flux_widget import FluxWidget, generate, agenerate, BlackForestLabs_Flux1Schnell\n"
        "import flux_widget.__main__, flux_widget.notebook._magic\n"
        f"generate('no extras', space={space!r}, width=256, height=256, steps=1)\n"
        f"w = FluxWidget({space!r}); w.close()\n"
        f"print([name for name in {EXTRAS!r} if name in sys.modules])"
    )
    assert loaded.returncode == 0 and loaded.stdout == "[]\n", loaded.stderr


WITHOUT_EXTRAS_PROGRAM = """
import asyncio, flux_widget
from flux_widget import BlackForestLabs_Flux1Schnell as Provider

space = {space!r}
small = dict(space=space, width=256, height=256)
generation = flux_widget.generate("no hub here", steps=1, seed=4, randomize_seed=False, **small)
print(generation.seed)

async def provided():
    stream = Provider.create_async_generator("flux", [{{"role": "user", "content": "plain"}}], **small)
    return [response async for response in stream][0]

print(type(asyncio.run(provided())).__name__)
widget = flux_widget.FluxWidget(space)
widget.close()
print("widget")
try:
    flux_widget.generate("paid", backend="inference", token="hf_x")
except flux_widget.InvalidRequestError as exc:
    print(exc)
"""


def test_everything_but_the_inference_backend_works_without_the_extras(space: str, tmp_path: Path) -> None:
    result = python(WITHOUT.format(missing=set(EXTRAS)) + WITHOUT_EXTRAS_PROGRAM.format(space=space), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "4",
        "ImageResponse",
        "widget",
        'The inference backend needs huggingface_hub: pip install "flux-widget[inference]".',
    ]


def test_sync_calls_in_a_script_reuse_one_client(bad_space: tuple[str, Seen]) -> None:
    base, seen = bad_space
    result = python(
        "import flux_widget, warnings\n"
        "warnings.simplefilter('error')\n"
        f"for i in range(3):\n    print(flux_widget.generate(f'reuse {{i}}', space='{base}/reuse-script').seed)"
    )
    assert result.returncode == 0 and result.stdout == "7\n7\n7\n", result.stderr
    assert "Unclosed" not in result.stderr and "Error" not in result.stderr  # closed cleanly at exit
    assert seen.paths("/reuse-script/config") == ["/reuse-script/config"]


def test_magics_and_generate_in_a_kernel_reuse_one_client(bad_space: tuple[str, Seen], tmp_path: Path) -> None:
    base, seen = bad_space
    url = f"{base}/reuse-kernel"
    outputs = run_cells(
        [
            "%load_ext flux_widget",
            f"%flux one --space {url} --width 256 --height 256",
            f"%flux two --space {url} --width 256 --height 256",
            f"%%flux --space {url} --width 256 --height 256\nthree\nfour",
            f"import flux_widget\nprint(flux_widget.generate('five', space='{url}').seed)",
        ],
        tmp_path,
    )
    assert texts(outputs[-1], "stdout") == ["7\n"]
    assert len([img for cell in outputs for img in [*pngs(cell), *grid_images(cell)]]) == 4
    assert seen.paths("/reuse-kernel/config") == ["/reuse-kernel/config"]


@pytest.mark.anyio
async def test_provider_calls_reuse_one_client(bad_space: tuple[str, Seen]) -> None:
    base, seen = bad_space
    for i in range(2):
        async for response in BlackForestLabs_Flux1Schnell.create_async_generator(
            "flux-schnell", [{"role": "user", "content": f"provider {i}"}], space=f"{base}/reuse-provider"
        ):
            assert response.seed == 7
    assert seen.paths("/reuse-provider/config") == ["/reuse-provider/config"]


def test_command_line_writes_the_spaces_own_bytes_with_the_parameters(space_env: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flux_widget", "an own-format fox", "--seed", "8", "--width", "256", "--height", "256"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    saved = tmp_path / "flux.webp"
    assert f"saved {saved.name} (seed 8" in result.stdout
    with Image.open(saved) as picture:
        assert picture.format == "WEBP" and parameters(picture)["prompt"] == "an own-format fox"
        assert mean_difference(picture, render_picture("an own-format fox", 8, 256, 256)) < 6


def test_command_line_refuses_an_unknown_suffix_before_any_request(bad_space: tuple[str, Seen], tmp_path: Path) -> None:
    base, seen = bad_space
    result = subprocess.run(
        [sys.executable, "-m", "flux_widget", "a cat", "-o", "cat.xyz", "--space", f"{base}/suffix"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert "cannot save an image as '.xyz'" in result.stderr
    assert seen.paths("/suffix/") == []


@pytest.mark.parametrize(
    ("fmt", "mode", "options"),
    [
        ("WEBP", "RGB", {}),  # simple lossy layout: becomes VP8X
        ("WEBP", "RGBA", {"lossless": True}),  # VP8L with alpha
        ("WEBP", "RGBA", {}),  # already VP8X (alpha chunk)
        ("JPEG", "RGB", {}),
        ("PNG", "RGB", {}),
    ],
)
def test_metadata_is_muxed_in_without_touching_the_pixels(fmt: str, mode: str, options: dict) -> None:
    from flux_widget._metadata import with_metadata

    original = Image.new(mode, (300, 200), (10, 120, 200, 128)[: len(mode)])
    out = io.BytesIO()
    original.save(out, format=fmt, **options)
    data = out.getvalue()
    tagged = with_metadata(data, {"prompt": 'a "quoted" cat & ünïcode', "seed": 42}, (300, 200))
    with Image.open(io.BytesIO(data)) as before, Image.open(io.BytesIO(tagged)) as after:
        assert after.format == fmt and after.mode == before.mode and after.size == (300, 200)
        assert after.tobytes() == before.tobytes()
        assert parameters(after) == {"prompt": 'a "quoted" cat & ünïcode', "seed": "42"}
