"""Large jobs: every image of a prompt file into a folder, resumable, failures kept apart, retries that wait.

:func:`run_jobs` is the engine (asyncio, one process; any backend); :func:`run_batch` is the public
call from Python, and ``python -m flux_widget --prompts FILE --out DIR`` the command line. Each
image is written and recorded in ``DIR/manifest.jsonl`` as it finishes (see :mod:`.manifest`);
running the same job again makes only what is not done. Quota errors wait the time the Space names
(or back off) and try again, up to ``retries`` times; a sleeping or failing Space (5xx, timeouts)
backs off and tries again; any other error fails that image alone.
"""

from __future__ import annotations

import asyncio
import html
import signal
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._images import check_image, suffix_for
from .._metadata import with_metadata
from ..errors import FluxError, FolderError, QuotaExceededError, ServiceUnavailableError
from ..folders._folder import image_name, seed_of_name, slug
from ..folders._manifest import Manifest, ManifestLine, parameters_of
from ..types import Generation
from ._prompt_files import Job

if TYPE_CHECKING:
    from ..backends.base import Backend

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "JobReport",
    "failure_text",
    "image_file",
    "pending_jobs",
    "record_done",
    "record_failed",
    "record_written",
    "retry_wait",
    "run_jobs",
]

#: Exit status of the command line when some images failed (0: all done; 2: a usage error).
EXIT_FAILED = 1
#: Exit status after Ctrl-C (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130
#: The longest wait for a quota to come back before trying again.
MAX_QUOTA_WAIT = 3600.0

#: Told of each finished image: its manifest entry, and the generation when it was made.
Finished = Callable[[ManifestLine, Generation | None], "Awaitable[None] | None"]


@dataclass
class JobReport:
    """What a large job did: images done, failed and skipped (already done), and how long it took."""

    #: Where the images go: the folder, or the address (``s3://bucket/run``).
    out: Path | str
    done: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    #: Ray workers that died during the run and were started again (their images made again).
    restarts: int = 0
    #: The signal that stopped the run when ``interrupted``: SIGINT (Ctrl-C) or SIGTERM.
    stopped_by: int = signal.SIGINT
    #: Whether the folder was opened and the images counted (a usage error comes before).
    started: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def images_per_minute(self) -> float:
        """Images made a minute (skipped ones not counted)."""
        return 60 * self.done / self.seconds if self.seconds > 0 else 0.0

    @property
    def exit_code(self) -> int:
        """0 all done, :data:`EXIT_FAILED` when some failed; 128 + the signal when stopped (130 Ctrl-C, 143 SIGTERM)."""
        return 128 + self.stopped_by if self.interrupted else EXIT_FAILED if self.failed else 0

    @property
    def manifest(self) -> str:
        """Where the manifest is: ``manifest.jsonl`` in the folder or at the address."""
        return (
            f"{str(self.out).rstrip('/')}/manifest.jsonl"
            if isinstance(self.out, str)
            else str(self.out / "manifest.jsonl")
        )

    def count(self, job: Job, entry: ManifestLine) -> None:
        """Count one finished image by its manifest line (its error kept when it failed)."""
        if entry.status == "done":
            self.done += 1
        else:
            self.failed += 1
            self.errors.append(f"line {job.line}: {entry.error}")

    def __repr__(self) -> str:
        counts = f"{self.done} done, {self.failed} failed, {self.skipped} skipped"
        return f"<JobReport {counts} in {self.seconds:.1f} s{', stopped' if self.interrupted else ''}: {self.out}>"

    def _repr_html_(self) -> str:
        """The report as a notebook shows it: a small table, the first errors, where the manifest is."""
        state = "stopped" if self.interrupted else "finished"
        rows = "".join(
            f"<tr><th style='text-align:left'>{name}</th><td>{value}</td></tr>"
            for name, value in (
                ("done", self.done), ("failed", self.failed), ("skipped (already done)", self.skipped),
                ("time", f"{self.seconds:.1f} s ({self.images_per_minute:.1f} images a minute)"),
                ("manifest", html.escape(self.manifest)),
            )
        )  # fmt: skip
        errors = "".join(f"<li>{html.escape(error)}</li>" for error in self.errors[:10])
        more = f"<p>{len(self.errors) - 10} more errors in the manifest.</p>" if len(self.errors) > 10 else ""
        again = "<p>Run the same call again to make what is left.</p>" if self.interrupted or self.failed else ""
        listed = f"<ul>{errors}</ul>{more}" if errors else ""
        return f"<div><strong>Large job {state}</strong><table>{rows}</table>{listed}{again}</div>"

    def __str__(self) -> str:
        stopped = f", {self.restarts} worker restart{'s' if self.restarts != 1 else ''}" if self.restarts else ""
        if self.interrupted:
            stopped += ", stopped (SIGTERM)" if self.stopped_by == signal.SIGTERM else ", interrupted"
        return (
            f"{self.done} done, {self.failed} failed, {self.skipped} skipped in {self.seconds:.1f} s "
            f"({self.images_per_minute:.1f} images a minute){stopped}; manifest: {self.manifest}"
        )


def retry_wait(error: FluxError, attempt: int) -> float | None:
    """Seconds to wait before trying again after ``error`` on try ``attempt`` (from 0); None: do not."""
    doubled = 2.0 ** min(max(attempt, 0), 16)  # the waits stop growing long before a float would overflow
    if isinstance(error, QuotaExceededError):
        return min(MAX_QUOTA_WAIT, error.retry_after if error.retry_after is not None else 30.0 * doubled)
    if isinstance(error, ServiceUnavailableError) or "deadline" in str(error):
        return min(120.0, 2.0 * doubled)
    return None


async def run_jobs(
    backend: Backend,
    jobs: Iterable[Job],
    out: str | Path | Manifest,
    *,
    backend_name: str,
    concurrency: int = 2,
    retries: int = 3,
    deadline: float | None = None,
    on_finished: Finished | None = None,
    report: JobReport | None = None,
) -> JobReport:
    """Make every job of ``jobs`` not yet done in ``out`` (a folder, or its opened manifest), ``concurrency``
    at a time; the report. The jobs are taken as the workers are free (a stream of them is never held).

    ``report``, when given, is filled in as images finish (the caller still has it after Ctrl-C).
    Cancelling (Ctrl-C, a kernel interrupt) cancels the running jobs on the backend, marks the
    report interrupted and goes on as a cancellation; everything already written stays.
    """
    manifest = out if isinstance(out, Manifest) else Manifest(out)
    report = report or JobReport(manifest.location)
    pending = pending_jobs(manifest, jobs, backend_name, report)
    started = time.perf_counter()

    async def worker() -> None:
        for job in pending:  # one stream shared by the workers: each takes the next job when it is free
            entry, generation = await _make(backend, job, manifest, backend_name, retries, deadline)
            report.count(job, entry)
            if on_finished is not None:
                outcome = on_finished(entry, generation)
                if outcome is not None:
                    await outcome

    workers = [asyncio.ensure_future(worker()) for _ in range(max(1, concurrency))]
    try:
        await asyncio.gather(*workers)
    except BaseException as exc:
        report.interrupted = not isinstance(exc, FolderError)  # a failed write stops the run as itself
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)  # each cancels its job on the backend
        raise
    finally:
        report.seconds = time.perf_counter() - started
    return report


def pending_jobs(manifest: Manifest, jobs: Iterable[Job], backend_name: str, report: JobReport) -> Iterator[Job]:
    """The jobs of ``jobs`` still to make, as they are reached; the rest counted as skipped in ``report``.

    An image a killed run renamed into place without its line is recorded now and skipped.
    """
    report.out, report.started = manifest.location, True
    for job in jobs:
        if manifest.is_done(job.key):
            report.skipped += 1
            continue
        found = manifest.unrecorded_for(job.key)
        if found is None:
            yield job
            continue
        asked = parameters_of({**vars(job.request), "seed": seed_of_name(found)})
        manifest.record(ManifestLine(job.key, "done", job.line, job.prompt, asked, backend_name, found))
        report.skipped += 1


async def _make(
    backend: Backend, job: Job, manifest: Manifest, backend_name: str, retries: int, deadline: float | None
) -> tuple[ManifestLine, Generation | None]:
    """Make one image, trying again as :func:`retry_wait` says; write it and its manifest line."""
    began = time.perf_counter()
    attempt = 0
    while True:
        try:
            generation = await backend.generate(job.request, deadline=deadline)
            break
        except FluxError as exc:
            wait = retry_wait(exc, attempt)
            if wait is None or attempt >= retries:
                return record_failed(manifest, job, str(exc), backend_name, time.perf_counter() - began), None
            attempt += 1
            await asyncio.sleep(wait)
        except Exception as exc:  # any other error of a backend or its pipeline fails this image alone
            return record_failed(manifest, job, failure_text(exc), backend_name, time.perf_counter() - began), None
    return record_done(manifest, job, generation, backend_name, time.perf_counter() - began), generation


def record_done(
    manifest: Manifest, job: Job, generation: Generation, backend_name: str, seconds: float
) -> ManifestLine:
    """Write ``generation``'s image (its parameters inside) and then its manifest line; the line."""
    name, data = image_file(job, generation)
    manifest.write_file(name, data)
    return record_written(manifest, job, name, generation.parameters, backend_name, seconds)


def image_file(job: Job, generation: Generation) -> tuple[str, bytes]:
    """The name and bytes of ``job``'s image file: its parameters inside (where its format takes them)."""
    data = generation.image_bytes
    try:
        _, size = check_image(data)
        data = with_metadata(data, generation.metadata, size)
    except ValueError:
        pass  # a format metadata cannot be added to: the bytes as the backend gave them
    return image_name(job.ordinal, slug(job.prompt), generation.seed, job.key, suffix_for(generation.mime_type)), data


def record_written(
    manifest: Manifest, job: Job, name: str, parameters: Mapping[str, Any], backend_name: str, seconds: float
) -> ManifestLine:
    """Record ``job``'s image, written as ``name`` (here or by a worker); its manifest line."""
    entry = ManifestLine(
        job.key, "done", job.line, job.prompt, parameters_of(parameters), backend_name, name, seconds=seconds
    )
    manifest.record(entry)
    return entry


def failure_text(error: BaseException) -> str:
    """The manifest's words for an error that is not a FluxError: its type and message, made safe."""
    return FluxError(f"{type(error).__name__}: {error}").args[0][:1000]


def record_failed(manifest: Manifest, job: Job, error: str, backend_name: str, seconds: float) -> ManifestLine:
    """Write the manifest line of an image that could not be made; the line."""
    request = job.request
    asked = parameters_of({**vars(request), "seed": None if request.randomize_seed else request.seed})
    entry = ManifestLine(job.key, "failed", job.line, request.prompt, asked, backend_name, error=error, seconds=seconds)
    manifest.record(entry)
    return entry
