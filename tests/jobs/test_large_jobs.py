"""Large jobs (issue 17) against the stand-in Space: prompt files to a folder, the manifest, resume, failures apart.

The command line runs as a user runs it, in its own process (``python -m flux_widget --prompts``);
what the Space saw comes from its journal. Every manifest line must parse and every file it names
must be a complete image whose metadata says the seed the line says.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from support.journal import Journal
from support.kernel import grid_images
from support.picture import parameters

import flux_widget
from flux_widget.jobs._engine import EXIT_FAILED, EXIT_INTERRUPTED, run_jobs
from flux_widget.jobs._prompt_files import jobs_from, parse_prompts

SMALL = ["--width", "256", "--height", "256", "--steps", "1"]


def cli(
    space: str, *arguments: str, stdin: str | None = None, cwd: Path, seconds: float = 300
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FLUX_WIDGET_SPACE": space}
    env.pop("HF_TOKEN", None)
    command = [sys.executable, "-m", "flux_widget", *arguments]
    return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=seconds, env=env, cwd=cwd)


def manifest(folder: Path) -> list[dict[str, Any]]:
    """Every line of the manifest, each parsed (a line that does not parse fails the test)."""
    return [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]


def check_files(folder: Path, lines: list[dict[str, Any]]) -> None:
    """Each done line names a complete image whose own metadata has the line's prompt and seed."""
    for line in lines:
        if line["status"] != "done":
            continue
        with Image.open(folder / line["file"]) as picture:
            picture.load()  # a truncated file fails here
            found = parameters(picture)
        assert (found["prompt"], found["seed"]) == (line["prompt"], str(line["seed"]))


def test_a_prompt_file_makes_a_folder_with_a_manifest_and_keeps_failures_apart(space: str, tmp_path: Path) -> None:
    (tmp_path / "prompts.txt").write_text(
        "# a comment line\n\na red fox\na blue owl [crash]\n  a green cat  \n# another\na red fox\n"
    )
    done = cli(space, "--prompts", "prompts.txt", "--out", "images", "--seed", "10", *SMALL, cwd=tmp_path)
    assert done.returncode == EXIT_FAILED, done.stderr
    lines = manifest(tmp_path / "images")
    ordered = sorted(lines, key=lambda line: line["line"])
    assert [(line["prompt"], line["seed"], line["status"]) for line in ordered] == [
        ("a red fox", 10, "done"),
        ("a blue owl [crash]", 11, "failed"),
        ("a green cat", 12, "done"),
        ("a red fox", 13, "done"),  # the same prompt again: its own image, its own seed
    ]
    failed = next(line for line in lines if line["status"] == "failed")
    assert failed["file"] == "" and failed["error"]
    assert {line["backend"] for line in lines} == {"space"} and all(line["seconds"] >= 0 for line in lines)
    assert all((line["width"], line["height"], line["steps"]) == (256, 256, 1) for line in lines)
    check_files(tmp_path / "images", lines)
    assert sorted(path.name for path in (tmp_path / "images").iterdir()) == sorted(
        [line["file"] for line in lines if line["file"]] + [".flux-job.lock", "manifest.jsonl"]
    )  # no temporary file left; the lock file stays, released (see test_job_folders)
    assert "3 done, 1 failed, 0 skipped" in done.stderr and "images a minute" in done.stderr
    # Issue 29: the failure is said as it happens (before the summary), and how to go on after it.
    said = done.stderr.splitlines()
    failure = next(number for number, text in enumerate(said) if text.startswith("failed: line 4: "))
    summary = next(number for number, text in enumerate(said) if "3 done, 1 failed" in text)
    assert failure < summary and said[summary + 1].startswith("Run the same command again")


def test_running_again_redoes_only_what_failed(space: str, journal: Journal, tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("resume one\nresume two [quota-for=3]\nresume three\n")
    first = cli(space, "--prompts", str(prompts), "--out", "out", "--seed", "20", "--retries", "0", *SMALL,
                cwd=tmp_path)  # fmt: skip
    assert first.returncode == EXIT_FAILED, first.stderr  # the quota is out for "two", and no retries
    files = {path.name: path.stat().st_mtime_ns for path in (tmp_path / "out").glob("*.webp")}
    assert len(files) == 2
    joins_before = len(journal.joins("resume "))
    prompts.write_text("# one line added\nresume one\nresume two [quota-for=3]\nresume three\nresume four\n")
    [seen] = [row["t"] for row in journal.records() if row["kind"] == "start" and "resume two" in row["prompt"]]
    time.sleep(max(0.0, seen + 3.3 - time.time()))  # the quota is back 3 s after the Space first saw the prompt
    second = cli(space, "--prompts", str(prompts), "--out", "out", "--seed", "20", *SMALL, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert sorted(join["prompt"] for join in journal.joins("resume ")[joins_before:]) == [
        "resume four", "resume two [quota-for=3]",
    ]  # fmt: skip  # two at a time: either may join first
    assert {name: mtime for name, mtime in ((p.name, p.stat().st_mtime_ns) for p in (tmp_path / "out").glob("*.webp"))
            if name in files} == files  # fmt: skip  # what was done is untouched
    assert "2 done, 0 failed, 2 skipped" in second.stderr
    lines = manifest(tmp_path / "out")
    latest = {line["prompt"]: line for line in lines}
    names = ("one", "two [quota-for=3]", "three", "four")
    assert [latest[f"resume {name}"]["seed"] for name in names] == [20, 21, 22, 23]
    check_files(tmp_path / "out", list(latest.values()))
    third = cli(space, "--prompts", str(prompts), "--out", "out", "--seed", "20", *SMALL, cwd=tmp_path)
    assert "0 done, 0 failed, 4 skipped" in third.stderr and len(journal.joins("resume ")) == joins_before + 2


def test_json_lines_override_the_command_line_and_stdin_works(space: str, tmp_path: Path) -> None:
    text = "\n".join(
        [
            json.dumps({"prompt": "a tall tower", "width": 256, "height": 512, "seed": 5}),
            json.dumps({"prompt": "two small boats", "count": 2}),
            "a plain line too",
        ]
    )
    done = cli(space, "--prompts", "-", "--out", "o", "--seed", "100", *SMALL, stdin=text, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = sorted(manifest(tmp_path / "o"), key=lambda line: (line["line"], line["seed"]))
    assert [(line["prompt"], line["seed"], line["width"], line["height"]) for line in lines] == [
        ("a tall tower", 5, 256, 512),
        ("two small boats", 100, 256, 256),
        ("two small boats", 101, 256, 256),
        ("a plain line too", 102, 256, 256),
    ]
    check_files(tmp_path / "o", lines)


def test_a_bad_line_is_named_before_anything_is_sent(space: str, tmp_path: Path) -> None:
    done = cli(space, "--prompts", "-", "--out", "o", stdin='a fox\n{"prompt": "x", "colour": 3}\n', cwd=tmp_path)
    assert done.returncode == 2 and "line 2 has fields this tool does not know: colour" in done.stderr
    assert not (tmp_path / "o").exists()


def test_a_quota_error_waits_the_spaces_time_then_retries(space: str, tmp_path: Path) -> None:
    began = time.monotonic()
    # A wait of its own (30 s) instead of the Space's would time out here, at 20 s.
    done = cli(space, "--prompts", "-", "--out", "q", "--seed", "1", *SMALL, stdin="wait for me [quota-for=2]\n",
               cwd=tmp_path, seconds=20)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert 2 <= time.monotonic() - began < 12  # it waited the 0:00:02 the Space named, not its own 30 s
    [line] = manifest(tmp_path / "q")
    assert line["status"] == "done"
    no_retries = cli(space, "--prompts", "-", "--out", "r", "--retries", "0", *SMALL, stdin="never [quota]\n",
                     cwd=tmp_path)  # fmt: skip
    assert no_retries.returncode == EXIT_FAILED and "quota" in manifest(tmp_path / "r")[0]["error"]


def interrupted(
    space: str, journal: Journal, cwd: Path, prompts: str, marker: str, options: list[str]
) -> tuple[int, str]:
    """Run a prompt file from standard input, press Ctrl-C once the Space starts ``marker``; exit status, stderr."""
    env = {**os.environ, "FLUX_WIDGET_SPACE": space}
    command = [sys.executable, "-m", "flux_widget", "--prompts", "-", *options]
    running = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
    assert running.stdin is not None and running.stderr is not None
    running.stdin.write(prompts)
    running.stdin.close()
    deadline = time.monotonic() + 60
    while not [row for row in journal.records() if row["kind"] == "start" and marker in row["prompt"]]:
        assert time.monotonic() < deadline and running.poll() is None
        time.sleep(0.05)
    running.send_signal(signal.SIGINT)
    running.wait(timeout=60)
    return running.returncode, running.stderr.read()


def test_ctrl_c_frees_the_space_at_once_and_keeps_the_manifest_whole(
    space: str, journal: Journal, tmp_path: Path
) -> None:
    prompts = "".join(f"interrupted {n} [slow]\n" for n in range(6))
    options = ["--out", "c", "--seed", "1", *SMALL[:4], "--steps", "8", "--concurrency", "1"]
    returncode, stderr = interrupted(space, journal, tmp_path, prompts, "interrupted 1", options)
    assert returncode == EXIT_INTERRUPTED, stderr
    assert journal.wait_for_cancels("interrupted 1 [slow]", 1), "the running job was not cancelled on the Space"
    lines = manifest(tmp_path / "c")  # every line parses
    assert [line["prompt"] for line in lines] == ["interrupted 0 [slow]"] and "interrupted" in stderr
    check_files(tmp_path / "c", lines)
    began = time.monotonic()
    after = flux_widget.generate("right after", space=space, width=256, height=256, steps=1)
    assert after.image_bytes and time.monotonic() - began < 4  # no cancelled job still holds the Space


def test_run_batch_from_python_reports_and_resumes(space: str, tmp_path: Path) -> None:
    prompts = ["py one", {"prompt": "py two", "seed": 9}, "py three [crash]"]
    report = flux_widget.run_batch(prompts, tmp_path / "py", space=space, seed=3, width=256, height=256, steps=1,
                                   progress=False)  # fmt: skip
    assert (report.done, report.failed, report.skipped, report.exit_code) == (2, 1, 0, EXIT_FAILED)
    assert "line 3" in report.errors[0]
    again = flux_widget.run_batch(prompts[:2], tmp_path / "py", space=space, seed=3, width=256, height=256, steps=1,
                                  progress=False)  # fmt: skip
    assert (again.done, again.failed, again.skipped, again.exit_code) == (0, 0, 2, 0)


def test_seeds_follow_the_file_order_and_a_lines_own_seed() -> None:
    lines = parse_prompts(["a", '{"prompt": "b", "seed": 50, "count": 2}', "c", "a"])
    jobs = jobs_from(lines, seed=7, count=1)
    assert [(job.request.prompt, job.request.seed, job.occurrence) for job in jobs] == [
        ("a", 7, 0), ("b", 50, 0), ("b", 51, 0), ("c", 8, 0), ("a", 9, 1),
    ]  # fmt: skip
    assert len({job.key for job in jobs}) == 5
    assert all(job.request.randomize_seed for job in jobs_from(parse_prompts(["x", "y"])))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "line 1 is not valid JSON"),
        ('{"seed": 3}', 'line 1 must be an object with a "prompt" string'),
        ('{"prompt": "x", "count": 99}', "line 1: count must be a whole number of images from 1 to 8"),
        ('{"prompt": "x", "seed": -1}', "line 1: seed must be between 0 and 2147483647"),
    ],
)
def test_bad_lines_say_which_and_why(text: str, message: str) -> None:
    with pytest.raises(flux_widget.InvalidRequestError, match=message):
        jobs_from(parse_prompts([text]))


def test_a_line_a_crash_cut_short_is_dropped_and_made_again(tmp_path: Path) -> None:
    from flux_widget.folders._manifest import Manifest, ManifestLine

    folder = tmp_path / "m"
    whole = Manifest(folder)
    whole.write_file("a.png", b"png")
    whole.record(ManifestLine("a", "done", file="a.png"))
    with open(folder / "manifest.jsonl", "ab") as file:
        file.write(b'{"key": "b", "status": "do')  # the crash
    reopened = Manifest(folder)
    assert reopened.is_done("a") and not reopened.is_done("b")
    assert (folder / "manifest.jsonl").read_bytes().endswith(b"\n")
    (folder / "a.png").unlink()
    assert not Manifest(folder).is_done("a")  # done, but its file is gone: made again


def test_in_a_notebook_a_progress_bar_and_the_latest_image_show(in_kernel: Any) -> None:
    _, cell = in_kernel(
        "import flux_widget\n"
        "report = flux_widget.run_batch(['nb one', 'nb two'], 'nb-out', seed=4, width=256, height=256, steps=1)\n"
        "print(report)"
    )
    kinds = [kind for output in cell for kind in output.get("data", {})]
    assert "application/vnd.jupyter.widget-view+json" in kinds  # tqdm's bar, as a widget
    [shown] = grid_images(cell)  # one display of the latest image, updated in place: JPEG, shown everywhere
    assert shown.format == "JPEG" and shown.size == (256, 256) and parameters(shown)["prompt"] in {"nb one", "nb two"}
    [html] = [
        output["data"]["text/html"] for output in cell if "<figcaption" in output.get("data", {}).get("text/html", "")
    ]
    assert f"{parameters(shown)['prompt']} · seed {parameters(shown)['seed']} · 0000" in html  # its caption
    assert "2 done, 0 failed, 0 skipped" in "".join(output.get("text", "") for output in cell)


def test_the_cli_says_its_version() -> None:
    done = subprocess.run([sys.executable, "-m", "flux_widget", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == f"flux-widget {flux_widget.__version__}"
    helped = subprocess.run([sys.executable, "-m", "flux_widget", "--help"], capture_output=True, text=True)
    assert f"flux-widget {flux_widget.__version__}:" in helped.stdout and "--prompts FILE" in helped.stdout


FIXTURE = Path(__file__).parent / "fixtures"


def test_a_manifest_written_before_lines_had_a_version_still_resumes(
    space: str, journal: Journal, tmp_path: Path
) -> None:
    # fixtures/manifest-v0 is the folder the command line wrote before manifest lines had a version
    # (`--prompts manifest-v0-prompts.jsonl --out … --seed 1000 --width 256 --height 256`).
    shutil.copytree(FIXTURE / "manifest-v0", tmp_path / "out")
    prompts = tmp_path / "prompts.jsonl"
    shutil.copy(FIXTURE / "manifest-v0-prompts.jsonl", prompts)
    old = (tmp_path / "out" / "manifest.jsonl").read_text()
    assert '"version"' not in old
    asked = {"a red fox in the snow", "a blue owl", "a paper boat", "a new moon over the sea"}

    def joins() -> list[str]:
        return [row["prompt"] for row in journal.records() if row["kind"] == "join" and row["prompt"] in asked]

    before = joins()
    arguments = ("--prompts", str(prompts), "--out", "out", "--seed", "1000", "--width", "256", "--height", "256")
    again = cli(space, *arguments, cwd=tmp_path)
    assert again.returncode == 0 and "0 done, 0 failed, 4 skipped" in again.stderr, again.stderr
    assert joins() == before  # nothing made again
    prompts.write_text(prompts.read_text() + "a new moon over the sea\n")
    third = cli(space, *arguments, cwd=tmp_path)
    assert third.returncode == 0 and "1 done, 0 failed, 4 skipped" in third.stderr, third.stderr
    assert joins() == [*before, "a new moon over the sea"]
    assert (tmp_path / "out" / "manifest.jsonl").read_text().startswith(old)  # the old lines stay as they were
    [new] = manifest(tmp_path / "out")[4:]
    assert (new["version"], new["prompt"], new["seed"], new["status"]) == (1, "a new moon over the sea", 1003, "done")
    check_files(tmp_path / "out", manifest(tmp_path / "out"))


@pytest.mark.parametrize(("prompt", "kind"), [(None, "NoneType"), (5, "int"), (b"a fox", "bytes")])
def test_run_batch_refuses_a_prompt_that_is_not_text_before_anything_is_sent(
    space: str, tmp_path: Path, prompt: object, kind: str
) -> None:
    with pytest.raises(flux_widget.InvalidRequestError, match=f"line 2 must be a prompt .text. or a dict, not {kind}"):
        flux_widget.run_batch(["a fine prompt", prompt], tmp_path / "out", space=space, progress=False)  # type: ignore[list-item]
    assert not (tmp_path / "out").exists()  # refused before the folder was made, let alone a job sent


def test_retry_waits_stay_bounded_however_many_tries() -> None:
    from flux_widget.errors import QuotaExceededError, ServiceUnavailableError
    from flux_widget.jobs._engine import MAX_QUOTA_WAIT, retry_wait

    assert retry_wait(QuotaExceededError("quota", retry_after=None), 10**6) == MAX_QUOTA_WAIT
    assert retry_wait(QuotaExceededError("quota", retry_after=5 * 3600.0), 0) == MAX_QUOTA_WAIT == 3600
    assert retry_wait(ServiceUnavailableError("asleep"), 10**6) == 120.0
    assert retry_wait(ServiceUnavailableError("asleep"), 1) == 4.0


def test_a_done_line_whose_file_leaves_the_folder_is_not_trusted(tmp_path: Path) -> None:
    from flux_widget.folders._manifest import Manifest, ManifestLine

    folder, outside = tmp_path / "m", tmp_path / "outside.png"
    outside.write_bytes(b"png")
    manifest = Manifest(folder)
    manifest.record(ManifestLine("a", "done", file="../outside.png"))
    manifest.record(ManifestLine("b", "done", file=str(outside)))
    manifest.write_file("ok.png", b"png")
    manifest.record(ManifestLine("c", "done", file="ok.png"))
    with pytest.warns(UserWarning, match=r"line\(s\) 1, 2 name a file outside the folder"):
        reopened = Manifest(folder)
    assert not reopened.is_done("a") and not reopened.is_done("b") and reopened.is_done("c")


def test_a_prompt_with_line_separators_reads_back_as_written(space: str, journal: Journal, tmp_path: Path) -> None:
    prompt = "separators one\u2028two\u0085three\u2029four"
    (tmp_path / "prompts.jsonl").write_text(json.dumps({"prompt": prompt}) + "\n")
    arguments = ("--prompts", "prompts.jsonl", "--out", "out", "--seed", "5", *SMALL)
    first = cli(space, *arguments, cwd=tmp_path)
    assert first.returncode == 0 and "1 done" in first.stderr, first.stderr
    written = (tmp_path / "out" / "manifest.jsonl").read_text()
    assert "\u2028" in written  # written as it is, not escaped
    again = cli(space, *arguments, cwd=tmp_path)
    assert again.returncode == 0 and "0 done, 0 failed, 1 skipped" in again.stderr, again.stderr
    assert len(journal.joins("separators one")) == 1  # made once
    assert (tmp_path / "out" / "manifest.jsonl").read_text() == written  # its line was read: nothing to record


def test_a_random_seed_job_records_each_images_real_seed(space: str, tmp_path: Path) -> None:
    done = cli(space, "--prompts", "-", "--out", "r", "-n", "3", *SMALL, stdin="a random fox\n", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = manifest(tmp_path / "r")
    assert len({line["seed"] for line in lines}) == 3 and all(isinstance(line["seed"], int) for line in lines)
    check_files(tmp_path / "r", lines)  # each file's own metadata holds its line's seed


@pytest.mark.anyio
async def test_a_sleeping_space_is_tried_again_after_a_backoff(bad_space: tuple[str, Any], tmp_path: Path) -> None:
    jobs = jobs_from(parse_prompts(["asleep"]))
    async with flux_widget.FluxClient(f"{bad_space[0]}/sleeping", retries=0) as client:  # its own waits off
        began = time.monotonic()
        report = await run_jobs(client, jobs, tmp_path, backend_name="space", retries=2)
    assert report.failed == 1 and "sleeping (HTTP 503)" in report.errors[0]
    assert time.monotonic() - began >= 2 + 4  # tried three times: 2 s, then 4 s after a failure


def test_ctrl_c_after_a_failed_image_still_exits_130(space: str, journal: Journal, tmp_path: Path) -> None:
    prompts = "failed first [crash]\nthen stopped [slow]\n"
    options = ["--out", "f", *SMALL, "--concurrency", "1"]
    returncode, stderr = interrupted(space, journal, tmp_path, prompts, "then stopped", options)
    assert returncode == EXIT_INTERRUPTED and "0 done, 1 failed" in stderr, stderr


def test_ray_with_a_space_is_a_usage_error_exit_2(space: str, tmp_path: Path) -> None:
    done = cli(space, "--prompts", "-", "--out", "o", "--engine", "ray", stdin="a fox\n", cwd=tmp_path)
    assert done.returncode == 2 and "engine='ray' runs the local backend" in done.stderr
    assert not (tmp_path / "o").exists()
