"""Large local-backend jobs on a Ray cluster: one pipeline per GPU, in Ray actors that write their own images.

Each actor (``num_gpus=1``; on the CPU ``num_cpus=1``) loads the pipeline once and makes one image
per call with the same :class:`~flux_widget.local.LocalBackend` as an in-process run, so an image
is the same pixels for the same (prompt, seed) wherever it was made. It writes the image itself,
whole, to the run's output (a folder every node mounts, or an address such as ``s3://…``), and
answers with its name and parameters only: no image's bytes pass through the driver, which writes
the manifest lines. The driver keeps two calls in flight per actor (the next image is ready to
start when one ends) and resumes as :func:`~flux_widget.jobs.run_jobs` does. An actor that dies
(killed, out of memory) is started again by Ray (up to :data:`RESTARTS` times) and its unfinished
images are asked again; the report counts the restarts. Ctrl-C kills the actors (the running images
stop) and keeps everything already written.

Why actors rather than Ray Data's ``map_batches``: Ray Data shines at reading and writing sharded
data sets; here the input is a few kilobytes of prompts, and every result must reach the driver
at once to be written, recorded in the manifest and counted, with its own error when it fails.
``ray.wait`` over actor calls gives exactly that, with the actor pool Ray Data would build anyway.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..backends.base import BackendOptions
from ..errors import FluxError, GenerationError
from ..folders._manifest import Manifest
from ..folders._remote import file_writer
from ._engine import Finished, JobReport, failure_text, image_file, pending_jobs, record_failed, record_written
from ._prompt_files import Job

__all__ = ["Painter", "run_on_ray"]

#: Calls in flight per actor: one running, one waiting to start.
IN_FLIGHT = 2
#: The longest wait for the workers to load their pipelines.
READY_TIMEOUT = 600.0
#: How many times Ray starts a dead actor again (a pipeline that crashes its process each time stops there).
RESTARTS = 3


class Painter:
    """One pipeline in one Ray actor: :meth:`make` draws one image with the local backend and writes it
    to the run's output ``location`` (its folder's path, or its address)."""

    def __init__(self, model: str | None, device: str | None, dtype: str | None, offload: str | None, location: str):
        self.model, self.device, self.dtype, self.offload = model, device, dtype, offload
        self.location = location
        self.backend: Any = None
        self.write: Any = None

    def ready(self) -> str:
        """Load the pipeline and reach the output; an empty string, or what went wrong."""
        from ..backends.local._backend import LocalBackend

        try:
            self.backend = LocalBackend(self.model, device=self.device, dtype=self.dtype, offload=self.offload)
            self.backend.load()
            self.write = file_writer(self.location)
        except FluxError as exc:
            return str(exc)
        return ""

    def make(self, job: Job) -> tuple[str, dict[str, Any]] | str:
        """Draw and write ``job``'s image: its file's name and parameters, or the error's message (any
        error of the pipeline fails this image alone). An actor started again loads its pipeline here."""
        if self.backend is None and (problem := self.ready()):
            return problem
        try:
            generation = self.backend.generate_here(job.request)  # on the actor's own thread: no loop, no thread hop
            name, data = image_file(job, generation)
            self.write(name, data)
        except FluxError as exc:
            return str(exc)
        except Exception as exc:
            return failure_text(exc)
        return name, generation.parameters


def run_on_ray(
    jobs: Iterable[Job],
    out: str | Path | Manifest,
    options: BackendOptions,
    *,
    workers: int | None,
    report: JobReport,
    on_finished: Finished | None = None,
) -> JobReport:
    """Make every job not yet done in ``out`` on the Ray cluster (``ray.init()`` if none is connected)."""
    try:
        import ray
    except ImportError:
        raise GenerationError('engine="ray" needs Ray: pip install "flux-widget[ray]".') from None
    if not ray.is_initialized():
        ray.init(address=os.environ.get("RAY_ADDRESS") or None, log_to_driver=False)
    manifest = out if isinstance(out, Manifest) else Manifest(out)
    pending = list(pending_jobs(manifest, jobs, "local", report))  # a GPU job's images, held (see docs: large jobs)
    if not pending:
        return report
    on_cpu = (options.get("device") or os.environ.get("FLUX_WIDGET_DEVICE") or "").lower() == "cpu"
    count = _workers_that_fit(ray, workers, on_cpu, len(pending))
    actor: Any = ray.remote(num_gpus=0 if on_cpu else 1, num_cpus=1, max_restarts=RESTARTS)(Painter)
    settings = (options.get("model"), options.get("device"), options.get("dtype"), options.get("offload"))
    painters: list[Any] = [
        actor.options(name=f"flux-painter-{os.getpid()}-{number}").remote(*settings, manifest.location)
        for number in range(count)
    ]
    started = time.perf_counter()
    try:
        try:
            answers = ray.get([painter.ready.remote() for painter in painters], timeout=READY_TIMEOUT)
        except ray.exceptions.GetTimeoutError:
            raise GenerationError(
                f"The Ray workers did not start within {READY_TIMEOUT:.0f} s (the cluster's resources are taken, "
                "or the pipeline takes that long to load); nothing was made."
            ) from None
        problems = [problem for problem in answers if problem]
        if problems:
            raise GenerationError(problems[0])
        _drive(ray, painters, pending, manifest, report, on_finished)
    except KeyboardInterrupt:
        report.interrupted = True
        raise
    finally:
        for painter in painters:
            ray.kill(painter)  # Ctrl-C: the running images stop with their actors
        report.seconds = time.perf_counter() - started
    return report


def _workers_that_fit(ray: Any, asked: int | None, on_cpu: bool, jobs: int) -> int:
    """How many pipelines to start: ``asked`` (default one per GPU), no more than the cluster holds.

    Asking for more than fits runs with what fits and says so (a warning); none fitting is an error.
    Resources other work holds are waited for, up to :data:`READY_TIMEOUT`.
    """
    resource = "CPU" if on_cpu else "GPU"
    total = ray.cluster_resources()
    fits = int(total.get("CPU", 0)) if on_cpu else min(int(total.get("GPU", 0)), int(total.get("CPU", 0)))
    if not on_cpu and not int(total.get("GPU", 0)):
        raise GenerationError('The Ray cluster has no GPU; device="cpu" runs small test pipelines on its CPUs.')
    if fits < 1:
        raise GenerationError(f"The Ray cluster has no {resource} for a worker; nothing was made.")
    wanted = asked or fits
    if wanted > fits:
        warnings.warn(f"workers={wanted}: the Ray cluster has {fits} {resource}s; running {fits}.", stacklevel=3)
    return max(1, min(wanted, fits, jobs))


def _drive(
    ray: Any,
    painters: list[Any],
    pending: list[Job],
    manifest: Manifest,
    report: JobReport,
    on_finished: Finished | None,
) -> None:
    """Keep :data:`IN_FLIGHT` calls per actor running; record each image as its actor answers.

    A call whose actor died is asked again (of the same actor, which Ray starts again); the failures
    of an actor between two of its answers count as one restart (calls in flight when it died, and
    those sent while it starts again, fail alike).
    """
    waiting = list(reversed(pending))
    flying: dict[Any, tuple[Job, int, float]] = {}
    answering = [True] * len(painters)  # whether each actor's last call came back

    def submit(number: int) -> None:
        if waiting:
            job = waiting.pop()
            flying[painters[number].make.remote(job)] = (job, number, time.perf_counter())

    for _ in range(IN_FLIGHT):
        for number in range(len(painters)):
            submit(number)
    while flying:
        [ready], _ = ray.wait(list(flying), num_returns=1)
        job, number, began = flying.pop(ready)
        try:
            outcome = ray.get(ready)
        except ray.exceptions.RayActorError:
            report.restarts += answering[number]  # the first failure since its last answer
            answering[number] = False
            waiting.append(job)  # made again, by the actor Ray starts again
            submit(number)
            continue
        answering[number] = True
        submit(number)
        seconds = time.perf_counter() - began
        if isinstance(outcome, tuple):
            name, parameters = outcome
            entry = record_written(manifest, job, name, parameters, "local", seconds)
        else:
            entry = record_failed(manifest, job, outcome, "local", seconds)
        report.count(job, entry)
        if on_finished is not None:
            on_finished(entry, None)  # no image's bytes at the driver: the bar counts it
