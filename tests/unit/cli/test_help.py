"""``--version``, every command's ``--help`` (description, examples, defaults) and hints."""

from __future__ import annotations

import argparse
from importlib.metadata import version
from typing import TYPE_CHECKING

import pytest

from openfeature_litestar._cli import main
from openfeature_litestar._cli._help import EXAMPLES
from openfeature_litestar._cli._parser import build_parser
from tests.support import run_cli

if TYPE_CHECKING:
    from pathlib import Path


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (subparsers,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(subparsers.choices)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out == f"openfeature-litestar {version('openfeature-litestar')}\n"


@pytest.mark.parametrize("name", sorted(_commands()))
def test_every_command_has_a_description_and_examples(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main([name, "--help"])
    assert caught.value.code == 0
    text = capsys.readouterr().out
    description = _commands()[name].description
    assert description
    assert " ".join(description.split()) in " ".join(text.split())
    examples = text.split("examples:\n", 1)[1].splitlines()
    assert examples == [f"  {line}" for line in EXAMPLES[name]]
    # Each example runs this very command (some after environment variables).
    assert all(f"openfeature-litestar {name} " in f"{line} " for line in EXAMPLES[name])


@pytest.mark.parametrize("name", sorted(_commands()))
def test_every_option_with_a_default_says_what_it_is(name: str) -> None:
    for action in _commands()[name]._actions:
        if not action.option_strings or action.help == argparse.SUPPRESS:
            continue
        if action.default in (None, False, [], argparse.SUPPRESS) or isinstance(
            action,
            argparse._HelpAction,
        ):
            continue
        assert action.help is not None
        assert "default" in action.help, f"{name} {action.option_strings} hides its default"


def test_every_command_is_in_the_examples_table() -> None:
    assert set(_commands()) == set(EXAMPLES)


@pytest.mark.parametrize(
    ("given", "meant"),
    [
        ("flags.yaml", "file:flags.yaml"),
        ("conf/flags.json", "file:conf/flags.json"),
        ("flags.db", "sqlite+aiosqlite:///flags.db"),
    ],
)
def test_a_file_name_given_as_the_store_url_names_the_url_meant(
    given: str,
    meant: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run_cli("list", "--store", given) == (2, "")
    assert f"{given!r} is not a store URL; did you mean {meant!r}?" in capsys.readouterr().err
    assert run_cli("disable", "x", "--store", given) == (2, "")
    assert f"did you mean {meant!r}?" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_scheme_that_is_no_file_name_keeps_its_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run_cli("list", "--store", "localhost") == (2, "")
    assert "unknown store URL scheme ''" in capsys.readouterr().err
