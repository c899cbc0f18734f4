"""The command line checks every file it will write before it spends a generation (issue 18)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support.journal import Journal


def cli(*args: str, cwd: Path, space: str) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "flux_widget",
        *args,
        "--space",
        space,
        "--width",
        "256",
        "--height",
        "256",
        "--steps",
        "1",
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=cwd)


@pytest.mark.parametrize(
    ("case", "output", "says"),
    [
        ("missing folder", "nowhere/out.png", "the folder nowhere does not exist"),
        ("onto a folder", "a-folder", "a-folder is a folder"),
        ("an existing file", "kept.png", "kept.png exists: choose another name with -o, or pass --overwrite"),
        ("a numbered file in the way", "batch.png", "batch-2.png is a folder"),
    ],
)
def test_a_target_that_cannot_be_written_is_refused_before_anything_is_sent(
    tmp_path: Path, space: str, journal: Journal, case: str, output: str, says: str
) -> None:
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "batch-2.png").mkdir()
    (tmp_path / "kept.png").write_bytes(b"someone's file")
    marker = f"target check: {case}"
    result = cli(marker, "-o", output, *(["-n", "3"] if output == "batch.png" else []), cwd=tmp_path, space=space)
    assert result.returncode == 2 and says in result.stderr, result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]  # one line: no usage block (issue 29)
    assert journal.joins(marker) == []  # nothing reached the Space: no quota spent
    assert (tmp_path / "kept.png").read_bytes() == b"someone's file"
    assert not (tmp_path / "batch-1.png").exists()


def test_overwrite_replaces_and_a_second_default_run_refuses(tmp_path: Path, space: str) -> None:
    (tmp_path / "kept.png").write_bytes(b"old")
    replaced = cli("overwrite me", "-o", "kept.png", "--overwrite", cwd=tmp_path, space=space)
    assert replaced.returncode == 0 and (tmp_path / "kept.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    first = cli("default name", cwd=tmp_path, space=space)
    again = cli("default name", cwd=tmp_path, space=space)
    assert first.returncode == 0 and (tmp_path / "flux.webp").exists()
    assert again.returncode == 2 and "flux.webp exists" in again.stderr
