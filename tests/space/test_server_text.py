"""Text from servers reaching places that interpret it: terminals, the widget, logs, files (issue 18).

Every server-supplied text is made safe where it enters (``errors.safe_text``): terminal escapes and
control characters removed, lone surrogates replaced, the token redacted. Tested end to end against
the misbehaving server: the CLI's and ``%flux``'s output, the error's text, the widget's state.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support.kernel import run_cells, texts
from support.misbehaving import Seen

from flux_widget import FluxClient, GenerationError, Step
from flux_widget.errors import safe_text
from flux_widget.widget._widget import FluxWidget

pytestmark = pytest.mark.anyio
TOKEN = "hf_" + "ServerTextSecret" * 2
#: What must never reach a terminal: ESC, BEL, C1 CSI, bidirectional overrides, lone surrogates.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def test_safe_text_removes_escapes_and_controls_and_keeps_the_words() -> None:
    shown = safe_text("\x1b]0;pwned\x07\x1b[31mred alert\x1b[0m \x9b2J\x07 \u202eevil\u202c done \ud800.")
    assert shown == "red alert  evil done \ufffd."
    assert not UNSAFE.search(shown) and shown.encode("utf-8")


async def test_an_escaping_error_is_shown_as_plain_words(bad_space: tuple[str, Seen]) -> None:
    async with FluxClient(f"{bad_space[0]}/escape-error") as client:
        with pytest.raises(GenerationError) as caught:
            await client.generate("x", width=256, height=256)
    assert "red alert" in str(caught.value) and "evil" in str(caught.value)
    assert not UNSAFE.search(str(caught.value)), repr(str(caught.value))


def test_the_cli_and_the_magic_print_no_escape(bad_space: tuple[str, Seen], tmp_path: Path) -> None:
    space = f"{bad_space[0]}/escape-error"
    cli = subprocess.run(
        [sys.executable, "-m", "flux_widget", "x", "--space", space, "--width", "256", "--height", "256"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert cli.returncode == 1 and "red alert" in cli.stderr
    assert not UNSAFE.search(cli.stderr.replace("\n", " ")), repr(cli.stderr)
    _, cell = run_cells(["%load_ext flux_widget", f"%flux x --space {space} --width 256 --height 256"], tmp_path)
    [line] = texts(cell, "stderr")
    assert "red alert" in line and not UNSAFE.search(line.rstrip("\n")), repr(line)


async def test_a_lone_surrogate_from_the_space_leaves_the_widget_usable(bad_space: tuple[str, Seen]) -> None:
    widget = FluxWidget(f"{bad_space[0]}/surrogate-error", width=256, height=256)
    try:
        with pytest.raises(GenerationError, match="half: \ufffd"):
            await widget.generate("x")
        assert widget.status == "error" and "half: \ufffd" in widget.error
        json.dumps(widget.get_state(["error", "status", "prompt"]), ensure_ascii=False).encode("utf-8")  # sendable
    finally:
        widget.close()


async def test_a_token_echoed_into_progress_text_is_redacted(bad_space: tuple[str, Seen]) -> None:
    events: list[object] = []
    async with FluxClient(f"{bad_space[0]}/header-progress", token=TOKEN) as client:
        await client.generate("x", width=256, height=256, on_progress=events.append)
    [step] = [event for event in events if isinstance(event, Step)]
    assert step.desc == "as Bearer hf_…(hidden)"
    assert TOKEN not in repr(events) and TOKEN not in str(events)


async def test_a_result_url_with_markup_comes_out_percent_encoded(bad_space: tuple[str, Seen]) -> None:
    from flux_widget import BlackForestLabs_Flux1Schnell

    base = f"{bad_space[0]}/markup-url"
    stream = BlackForestLabs_Flux1Schnell.create_async_generator(
        "flux", [{"role": "user", "content": "a [bracketed] cat"}], space=base, width=256, height=256
    )
    [response] = [item async for item in stream]
    [url] = response.images
    assert url.startswith(f"{base}/gradio_api/file=x") and not re.search(r"[\s\"'<>()\[\]]", url), url
    text = str(response)  # markdown; with g4f loaded, g4f's own HTML rendering of the same URL
    assert url in text and "<img src=x" not in text and 'x)">' not in text
    if not text.startswith("<"):
        assert text == f"![a \\[bracketed\\] cat]({url})"
