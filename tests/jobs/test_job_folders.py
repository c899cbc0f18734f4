"""A large job's folder under hostile conditions (issue 27): links, full and read-only disks, kills, SIGTERM.

Full and read-only disks are real tmpfs mounts (the tests run as root, as CI does); kills are real
signals to a real command line; the Space is the stand-in, whose journal says what it was sent.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from support.journal import Journal

import flux_widget
from flux_widget import FolderError, Generation, InvalidRequestError
from flux_widget.folders._manifest import Manifest, ManifestLine
from flux_widget.jobs._engine import EXIT_FAILED, run_jobs
from flux_widget.jobs._prompt_files import jobs_from, parse_prompts, read_lines

SMALL = ["--width", "256", "--height", "256", "--steps", "1", "--seed", "1", "--concurrency", "1"]


def command(space: str, out: str, *arguments: str) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "FLUX_WIDGET_SPACE": space}
    env.pop("HF_TOKEN", None)
    return [sys.executable, "-m", "flux_widget", "--prompts", "-", "--out", out, *SMALL, *arguments], env


def cli(space: str, out: str, prompts: str, cwd: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    argv, env = command(space, out, *arguments)
    return subprocess.run(argv, input=prompts, capture_output=True, text=True, timeout=300, env=env, cwd=cwd)


def started(space: str, out: str, prompts: str, cwd: Path) -> subprocess.Popen[str]:
    argv, env = command(space, out)
    running = subprocess.Popen(argv, stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
    assert running.stdin is not None
    running.stdin.write(prompts)
    running.stdin.close()
    return running


def wait_for_start(journal: Journal, prompt: str, running: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while not [row for row in journal.records() if row["kind"] == "start" and row["prompt"] == prompt]:
        assert time.monotonic() < deadline and running.poll() is None, "the job never started"
        time.sleep(0.05)


def lines(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (folder / "manifest.jsonl").read_text().split("\n")[:-1]]


def sent(journal: Journal, marker: str) -> list[dict[str, Any]]:
    return [row for row in journal.records() if marker in str(row.get("prompt", ""))]


def fill(folder: Path) -> Path:
    """Fill the file system of ``folder`` to the last byte; the filler file."""
    filler = folder / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for chunk in (65536, 4096, 1):
            while True:
                try:
                    os.write(descriptor, bytes(chunk))
                except OSError:
                    break
    finally:
        os.close(descriptor)
    return filler


@pytest.mark.parametrize("case", ["a file", "read-only", "full", "a link as manifest"])
def test_a_folder_that_cannot_be_used_is_one_line_and_exit_2_before_anything_is_sent(
    space: str, journal: Journal, tmpfs: Callable[..., Path], tmp_path: Path, case: str
) -> None:
    marker = f"unusable folder {case}"
    elsewhere = tmp_path / "precious.txt"
    elsewhere.write_text("keep me\n")
    if case == "a file":
        out, why = tmp_path / "out", "is a file, not a folder"
        out.write_text("a file")
    elif case == "read-only":
        out, why = tmpfs(64, read_only=True) / "images", "Read-only file system"
    elif case == "full":
        out, why = tmpfs(64), "No space left on device"
        fill(out)
    else:
        out, why = tmp_path / "linked", "is a link"
        out.mkdir()
        (out / "manifest.jsonl").symlink_to(elsewhere)
    done = cli(space, str(out), f"{marker}\n", tmp_path)
    assert done.returncode == 2, done.stderr
    assert why in done.stderr and done.stderr.startswith("error: ") and done.stderr.count("\n") == 1
    assert not sent(journal, marker)
    assert elsewhere.read_text() == "keep me\n"  # a link's target is never written


def test_run_batch_refuses_a_file_and_an_empty_name_and_expands_the_home_folder(
    space: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(FolderError, match="a-file is a file, not a folder"):
        flux_widget.run_batch(["never sent"], tmp_path / "a-file", space=space, progress=False)
    with pytest.raises(FolderError, match="out is empty"):
        flux_widget.run_batch(["never sent"], "", space=space, progress=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    report = flux_widget.run_batch(["home fox"], "~/images", space=space, width=256, height=256, steps=1,
                                   progress=False)  # fmt: skip
    assert report.done == 1 and (tmp_path / "home" / "images" / "manifest.jsonl").is_file()
    assert not (tmp_path / "~").exists()


def test_a_done_line_whose_image_is_a_link_is_refused(space: str, journal: Journal, tmp_path: Path) -> None:
    out = tmp_path / "o"
    assert cli(space, str(out), "link fox\n", tmp_path).returncode == 0
    [line] = lines(out)
    (out / line["file"]).unlink()
    (out / line["file"]).symlink_to(tmp_path / "elsewhere.png")
    again = cli(space, str(out), "link fox\nlink owl\n", tmp_path)
    assert again.returncode == 2 and "is a link" in again.stderr
    assert not sent(journal, "link owl")


def test_a_short_write_of_a_line_is_undone_and_is_an_error(tmpfs: Callable[..., Path]) -> None:
    folder = tmpfs(256)
    manifest = Manifest(folder)
    manifest.record(ManifestLine("first", "failed", prompt="first"))
    before = (folder / "manifest.jsonl").read_bytes()
    filler = fill(folder)
    long = ManifestLine("second", "failed", prompt="a long prompt " * 500)  # more than the page's room left
    with pytest.raises(FolderError, match=r"could not record an image .*bytes were written.*The run stopped"):
        manifest.record(long)
    assert (folder / "manifest.jsonl").read_bytes() == before  # no half line for the next one to join
    filler.unlink()
    manifest.record(long)
    assert [entry.key for entry in Manifest(folder).lines()] == ["first", "second"]


def test_a_disk_that_fills_during_a_run_stops_it_loudly_and_keeps_what_was_made(
    space: str, journal: Journal, tmpfs: Callable[..., Path]
) -> None:
    out = tmpfs(2048)
    running = started(space, str(out), "filling 0\nfilling 1 [slow]\nfilling 2\n", out.parent)
    wait_for_start(journal, "filling 1 [slow]", running)
    filler = fill(out)
    running.wait(timeout=120)
    assert running.stderr is not None
    stderr = running.stderr.read()
    assert running.returncode == EXIT_FAILED, stderr
    assert "No space left on device" in stderr and "The run stopped" in stderr and "1 done, 1 failed" in stderr
    [first] = lines(out)
    assert first["prompt"] == "filling 0" and Image.open(out / first["file"]).size == (256, 256)
    assert not [path for path in out.iterdir() if path.name.startswith(".partial-")]
    assert not sent(journal, "filling 2")
    filler.unlink()
    resumed = cli(space, str(out), "filling 0\nfilling 1 [slow]\nfilling 2\n", out.parent)
    assert resumed.returncode == 0 and "2 done, 0 failed, 1 skipped" in resumed.stderr


def test_a_killed_run_leaves_nothing_that_the_next_run_makes_twice(
    space: str, journal: Journal, tmp_path: Path
) -> None:
    prompts = "killed 0\nkilled 1 [slow]\nkilled 2\n"
    running = started(space, "o", prompts, tmp_path)
    wait_for_start(journal, "killed 1 [slow]", running)
    # Issue 30: one run per folder; a second stops at once, naming the first, and sends nothing.
    second = cli(space, "o", "a second run\n", tmp_path)
    assert second.returncode == 2 and f"is in use by another run (process {running.pid} on " in second.stderr
    assert len(second.stderr.strip().splitlines()) == 1 and not sent(journal, "a second run")
    running.send_signal(signal.SIGKILL)  # the lock goes with the process: the next run takes it
    running.wait(timeout=60)
    out = tmp_path / "o"
    (out / ".partial-abc123.webp").write_bytes(b"half an image")  # what a kill during a write leaves
    # A kill between an image's rename and its line: the last line lost, the image in place.
    first_name = lines(out)[0]["file"]
    (out / "manifest.jsonl").write_text("")
    resumed = cli(space, "o", prompts, tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "2 done, 0 failed, 1 skipped" in resumed.stderr
    assert len([row for row in sent(journal, "killed 0") if row["kind"] == "start"]) == 1  # adopted, not made again
    names = sorted(path.name for path in out.iterdir() if path.name != ".flux-job.lock")
    assert first_name in names and len(names) == 4  # three images and the manifest: no -2 copy, no partial file
    assert sorted(line["prompt"] for line in lines(out)) == ["killed 0", "killed 1 [slow]", "killed 2"]


def test_sigterm_stops_like_ctrl_c_with_a_summary_and_exit_143(space: str, journal: Journal, tmp_path: Path) -> None:
    running = started(space, "t", "terminated 0\nterminated 1 [slow]\nterminated 2\n", tmp_path)
    wait_for_start(journal, "terminated 1 [slow]", running)
    running.send_signal(signal.SIGTERM)
    running.wait(timeout=60)
    assert running.stderr is not None
    stderr = running.stderr.read()
    assert running.returncode == 143, stderr
    assert "1 done, 0 failed, 0 skipped" in stderr and "stopped (SIGTERM)" in stderr
    assert journal.wait_for_cancels("terminated 1 [slow]", 1), "the running job was not cancelled on the Space"
    assert [line["prompt"] for line in lines(tmp_path / "t")] == ["terminated 0"]


BOM = b"\xef\xbb\xbf"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"a fox\n\xff\xfe an owl\n", "line 2 is not UTF-8 text (byte 1 of the line)"),
        (b"a fox\x00\x01\x02\n", "line 1 holds a NUL byte"),
        (b'{"prompt": "x", "seed": ' + b"9" * 5000 + b"}\n", "line 1 holds a number of 5000 digits"),
        (b'{"prompt": "x", "seed": ' + b"[" * 20_000 + b"]" * 20_000 + b"}\n", "line 1 is nested too deeply"),
        (b'{"prompt": "x", "seed": NaN}\n', "line 1 holds NaN"),
        (b"a fox\n" + b"x" * 1_000_000 + b"\n", "line 2 is longer than 78 KiB; a prompt is at most 10000 characters"),
        (b"y" * 10_001 + b"\n", "line 1: The prompt is 10001 characters long; the most is 10000"),
    ],
)
def test_a_prompt_file_that_is_not_text_or_absurd_is_named_by_its_line(data: bytes, message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message.replace("(", r"\(").replace(")", r"\)")):
        jobs_from(parse_prompts(read_lines(io.BytesIO(data))))


def test_a_byte_order_mark_does_not_hide_a_json_first_line() -> None:
    [job] = jobs_from(parse_prompts(read_lines(io.BytesIO(BOM + b'{"prompt": "an owl", "seed": 5}\r\n'))))
    assert (job.request.prompt, job.request.seed) == ("an owl", 5)


#: Runs the command line and prints its exit status and peak memory (KiB): measured from a small parent,
#: since a child forked from pytest would count pytest's own memory as its peak.
_MEASURED = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], stderr=subprocess.PIPE)
sys.stderr.buffer.write(done.stderr)
print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def test_a_50_mb_line_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    (tmp_path / "huge.txt").write_bytes(b"a fox\n" + b"z" * 50_000_000 + b"\n")
    argv = [sys.executable, "-c", _MEASURED, sys.executable, "-m", "flux_widget", "--prompts", "huge.txt", "--out", "o"]
    done = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    status, peak = map(int, done.stdout.split())
    assert status == 2 and "line 2 is longer than" in done.stderr
    print(f"peak RSS {peak / 1024:.0f} MiB")
    assert peak < 64 * 1024  # KiB: the line was never held (30 MiB here; reading it whole takes 126 MiB)
    assert not (tmp_path / "o").exists()


def png(colour: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (colour, 0, 0)).save(out, format="PNG")
    return out.getvalue()


class _BrokenPipeline:
    """A backend whose pipeline fails with a plain RuntimeError on one prompt, as a CUDA fault does."""

    async def generate(self, request: Any, *, deadline: float | None = None) -> Generation:
        if "boom" in request.prompt:
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        return Generation(request.prompt, request.seed, 32, 32, 1, "", png(200), "image/png", 0.0)


@pytest.mark.anyio
async def test_any_error_of_a_pipeline_fails_that_image_alone(tmp_path: Path) -> None:
    jobs = jobs_from(parse_prompts(["fine one", "boom", "fine two"]), seed=3)
    report = await run_jobs(_BrokenPipeline(), jobs, tmp_path, backend_name="local")  # type: ignore[arg-type]
    assert (report.done, report.failed, report.exit_code) == (2, 1, EXIT_FAILED)
    failed = [line for line in lines(tmp_path) if line["status"] == "failed"]
    assert [line["error"] for line in failed] == ["RuntimeError: CUDA error: an illegal memory access was encountered"]


def test_an_address_is_never_taken_for_a_folder_name(space: str, journal: Journal, tmp_path: Path) -> None:
    """Issue 30: --out s3://bucket/run once wrote a local folder named "s3:" and exited 0. An address is
    written to with fsspec (s3:// against a real S3 server: test_s3_output.py); one whose filesystem is
    not installed is refused with what to install, and file:// is a local folder."""
    done = cli(space, "gs://bucket/run", "never sent\n", tmp_path)
    assert done.returncode == 2 and "gs://bucket/run" in done.stderr and "pip install gcsfs" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not sent(journal, "never sent")
    assert list(tmp_path.iterdir()) == []  # no folder "gs:" or any other
    local = cli(space, f"file://{tmp_path}/run", "a local address\n", tmp_path)
    assert local.returncode == 0 and len(lines(tmp_path / "run")) == 1, local.stderr


def test_ctrl_c_in_a_terminal_leaves_the_summary_and_no_bar_line(space: str, journal: Journal, tmp_path: Path) -> None:
    """Issue 29, defect 17: Ctrl-C in a terminal once left two bar lines above the summary."""
    import fcntl
    import pty
    import struct
    import termios

    (tmp_path / "prompts.txt").write_text("in a terminal 0\nin a terminal 1 [slow]\nin a terminal 2 [slow]\n")
    argv, env = command(space, "o")
    argv[argv.index("-")] = "prompts.txt"
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # 100 columns, as a real one has
    running = subprocess.Popen(argv, stdin=terminal, stdout=terminal, stderr=terminal, env=env, cwd=tmp_path)
    os.close(terminal)
    chunks: list[bytes] = []

    def read() -> None:  # all the terminal shows, while it shows it
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal closed with the process
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    wait_for_start(journal, "in a terminal 1 [slow]", running)
    time.sleep(0.5)  # the bar drawn
    running.send_signal(signal.SIGINT)
    assert running.wait(timeout=60) == 130
    reader.join(timeout=10)
    os.close(controller)
    shown = b"".join(chunks)
    # What a terminal shows: of each line, what its last carriage return left.
    text = shown.decode(errors="replace").replace("\r\n", "\n")  # the terminal's own line ends
    screen = [line.rsplit("\r", 1)[-1].strip() for line in text.split("\n")]
    bars = [line for line in screen if "image/s" in line or "%|" in line]
    assert "image/s]" in text and bars == [], screen  # the bar was drawn, and none stays
    assert any("1 done, 0 failed, 0 skipped" in line and "interrupted" in line for line in screen), screen
