"""Prompt files for large jobs: plain text or JSON Lines, each image of them a :class:`Job` with a stable key.

Plain text: one prompt per line; blank lines and lines starting with ``#`` are skipped. JSON Lines:
objects with ``prompt`` and, optionally, ``count`` and the parameters the parameter table lets a file
set (``seed``, ``width``, ``height``, ``steps``, …), which override the command line for that line.
The two may be mixed: a line starting with ``{`` is JSON. Files are UTF-8 (a byte-order mark is
dropped), read a line at a time.

Each image's key is its prompt, which occurrence of that prompt in the file it is, and which of the
line's ``count`` images: a resumed job matches what it already made by content, so inserting or
removing other lines never makes an image twice. With a starting seed ``S`` the images take
``S, S+1, …`` in file order (a line's own ``seed`` starts its own run).

A million-line file is never held: :class:`JobSource` makes its jobs as they are read, as often as
a run goes over them (checked once before the run, counted, then run), and a job's request is made
only when the job runs.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from .._parameters import BY_NAME, DRAWING, MAX_PROMPT_CHARS, PARAMETERS
from .._parameters import next_seed as next_seed_of
from ..backends._count import check_count
from ..errors import InvalidRequestError
from ..folders._folder import digest
from ..types import GenerationRequest

__all__ = [
    "MAX_LINE_BYTES",
    "Job",
    "JobSource",
    "PromptLine",
    "iter_prompts",
    "jobs_from",
    "parse_prompts",
    "read_lines",
]

#: What a JSON line may set besides its prompt.
LINE_FIELDS = (*(parameter.name for parameter in PARAMETERS if parameter.in_file), "count")
#: What a line overrides of the command line's request parameters.
_PARAMETERS = tuple(parameter.name for parameter in DRAWING)
#: The longest line a prompt file may hold, in bytes (a JSON line with a prompt of the longest length fits).
MAX_LINE_BYTES = 8 * MAX_PROMPT_CHARS
#: The most digits of a number in a JSON line (a seed has 10).
_MAX_DIGITS = 20


@dataclass(frozen=True)
class PromptLine:
    """One prompt of a file, with its line number (from 1) and what that line overrides."""

    number: int
    prompt: str
    overrides: Mapping[str, Any]


class Job(NamedTuple):
    """One image of a large job: where it comes from, the key that finds it again on a resumed run,
    and (made when asked, from the line's checked settings) its request."""

    ordinal: int
    line: int
    occurrence: int
    image: int
    prompt: str
    #: The image's seed; ``None``: the backend picks one.
    seed: int | None
    #: The line's request, checked once for all its images (its prompt and seed are the job's).
    settings: GenerationRequest

    @property
    def key(self) -> str:
        """``prompt`` ⟂ occurrence ⟂ image: what a manifest line is matched by."""
        return f"{self.prompt}\x1f{self.occurrence}\x1f{self.image}"

    @property
    def request(self) -> GenerationRequest:
        """What the backend is asked for this image."""
        return replace(self.settings, prompt=self.prompt, seed=self.seed or 0, randomize_seed=self.seed is None)


def parse_prompts(lines: Iterable[str | Mapping[str, Any]], folder: Path | None = None) -> list[PromptLine]:
    """The prompts of a file's lines (or of Python strings and dicts, read the same way).

    A line's ``images`` are paths relative to ``folder`` (the prompt file's; the current one if None).
    A line that cannot be read is an :class:`InvalidRequestError` naming its number.
    """
    return list(iter_prompts(lines, folder))


def iter_prompts(lines: Iterable[str | Mapping[str, Any]], folder: Path | None = None) -> Iterator[PromptLine]:
    """:func:`parse_prompts`, a line at a time."""
    for number, raw in enumerate(lines, start=1):
        if isinstance(raw, Mapping):
            yield _object_line(number, raw, folder)
            continue
        if not isinstance(raw, str):  # from Python: None, a number, bytes
            raise InvalidRequestError(f"line {number} must be a prompt (text) or a dict, not {type(raw).__name__}.")
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        if not text.startswith("{"):
            yield PromptLine(number, text, {})
            continue
        yield _object_line(number, _json_line(number, text), folder)


def read_lines(stream: BinaryIO) -> Iterator[str]:
    """The lines of a prompt file opened in binary, read one at a time (a 50 MB line is never held).

    A byte-order mark is dropped; a line longer than :data:`MAX_LINE_BYTES`, holding a NUL byte or
    not UTF-8 is an :class:`InvalidRequestError` naming its number.
    """
    number = 0
    while raw := stream.readline(MAX_LINE_BYTES + 1):
        number += 1
        if len(raw) > MAX_LINE_BYTES:
            raise InvalidRequestError(
                f"line {number} is longer than {MAX_LINE_BYTES // 1024} KiB; a prompt is at most "
                f"{MAX_PROMPT_CHARS} characters."
            )
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        if b"\0" in raw:
            raise InvalidRequestError(f"line {number} holds a NUL byte: a prompt file is text (UTF-8), not binary.")
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidRequestError(
                f"line {number} is not UTF-8 text (byte {exc.start + 1} of the line): save the file as UTF-8."
            ) from None


def _json_line(number: int, text: str) -> object:
    """A JSON line's value; a line that is not JSON, or holds absurd numbers or nesting, names its number."""
    try:
        return json.loads(text, parse_int=_short_int, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise InvalidRequestError(f"line {number} is not valid JSON: {exc.msg}.") from None
    except RecursionError:
        raise InvalidRequestError(f"line {number} is nested too deeply to be a prompt line.") from None
    except ValueError as exc:
        raise InvalidRequestError(f"line {number} {exc}.") from None


def _short_int(digits: str) -> int:
    if len(digits.lstrip("-")) > _MAX_DIGITS:
        raise ValueError(f"holds a number of {len(digits)} digits; numbers in a prompt line have at most {_MAX_DIGITS}")
    return int(digits)


def _no_constant(name: str) -> object:
    raise ValueError(f"holds {name}, which is not a number a prompt line can use")


def _object_line(number: int, item: object, folder: Path | None) -> PromptLine:
    if not isinstance(item, Mapping) or not isinstance(item.get("prompt"), str) or not item["prompt"].strip():
        raise InvalidRequestError(f'line {number} must be an object with a "prompt" string.')
    unknown = sorted(set(item) - {"prompt", *LINE_FIELDS})
    if unknown:
        raise InvalidRequestError(f"line {number} has fields this tool does not know: {', '.join(unknown)}.")
    overrides = {key: item[key] for key in LINE_FIELDS if key in item}
    if "images" in overrides:
        overrides["images"] = _image_paths(number, overrides["images"], folder)
    return PromptLine(number, item["prompt"].strip(), overrides)


def _image_paths(number: int, images: object, folder: Path | None) -> list[object]:
    """A line's ``images``: file paths (text), each relative to the prompt file's folder."""
    given = [images] if isinstance(images, str) else images
    if not isinstance(given, list) or not all(isinstance(path, str) and path for path in given):
        raise InvalidRequestError(f'line {number}: "images" must be a list of file paths.')
    base = folder or Path.cwd()
    return [base / Path(path).expanduser() for path in given]


def jobs_from(lines: Iterable[PromptLine], *, count: int = 1, seed: int | None = None, **parameters: Any) -> list[Job]:
    """Every image of ``lines``: ``count`` per line unless a line says otherwise, seeds as the module says.

    ``parameters`` (the drawing parameters: ``width``, ``height``, ``steps``, …) are the command line's; without a
    ``seed`` anywhere, each image gets a random one from the backend.
    """
    return list(iter_jobs(lines, count=count, seed=seed, **parameters))


def iter_jobs(
    lines: Iterable[PromptLine], *, count: int = 1, seed: int | None = None, **parameters: Any
) -> Iterator[Job]:
    """:func:`jobs_from`, a line at a time: every line checked (its number named), nothing held but each
    prompt's :func:`~flux_widget.folders._folder.digest` and a count of those seen again, for the keys' occurrences."""
    seen: set[int] = set()  # each prompt's digest once; ``repeats`` counts a prompt seen again
    repeats: dict[int, int] = {}
    check_prompt, check_seed = BY_NAME["prompt"].checked, BY_NAME["seed"].check
    next_seed = None if seed is None else check_seed("seed", seed)  # the seeds after it are made, not given
    plain: GenerationRequest | None = None  # the command line's settings, checked once for every plain line
    ordinal = 0
    for line in lines:
        hashed = digest(line.prompt)
        if hashed in seen:
            occurrence = repeats[hashed] = repeats.get(hashed, 0) + 1
        else:
            seen.add(hashed)
            occurrence = 0
        overrides = line.overrides
        try:
            images = check_count(overrides.get("count", count))
            own = {name: overrides[name] for name in _PARAMETERS if name in overrides} if overrides else {}
            start = check_seed("seed", overrides["seed"]) if "seed" in overrides else next_seed
            prompt = check_prompt(line.prompt)
            if own or plain is None:
                settings = GenerationRequest.build(prompt, **{**parameters, **own})
                plain = settings if not own else plain
            else:
                settings = plain
        except InvalidRequestError as exc:
            raise InvalidRequestError(f"line {line.number}: {exc}") from None
        for image in range(images):
            ordinal += 1
            chosen = start if start is None or image == 0 else next_seed_of(start, image)
            yield Job(ordinal, line.number, occurrence, image, prompt, chosen, settings)
        if next_seed is not None and "seed" not in overrides:
            next_seed = next_seed_of(next_seed, images)


class JobSource:
    """The jobs of a prompt file, or of a list of prompts, made as they are read, as many times as asked.

    ``open_lines`` gives the lines afresh each time; the other arguments are :func:`jobs_from`'s.
    Iterating it again makes the same jobs (their seeds and keys are decided by the lines alone).
    """

    def __init__(
        self,
        open_lines: Callable[[], Iterable[PromptLine]],
        *,
        count: int = 1,
        seed: int | None = None,
        **parameters: Any,
    ) -> None:
        self._open_lines = open_lines
        self._count, self._seed, self._parameters = count, seed, parameters

    def __iter__(self) -> Iterator[Job]:
        return iter_jobs(self._open_lines(), count=self._count, seed=self._seed, **self._parameters)

    def check(self) -> int:
        """Go over every line once (a bad one is an :class:`InvalidRequestError` naming it); how many images."""
        return sum(1 for _ in self)
