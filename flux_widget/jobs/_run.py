"""Large jobs from Python (:func:`run_batch`) and from the command line (``--prompts FILE --out DIR``).

Both read prompts as :mod:`.prompt_files` does, run them with :func:`.jobs.run_jobs` (or on Ray,
``engine="ray"``, with the local backend) and show a tqdm progress bar with rate and ETA: on the
terminal, or as a widget in a notebook, where the latest image is shown under it as they arrive.
tqdm is the one library for this that works in both places (``tqdm.auto``) with nothing else.
"""

from __future__ import annotations

import base64
import contextlib
import html
import pickle
import signal
import sys
import tempfile
from argparse import Namespace
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar, Unpack

from .._generate import split_options
from .._options import backend_from, drawing_from
from .._runner import run_sync
from ..backends._cache import shared_client
from ..backends._count import BATCH_CONCURRENCY
from ..backends.base import BackendOptions, backend_kind
from ..errors import FluxError, InvalidRequestError
from ..folders._manifest import ManifestLine
from ..folders._remote import job_folder
from ..types import DrawingParameters, Generation
from ._engine import JobReport, run_jobs
from ._prompt_files import JobSource, PromptLine, iter_prompts, read_lines

__all__ = ["ENGINES", "run_batch", "run_prompt_file"]

ENGINES = ("asyncio", "ray")


class BatchOptions(DrawingParameters, BackendOptions, total=False):
    """What :func:`run_batch` takes besides its own arguments: the drawing parameters every prompt
    starts from, and where the images are made (:func:`~flux_widget.generate`'s backend options)."""


def run_batch(
    prompts: Iterable[str | Mapping[str, Any]],
    out: str | Path,
    *,
    engine: str = "asyncio",
    count: int = 1,
    seed: int | None = None,
    concurrency: int | None = None,
    retries: int = 3,
    deadline: float | None = None,
    workers: int | None = None,
    progress: bool = True,
    **options: Unpack[BatchOptions],
) -> JobReport:
    """Make an image for each prompt (``count`` each) into the folder ``out``, resumably; the report.

    ``prompts`` are strings (read like the lines of a prompt file) or dicts with ``prompt`` and,
    optionally, ``seed``, ``count`` and the drawing parameters (``width``, ``height``, ``steps``, …),
    which override those given here (:class:`~flux_widget.types.DrawingParameters`). Each image is
    written with its parameters inside and a line in ``out/manifest.jsonl``; calling again with
    the same prompts makes only what is missing. With ``seed`` the images take ``seed``,
    ``seed + 1``, … in order. ``concurrency`` (default 2 for a Space, 1 for the local backend)
    images run at a time; quota errors wait and try again up to ``retries`` times. ``engine="ray"``
    runs a local-backend job on a Ray cluster (``workers`` pipelines; see README, "Large jobs").
    Backend options are :func:`~flux_widget.generate`'s. In a notebook a progress bar and the
    latest image show while it runs (with its prompt and seed), and the Stop button cancels it: the
    report so far is returned (``report.interrupted``) and every image made is kept in ``out``.
    """
    drawing, where = split_options(options, DrawingParameters)
    jobs = JobSource(_reopenable(prompts), count=count, seed=seed, **drawing)
    report = JobReport(Path(out))
    try:
        return _run(jobs, out, engine, concurrency, retries, deadline, workers, progress, where, report)
    except KeyboardInterrupt:
        if not _in_notebook():
            raise  # a script's Ctrl-C stays an exception
        # The notebook's Stop: what was saved, and how to go on, instead of a traceback.
        report.interrupted = True
        print(f"Stopped: {report}. Run the same call again to make what is left.", file=sys.stderr)
        return report


def run_prompt_file(args: Namespace) -> int:
    """The command line's ``--prompts FILE --out DIR``: run the job, print the summary; the exit status.

    Usage and file errors (the prompt file, the folder) exit 2 before anything is sent. SIGTERM stops
    the run as Ctrl-C does (the running images cancelled, the summary printed) and exits 143.
    """
    try:
        if args.prompts == "-":
            lines = _reopenable(read_lines(sys.stdin.buffer))  # a line that is not text stops it here
        else:
            lines = _file_lines(Path(args.prompts))
        jobs = JobSource(lines, count=args.count, seed=args.seed, **drawing_from(args))
    except OSError as exc:
        print(f"error: cannot read {args.prompts}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except FluxError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report = JobReport(Path(args.out))
    with _sigterm_as_interrupt(report):
        try:
            _run(
                jobs, args.out, args.engine, args.concurrency, args.retries, args.deadline, args.workers, True,
                backend_from(args), report,
            )  # fmt: skip
        except KeyboardInterrupt:
            report.interrupted = True
        except FluxError as exc:
            print(f"error: {exc}", file=sys.stderr)
            if not report.started:
                return 2
            report.failed += 1  # the image that could not be written or recorded (see the error)
    print(report, file=sys.stderr)  # each failure was said as it happened, above the bar
    if report.started and (report.interrupted or report.failed):
        print("Run the same command again to make what is left: what is done is skipped.", file=sys.stderr)
    return report.exit_code


@contextlib.contextmanager
def _sigterm_as_interrupt(report: JobReport) -> Iterator[None]:
    """While the run lasts, SIGTERM (``timeout``, ``docker stop``, systemd) is Ctrl-C, noted in ``report``."""

    def on_sigterm(signum: int, frame: object) -> None:
        report.stopped_by = signal.SIGTERM
        signal.raise_signal(signal.SIGINT)  # the event loop's own Ctrl-C: the running jobs are cancelled

    try:
        previous = signal.signal(signal.SIGTERM, on_sigterm)
    except ValueError:  # not the main thread: signals are not ours to take
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _reopenable(prompts: Iterable[str | Mapping[str, Any]]) -> Callable[[], Iterable[PromptLine]]:
    """The prompts' lines as often as asked: a list's read again, any other stream's kept on disk (not in memory)."""
    if isinstance(prompts, Sequence) and not isinstance(prompts, str):
        return lambda: iter_prompts(prompts)
    spooled = _spooled(prompts)
    return lambda: iter_prompts(spooled())


#: What a spool holds: the prompts as given (text or dicts), read as a prompt file's lines each pass.
_Item = TypeVar("_Item")
#: Lines pickled together in a spool: one load each, not one a line.
_SPOOLED_TOGETHER = 4096


def _spooled(lines: Iterable[_Item]) -> Callable[[], Iterator[_Item]]:
    """``lines`` (a stream read once: standard input's lines, a generator's prompts) written to a private
    temporary file as they come, read back from there for each pass."""
    spool = tempfile.TemporaryFile()  # open while the run lasts; gone when collected
    chunk: list[_Item] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) == _SPOOLED_TOGETHER:
            pickle.dump(chunk, spool, protocol=pickle.HIGHEST_PROTOCOL)
            chunk = []
    pickle.dump(chunk, spool, protocol=pickle.HIGHEST_PROTOCOL)
    size = spool.tell()

    def read() -> Iterator[_Item]:
        spool.seek(0)
        while spool.tell() < size:
            yield from pickle.load(spool)  # our own private file, written just above

    return read


def _file_lines(path: Path) -> Callable[[], Iterator[PromptLine]]:
    """A prompt file's lines, read from the file afresh for each pass (its ``images`` relative to its folder)."""

    def read() -> Iterator[PromptLine]:
        with open(path, "rb") as file:
            yield from iter_prompts(read_lines(file), path.parent)

    return read


def _run(
    jobs: JobSource,
    out: str | Path,
    engine: str,
    concurrency: int | None,
    retries: int,
    deadline: float | None,
    workers: int | None,
    progress: bool,
    options: BackendOptions,
    report: JobReport,
) -> JobReport:
    """Run ``jobs`` on ``engine`` with a progress bar, filling in ``report``."""
    if engine not in ENGINES:
        raise InvalidRequestError(f"engine must be 'asyncio' or 'ray', not {str(engine)[:40]!r}.")
    kind = backend_kind(options.get("backend"))
    if engine == "ray" and kind != "local":
        raise InvalidRequestError(
            "engine='ray' runs the local backend on many GPUs; a Space or Inference Providers job "
            "runs its images concurrently in one process (engine='asyncio', the default)."
        )
    # Every line is checked before anything is sent: a new folder is not even made for a bad one.
    if not Path(str(out)).expanduser().is_dir():
        jobs.check()
    # One run per folder: a second stops here, naming this one, before it touches anything.
    with job_folder(out) as manifest:
        total = left = 0
        for job in jobs:  # one pass to check (if not done above) and count what is left
            total, left = total + 1, left + (not manifest.is_done(job.key))
        if not left:  # all done already: skipped, and no backend started
            report.out, report.started, report.skipped = manifest.location, True, total
            return report
        bar = _ProgressBar(left, enabled=progress)
        stopped = False
        try:
            if engine == "ray":
                from ._ray import run_on_ray  # ray, imported only when chosen

                return run_on_ray(jobs, manifest, options, workers=workers, report=report, on_finished=bar)
            chosen = concurrency or (1 if kind == "local" else BATCH_CONCURRENCY)

            async def go() -> JobReport:
                return await run_jobs(
                    shared_client(**options), jobs, manifest, backend_name=kind, concurrency=chosen, retries=retries,
                    deadline=deadline, on_finished=bar, report=report,
                )  # fmt: skip

            return run_sync(go)
        except KeyboardInterrupt:
            stopped = True
            raise
        finally:
            bar.close(stopped=stopped)


class _ProgressBar:
    """tqdm's bar over the images still to make (a widget in a notebook), the latest image shown under it."""

    def __init__(self, total: int, *, enabled: bool) -> None:
        self._bar: Any = None
        self._shown: Any = None
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, unit="image", dynamic_ncols=True, file=sys.stderr)
        self._notebook = enabled and "ipykernel" in sys.modules and _in_notebook()

    def __call__(self, entry: ManifestLine, generation: Generation | None) -> None:
        if self._bar is None:
            return
        if entry.status == "failed":  # said as it happens, above the bar, not only in the summary
            self._bar.write(f"failed: line {entry.line}: {entry.error}", file=sys.stderr)
        self._bar.update(1)
        if generation is not None and self._notebook:
            from IPython.display import HTML, display

            from .._images import display_bytes

            data, mime_type = display_bytes(generation.image_bytes, generation.metadata, max_side=256)
            source = f"data:{mime_type};base64,{base64.b64encode(data).decode('ascii')}"
            words = html.escape(f"{generation.prompt} · seed {generation.seed} · {entry.file}")
            picture = HTML(
                f'<figure style="margin:0"><img src="{source}" alt="{html.escape(generation.prompt)}">'
                f'<figcaption style="font-size:0.9em;opacity:0.8">{words}</figcaption></figure>'
            )
            if self._shown is None:
                self._shown = display(picture, display_id=True)
            else:
                self._shown.update(picture)

    def close(self, *, stopped: bool = False) -> None:
        """End the bar; a stopped run's bar is cleared (its summary says the rest), so no second line stays."""
        if self._bar is not None:
            if stopped:
                self._bar.leave = False
            self._bar.close()


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"
