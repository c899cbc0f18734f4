"""Gradio's other doors (issue 18): the addresses people paste, private Spaces, apps with their own login."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.helpers import wait_until
from support.misbehaving import Seen
from support.servers import running_standin

import flux_widget
from flux_widget import AuthenticationError, FluxClient, FluxWidget, InvalidRequestError

pytestmark = pytest.mark.anyio
USER, PASSWORD = "flux-user", "a-long-enough-password"


async def test_a_url_with_a_query_reaches_the_space(space: str) -> None:
    async with FluxClient(f"{space}/?__theme=dark#result") as client:
        assert (
            await client.generate("queried", width=256, height=256, steps=1, seed=3, randomize_seed=False)
        ).seed == 3


@pytest.fixture(scope="module")
def login_space(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Gradio stand-in launched with Gradio's own login (``auth=``)."""
    with running_standin(tmp_path_factory.mktemp("login"), "--login", f"{USER}:{PASSWORD}") as url:
        yield url


async def test_an_app_with_a_login_works_with_auth(login_space: str) -> None:
    async with FluxClient(login_space, auth=(USER, PASSWORD)) as client:
        generation = await client.generate("logged in", width=256, height=256, steps=1, seed=5, randomize_seed=False)
    assert generation.seed == 5 and generation.image.size == (256, 256)


async def test_without_auth_or_with_a_wrong_password_it_says_so(login_space: str) -> None:
    async with FluxClient(login_space) as client:
        with pytest.raises(AuthenticationError, match=r"refused access .*no token was sent.*auth=\(user, password\)"):
            await client.generate("not logged in", width=256, height=256)
    async with FluxClient(login_space, auth=(USER, "wrong-password-here")) as client:
        with pytest.raises(AuthenticationError, match="refused the user name or password") as caught:
            await client.generate("wrong", width=256, height=256)
    assert "wrong-password-here" not in str(caught.value)
    with pytest.raises(InvalidRequestError, match="auth must be a"):
        FluxClient(login_space, auth=("only-a-user",))  # type: ignore[arg-type]


def test_the_cli_takes_the_password_from_the_environment_never_the_command_line(
    login_space: str, tmp_path: Path
) -> None:
    env = {**os.environ, "FLUX_WIDGET_PASSWORD": PASSWORD}
    base = [
        sys.executable,
        "-m",
        "flux_widget",
        "cli login",
        "--space",
        login_space,
        "--width",
        "256",
        "--height",
        "256",
    ]
    ok = subprocess.run([*base, "--auth", USER], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert ok.returncode == 0 and (tmp_path / "flux.webp").exists(), ok.stderr
    inline = subprocess.run(
        [*base, "--auth", f"{USER}:{PASSWORD}", "-o", "x.png"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert inline.returncode == 1 and "a password on the command line is seen by others" in inline.stderr
    assert PASSWORD not in inline.stderr


async def test_a_private_space_that_refuses_says_whether_a_token_was_sent(bad_space: tuple[str, Seen]) -> None:
    for token, says in ((None, "no token was sent"), ("hf_" + "PrivateSpaceToken" * 2, "the token sent was refused")):
        async with FluxClient(f"{bad_space[0]}/private", token=token) as client:
            with pytest.raises(AuthenticationError, match=says):
                await client.generate("private", width=256, height=256)


def test_generate_takes_auth_too(login_space: str) -> None:
    generation = flux_widget.generate(
        "sync login", space=login_space, auth=(USER, PASSWORD), width=256, height=256, steps=1
    )
    assert generation.image.size == (256, 256)


async def test_a_parameter_not_given_is_the_spaces_own_default_everywhere(
    dev_space: tuple[str, Path], tmp_path: Path
) -> None:
    url, _ = dev_space  # a FLUX.1-dev-like Space: 28 steps by default
    generation = await flux_widget.agenerate("dev default", space=url, width=256, height=256)
    assert generation.steps == 28
    widget = flux_widget.FluxWidget(url, width=256, height=256)
    try:
        await widget._discover()
        assert widget.steps == 28  # the Space's default, shown in the control
        assert (await widget.generate("dev widget")).steps == 28
    finally:
        widget.close()
    told = flux_widget.FluxWidget(url, width=256, height=256, steps=3)
    try:
        await told._discover()
        assert told.steps == 3  # given: kept
    finally:
        told.close()
    cli = subprocess.run(
        [sys.executable, "-m", "flux_widget", "dev cli", "--space", url, "--width", "256", "--height", "256"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert cli.returncode == 0 and "28 steps" in cli.stdout, cli.stderr


@pytest.mark.parametrize(
    ("address", "said"),
    [
        ("http://user:hunter2@127.0.0.1:9/", "holds a user name or password before '@'"),
        ("http://user:p%40ss+word-long-enough@127.0.0.1:9/", "holds a user name or password before '@'"),
        ("http://127.0.0.1:9/\r\nX-Injected: yes", "holds a control character or a space"),
        ("http://127.0.0.1:9/\x00", "holds a control character or a space"),
        ("http://127.0.0.1:abc/", "is not one that can be called (Invalid port)"),
        ("http://127.0.0.1:99999/", "is not one that can be called (port 99999 is not between 1 and 65535)"),
    ],
)
def test_an_odd_space_address_is_one_clear_error_that_holds_no_secret(
    address: str, said: str, tmp_path: Path
) -> None:
    with pytest.raises(InvalidRequestError, match=re.escape(said)) as caught:
        FluxClient(address)
    assert "hunter2" not in str(caught.value) and "p%40ss" not in str(caught.value)
    with pytest.raises(InvalidRequestError, match=re.escape(said)):
        FluxWidget(address)  # refused before any trait (the saved `source`) could hold it
    if "\x00" in address:
        return  # no command line can carry a NUL
    done = subprocess.run(
        [sys.executable, "-m", "flux_widget", "a fox", "--space", address, "-o", str(tmp_path / "fox.webp")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0 and said in done.stderr and "Traceback" not in done.stderr
    assert "hunter2" not in done.stderr and "p%40ss" not in done.stderr


@pytest.mark.parametrize("password", ["hunter2", "p@ss word/with \"quotes\" and ünïcode, long enough"])
async def test_a_login_that_echoes_the_form_shows_no_spelling_of_the_password(
    bad_space: tuple[str, Seen], password: str
) -> None:
    from urllib.parse import quote, quote_plus

    base, _ = bad_space
    async with FluxClient(f"{base}/echo-login", auth=(USER, password)) as client:
        with pytest.raises(flux_widget.FluxError) as caught:
            await client.generate("echo", width=256, height=256)
    text = str(caught.value)
    assert "422" in text or "login" in text.lower()  # the refusal is said
    for spelling in {password, quote_plus(password), quote(password, safe=""), json.dumps(password)[1:-1]}:
        assert spelling not in text, spelling


async def test_a_403_is_an_authentication_error_too(bad_space: tuple[str, Seen]) -> None:
    async with FluxClient(f"{bad_space[0]}/forbidden", token="hf_" + "f" * 34) as client:
        with pytest.raises(AuthenticationError, match="HTTP 403"):
            await client.generate("forbidden", width=256, height=256)


async def test_the_widget_adopts_the_sizes_a_space_declares(bad_space: tuple[str, Seen]) -> None:
    widget = FluxWidget(f"{bad_space[0]}/declared-768x512")
    await wait_until(lambda: (widget.width, widget.height) == (768, 512), seconds=10)
    given = FluxWidget(f"{bad_space[0]}/declared-768x512", width=512)
    await wait_until(lambda: given.height == 512, seconds=10)
    assert given.width == 512  # what the caller set is kept
    widget.close()
    given.close()
