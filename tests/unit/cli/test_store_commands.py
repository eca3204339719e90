"""The store commands: import, export, set-variant, enable, disable and audit."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from typing import TYPE_CHECKING, Any

import pytest

from openfeature_litestar._cli import main
from tests.support import run_cli

if TYPE_CHECKING:
    from pathlib import Path


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
    status, out = run_cli("export", "--store", store_url, *extra)
    assert status == 0
    data: dict[str, Any] = json.loads(out)
    return data


def audit_entries(store_url: str, *extra: str) -> list[dict[str, Any]]:
    status, out = run_cli("audit", "--store", store_url, "--json", *extra)
    assert status == 0
    return [json.loads(line) for line in out.splitlines()]


def test_import_then_export(store_url: str, store_file: Path) -> None:
    status, out = run_cli("import", "--store", store_url, "--actor", "ci", str(store_file))
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
    assert run_cli("import", "--store", url, str(store_file))[0] == 0
    status, out = run_cli("export", "--store", url, "--format", "yaml")
    assert status == 0
    yaml_file = tmp_path / "exported.yaml"
    yaml_file.write_text(out, encoding="utf-8")
    assert run_cli("validate", str(yaml_file)) == (0, f"{yaml_file}: valid (2 flags)\n")
    assert exported(url) == STORE_DOCUMENT


def database_dump(path: Path) -> list[str]:
    """Every statement that would rebuild the SQLite database at ``path``: its whole state."""
    with contextlib.closing(sqlite3.connect(path)) as connection:
        return list(connection.iterdump())


@pytest.mark.parametrize("command", [["export"], ["list"], ["get", "banner"], ["audit"]])
def test_reading_a_sqlite_database_that_does_not_exist_creates_nothing(
    tmp_path: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'flgas.db'}"
    assert run_cli(*command, "--store", url) == (2, "")
    err = capsys.readouterr().err
    assert f"no SQLite database at '{tmp_path / 'flgas.db'}'" in err
    assert "nothing was created" in err
    assert list(tmp_path.iterdir()) == []


def test_reading_the_default_store_before_any_write_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OPENFEATURE_LITESTAR_STORE", raising=False)
    monkeypatch.chdir(tmp_path)
    assert run_cli("export") == (2, "")
    assert "no SQLite database at '.openfeature-litestar/flags.db'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["export"], ["list"], ["get", "banner"], ["audit"]])
def test_reading_a_namespace_never_written_says_so_and_writes_nothing(
    tmp_path: Path, store_file: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'flags.db'}"
    assert run_cli("import", "--store", url, "--namespace", "production", str(store_file))[0] == 0
    before = database_dump(tmp_path / "flags.db")
    assert run_cli(*command, "--store", url, "--namespace", "prodution") == (1, "")
    err = capsys.readouterr().err
    assert "namespace 'prodution' of" in err
    assert "has never been written (revision 0)" in err
    assert database_dump(tmp_path / "flags.db") == before


def test_export_json_is_format_json(seeded: str) -> None:
    assert exported(seeded, "--json") == STORE_DOCUMENT


@pytest.fixture
def seeded(store_url: str, store_file: Path) -> str:
    assert run_cli("import", "--store", store_url, "--actor", "seed", str(store_file))[0] == 0
    return store_url


def test_set_variant_flips_the_default_variant(
    seeded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = run_cli("set-variant", "--store", seeded, "--actor", "alice", "banner", "on")
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
    assert run_cli("set-variant", "--store", seeded, "checkout", "new")[0] == 0
    assert "has targeting rules" in capsys.readouterr().err
    flag = exported(seeded)["flags"]["checkout"]
    assert (flag["defaultVariant"], "targeting" in flag) == ("new", True)

    status, out = run_cli("set-variant", "--store", seeded, "checkout", "old", "--drop-targeting")
    assert status == 0
    assert "targeting removed" in out
    assert "note:" not in capsys.readouterr().err
    flag = exported(seeded)["flags"]["checkout"]
    assert (flag["defaultVariant"], "targeting" in flag) == ("old", False)


def test_set_variant_to_the_current_variant_writes_nothing(seeded: str) -> None:
    status, out = run_cli("set-variant", "--store", seeded, "banner", "off")
    assert (status, out) == (0, "banner: default variant is already 'off'; nothing written\n")
    assert {entry["revision"] for entry in audit_entries(seeded)} == {1}


def test_set_variant_refuses_an_unknown_variant_or_flag(
    seeded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli("set-variant", "--store", seeded, "banner", "maybe") == (1, "")
    err = capsys.readouterr().err
    assert "no variant 'maybe'" in err
    assert "'on', 'off'" in err
    assert run_cli("set-variant", "--store", seeded, "nope", "on") == (1, "")
    assert "flag 'nope' not found in namespace 'default'" in capsys.readouterr().err
    assert exported(seeded) == STORE_DOCUMENT


def test_a_misspelt_flag_or_variant_names_the_nearest(
    seeded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli("set-variant", "--store", seeded, "banner", "onn") == (1, "")
    assert "no variant 'onn'; did you mean 'on'?" in capsys.readouterr().err
    assert run_cli("disable", "--store", seeded, "baner") == (1, "")
    assert "flag 'baner' not found in namespace 'default'; did you mean 'banner'?" in (
        capsys.readouterr().err
    )
    assert run_cli("audit", "--store", seeded, "--flag", "chekout") == (1, "")
    assert "flag 'chekout' not found in namespace 'default'; did you mean 'checkout'?" in (
        capsys.readouterr().err
    )
    assert exported(seeded) == STORE_DOCUMENT


def test_enable_and_disable(seeded: str) -> None:
    status, out = run_cli("disable", "--store", seeded, "checkout")
    assert status == 0
    assert out.startswith("checkout: DISABLED (was ENABLED);")
    assert exported(seeded)["flags"]["checkout"]["state"] == "DISABLED"
    assert run_cli("disable", "--store", seeded, "checkout") == (
        0,
        "checkout: already DISABLED; nothing written\n",
    )
    status, out = run_cli("enable", "--store", seeded, "checkout")
    assert status == 0
    assert out.startswith("checkout: ENABLED (was DISABLED);")
    assert exported(seeded) == STORE_DOCUMENT
    assert [entry["revision"] for entry in audit_entries(seeded, "--flag", "checkout")] == [3, 2, 1]


def test_expected_revision(seeded: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("disable", "--store", seeded, "banner", "--expected-revision", "7") == (1, "")
    assert "expected revision 7, the store is at 1" in capsys.readouterr().err
    assert run_cli("disable", "--store", seeded, "banner", "--expected-revision", "1")[0] == 0
    assert exported(seeded)["flags"]["banner"]["state"] == "DISABLED"


def test_import_with_a_stale_expected_revision_writes_nothing(
    seeded: str, store_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _ = run_cli("import", "--store", seeded, "--expected-revision", "0", str(store_file))
    assert status == 1
    assert "revision conflict" in capsys.readouterr().err
    assert {entry["revision"] for entry in audit_entries(seeded)} == {1}


def test_import_an_invalid_document_writes_nothing(
    seeded: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"flags": {"x": {"state": "ENABLED"}}}', encoding="utf-8")
    assert run_cli("import", "--store", seeded, str(bad)) == (1, "")
    assert "flags.x.variants" in capsys.readouterr().err
    assert exported(seeded) == STORE_DOCUMENT


def test_import_a_missing_file(seeded: str, tmp_path: Path) -> None:
    assert run_cli("import", "--store", seeded, str(tmp_path / "missing.yaml"))[0] == 2


def test_audit_human_readable(seeded: str) -> None:
    assert run_cli("set-variant", "--store", seeded, "--actor", "bob", "banner", "on")[0] == 0
    status, out = run_cli("audit", "--store", seeded, "--flag", "banner")
    assert status == 0
    newest, oldest = out.splitlines()
    assert newest.startswith("r2  ")
    assert 'update  banner  by bob: defaultVariant "off" -> "on"' in newest
    assert oldest.endswith("by seed: created (imported from import.json)")


def test_audit_of_a_deleted_flag_still_shows_its_trail(seeded: str, tmp_path: Path) -> None:
    smaller = tmp_path / "smaller.json"
    smaller.write_text(json.dumps({"flags": {"banner": STORE_DOCUMENT["flags"]["banner"]}}))
    assert run_cli("import", "--store", seeded, str(smaller))[0] == 0
    actions = [entry["action"] for entry in audit_entries(seeded, "--flag", "checkout")]
    assert actions == ["delete", "create"]


def test_audit_limit(seeded: str) -> None:
    assert len(audit_entries(seeded, "--limit", "1")) == 1
    assert len(audit_entries(seeded)) == 2


def test_the_default_actor_is_the_os_user(seeded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGNAME", "carol")
    monkeypatch.setenv("USER", "carol")
    assert run_cli("disable", "--store", seeded, "banner")[0] == 0
    assert audit_entries(seeded, "--limit", "1")[0]["actor"] == "carol"


def test_namespaces_are_separate(tmp_path: Path, store_file: Path) -> None:
    # A SQL store keeps namespaces apart (a file store is one document, whatever its label).
    seeded = f"sqlite+aiosqlite:///{tmp_path / 'flags.db'}"
    assert run_cli("import", "--store", seeded, str(store_file))[0] == 0
    assert run_cli("import", "--store", seeded, "--namespace", "staging", str(store_file))[0] == 0
    assert run_cli("disable", "--store", seeded, "--namespace", "staging", "banner")[0] == 0
    assert exported(seeded, "--namespace", "staging")["flags"]["banner"]["state"] == "DISABLED"
    assert exported(seeded)["flags"]["banner"]["state"] == "ENABLED"


def test_the_store_comes_from_the_environment(seeded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENFEATURE_LITESTAR_STORE", seeded)
    status, out = run_cli("export")
    assert status == 0
    assert json.loads(out) == STORE_DOCUMENT


def test_the_default_store_is_an_embedded_database(
    tmp_path: Path, store_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENFEATURE_LITESTAR_STORE", raising=False)
    monkeypatch.chdir(tmp_path)
    status, out = run_cli("import", str(store_file))
    assert status == 0
    assert "sqlite+aiosqlite:///.openfeature-litestar/flags.db" in out
    assert (tmp_path / ".openfeature-litestar" / "flags.db").is_file()
    assert json.loads(run_cli("export")[1]) == STORE_DOCUMENT


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
    assert run_cli("audit", "--store", url) == (2, "")
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


def test_a_misspelt_store_url_parameter_is_one_line_not_a_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run_cli("audit", "--store", "redis://127.0.0.1:6379/0?nmespace=x") == (2, "")
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "did you mean namespace?" in err
    assert "Traceback" not in err


# --- lenient reading, strict writing -------------------------------------------------------

ODD_FLAG = {
    "state": "ENABLED",
    "variants": {"on": True, "off": False},
    "defaultVariant": "off",
    "targeting": {"if": [{"ends_with": [{"var": "email"}, 3]}, "on", None]},
}


def test_import_refuses_what_flagd_tolerates_with_the_path(
    seeded: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps({"flags": {"odd": ODD_FLAG}}), encoding="utf-8")
    assert run_cli("import", "--store", seeded, str(odd)) == (1, "")
    assert "flags.odd.targeting.if.0.ends_with.1: ends_with compares strings, got 3" in (
        capsys.readouterr().err
    )
    assert exported(seeded) == STORE_DOCUMENT


def test_a_write_command_is_not_refused_for_another_flags_old_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A file written by hand (or for flagd): read leniently, its odd flag is kept.
    path = tmp_path / "store.json"
    held = {"flags": {**STORE_DOCUMENT["flags"], "odd": ODD_FLAG}}
    path.write_text(json.dumps(held), encoding="utf-8")
    url = f"file://{path}"
    status, out = run_cli("disable", "--store", url, "banner")
    assert status == 0, capsys.readouterr().err
    assert out.startswith("banner: DISABLED (was ENABLED);")
    # A write of the odd flag itself is strict about it.
    assert run_cli("set-variant", "--store", url, "odd", "on") == (1, "")
    assert "flags.odd.targeting.if.0.ends_with.1" in capsys.readouterr().err
    assert exported(url)["flags"]["odd"] == ODD_FLAG


# --- import --dry-run, and an import that changes nothing -----------------------------------


def changed_document(tmp_path: Path) -> Path:
    """STORE_DOCUMENT with banner's default flipped, checkout deleted and "new" created."""
    flags = dict(STORE_DOCUMENT["flags"])
    flags["banner"] = {**flags["banner"], "defaultVariant": "on"}
    del flags["checkout"]
    flags["new"] = {"state": "DISABLED", "variants": {"a": "x"}, "defaultVariant": "a"}
    path = tmp_path / "changed.json"
    path.write_text(json.dumps({"flags": flags}), encoding="utf-8")
    return path


def test_import_dry_run_prints_the_changes_and_writes_nothing(seeded: str, tmp_path: Path) -> None:
    status, out = run_cli("import", "--store", seeded, "--dry-run", str(changed_document(tmp_path)))
    assert status == 0
    lines = out.splitlines()
    assert lines[0].endswith("at revision 1: would change 3 (1 created, 1 updated, 1 deleted)")
    assert lines[1:] == [
        '  update  banner: defaultVariant "off" -> "on"',
        "  create  new: created",
        "  delete  checkout: deleted",
        "nothing written (--dry-run)",
    ]
    assert exported(seeded) == STORE_DOCUMENT
    assert {entry["revision"] for entry in audit_entries(seeded)} == {1}


def test_import_dry_run_json(seeded: str, tmp_path: Path) -> None:
    changed = changed_document(tmp_path)
    status, out = run_cli("import", "--store", seeded, "--dry-run", "--json", str(changed))
    assert status == 0
    report = json.loads(out)
    assert (report["written"], report["revision"], report["flags"]) == (False, 1, 2)
    assert [(c["flag"], c["action"]) for c in report["changes"]] == [
        ("banner", "update"),
        ("new", "create"),
        ("checkout", "delete"),
    ]
    assert report["changes"][0]["before"] == STORE_DOCUMENT["flags"]["banner"]
    assert report["changes"][2]["after"] is None


def test_import_dry_run_into_an_empty_store_lists_every_flag(
    tmp_path: Path, store_url: str
) -> None:
    status, out = run_cli(
        "import", "--store", store_url, "--dry-run", str(changed_document(tmp_path))
    )
    assert status == 0
    assert "at revision 0: would change 2 (2 created, 0 updated, 0 deleted)" in out
    assert run_cli("list", "--store", store_url)[0] != 0  # still nothing in the store


def test_import_dry_run_still_checks_the_expected_revision(
    seeded: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    changed = str(changed_document(tmp_path))
    argv = ("import", "--store", seeded, "--dry-run", "--expected-revision", "7", changed)
    assert run_cli(*argv) == (1, "")
    assert "revision" in capsys.readouterr().err


def test_importing_the_same_document_again_writes_no_revision(
    seeded: str, store_file: Path
) -> None:
    status, out = run_cli("import", "--store", seeded, "--actor", "ci", str(store_file))
    assert status == 0
    assert out.splitlines()[0].endswith(
        "at revision 1: nothing changed: it holds this document already"
    )
    assert out.splitlines()[1:] == ["nothing written"]
    status, out = run_cli("import", "--store", seeded, "--json", str(store_file))
    assert (json.loads(out)["written"], json.loads(out)["revision"]) == (False, 1)
    assert {entry["revision"] for entry in audit_entries(seeded)} == {1}
    # The next real change is revision 2: nothing was counted in between.
    assert json.loads(run_cli("disable", "--store", seeded, "--json", "banner")[1])["revision"] == 2


def test_import_json_when_it_writes(store_url: str, store_file: Path) -> None:
    status, out = run_cli("import", "--store", store_url, "--json", str(store_file))
    assert status == 0
    report = json.loads(out)
    assert (report["written"], report["revision"], report["namespace"]) == (True, 1, "default")
    assert {c["action"] for c in report["changes"]} == {"create"}


def test_set_variant_and_enable_json(seeded: str) -> None:
    status, out = run_cli("set-variant", "--store", seeded, "--json", "checkout", "new")
    assert status == 0
    assert json.loads(out) == {
        "flag": "checkout",
        "namespace": "default",
        "defaultVariant": "new",
        "was": "old",
        "targeting": True,
        "written": True,
        "revision": 2,
    }
    status, out = run_cli("enable", "--store", seeded, "--json", "checkout")
    assert json.loads(out) == {
        "flag": "checkout",
        "namespace": "default",
        "state": "ENABLED",
        "was": "ENABLED",
        "written": False,
        "revision": 2,
    }
