"""Strings no UTF-8 encoder accepts: lone surrogates never crash or fail an evaluation.

The fuzzing runs in a child process (``hostile_strings_child.py``): the bug it guards
against killed the interpreter with SIGSEGV, which in this process would end the run
instead of failing a test.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from openfeature_litestar._engine._text import utf8, well_formed

CHILD = Path(__file__).with_name("hostile_strings_child.py")


def test_fuzzed_strings_never_crash_or_fail_an_evaluation() -> None:
    result = subprocess.run(  # noqa: S603 - this interpreter, a file of this suite
        [sys.executable, str(CHILD)], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, (
        f"the child exited with {result.returncode} (negative: killed by that signal)\n"
        f"{result.stdout}\n{result.stderr}"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", b"plain"),
        ("\ud800", b"\xef\xbf\xbd"),
        ("a\udfffb", b"a\xef\xbf\xbdb"),
        ("\ud800\ud800", b"\xef\xbf\xbd\xef\xbf\xbd"),
        ("\U0001f600", "\U0001f600".encode()),
        # Low before high is no pair (built with chr: ruff reads such literals lossily).
        (chr(0xDE00) + chr(0xD83D), b"\xef\xbf\xbd\xef\xbf\xbd"),
    ],
)
def test_utf8_encodes_each_lone_surrogate_as_the_replacement_character(
    text: str, expected: bytes
) -> None:
    assert utf8(text) == expected
    assert well_formed(text) == expected.decode()


def test_well_formed_leaves_a_clean_string_as_it_is() -> None:
    assert well_formed("déjà vu \U0001f600") == "déjà vu \U0001f600"
