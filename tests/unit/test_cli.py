"""The openfeature-litestar command line: validate and evaluate."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest

from openfeature_litestar import _cli as cli
from openfeature_litestar._cli import main
from openfeature_litestar._stores._url import STORE_URL_ENV

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


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(list(argv), out=out)
    return status, out.getvalue()


def evaluate_json(*argv: str) -> tuple[int, dict[str, Any]]:
    status, out = run("evaluate", *argv, "--json")
    result: dict[str, Any] = json.loads(out)
    return status, result


# -- validate -------------------------------------------------------------------------------


def test_validate_a_good_document(flags: Path) -> None:
    status, out = run("validate", str(flags))
    assert status == 0
    assert out == f"{flags}: valid (6 flags)\n"


def test_validate_a_yaml_document(tmp_path: Path) -> None:
    path = tmp_path / "flags.yaml"
    path.write_text(
        "flags:\n  f:\n    state: ENABLED\n    variants: {on: 1}\n    defaultVariant: 'on'\n",
        encoding="utf-8",
    )
    assert run("validate", str(path)) == (0, f"{path}: valid (1 flags)\n")


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
    status, out = run("validate", str(path))
    assert status == 1
    assert str(path) in out
    assert "flags.one.state" in out
    assert "flags.two.variants" in out


def test_validate_several_files_reports_each(flags: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"flags": {"x": {"state": "ENABLED"}}}', encoding="utf-8")
    status, out = run("validate", str(bad), str(flags))
    assert status == 1
    assert "flags.x.variants" in out
    assert f"{flags}: valid (6 flags)" in out


def test_validate_lenient(tmp_path: Path) -> None:
    path = tmp_path / "refs.json"
    flag = {"state": "ENABLED", "variants": {"a": 1}, "targeting": {"$ref": "missing"}}
    path.write_text(json.dumps({"flags": {"f": flag}}), encoding="utf-8")
    status, out = run("validate", str(path))
    assert status == 1
    assert "flags.f.targeting" in out
    assert run("validate", "--lenient", str(path)) == (0, f"{path}: valid (1 flags)\n")


def test_validate_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.json"
    status, _ = run("validate", str(missing))
    assert status == 2
    err = capsys.readouterr().err
    assert "missing.json" in err
    assert "Traceback" not in err


# -- evaluate -------------------------------------------------------------------------------


def test_evaluate_prints_value_variant_and_reason(flags: Path) -> None:
    status, out = run(
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
    status, out = run("evaluate", str(flags), "greeting", "--type", "boolean")
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
    status, out = run("evaluate", str(flags), "dark-mode", "--context", context)
    assert status == 2
    assert out == ""
    err = capsys.readouterr().err
    assert "--context" in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_evaluate_bad_default_is_a_usage_error(
    flags: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _ = run("evaluate", str(flags), "limit", "--default", "{nope")
    assert status == 2
    err = capsys.readouterr().err
    assert "--default" in err
    assert "Traceback" not in err


def test_evaluate_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run("evaluate", str(tmp_path / "missing.json"), "dark-mode")
    assert status == 2
    assert out == ""
    err = capsys.readouterr().err
    assert "missing.json" in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_evaluate_an_invalid_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"flags": {"x": {"state": "ENABLED"}}}', encoding="utf-8")
    status, out = run("evaluate", str(path), "x")
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
        main(["evaluate", "only-a-file"])
    assert caught.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_the_installed_command(flags: Path) -> None:
    validate = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "openfeature_litestar._cli", "validate", str(flags)],
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
            "openfeature_litestar._cli",
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


# -- store commands -------------------------------------------------------------------------

STORE_DOCUMENT: dict[str, Any] = {
    "flags": {
        "checkout": {
            "state": "ENABLED",
            "variants": {"new": True, "old": False},
            "defaultVariant": "old",
            "targeting": {"if": [{"==": [{"var": "plan"}, "pro"]}, "new"]},
        },
        "banner": {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "off",
        },
    }
}


@pytest.fixture
def store_file(tmp_path: Path) -> Path:
    path = tmp_path / "import.json"
    path.write_text(json.dumps(STORE_DOCUMENT), encoding="utf-8")
    return path


@pytest.fixture(params=["sqlite", "file"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'flags.db'}"
    return f"file://{tmp_path / 'store.yaml'}"


def exported(store_url: str, *extra: str) -> dict[str, Any]:
    status, out = run("export", "--store", store_url, *extra)
    assert status == 0
    data: dict[str, Any] = json.loads(out)
    return data


def audit_entries(store_url: str, *extra: str) -> list[dict[str, Any]]:
    status, out = run("audit", "--store", store_url, "--json", *extra)
    assert status == 0
    return [json.loads(line) for line in out.splitlines()]


def test_import_then_export(store_url: str, store_file: Path) -> None:
    status, out = run("import", "--store", store_url, "--actor", "ci", str(store_file))
    assert status == 0
    assert "imported 2 flags into namespace 'default'" in out
    assert out.rstrip().endswith("revision 1")
    assert exported(store_url) == STORE_DOCUMENT
    entries = audit_entries(store_url)
    assert {(entry["flag"], entry["action"], entry["actor"]) for entry in entries} == {
        ("checkout", "create", "ci"),
        ("banner", "create", "ci"),
    }
    assert {entry["note"] for entry in entries} == {"imported from import.json"}


def test_export_yaml(tmp_path: Path, store_file: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'flags.db'}"
    assert run("import", "--store", url, str(store_file))[0] == 0
    status, out = run("export", "--store", url, "--format", "yaml")
    assert status == 0
    yaml_file = tmp_path / "exported.yaml"
    yaml_file.write_text(out, encoding="utf-8")
    assert run("validate", str(yaml_file)) == (0, f"{yaml_file}: valid (2 flags)\n")
    assert exported(url) == STORE_DOCUMENT


def test_export_of_a_new_namespace_is_empty(tmp_path: Path) -> None:
    assert exported(f"sqlite+aiosqlite:///{tmp_path / 'flags.db'}") == {"flags": {}}


@pytest.fixture
def seeded(store_url: str, store_file: Path) -> str:
    assert run("import", "--store", store_url, "--actor", "seed", str(store_file))[0] == 0
    return store_url


def test_set_variant_flips_the_default_variant(
    seeded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = run("set-variant", "--store", seeded, "--actor", "alice", "banner", "on")
    assert status == 0
    assert out.startswith("banner: default variant 'on' (was 'off');")
    assert out.rstrip().endswith("at revision 2")
    assert exported(seeded)["flags"]["banner"]["defaultVariant"] == "on"
    latest = audit_entries(seeded, "--limit", "1")[0]
    assert (latest["flag"], latest["action"], latest["actor"], latest["revision"]) == (
        "banner",
        "update",
        "alice",
        2,
    )
    assert (latest["before"]["defaultVariant"], latest["after"]["defaultVariant"]) == ("off", "on")
    assert "note:" not in capsys.readouterr().err  # no targeting, nothing to warn about


def test_set_variant_notes_targeting_and_can_drop_it(
    seeded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("set-variant", "--store", seeded, "checkout", "new")[0] == 0
    assert "has targeting rules" in capsys.readouterr().err
    flag = exported(seeded)["flags"]["checkout"]
    assert (flag["defaultVariant"], "targeting" in flag) == ("new", True)

    status, out = run("set-variant", "--store", seeded, "checkout", "old", "--drop-targeting")
    assert status == 0
    assert "targeting removed" in out
    assert "note:" not in capsys.readouterr().err
    flag = exported(seeded)["flags"]["checkout"]
    assert (flag["defaultVariant"], "targeting" in flag) == ("old", False)


def test_set_variant_to_the_current_variant_writes_nothing(seeded: str) -> None:
    status, out = run("set-variant", "--store", seeded, "banner", "off")
    assert (status, out) == (0, "banner: default variant is already 'off'; nothing written\n")
    assert {entry["revision"] for entry in audit_entries(seeded)} == {1}


def test_set_variant_refuses_an_unknown_variant_or_flag(
    seeded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("set-variant", "--store", seeded, "banner", "maybe") == (1, "")
    err = capsys.readouterr().err
    assert "no variant 'maybe'" in err
    assert "'on', 'off'" in err
    assert run("set-variant", "--store", seeded, "nope", "on") == (1, "")
    assert "flag 'nope' not found in namespace 'default'" in capsys.readouterr().err
    assert exported(seeded) == STORE_DOCUMENT


def test_enable_and_disable(seeded: str) -> None:
    status, out = run("disable", "--store", seeded, "checkout")
    assert status == 0
    assert out.startswith("checkout: DISABLED (was ENABLED);")
    assert exported(seeded)["flags"]["checkout"]["state"] == "DISABLED"
    assert run("disable", "--store", seeded, "checkout") == (
        0,
        "checkout: already DISABLED; nothing written\n",
    )
    status, out = run("enable", "--store", seeded, "checkout")
    assert status == 0
    assert out.startswith("checkout: ENABLED (was DISABLED);")
    assert exported(seeded) == STORE_DOCUMENT
    assert [entry["revision"] for entry in audit_entries(seeded, "--flag", "checkout")] == [3, 2, 1]


def test_expected_revision(seeded: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("disable", "--store", seeded, "banner", "--expected-revision", "7") == (1, "")
    assert "expected revision 7, the store is at 1" in capsys.readouterr().err
    assert run("disable", "--store", seeded, "banner", "--expected-revision", "1")[0] == 0
    assert exported(seeded)["flags"]["banner"]["state"] == "DISABLED"


def test_import_with_a_stale_expected_revision_writes_nothing(
    seeded: str, store_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _ = run("import", "--store", seeded, "--expected-revision", "0", str(store_file))
    assert status == 1
    assert "revision conflict" in capsys.readouterr().err
    assert {entry["revision"] for entry in audit_entries(seeded)} == {1}


def test_import_an_invalid_document_writes_nothing(
    seeded: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"flags": {"x": {"state": "ENABLED"}}}', encoding="utf-8")
    assert run("import", "--store", seeded, str(bad)) == (1, "")
    assert "flags.x.variants" in capsys.readouterr().err
    assert exported(seeded) == STORE_DOCUMENT


def test_import_a_missing_file(seeded: str, tmp_path: Path) -> None:
    assert run("import", "--store", seeded, str(tmp_path / "missing.yaml"))[0] == 2


def test_audit_human_readable(seeded: str) -> None:
    assert run("set-variant", "--store", seeded, "--actor", "bob", "banner", "on")[0] == 0
    status, out = run("audit", "--store", seeded, "--flag", "banner")
    assert status == 0
    newest, oldest = out.splitlines()
    assert newest.startswith("r2  ")
    assert 'update  banner  by bob: defaultVariant "off" -> "on"' in newest
    assert oldest.endswith("by seed: created (imported from import.json)")


def test_audit_limit(seeded: str) -> None:
    assert len(audit_entries(seeded, "--limit", "1")) == 1
    assert len(audit_entries(seeded)) == 2


def test_the_default_actor_is_the_os_user(seeded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGNAME", "carol")
    monkeypatch.setenv("USER", "carol")
    assert run("disable", "--store", seeded, "banner")[0] == 0
    assert audit_entries(seeded, "--limit", "1")[0]["actor"] == "carol"


def test_namespaces_are_separate(tmp_path: Path, store_file: Path) -> None:
    # A SQL store keeps namespaces apart (a file store is one document, whatever its label).
    seeded = f"sqlite+aiosqlite:///{tmp_path / 'flags.db'}"
    assert run("import", "--store", seeded, str(store_file))[0] == 0
    assert run("import", "--store", seeded, "--namespace", "staging", str(store_file))[0] == 0
    assert run("disable", "--store", seeded, "--namespace", "staging", "banner")[0] == 0
    assert exported(seeded, "--namespace", "staging")["flags"]["banner"]["state"] == "DISABLED"
    assert exported(seeded)["flags"]["banner"]["state"] == "ENABLED"


def test_the_store_comes_from_the_environment(seeded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENFEATURE_LITESTAR_STORE", seeded)
    status, out = run("export")
    assert status == 0
    assert json.loads(out) == STORE_DOCUMENT


def test_the_default_store_is_an_embedded_database(
    tmp_path: Path, store_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENFEATURE_LITESTAR_STORE", raising=False)
    monkeypatch.chdir(tmp_path)
    status, out = run("import", str(store_file))
    assert status == 0
    assert "sqlite+aiosqlite:///.openfeature-litestar/flags.db" in out
    assert (tmp_path / ".openfeature-litestar" / "flags.db").is_file()
    assert json.loads(run("export")[1]) == STORE_DOCUMENT


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://flags:hunter2-secret@127.0.0.1:1/flags",
        "redis://:hunter2-secret@127.0.0.1:1/0",
        "bogus://flags:hunter2-secret@example.invalid/x",
        "sqlite+aiosqlite:///flags.db?namespace=a&namespace=b&password=hunter2-secret",
    ],
)
def test_store_errors_exit_2_and_never_show_a_password(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("audit", "--store", url) == (2, "")
    err = capsys.readouterr().err
    assert err.startswith("openfeature-litestar: error: ")
    assert "hunter2-secret" not in err
    assert "***" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["disable", "f", "--actor", ""],
        ["disable", "f", "--expected-revision", "-1"],
        ["audit", "--limit", "0"],
        ["audit", "--namespace", "no spaces"],
        ["demo", "--port", "70000"],
        ["export", "--format", "toml"],
    ],
)
def test_bad_store_options_are_usage_errors(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2


def test_the_demo_needs_the_source_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "_DEMO_APP", tmp_path / "examples" / "app.py")
    url = f"sqlite+aiosqlite:///{tmp_path / 'flags.db'}"
    monkeypatch.setenv(STORE_URL_ENV, url)  # the demo sets it; restored afterwards
    assert run("demo", "--store", url) == (2, "")
    assert "ships with the source repository" in capsys.readouterr().err


# -- serve ----------------------------------------------------------------------------------


def test_serve_options() -> None:
    parser = cli._parser()  # the options, without starting a server
    defaults = parser.parse_args(["serve"])
    assert (defaults.sanitize, defaults.cors_origins) == (None, [])  # None: the environment
    args = parser.parse_args(
        [
            "serve",
            "--no-sanitize",
            "--cors-origin",
            "https://app.example.com",
            "--cors-origin",
            "https://admin.example.com",
        ]
    )
    assert args.sanitize is False
    assert args.cors_origins == ["https://app.example.com", "https://admin.example.com"]


def test_serve_refuses_a_sanitize_setting_that_is_not_a_boolean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENFEATURE_LITESTAR_TOKENS", "read-token")
    monkeypatch.setenv("OPENFEATURE_LITESTAR_SANITIZE", "maybe")
    url = f"sqlite+aiosqlite:///{tmp_path / 'flags.db'}"
    assert run("serve", "--store", url, "--port", "1")[0] == 2
    assert "OPENFEATURE_LITESTAR_SANITIZE must be 1 or 0" in capsys.readouterr().err
