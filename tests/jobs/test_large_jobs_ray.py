"""Large local-backend jobs on a local Ray cluster (``ray.init(num_cpus=2)``) with the tiny pipeline, on the CPU.

The same job run in-process and on Ray must give the same pixels per (prompt, seed) and the same
manifest; a resumed Ray job makes only what is missing; the command line's ``--engine ray`` works.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import flux_widget

pytest.importorskip("diffusers")  # the local extra; in CI a skip fails (conftest.py)
ray = pytest.importorskip("ray")

PROMPTS = ["a red fox", "a blue owl", {"prompt": "a cat in a hat", "count": 2}, "the slow night", "a red fox"]
OPTIONS: dict[str, Any] = {"backend": "local", "device": "cpu", "width": 64, "height": 64, "steps": 2, "seed": 40}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from support.tiny_pipelines import save_tiny_flux

    return save_tiny_flux(tmp_path_factory.mktemp("tiny-flux"))


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def lines(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]


def pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(path.read_bytes())).convert("RGB"))


def same_fields(entry: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(entry[name] for name in ("key", "prompt", "seed", "width", "height", "steps", "status", "file"))


def test_ray_gives_the_in_process_pixels_and_manifest(tiny: Path, cluster: None, tmp_path: Path) -> None:
    here = flux_widget.run_batch(PROMPTS, tmp_path / "here", model=str(tiny), progress=False, **OPTIONS)
    there = flux_widget.run_batch(
        PROMPTS, tmp_path / "ray", model=str(tiny), engine="ray", workers=2, progress=False, **OPTIONS
    )
    assert (here.done, there.done, there.failed, there.exit_code) == (6, 6, 0, 0)
    ours = sorted(lines(tmp_path / "here"), key=lambda entry: entry["key"])
    theirs = sorted(lines(tmp_path / "ray"), key=lambda entry: entry["key"])
    assert [same_fields(entry) for entry in ours] == [same_fields(entry) for entry in theirs]
    assert sorted(entry["seed"] for entry in theirs) == list(range(40, 46))
    for entry in ours:
        assert np.array_equal(pixels(tmp_path / "here" / entry["file"]), pixels(tmp_path / "ray" / entry["file"]))


def test_a_resumed_ray_job_makes_only_what_is_missing(tiny: Path, cluster: None, tmp_path: Path) -> None:
    out = tmp_path / "resume"
    first = flux_widget.run_batch(PROMPTS[:2], out, model=str(tiny), engine="ray", progress=False, **OPTIONS)
    made = {path.name: path.stat().st_mtime_ns for path in out.glob("*.png")}
    (out / sorted(made)[0]).unlink()  # lost: made again
    second = flux_widget.run_batch(PROMPTS, out, model=str(tiny), engine="ray", progress=False, **OPTIONS)
    assert (first.done, second.done, second.skipped) == (2, 5, 1)
    assert (out / sorted(made)[1]).stat().st_mtime_ns == made[sorted(made)[1]]  # the kept one untouched
    latest = {entry["key"]: entry for entry in lines(out)}
    assert len(latest) == 6 and all(entry["status"] == "done" for entry in latest.values())


def test_remote_backends_are_told_ray_adds_nothing(cluster: None, tmp_path: Path) -> None:
    with pytest.raises(flux_widget.InvalidRequestError, match="engine='ray' runs the local backend"):
        flux_widget.run_batch(["a fox"], tmp_path, engine="ray", backend="space", progress=False)


def test_the_cli_runs_a_job_on_ray(tiny: Path, tmp_path: Path) -> None:
    (tmp_path / "prompts.txt").write_text("a red fox\na blue owl\n")
    options = ["--device", "cpu", "--width", "64", "--height", "64", "--steps", "2", "--seed", "40"]
    command = [sys.executable, "-m", "flux_widget", "--prompts", "prompts.txt", "--out", "o", "--backend", "local",
               "--model", str(tiny), "--engine", "ray", "--workers", "2", *options]  # fmt: skip
    env = {**os.environ, "RAY_ADDRESS": ""}  # no cluster to join: ray.init() starts one here
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert "2 done, 0 failed, 0 skipped" in done.stderr
    assert sorted(entry["seed"] for entry in lines(tmp_path / "o")) == [40, 41]


def test_more_workers_than_the_cluster_holds_run_with_what_fits(tiny: Path, cluster: None, tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="the Ray cluster has 2 CPUs; running 2"):
        report = flux_widget.run_batch(
            PROMPTS[:3], tmp_path / "w", model=str(tiny), engine="ray", workers=3, progress=False, **OPTIONS
        )
    assert (report.done, report.failed) == (4, 0)


def test_a_killed_actor_is_started_again_and_every_image_is_made_once_by_the_workers(
    tiny: Path, cluster: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 30: the workers write their own images (the driver cannot write one here), and an actor
    killed in the middle of a 40-image job is started again; nothing is lost or made twice."""
    import threading
    import time

    from flux_widget.folders._manifest import Manifest

    def no_image_here(self: Manifest, name: str, data: bytes) -> None:
        raise AssertionError(f"the driver was given {name}'s bytes to write")

    monkeypatch.setattr(Manifest, "write_file", no_image_here)
    out = tmp_path / "killed"
    killed: list[object] = []

    def kill_one_actor() -> None:
        deadline = time.monotonic() + 120
        try:
            while time.monotonic() < deadline:
                if (out / "manifest.jsonl").exists() and len((out / "manifest.jsonl").read_text().splitlines()) >= 4:
                    name = f"flux-painter-{os.getpid()}-0"
                    ray.kill(ray.get_actor(name), no_restart=False)  # as an out-of-memory kill would
                    killed.append(len((out / "manifest.jsonl").read_text().splitlines()))
                    return
                time.sleep(0.005)
        except Exception as exc:  # said in the assertion below
            killed.append(exc)

    killer = threading.Thread(target=kill_one_actor)
    killer.start()
    prompts = [f"a numbered fox {number}" for number in range(40)]
    slower = {**OPTIONS, "steps": 6}  # each image long enough that both actors are busy when one is killed
    report = flux_widget.run_batch(prompts, out, model=str(tiny), engine="ray", workers=2, progress=False, **slower)
    killer.join()
    assert [type(kill) for kill in killed] == [int] and killed[0] < 40, killed  # killed in the middle
    assert report.restarts == 1 and (report.done, report.failed) == (40, 0), report
    assert "1 worker restart" in str(report)
    done = lines(out)
    assert len(done) == 40 and all(entry["status"] == "done" for entry in done)
    assert sorted(entry["prompt"] for entry in done) == sorted(prompts)  # each once
    assert sorted(path.name for path in out.glob("*.png")) == sorted(entry["file"] for entry in done)
