"""README's promises, each next to code mutations that break it and the tests that must then fail.

Run ``python tests/promises.py`` (``.ci/run`` does): every mutation is applied to a fresh copy of the
package, the tests tied to its promise run against that copy, and each must fail. A mutation whose
code is no longer there (the code moved) fails the check loudly, so the table is kept true.
``--only NAME`` runs the promises whose name contains NAME; ``--list`` prints the table.
"""

from __future__ import annotations

import argparse
import json
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


JOB_FOLDERS = "tests/jobs/test_job_folders.py::"
HOSTILE = "tests/space/test_hostile_spaces.py::"

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
        "cancelling a local run stops it inside the running step, and a waiting call says what it waits for",
        (
            Mutation(
                "flux_widget/backends/local/_drawing.py",
                "        if stop.is_set():\n            raise",
                "        if False:\n            raise",
            ),
            Mutation(
                "flux_widget/backends/local/_backend.py", 'return "CPU" if self.device', 'return "Space" if self.device'
            ),
        ),
        (
            "tests/local/test_local.py::test_cancel_stops_the_running_step_a_waiting_call_says_what_it_waits_for_and_leaves",
        ),
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
        (
            Mutation(
                "flux_widget/jobs/_engine.py",
                "        if manifest.is_done(job.key):\n            report.skipped += 1",
                "        if False:\n            report.skipped += 1",
            ),
        ),
        ("tests/jobs/test_large_jobs.py::test_running_again_redoes_only_what_failed",),
    ),
    Promise(
        "jobs-lost-file",
        "an image whose file is gone is made again",
        (
            Mutation(
                "flux_widget/folders/_manifest.py", "if file is None or file in self._missing:", "if file is None:"
            ),
        ),
        ("tests/jobs/test_large_jobs.py::test_a_line_a_crash_cut_short_is_dropped_and_made_again",),
    ),
    Promise(
        "jobs-ray-pixels",
        "a Ray job's images are the in-process ones",
        (
            Mutation(
                "flux_widget/jobs/_ray.py",
                "self.backend.generate_here(job.request)",
                "self.backend.generate_here(job.request.with_seed(job.request.seed + 1, False))",
            ),
        ),
        ("tests/jobs/test_large_jobs_ray.py::test_ray_gives_the_in_process_pixels_and_manifest",),
    ),
    Promise(
        "backend-options",
        "every backend option reaches every entry point: FluxWidget(offload=...), %flux with no prompt",
        (
            Mutation(
                "flux_widget/backends/base.py",
                '("model", "device", "dtype", "offload"), "model"',
                '("model", "device", "dtype"), "model"',
            ),
        ),
        ("tests/local/test_local.py::test_the_widget_takes_every_local_option",),
    ),
    Promise(
        "manifest-old",
        "a manifest written before lines had a version still resumes",
        (
            Mutation(
                "flux_widget/folders/_manifest.py",
                'isinstance(data.get("key"), str) else None',
                'isinstance(data.get("key"), str) and "version" in data else None',
            ),
        ),
        ("tests/jobs/test_large_jobs.py::test_a_manifest_written_before_lines_had_a_version_still_resumes",),
    ),
    Promise(
        "manifest-lines",
        "a prompt holding U+2028 or U+0085 reads back from the manifest as written (made once)",
        (
            Mutation(
                "flux_widget/folders/_manifest.py",
                "for number, raw in enumerate(file, start=1):",
                'for number, raw in enumerate((t.encode() + b"\\n" for t in file.read().decode().splitlines()), 1):',
            ),
        ),
        ("tests/jobs/test_large_jobs.py::test_a_prompt_with_line_separators_reads_back_as_written",),
    ),
    Promise(
        "manifest-outside",
        "a done line whose file leaves the folder is not trusted",
        (
            Mutation(
                "flux_widget/folders/_manifest.py",
                "            elif isinstance(file, str) and self._inside(file):",
                "            elif isinstance(file, str):",
            ),
        ),
        ("tests/jobs/test_large_jobs.py::test_a_done_line_whose_file_leaves_the_folder_is_not_trusted",),
    ),
    Promise(
        "messages-contract",
        "the messages between views and the kernel are declared once, and every one is sent",
        (
            Mutation(
                "flux_widget/widget/_messages.py", '    "cancel": (),\n', '    "cancel": (),\n    "show": ("index",),\n'
            ),
        ),
        ("tests/widget/test_frontend_contract.py::test_the_messages_are_declared_once_on_each_side_and_agree",),
    ),
    Promise(
        "widget-indices",
        "nothing a browser sends raises or corrupts the history (a bool is no index)",
        (
            Mutation(
                "flux_widget/widget/_messages.py",
                "isinstance(index, int) and not isinstance(index, bool) and",
                "isinstance(index, int) and",
            ),
        ),
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
        (
            Mutation(
                "flux_widget/backends/space/_http.py",
                "return redact_sent(text, self._login[1])",
                "return redact(text, self._login[1])",
            ),
        ),
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
        "jobs-no-links",
        "a job never reads or writes through a link: a manifest that is one is refused, exit 2",
        (Mutation("flux_widget/folders/_manifest.py", "flags | os.O_NOFOLLOW | ", "flags | "),),
        (JOB_FOLDERS + "test_a_folder_that_cannot_be_used_is_one_line_and_exit_2_before_anything_is_sent",),
    ),
    Promise(
        "jobs-folder-checked",
        "a read-only or full folder is one line and exit 2 before anything is sent",
        (Mutation("flux_widget/folders/_folder.py", "    _probe(folder)\n    return folder", "    return folder"),),
        (JOB_FOLDERS + "test_a_folder_that_cannot_be_used_is_one_line_and_exit_2_before_anything_is_sent",),
    ),
    Promise(
        "jobs-out-names",
        "out='' is refused and out='~/x' is expanded",
        (Mutation("flux_widget/folders/_folder.py", "folder = Path(text).expanduser()", "folder = Path(text)"),),
        (JOB_FOLDERS + "test_run_batch_refuses_a_file_and_an_empty_name_and_expands_the_home_folder",),
    ),
    Promise(
        "jobs-short-write",
        "a manifest line is whole or the run stops loudly (a short write on a full disk)",
        (Mutation("flux_widget/folders/_manifest.py", "    if written != len(data):", "    if False:"),),
        (JOB_FOLDERS + "test_a_short_write_of_a_line_is_undone_and_is_an_error",),
    ),
    Promise(
        "jobs-disk-fills",
        "a disk that fills during a run stops it with exit 1, what was made kept",
        (
            Mutation(
                "flux_widget/jobs/_engine.py",
                "report.interrupted = not isinstance(exc, FolderError)",
                "report.interrupted = True",
            ),
        ),
        (JOB_FOLDERS + "test_a_disk_that_fills_during_a_run_stops_it_loudly_and_keeps_what_was_made",),
    ),
    Promise(
        "jobs-after-a-kill",
        "after kill -9 the next run removes partial files and adopts an image whose line was lost",
        (
            Mutation("flux_widget/jobs/_engine.py", "found = manifest.unrecorded_for(job.key)", "found = None"),
            Mutation("flux_widget/folders/_folder.py", "os.unlink(entry.path)  # a link is removed", "pass  #"),
        ),
        (JOB_FOLDERS + "test_a_killed_run_leaves_nothing_that_the_next_run_makes_twice",),
    ),
    Promise(
        "jobs-sigterm",
        "SIGTERM stops a job like Ctrl-C: running images cancelled, a summary, exit 143",
        (
            Mutation(
                "flux_widget/jobs/_run.py",
                "previous = signal.signal(signal.SIGTERM, on_sigterm)",
                "previous = signal.getsignal(signal.SIGTERM)",
            ),
        ),
        (JOB_FOLDERS + "test_sigterm_stops_like_ctrl_c_with_a_summary_and_exit_143",),
    ),
    Promise(
        "prompt-files-read-safely",
        "prompt files: a BOM is dropped, bad bytes and absurd JSON are named by line, a line is bounded",
        (
            Mutation(
                "flux_widget/jobs/_prompt_files.py", "if number == 1 and raw.startswith(codecs.BOM_UTF8):", "if False:"
            ),
            Mutation("flux_widget/jobs/_prompt_files.py", "except RecursionError:", "except ZeroDivisionError:"),
            Mutation("flux_widget/jobs/_prompt_files.py", "stream.readline(MAX_LINE_BYTES + 1)", "stream.readline()"),
        ),
        (
            JOB_FOLDERS + "test_a_byte_order_mark_does_not_hide_a_json_first_line",
            JOB_FOLDERS + "test_a_prompt_file_that_is_not_text_or_absurd_is_named_by_its_line",
            JOB_FOLDERS + "test_a_50_mb_line_is_refused_without_reading_it_whole",
        ),
    ),
    Promise(
        "prompt-length",
        "a prompt is at most 10,000 characters, refused before sending",
        (Mutation("flux_widget/_parameters.py", "if len(text) > MAX_PROMPT_CHARS:", "if False:"),),
        (JOB_FOLDERS + "test_a_prompt_file_that_is_not_text_or_absurd_is_named_by_its_line",),
    ),
    Promise(
        "job-errors",
        "any error of a pipeline in a job fails that image alone, with a failed line",
        (
            Mutation(
                "flux_widget/jobs/_engine.py",
                "except Exception as exc:  # any other error",
                "except ZeroDivisionError as exc:  # any other error",
            ),
        ),
        (JOB_FOLDERS + "test_any_error_of_a_pipeline_fails_that_image_alone",),
    ),
    Promise(
        "web-ui-metadata",
        "web UIs read back exactly our prompt and settings (no injected negative prompt or field)",
        (
            Mutation(
                "flux_widget/_metadata.py",
                "return prompt if kept and prompt == prompt.strip() else",
                "return prompt if True else",
            ),
            Mutation("flux_widget/_metadata.py", "for mark in ',:\"\\n')", "for mark in '\\n')"),
        ),
        ("tests/files/test_tool_metadata.py::test_web_uis_read_back_exactly_our_prompt_and_settings",),
    ),
    Promise(
        "png-text-first",
        "PNG text chunks come before the pixels: Image.open alone finds them",
        (
            Mutation(
                "flux_widget/_metadata.py",
                "return data[:at] + chunks + data[at:]",
                "return data[:-12] + chunks + data[-12:]",
            ),
        ),
        ("tests/files/test_tool_metadata.py::test_png_text_is_before_the_pixels_so_open_alone_finds_it",),
    ),
    Promise(
        "token-cut-after",
        "server text is cut only after the token is removed",
        (
            Mutation(
                "flux_widget/backends/space/_http.py",
                "return self.redact(text)[:limit]",
                "return self.redact(text[:limit])",
            ),
        ),
        (HOSTILE + "test_a_token_across_the_500_character_cut_is_removed_before_the_cut",),
    ),
    Promise(
        "short-token",
        "a short token does not garble messages",
        (Mutation("flux_widget/_redaction.py", "if not secret or len(secret) < MIN_SECRET_LENGTH:", "if not secret:"),),
        (HOSTILE + "test_a_short_token_does_not_garble_messages",),
    ),
    Promise(
        "c1-controls",
        "C1 controls are removed from terminal text",
        (Mutation("flux_widget/errors.py", "\\x0b-\\x1f\\x7f-\\x9f", "\\x0b-\\x1f\\x7f"),),
        (HOSTILE + "test_c1_controls_are_removed_from_what_a_terminal_shows",),
    ),
    Promise(
        "jobs-random-seeds",
        "a random-seed job records each image's real seed in the manifest",
        (
            Mutation(
                "flux_widget/jobs/_engine.py",
                "name, generation.parameters, backend_name, seconds",
                "name, vars(job.request), backend_name, seconds",
            ),
        ),
        ("tests/jobs/test_large_jobs.py::test_a_random_seed_job_records_each_images_real_seed",),
    ),
    Promise(
        "jobs-backoff",
        "a 5xx or sleeping Space is retried with backoff; a quota wait is the Space's own time, at most an hour",
        (
            Mutation(
                "flux_widget/jobs/_engine.py",
                'isinstance(error, ServiceUnavailableError) or "deadline"',
                'False and "deadline"',
            ),
            Mutation(
                "flux_widget/jobs/_engine.py",
                "error.retry_after if error.retry_after is not None else",
                "error.retry_after + 11 if error.retry_after is not None else",
            ),
            Mutation(
                "flux_widget/jobs/_engine.py",
                "return min(MAX_QUOTA_WAIT, error.retry_after",
                "return (error.retry_after",
            ),
        ),
        (
            "tests/jobs/test_large_jobs.py::test_a_sleeping_space_is_tried_again_after_a_backoff",
            "tests/jobs/test_large_jobs.py::test_a_quota_error_waits_the_spaces_time_then_retries",
            "tests/jobs/test_large_jobs.py::test_retry_waits_stay_bounded_however_many_tries",
        ),
    ),
    Promise(
        "jobs-exit-codes",
        "Ctrl-C after a failed image exits 130; --engine ray with a Space is a usage error, exit 2",
        (
            Mutation(
                "flux_widget/jobs/_engine.py",
                "return 128 + self.stopped_by if self.interrupted else EXIT_FAILED if",
                "return EXIT_FAILED if self.failed else 128 + self.stopped_by if self.interrupted else 0 if",
            ),
            Mutation(
                "flux_widget/jobs/_run.py",
                "            if not report.started:\n                return 2",
                "            if False:\n                return 2",
            ),
        ),
        (
            "tests/jobs/test_large_jobs.py::test_ctrl_c_after_a_failed_image_still_exits_130",
            "tests/jobs/test_large_jobs.py::test_ray_with_a_space_is_a_usage_error_exit_2",
        ),
    ),
    Promise(
        "local-batches",
        "local batches go in calls of at most 4, one by one after running out of memory, deadline scaled",
        (
            Mutation("flux_widget/backends/local/_backend.py", "self.batch_size = 4", "self.batch_size = 8"),
            Mutation(
                "flux_widget/backends/local/_backend.py",
                "except OutOfMemoryError:\n                if len(chunk) == 1:",
                "except ZeroDivisionError:\n                if len(chunk) == 1:",
            ),
            Mutation(
                "flux_widget/backends/local/_backend.py",
                'positive_seconds("deadline", deadline)) * len(requests)',
                'positive_seconds("deadline", deadline))',
            ),
        ),
        (
            "tests/local/test_local_batches.py::test_batches_go_in_calls_of_at_most_four",
            "tests/local/test_local_batches.py::test_a_batch_out_of_memory_is_made_one_by_one_with_the_same_pixels",
            "tests/local/test_local_batches.py::test_a_batchs_deadline_is_scaled_by_its_size",
        ),
    ),
    Promise(
        "local-random-seeds",
        "randomize_seed gives different seeds on the local backend",
        (
            Mutation(
                "flux_widget/backends/base.py",
                "random.randint(0, MAX_SEED) if request.randomize_seed else",
                "0 if request.randomize_seed else",
            ),
        ),
        ("tests/local/test_local_batches.py::test_randomize_seed_gives_different_seeds",),
    ),
    Promise(
        "fit-plan-room",
        "fit_plan keeps 15 % working room",
        (Mutation("flux_widget/backends/local/_loading.py", "max(1.5 * _GB, 0.15 * size)", "1.5 * _GB"),),
        ("tests/local/test_local_loading.py::test_the_weights_go_where_they_fit",),
    ),
    Promise(
        "forbidden",
        "403 is an AuthenticationError too",
        (
            Mutation(
                "flux_widget/backends/space/_http.py",
                "        if status in (401, 403):\n            return",
                "        if status == 401:\n            return",
            ),
        ),
        ("tests/space/test_space_doors.py::test_a_403_is_an_authentication_error_too",),
    ),
    Promise(
        "declared-sizes",
        "the widget adopts the sizes a Space declares",
        (Mutation("flux_widget/widget/_state.py", "if parameter.name in follow and number:", "if False:"),),
        ("tests/space/test_space_doors.py::test_the_widget_adopts_the_sizes_a_space_declares",),
    ),
    Promise(
        "shown-sizes",
        "%flux -n tiles are at most 512 px, the display JPEG is 4:2:0 and progressive, wide thumbnails capped",
        (
            Mutation("flux_widget/notebook/_gallery.py", "max_side=2 * TILE_WIDTH", "max_side=None"),
            Mutation("flux_widget/_images.py", '"subsampling": "4:2:0"', '"subsampling": "4:4:4"'),
            Mutation("flux_widget/_images.py", '"progressive": True', '"progressive": False'),
            Mutation("flux_widget/_images.py", ", 2 * side / max(width, height))", ")"),
        ),
        (
            "tests/files/test_shown_images.py::test_a_flux_n_tile_of_a_1024_image_is_at_most_512_pixels",
            "tests/files/test_shown_images.py::test_the_display_jpeg_is_4_2_0_and_progressive",
            "tests/files/test_shown_images.py::test_a_wide_images_thumbnail_is_capped_on_its_long_side",
        ),
    ),
    Promise(
        "metadata-edges",
        "multi-line prompts survive an XML parser reading the XMP; a value of exactly 2000 characters is kept",
        (
            Mutation("flux_widget/_metadata.py", '"\\n": "&#10;", ', ""),
            Mutation("flux_widget/_metadata.py", "if len(text) > MAX_VALUE_CHARS:", "if len(text) >= MAX_VALUE_CHARS:"),
        ),
        (
            "tests/files/test_shown_images.py::test_a_multi_line_prompt_survives_an_xml_parser_reading_the_xmp",
            "tests/files/test_shown_images.py::test_a_value_of_exactly_the_limit_is_kept_whole",
        ),
    ),
    Promise(
        "undo-and-tile-reuse",
        '"Removed · Undo" stays for its 8 seconds; a tile\'s Reuse seed says what it set',
        (
            Mutation("js/src/history-strip.js", "export const UNDO_FOR_MS = 8000;", "export const UNDO_FOR_MS = 3000;"),
            Mutation("js/src/batch-grid.js", "say: onSay, place", "say: () => {}, place"),
        ),
        ("tests/browser/test_gallery.py::test_undo_stays_its_8_seconds_and_a_tiles_reuse_seed_says_what_it_set",),
    ),
    Promise(
        "focus-after-redraw",
        "focus returns to its tile after the full-size view, even when the tile was redrawn meanwhile",
        (Mutation("js/src/viewer.js", "const found = returnFocus?.();", "const found = null;"),),
        (
            "tests/browser/test_gallery.py::"
            "test_focus_returns_to_its_tile_even_when_the_tile_was_redrawn_while_the_view_was_open",
        ),
    ),
    Promise(
        "edit-on-a-space",
        "an image given with the prompt reaches an editing Space's image input, exactly those pixels",
        (Mutation("flux_widget/backends/space/_wire.py", "return waiting.pop(0) if waiting else None", "return None"),),
        (
            "tests/editing/test_edit_on_a_space.py::test_generate_with_an_image_returns_the_spaces_edit_of_exactly_those_pixels",
        ),
    ),
    Promise(
        "edit-limits",
        "images for a text-only Space, or more than a backend takes, are refused naming the limit, before sending",
        (
            Mutation("flux_widget/backends/space/_wire.py", "        if not self.max_images:", "        if False:"),
            Mutation("flux_widget/backends/_inference.py", "MAX_REFERENCES = 1", "MAX_REFERENCES = 2"),
        ),
        (
            "tests/editing/test_edit_on_a_space.py::test_a_text_only_space_and_too_many_images_are_refused_before_anything_is_sent",
            "tests/inference/test_inference.py::"
            "test_an_edit_goes_as_huggingface_hubs_image_to_image_and_one_image_is_the_limit",
        ),
    ),
    Promise(
        "edit-inputs-checked",
        "an input that is animated, not an image or turned by EXIF is refused or set upright before sending",
        (
            Mutation("flux_widget/_inputs.py", "    if frames > 1:", "    if False:"),
            Mutation("flux_widget/_inputs.py", "not in (1, None)", "not in (1, None, 6)"),
        ),
        (
            "tests/editing/test_bad_inputs.py::test_an_input_that_is_not_a_usable_image_is_refused_before_anything_is_sent",
            "tests/editing/test_bad_inputs.py::test_exif_rotation_is_applied_and_cmyk_and_16_bit_are_converted",
        ),
    ),
    Promise(
        "edit-local-pixels",
        "a local edit gives diffusers' own pixels for the same inputs and seed",
        (
            Mutation(
                "flux_widget/backends/local/_drawing.py",
                'sent["image"] = references[0] if len(references) == 1 else references',
                "pass",
            ),
        ),
        ("tests/local/test_local_editing.py::test_kontext_edits_give_diffusers_own_pixels",),
    ),
    Promise(
        "edit-recorded",
        "files and manifests record each input's SHA-256 and size",
        (Mutation("flux_widget/_parameters.py", "    if not images:\n        return None", "    return None"),),
        (
            "tests/editing/test_edit_on_a_space.py::test_a_prompt_file_line_takes_images_relative_to_the_file_and_the_manifest_records_them",
            "tests/editing/test_edit_on_a_space.py::test_the_command_line_takes_image_and_reads_standard_input",
        ),
    ),
    Promise(
        "edit-size",
        "an edit without a size is about 1024² with the first input's aspect ratio",
        (Mutation("flux_widget/_parameters.py", "    like = _size_like(", "    like = {} and _size_like("),),
        (
            "tests/inference/test_inference.py::"
            "test_an_edit_goes_as_huggingface_hubs_image_to_image_and_one_image_is_the_limit",
        ),
    ),
    Promise(
        "tray",
        "the reference tray takes a pasted image and Generate sends the tray's images",
        (Mutation("js/src/widget.js", 'listen(promptBar.prompt, "paste"', 'listen(promptBar.prompt, "pasted"'),),
        (
            "tests/browser/test_reference_tray.py::test_pick_remove_drop_paste_the_limit_and_an_edit_of_exactly_those_pixels",
        ),
    ),
    Promise(
        "tray-sent",
        "Generate sends the tray's images",
        (Mutation("flux_widget/widget/_widget.py", "images=self.reference_images or None", "images=None"),),
        ("tests/editing/test_edit_history.py::test_an_edit_keeps_its_inputs_and_select_and_reuse_put_them_back",),
    ),
    Promise(
        "edit-this",
        "Edit this puts the image on show into the reference tray",
        (Mutation("js/src/image-actions.js", 'tell(model, { type: "edit", index });', "void index;"),),
        ("tests/browser/test_reference_tray.py::test_edit_this_puts_the_image_on_show_into_the_tray",),
    ),
    Promise(
        "edit-reuse",
        "a history entry keeps its inputs, and selecting it or Reuse puts them back in the tray",
        (
            Mutation(
                "flux_widget/widget/_references.py",
                "        if not generation.inputs:\n            return",
                "        return",
            ),
        ),
        ("tests/editing/test_edit_history.py::test_an_edit_keeps_its_inputs_and_select_and_reuse_put_them_back",),
    ),
    Promise(
        "before-after",
        "the full-size view compares an edit with its input by a before/after slider",
        (Mutation("js/src/compare.js", 'frame.style.setProperty("--flux-before", `${value}%`);', "void value;"),),
        (
            "tests/browser/test_edits_in_history.py::test_an_edit_keeps_its_inputs_compares_by_slider_reuses_them_and_saves_small",
        ),
    ),
    Promise(
        "save-to",
        "save_to saves every image as it arrives, and a new widget with that folder shows its images again",
        (
            Mutation("flux_widget/widget/_saving.py", "        gallery = self._gallery\n", "        gallery = None\n"),
            Mutation("flux_widget/widget/_saving.py", "        if len(self._history) == 0:", "        if False:"),
        ),
        ("tests/widget/test_saving.py::test_images_are_saved_as_they_arrive_and_a_new_widget_shows_them",),
    ),
    Promise(
        "queue",
        "prompts sent while a job runs wait in a queue you can reorder, and run in turn",
        (
            Mutation(
                "flux_widget/widget/_widget.py", "                self.enqueue(overrides)", "                pass"
            ),
            Mutation(
                "flux_widget/widget/_queue.py",
                "order.insert(max(0, min(len(order), position + by)), item)",
                "order.insert(position, item)",
            ),
        ),
        ("tests/widget/test_queue.py::test_prompts_pressed_while_one_runs_are_made_in_turn_two_at_most_on_the_space",),
    ),
    Promise(
        "one-run-per-folder",
        "a second run on a folder in use stops at once, naming the first; an address is never a folder",
        (
            Mutation("flux_widget/folders/_lock.py", "fcntl.LOCK_EX | fcntl.LOCK_NB", "fcntl.LOCK_SH | fcntl.LOCK_NB"),
            Mutation(
                "flux_widget/folders/_remote.py",
                "    if isinstance(text, str) and is_address(text):",
                "    if False:",
            ),
        ),
        (
            "tests/jobs/test_job_folders.py::test_a_killed_run_leaves_nothing_that_the_next_run_makes_twice",
            "tests/jobs/test_job_folders.py::test_an_address_is_never_taken_for_a_folder_name",
        ),
    ),
    Promise(
        "find",
        "a search box, stars and a size filter find a past image",
        (Mutation("js/src/history-filter.js", "  return words.every(", "  return true || words.every("),),
        ("tests/browser/test_gallery.py::test_search_stars_size_and_model_find_a_past_image",),
    ),
    Promise(
        "s3-output",
        "a large job writes to s3://bucket/run, and running it again makes only what is missing",
        (
            Mutation(
                "flux_widget/folders/_remote.py",
                "            elif hashed := key_of_name(name):",
                "            elif False and (hashed := key_of_name(name)):",
            ),
            Mutation("flux_widget/folders/_remote.py", "        self._dirty = True\n", "        self._dirty = False\n"),
            Mutation("flux_widget/folders/_remote.py", "            if not _stale(found):", "            if False:"),
        ),
        (  # the quickest first: each mutation's tests stop at the first that fails
            "tests/jobs/test_s3_output.py::test_a_second_run_on_an_address_stops_at_once_and_a_dead_runs_lock_is_taken_over",
            "tests/jobs/test_s3_output.py::test_a_job_writes_to_s3_and_running_it_again_makes_nothing_twice",
            "tests/jobs/test_s3_output.py::test_ctrl_c_and_a_lost_store_never_leave_a_manifest_line_without_its_object",
        ),
    ),
    Promise(
        "ray-restart",
        "a Ray worker that dies is started again and its images are made again, by the workers",
        (
            Mutation(
                "flux_widget/jobs/_ray.py",
                "            waiting.append(job)  # made again",
                "            pass  # made again",
            ),
        ),
        (
            "tests/jobs/test_large_jobs_ray.py::test_a_killed_actor_is_started_again_and_every_image_is_made_once_by_the_workers",
        ),
    ),
    Promise(
        "folder-search",
        "with save_to, the search reaches the folder's images the history does not show",
        (
            Mutation(
                "flux_widget/widget/_gallery_folder.py",
                "if entry.file not in shown and wanted.passes(entry)]",
                "if entry.file not in shown and not wanted.passes(entry)]",
            ),
        ),
        (
            "tests/widget/test_saving.py::test_the_search_finds_the_folders_older_images_and_brings_them_into_the_history",
        ),
    ),
    Promise(
        "starred",
        "w.starred_generations holds the images starred in the view",
        (Mutation("flux_widget/widget/_actions.py", "if ref in marked]", "if ref not in marked]"),),
        ("tests/widget/test_saving.py::test_the_starred_generations_are_those_the_view_marked",),
    ),
    Promise(
        "one-table",
        "a request parameter's flag, prompt-file field and widget control come from its one table row",
        (Mutation("flux_widget/_parameters.py", 'flag="--guidance", kind=float', "kind=float"),),
        ("tests/local/test_local.py::test_flux_without_a_prompt_keeps_every_option",),
    ),
)


def copy_of_repository(into: Path) -> Path:
    """The package, the tests and the project file, copied into ``into`` (no caches, no artifacts).

    A mutation of ``js/src`` is bundled into the copy's package before its tests run.
    """
    ignored = shutil.ignore_patterns("__pycache__", "artifacts", "*.pyc", ".pytest_cache")
    for part in ("flux_widget", "tests"):
        shutil.copytree(ROOT / part, into / part, ignore=ignored)
    for part in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / part, into / part)
    shutil.copytree(ROOT / "js" / "src", into / "js" / "src")
    return into


def rebuild_frontend(root: Path) -> None:
    """Bundle the copy's ``js/src`` into its package, as ``npm run build`` does (esbuild from ``js/node_modules``)."""
    build = json.loads((ROOT / "js" / "package.json").read_text())["scripts"]["build"].split()
    esbuild = ROOT / "js" / "node_modules" / ".bin" / "esbuild"
    subprocess.run([str(esbuild), *build[1:]], cwd=root / "js", check=True, capture_output=True)


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
    parser.add_argument(
        "--jobs",
        type=int,
        default=2 * (os.cpu_count() or 1),
        help="mutations at once (default: twice the cores, since most checks wait on servers and subprocesses)",
    )
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
            if mutation.path.startswith("js/src/"):
                rebuild_frontend(root)
            caught, summary = run_tests(root, promise.tests, args.seconds)
        return promise, number, caught, summary, time.monotonic() - started

    # Mutations are independent (each on its own copy, its tests' servers on free ports): run a few at once,
    # the slow ones (a browser, a Ray cluster) first, so that no slot waits alone on one at the end.
    work.sort(key=lambda item: not any("/browser/" in test or "_ray" in test for test in item[0].tests))
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
