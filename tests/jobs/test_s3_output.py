"""Large jobs written to s3:// (issue 30), against a real S3 API on 127.0.0.1: moto's standalone server.

The command line runs as a user runs it, with the stand-in Space; what is checked is what is at the
address afterwards (the objects, the manifest naming only objects that are there), what the Space
was sent (its journal), and what the run said.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.journal import Journal
from support.servers import free_port, stop, wait_for_http

from flux_widget.folders._lock import LOCK_FILE

SMALL = ["--width", "256", "--height", "256", "--steps", "1", "--seed", "1", "--concurrency", "1"]
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


class S3:
    """moto's S3 server on a port of 127.0.0.1, which can be stopped and started again (empty) on that port."""

    def __init__(self, tmp: Path) -> None:
        self.port, self.tmp = free_port(), tmp
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = open(self.tmp / "moto.log", "ab")
        command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        self.process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **CREDENTIALS}
        )
        wait_for_http(self.url, self.process, seconds=60)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None

    @property
    def env(self) -> dict[str, str]:
        return {**CREDENTIALS, "AWS_ENDPOINT_URL": self.url}

    def filesystem(self) -> Any:
        import s3fs

        return s3fs.S3FileSystem(key="testing", secret="testing", endpoint_url=self.url, skip_instance_cache=True)


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3]:
    server = S3(tmp_path_factory.mktemp("s3"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def bucket(s3: S3, request: pytest.FixtureRequest) -> str:
    """A new bucket of its own for the test."""
    name = request.node.name.replace("_", "-").lower()[:40].strip("-")
    s3.filesystem().mkdir(name)
    return name


def cli(space: str, s3: S3, out: str, prompts: str, cwd: Path, *, wait: bool = True) -> Any:
    env = {**os.environ, **s3.env, "FLUX_WIDGET_SPACE": space}
    env.pop("HF_TOKEN", None)
    argv = [sys.executable, "-m", "flux_widget", "--prompts", "-", "--out", out, *SMALL]
    if wait:
        return subprocess.run(argv, input=prompts, capture_output=True, text=True, timeout=300, env=env, cwd=cwd)
    running = subprocess.Popen(argv, stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
    assert running.stdin is not None
    running.stdin.write(prompts)
    running.stdin.close()
    return running


def at(s3: S3, prefix: str) -> tuple[list[str], list[dict[str, Any]]]:
    """The object names under ``prefix`` and the lines of its manifest."""
    filesystem = s3.filesystem()
    names = sorted(path.rsplit("/", 1)[-1] for path in filesystem.ls(prefix, detail=False))
    manifest = filesystem.cat_file(f"{prefix}/manifest.jsonl").decode() if "manifest.jsonl" in names else ""
    return names, [json.loads(line) for line in manifest.splitlines()]


def starts(journal: Journal, marker: str) -> int:
    return sum(1 for row in journal.records() if row["kind"] == "start" and marker in str(row.get("prompt", "")))


def test_a_job_writes_to_s3_and_running_it_again_makes_nothing_twice(
    space: str, journal: Journal, s3: S3, bucket: str, tmp_path: Path
) -> None:
    prompts = "s3 fox\ns3 owl\ns3 boat\n"
    done = cli(space, s3, f"s3://{bucket}/run1", prompts, tmp_path)
    assert done.returncode == 0, done.stderr
    assert (
        "3 done, 0 failed, 0 skipped" in done.stderr and f"manifest: s3://{bucket}/run1/manifest.jsonl" in done.stderr
    )
    names, manifest = at(s3, f"{bucket}/run1")
    assert sorted(line["file"] for line in manifest) == sorted(name for name in names if name.endswith(".webp"))
    assert len(manifest) == 3 and LOCK_FILE not in names  # the lock object goes with the run
    with s3.filesystem().open(f"{bucket}/run1/{manifest[0]['file']}", "rb") as image:
        assert b"s3 " in image.read()  # its parameters inside
    assert list(tmp_path.iterdir()) == []  # nothing written here: no folder named "s3:"
    # A run killed between two puts of the manifest: its last two images are there, their lines are not.
    first = s3.filesystem().cat_file(f"{bucket}/run1/manifest.jsonl").splitlines(keepends=True)[0]
    s3.filesystem().pipe_file(f"{bucket}/run1/manifest.jsonl", first)
    again = cli(space, s3, f"s3://{bucket}/run1", prompts + "s3 kite\n", tmp_path)
    assert again.returncode == 0 and "1 done, 0 failed, 3 skipped" in again.stderr, again.stderr
    assert [starts(journal, name) for name in ("s3 fox", "s3 owl", "s3 boat", "s3 kite")] == [1, 1, 1, 1]
    assert len(at(s3, f"{bucket}/run1")[1]) == 4


def test_a_second_run_on_an_address_stops_at_once_and_a_dead_runs_lock_is_taken_over(
    space: str, journal: Journal, s3: S3, bucket: str, tmp_path: Path
) -> None:
    lock = f"{bucket}/run/{LOCK_FILE}"
    holder = {"pid": os.getpid(), "host": socket.gethostname(), "since": 0}  # a live run of this host
    s3.filesystem().pipe_file(lock, json.dumps(holder).encode())
    refused = cli(space, s3, f"s3://{bucket}/run", "locked out\n", tmp_path)
    assert refused.returncode == 2 and f"is in use by another run (process {os.getpid()} on " in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and starts(journal, "locked out") == 0
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    holder["pid"] = int(gone.stdout)  # a run of this host that was killed: its lock is stale
    s3.filesystem().pipe_file(lock, json.dumps(holder).encode())
    taken = cli(space, s3, f"s3://{bucket}/run", "after a kill\n", tmp_path)
    assert taken.returncode == 0 and starts(journal, "after a kill") == 1, taken.stderr


def test_ctrl_c_and_a_lost_store_never_leave_a_manifest_line_without_its_object(
    space: str, journal: Journal, s3: S3, bucket: str, tmp_path: Path
) -> None:
    import time

    prompts = "lost 0\nlost 1 [slow]\nlost 2 [slow]\nlost 3\n"
    address = f"s3://{bucket}/lost"
    running = cli(space, s3, address, prompts, tmp_path, wait=False)
    deadline = time.monotonic() + 60
    while starts(journal, "lost 1") == 0:
        assert time.monotonic() < deadline and running.poll() is None, "the job never started"
        time.sleep(0.05)
    running.send_signal(signal.SIGINT)  # Ctrl-C: the manifest is put at the address before it exits
    assert running.wait(timeout=60) == 130
    names, manifest = at(s3, f"{bucket}/lost")
    assert [line["prompt"] for line in manifest] == ["lost 0"] and manifest[0]["file"] in names

    # The store goes away in the middle of a run: the run stops, saying why, and records nothing it did not put.
    running = cli(space, s3, address, prompts, tmp_path, wait=False)
    while starts(journal, "lost 1") < 2:
        assert time.monotonic() < deadline + 60 and running.poll() is None, "the job never started again"
        time.sleep(0.05)
    s3.stop()
    assert running.wait(timeout=120) not in (0, 130)
    assert running.stderr is not None and "s3://" in running.stderr.read()
    s3.start()  # an empty store again, on the same port
    s3.filesystem().mkdir(bucket)
    resumed = cli(space, s3, address, prompts, tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    names, manifest = at(s3, f"{bucket}/lost")
    assert sorted(line["prompt"] for line in manifest) == ["lost 0", "lost 1 [slow]", "lost 2 [slow]", "lost 3"]
    assert all(line["file"] in names for line in manifest)
