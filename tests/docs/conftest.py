"""The documentation, built once per test session for the tests that read the built pages."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

# A full build takes a few seconds on one core; nothing near this.
_BUILD_TIMEOUT_SECONDS = 600
# Every page read afresh, and nitpicky, so that a reference to a name nobody documents is
# reported; the warnings are written to a file for the tests to judge (a CI build with
# -W fails on any warning but the nitpicky ones, which it does not ask for).
_SPHINX_BUILD = (sys.executable, "-m", "sphinx", "-n", "--keep-going", "-q", "-E", "-b", "html")


@dataclass(frozen=True)
class BuiltDocs:
    """The built HTML and the warnings the build gave.

    Attributes:
        html: The folder of the built pages.
        warnings: The build's warning lines.
    """

    html: Path
    warnings: tuple[str, ...]


@pytest.fixture(scope="session")
def docs_build(tmp_path_factory: pytest.TempPathFactory) -> BuiltDocs:
    """Build the HTML documentation once per session."""
    pytest.importorskip("sphinx", reason="the docs toolchain is the 'docs' dependency group")
    out = tmp_path_factory.mktemp("docs-html")
    warnings_file = out.parent / f"{out.name}-warnings.txt"
    result = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [*_SPHINX_BUILD, "-w", str(warnings_file), str(DOCS), str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=_BUILD_TIMEOUT_SECONDS,
        check=False,
    )
    assert result.returncode == 0, f"the docs build failed:\n{result.stderr}"
    lines = warnings_file.read_text(encoding="utf-8").splitlines() if warnings_file.exists() else []
    return BuiltDocs(html=out, warnings=tuple(line for line in lines if "WARNING" in line))


@pytest.fixture(scope="session")
def built_docs(docs_build: BuiltDocs) -> Path:
    """The folder of the built HTML pages."""
    return docs_build.html
