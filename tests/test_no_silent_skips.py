"""In CI nothing may skip silently: a skipped test, or a module skipping itself for a missing extra, fails."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
CASES = {
    "a test that skips": "import pytest\n\ndef test_skips():\n    pytest.skip('no reason')\n",
    "a module without its extra": (
        "import pytest\n\nextra = pytest.importorskip('no_such_extra')\n\ndef test_x():\n    pass\n"
    ),
}


def run(source: str, tmp_path: Path, ci: bool) -> subprocess.CompletedProcess[str]:
    """Run one test file under this suite's own conftest (loaded as a plugin), with or without ``CI``."""
    (tmp_path / "test_case.py").write_text(source)
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "conftest", "-q", "-p", "no:cacheprovider", "test_case.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_skip_fails_in_ci_and_stays_a_skip_elsewhere(case: str, tmp_path: Path) -> None:
    in_ci = run(CASES[case], tmp_path, ci=True)
    assert in_ci.returncode != 0 and "skipped in CI, where every test must run" in in_ci.stdout, in_ci.stdout
    locally = run(CASES[case], tmp_path, ci=False)
    assert locally.returncode in (0, 5) and "1 skipped" in locally.stdout, locally.stdout  # 5: nothing ran
