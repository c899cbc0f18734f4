"""README's promises, each next to code mutations that break it and the tests that must then fail.

Run ``python tests/promises.py`` (``.ci/run`` does): every mutation is applied to a fresh copy of the
package, the tests tied to its promise run against that copy, and each must fail. A mutation whose
code is no longer there (the code moved) fails the check loudly, so the table is kept true.
``--only NAME`` runs the promises whose name contains NAME; ``--list`` prints the table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutation:
    """Replace ``old`` (which must occur exactly once) by ``new`` in ``path``, relative to the repository."""

    path: str
    old: str
    new: str


@dataclass(frozen=True)
class Promise:
    """What README promises, the mutations that break it, and the tests (pytest node ids) that must notice."""

    name: str
    promise: str
    mutations: tuple[Mutation, ...]
    tests: tuple[str, ...]


PROMISES: tuple[Promise, ...] = (
    Promise(
        "redaction",
        "the token is never in an error message",
        (
            Mutation(
                "flux_widget/_redaction.py",
                "return text.replace(secret, PLACEHOLDER)",
                "return text",
            ),
        ),
        ("tests/space/test_hostile_spaces.py::test_token_echoed_by_the_server_is_redacted_and_the_chain_is_cut",),
    ),
    Promise(
        "token-origin",
        "the token is sent to the Space's own origin and nowhere else",
        (Mutation("flux_widget/backends/space/_http.py", "if origin(request.url) == self._origin:", "if True:"),),
        ("tests/space/test_client.py::test_token_reaches_the_spaces_origin_and_no_other_on_a_real_server",),
    ),
    Promise(
        "cancel",
        "every way of stopping a generation cancels its job on the Space",
        (
            Mutation(
                "flux_widget/backends/space/_client.py",
                "job.cleanup = asyncio.ensure_future(self._cancel_on_space(job))",
                "job.cleanup = asyncio.ensure_future(asyncio.sleep(0))",
            ),
        ),
        (
            "tests/space/test_client.py::test_cancelling_the_task_cancels_the_space_job",
            "tests/space/test_client.py::test_leaving_the_stream_early_cancels_the_job",
        ),
    ),
    Promise(
        "body-caps",
        "an oversized image body is refused at 32 MiB, memory bounded",
        (
            Mutation(
                "flux_widget/backends/space/_http.py",
                'limit=MAX_IMAGE_BYTES, what="image"',
                'limit=2**40, what="image"',
            ),
        ),
        ("tests/space/test_fault_matrix.py::test_bad_image_results_are_refused",),
    ),
    Promise(
        "decompression",
        "compressed bodies are decoded in 64 KiB pieces (a gzip bomb stays small)",
        (
            Mutation(
                "flux_widget/_bodies.py",
                "piece = decompressor.decompress(data, PIECE)",
                "piece = decompressor.decompress(data)",
            ),
        ),
        ("tests/space/test_hostile_spaces.py::test_every_body_is_read_with_bounded_memory",),
    ),
    Promise(
        "event-size",
        "each server-sent event is capped at 1 MiB, however many lines it has",
        (
            Mutation(
                "flux_widget/_bodies.py",
                "            if in_line == 0:\n                in_event = 0",
                "            if True:\n                in_event = 0",
            ),
        ),
        ("tests/space/test_hostile_spaces.py::test_every_body_is_read_with_bounded_memory[many-line-event]",),
    ),
    Promise(
        "history-on-error",
        "every failure in the widget leaves the history untouched",
        (
            Mutation(
                "flux_widget/widget/_widget.py",
                '        except FluxError as exc:\n            self._finish("error", str(exc))',
                "        except FluxError as exc:\n            self.clear_history()\n"
                '            self._finish("error", str(exc))',
            ),
        ),
        ("tests/space/test_fault_matrix.py::test_widget_recovers_from_every_fault_and_keeps_history",),
    ),
    Promise(
        "batch-keeps-arrived",
        "one failing image of a batch keeps the images that arrived",
        (
            Mutation(
                "flux_widget/widget/_widget.py",
                "raise outcome  # leaving the block cancels the rest, on the Space too",
                "for _ in arrived:\n                            self.remove(-1)\n                        raise outcome",
            ),
        ),
        ("tests/entry/test_batch.py::test_one_failing_image_stops_the_batch_and_keeps_what_arrived",),
    ),
    Promise(
        "two-at-a-time",
        "a batch holds at most two places in the Space's queue",
        (Mutation("flux_widget/backends/_count.py", "BATCH_CONCURRENCY = 2", "BATCH_CONCURRENCY = 8"),),
        ("tests/entry/test_batch.py::test_a_batch_never_holds_more_than_two_places_in_the_spaces_queue",),
    ),
    Promise(
        "provider",
        "inference_provider= / --provider chooses the provider that is called",
        (
            Mutation(
                "flux_widget/backends/_inference.py",
                'self.provider = (inference_provider or "auto").strip()',
                'self.provider = "auto"',
            ),
        ),
        (
            "tests/inference/test_inference.py::test_the_chosen_provider_is_the_one_called",
            "tests/inference/test_inference.py::test_the_cli_provider_option_is_the_one_called",
        ),
    ),
    Promise(
        "lazy-widget-stack",
        "the client, generate() and the CLI load no widget stack",
        (
            Mutation(
                "flux_widget/__init__.py",
                '__version__ = "0.1.0"',
                'from .widget import _widget as _eager  # noqa: F401\n__version__ = "0.1.0"',
            ),
        ),
        ("tests/test_light_imports.py::test_client_generate_and_cli_never_import_the_widget_stack",),
    ),
    Promise(
        "lazy-extras",
        "huggingface_hub (the inference extra) is imported only when its backend is used",
        (
            Mutation(
                "flux_widget/backends/base.py",
                "import importlib\n",
                "import importlib\n\nimport huggingface_hub  # noqa: F401\n",
            ),
        ),
        ("tests/test_light_imports.py::test_no_extra_is_imported_until_its_backend_is_used",),
    ),
    Promise(
        "thumbnails",
        "history entries carry a small thumbnail (its shorter side 128 px), not the image",
        (Mutation("flux_widget/_images.py", "THUMBNAIL_SIDE = 128", "THUMBNAIL_SIDE = 4096"),),
        ("tests/widget/test_widget.py::test_history_thumbnails_are_shrunk_from_the_full_image",),
    ),
    Promise(
        "flux-payload",
        "%flux shows a photo-sized image in few bytes (JPEG quality 70), at twice its shown size, no more",
        (
            Mutation("flux_widget/_images.py", '{"quality": 70,', '{"quality": 95,'),
            Mutation("flux_widget/notebook/_magic.py", "max_side=2 * max(size.values())", "max_side=None"),
        ),
        ("tests/notebook/test_magic.py::test_magic_shows_a_photo_like_image_in_few_bytes_at_twice_its_shown_size",),
    ),
    Promise(
        "no-leak",
        "memory stays flat over many generations",
        (
            Mutation(
                "flux_widget/backends/space/_client.py",
                "        yield generation\n",
                "        self.kept = [*getattr(self, 'kept', []), generation]\n        yield generation\n",
            ),
        ),
        ("tests/space/test_fault_matrix.py::test_memory_stays_flat_over_photo_sized_generations",),
    ),
    Promise(
        "deadline",
        "a generation past its deadline is cancelled with SpaceUnavailableError",
        (
            Mutation(
                "flux_widget/backends/space/_client.py",
                "async with asyncio.timeout_at(when):",
                "async with asyncio.timeout_at(None):",
            ),
        ),
        ("tests/space/test_hostile_spaces.py::test_deadline_bounds_a_generation_and_cancels_the_job",),
    ),
    Promise(
        "limits-contract",
        "the frontend's limits come from Python, one contract",
        (Mutation("flux_widget/widget/_state.py", '"max_seed": MAX_SEED,', '"max_seed": 999,'),),
        ("tests/widget/test_frontend_contract.py::test_the_limits_trait_is_pythons_own_values",),
    ),
    Promise(
        "safe-text",
        "no server-supplied text reaches a terminal with its escapes and control characters",
        (
            Mutation(
                "flux_widget/errors.py", 'return _UNSHOWABLE.sub(_replacement, _ESCAPES.sub("", text))', "return text"
            ),
        ),
        ("tests/space/test_server_text.py::test_an_escaping_error_is_shown_as_plain_words",),
    ),
    Promise(
        "inference-bounded",
        "the inference backend reads its answer with the Space path's limits",
        (
            Mutation(
                "flux_widget/backends/_inference.py",
                "limit = MAX_ERROR_BYTES if failed else MAX_ANSWER_BYTES",
                "limit = MAX_ERROR_BYTES if failed else 2**40",
            ),
        ),
        ("tests/inference/test_inference.py::test_answers_are_read_with_the_space_paths_limits[huge-answer]",),
    ),
    Promise(
        "cli-targets",
        "the command line refuses an existing file before it spends a generation",
        (Mutation("flux_widget/__main__.py", "if path.exists() and not overwrite:", "if False:"),),
        ("tests/entry/test_cli_targets.py::test_a_target_that_cannot_be_written_is_refused_before_anything_is_sent",),
    ),
    Promise(
        "space-defaults",
        "a parameter not given is the Space's own declared default",
        (
            Mutation(
                "flux_widget/_parameters.py",
                'wire="num_inference_steps", range=Range(1, 50, 1)',
                'default=4, wire="num_inference_steps", range=Range(1, 50, 1)',
            ),
        ),
        ("tests/space/test_space_doors.py::test_a_parameter_not_given_is_the_spaces_own_default_everywhere",),
    ),
    Promise(
        "local-pixels",
        "the local backend's image is diffusers' own for the same seed, pixel for pixel",
        (
            Mutation(
                "flux_widget/backends/local/_drawing.py",
                'generators = [torch.Generator("cpu").manual_seed(seed) for seed in seeds]',
                'generators = [torch.Generator("cpu").manual_seed(seed + 1) for seed in seeds]',
            ),
        ),
        ("tests/local/test_local.py::test_generate_gives_diffusers_own_pixels",),
    ),
    Promise(
        "local-cancel",
        "cancelling a local run stops it at the next step",
        (Mutation("flux_widget/backends/local/_drawing.py", "pipe._interrupt = True", "pass"),),
        ("tests/local/test_local.py::test_cancel_stops_the_run_at_the_next_step_and_the_worker_ends",),
    ),
    Promise(
        "local-batch",
        "each image of a local batch has its own seed's generator",
        (
            Mutation(
                "flux_widget/backends/local/_drawing.py",
                "generator=generators[0] if len(generators) == 1 else generators,",
                "generator=generators[0],",
            ),
        ),
        ("tests/local/test_local.py::test_a_batch_is_one_batched_call_with_diffusers_own_pixels",),
    ),
    Promise(
        "local-download",
        "a model being downloaded shows its bytes",
        (Mutation("flux_widget/backends/local/_loading.py", "if self.counts and (", "if False and ("),),
        ("tests/local/test_local_loading.py::test_a_repo_id_is_downloaded_with_its_bytes_shown_then_drawn",),
    ),
    Promise(
        "jobs-resume",
        "a resumed large job makes only what is not done",
        (Mutation("flux_widget/jobs/_engine.py", "pending = [job for job in jobs if not manifest.is_done(job.key)]",
                  "pending = list(jobs)"),),
        ("tests/jobs/test_large_jobs.py::test_running_again_redoes_only_what_failed",),
    ),
    Promise(
        "jobs-lost-file",
        "an image whose file is gone is made again",
        (Mutation("flux_widget/jobs/_manifest.py", " and (self.folder / entry.file).is_file()", ""),),
        ("tests/jobs/test_large_jobs.py::test_a_line_a_crash_cut_short_is_dropped_and_made_again",),
    ),
    Promise(
        "jobs-ray-pixels",
        "a Ray job's images are the in-process ones",
        (Mutation("flux_widget/jobs/_ray.py", "return self.backend.generate_here(request)",
                  "return self.backend.generate_here(request.with_seed(request.seed + 1, False))"),),
        ("tests/jobs/test_large_jobs_ray.py::test_ray_gives_the_in_process_pixels_and_manifest",),
    ),
    Promise(
        "backend-options",
        "every backend option reaches every entry point: FluxWidget(offload=...), %flux with no prompt",
        (Mutation("flux_widget/backends/base.py", '("model", "device", "dtype", "offload"), "model"',
                  '("model", "device", "dtype"), "model"'),),
        ("tests/local/test_local.py::test_the_widget_takes_every_local_option",),
    ),
    Promise(
        "manifest-old",
        "a manifest written before lines had a version still resumes",
        (Mutation("flux_widget/jobs/_manifest.py", 'or not isinstance(data.get("key"), str):',
                  'or not isinstance(data.get("key"), str) or "version" not in data:'),),
        ("tests/jobs/test_large_jobs.py::test_a_manifest_written_before_lines_had_a_version_still_resumes",),
    ),
    Promise(
        "manifest-lines",
        "a prompt holding U+2028 or U+0085 reads back from the manifest as written (made once)",
        (Mutation("flux_widget/jobs/_manifest.py", '.split("\\n")[:-1]', ".splitlines()"),),
        ("tests/jobs/test_large_jobs.py::test_a_prompt_with_line_separators_reads_back_as_written",),
    ),
    Promise(
        "manifest-outside",
        "a done line whose file leaves the folder is not trusted",
        (Mutation("flux_widget/jobs/_manifest.py", 'if entry.status == "done" and not self._inside(entry.file):',
                  "if False:"),),
        ("tests/jobs/test_large_jobs.py::test_a_done_line_whose_file_leaves_the_folder_is_not_trusted",),
    ),
    Promise(
        "messages-contract",
        "the messages between views and the kernel are declared once, and every one is sent",
        (Mutation("flux_widget/widget/_messages.py", '    "cancel": (),\n',
                  '    "cancel": (),\n    "show": ("index",),\n'),),
        ("tests/widget/test_frontend_contract.py::test_the_messages_are_declared_once_on_each_side_and_agree",),
    ),
    Promise(
        "widget-indices",
        "nothing a browser sends raises or corrupts the history (a bool is no index)",
        (Mutation("flux_widget/widget/_messages.py", "isinstance(index, int) and not isinstance(index, bool) and",
                  "isinstance(index, int) and"),),
        ("tests/widget/test_widget.py::test_odd_messages_and_odd_tile_state_never_raise_nor_touch_the_history",),
    ),
    Promise(
        "address-secrets",
        "a user name or password in the Space's address is refused, and shown nowhere",
        (Mutation("flux_widget/backends/space/_address.py", "    if parsed.userinfo:", "    if False:"),),
        ("tests/space/test_space_doors.py::test_an_odd_space_address_is_one_clear_error_that_holds_no_secret",),
    ),
    Promise(
        "login-echo",
        "no spelling of a login password a server echoes shows in a message",
        (Mutation("flux_widget/backends/space/_http.py", "return redact_sent(text, self._login[1])",
                  "return redact(text, self._login[1])"),),
        ("tests/space/test_space_doors.py::test_a_login_that_echoes_the_form_shows_no_spelling_of_the_password",),
    ),
    Promise(
        "local-options",
        "a local device, dtype, offload or model that cannot be is one clear error before anything loads",
        (Mutation("flux_widget/backends/local/_backend.py", "return _present(torch, chosen)", "return chosen"),),
        ("tests/local/test_local.py::test_local_options_are_checked_before_anything_loads",),
    ),
    Promise(
        "retry-cap",
        "retry waits stay bounded however many tries",
        (Mutation("flux_widget/jobs/_engine.py", "2.0 ** min(max(attempt, 0), 16)", "2.0 ** max(attempt, 0)"),),
        ("tests/jobs/test_large_jobs.py::test_retry_waits_stay_bounded_however_many_tries",),
    ),
    Promise(
        "one-table",
        "a request parameter's flag, prompt-file field and widget control come from its one table row",
        (Mutation("flux_widget/_parameters.py", 'flag="--guidance", kind=float', "kind=float"),),
        ("tests/local/test_local.py::test_flux_without_a_prompt_keeps_every_option",),
    ),
)


def copy_of_repository(into: Path) -> Path:
    """The package, the tests and the project file, copied into ``into`` (no caches, no artifacts)."""
    ignored = shutil.ignore_patterns("__pycache__", "artifacts", "*.pyc", ".pytest_cache")
    for part in ("flux_widget", "tests"):
        shutil.copytree(ROOT / part, into / part, ignore=ignored)
    for part in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / part, into / part)
    shutil.copytree(ROOT / "js" / "src", into / "js" / "src")
    return into


def copy_of_file(path: str) -> Path:
    """A scratch copy of the repository file ``path``, under a root of its own (to try a mutation on)."""
    root = Path(tempfile.mkdtemp(prefix="flux-promise-check-"))
    (root / path).parent.mkdir(parents=True)
    shutil.copy2(ROOT / path, root / path)
    return root


def apply(mutation: Mutation, root: Path) -> None:
    """Apply ``mutation`` under ``root``; the code it changes must be there exactly once."""
    target = root / mutation.path
    text = target.read_text()
    found = text.count(mutation.old)
    if found != 1:
        raise SystemExit(
            f"MUTATION NO LONGER APPLIES: {mutation.path} holds {found} copies of {mutation.old!r}; "
            "the code moved: update tests/promises.py"
        )
    target.write_text(text.replace(mutation.old, mutation.new))


def run_tests(root: Path, tests: tuple[str, ...], seconds: float) -> tuple[bool, str]:
    """Run ``tests`` on the copy at ``root``: whether they failed (as tests, not by a crash), and the summary line."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-n", "0", *tests]
    try:
        done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=seconds)
    except subprocess.TimeoutExpired:
        return False, f"timed out after {seconds:.0f} s"
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    summary = lines[-1] if lines else done.stderr.strip().splitlines()[-1:]
    failed = done.returncode == 1 and " failed" in str(summary)
    return failed, str(summary)


def main(argv: list[str] | None = None) -> int:
    """Break every promise once; exit 1 if a mutation did not apply or the tests tied to it still passed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="run the promises whose name contains this")
    parser.add_argument("--list", action="store_true", help="print the table and exit")
    parser.add_argument("--seconds", type=float, default=300, help="time limit of one mutation's tests")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="mutations at once (default: cores)")
    args = parser.parse_args(argv)
    chosen = [promise for promise in PROMISES if args.only in promise.name]
    if args.list:
        for promise in chosen:
            print(f"{promise.name:20s} {promise.promise}\n{'':20s} tests: {', '.join(promise.tests)}")
        return 0
    for promise in chosen:  # every mutation must still apply: a moved one fails the check before anything runs
        for mutation in promise.mutations:
            apply(mutation, copy_of_file(mutation.path))
    survivors: list[str] = []
    begin = time.monotonic()
    work = [(promise, number, mutation) for promise in chosen for number, mutation in enumerate(promise.mutations, 1)]

    def check(item: tuple[Promise, int, Mutation]) -> tuple[Promise, int, bool, str, float]:
        promise, number, mutation = item
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="flux-promise-") as scratch:
            root = copy_of_repository(Path(scratch))
            apply(mutation, root)
            caught, summary = run_tests(root, promise.tests, args.seconds)
        return promise, number, caught, summary, time.monotonic() - started

    # Mutations are independent (each on its own copy, its tests' servers on free ports): run a few at once.
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for promise, number, caught, summary, seconds in pool.map(check, work):
            verdict = "caught" if caught else "SURVIVED"
            print(f"{verdict:8s} {promise.name}#{number}  ({seconds:4.1f} s: {summary})", flush=True)
            if not caught:
                survivors.append(f"{promise.name}#{number}: {promise.promise}")
    mutations = sum(len(promise.mutations) for promise in chosen)
    print(f"{len(chosen)} promises, {mutations} mutations, {time.monotonic() - begin:.0f} s")
    if survivors:
        print("Promises broken without a failing test:\n  " + "\n  ".join(survivors))
    print(f"promises: {mutations - len(survivors)} passed, {len(survivors)} failed")  # caught = passed
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
