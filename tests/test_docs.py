"""The documentation site: every public name in the API reference, README's sections shared, not copied."""

from __future__ import annotations

import re
from pathlib import Path

import flux_widget

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def test_the_api_reference_documents_every_public_name() -> None:
    documented = set(re.findall(r"^::: flux_widget\.[\w.]+\.(\w+)$", (DOCS / "api.md").read_text(), re.M))
    public = set(flux_widget.__all__) - {"__version__"}
    assert documented == public, {"missing": public - documented, "not public": documented - public}
    assert "flux_widget.__version__" in (DOCS / "api.md").read_text()


def test_each_name_is_documented_from_the_module_that_defines_it() -> None:
    for path, name in re.findall(r"^::: (flux_widget\.[\w.]+)\.(\w+)$", (DOCS / "api.md").read_text(), re.M):
        assert getattr(flux_widget, name) is getattr(__import__(path, fromlist=[name]), name), (path, name)


def test_readme_is_a_front_door_and_pages_own_their_text() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    started = re.findall(r"<!-- --8<-- \[start:([\w-]+)\] -->", readme)
    ended = re.findall(r"<!-- --8<-- \[end:([\w-]+)\] -->", readme)
    assert sorted(started) == sorted(ended) and len(set(started)) == len(started)
    include = re.compile(r'^--8<-- "README.md:([\w-]+)"$', re.M)
    included = [section for page in DOCS.glob("*.md") for section in include.findall(page.read_text())]
    assert sorted(included) == sorted(started)  # every section is used once, none is left out
    # No page repeats a README paragraph by hand: a long line of README's prose is found in no page
    # (examples may show the same code).
    prose = re.sub(r"^```.*?^```", "", readme, flags=re.S | re.M)
    long_lines = {line for line in prose.splitlines() if len(line) > 80 and not line.startswith(("|", "<!--", "!["))}
    for page in DOCS.glob("*.md"):
        assert not long_lines & set(page.read_text().splitlines()), page.name


def test_readme_links_reach_files_that_exist() -> None:
    readme = (ROOT / "README.md").read_text()
    for target in re.findall(r"\]\(((?!https?:)[^)#]+)(?:#[^)]*)?\)", readme):
        assert (ROOT / target).exists(), target


def test_user_facing_text_names_no_issue_and_no_work_log_date() -> None:
    for page in [ROOT / "README.md", *DOCS.glob("*.md")]:
        text = page.read_text()
        assert not re.search(r"\bissue \d+|\b20\d\d-\d\d-\d\d\b", text), page.name
