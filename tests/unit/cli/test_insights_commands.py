"""``insights`` and ``stale`` refusals: stores that keep counts in process, bad thresholds."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support import run_cli

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.parametrize("command", ["insights", "stale"])
def test_a_file_store_is_refused_with_what_to_do(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flags = tmp_path / "flags.yaml"
    flags.write_text("flags: {}\n", encoding="utf-8")
    status, out = run_cli(command, "--store", f"file:{flags}")
    assert (status, out) == (2, "")
    error = capsys.readouterr().err
    assert "only in the process that counted them" in error
    assert "/insights" in error


@pytest.mark.parametrize("days", ["0", "-1", "366", "nan", "soon"])
def test_bad_days_are_a_usage_error(days: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run_cli("stale", "--unused-days", days)
    assert exited.value.code == 2
    assert "days must be a number above 0 and at most 365" in capsys.readouterr().err


def test_a_namespace_never_written_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'flags.db'}"
    flags = tmp_path / "flags.yaml"
    flags.write_text("flags:\n  a: {state: ENABLED, variants: {x: 1}, defaultVariant: x}\n")
    assert run_cli("import", "--store", url, str(flags))[0] == 0
    status, _ = run_cli("insights", "--store", url, "--namespace", "prodution")
    assert status == 1
    assert "has never been written" in capsys.readouterr().err
