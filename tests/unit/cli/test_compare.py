"""`evaluate --fractional` and `evaluate --compare FROM TO` on the command line."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any

import pytest

from tests.support import run_cli

if TYPE_CHECKING:
    from pathlib import Path

CARDS = [["clubs", 25], ["diamonds", 25], ["hearts", 25], ["spades", 25]]
DOCUMENT: dict[str, Any] = {
    "flags": {
        "fractional-flag": {
            "state": "ENABLED",
            "variants": {name: name for name, _ in CARDS},
            "defaultVariant": "clubs",
            "targeting": {
                "fractional": [
                    {"cat": [{"var": "$flagd.flagKey"}, {"var": "user.name"}]},
                    *CARDS,
                ]
            },
        },
        "fractional-flag-shorthand": {
            "state": "ENABLED",
            "variants": {"heads": "heads", "tails": "tails", "draw": "draw"},
            "defaultVariant": "draw",
            "targeting": {"fractional": [["heads"], ["tails", 1]]},
        },
        "static": {"state": "ENABLED", "variants": {"on": True}, "defaultVariant": "on"},
    }
}


@pytest.fixture
def flags(tmp_path: Path) -> Path:
    path = tmp_path / "flags.json"
    path.write_text(json.dumps(DOCUMENT), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("version", "expected"), [("v1", "spades"), ("v2", "hearts"), ("v3", "diamonds")]
)
def test_evaluate_with_a_version(flags: Path, version: str, expected: str) -> None:
    context = json.dumps({"user": {"name": "jack"}})
    status, out = run_cli(
        "evaluate", str(flags), "fractional-flag", "--context", context, "--fractional", version,
        "--json",
    )  # fmt: skip
    assert status == 0
    assert json.loads(out)["value"] == expected


def test_validate_with_a_version(flags: Path) -> None:
    assert run_cli("validate", str(flags), "--fractional", "v3") == (
        0,
        f"{flags}: valid (3 flags, fractional v3)\n",
    )


def test_an_unknown_version_is_a_usage_error(
    flags: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run_cli("evaluate", str(flags), "static", "--fractional", "v4")
    assert exit_info.value.code == 2
    assert "invalid choice: 'v4'" in capsys.readouterr().err


def _compare(*argv: str) -> dict[str, Any]:
    status, out = run_cli("evaluate", *argv, "--json")
    assert status == 0
    result: dict[str, Any] = json.loads(out)
    return result


def test_compare_counts_who_moves(flags: Path) -> None:
    report = _compare(str(flags), "fractional-flag-shorthand", "--compare", "v2", "v3")
    assert (report["from"], report["to"], report["keys"]) == ("v2", "v3", 10_000)
    assert report["source"] == "a generated sample"
    assert report["outcomes"] == ["heads", "tails"]
    moves = {(t["from"], t["to"]): t["count"] for t in report["transitions"]}
    assert sum(moves.values()) == 10_000
    assert report["moved"] == moves["heads", "tails"] + moves["tails", "heads"]
    assert report["moved"] == len(report["moved_keys"])
    # Two unrelated hashes of a 50/50 split: about half the users move.
    assert 4_500 < report["moved"] < 5_500
    for version in ("v2", "v3"):
        assert sum(report["counts"][version].values()) == 10_000


def test_compare_keys_from_a_file_agree_with_the_testbed(flags: Path, tmp_path: Path) -> None:
    keys = tmp_path / "keys.txt"
    keys.write_text("jon@company.com\n\njane@company.com\r\n", encoding="utf-8")
    report = _compare(
        str(flags), "fractional-flag-shorthand", "--compare", "v2", "v3", "--keys", str(keys)
    )
    assert report["keys"] == 2
    # flagd-testbed: v2 gives jon heads and jane tails, v3 gives both tails.
    assert report["moved_keys"] == [{"key": "jon@company.com", "from": "heads", "to": "tails"}]


def test_compare_on_a_context_attribute(flags: Path) -> None:
    report = _compare(
        str(flags), "fractional-flag", "--compare", "v1", "v2", "--sample", "500",
        "--key-attribute", "user.name", "--context", '{"user": {"age": 3}}',
    )  # fmt: skip
    assert report["keys"] == 500
    assert len(report["outcomes"]) == 4
    assert 0 < report["moved"] < 500


def test_compare_with_keys_where_the_flag_does_not_look(flags: Path) -> None:
    # Keyed on user.name but given targeting keys: every subject hashes the same string.
    report = _compare(str(flags), "fractional-flag", "--compare", "v2", "v3", "--sample", "5")
    for version in ("v2", "v3"):
        assert [n for n in report["counts"][version].values() if n] == [5]


def test_compare_prints_a_table(flags: Path, tmp_path: Path) -> None:
    keys = tmp_path / "keys.txt"
    keys.write_text("jon@company.com\njane@company.com\n", encoding="utf-8")
    status, out = run_cli(
        "evaluate", str(flags), "fractional-flag-shorthand", "--compare", "v2", "v3",
        "--keys", str(keys),
    )  # fmt: skip
    assert status == 0
    assert out.splitlines() == [
        f"fractional-flag-shorthand: v2 -> v3 over 2 keys (keys from {keys})",
        "moved: 1 of 2 (50.0%)",
        "",
        "v2 \\ v3     heads     tails",
        "heads           0         1",
        "tails           0         1",
        "",
        "share          v2        v3",
        "heads       50.0%      0.0%",
        "tails       50.0%    100.0%",
        "",
        "moved keys:",
        "  jon@company.com  heads -> tails",
    ]


def test_compare_reads_keys_from_standard_input(
    flags: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("jane@company.com\n"))
    report = _compare(
        str(flags), "fractional-flag-shorthand", "--compare", "v2", "v3", "--keys", "-"
    )
    assert report["source"] == "keys from standard input"
    assert report["moved"] == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--compare", "v2", "v2"], "two different versions"),
        (["--compare", "v2", "v3", "--fractional", "v3"], "--fractional does not go with"),
        (["--compare", "v2", "v3", "--type", "string"], "--type does not go with"),
        (["--sample", "3"], "--sample goes with --compare"),
        (["--key-attribute", "user.name"], "--key-attribute goes with --compare"),
    ],
)
def test_compare_usage_errors(
    flags: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    status, _ = run_cli("evaluate", str(flags), "fractional-flag", *argv)
    assert status == 2
    assert message in capsys.readouterr().err


def test_compare_an_unknown_flag(flags: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("evaluate", str(flags), "nope", "--compare", "v2", "v3")[0] == 2
    assert "has no flag 'nope'" in capsys.readouterr().err


def test_compare_an_empty_key_file(
    flags: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = tmp_path / "keys.txt"
    keys.write_text("\n\n", encoding="utf-8")
    argv = ["--compare", "v2", "v3", "--keys", str(keys)]
    assert run_cli("evaluate", str(flags), "fractional-flag", *argv)[0] == 2
    assert "holds no keys" in capsys.readouterr().err
