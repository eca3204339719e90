"""The documentation, built once per test session for the tests that read the built pages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

# A full build takes a few seconds on one core; nothing near this.
_BUILD_TIMEOUT_SECONDS = 600
# As CI builds: warnings are errors, every page read afresh.
_SPHINX_BUILD = (sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-E", "-b", "html")


@pytest.fixture(scope="session")
def built_docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the HTML documentation as CI does (warnings are errors) and return its folder."""
    pytest.importorskip("sphinx", reason="the docs toolchain is the 'docs' dependency group")
    out = tmp_path_factory.mktemp("docs-html")
    result = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [*_SPHINX_BUILD, str(DOCS), str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=_BUILD_TIMEOUT_SECONDS,
        check=False,
    )
    assert result.returncode == 0, f"the docs build failed:\n{result.stderr}"
    return out
