"""``validate`` and ``evaluate``: the commands on flag files."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest

from openfeature_litestar._cli import main
from tests.support import run_cli

if TYPE_CHECKING:
    from pathlib import Path

DOCUMENT: dict[str, Any] = {
    "metadata": {"flagSetId": "cli", "version": "3"},
    "flags": {
        "dark-mode": {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "off",
            "targeting": {"if": [{"==": [{"var": "targetingKey"}, "user-1"]}, "on"]},
        },
        "greeting": {
            "state": "ENABLED",
            "variants": {"hi": "hello", "yo": "hey"},
            "defaultVariant": "hi",
            "targeting": {"if": [{"==": [{"var": "country"}, "us"]}, "yo"]},
        },
        "limit": {"state": "ENABLED", "variants": {"low": 1, "high": 9}, "defaultVariant": "high"},
        "ratio": {"state": "ENABLED", "variants": {"half": 0.5, "one": 1}, "defaultVariant": "one"},
        "theme": {
            "state": "ENABLED",
            "variants": {"light": {"bg": "white"}, "dark": {"bg": "black"}},
            "defaultVariant": "dark",
        },
        "off-flag": {"state": "DISABLED", "variants": {"on": True}, "defaultVariant": "on"},
    },
}


@pytest.fixture
def flags(tmp_path: Path) -> Path:
    path = tmp_path / "flags.json"
    path.write_text(json.dumps(DOCUMENT), encoding="utf-8")
    return path


def evaluate_json(*argv: str) -> tuple[int, dict[str, Any]]:
    status, out = run_cli("evaluate", *argv, "--json")
    result: dict[str, Any] = json.loads(out)
    return status, result


# -- validate -------------------------------------------------------------------------------


def test_validate_a_good_document(flags: Path) -> None:
    status, out = run_cli("validate", str(flags))
    assert status == 0
    assert out == f"{flags}: valid (6 flags)\n"


def test_validate_a_yaml_document(tmp_path: Path) -> None:
    path = tmp_path / "flags.yaml"
    path.write_text(
        "flags:\n  f:\n    state: ENABLED\n    variants: {on: 1}\n    defaultVariant: 'on'\n",
        encoding="utf-8",
    )
    assert run_cli("validate", str(path)) == (0, f"{path}: valid (1 flags)\n")


def test_validate_lists_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    bad = {
        "flags": {
            "one": {"state": "ON", "variants": {"a": 1}},
            "two": {"state": "ENABLED", "variants": {}},
            "three": {"state": "ENABLED", "variants": {"a": 1}, "defaultVariant": "b"},
        }
    }
    path.write_text(json.dumps(bad), encoding="utf-8")
    status, out = run_cli("validate", str(path))
    assert status == 1
    assert str(path) in out
    assert "flags.one.state" in out
    assert "flags.two.variants" in out


def test_validate_several_files_reports_each(flags: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"flags": {"x": {"state": "ENABLED"}}}', encoding="utf-8")
    status, out = run_cli("validate", str(bad), str(flags))
    assert status == 1
    assert "flags.x.variants" in out
    assert f"{flags}: valid (6 flags)" in out


def test_validate_lists_what_flagd_tolerates_and_fails_on_it_only_when_strict(
    tmp_path: Path,
) -> None:
    path = tmp_path / "refs.json"
    flag = {"state": "ENABLED", "variants": {"a": 1}, "targeting": {"$ref": "missing"}}
    path.write_text(json.dumps({"flags": {"f": flag}}), encoding="utf-8")
    warning = "  - flags.f.targeting.$ref: $ref to missing evaluator 'missing'\n"
    status, out = run_cli("validate", str(path))
    assert (status, out) == (
        0,
        f"{path}: valid (1 flags), 1 problem flagd tolerates (a write refuses them):\n" + warning,
    )
    status, out = run_cli("validate", "--strict", str(path))
    assert (status, out) == (
        1,
        f"{path}: invalid (--strict), 1 problem flagd tolerates (a write refuses them):\n"
        + warning,
    )
    # --lenient, the default since 0.2.0, still parses.
    assert run_cli("validate", "--lenient", str(path))[0] == 0


def test_validate_strict_passes_a_document_without_problems(flags: Path) -> None:
    assert run_cli("validate", "--strict", str(flags)) == (0, f"{flags}: valid (6 flags)\n")


def test_validate_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.json"
    status, _ = run_cli("validate", str(missing))
    assert status == 2
    err = capsys.readouterr().err
    assert "missing.json" in err
    assert "Traceback" not in err


# -- evaluate -------------------------------------------------------------------------------


def test_evaluate_prints_value_variant_and_reason(flags: Path) -> None:
    status, out = run_cli(
        "evaluate", str(flags), "dark-mode", "--context", '{"targetingKey": "user-1"}'
    )
    assert status == 0
    lines = dict(line.split(maxsplit=1) for line in out.splitlines())
    assert lines["flag:"] == "dark-mode"
    assert lines["type:"] == "boolean"
    assert lines["value:"] == "true"
    assert lines["variant:"] == "on"
    assert lines["reason:"] == "TARGETING_MATCH"
    assert json.loads(lines["metadata:"]) == {"flagSetId": "cli", "version": "3"}
    assert "error:" not in lines


def test_evaluate_json(flags: Path) -> None:
    status, result = evaluate_json(str(flags), "greeting", "--context", '{"country": "us"}')
    assert status == 0
    assert result == {
        "flag": "greeting",
        "type": "string",
        "value": "hey",
        "variant": "yo",
        "reason": "TARGETING_MATCH",
        "error": None,
        "message": None,
        "metadata": {"flagSetId": "cli", "version": "3"},
    }


def test_evaluate_default_reason(flags: Path) -> None:
    status, result = evaluate_json(str(flags), "dark-mode")
    assert status == 0
    assert (result["value"], result["variant"], result["reason"]) == (False, "off", "DEFAULT")


def test_evaluate_disabled_flag(flags: Path) -> None:
    status, result = evaluate_json(str(flags), "off-flag", "--default", "false")
    assert status == 0
    assert (result["value"], result["reason"], result["error"]) == (False, "DISABLED", None)


@pytest.mark.parametrize(
    ("flag", "flag_type", "value"),
    [
        ("dark-mode", "boolean", False),
        ("greeting", "string", "hello"),
        ("limit", "integer", 9),
        ("ratio", "float", 1.0),
        ("theme", "object", {"bg": "black"}),
    ],
)
def test_evaluate_infers_the_type(flags: Path, flag: str, flag_type: str, value: Any) -> None:
    status, result = evaluate_json(str(flags), flag)
    assert status == 0
    assert result["type"] == flag_type
    assert result["value"] == value
    assert type(result["value"]) is type(value)


def test_evaluate_with_an_explicit_type(flags: Path) -> None:
    status, result = evaluate_json(str(flags), "limit", "--type", "float")
    assert status == 0
    assert (result["type"], result["value"]) == ("float", 9.0)
    assert type(result["value"]) is float


def test_evaluate_type_mismatch(flags: Path) -> None:
    status, result = evaluate_json(str(flags), "dark-mode", "--type", "integer", "--default", "7")
    assert status == 1
    assert (result["error"], result["reason"], result["value"]) == ("TYPE_MISMATCH", "ERROR", 7)
    assert result["message"]


def test_evaluate_type_mismatch_human(flags: Path) -> None:
    status, out = run_cli("evaluate", str(flags), "greeting", "--type", "boolean")
    assert status == 1
    assert "TYPE_MISMATCH" in out


def test_evaluate_unknown_flag(flags: Path) -> None:
    status, result = evaluate_json(str(flags), "no-such-flag", "--default", '"fallback"')
    assert status == 1
    assert (result["error"], result["value"]) == ("FLAG_NOT_FOUND", "fallback")


@pytest.mark.parametrize(
    "context",
    ['{"targetingKey": ', "[1, 2]", '"text"', '{"targetingKey": 5}'],
)
def test_evaluate_bad_context_is_a_usage_error(
    flags: Path, context: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = run_cli("evaluate", str(flags), "dark-mode", "--context", context)
    assert status == 2
    assert out == ""
    err = capsys.readouterr().err
    assert "--context" in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_evaluate_bad_default_is_a_usage_error(
    flags: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _ = run_cli("evaluate", str(flags), "limit", "--default", "{nope")
    assert status == 2
    err = capsys.readouterr().err
    assert "--default" in err
    assert "Traceback" not in err


def test_evaluate_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run_cli("evaluate", str(tmp_path / "missing.json"), "dark-mode")
    assert status == 2
    assert out == ""
    err = capsys.readouterr().err
    assert "missing.json" in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_evaluate_an_invalid_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"flags": {"x": {"state": "ENABLED"}}}', encoding="utf-8")
    status, out = run_cli("evaluate", str(path), "x")
    assert status == 1
    assert "flags.x.variants" in out + capsys.readouterr().err


def test_evaluate_lenient_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "refs.json"
    flag = {"state": "ENABLED", "variants": {"a": "a"}, "targeting": {"$ref": "missing"}}
    path.write_text(json.dumps({"flags": {"f": flag}}), encoding="utf-8")
    status, result = evaluate_json(str(path), "f", "--lenient", "--default", '"d"')
    assert status == 1
    assert (result["error"], result["value"]) == ("PARSE_ERROR", "d")


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main([])
    assert caught.value.code == 2
    with pytest.raises(SystemExit) as caught:
        main(["evaluate"])
    assert caught.value.code == 2
    assert "usage:" in capsys.readouterr().err
    # One positional is FLAG with --store, else a FILE without its FLAG.
    assert main(["evaluate", "only-a-file"]) == 2
    assert "evaluate needs FILE FLAG, or --store URL FLAG" in capsys.readouterr().err


def test_the_installed_command(flags: Path) -> None:
    validate = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "openfeature_litestar", "validate", str(flags)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert (validate.returncode, validate.stdout) == (0, f"{flags}: valid (6 flags)\n")
    evaluate = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [
            sys.executable,
            "-m",
            "openfeature_litestar",
            "evaluate",
            str(flags),
            "limit",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert evaluate.returncode == 0, evaluate.stderr
    assert json.loads(evaluate.stdout)["value"] == 9
    assert evaluate.stderr == ""


OBJECT_FLAGS = {
    "flags": {
        "o": {"state": "ENABLED", "variants": {"a": {"x": 1}}, "defaultVariant": "a"},
    }
}


def test_validate_checks_every_file_even_after_an_unreadable_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(OBJECT_FLAGS), encoding="utf-8")
    status, out = run_cli("validate", str(tmp_path / "missing.json"), str(good))
    assert status == 2
    assert f"{good}: valid (1 flags)" in out
    assert "missing.json" in capsys.readouterr().err


# -- validate --json, did you mean ------------------------------------------------------------


def test_validate_json_gives_one_object_per_file(
    flags: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("flags:\n  a: [\n", encoding="utf-8")
    odd = tmp_path / "odd.json"
    odd_flag = {"state": "ENABLED", "variants": {"on": True}, "defaultVariant": "maybe"}
    odd.write_text(json.dumps({"flags": {"a": odd_flag}}), encoding="utf-8")
    missing = tmp_path / "missing.yaml"
    status, out = run_cli("validate", "--json", str(flags), str(odd), str(broken), str(missing))
    assert status == 2
    reports = [json.loads(line) for line in out.splitlines()]
    assert [(r["file"], r["valid"], r["flags"]) for r in reports] == [
        (str(flags), True, 6),
        (str(odd), True, 1),
        (str(broken), False, None),
        (str(missing), False, None),
    ]
    assert reports[0]["problems"] == reports[0]["warnings"] == []
    assert reports[1]["warnings"] == [
        {"path": "flags.a.defaultVariant", "message": "names no variant: 'maybe'"}
    ]
    assert f'in "{broken}", line 3' in reports[2]["problems"][0]["message"]
    assert "cannot read" in reports[3]["error"]
    assert "cannot read" in capsys.readouterr().err
    strict = json.loads(run_cli("validate", "--json", "--strict", str(odd))[1])
    assert strict["valid"] is False


def test_evaluate_suggests_the_nearest_flag_key(
    flags: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, result = evaluate_json(str(flags), "dark-mdoe")
    assert (status, result["error"]) == (1, "FLAG_NOT_FOUND")
    assert f"note: {flags} has no flag 'dark-mdoe'; did you mean 'dark-mode'?" in (
        capsys.readouterr().err
    )
    status, _ = evaluate_json(str(flags), "zzzzzz")
    assert status == 1
    assert "did you mean" not in capsys.readouterr().err


def test_evaluate_compare_suggests_the_nearest_flag_key(
    flags: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli("evaluate", str(flags), "greting", "--compare", "v1", "v2") == (2, "")
    assert "has no flag 'greting'; did you mean 'greeting'?" in capsys.readouterr().err


def test_evaluate_takes_a_file_or_a_store_not_both(
    flags: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli("evaluate", str(flags), "greeting", "--store", "memory://") == (2, "")
    assert "not both" in capsys.readouterr().err
    assert run_cli("evaluate", str(flags), "greeting", "--namespace", "x") == (2, "")
    assert "--namespace goes with --store" in capsys.readouterr().err
