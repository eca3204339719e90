"""Every Python snippet of the documentation runs as written, or says it is a fragment.

The snippets are the ``.. code-block:: python`` blocks of ``docs/**/*.rst`` and the
```` ```python ```` blocks of README.md. Each runs in a fresh interpreter (so the
OpenFeature API's global state, loggers and background threads of one never reach the
next), with the repository root as its working directory, and top-level ``await``
allowed: a block that awaits is compiled with ``ast.PyCF_ALLOW_TOP_LEVEL_AWAIT`` and its
coroutine run with ``asyncio.run``. Its source keeps the page's line numbers, so a
traceback names the line of the page. The environment holds the variables the pages tell
a reader to set (:data:`PAGE_ENVIRONMENT`), with made-up values.

A block that cannot run as written (a fragment of a larger example, a placeholder, a
server it does not start) carries ``:class: fragment`` (README.md: an HTML comment
``<!-- fragment -->`` on the line before the fence), and the paragraph just before it
says it is a fragment. Blocks that use Redis or PostgreSQL run against the servers the
rest of the suite uses, and skip (or, under CI, fail) without them.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from openfeature_litestar import HASH_KEY_ENV

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]

# The directive, its options (":class: fragment"), then the body: every line indented
# deeper than the directive, or blank.
_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)\.\. code-block::[ \t]+python3?[ \t]*$")
_OPTION = re.compile(r"^[ \t]+:(?P<name>[\w-]+):(?P<value>.*)$")
_FENCE = re.compile(r"^```python3?[ \t]*$")
_FRAGMENT_COMMENT = "<!-- fragment -->"

# What a block runs in: the page's source, compiled as the page's file so that a
# traceback names the page and line; an awaiting block's coroutine under asyncio.run; the
# OpenFeature API shut down at the end, as an application does on its way out.
_RUNNER = """
import ast, asyncio, inspect, sys
filename = sys.argv[1]
source = sys.stdin.read()
code = compile(source, filename, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
namespace = {"__name__": "__main__"}
try:
    if code.co_flags & inspect.CO_COROUTINE:
        asyncio.run(eval(code, namespace))
    else:
        exec(code, namespace)
finally:
    from openfeature import api
    api.shutdown()
"""
PAGE_ENVIRONMENT = {
    HASH_KEY_ENV: "docs-snippets-hash-key-not-a-secret",
    "OFREP_TOKENS": "token-for-web,token-for-billing-service",
    "DEPLOY_TOKEN": "deploy-token-for-the-docs",
}
"""The environment variables the pages ask a reader to set, and made-up values for them."""

# A stuck block would otherwise hang the suite; no block comes near this.
_TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class Snippet:
    """One Python block of a page.

    Attributes:
        page: The page's path, relative to the repository root.
        line: The line (1-based) of the directive or opening fence.
        first_line: The line (1-based) of the block's first source line.
        source: The block's code, dedented.
        fragment: Whether the block is marked as a fragment.
        preceding: The paragraph just before the block.
    """

    page: str
    line: int
    first_line: int
    source: str
    fragment: bool
    preceding: str

    @property
    def id(self) -> str:
        """The test id: page and line."""
        return f"{self.page}:{self.line}"

    def numbered_source(self) -> str:
        """The source with blank lines before it, so that its lines are the page's."""
        return "\n" * (self.first_line - 1) + self.source


def _paragraph_before(lines: list[str], index: int) -> str:
    """The paragraph (non-blank lines) that ends just before ``lines[index]``."""
    end = index
    while end > 0 and not lines[end - 1].strip():
        end -= 1
    start = end
    while start > 0 and lines[start - 1].strip():
        start -= 1
    return " ".join(line.strip() for line in lines[start:end])


def _indent(line: str) -> int:
    expanded = line.expandtabs()
    return len(expanded) - len(expanded.lstrip())


def rst_snippets(text: str, page: str) -> Iterator[Snippet]:
    """The ``.. code-block:: python`` blocks of a reStructuredText page.

    Args:
        text: The page's text.
        page: The page's name, for the snippets' ids.

    Yields:
        Each block, in page order.
    """
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        match = _DIRECTIVE.match(lines[index])
        if match is None:
            index += 1
            continue
        start = index
        indent = _indent(lines[index])
        index += 1
        classes: list[str] = []
        while index < len(lines) and (option := _OPTION.match(lines[index])):
            if option["name"] == "class":
                classes += option["value"].split()
            index += 1
        body_start = index
        while index < len(lines) and (not lines[index].strip() or _indent(lines[index]) > indent):
            index += 1
        body = lines[body_start:index]
        while body and not body[0].strip():
            body.pop(0)
            body_start += 1
        yield Snippet(
            page=page,
            line=start + 1,
            first_line=body_start + 1,
            source=textwrap.dedent("\n".join(body)).rstrip() + "\n",
            fragment="fragment" in classes,
            preceding=_paragraph_before(lines, start),
        )


def markdown_snippets(text: str, page: str) -> Iterator[Snippet]:
    """The ```` ```python ```` blocks of a Markdown page.

    Args:
        text: The page's text.
        page: The page's name, for the snippets' ids.

    Yields:
        Each block, in page order.
    """
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        if not _FENCE.match(lines[index].strip()):
            index += 1
            continue
        start = index
        marked = start > 0 and lines[start - 1].strip() == _FRAGMENT_COMMENT
        index += 1
        body_start = index
        while index < len(lines) and lines[index].strip() != "```":
            index += 1
        yield Snippet(
            page=page,
            line=start + 1,
            first_line=body_start + 1,
            source=textwrap.dedent("\n".join(lines[body_start:index])).rstrip() + "\n",
            fragment=marked,
            preceding=_paragraph_before(lines, start - 1 if marked else start),
        )
        index += 1


def all_snippets() -> list[Snippet]:
    """Every Python block of the documentation pages and README.md."""
    found: list[Snippet] = []
    for path in sorted((ROOT / "docs").rglob("*.rst")):
        page = path.relative_to(ROOT).as_posix()
        found += rst_snippets(path.read_text(encoding="utf-8"), page)
    found += markdown_snippets((ROOT / "README.md").read_text(encoding="utf-8"), "README.md")
    return found


SNIPPETS = all_snippets()
RUNNABLE = [snippet for snippet in SNIPPETS if not snippet.fragment]
FRAGMENTS = [snippet for snippet in SNIPPETS if snippet.fragment]


def _servers_needed(source: str) -> list[str]:
    """The server fixtures a block needs, from the URLs it names."""
    needed = []
    if "redis://" in source:
        needed.append("redis_url")
    if "postgresql" in source:
        needed.append("postgres_url")
    return needed


@pytest.mark.parametrize("snippet", RUNNABLE, ids=[snippet.id for snippet in RUNNABLE])
def test_snippet_runs_as_written(snippet: Snippet, request: pytest.FixtureRequest) -> None:
    for fixture in _servers_needed(snippet.source):
        request.getfixturevalue(fixture)  # skips (or fails under CI) without the server
    result = subprocess.run(  # noqa: S603 - this interpreter, our own runner, the page's code
        [sys.executable, "-W", "error", "-c", _RUNNER, snippet.page],
        input=snippet.numbered_source(),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **PAGE_ENVIRONMENT},
        timeout=_TIMEOUT_SECONDS,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(
            f"{snippet.id} failed (exit status {result.returncode}); mark it "
            f"`:class: fragment` only if it cannot run as written.\n{result.stderr}",
            pytrace=False,
        )


@pytest.mark.parametrize("snippet", FRAGMENTS, ids=[snippet.id for snippet in FRAGMENTS])
def test_fragment_says_so(snippet: Snippet) -> None:
    assert "fragment" in snippet.preceding.lower(), (
        f"{snippet.id} is marked as a fragment; the paragraph before it must say so: "
        f"{snippet.preceding!r}"
    )


@pytest.mark.parametrize("snippet", FRAGMENTS, ids=[snippet.id for snippet in FRAGMENTS])
def test_fragment_is_valid_python(snippet: Snippet) -> None:
    # A fragment need not run, but it must still be Python a reader can paste.
    compile(
        snippet.source,
        snippet.id,
        "exec",
        flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT | ast.PyCF_ONLY_AST,
    )


def test_the_collector_finds_the_pages_blocks() -> None:
    pages = {snippet.page for snippet in SNIPPETS}
    assert {"docs/quickstart.rst", "docs/index.rst", "README.md"} <= pages
    assert len(SNIPPETS) >= 50


RST_SAMPLE = """\
Title
=====

Some prose.

.. code-block:: python

   x = 1

   y = x + 1

Not code.

- A list item:

  .. code-block:: python
     :class: fragment
     :caption: where

     await store.load()

.. code-block:: console

   $ not python

.. code-block:: python
   :class: other fragment

   z = 3
"""


def test_rst_blocks_with_options_and_nesting() -> None:
    found = list(rst_snippets(RST_SAMPLE, "sample.rst"))
    assert [(s.line, s.first_line, s.fragment) for s in found] == [
        (6, 8, False),
        (16, 20, True),
        (26, 29, True),
    ]
    assert found[0].source == "x = 1\n\ny = x + 1\n"
    assert found[1].source == "await store.load()\n"
    assert found[1].preceding == "- A list item:"
    assert found[0].numbered_source().splitlines()[7] == "x = 1"


MARKDOWN_SAMPLE = """\
# Title

Run this:

```python
print("hi")
```

A part of a larger example:

<!-- fragment -->
```python
await provider.initialize()
```
"""


def test_markdown_blocks_and_the_fragment_comment() -> None:
    found = list(markdown_snippets(MARKDOWN_SAMPLE, "sample.md"))
    assert [(s.line, s.first_line, s.fragment) for s in found] == [(5, 6, False), (12, 13, True)]
    assert found[0].source == 'print("hi")\n'
    assert found[1].preceding == "A part of a larger example:"
