"""Executing notebooks in a real ipykernel with nbclient, and reading their outputs."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from PIL import Image

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def run_cells(cells: list[str], cwd: Path, timeout: int = 120) -> list[list[dict[str, Any]]]:
    """Execute code cells in a fresh kernel; return each cell's outputs."""
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in cells], metadata={"kernelspec": KERNELSPEC}
    )
    run_notebook(notebook, cwd, timeout)
    return [cell.outputs for cell in notebook.cells]


def run_notebook(notebook: Any, cwd: Path, timeout: int = 180) -> Any:
    """Execute a notebook in place in a fresh python3 kernel."""
    NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    ).execute()
    return notebook


def texts(outputs: list[dict[str, Any]], name: str | None = None) -> list[str]:
    """The plain text of stream outputs (``name`` = stdout/stderr) or of text-only displays."""
    found = []
    for output in outputs:
        if output["output_type"] == "stream" and (name is None or output["name"] == name):
            found.append(output["text"])
        elif name is None and output["output_type"] in {"display_data", "execute_result"}:
            data = output["data"]
            if set(data) == {"text/plain"}:
                found.append(data["text/plain"])
    return found


IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")


def pngs(outputs: list[dict[str, Any]]) -> list[Image.Image]:
    """The images shown (image/png, image/jpeg or image/webp outputs), decoded."""
    return [
        Image.open(io.BytesIO(base64.b64decode(output["data"][kind])))
        for output in outputs
        if output["output_type"] in {"display_data", "execute_result"}
        for kind in IMAGE_TYPES
        if kind in output.get("data", {})
    ]


def grid_images(outputs: list[dict[str, Any]]) -> list[Image.Image]:
    """The images of the grids shown (``%flux -n``, ``%%flux``): each ``data:`` picture in their HTML, in order."""
    import re

    return [
        Image.open(io.BytesIO(base64.b64decode(encoded)))
        for output in outputs
        if output["output_type"] in {"display_data", "execute_result"}
        for encoded in re.findall(
            r'src="data:image/[a-z]+;base64,([^"]+)"', output.get("data", {}).get("text/html", "")
        )
    ]
